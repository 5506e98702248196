//! Deliverables over HTTP (issue 14 item 3): `/api/v1/contracts/{id}/deliverables` counts the
//! service records of the contract's stations and term that meet each line's rule, moves as
//! soon as a service is recorded (through the API or the page), is seen only in scope (404
//! otherwise), and shows on the contract page and the delivery overview.

use serde_json::json;

use super::fixtures::{agency, send_json, station};
use super::*;

const COUNTY: &str = "430202";

/// The county's admin, its station and a contract of three lines: groups of ≥ 2 sessions and
/// ≥ 5 person-times, activities of ≥ 20 participants, and supervision (not counted from
/// records); (admin, station id, contract id).
async fn setup(app: &TestApp) -> (Client, String, String) {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let provider = agency(app, "阳光社工服务中心", COUNTY).await;
    let st = station(app, "430202001", "一号社工站", &provider).await;
    let body = serde_json::json!({
        "region_code": COUNTY,
        "contract_number": "ZZ-2025-DL",
        "title": "社工站服务项目",
        "provider_org_id": provider,
        "amount": "100000",
        "term_start": "2025-06-01",
        "term_end": "2026-05-31",
        "procurement_method": "public_tender",
        "stations": [st],
        "lines": [
            {"service_kind": "group", "content": "小组", "unit": "个", "unit_price": "1000", "quantity": 4,
             "rule": "group", "min_a": 2, "min_b": 5},
            {"service_kind": "community", "content": "社区活动", "unit": "场", "unit_price": "1000", "quantity": 2,
             "rule": "activity", "min_a": 20},
            {"content": "督导", "unit": "次", "unit_price": "500", "quantity": 12}
        ],
        "plan": "100"
    });
    let res = send_json(&mut admin, Method::POST, "/api/v1/contracts", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    (admin, st, id)
}

fn delivered(body: &serde_json::Value) -> Vec<serde_json::Value> {
    body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["delivered"].clone())
        .collect()
}

app_test!(recording_services_moves_the_deliverables, |app| {
    let (mut admin, st, id) = setup(&app).await;
    let path = format!("/api/v1/contracts/{id}/deliverables");
    let res = admin.get(&path).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let body = res.json();
    assert_eq!(delivered(&body), [json!(0), json!(0), json!(null)]);
    assert_eq!(body["lines"][0]["target"], 4);
    assert_eq!(body["lines"][0]["rule"]["min_sessions"], 2);
    assert_eq!(body["lines"][2]["delivered_percent"], json!(null));
    assert_eq!(body["lines"][2]["behind"], false);
    // The term is over (today is after 2026-05-31): everything is expected, nothing delivered.
    assert_eq!(body["elapsed_percent"], "100");
    assert_eq!(body["lines"][1]["expected"], 2);
    assert_eq!(body["lines"][1]["behind"], true);
    assert_eq!(body["counting"], true);

    // An activity of 25 through the API counts; one of 12 does not.
    let mut activities = Vec::new();
    for (n, on) in [(25, "2025-09-01"), (12, "2025-10-01")] {
        let res = send_json(
            &mut admin,
            Method::POST,
            "/api/v1/services",
            json!({"kind": "community", "domain": "social_assistance", "station_id": st,
                   "title": "中秋游园", "served_on": on, "duration_minutes": 120,
                   "person_times": n, "workers": "王芳"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        activities.push(res.json()["id"].as_str().unwrap().to_owned());
    }
    let body = admin.get(&path).await.json();
    assert_eq!(delivered(&body), [json!(0), json!(1), json!(null)]);
    assert_eq!(body["lines"][1]["delivered_percent"], "50");
    assert_eq!(body["lines"][1]["delivered_bp"], 5000);

    // Two sessions of a group through the page make one group.
    for on in ["2025-07-01", "2025-07-08"] {
        let res = admin
            .post_form(
                "/services",
                &[
                    ("kind", "group"),
                    ("domain", "children"),
                    ("station", st.as_str()),
                    ("title", "亲子小组"),
                    ("served_on", on),
                    ("duration_minutes", "90"),
                    ("person_times", "6"),
                    ("workers", "王芳"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    }
    let body = admin.get(&path).await.json();
    assert_eq!(delivered(&body), [json!(1), json!(1), json!(null)]);
    assert_eq!(body["lines"][0]["delivered_percent"], "25");

    // The contract page shows the same figures.
    let page = admin.get(&format!("/contracts/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let cells = page.select("#deliverables tbody tr .delivered");
    assert_eq!(cells[..2], ["1", "1"]);
    // The supervision line is not counted: a note, not a number.
    assert!(cells[2].parse::<i64>().is_err(), "{cells:?}");
    assert_eq!(page.select("#deliverable-1 .percent"), ["25%"]);
    assert_eq!(page.select("#deliverable-3 .percent"), [""]);
    assert_eq!(page.select("#deliverable-2 .pace .tag").len(), 1);

    // The overview lists the contract: two counted lines, 25 % and 50 % → 37.5 %.
    let res = admin.get("/api/v1/contracts/delivery").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let body = res.json();
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["id"], id.as_str());
    assert_eq!(body["items"][0]["counted_lines"], 2);
    assert_eq!(body["items"][0]["delivered_percent"], "37.5");
    assert_eq!(body["items"][0]["behind_lines"], 2);
    let page = admin.get("/contracts/delivery").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.select("#delivery tbody tr .delivered"), ["37.5%"]);
    let res = admin.get("/contracts/delivery/export.xlsx").await;
    assert_eq!(res.status, StatusCode::OK);
    let text = xlsx_text(&res.bytes);
    assert!(
        text.contains("ZZ-2025-DL") && text.contains("37.5%"),
        "{text}"
    );

    // Deleting the activity through the page takes it away again.
    let res = admin
        .post_form(&format!("/services/{}/delete", activities[0]), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let body = admin.get(&path).await.json();
    assert_eq!(delivered(&body), [json!(1), json!(0), json!(null)]);
});

app_test!(deliverables_are_seen_in_scope_only, |app| {
    let (_, _, id) = setup(&app).await;
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let res = other
        .get(&format!("/api/v1/contracts/{id}/deliverables"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.get(&format!("/contracts/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get("/api/v1/contracts/delivery").await.json()["total"],
        0
    );
    let mut city = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let res = city
        .get(&format!("/api/v1/contracts/{id}/deliverables"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["lines"].as_array().unwrap().len(), 3);
});
