//! 供需对接 over HTTP (issue 16 item 4): a need registered (every refused field named, nothing
//! written), the matcher's proposals with reasons in words, a match proposed, confirmed,
//! executed into a service record and completed; the same-day throttle; the three lists and
//! their export; audit; scope (404 outside).

use shegong_store::sql::Sql;

use super::fixtures::{count, send_json};
use super::*;

const TOWN: &str = "430202001";

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

fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("430202{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

async fn resident(app: &TestApp, id: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(TOWN).push(", '李桂兰', 'x', '1940-01-01', 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', 0, 0)")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

fn ok(res: &Res) -> serde_json::Value {
    assert!(res.status.is_success(), "{} {}", res.status, res.text);
    res.json()
}

app_test!(
    a_need_is_matched_executed_into_a_service_and_throttled_the_same_day,
    |app| {
        let mut worker = app.login_as(Role::SocialWorker, TOWN).await;
        resident(&app, "r1").await;
        let vol = ok(&send_json(&mut worker, Method::POST, "/api/v1/volunteers",
        serde_json::json!({"name": "刘思雨", "id_number": id_number("19900307", 2), "region": TOWN,
            "mobile": "13873312345", "skills": ["养老照护"], "intentions": ["助老"]})).await);
        let vid = vol["id"].as_str().unwrap().to_owned();

        // Refused by name; nothing written.
        let res = send_json(&mut worker, Method::POST, "/api/v1/needs",
        serde_json::json!({"subject": "person", "resident_id": "nobody", "help_kind": "bathing", "title": "需要助浴"})).await;
        refused(&res, "resident_id", "need.resident_unknown");
        let res = send_json(&mut worker, Method::POST, "/api/v1/needs",
        serde_json::json!({"subject": "person", "resident_id": "r1", "help_kind": "flying", "title": ""})).await;
        refused(&res, "help_kind", "match.help_unknown");
        refused(&res, "title", "form.required");
        let res = send_json(&mut worker, Method::POST, "/api/v1/needs",
        serde_json::json!({"subject": "person", "resident_id": "r1", "help_kind": "bathing", "title": "需要助浴", "wanted_on": "2001-01-01"})).await;
        refused(&res, "wanted_on", "need.wanted_past");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM needs").await, 0);

        let need = ok(&send_json(&mut worker, Method::POST, "/api/v1/needs",
        serde_json::json!({"subject": "person", "resident_id": "r1", "help_kind": "bathing", "title": "行动不便，需要助浴"})).await);
        let nid = need["id"].as_str().unwrap().to_owned();
        assert_eq!(need["state"], "open");

        // The matcher proposes the volunteer and says why, in words.
        let cands = ok(&worker.get(&format!("/api/v1/needs/{nid}/candidates")).await);
        assert_eq!(cands["throttled"], false);
        let first = &cands["candidates"][0];
        assert_eq!(first["resource"]["id"], vid.as_str(), "{cands}");
        let why: Vec<String> = first["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["text"].as_str().unwrap().to_owned())
            .collect();
        assert!(why.iter().any(|w| w == "技能「养老照护」对口"), "{why:?}");
        assert!(why.iter().any(|w| w == "同一社区（乡镇）"), "{why:?}");

        // Proposed, confirmed, executed (a service record), completed.
        let m = ok(&send_json(
            &mut worker,
            Method::POST,
            "/api/v1/matches",
            serde_json::json!({"need_id": nid, "resource_kind": "volunteer", "resource_id": vid}),
        )
        .await);
        let mid = m["id"].as_str().unwrap().to_owned();
        assert_eq!(
            (m["state"].as_str(), m["score"].as_i64()),
            (Some("proposed"), first["score"].as_i64())
        );
        let step = format!("/api/v1/matches/{mid}/step");
        let res = send_json(
            &mut worker,
            Method::POST,
            &step,
            serde_json::json!({"step": "complete"}),
        )
        .await;
        refused(&res, "step", "match.step_not_allowed");
        ok(&send_json(
            &mut worker,
            Method::POST,
            &step,
            serde_json::json!({"step": "confirm"}),
        )
        .await);
        let res = send_json(
            &mut worker,
            Method::POST,
            &step,
            serde_json::json!({"step": "execute"}),
        )
        .await;
        refused(&res, "workers", "form.required");
        refused(&res, "duration_minutes", "form.required");
        let done = ok(&send_json(
            &mut worker,
            Method::POST,
            &step,
            serde_json::json!({"step": "execute", "duration_minutes": 60, "workers": "李社工"}),
        )
        .await);
        let sid = done["service_id"].as_str().unwrap().to_owned();
        let service = ok(&worker.get(&format!("/api/v1/services/{sid}")).await);
        assert_eq!(service["kind"], "resource_linking", "{service}");
        ok(&send_json(
            &mut worker,
            Method::POST,
            &step,
            serde_json::json!({"step": "complete"}),
        )
        .await);
        let detail = ok(&worker.get(&format!("/api/v1/needs/{nid}")).await);
        assert_eq!(detail["need"]["state"], "met");
        assert_eq!(detail["matches"][0]["state"], "completed");

        // The same person, the same help, the same day: nothing more is proposed.
        let again = ok(&send_json(&mut worker, Method::POST, "/api/v1/needs",
        serde_json::json!({"subject": "person", "resident_id": "r1", "help_kind": "bathing", "title": "再次助浴"})).await);
        let aid = again["id"].as_str().unwrap().to_owned();
        let c2 = ok(&worker.get(&format!("/api/v1/needs/{aid}/candidates")).await);
        assert_eq!(c2["throttled"], true, "{c2}");
        let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/matches",
            serde_json::json!({"need_id": aid, "resource_kind": "volunteer", "resource_id": vid}),
        )
        .await;
        refused(&res, "need_id", "match.served_today");
        let page = worker.get(&format!("/matching/needs/{aid}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.select("#throttled").is_empty());

        // The pages and the lists.
        let page = worker.get(&format!("/matching/needs/{nid}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("已完成"));
        let lists = ok(&worker
            .get(&format!("/api/v1/community-lists?region={TOWN}"))
            .await);
        assert_eq!(lists["needs"].as_array().unwrap().len(), 2, "{lists}");
        assert_eq!(lists["services"][0]["matched"], 1, "{lists}");
        let res = worker.get(&format!("/matching/lists?region={TOWN}")).await;
        assert_eq!(res.status, StatusCode::OK);
        // Exports and approval are the township office's.
        let res = worker
            .get(&format!("/matching/lists/services.xlsx?region={TOWN}"))
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/community-lists/approve",
            serde_json::json!({"region": TOWN, "period": "2026-01"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let mut office = app.login_as(Role::CivilAffairsAdmin, TOWN).await;
        let res = office
            .get(&format!("/matching/lists/services.xlsx?region={TOWN}"))
            .await;
        assert_eq!(res.status, StatusCode::OK);
        let res = office
            .get("/matching/resources/export.xlsx?kind=volunteer")
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'resource' AND action = 'export'"
            )
            .await,
            1
        );
        let this_month: String = lists["period"].as_str().unwrap().to_owned();
        let res = send_json(
            &mut office,
            Method::POST,
            "/api/v1/community-lists/approve",
            serde_json::json!({"region": TOWN, "period": this_month}),
        )
        .await;
        refused(&res, "period", "list.period_open");
        let a = ok(&send_json(
            &mut office,
            Method::POST,
            "/api/v1/community-lists/approve",
            serde_json::json!({"region": TOWN, "period": "2026-01"}),
        )
        .await);
        let jan = ok(&office
            .get(&format!(
                "/api/v1/community-lists?region={TOWN}&period=2026-01"
            ))
            .await);
        assert_eq!(jan["approval"]["digest"], a["digest"]);
        assert_eq!(jan["changed_since_approval"], false);
        assert!(count(&app, "SELECT COUNT(*) FROM audit_log WHERE entity = 'community_list' AND action = 'approve'").await == 1);
        assert!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'match'"
            )
            .await
                >= 4
        );

        // A county's office is asked to pick a community, not shown an error page.
        let mut county = app.login_as(Role::CivilAffairsAdmin, "430202").await;
        let res = county.get("/matching/lists").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!res.select("#lists-error").is_empty());
        assert!(!res.select("#l-region").is_empty());

        // Another township: as if none of it existed.
        let mut other = app.login_as(Role::SocialWorker, "430202002").await;
        assert_eq!(
            other.get(&format!("/api/v1/needs/{nid}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            other.get(&format!("/api/v1/matches/{mid}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            other.get(&format!("/matching/needs/{nid}")).await.status,
            StatusCode::NOT_FOUND
        );
        let res = send_json(
            &mut other,
            Method::POST,
            &step,
            serde_json::json!({"step": "abandon", "reason": "x"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    }
);
