//! Issue 16 item 2 over HTTP on both databases: emergency teams of staff and volunteers,
//! incidents and their state machine, deployments refused when they overlap, out of scope 404,
//! services tagged with an incident counted in its figures, pages and Excel.

use super::fixtures::{count, login, send_json};
use super::*;

const COUNTY: &str = "430202";

fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("430202{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

fn ok(res: &Res) -> serde_json::Value {
    assert!(res.status.is_success(), "{} {}", res.status, res.text);
    res.json()
}

fn refused(res: &Res, field: &str, code: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let errors = res.json()["errors"].clone();
    assert!(
        errors
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == field && e["code"] == code),
        "{field}: {code} in {errors}"
    );
}

/// A team with a staff member and a volunteer; returns (team id, [member ids]).
pub async fn team(c: &mut Client) -> (String, Vec<String>) {
    let staff = ok(&send_json(
        c,
        Method::POST,
        "/api/v1/staff",
        serde_json::json!({"name": "王小明", "id_type": "resident_id", "id_number": id_number("19900101", 5),
            "role": "frontline", "employment_mode": "direct", "region_code": "430202001", "joined_on": "2020-01-01"}),
    )
    .await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vol = ok(&send_json(
        c,
        Method::POST,
        "/api/v1/volunteers",
        serde_json::json!({"name": "刘思雨", "id_number": id_number("19900307", 2), "region": "430202001"}),
    )
    .await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = ok(&send_json(
        c,
        Method::POST,
        "/api/v1/emergency-teams",
        serde_json::json!({"name": "芦淞区应急社会工作服务队", "region_code": COUNTY}),
    )
    .await);
    let tid = t["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/emergency-teams/{tid}/members");
    ok(&send_json(
        c,
        Method::POST,
        &path,
        serde_json::json!({"staff_id": staff, "role": "assessment"}),
    )
    .await);
    let t = ok(&send_json(
        c,
        Method::POST,
        &path,
        serde_json::json!({"volunteer_id": vol, "role": "logistics", "reserve": true}),
    )
    .await);
    assert_eq!(
        (t["members"].as_i64(), t["reserves"].as_i64()),
        (Some(1), Some(1))
    );
    let members = t["member_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    (tid, members)
}

pub async fn incident(c: &mut Client, title: &str) -> String {
    let i = ok(&send_json(
        c,
        Method::POST,
        "/api/v1/incidents",
        serde_json::json!({"title": title, "kind": "natural_disaster", "level": "3", "response_level": "4",
            "regions": ["430202001", "430202002"], "started_at": "2025-07-15T06:00"}),
    )
    .await);
    assert_eq!(i["region_code"], COUNTY);
    assert_eq!(i["state"], "warning");
    i["id"].as_str().unwrap().to_owned()
}

fn deployment(team: &str, members: &[&String], from: &str, to: &str) -> serde_json::Value {
    serde_json::json!({"team_id": team, "member_ids": members, "role": "execution", "from": from, "to": to})
}

app_test!(incidents_deployments_and_figures_over_http, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let mut far = login(&app, "far_admin", Role::CivilAffairsAdmin, "430203", None).await;
    let (tid, members) = team(&mut admin).await;
    let (s, v) = (&members[0], &members[1]);
    let a = incident(&mut admin, "7·15 暴雨洪涝").await;
    let b = incident(&mut admin, "7·16 山体滑坡").await;

    // Out of scope: 404 for reads and writes.
    assert_eq!(
        far.get(&format!("/api/v1/incidents/{a}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        far.get(&format!("/incidents/{a}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        far.get(&format!("/api/v1/emergency-teams/{tid}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let res = send_json(
        &mut far,
        Method::POST,
        &format!("/api/v1/incidents/{a}/transitions"),
        serde_json::json!({"state": "response"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let list = ok(&far.get("/api/v1/incidents").await);
    assert_eq!(list["total"], 0);

    // The state machine: one step at a time, recorded on the timeline.
    let path = format!("/api/v1/incidents/{a}/transitions");
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &path,
            serde_json::json!({"state": "recovery"}),
        )
        .await,
        "state",
        "emergency.transition_refused",
    );
    let i = ok(&send_json(
        &mut admin,
        Method::POST,
        &path,
        serde_json::json!({"state": "response", "note": "启动四级响应"}),
    )
    .await);
    assert_eq!(i["state"], "response");
    assert_eq!(i["timeline"].as_array().unwrap().len(), 2);
    assert_eq!(i["timeline"][1]["note"], "启动四级响应");

    // Deployments: overlapping the same member, to this or another incident, refused whole.
    let dpath = format!("/api/v1/incidents/{a}/deployments");
    let d = ok(&send_json(
        &mut admin,
        Method::POST,
        &dpath,
        deployment(&tid, &[s, v], "2025-07-15T08:00", "2025-07-16T20:00"),
    )
    .await);
    assert_eq!(d["member_names"].as_array().unwrap().len(), 2);
    let before = count(&app, "SELECT COUNT(*) FROM incident_deployment_members").await;
    for inc in [&a, &b] {
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/incidents/{inc}/deployments"),
            deployment(&tid, &[v], "2025-07-16T12:00", "2025-07-17T12:00"),
        )
        .await;
        refused(&res, "member_ids", "emergency.member_overlaps");
    }
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &dpath,
            deployment(&tid, &[s], "2025-07-20T12:00", "2025-07-19T12:00"),
        )
        .await,
        "to",
        "emergency.to_before_from",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &dpath,
            deployment(
                &tid,
                &[&"nobody".to_owned()],
                "2025-07-20T12:00",
                "2025-07-21T12:00",
            ),
        )
        .await,
        "member_ids",
        "emergency.member_not_in_team",
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM incident_deployment_members").await,
        before
    );

    // A service tagged with the incident counts in its figures; a closed one takes none.
    let mut tx = app.state.db.begin().await.unwrap();
    shegong_store::sql::Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES ('elder-1', '430202001', '周奶奶', 'x', '1940-01-01', 'general', 'consent', 'active', 90, '2025-01-01', '2024-01-01', 'test', 0, 0)")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    let service = |inc: &str| {
        serde_json::json!({"kind": "visit", "domain": "elderly", "resident_id": "elder-1",
        "served_on": "2025-07-16", "duration_minutes": 60, "workers": "王小明", "method": "home", "incident_id": inc})
    };
    let s1 = ok(&send_json(&mut admin, Method::POST, "/api/v1/services", service(&a)).await);
    assert_eq!(s1["incident_id"], a.as_str());
    let i = ok(&admin.get(&format!("/api/v1/incidents/{a}")).await);
    assert_eq!(i["figures"]["services"], 1);
    assert_eq!(i["figures"]["person_times"], 1);
    assert_eq!(i["figures"]["minutes"], 60);
    assert_eq!(i["figures"]["deployed_members"], 2);
    assert_eq!(i["figures"]["person_days"], 4);
    assert_eq!(i["services_by_day"][0]["served_on"], "2025-07-16");
    let res = send_json(&mut far, Method::POST, "/api/v1/services", service(&a)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    ok(&send_json(
        &mut admin,
        Method::POST,
        &format!("/api/v1/incidents/{b}/transitions"),
        serde_json::json!({"state": "closed"}),
    )
    .await);
    refused(
        &send_json(&mut admin, Method::POST, "/api/v1/services", service(&b)).await,
        "incident_id",
        "service.incident_closed",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/incidents/{b}/deployments"),
            deployment(&tid, &[s], "2025-08-01T08:00", "2025-08-01T18:00"),
        )
        .await,
        "state",
        "emergency.incident_closed",
    );

    // Pages and Excel.
    let page = admin.get(&format!("/incidents/{a}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.select("#fig-services"), vec!["1".to_owned()]);
    assert!(page.text.contains("刘思雨"));
    let list = admin.get("/incidents?state=response").await;
    assert!(list.text.contains("7·15 暴雨洪涝") && !list.text.contains("7·16 山体滑坡"));
    let x = admin.get("/incidents/export.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    let text = xlsx_text(&x.bytes);
    assert!(
        text.contains("7·15 暴雨洪涝") && text.contains("7·16 山体滑坡"),
        "{text}"
    );
    let x = admin.get(&format!("/incidents/{a}/deployments.xlsx")).await;
    assert!(xlsx_text(&x.bytes).contains("王小明"));
    assert_eq!(
        far.get(&format!("/incidents/{a}/deployments.xlsx"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        admin
            .get(&format!("/emergency-teams/{tid}"))
            .await
            .text
            .contains("刘思雨")
    );
});

app_test!(incident_and_team_forms_name_what_is_wrong, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let res = admin
        .post_form(
            "/incidents",
            &[
                ("title", "越界事件"),
                ("kind", "flood"),
                ("level", "3"),
                ("regions", "430203001"),
                ("started_at", "2025-07-15T06:00"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#kind-error").is_empty(), "{}", res.text);
    let res = admin
        .post_form(
            "/incidents",
            &[
                ("title", "越界事件"),
                ("kind", "accident"),
                ("level", "3"),
                ("regions", "430203001"),
                ("started_at", "2025-07-15T06:00"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#regions-error").is_empty(), "{}", res.text);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM incidents").await, 0);
    let res = admin
        .post_form(
            "/incidents",
            &[
                ("title", "燃气爆炸"),
                ("kind", "accident"),
                ("level", "4"),
                ("regions", "430202001"),
                ("started_at", "2025-07-15T06:00"),
                ("state", "response"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let id = res
        .location()
        .trim_start_matches("/incidents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let res = admin
        .post_form(
            &format!("/incidents/{id}/transitions"),
            &[("state", "warning")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#state-error").is_empty(), "{}", res.text);
    let res = admin
        .post_form(
            &format!("/incidents/{id}/transitions"),
            &[("state", "handling"), ("note", "现场处置")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let (tid, _) = team(&mut admin).await;
    let res = admin
        .post_form(
            &format!("/incidents/{id}/deployments"),
            &[
                ("team_id", tid.as_str()),
                ("role", "execution"),
                ("from", "2025-07-15T08:00"),
                ("to", "2025-07-15T07:00"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#member_ids-error").is_empty(), "{}", res.text);
    assert!(!res.select("#to-error").is_empty(), "{}", res.text);
    let res = admin
        .post_form("/emergency-teams", &[("name", ""), ("region", COUNTY)])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#name-error").is_empty(), "{}", res.text);
});
