//! Issue 19 item 5 (API parity, people): every change the people pages make is also a JSON API
//! operation with the page's checks (errors naming the field), its scope (a record of another
//! county is not found) and its audit entry.

use serde_json::{Value, json};
use shegong_store::sql::Sql;

use super::fixtures::{agency, send_json, station};
use super::*;

const COUNTY: &str = "430202";
const TOWN: &str = "430202001";
const OTHER_COUNTY: &str = "430203";

/// A GB 11643 resident identity number of the county (valid check character).
fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("{COUNTY}{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

fn resident(name: &str, birth: &str) -> Value {
    json!({
        "name": name,
        "birth_date": birth,
        "region": TOWN,
        "risk_tier": "general",
        "legal_basis": "statutory_duty",
        "phone": "13812345678",
        "confirm_duplicates": true,
    })
}

async fn register(c: &mut Client, body: Value) -> String {
    let res = send_json(c, Method::POST, "/api/v1/residents", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

/// Audit entries of `entity`/`action` about record `id`.
async fn audits(app: &TestApp, entity: &str, action: &str, id: &str) -> i64 {
    let mut c = app.state.db.read().await.unwrap();
    Sql::new("SELECT COUNT(*) FROM audit_log WHERE entity = ")
        .bind(entity)
        .push(" AND action = ")
        .bind(action)
        .push(" AND entity_id = ")
        .bind(id)
        .fetch_i64(&mut c)
        .await
        .unwrap()
}

/// A 422 naming `field` first.
fn refused(res: &Res, field: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], field, "{}", res.text);
}

fn found_not(res: &Res) {
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
}

app_test!(a_file_is_edited_and_its_status_and_tier_set_by_api, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let mut stranger = app.login_as(Role::CivilAffairsAdmin, OTHER_COUNTY).await;
    let mut body = resident("张建国", "");
    body["id_type"] = json!("resident_id");
    body["id_number"] = json!(id_number("19500101", 17));
    let id = register(&mut admin, body).await;
    let path = format!("/api/v1/residents/{id}");

    // Edit: sealed values left out are kept; the name changes.
    let res = send_json(
        &mut admin,
        Method::PUT,
        &path,
        resident("张建华", "1950-01-01"),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["name"], "张建华");
    assert_eq!(res.json()["phone_masked"], "138****5678");
    assert!(
        res.json()["id_number_masked"]
            .as_str()
            .unwrap()
            .ends_with(&id_number("19500101", 17)[14..])
    );
    refused(
        &send_json(
            &mut admin,
            Method::PUT,
            &path,
            resident("张建华", "2999-01-01"),
        )
        .await,
        "birth_date",
    );
    let mut no_name = resident("", "1950-01-01");
    no_name["name"] = json!(" ");
    refused(
        &send_json(&mut admin, Method::PUT, &path, no_name).await,
        "name",
    );
    found_not(
        &send_json(
            &mut stranger,
            Method::PUT,
            &path,
            resident("李四", "1950-01-01"),
        )
        .await,
    );
    assert_eq!(audits(&app, "resident", "update", &id).await, 1);

    // Tier, with its reason.
    let tier = format!("{path}/tier");
    let res = send_json(
        &mut admin,
        Method::POST,
        &tier,
        json!({"risk_tier": "high", "reason": "独居且近期跌倒"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["risk_tier"], "high");
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &tier,
            json!({"risk_tier": "high", "reason": " "}),
        )
        .await,
        "reason",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &tier,
            json!({"risk_tier": "red", "reason": "复核"}),
        )
        .await,
        "risk_tier",
    );
    found_not(
        &send_json(
            &mut stranger,
            Method::POST,
            &tier,
            json!({"risk_tier": "key", "reason": "复核"}),
        )
        .await,
    );
    assert_eq!(audits(&app, "resident", "set_tier", &id).await, 1);

    // Status.
    let status = format!("{path}/status");
    let res = send_json(
        &mut admin,
        Method::POST,
        &status,
        json!({"status": "moved_out"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["status"], "moved_out");
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &status,
            json!({"status": "merged"}),
        )
        .await,
        "status",
    );
    found_not(
        &send_json(
            &mut stranger,
            Method::POST,
            &status,
            json!({"status": "active"}),
        )
        .await,
    );
    assert_eq!(audits(&app, "resident", "set_status", &id).await, 1);
});

