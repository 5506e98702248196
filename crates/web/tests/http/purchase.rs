//! Purchase of services over HTTP (issue 14): contracts with lines and payment plans
//! seen only in scope (a county's own, an agency's as provider), written whole or not at all,
//! split exactly to the fen, moved only along their workflows, instalments reduced by the
//! contract's rule, catalogue items moved along their life with a kept history, every write
//! audited; the pages re-render refused input with its values.

use super::fixtures::{agency, count, login, send_json, station};
use super::*;

use shegong_store::sql::Sql;

const COUNTY: &str = "430202";
const OTHER_COUNTY: &str = "430203";

/// Rows of every purchase table, to show a refusal wrote nothing.
async fn rows(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM contracts",
        "SELECT COUNT(*) FROM contract_lines",
        "SELECT COUNT(*) FROM contract_budget_lines",
        "SELECT COUNT(*) FROM contract_stations",
        "SELECT COUNT(*) FROM instalments",
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'contract'",
    ] {
        out.push(count(app, sql).await);
    }
    out
}

fn contract(number: &str, region: &str, provider: &str, station: &str) -> serde_json::Value {
    serde_json::json!({
        "region_code": region,
        "contract_number": number,
        "title": "社工站服务项目",
        "provider_org_id": provider,
        "amount": "1000.01",
        "term_start": "2025-06-01",
        "term_end": "2026-05-31",
        "procurement_method": "public_tender",
        "reduction_rule": "优秀=100；良好=100；合格=90；不合格=0",
        "stations": [station],
        "lines": [
            {"service_kind": "group", "content": "小组", "unit": "个", "unit_price": "1000", "quantity": 36,
             "rule": "group", "min_a": 6, "min_b": 42},
            {"service_kind": "casework", "content": "个案", "unit": "个", "unit_price": "0.1万", "quantity": 20,
             "rule": "closed_case", "min_a": 6}
        ],
        "budget": [{"category": "personnel", "amount": "650"}, {"category": "activities", "amount": "350.01"}],
        "plan": "40/40/20",
        "instalments": [
            {"trigger": "date", "on": "2025-06-15"},
            {"trigger": "evaluation", "kind": "mid_term"},
            {"trigger": "evaluation", "kind": "final"}
        ]
    })
}

