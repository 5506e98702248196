//! Issue 17 item 3, home pages that are workbenches: a worker lands on their visits due and their
//! residents at high risk; a supervisor on their supervisees' overdue work; an administrator on
//! their region's exceptions (coverage gaps, overdue rectifications and reports, understaffed
//! stations); an auditor on recent sensitive events — each in their own scope, on the page and
//! in `GET /api/v1/workbench`.

use super::fixtures::send_json;
use super::inspections::direct_station;
use super::*;

const DAY_MINUTES: i64 = 24 * 60;

/// Register a resident with this risk tier, assigned to `worker`; its id.
async fn resident(c: &mut Client, name: &str, tier: &str, worker: &str) -> String {
    let res = c
        .post_form(
            "/residents",
            &[
                ("name", name),
                ("birth_date", "1950-05-06"),
                ("region", "430202001"),
                ("worker", worker),
                ("risk_tier", tier),
                ("legal_basis", "statutory_duty"),
                ("confirm_duplicates", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches("/residents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

fn names(v: &serde_json::Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {v}"))
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

app_test!(a_worker_lands_on_visits_due_and_residents_at_risk, |app| {
    let id1 = app
        .user("worker1", Role::SocialWorker, "430202001", false)
        .await;
    let id2 = app
        .user("worker2", Role::SocialWorker, "430202001", false)
        .await;
    let mut w1 = app.client();
    w1.login("worker1", PASSWORD).await;
    let mut w2 = app.client();
    w2.login("worker2", PASSWORD).await;
    resident(&mut w1, "高风险张", "high", &id1).await;
    resident(&mut w1, "重点李", "key", &id1).await;
    resident(&mut w2, "别人的王", "high", &id2).await;

    // A month on, both first visits (weekly and monthly tiers) are overdue.
    app.advance_minutes(31 * DAY_MINUTES);
    w1.login("worker1", PASSWORD).await;
    let bench = w1.get("/api/v1/workbench").await.json();
    assert_eq!(bench["visits_today"]["count"], 2, "{bench}");
    let mut due = names(&bench["visits_today"]);
    due.sort();
    assert_eq!(due, ["重点李", "高风险张"]);
    assert!(
        bench["visits_today"]["items"][0]["overdue"]
            .as_bool()
            .unwrap()
    );
    assert_eq!(names(&bench["at_risk"]), ["高风险张"], "{bench}");
    for absent in ["supervisees", "exceptions", "sensitive"] {
        assert!(
            bench[absent].is_null(),
            "{absent} on a worker's page: {bench}"
        );
    }
    let page = w1.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    let risk = page.select("#bench-risk li a");
    assert_eq!(risk, ["高风险张"]);
    assert_eq!(page.select("#bench-visits li.overdue a").len(), 2);
    // Another worker's residents are not on this page.
    assert!(!page.text.contains("别人的王"));

    // Not this worker's role: an evaluator's home has the queue and no panels.
    let mut ev = app.login_as(Role::Evaluator, "430202").await;
    let bench = ev.get("/api/v1/workbench").await.json();
    assert!(bench["visits_today"].is_null() && bench["exceptions"].is_null());
});

app_test!(a_supervisor_lands_on_supervisees_overdue_work, |app| {
    let sup = app.user("sup1", Role::Supervisor, "430202", false).await;
    let other_sup = app.user("sup2", Role::Supervisor, "430202", false).await;
    let me = app
        .user("worker1", Role::SocialWorker, "430202001", false)
        .await;
    let mut worker = app.client();
    worker.login("worker1", PASSWORD).await;
    for (name, supervisor) in [("甲", &sup), ("乙", &sup), ("丙", &other_sup)] {
        let rid = resident(&mut worker, name, "key", &me).await;
        let res = worker
            .post_form(
                &format!("/residents/{rid}/cases"),
                &[
                    ("problem", "独居"),
                    ("supervisor", supervisor.as_str()),
                    ("worker", me.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    }
    let mut s = app.client();
    s.login("sup1", PASSWORD).await;
    let bench = s.get("/api/v1/workbench").await.json();
    let list = bench["supervisees"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{bench}");
    assert_eq!(list[0]["user_id"], me.as_str());
    assert_eq!(list[0]["open_cases"], 2);
    assert_eq!(list[0]["stale_cases"], 0);

    // Five weeks later the cases are stale and the worker's visits overdue.
    app.advance_minutes(35 * DAY_MINUTES);
    s.login("sup1", PASSWORD).await;
    let bench = s.get("/api/v1/workbench").await.json();
    let row = &bench["supervisees"][0];
    assert_eq!(row["stale_cases"], 2, "{bench}");
    assert_eq!(
        row["overdue_visits"], 3,
        "all the worker's residents: {bench}"
    );
    let page = s.get("/").await;
    assert_eq!(page.select("#bench-supervisees tr.supervisee").len(), 1);
    assert!(page.text.contains("worker1 name") || page.text.contains("worker1"));

    // A supervisor named on no case has no supervisees.
    let mut lone = app.login_as(Role::Supervisor, "430203").await;
    let bench = lone.get("/api/v1/workbench").await.json();
    assert_eq!(bench["supervisees"], serde_json::json!([]));
});

app_test!(
    an_administrator_lands_on_the_exceptions_of_their_region,
    |app| {
        let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let mut other = app.login_as(Role::CivilAffairsAdmin, "430204").await;
        // One covered township, with no staff (below the default rule of two social workers).
        let station = direct_station(&mut office, "430203001", "工作台站").await;
        let res = office
            .post_form(
                "/inspections/visits",
                &[
                    ("station", station.as_str()),
                    ("visited_on", "2025-03-10"),
                    ("inspector", "督导员"),
                    ("findings", "台账不全"),
                    ("rect_desc_1", "补齐服务台账"),
                    ("rect_owner_1", "站长"),
                    ("rect_deadline_1", "2025-04-10"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        // A county report for a month long past, never submitted.
        let res = send_json(
        &mut office,
        Method::POST,
        "/api/v1/reports",
        serde_json::json!({"template": "station_monthly", "region": "430203", "period": "2025-01"}),
    )
    .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);

        let bench = office.get("/api/v1/workbench").await.json();
        let x = &bench["exceptions"];
        assert_eq!(x["region_code"], "430203");
        assert_eq!(x["covered"], 1, "{x}");
        assert!(x["townships"].as_i64().unwrap() > 1);
        let gaps = x["gaps"].as_array().unwrap();
        assert!(
            !gaps.is_empty() && gaps.iter().all(|g| g["code"] != "430203001"),
            "{x}"
        );
        assert_eq!(x["rectifications_overdue"]["count"], 1, "{x}");
        assert_eq!(x["rectifications_overdue"]["items"][0]["title"], "工作台站");
        assert_eq!(x["reports_overdue"]["count"], 1, "{x}");
        assert_eq!(x["understaffed"]["count"], 1, "{x}");
        assert_eq!(x["understaffed"]["items"][0]["detail"], "0/2");
        let page = office.get("/").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select("#bench-coverage").len(), 1);
        assert!(
            page.select("#bench-exceptions a")
                .iter()
                .any(|a| a == "工作台站")
        );
        assert!(
            page.text
                .contains("href=\"/stats/430203\" id=\"bench-dashboard\"")
        );

        // The neighbouring county sees none of it.
        let bench = other.get("/api/v1/workbench").await.json();
        let x = &bench["exceptions"];
        assert_eq!(x["covered"], 0, "{x}");
        for kind in ["rectifications_overdue", "reports_overdue", "understaffed"] {
            assert_eq!(x[kind]["count"], 0, "{kind}: {x}");
        }
        // The overdue-reports list the panel links to holds the same report.
        let list = office.get("/api/v1/reports?overdue=1").await.json();
        assert_eq!(list["total"], 1, "{list}");
        let list = office.get("/api/v1/reports").await.json();
        assert_eq!(list["total"], 1);
    }
);

app_test!(an_auditor_lands_on_recent_sensitive_events, |app| {
    app.user("worker1", Role::SocialWorker, "430202001", false)
        .await;
    app.user("worker9", Role::SocialWorker, "440106001", false)
        .await;
    let mut auditor = app.login_as(Role::Auditor, "43").await;
    let before = auditor.get("/api/v1/workbench").await.json();
    let base = before["sensitive"]["count"].as_i64().unwrap();
    // A failed sign-in in the province, and one in another province.
    let mut c = app.client();
    let res = c.login("worker1", "wrong-password-1").await;
    assert_ne!(res.status, StatusCode::SEE_OTHER);
    let mut c = app.client();
    c.login("worker9", "wrong-password-1").await;
    let bench = auditor.get("/api/v1/workbench").await.json();
    assert_eq!(
        bench["sensitive"]["count"].as_i64().unwrap(),
        base + 1,
        "{bench}"
    );
    let first = &bench["sensitive"]["items"][0];
    assert_eq!(first["actor"], "worker1", "{bench}");
    let page = auditor.get("/").await;
    assert!(
        !page
            .select("#bench-sensitive tr.sensitive-event")
            .is_empty()
    );
    // A week on, the panel no longer shows it.
    app.advance_minutes(8 * DAY_MINUTES);
    let mut auditor = app.login_as(Role::Auditor, "4302").await;
    let bench = auditor.get("/api/v1/workbench").await.json();
    assert_eq!(bench["sensitive"]["count"], 0, "{bench}");
});