// A protected file edited without `protected` stays protected, as the edit form (which shows
// the flag) keeps it.
app_test!(an_edit_by_api_keeps_the_protection_it_leaves_out, |app| {
    let mut worker = app.login_as(Role::SocialWorker, TOWN).await;
    let me = worker.get("/api/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = resident("陈小花", "1990-05-05");
    body["protected"] = json!(true);
    body["worker_user_id"] = json!(me);
    let id = register(&mut worker, body).await;
    let flag = || async {
        let mut c = app.state.db.read().await.unwrap();
        Sql::new("SELECT protected FROM residents WHERE id = ")
            .bind(id.as_str())
            .fetch_i64(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(flag().await, 1);
    let mut edit = resident("陈晓花", "1990-05-05");
    edit["worker_user_id"] = json!(me);
    let res = send_json(
        &mut worker,
        Method::PUT,
        &format!("/api/v1/residents/{id}"),
        edit.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["name"], "陈晓花");
    assert_eq!(flag().await, 1);
    edit["protected"] = json!(false);
    let res = send_json(
        &mut worker,
        Method::PUT,
        &format!("/api/v1/residents/{id}"),
        edit,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(flag().await, 0);
    // Another township's worker does not find it.
    let mut other = app.login_as(Role::SocialWorker, "430202002").await;
    found_not(
        &send_json(
            &mut other,
            Method::PUT,
            &format!("/api/v1/residents/{id}"),
            resident("陈花", "1990-05-05"),
        )
        .await,
    );
});

app_test!(households_memberships_and_merges_by_api, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let mut stranger = app.login_as(Role::CivilAffairsAdmin, OTHER_COUNTY).await;
    let one = register(&mut admin, resident("王秀英", "1948-03-12")).await;
    let head = register(&mut admin, resident("刘德明", "1946-07-01")).await;
    let twin = register(&mut admin, resident("王秀英", "1948-03-12")).await;
    let file = |p: &str| format!("/api/v1/residents/{one}{p}");

    // Household.
    let res = send_json(
        &mut admin,
        Method::POST,
        &file("/household"),
        json!({"other": head, "relation": "10"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["relation"], "10");
    assert!(res.json()["household_id"].is_string());
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &file("/household"),
            json!({"other": head, "relation": "77"}),
        )
        .await,
        "relation",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &file("/household"),
            json!({"other": one, "relation": "10"}),
        )
        .await,
        "other",
    );
    found_not(
        &send_json(
            &mut stranger,
            Method::POST,
            &file("/household"),
            json!({"other": head, "relation": "10"}),
        )
        .await,
    );
    assert_eq!(audits(&app, "resident", "join_household", &one).await, 1);

    // Memberships: added, listed with their ids, ended.
    let res = send_json(
        &mut admin,
        Method::POST,
        &file("/memberships"),
        json!({"category": "dibao", "valid_from": "2024-01-01", "source": "民政局低保名册"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let items = res.json()["items"].clone();
    assert_eq!(items[0]["category"], "dibao");
    assert_eq!(items[0]["active"], true);
    let mid = items[0]["id"].as_str().unwrap().to_owned();
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &file("/memberships"),
            json!({"category": "unicorn", "valid_from": "2024-01-01"}),
        )
        .await,
        "category",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &file("/memberships"),
            json!({"category": "dibao", "valid_from": "2024-13-01"}),
        )
        .await,
        "valid_from",
    );
    found_not(
        &send_json(
            &mut stranger,
            Method::POST,
            &file("/memberships"),
            json!({"category": "dibao", "valid_from": "2024-01-01"}),
        )
        .await,
    );
    found_not(&stranger.get(&file("/memberships")).await);
    assert_eq!(audits(&app, "resident", "add_category", &one).await, 1);
    let end = file(&format!("/memberships/{mid}/end"));
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &end,
            json!({"valid_to": "2023-12-31"}),
        )
        .await,
        "valid_to",
    );
    found_not(
        &send_json(
            &mut stranger,
            Method::POST,
            &end,
            json!({"valid_to": "2024-06-30"}),
        )
        .await,
    );
    found_not(
        &send_json(
            &mut admin,
            Method::POST,
            &file("/memberships/no-such-membership/end"),
            json!({"valid_to": "2024-06-30"}),
        )
        .await,
    );
    let res = send_json(
        &mut admin,
        Method::POST,
        &end,
        json!({"valid_to": "2024-06-30"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["items"][0]["valid_to"], "2024-06-30");
    assert_eq!(res.json()["items"][0]["active"], false);
    assert_eq!(
        admin.get(&file("/memberships")).await.json()["items"][0]["id"],
        mid.as_str()
    );
    assert_eq!(audits(&app, "resident", "end_category", &one).await, 1);

    // Merge the duplicate.
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &file("/merge"),
            json!({"other": one}),
        )
        .await,
        "other",
    );
    found_not(
        &send_json(
            &mut stranger,
            Method::POST,
            &file("/merge"),
            json!({"other": twin}),
        )
        .await,
    );
    let res = send_json(
        &mut admin,
        Method::POST,
        &file("/merge"),
        json!({"other": twin}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["id"], one.as_str());
    assert_eq!(audits(&app, "resident", "merge", &one).await, 1);
    // Merged away: merging it again is refused on the field.
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &file("/merge"),
            json!({"other": twin}),
        )
        .await,
        "other",
    );
});

