//! 待办 over HTTP: a plan waiting for approval is in the supervisor's queue; returned, it is
//! flagged on the worker's home page and in the bell's count; resubmitted, it moves back.

use super::*;

fn groups(v: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let hrefs = g["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["href"].as_str().unwrap().to_owned())
                .collect();
            (g["kind"].as_str().unwrap().to_owned(), hrefs)
        })
        .collect()
}

/// The id in a redirect to `prefix{id}?notice=…`.
fn id_in(location: &str, prefix: &str) -> String {
    let rest = location.trim_start_matches(prefix);
    rest.split('?').next().unwrap().to_owned()
}

fn has(v: &serde_json::Value, kind: &str, href: &str) -> bool {
    groups(v)
        .iter()
        .any(|(k, hrefs)| k == kind && hrefs.iter().any(|h| h == href))
}

app_test!(a_returned_plan_is_flagged_for_the_worker, |app| {
    let sup_id = app.user("sup", Role::Supervisor, "430202", false).await;
    let mut sup = app.client();
    sup.login("sup", PASSWORD).await;
    let me = app
        .user("worker1", Role::SocialWorker, "430202001", false)
        .await;
    let mut worker = app.client();
    worker.login("worker1", PASSWORD).await;
    let res = worker
        .post_form(
            "/residents",
            &[
                ("name", "王大爷"),
                ("birth_date", "1948-02-03"),
                ("region", "430202001"),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let rid = id_in(res.location(), "/residents/");
    let open = [
        ("problem", "独居，行动不便"),
        ("supervisor", sup_id.as_str()),
        ("worker", me.as_str()),
    ];
    let res = worker
        .post_form(&format!("/residents/{rid}/cases"), &open)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let case = id_in(res.location(), "/cases/");
    let href = format!("/cases/{case}");
    let mut fields: Vec<(String, String)> = [
        "daily_living",
        "economic",
        "health",
        "psychological",
        "social_support",
        "safety",
    ]
    .iter()
    .map(|d| (format!("score_{d}"), "2".to_owned()))
    .collect();
    fields.push(("risk".into(), "high".into()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        worker
            .post_form(&format!("{href}/assess"), &fields)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let plan = [
        ("goals", "每周探访"),
        ("service_kind", "visit"),
        ("per_month", "4"),
    ];
    assert_eq!(
        worker
            .post_form(&format!("{href}/plan"), &plan)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // Waiting for the supervisor: in their queue and on their page, not in the worker's.
    let queue = sup.get("/api/v1/todo").await.json();
    assert!(has(&queue, "plan_approval", &href), "{queue}");
    assert!(
        sup.get("/api/v1/todo/count").await.json()["total"]
            .as_i64()
            .unwrap()
            >= 1
    );
    let page = sup.get("/todo").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.select(".todo-group[data-kind=plan_approval] a")
            .iter()
            .any(|t| t == "王大爷")
    );
    assert!(!has(
        &worker.get("/api/v1/todo").await.json(),
        "plan_approval",
        &href
    ));

    // Returned: gone from the supervisor's queue, flagged on the worker's home page.
    let res = sup
        .post_form(
            &format!("{href}/decide"),
            &[("decision", "return"), ("comment", "目标不具体")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert!(!has(
        &sup.get("/api/v1/todo").await.json(),
        "plan_approval",
        &href
    ));
    let home = worker.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    let links = home.html();
    let returned: Vec<String> = links
        .select(&scraper::Selector::parse(".todo-group[data-kind=plan_returned] a").unwrap())
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect();
    assert_eq!(returned, std::slice::from_ref(&href));
    let count = worker.get("/api/v1/todo/count").await.json();
    assert!(count["total"].as_i64().unwrap() >= 1, "{count}");

    // Resubmitted: off the worker's queue, back in the supervisor's.
    assert_eq!(
        worker
            .post_form(&format!("{href}/plan"), &plan)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert!(!has(
        &worker.get("/api/v1/todo").await.json(),
        "plan_returned",
        &href
    ));
    assert!(has(
        &sup.get("/api/v1/todo").await.json(),
        "plan_approval",
        &href
    ));

    // Not signed in: no queue.
    assert_eq!(
        app.client().get("/api/v1/todo").await.status,
        StatusCode::UNAUTHORIZED
    );
});