/// The county's admin, its provider agency with a station, and one contract; (admin, agency id,
/// station id, contract id).
pub(super) async fn setup(app: &TestApp) -> (Client, String, String, String) {
    let mut admin = login(app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let provider = agency(app, "阳光社工服务中心", COUNTY).await;
    let st = station(app, "430202001", "一号社工站", &provider).await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/contracts",
        contract("ZZ-2025-001", COUNTY, &provider, &st),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    (admin, provider, st, id)
}

app_test!(a_40_40_20_plan_keeps_every_fen, |app| {
    let (mut admin, _, st, id) = setup(&app).await;
    let body = admin.get(&format!("/api/v1/contracts/{id}")).await.json();
    assert_eq!(body["amount_fen"], 100_001);
    assert_eq!(body["state"], "signed");
    let amounts: Vec<i64> = body["instalments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount_fen"].as_i64().unwrap())
        .collect();
    // 40 % and 40 % of 100,001 fen round down; the last instalment takes the odd fen.
    assert_eq!(amounts, [40_000, 40_000, 20_001]);
    assert_eq!(body["instalments"][0]["share_percent"], "40");
    assert_eq!(body["instalments"][0]["due_on"], "2025-06-15");
    assert_eq!(body["instalments"][2]["trigger"]["kind"], "final");
    // 0.1万 × 20 is 20,000 yuan, exactly.
    assert_eq!(body["lines"][1]["amount_fen"], 2_000_000);
    assert_eq!(body["lines"][0]["rule"]["min_person_times"], 42);
    assert_eq!(body["budget"][1]["amount_fen"], 35_001);
    assert_eq!(body["stations"][0]["id"], st.as_str());
    // The page shows the same plan.
    let page = admin.get(&format!("/contracts/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.select("#instalments td.num:nth-child(3)"),
        ["400.00", "400.00", "200.01"]
    );
});

app_test!(contracts_are_seen_only_in_scope, |app| {
    let (_, provider, _, id) = setup(&app).await;
    let other_provider = agency(&app, "明德社工", COUNTY).await;
    let mut other = login(
        &app,
        "other_admin",
        Role::CivilAffairsAdmin,
        OTHER_COUNTY,
        None,
    )
    .await;
    let mut city = login(&app, "city_admin", Role::CivilAffairsAdmin, "4302", None).await;
    let mut manager = login(
        &app,
        "provider_mgr",
        Role::AgencyManager,
        COUNTY,
        Some(&provider),
    )
    .await;
    let mut stranger = login(
        &app,
        "other_mgr",
        Role::AgencyManager,
        COUNTY,
        Some(&other_provider),
    )
    .await;

    // The city above sees the county's contract; the provider's manager sees it as its own.
    for c in [&mut city, &mut manager] {
        let list = c.get("/api/v1/contracts").await.json();
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["id"], id.as_str());
        assert_eq!(
            c.get(&format!("/contracts/{id}")).await.status,
            StatusCode::OK
        );
    }
    // Another county and another agency: nothing listed, 404 on reads and on writes.
    for c in [&mut other, &mut stranger] {
        assert_eq!(c.get("/api/v1/contracts").await.json()["total"], 0);
        assert_eq!(
            c.get("/contracts")
                .await
                .select("#contracts tbody tr td:not(.actions) a")
                .len(),
            0
        );
        for path in [
            format!("/api/v1/contracts/{id}"),
            format!("/api/v1/contracts/{id}/instalments"),
            format!("/contracts/{id}"),
        ] {
            assert_eq!(c.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        let res = send_json(
            c,
            Method::POST,
            &format!("/api/v1/contracts/{id}/instalments/1"),
            serde_json::json!({"to": "requested"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    }
    let res = send_json(
        &mut other,
        Method::PATCH,
        &format!("/api/v1/contracts/{id}"),
        serde_json::json!({"state": "in_force"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = other
        .post_form(&format!("/contracts/{id}/state"), &[("to", "in_force")])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // The provider's manager reads but does not move the contract, nor create one.
    let res = send_json(
        &mut manager,
        Method::PATCH,
        &format!("/api/v1/contracts/{id}"),
        serde_json::json!({"state": "in_force"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        manager.get("/contracts/new").await.status,
        StatusCode::FORBIDDEN
    );
    // The other county cannot file a contract in this county.
    let st = station(&app, "430202002", "二号社工站", &provider).await;
    let before = rows(&app).await;
    let res = send_json(
        &mut other,
        Method::POST,
        "/api/v1/contracts",
        contract("ZZ-2025-009", COUNTY, &provider, &st),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["errors"][0]["field"], "region");
    assert_eq!(rows(&app).await, before);
    // Nothing changed: still signed.
    let mut admin = login(&app, "county_admin2", Role::CivilAffairsAdmin, COUNTY, None).await;
    assert_eq!(
        admin.get(&format!("/api/v1/contracts/{id}")).await.json()["state"],
        "signed"
    );
    // An evaluator reads but writes nothing: 403.
    let mut evaluator = login(&app, "evaluator", Role::Evaluator, COUNTY, None).await;
    let res = send_json(
        &mut evaluator,
        Method::POST,
        "/api/v1/contracts",
        contract("ZZ-2025-010", COUNTY, &provider, &st),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(rows(&app).await, before);
    // Without a session: 401.
    let mut anon = app.client();
    assert_eq!(
        anon.get("/api/v1/contracts").await.status,
        StatusCode::UNAUTHORIZED
    );
});

app_test!(bad_input_is_refused_by_field_and_writes_nothing, |app| {
    let (mut admin, provider, st, _) = setup(&app).await;
    let before = rows(&app).await;
    let cases: [(&str, serde_json::Value, &str, &str); 4] = [
        (
            "plan",
            serde_json::json!("40/40/30"),
            "payment_plan",
            "purchase.shares_not_100",
        ),
        (
            "term_end",
            serde_json::json!("2025-05-31"),
            "term_end",
            "purchase.term_ends_before_start",
        ),
        (
            "amount",
            serde_json::json!("二十多万"),
            "amount",
            "purchase.amount_approximate",
        ),
        (
            "provider_org_id",
            serde_json::json!("no-such-org"),
            "provider_org_id",
            "purchase.provider_unknown",
        ),
    ];
    for (key, value, field, code) in cases {
        let mut body = contract("ZZ-2025-002", COUNTY, &provider, &st);
        body[key] = value;
        let res = send_json(&mut admin, Method::POST, "/api/v1/contracts", body).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{key}: {}",
            res.text
        );
        let p = res.json();
        assert_eq!(p["errors"][0]["field"], field, "{key}: {p}");
        assert_eq!(p["errors"][0]["code"], code, "{key}: {p}");
        assert_eq!(rows(&app).await, before, "{key}: nothing written");
    }
    // A number already used in the county is refused after the lines and plan were checked:
    // still nothing written.
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/contracts",
        contract("ZZ-2025-001", COUNTY, &provider, &st),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["errors"][0]["field"], "contract_number");
    assert_eq!(rows(&app).await, before);
    // "1.5万元" is 15,000 yuan exactly.
    let mut body = contract("ZZ-2025-003", COUNTY, &provider, &st);
    body["amount"] = serde_json::json!("1.5万元");
    let res = send_json(&mut admin, Method::POST, "/api/v1/contracts", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.json()["amount_fen"], 1_500_000);
    // The form re-renders with the error next to the field and the values kept.
    let fields = [
        ("region", COUNTY),
        ("contract_number", "ZZ-2025-004"),
        ("title", "禁毒社工项目"),
        ("provider_org_id", provider.as_str()),
        ("amount", "300000"),
        ("term_start", "2025-06-01"),
        ("term_end", "2026-05-31"),
        ("procurement_method", "single_source"),
        ("line_content_0", "个案"),
        ("line_unit_0", "个"),
        ("line_price_0", "1000"),
        ("line_quantity_0", "30"),
        ("plan", "50/30"),
    ];
    let before = rows(&app).await;
    let res = admin.post_form("/contracts", &fields).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(
        res.select("#payment_plan-error"),
        ["各项比例合计须为100%。"]
    );
    assert!(
        res.text.contains("value=\"禁毒社工项目\""),
        "values are kept"
    );
    assert!(res.text.contains("value=\"50/30\""));
    assert_eq!(rows(&app).await, before);
    // Corrected, the same form saves and goes to the contract's page.
    let mut fixed = fields.to_vec();
    fixed.retain(|(k, _)| *k != "plan");
    fixed.push(("plan", "50/50"));
    let res = admin.post_form("/contracts", &fixed).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert!(res.location().starts_with("/contracts/"));
});

app_test!(
    a_lines_tier_round_trips_and_an_unknown_one_is_refused,
    |app| {
        let (mut admin, provider, st, first) = setup(&app).await;
        // Lines sent without a tier are basic.
        let body = admin
            .get(&format!("/api/v1/contracts/{first}"))
            .await
            .json();
        assert_eq!(body["lines"][0]["tier"], "basic", "{body}");
        assert_eq!(body["lines"][1]["tier"], "basic");
        // A core line is written and read back as such, beside a basic one.
        let mut body = contract("ZZ-2025-020", COUNTY, &provider, &st);
        body["lines"][0]["tier"] = serde_json::json!("core");
        body["lines"][1]["tier"] = serde_json::json!("basic");
        let res = send_json(&mut admin, Method::POST, "/api/v1/contracts", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let created = res.json();
        assert_eq!(created["lines"][0]["tier"], "core", "{created}");
        assert_eq!(created["lines"][1]["tier"], "basic");
        let id = created["id"].as_str().unwrap().to_owned();
        let read = admin.get(&format!("/api/v1/contracts/{id}")).await.json();
        assert_eq!(read["lines"][0]["tier"], "core");
        assert_eq!(read["lines"][1]["tier"], "basic");
        // The deliverables carry it, in the API and on the contract's page.
        let d = admin
            .get(&format!("/api/v1/contracts/{id}/deliverables"))
            .await
            .json();
        assert_eq!(d["lines"][0]["tier"], "core", "{d}");
        assert_eq!(d["lines"][1]["tier"], "basic");
        let page = admin.get(&format!("/contracts/{id}")).await;
        assert_eq!(page.select("#deliverable-1 .tier"), ["核心项目"]);
        assert_eq!(page.select("#deliverable-2 .tier"), ["基础项目"]);
        // A tier that is neither is refused on the lines, and nothing is written.
        let before = rows(&app).await;
        let mut body = contract("ZZ-2025-021", COUNTY, &provider, &st);
        body["lines"][1]["tier"] = serde_json::json!("middle");
        let res = send_json(&mut admin, Method::POST, "/api/v1/contracts", body).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        let p = res.json();
        assert_eq!(p["errors"][0]["field"], "lines", "{p}");
        assert_eq!(p["errors"][0]["code"], "purchase.tier_unknown", "{p}");
        assert_eq!(rows(&app).await, before);
        // The form offers a tier per line row, 基础项目 chosen until another is.
        let form = admin.get("/contracts/new").await;
        assert_eq!(
            form.select("select[name=line_tier_0] option[selected]"),
            ["基础项目"]
        );
        let mut fields = vec![
            ("region", COUNTY),
            ("contract_number", "ZZ-2025-022"),
            ("title", "核心项目测试"),
            ("provider_org_id", provider.as_str()),
            ("amount", "300000"),
            ("term_start", "2025-06-01"),
            ("term_end", "2026-05-31"),
            ("procurement_method", "single_source"),
            ("line_content_0", "个案"),
            ("line_unit_0", "个"),
            ("line_price_0", "1000"),
            ("line_quantity_0", "30"),
            ("line_tier_0", "middle"),
            ("plan", "50/50"),
        ];
        let res = admin.post_form("/contracts", &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(
            res.select("#lines-error"),
            ["项目类别只能是核心项目或基础项目。"]
        );
        assert_eq!(rows(&app).await, before);
        fields.retain(|(k, _)| *k != "line_tier_0");
        fields.push(("line_tier_0", "core"));
        let res = admin.post_form("/contracts", &fields).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let id = res.location().trim_start_matches("/contracts/");
        let id = id.split('?').next().unwrap();
        let read = admin.get(&format!("/api/v1/contracts/{id}")).await.json();
        assert_eq!(read["lines"][0]["tier"], "core", "{read}");
    }
);

app_test!(states_move_only_along_the_workflow_and_are_audited, |app| {
    let (mut admin, _, _, id) = setup(&app).await;
    let patch = |to: &str| serde_json::json!({ "state": to });
    let path = format!("/api/v1/contracts/{id}");
    // Signed cannot jump to accepted or archived.
    for to in ["accepted", "archived", "settled"] {
        let res = send_json(&mut admin, Method::PATCH, &path, patch(to)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{to}");
        assert_eq!(
            res.json()["errors"][0]["code"],
            "purchase.contract_transition_invalid"
        );
    }
    let res = send_json(&mut admin, Method::PATCH, &path, patch("in_force")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["state"], "in_force");
    // The page's buttons offer the next steps only, and take them.
    let page = admin.get(&format!("/contracts/{id}")).await;
    let offered: Vec<String> = page
        .html()
        .select(&scraper::Selector::parse("#moves button").unwrap())
        .map(|b| b.value().attr("data-to").unwrap().to_owned())
        .collect();
    assert_eq!(offered, ["suspended", "terminated", "awaiting_acceptance"]);
    let res = admin
        .post_form(&format!("/contracts/{id}/state"), &[("to", "suspended")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = admin
        .post_form(&format!("/contracts/{id}/state"), &[("to", "settled")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.select("#contract-error"),
        ["合同当前状态下不能进行此操作。"]
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'contract' AND action = 'create'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'contract' AND action = 'transition'"
        )
        .await,
        2
    );
    // The title and the reduction rule may change, audited once with what changed; saving the
    // same values again files nothing; a bad rule is refused by name.
    let edit = serde_json::json!({"title": "社工站服务项目（调整）", "reduction_rule": "90=100; 60=85; 0=0"});
    let res = send_json(&mut admin, Method::PATCH, &path, edit.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["reduction_rule"], "90=100; 60=85; 0=0");
    assert_eq!(res.json()["state"], "suspended");
    let res = send_json(&mut admin, Method::PATCH, &path, edit).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'contract' AND action = 'update'"
        )
        .await,
        1
    );
    let res = send_json(
        &mut admin,
        Method::PATCH,
        &path,
        serde_json::json!({"reduction_rule": "90=100; 60=80"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["errors"][0]["field"], "reduction_rule");
    let mut c = app.state.db.read().await.unwrap();
    let (state,): (String,) = Sql::new("SELECT state FROM contracts WHERE id = ")
        .bind(&id)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(state, "suspended");
});

async fn step(c: &mut Client, id: &str, seq: i64, body: serde_json::Value) -> Res {
    let path = format!("/api/v1/contracts/{id}/instalments/{seq}");
    send_json(c, Method::POST, &path, body).await
}

app_test!(instalments_pay_what_the_reduction_rule_says, |app| {
    let (mut admin, provider, _, id) = setup(&app).await;
    // Instalment 1 is paid on a date: it is never assessed.
    let res = step(
        &mut admin,
        &id,
        1,
        serde_json::json!({"to": "awaiting_assessment"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.json()["errors"][0]["code"],
        "instalment.transition_invalid"
    );
    // Instalment 2 waits for the mid-term evaluation: it cannot be requested unassessed.
    let res = step(&mut admin, &id, 2, serde_json::json!({"to": "requested"})).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    for seq in [2, 3] {
        let res = step(
            &mut admin,
            &id,
            seq,
            serde_json::json!({"to": "awaiting_assessment"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    // With a rule, an outcome alone is not enough: the rule needs the score.
    let res = step(
        &mut admin,
        &id,
        2,
        serde_json::json!({"to": "assessed", "outcome": "pass"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["errors"][0]["field"], "score");
    // 70 of 100 is 合格: the rule pays 90 % of 400.00, rounded down to the fen.
    let res = step(
        &mut admin,
        &id,
        2,
        serde_json::json!({"to": "assessed", "score": "70"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let i = res.json();
    assert_eq!(
        (i["outcome"].as_str(), i["payable_fen"].as_i64()),
        (Some("reduced"), Some(36_000))
    );
    // 118 of 200 is below 60 %: 不合格 pays nothing.
    let res = step(
        &mut admin,
        &id,
        3,
        serde_json::json!({"to": "assessed", "score": "118", "max_score": "200"}),
    )
    .await;
    let i = res.json();
    assert_eq!(
        (i["outcome"].as_str(), i["payable_fen"].as_i64()),
        (Some("fail"), Some(0))
    );
    // The provider's manager asks for payment of the assessed instalment; only the purchaser pays.
    let mut manager = login(
        &app,
        "provider_mgr",
        Role::AgencyManager,
        COUNTY,
        Some(&provider),
    )
    .await;
    let res = step(&mut manager, &id, 2, serde_json::json!({"to": "paid"})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = step(&mut manager, &id, 2, serde_json::json!({"to": "requested"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = step(
        &mut admin,
        &id,
        2,
        serde_json::json!({"to": "paid", "paid_on": "2025-12-20"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["paid_on"], "2025-12-20");
    assert_eq!(res.json()["next_states"].as_array().unwrap().len(), 0);
    // Paid is final.
    let res = step(&mut admin, &id, 2, serde_json::json!({"to": "requested"})).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Instalment 1 goes straight to requested, payable in full.
    let res = step(&mut admin, &id, 1, serde_json::json!({"to": "requested"})).await;
    assert_eq!(res.json()["payable_fen"], 40_000);
    let list = admin
        .get(&format!("/api/v1/contracts/{id}/instalments"))
        .await
        .json();
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["requested", "paid", "assessed"]);
    // Every step is in the audit log: 2 into assessment, 2 assessed, request, pay, request.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'instalment' AND action = 'transition'"
        )
        .await,
        7
    );
    // The page offers the assessed instalment's next step with its form.
    let page = admin.get(&format!("/contracts/{id}")).await;
    assert_eq!(page.select("#instalment-3 .state"), ["考核完成"]);
    assert_eq!(page.select("#instalment-3 .payable"), ["0.00"]);
});

app_test!(contract_pages_list_and_export_in_scope, |app| {
    let (mut admin, provider, _, _) = setup(&app).await;
    let list = admin.get("/contracts?state=signed&year=2026").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.select("#contracts tbody tr td:not(.actions) a"),
        ["ZZ-2025-001"]
    );
    assert_eq!(
        admin
            .get("/contracts?year=2027")
            .await
            .select("#contracts tbody tr td:not(.actions) a")
            .len(),
        0
    );
    assert_eq!(
        admin.get("/contracts?state=nonsense").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // By provider: the contract's own, and none for another agency.
    let other = agency(&app, "明德社工", COUNTY).await;
    let by = |org: &str| format!("/contracts?provider={org}");
    assert_eq!(
        admin
            .get(&by(&provider))
            .await
            .select("#contracts tbody tr td:not(.actions) a"),
        ["ZZ-2025-001"]
    );
    assert_eq!(
        admin
            .get(&by(&other))
            .await
            .select("#contracts tbody tr td:not(.actions) a")
            .len(),
        0
    );
    let xlsx = admin.get("/contracts/export.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let text = xlsx_text(&xlsx.bytes);
    assert!(
        text.contains("ZZ-2025-001") && text.contains("1,000.01"),
        "{text}"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'contract' AND action = 'export'"
        )
        .await,
        1
    );
    let form = admin.get("/contracts/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("name=\"line_content_4\""));
});

app_test!(catalogue_items_go_into_their_regions_edition, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let mut city = login(&app, "city_admin", Role::CivilAffairsAdmin, "4302", None).await;
    let item = |name: &str, shares: &str| {
        serde_json::json!({
            "region_code": "4302", "year": 2025, "edition_title": "2025年度服务目录",
            "field": "elderly", "name": name, "shares": shares
        })
    };
    // The county cannot write into the city's catalogue.
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/catalogue",
        item("居家养老", ""),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["errors"][0]["field"], "region");
    let res = send_json(
        &mut city,
        Method::POST,
        "/api/v1/catalogue",
        item("居家养老", "市=60，区=30"),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["errors"][0]["code"], "purchase.shares_not_100");
    let res = send_json(
        &mut city,
        Method::POST,
        "/api/v1/catalogue",
        item("居家养老", "市=50，区=50"),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = send_json(
        &mut city,
        Method::POST,
        "/api/v1/catalogue",
        item("长者饭堂", ""),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM catalogue_editions").await,
        1
    );
    // The county buys from the city's catalogue: it sees the edition with both items.
    let list = admin.get("/api/v1/catalogue").await.json();
    assert_eq!(list[0]["items"].as_array().unwrap().len(), 2, "{list}");
    let items = list[0]["items"].as_array().unwrap();
    let home = items.iter().find(|i| i["name"] == "居家养老").unwrap();
    assert_eq!(home["cost_shares"][0]["level"], "city");
    assert_eq!(home["cost_shares"][1]["share_percent"], "50");
    assert_eq!(home["status"], "proposed");
    // Without shares the city's own budget pays all.
    let canteen = items.iter().find(|i| i["name"] == "长者饭堂").unwrap();
    assert_eq!(canteen["cost_shares"][0]["share_percent"], "100");
    let page = admin.get("/catalogue").await;
    assert!(page.text.contains("长者饭堂"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'catalogue_item' AND action = 'create'"
        )
        .await,
        2
    );
});

async fn move_item(c: &mut Client, id: &str, body: serde_json::Value) -> Res {
    send_json(
        c,
        Method::POST,
        &format!("/api/v1/catalogue/items/{id}/status"),
        body,
    )
    .await
}

/// The id of the item named `name` in the first edition `c` sees.
async fn item_id(c: &mut Client, name: &str) -> String {
    let list = c.get("/api/v1/catalogue").await.json();
    list.as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["items"].as_array().unwrap().iter())
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(super) fn refused(res: &Res, field: &str, code: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], field, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["code"], code, "{}", res.text);
}

app_test!(
    catalogue_items_move_through_their_life_with_history,
    |app| {
        let mut city = login(&app, "city_admin", Role::CivilAffairsAdmin, "4302", None).await;
        let body = serde_json::json!({
            "region_code": "4302", "year": 2025, "field": "elderly", "name": "居家养老"
        });
        let res = send_json(&mut city, Method::POST, "/api/v1/catalogue", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let id = item_id(&mut city, "居家养老").await;
        let invalid = "purchase.item_transition_invalid";
        let not_applicable = "purchase.removal_reason_not_applicable";
        // Steps are not skipped.
        let res = move_item(&mut city, &id, serde_json::json!({"to": "included"})).await;
        refused(&res, "to", invalid);
        let res = move_item(&mut city, &id, serde_json::json!({"to": "sold"})).await;
        refused(&res, "to", "purchase.item_status_unknown");
        let res = move_item(
            &mut city,
            &id,
            serde_json::json!({"to": "reviewed", "note": "专家评审通过"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["status"], "reviewed");
        let res = move_item(&mut city, &id, serde_json::json!({"to": "included"})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        // A reason belongs to a removal, and each rule to its state.
        let res = move_item(
            &mut city,
            &id,
            serde_json::json!({"to": "purchasing", "reason": "other"}),
        )
        .await;
        refused(&res, "reason", not_applicable);
        let res = move_item(&mut city, &id, serde_json::json!({"to": "removed"})).await;
        refused(&res, "reason", "purchase.removal_reason_required");
        let res = move_item(
            &mut city,
            &id,
            serde_json::json!({"to": "removed", "reason": "renewal_not_sought"}),
        )
        .await;
        refused(&res, "reason", not_applicable);
        let res = move_item(
            &mut city,
            &id,
            serde_json::json!({"to": "removed", "reason": "forgotten"}),
        )
        .await;
        refused(&res, "reason", "purchase.removal_reason_unknown");
        let res = move_item(&mut city, &id, serde_json::json!({"to": "purchasing"})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let res = move_item(
            &mut city,
            &id,
            serde_json::json!({"to": "removed", "reason": "unpurchased_two_years"}),
        )
        .await;
        refused(&res, "reason", not_applicable);
        let res = move_item(
        &mut city,
        &id,
        serde_json::json!({"to": "removed", "reason": "renewal_review_failed", "note": "续购评审未通过"}),
    )
    .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let item = res.json();
        assert_eq!(item["status"], "removed");
        assert_eq!(item["removal_reason"], "renewal_review_failed");
        // Removed is final.
        let res = move_item(
            &mut city,
            &id,
            serde_json::json!({"to": "removed", "reason": "other"}),
        )
        .await;
        refused(&res, "to", invalid);
        // The history keeps every step taken and none refused: who, from, to, why.
        let history = item["history"].as_array().unwrap();
        let steps: Vec<(serde_json::Value, serde_json::Value)> = history
            .iter()
            .map(|h| (h["from"].clone(), h["to"].clone()))
            .collect();
        let s = |v: &str| serde_json::json!(v);
        assert_eq!(
            steps,
            [
                (serde_json::Value::Null, s("proposed")),
                (s("proposed"), s("reviewed")),
                (s("reviewed"), s("included")),
                (s("included"), s("purchasing")),
                (s("purchasing"), s("removed")),
            ]
        );
        assert!(history.iter().all(|h| h["by"] == "city_admin"), "{item}");
        assert_eq!(history[1]["note"], "专家评审通过");
        assert_eq!(history[4]["reason"], "renewal_review_failed");
        assert!(history[3]["reason"].is_null());
        assert!(history[4]["at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM catalogue_item_history").await,
            5
        );
        assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'catalogue_item' AND action = 'transition'"
        )
        .await,
        4
    );
        // The catalogue page shows the history.
        let page = city.get("/catalogue").await;
        assert_eq!(page.status, StatusCode::OK);
        let lines = page.select(&format!("#item-{id} .item-history li"));
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(lines[4].contains("city_admin"), "{lines:?}");
        assert!(lines[4].contains("续购评审未通过"), "{lines:?}");
    }
);

app_test!(catalogue_items_move_only_inside_their_region, |app| {
    let mut city = login(&app, "city_admin", Role::CivilAffairsAdmin, "4302", None).await;
    let mut county = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let mut other = login(
        &app,
        "other_admin",
        Role::CivilAffairsAdmin,
        OTHER_COUNTY,
        None,
    )
    .await;
    let provider = agency(&app, "阳光社工服务中心", COUNTY).await;
    let mut manager = login(
        &app,
        "agency_manager",
        Role::AgencyManager,
        COUNTY,
        Some(&provider),
    )
    .await;
    for (c, region, name) in [
        (&mut city, "4302", "市级项目"),
        (&mut county, COUNTY, "区级项目"),
    ] {
        let body = serde_json::json!({
            "region_code": region, "year": 2025, "field": "youth", "name": name
        });
        let res = send_json(c, Method::POST, "/api/v1/catalogue", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    let city_item = item_id(&mut city, "市级项目").await;
    let county_item = item_id(&mut county, "区级项目").await;
    let review = || serde_json::json!({"to": "reviewed"});
    // The county reads its city's catalogue but cannot change it.
    let res = move_item(&mut county, &city_item, review()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    // Another county does not see this county's catalogue at all.
    let res = move_item(&mut other, &county_item, review()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    let res = move_item(&mut county, "no-such-item", review()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    // An agency's account reads only.
    let res = move_item(&mut manager, &county_item, review()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM catalogue_items WHERE status <> 'proposed'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM catalogue_item_history").await,
        2
    );
    // The county's page offers steps for its own items only.
    let page = county.get("/catalogue").await;
    assert_eq!(
        page.select(&format!(
            "form[action='/catalogue/items/{county_item}/status']"
        ))
        .len(),
        1
    );
    assert!(
        page.select(&format!(
            "form[action='/catalogue/items/{city_item}/status']"
        ))
        .is_empty()
    );
    // The page's form moves the item the same way, and shows a refusal at the item.
    let res = county
        .post_form(
            &format!("/catalogue/items/{county_item}/status"),
            &[("to", "reviewed"), ("reason", ""), ("note", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let res = county
        .post_form(
            &format!("/catalogue/items/{county_item}/status"),
            &[
                ("to", "removed"),
                ("reason", "renewal_not_sought"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(
        res.select(&format!("#item-{county_item} .field-error"))
            .len(),
        1,
        "{}",
        res.text
    );
    let res = county
        .post_form(
            &format!("/catalogue/items/{city_item}/status"),
            &[("to", "reviewed")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let list = county.get("/api/v1/catalogue").await.json();
    let statuses: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["items"].as_array().unwrap().iter())
        .map(|i| {
            format!(
                "{}={}",
                i["name"].as_str().unwrap(),
                i["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(statuses.len(), 2, "{list}");
    assert!(
        statuses.contains(&"区级项目=reviewed".to_owned()),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&"市级项目=proposed".to_owned()),
        "{statuses:?}"
    );
});

#[test]
fn the_purchase_api_is_documented() {
    let doc: serde_json::Value =
        serde_json::from_str(&shegong_web::http::api::document().to_json().unwrap()).unwrap();
    for (path, method) in [
        ("/api/v1/catalogue", "get"),
        ("/api/v1/catalogue", "post"),
        ("/api/v1/catalogue/items/{id}/status", "post"),
        ("/api/v1/contracts", "get"),
        ("/api/v1/contracts", "post"),
        ("/api/v1/contracts/{id}", "get"),
        ("/api/v1/contracts/{id}", "patch"),
        ("/api/v1/contracts/{id}/instalments", "get"),
        ("/api/v1/contracts/{id}/instalments/{seq}", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    // The detail carries the contract's fields at the top level, as the responses do.
    let detail = doc["components"]["schemas"]["ContractDetailDto"].to_string();
    assert!(detail.contains("ContractDto"), "{detail}");
    let states = doc["components"]["schemas"]["ContractPatch"]["properties"]["state"].to_string();
    assert!(states.contains("awaiting_acceptance"), "{states}");
}

app_test!(
    more_rows_than_the_form_takes_are_refused_not_cut_off,
    |app| {
        let (mut admin, provider, st, _) = setup(&app).await;
        let before = rows(&app).await;
        let mut body = contract("ZZ-2025-051", COUNTY, &provider, &st);
        let line = body["lines"][0].clone();
        body["lines"] = serde_json::Value::Array(vec![line; 51]);
        let res = send_json(&mut admin, Method::POST, "/api/v1/contracts", body).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["field"], "lines");
        assert_eq!(res.json()["errors"][0]["code"], "purchase.too_many_rows");
        assert_eq!(rows(&app).await, before);
    }
);
