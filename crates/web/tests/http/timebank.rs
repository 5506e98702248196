//! 时间银行 over HTTP (issue 15 item 2): schemes with rules (every bad field named, nothing
//! written), accounts, entries posted and reversed through the API and the pages, refusals
//! naming their field, audit entries, the not-money notice on every page, scope (404).

use super::fixtures::{count, login, send_json};
use super::purchase::refused;
use super::*;
use shegong_store::sql::Sql;

const COUNTY: &str = "430202";

fn scheme(name: &str) -> serde_json::Value {
    serde_json::json!({"region_code": COUNTY, "name": name, "operator": "荷塘区社工站",
        "rules": {"unit_minutes": 60, "daily_earn_cap": 4, "balance_cap": 10, "cap_overflow": "refuse",
            "redeem_min_earned": 0, "transfer_to": "scheme", "min_balance": 0, "eligible_kinds": ["visit"], "partners": []}})
}

async fn service(app: &TestApp, id: &str, kind: &str, minutes: i64) {
    let mut tx = app.state.db.begin().await.unwrap();
    Sql::new("INSERT INTO services (id, region_code, kind, domain, served_on, duration_minutes, person_times, workers, created_by, created_at) VALUES (")
        .bind(id).push(", ").bind(COUNTY).push(", ").bind(kind).push(", 'elderly', '2026-01-05', ").bind(minutes)
        .push(", 1, '志愿者', 'test', 0)")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

fn id_of(res: &Res) -> String {
    assert!(res.status.is_success(), "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

async fn account(c: &mut Client, scheme: &str, kind: &str, name: &str) -> String {
    let body = serde_json::json!({"scheme_id": scheme, "account_kind": kind, "holder_kind": "named", "holder_name": name});
    id_of(&send_json(c, Method::POST, "/api/v1/timebank/accounts", body).await)
}

async fn entry(c: &mut Client, account: &str, body: serde_json::Value) -> Res {
    send_json(
        c,
        Method::POST,
        &format!("/api/v1/timebank/accounts/{account}/entries"),
        body,
    )
    .await
}

app_test!(the_api_posts_every_entry_and_names_what_it_refuses, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let mut bad = scheme("");
    bad["rules"]["unit_minutes"] = 0.into();
    bad["rules"]["transfer_to"] = "friends".into();
    let res = send_json(&mut admin, Method::POST, "/api/v1/timebank/schemes", bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let fields: Vec<String> = res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    for f in ["name", "unit_minutes", "transfer_to"] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM timebank_schemes").await,
        0
    );
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/timebank/schemes",
        scheme("荷塘时间银行"),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert!(res.json()["notice"].as_str().unwrap().contains("not money"));
    let s = id_of(&res);
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/timebank/schemes",
        scheme("荷塘时间银行"),
    )
    .await;
    refused(&res, "name", "timebank.name_taken");

    let a = account(&mut admin, &s, "person", "王阿姨").await;
    let b = account(&mut admin, &s, "person", "李大爷").await;
    let g = account(&mut admin, &s, "group", "夕阳红志愿队").await;
    let res = entry(
        &mut admin,
        &a,
        serde_json::json!({"kind": "grant", "amount": 5}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.json()["account"]["balance"], 5);
    refused(
        &entry(
            &mut admin,
            &a,
            serde_json::json!({"kind": "redeem", "amount": 6}),
        )
        .await,
        "amount",
        "timebank.over_balance",
    );
    refused(
        &entry(
            &mut admin,
            &a,
            serde_json::json!({"kind": "grant", "amount": 6}),
        )
        .await,
        "amount",
        "timebank.cap_exceeded",
    );
    refused(
        &entry(
            &mut admin,
            &a,
            serde_json::json!({"kind": "transfer", "amount": 1, "to_account_id": g}),
        )
        .await,
        "to_account_id",
        "timebank.account_not_allowed",
    );
    refused(
        &entry(
            &mut admin,
            &g,
            serde_json::json!({"kind": "redeem", "amount": 1}),
        )
        .await,
        "account_id",
        "timebank.account_not_allowed",
    );
    refused(
        &entry(
            &mut admin,
            &a,
            serde_json::json!({"kind": "cap_sweep", "amount": 1}),
        )
        .await,
        "kind",
        "timebank.kind_not_posted",
    );
    service(&app, "svc-visit", "visit", 120).await;
    service(&app, "svc-crisis", "crisis", 120).await;
    refused(
        &entry(
            &mut admin,
            &b,
            serde_json::json!({"kind": "earn", "source_id": "svc-crisis"}),
        )
        .await,
        "source_id",
        "timebank.not_eligible",
    );
    let res = entry(
        &mut admin,
        &b,
        serde_json::json!({"kind": "earn", "source_id": "svc-visit"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.json()["account"]["balance"], 2);
    refused(
        &entry(
            &mut admin,
            &a,
            serde_json::json!({"kind": "earn", "source_id": "svc-visit"}),
        )
        .await,
        "source_id",
        "timebank.source_used",
    );
    let res = entry(
        &mut admin,
        &a,
        serde_json::json!({"kind": "transfer", "amount": 2, "to_account_id": b}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let transfer = res.json()["entry_id"].as_str().unwrap().to_owned();

    // The passbook: running balance; the reversal restores it, once.
    let book = admin
        .get(&format!("/api/v1/timebank/accounts/{b}/entries"))
        .await
        .json();
    let balances: Vec<i64> = book["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["balance"].as_i64().unwrap())
        .collect();
    assert_eq!(balances, [2, 4]);
    let rev = format!("/api/v1/timebank/entries/{transfer}/reversal");
    let res = send_json(
        &mut admin,
        Method::POST,
        &rev,
        serde_json::json!({"note": "录错"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    refused(
        &send_json(&mut admin, Method::POST, &rev, serde_json::json!({})).await,
        "entry_id",
        "timebank.already_reversed",
    );
    let acc = admin
        .get(&format!("/api/v1/timebank/accounts/{a}"))
        .await
        .json();
    assert_eq!(acc["balance"], 5);
    let list = admin
        .get(&format!(
            "/api/v1/timebank/accounts?scheme_id={s}&account_kind=person"
        ))
        .await
        .json();
    assert_eq!(list["total"], 2);

    // The dashboard and the open data read the maintained counters: 7 credits held by the two
    // people (the group holds none), 2 earned; the reversed transfer counts against transfers.
    let dash = admin.get(&format!("/stats/{COUNTY}")).await;
    assert_eq!(dash.select("#kpi-timebank-held"), ["7"]);
    assert_eq!(dash.select("#kpi-timebank-earned"), ["2"]);
    let flows = admin
        .get(&format!(
            "/api/v1/stats/community?region={COUNTY}&by=timebank_flow&from=2000-01&to=2099-12"
        ))
        .await
        .json();
    let flow: Vec<(String, i64, i64)> = flows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                r["key"].as_str().unwrap().to_owned(),
                n("count"),
                n("minutes"),
            )
        })
        .collect();
    let expected = [
        ("earn", 1, 2),
        ("grant", 1, 5),
        ("reversal_transfer", 1, 2),
        ("transfer", 1, 2),
    ];
    assert_eq!(
        flow,
        expected.map(|(k, n, m)| (k.to_owned(), n, m)),
        "{flows}"
    );
    let held = admin
        .get(&format!(
            "/api/v1/stats/community?region={COUNTY}&by=timebank_balance"
        ))
        .await
        .json();
    assert_eq!(held[1]["key"], "person", "{held}");
    assert_eq!(
        (held[1]["count"].as_i64(), held[1]["minutes"].as_i64()),
        (Some(2), Some(7))
    );

    // Rules changed through the API; a cap below a balance held refused.
    let mut body = scheme("荷塘时间银行");
    body["rules"]["balance_cap"] = 3.into();
    refused(
        &send_json(
            &mut admin,
            Method::PUT,
            &format!("/api/v1/timebank/schemes/{s}"),
            body,
        )
        .await,
        "balance_cap",
        "timebank.cap_below_balances",
    );
    let mut body = scheme("荷塘时间银行");
    body["rules"]["transfer_to"] = "none".into();
    let res = send_json(
        &mut admin,
        Method::PUT,
        &format!("/api/v1/timebank/schemes/{s}"),
        body,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    refused(
        &entry(
            &mut admin,
            &a,
            serde_json::json!({"kind": "transfer", "amount": 1, "to_account_id": b}),
        )
        .await,
        "to_account_id",
        "timebank.transfer_not_allowed",
    );

    // Audited: scheme create and update, 3 accounts, 4 entries and a reversal.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'timebank_scheme'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'timebank_account'"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'timebank_entry' AND action = 'create'"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'timebank_entry' AND action = 'reverse'"
        )
        .await,
        1
    );

    // Another county sees none of it.
    let mut other = login(&app, "other_admin", Role::CivilAffairsAdmin, "430203", None).await;
    assert_eq!(
        other
            .get(&format!("/api/v1/timebank/schemes/{s}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .get(&format!("/api/v1/timebank/accounts/{a}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .get(&format!("/api/v1/timebank/accounts/{a}/entries"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        entry(
            &mut other,
            &a,
            serde_json::json!({"kind": "grant", "amount": 1})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/timebank/{s}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/timebank/accounts/{a}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get("/api/v1/timebank/schemes").await.json()["total"],
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM timebank_postings").await,
        8
    );
});

app_test!(the_pages_create_post_reverse_and_show_the_notice, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let page = admin.get("/timebank/new").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.select("#not-money").len(), 1);
    let form = |unit: &'static str| {
        vec![
            ("region", COUNTY),
            ("name", "社区时间银行"),
            ("operator", "街道社工站"),
            ("unit_minutes", unit),
            ("balance_cap", "1500"),
            ("cap_overflow", "sweep"),
            ("redeem_min_earned", "0"),
            ("transfer_to", "family"),
            ("min_balance", "0"),
            ("eligible_kinds", "visit"),
        ]
    };
    let res = admin.post_form("/timebank", &form("半小时")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.select("#unit_minutes-error").len(), 1);
    assert!(res.text.contains("value=\"社区时间银行\""));
    let res = admin.post_form("/timebank", &form("30")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let scheme_path = res.location().split('?').next().unwrap().to_owned();
    let page = admin.get(&scheme_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.select("#not-money").len(), 1);
    assert_eq!(page.select("#rule-unit_minutes"), ["30"]);

    let res = admin
        .post_form(
            &format!("{scheme_path}/accounts"),
            &[
                ("account_kind", "person"),
                ("holder_kind", "named"),
                ("holder_name", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.select("#account-error").len(), 1);
    let res = admin
        .post_form(
            &format!("{scheme_path}/accounts"),
            &[
                ("account_kind", "person"),
                ("holder_kind", "named"),
                ("holder_name", "张奶奶"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let book = res.location().split('?').next().unwrap().to_owned();
    let list = admin
        .get(&format!("{scheme_path}?account_kind=person"))
        .await;
    assert_eq!(list.select("#accounts tbody td:nth-child(3)"), ["0"]);
    let xlsx = admin
        .get(&format!("{scheme_path}/accounts/export.xlsx"))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx_text(&xlsx.bytes).contains("张奶奶"));

    let res = admin
        .post_form(
            &format!("{book}/entries"),
            &[("kind", "redeem"), ("amount", "3")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.select("#entry-error").len(), 1);
    let res = admin
        .post_form(
            &format!("{book}/entries"),
            &[("kind", "grant"), ("amount", "1600")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = admin.get(&book).await;
    assert_eq!(page.select("#not-money").len(), 1);
    // 1600 granted, 100 above the cap swept to the pool.
    assert_eq!(page.select("#balance"), ["1500"]);
    assert_eq!(
        page.select("#passbook tbody td.num:nth-child(4)"),
        ["1600", "1500"]
    );
    let entries = page
        .html()
        .select(&scraper::Selector::parse("#passbook button[data-entry]").unwrap())
        .map(|b| b.value().attr("data-entry").unwrap().to_owned())
        .collect::<Vec<_>>();
    // Reversing the grant would take 1600 from 1500: refused on the page, nothing written.
    let res = admin
        .post_form(
            &format!("/timebank/entries/{}/reversal", entries[0]),
            &[("account_id", book.trim_start_matches("/timebank/accounts/"))],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.select("#entry-error").len(), 1);
    // Nor the sweep (it would put the person above the cap again).
    let res = admin
        .post_form(
            &format!("/timebank/entries/{}/reversal", entries[1]),
            &[("account_id", book.trim_start_matches("/timebank/accounts/"))],
        )
        .await;
    assert!(
        res.select("#entry-error")
            .iter()
            .any(|m| m.contains("超出余额上限")),
        "{}",
        res.text
    );
    let res = admin
        .post_form(
            &format!("{book}/entries"),
            &[("kind", "redeem"), ("amount", "10"), ("note", "理发")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = admin.get(&book).await;
    assert_eq!(page.select("#balance"), ["1490"]);
    let entries = page
        .html()
        .select(&scraper::Selector::parse("#passbook button[data-entry]").unwrap())
        .map(|b| b.value().attr("data-entry").unwrap().to_owned())
        .collect::<Vec<_>>();
    let res = admin
        .post_form(
            &format!("/timebank/entries/{}/reversal", entries[2]),
            &[("account_id", book.trim_start_matches("/timebank/accounts/"))],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = admin.get(&book).await;
    assert_eq!(page.select("#balance"), ["1500"]);
    assert_eq!(
        page.select("#passbook tbody td.num:nth-child(4)"),
        ["1600", "1500", "1490", "1500"]
    );
    // A reversed entry and a reversal offer no reversal.
    assert_eq!(page.select("#passbook button[data-entry]").len(), 2);
    // The rules edited on their page: a cap below the balance held is refused on its field.
    let edit = format!("{scheme_path}/edit");
    let page = admin.get(&edit).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.select("#not-money").len(), 1);
    assert!(page.text.contains("value=\"社区时间银行\""));
    let mut fields = form("30");
    fields.retain(|(k, _)| *k != "balance_cap" && *k != "min_balance");
    let mut low = fields.clone();
    low.push(("balance_cap", "1000"));
    let res = admin.post_form(&edit, &low).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.select("#balance_cap-error").len(), 1);
    fields.push(("balance_cap", "2000"));
    fields.push(("min_balance", "-5"));
    let res = admin.post_form(&edit, &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = admin.get(&scheme_path).await;
    assert_eq!(page.select("#rule-min_balance"), ["-5"]);
    assert_eq!(page.select("#rule-balance_cap"), ["2000"]);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'timebank_scheme' AND action = 'update'"
        )
        .await,
        1
    );
    let list = admin.get("/timebank").await;
    assert_eq!(list.select("#not-money").len(), 1);
    assert_eq!(list.select("#schemes tbody td.num"), ["1"]);
});
