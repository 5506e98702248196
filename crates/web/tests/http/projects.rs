//! Purchase projects over HTTP (issue 14 item 2): approved with every bad field named and nothing
//! written, procured with a method and notices, awarded to the contract signed (linked both
//! ways), seen by purchasers in scope only.

use super::fixtures::{count, login, send_json};
use super::purchase::{refused, setup};
use super::*;

const COUNTY: &str = "430202";

fn project(number: &str, budget: &str) -> serde_json::Value {
    serde_json::json!({"region_code": COUNTY, "project_number": number, "name": "荷塘区社工站服务项目",
        "budget": budget, "term_start": "2025-06-01", "term_end": "2026-05-31"})
}

app_test!(a_project_is_procured_and_awarded_to_its_contract, |app| {
    let (mut admin, provider, st, contract) = setup(&app).await;
    // Every bad field at once, nothing written.
    let mut bad = project("", "二十多万");
    bad["term_end"] = "2025-05-01".into();
    bad["stations"] = serde_json::json!(["0190a3c2-0000-7000-8000-00000000beef"]);
    let res = send_json(&mut admin, Method::POST, "/api/v1/projects", bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let fields: Vec<String> = res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    for f in ["project_number", "budget", "term_end"] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    let mut unknown_station = project("ZC-1", "1000");
    unknown_station["stations"] = serde_json::json!(["0190a3c2-0000-7000-8000-00000000beef"]);
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/projects",
        unknown_station,
    )
    .await;
    refused(&res, "stations", "purchase.station_outside_region");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM purchase_projects").await,
        0
    );

    let mut body = project("ZC-1", "0.1万");
    body["stations"] = serde_json::json!([st]);
    let res = send_json(&mut admin, Method::POST, "/api/v1/projects", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let p = res.json();
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["budget_fen"], 100_000);
    assert_eq!(p["state"], "approved");
    assert_eq!(
        p["next_states"],
        serde_json::json!(["procuring", "cancelled"])
    );

    let state = format!("/api/v1/projects/{id}/state");
    let res = send_json(
        &mut admin,
        Method::POST,
        &state,
        serde_json::json!({"to": "procuring"}),
    )
    .await;
    refused(&res, "procurement_method", "project.method_required");
    let res = send_json(
        &mut admin,
        Method::POST,
        &state,
        serde_json::json!({"to": "procuring", "procurement_method": "public_tender"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["procurement_method"], "public_tender");
    let notices = format!("/api/v1/projects/{id}/notices");
    let res = send_json(&mut admin, Method::POST, &notices, serde_json::json!({"kind": "procurement", "published_on": "2025-05-10", "title": "采购公告", "url": "javascript:alert(1)"})).await;
    refused(&res, "url", "project.url_invalid");
    let res = send_json(&mut admin, Method::POST, &notices, serde_json::json!({"kind": "procurement", "published_on": "2025-05-10", "title": "采购公告", "url": "https://www.ccgp-hunan.gov.cn/n/1"})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.json()["notices"][0]["seq"], 1);

    // The agency does not see projects; the contract (1,000.01 yuan) is over a 1,000 yuan budget.
    let mut manager = login(
        &app,
        "provider_mgr",
        Role::AgencyManager,
        COUNTY,
        Some(&provider),
    )
    .await;
    assert_eq!(
        manager.get(&format!("/api/v1/projects/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(manager.get("/api/v1/projects").await.json()["total"], 0);
    let award = format!("/api/v1/projects/{id}/award");
    let res = send_json(
        &mut admin,
        Method::POST,
        &award,
        serde_json::json!({"contract_id": contract}),
    )
    .await;
    refused(&res, "contract_id", "project.contract_over_budget");

    // A second project with room awards it; the contract page links back to it.
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/projects",
        project("ZC-2", "2000"),
    )
    .await;
    let id2 = res.json()["id"].as_str().unwrap().to_owned();
    send_json(
        &mut admin,
        Method::POST,
        &format!("/api/v1/projects/{id2}/state"),
        serde_json::json!({"to": "procuring", "procurement_method": "competitive_consultation"}),
    )
    .await;
    let res = send_json(
        &mut admin,
        Method::POST,
        &format!("/api/v1/projects/{id2}/award"),
        serde_json::json!({"contract_id": contract}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["state"], "awarded");
    assert_eq!(res.json()["contract_id"], contract.as_str());
    let page = admin.get(&format!("/contracts/{contract}")).await;
    assert_eq!(page.select("#contract-project").len(), 1);
    let page = admin.get(&format!("/projects/{id2}")).await;
    assert_eq!(page.select("#project-contract"), ["ZZ-2025-001"]);
    // Another county does not see it; the audit log has every step.
    let mut other = login(&app, "other_admin", Role::CivilAffairsAdmin, "430203", None).await;
    assert_eq!(
        other.get(&format!("/projects/{id2}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'purchase_project'"
        )
        .await,
        6
    );
});

app_test!(
    the_project_form_keeps_what_was_typed_and_names_the_field,
    |app| {
        let (mut admin, _, _, _) = setup(&app).await;
        let page = admin.get("/projects/new").await;
        assert_eq!(page.status, StatusCode::OK);
        let res = admin
            .post_form(
                "/projects",
                &[
                    ("region", COUNTY),
                    ("project_number", "ZC-9"),
                    ("name", "助老项目"),
                    ("budget", "约20万"),
                    ("term_start", "2025-06-01"),
                    ("term_end", "2026-05-31"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#budget-error").len(), 1);
        assert!(res.text.contains("value=\"助老项目\""));
        let res = admin
            .post_form(
                "/projects",
                &[
                    ("region", COUNTY),
                    ("project_number", "ZC-9"),
                    ("name", "助老项目"),
                    ("budget", "20万"),
                    ("term_start", "2025-06-01"),
                    ("term_end", "2026-05-31"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let list = admin.get("/projects").await;
        assert_eq!(list.select("#projects tbody td.num"), ["200,000.00"]);
        let xlsx = admin.get("/projects/export.xlsx").await;
        assert_eq!(xlsx.status, StatusCode::OK);
    }
);
