//! Issue 15 item 4, "linked to the rest", over HTTP on both databases: a service record names
//! the registered volunteer who served (API, form and page), and a time-bank EARN from it goes
//! only to that volunteer's own account; paying a disbursement to a resident writes their
//! resource-linking service record in the same transaction (length required), linked from the
//! fund's page and kept.

use super::charity::{committee, fields, fund_body, resident as child};
use super::fixtures::{count, login, send_json};
use super::*;
use shegong_store::sql::Sql;

const COUNTY: &str = "430202";

fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("430202{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

fn id_of(res: &Res) -> String {
    assert!(res.status.is_success(), "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

fn refused(res: &Res, field: &str, code: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let errors = res.json()["errors"].clone();
    let found = errors.as_array().unwrap().iter();
    assert!(
        found
            .clone()
            .any(|e| e["field"] == field && e["code"] == code),
        "{field}: {code} in {errors}"
    );
}

/// An adult on file (not protected) in the township.
async fn elder(app: &TestApp, id: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", '430202001', '周奶奶', 'x', '1940-01-01', 'general', 'consent', 'active', 90, '2025-01-01', '2024-01-01', 'test', 0, 0)")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

async fn enrol(c: &mut Client, name: &str, id_number: String, region: &str) -> String {
    let body = serde_json::json!({"name": name, "id_number": id_number, "region": region});
    id_of(&send_json(c, Method::POST, "/api/v1/volunteers", body).await)
}

fn visit(volunteer: &str, method: Option<&str>) -> serde_json::Value {
    serde_json::json!({"kind": "visit", "domain": "elderly", "resident_id": "elder-1",
        "served_on": "2025-06-01", "duration_minutes": 120, "workers": "刘思雨",
        "volunteer_id": volunteer, "method": method})
}

app_test!(a_volunteers_visit_earns_only_for_that_volunteer, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let mut far = login(&app, "far_admin", Role::CivilAffairsAdmin, "430203", None).await;
    elder(&app, "elder-1").await;
    let own = enrol(&mut admin, "刘思雨", id_number("19900307", 2), "430202001").await;
    let other = enrol(&mut admin, "陈立", id_number("19910506", 3), "430202001").await;
    let stranger = enrol(&mut far, "杨帆", id_number("19850412", 4), "430203001").await;

    // Outside the writer's scope, or unknown: refused on the volunteer; another method on the
    // method; nothing written.
    for bad in [stranger.as_str(), "nobody"] {
        let res = send_json(
            &mut admin,
            Method::POST,
            "/api/v1/services",
            visit(bad, None),
        )
        .await;
        refused(&res, "volunteer_id", "service.volunteer_unknown");
    }
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/services",
        visit(&own, Some("home")),
    )
    .await;
    refused(&res, "method", "service.volunteer_method");
    let page = admin
        .post_form(
            "/services",
            &[
                ("kind", "visit"),
                ("domain", "elderly"),
                ("resident", "elder-1"),
                ("served_on", "2025-06-01"),
                ("duration_minutes", "60"),
                ("workers", "杨帆"),
                ("volunteer_id", &stranger),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.text
    );
    assert_eq!(page.select("#volunteer_id-error").len(), 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM services").await, 0);

    // The form offers the volunteers in scope; the API records the visit with its method.
    let form = admin.get("/services/new?resident=elder-1&kind=visit").await;
    let offered = form.select("#volunteer_id option");
    assert!(offered.iter().any(|o| o.contains("刘思雨")), "{offered:?}");
    assert!(!offered.iter().any(|o| o.contains("杨帆")), "{offered:?}");
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/services",
        visit(&own, None),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let s = res.json();
    assert_eq!(
        (s["volunteer_id"].as_str(), s["method"].as_str()),
        (Some(own.as_str()), Some("volunteer"))
    );
    let sid = s["id"].as_str().unwrap().to_owned();
    let page = admin.get(&format!("/services/{sid}")).await;
    assert!(
        page.select("#service-volunteer")[0].contains("刘思雨"),
        "{}",
        page.text
    );

    // The time bank: the volunteers' accounts; the visit earns only for its volunteer.
    let scheme = id_of(
        &send_json(
            &mut admin,
            Method::POST,
            "/api/v1/timebank/schemes",
            serde_json::json!({"region_code": COUNTY, "name": "荷塘时间银行", "operator": "荷塘区社工站",
                "rules": {"unit_minutes": 60, "daily_earn_cap": 4, "balance_cap": 10, "cap_overflow": "refuse",
                    "redeem_min_earned": 0, "transfer_to": "scheme", "min_balance": 0, "eligible_kinds": ["visit"], "partners": []}}),
        )
        .await,
    );
    let mut accounts = Vec::new();
    for v in [&own, &other] {
        let body = serde_json::json!({"scheme_id": scheme, "account_kind": "person",
            "holder_kind": "volunteer", "holder_id": v});
        accounts.push(id_of(
            &send_json(&mut admin, Method::POST, "/api/v1/timebank/accounts", body).await,
        ));
    }
    let earn = serde_json::json!({"kind": "earn", "source_id": sid});
    let path = |a: &str| format!("/api/v1/timebank/accounts/{a}/entries");
    let res = send_json(&mut admin, Method::POST, &path(&accounts[1]), earn.clone()).await;
    refused(&res, "source_id", "timebank.service_of_another");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM timebank_entries").await,
        0
    );
    let res = send_json(&mut admin, Method::POST, &path(&accounts[0]), earn).await;
    assert!(res.status.is_success(), "{}", res.text);
    let account = admin
        .get(&format!("/api/v1/timebank/accounts/{}", accounts[0]))
        .await
        .json();
    assert_eq!(account["balance"], 2, "{account}");
});

app_test!(paying_a_resident_writes_one_linked_service_record, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/funds",
        fund_body("株洲市慈善总会月塘社区慈善基金"),
    )
    .await;
    let fund = id_of(&res);
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/donations",
        serde_json::json!({"fund_id": fund, "kind": "money", "amount": "1000", "donor_name": "刘女士",
            "receipt": "issued", "receipt_no": "湘捐2026-0001", "channel": "transfer"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    committee(&mut admin, &fund).await;
    elder(&app, "elder-1").await;
    child(&app, "child-1", "周小雨").await;
    let mut approved = Vec::new();
    for (resident, purpose, amount) in [("elder-1", "临时救助", "200"), ("child-1", "助学", "100")]
    {
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/funds/{fund}/disbursements"),
            serde_json::json!({"target_kind": "person", "recipient_resident_id": resident,
                "purpose": purpose, "amount": amount}),
        )
        .await;
        let d = id_of(&res);
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/disbursements/{d}/decision"),
            serde_json::json!({"decision": "approve", "resolution_ref": "月塘管委会2026-1号"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        approved.push(d);
    }
    let (to_elder, to_child) = (&approved[0], &approved[1]);

    // No length (API and form), or one out of range: refused on it, nothing written.
    let pay = |d: &str| format!("/api/v1/disbursements/{d}/payment");
    let res = send_json(
        &mut admin,
        Method::POST,
        &pay(to_elder),
        serde_json::json!({"voucher_no": "付-1"}),
    )
    .await;
    assert_eq!(fields(&res), ["duration_minutes"]);
    let res = send_json(
        &mut admin,
        Method::POST,
        &pay(to_elder),
        serde_json::json!({"voucher_no": "付-1", "duration_minutes": 2000}),
    )
    .await;
    assert_eq!(fields(&res), ["duration_minutes"]);
    let fund_page = admin.get(&format!("/charity/funds/{fund}")).await;
    assert_eq!(
        fund_page
            .select(".payment-form input[name=duration_minutes]")
            .len(),
        2
    );
    let res = admin
        .post_form(
            &format!("/charity/disbursements/{to_elder}/payment"),
            &[("voucher_no", "付-1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.select("#decision-duration_minutes-error").len(), 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM services").await, 0);
    let got = admin.get(&format!("/api/v1/funds/{fund}")).await.json();
    assert_eq!(got["paid_fen"], 0);

    // Paid through the form: one record, counted, linked from the fund's page.
    let res = admin
        .post_form(
            &format!("/charity/disbursements/{to_elder}/payment"),
            &[("voucher_no", "付-1"), ("duration_minutes", "45")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM services").await, 1);
    let d = admin
        .get(&format!("/api/v1/funds/{fund}/disbursements"))
        .await
        .json();
    let paid = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == to_elder.as_str())
        .unwrap()
        .clone();
    assert_eq!(paid["state"], "paid");
    let sid = paid["service_id"].as_str().unwrap().to_owned();
    let s = admin.get(&format!("/api/v1/services/{sid}")).await.json();
    assert_eq!(
        (
            s["kind"].as_str(),
            s["domain"].as_str(),
            s["title"].as_str()
        ),
        (
            Some("resource_linking"),
            Some("social_assistance"),
            Some("临时救助")
        )
    );
    assert_eq!(
        (s["value_fen"].as_i64(), s["duration_minutes"].as_i64()),
        (Some(20_000), Some(45))
    );
    assert_eq!(
        (s["resident_id"].as_str(), s["workers"].as_str()),
        (Some("elder-1"), Some("county_admin name"))
    );
    let page = admin.get(&format!("/charity/funds/{fund}")).await;
    let link = format!("a.disbursement-service[href=\"/services/{sid}\"]");
    assert_eq!(page.select(&link).len(), 1, "{}", page.text);
    {
        use shegong_store::statistics::counters::{self, Dim, Regions};
        let mut c = app.state.db.read().await.unwrap();
        let scope =
            shegong_domain::Scope::region(shegong_domain::RegionCode::parse(COUNTY).unwrap());
        let rows = counters::read(
            &mut c,
            &scope,
            Regions::One(COUNTY),
            Dim::Kind,
            "2000-01",
            "2099-12",
        )
        .await
        .unwrap();
        let linked: i64 = rows
            .iter()
            .filter(|r| r.key == "resource_linking")
            .map(|r| r.n)
            .sum();
        assert_eq!(linked, 1);
    }

    // A protected child's file the payer cannot open: refused on the recipient, nothing written.
    let res = send_json(
        &mut admin,
        Method::POST,
        &pay(to_child),
        serde_json::json!({"voucher_no": "付-2", "duration_minutes": 30}),
    )
    .await;
    refused(&res, "recipient_resident_id", "charity.resident_unknown");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM services").await, 1);
    let got = admin.get(&format!("/api/v1/funds/{fund}")).await.json();
    assert_eq!(got["paid_fen"], 20_000);

    // The linked record is kept.
    let res = admin
        .post_form(&format!("/services/{sid}/delete"), &[])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM services").await, 1);
});