app_test!(a_reveal_by_api_needs_a_reason_and_is_audited, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let mut stranger = app.login_as(Role::CivilAffairsAdmin, OTHER_COUNTY).await;
    let mut worker = app.login_as(Role::SocialWorker, TOWN).await;
    let number = id_number("19600505", 31);
    let mut body = resident("赵桂芝", "");
    body["id_type"] = json!("resident_id");
    body["id_number"] = json!(number);
    body["address"] = json!("月塘街道幸福路 12 号 3 栋");
    let id = register(&mut admin, body).await;
    let path = format!("/api/v1/residents/{id}/reveal");

    let res = send_json(
        &mut admin,
        Method::POST,
        &path,
        json!({"reason": "核对身份信息"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["id_number"], number.as_str());
    assert!(
        res.json()["phone"]
            .as_str()
            .unwrap()
            .ends_with("13812345678")
    );
    assert_eq!(res.json()["address"], "月塘街道幸福路 12 号 3 栋");
    refused(
        &send_json(&mut admin, Method::POST, &path, json!({"reason": "x"})).await,
        "reason",
    );
    let res = send_json(
        &mut stranger,
        Method::POST,
        &path,
        json!({"reason": "核对身份信息"}),
    )
    .await;
    found_not(&res);
    assert!(!res.text.contains(&number));
    let res = send_json(
        &mut worker,
        Method::POST,
        &path,
        json!({"reason": "核对身份信息"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(audits(&app, "resident", "reveal", &id).await, 1);
});

app_test!(a_case_goes_through_its_steps_by_api, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let mut stranger = app.login_as(Role::CivilAffairsAdmin, OTHER_COUNTY).await;
    let org = agency(&app, "阳光社工服务中心", COUNTY).await;
    let elsewhere = station(&app, "430202002", "启航社工站", &org).await;
    let r = register(&mut admin, resident("孙玉兰", "1945-02-02")).await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/cases",
        json!({"resident_id": r, "problem": "独居，行动不便"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let case = res.json()["id"].as_str().unwrap().to_owned();
    let step = |s: &str| format!("/api/v1/cases/{case}/{s}");
    let scores = json!({"daily_living": 2, "economic": 1, "health": 3, "psychological": 1,
                        "social_support": 2, "safety": 1});

    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &step("assess"),
            json!({"risk": "key"}),
        )
        .await,
        "scores",
    );
    refused(
        &send_json(&mut admin, Method::POST, &step("fly"), json!({})).await,
        "stage",
    );
    found_not(
        &send_json(
            &mut stranger,
            Method::POST,
            &step("assess"),
            json!({"scores": scores, "risk": "key"}),
        )
        .await,
    );
    let go = |res: Res, stage: &str, pending: &str| {
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["stage"], stage, "{}", res.text);
        assert_eq!(res.json()["pending"], pending, "{}", res.text);
    };
    go(
        send_json(
            &mut admin,
            Method::POST,
            &step("assess"),
            json!({"scores": scores, "risk": "key", "notes": "需定期探访"}),
        )
        .await,
        "assessment",
        "",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &step("evaluate"),
            json!({"goals_met": 50, "summary": "尚可"}),
        )
        .await,
        "stage",
    );
    go(
        send_json(
            &mut admin,
            Method::POST,
            &step("plan"),
            json!({"goals": "改善日常照料", "services": [{"kind": "visit", "per_month": 4}]}),
        )
        .await,
        "planning",
        "plan",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &step("decide"),
            json!({"decision": "maybe"}),
        )
        .await,
        "decision",
    );
    go(
        send_json(
            &mut admin,
            Method::POST,
            &step("decide"),
            json!({"decision": "approve", "comment": "同意"}),
        )
        .await,
        "intervention",
        "",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &step("evaluate"),
            json!({"goals_met": 101, "summary": "好转"}),
        )
        .await,
        "goals_met",
    );
    go(
        send_json(
            &mut admin,
            Method::POST,
            &step("evaluate"),
            json!({"goals_met": 80, "summary": "好转"}),
        )
        .await,
        "evaluation",
        "",
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &step("close"),
            json!({"outcome": "other"}),
        )
        .await,
        "outcome_note",
    );
    go(
        send_json(
            &mut admin,
            Method::POST,
            &step("close"),
            json!({"outcome": "goals_met"}),
        )
        .await,
        "evaluation",
        "closure",
    );
    go(
        send_json(
            &mut admin,
            Method::POST,
            &step("decide"),
            json!({"decision": "approve"}),
        )
        .await,
        "closed",
        "",
    );
    refused(
        &send_json(&mut admin, Method::POST, &step("reopen"), json!({})).await,
        "reason",
    );
    go(
        send_json(
            &mut admin,
            Method::POST,
            &step("reopen"),
            json!({"reason": "病情反复"}),
        )
        .await,
        "assessment",
        "",
    );
    // A referral, declined by the receiving side (here the same county).
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &step("refer"),
            json!({"station": elsewhere}),
        )
        .await,
        "reason",
    );
    let res = send_json(
        &mut admin,
        Method::POST,
        &step("refer"),
        json!({"station": elsewhere, "reason": "迁居"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["transfer_station_id"], elsewhere.as_str());
    found_not(
        &send_json(
            &mut stranger,
            Method::POST,
            &step("answer"),
            json!({"decision": "decline", "reason": "无床位"}),
        )
        .await,
    );
    refused(
        &send_json(
            &mut admin,
            Method::POST,
            &step("answer"),
            json!({"decision": "decline"}),
        )
        .await,
        "reason",
    );
    let res = send_json(
        &mut admin,
        Method::POST,
        &step("answer"),
        json!({"decision": "decline", "reason": "无床位"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.json()["transfer_station_id"].is_null());

    for (action, n) in [
        ("assess", 1),
        ("plan", 1),
        ("approve", 2),
        ("evaluate", 1),
        ("request_closure", 1),
        ("reopen", 1),
        ("refer", 1),
        ("decline_referral", 1),
    ] {
        assert_eq!(audits(&app, "case", action, &case).await, n, "{action}");
    }
});

app_test!(a_service_record_is_corrected_and_deleted_by_api, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let mut stranger = app.login_as(Role::CivilAffairsAdmin, OTHER_COUNTY).await;
    let r = register(&mut admin, resident("周建平", "1952-09-09")).await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/services",
        json!({"kind": "casework", "domain": "elderly", "resident_id": r, "served_on": "2024-03-01",
               "duration_minutes": 30, "workers": "王小明"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/services/{id}");
    let fixed = json!({"served_on": "2024-03-02", "duration_minutes": 45, "person_times": 2, "value": "12.50"});

    let res = send_json(&mut admin, Method::PUT, &path, fixed.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["served_on"], "2024-03-02");
    assert_eq!(res.json()["duration_minutes"], 45);
    assert_eq!(res.json()["value_fen"], 1250);
    let mut bad = fixed.clone();
    bad["served_on"] = json!("2999-01-01");
    refused(
        &send_json(&mut admin, Method::PUT, &path, bad).await,
        "served_on",
    );
    let mut bad = fixed.clone();
    bad["duration_minutes"] = json!(0);
    refused(
        &send_json(&mut admin, Method::PUT, &path, bad).await,
        "duration_minutes",
    );
    found_not(&send_json(&mut stranger, Method::PUT, &path, fixed.clone()).await);
    assert_eq!(audits(&app, "service", "correct", &id).await, 1);

    found_not(&send_json(&mut stranger, Method::DELETE, &path, json!({})).await);
    let res = send_json(&mut admin, Method::DELETE, &path, json!({})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    found_not(&admin.get(&path).await);
    found_not(&send_json(&mut admin, Method::DELETE, &path, json!({})).await);
    assert_eq!(audits(&app, "service", "delete", &id).await, 1);
});

app_test!(visit_rules_are_read_and_set_by_api, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let mut worker = app.login_as(Role::SocialWorker, TOWN).await;
    let rule = json!({"region": COUNTY, "risk_tier": "high", "interval_days": 7, "methods": ["home", "phone"]});

    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/visit-rules",
        rule.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["interval_days"], 7);
    assert_eq!(res.json()["methods"], json!(["home", "phone"]));
    let list = admin.get("/api/v1/visit-rules").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(
        list.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["region_code"] == COUNTY && r["tier"] == "high" && r["interval_days"] == 7)
    );
    for (field, value) in [
        ("interval_days", json!(0)),
        ("methods", json!([])),
        ("risk_tier", json!("red")),
        ("region", json!("43x")),
    ] {
        let mut bad = rule.clone();
        bad[field] = value;
        refused(
            &send_json(&mut admin, Method::POST, "/api/v1/visit-rules", bad).await,
            field,
        );
    }
    // Another county's region is outside the caller's scope.
    let mut elsewhere = rule.clone();
    elsewhere["region"] = json!(OTHER_COUNTY);
    refused(
        &send_json(&mut admin, Method::POST, "/api/v1/visit-rules", elsewhere).await,
        "region",
    );
    let res = send_json(
        &mut worker,
        Method::POST,
        "/api/v1/visit-rules",
        rule.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(
        audits(&app, "visit_rule", "set", &format!("{COUNTY}/high/")).await,
        1
    );
});
