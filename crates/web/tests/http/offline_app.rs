//! Issue 19 item 4: the offline app's server side. Its session read (a device key bound to the
//! session, gone with it), the worker's own files bounded by `offline.max_files`, case notes
//! (page and API, scoped, audited, repeat-safe) and queued writes that carry the file as it was
//! (`expected`): a file that changed answers 409 with what changed and saves nothing. On both
//! databases.

use serde_json::{Value, json};
use shegong_store::sql::Sql;

use super::fixtures::send_json;
use super::*;

const COUNTY: &str = "430202";
const TOWN: &str = "430202001";
const OTHER_COUNTY: &str = "430203";

fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("{COUNTY}{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

async fn register(c: &mut Client, name: &str, seq: u32, worker: Option<&str>) -> String {
    let res = send_json(
        c,
        Method::POST,
        "/api/v1/residents",
        json!({
            "name": name,
            "birth_date": "1944-03-03",
            "id_number": id_number("19440303", seq),
            "region": TOWN,
            "risk_tier": "key",
            "legal_basis": "statutory_duty",
            "phone": "13812345678",
            "address": "荷花路 8 号",
            "worker_user_id": worker,
            "confirm_duplicates": true,
        }),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

async fn keyed(c: &mut Client, path: &str, body: &Value, key: &str) -> Res {
    let token = c.csrf().await;
    c.send(
        Method::POST,
        path,
        Some(("application/json", body.to_string())),
        &[
            ("x-csrf-token", &token),
            ("accept-language", "en"),
            ("idempotency-key", key),
        ],
    )
    .await
}

async fn count(app: &TestApp, sql: &'static str, id: &str) -> i64 {
    let mut c = app.state.db.read().await.unwrap();
    Sql::new(sql).bind(id).fetch_i64(&mut c).await.unwrap()
}

async fn session(c: &mut Client) -> Value {
    let res = c.get("/api/v1/app/session").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(
        res.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    res.json()
}

async fn the_app_session_and_bundle(db: shegong_store::testing::TestDb) {
    let config = Config {
        twofactor_for_administrators: false,
        offline: shegong_web::config::OfflineConfig { max_files: 2 },
        ..Config::default()
    };
    let app = TestApp::with_config(db, config).await;
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let worker_id = app
        .user("field_worker", Role::SocialWorker, TOWN, false)
        .await;
    let mut worker = app.client();
    assert_eq!(
        worker.login("field_worker", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // The session read: the account, a 32-byte key, the CSRF token of this session.
    let s = session(&mut worker).await;
    assert_eq!(s["user_id"], worker_id.as_str());
    assert_eq!(s["max_files"], 2);
    let key = s["device_key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 64);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(s["csrf_token"].as_str().unwrap(), worker.csrf().await);
    assert_eq!(session(&mut worker).await["device_key"], key.as_str());
    // Another sign-in of the same account is another session: another key and tag.
    let mut phone = app.client();
    phone.login("field_worker", PASSWORD).await;
    let other = session(&mut phone).await;
    assert_ne!(other["device_key"], key.as_str());
    assert_ne!(other["session_tag"], s["session_tag"]);

    // The bundle: the worker's own active files only, soonest due first, at most max_files.
    for (i, name) in ["赵一", "钱二", "孙三"].iter().enumerate() {
        register(&mut admin, name, i as u32 + 1, Some(&worker_id)).await;
    }
    register(&mut admin, "李四", 9, None).await;
    let res = worker.get("/api/v1/app/bundle").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let b = res.json();
    assert_eq!(b["residents"].as_array().unwrap().len(), 2, "{b}");
    assert_eq!(b["residents_total"], 3);
    assert!(
        b["residents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["worker_user_id"] == worker_id.as_str() && r["name"] != "李四")
    );
    assert!(!b["residents"][0]["methods"].as_array().unwrap().is_empty());
    for secret in ["id_number", "13812345678", "5678", "荷花路", "19440303"] {
        assert!(!res.text.contains(secret), "{secret} in {}", res.text);
    }
    assert!(!b["catalogues"]["methods"].as_array().unwrap().is_empty());
    // The administrator has no files of their own.
    let res = admin.get("/api/v1/app/bundle").await;
    assert_eq!(res.json()["residents_total"], 0);

    // An API token has no session to bind a key to.
    let mut token_client = app.client();
    let page = admin
        .post_form("/account/tokens", &[("name", "offline")])
        .await;
    let secret = page.select("#new-token")[0].clone();
    token_client
        .headers
        .push(("authorization".into(), format!("Bearer {secret}")));
    let res = token_client.get("/api/v1/app/session").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);

    // Signed out: 401, and the key is not handed out again.
    let res = worker.post_form("/logout", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let res = worker.get("/api/v1/app/session").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    assert!(!res.text.contains(&key));
    // A disabled account: 401 on the other session too.
    let mut tx = app.state.db.begin().await.unwrap();
    let national = shegong_domain::Scope::national();
    shegong_store::admin::users::set_disabled(&mut tx, &national, &worker_id, true, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let res = phone.get("/api/v1/app/bundle").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);

    // The shell, its worker and manifest.
    let mut anon = app.client();
    let res = anon.get("/app").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().starts_with("/login"));
    let res = anon.get("/sw.js").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(res.text.contains("/assets/offline.") && !res.text.contains("__SHELL__"));
    let res = anon.get("/app.webmanifest").await;
    assert_eq!(res.json()["start_url"], "/app");
    let res = admin.get("/app").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.text.contains("rel=\"manifest\""));
    let csp = res.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("worker-src 'self'"), "{csp}");
}

mod the_app_session_and_its_bounded_bundle {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::the_app_session_and_bundle(shegong_store::testing::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::the_app_session_and_bundle(shegong_store::testing::postgres().await).await;
    }
}

app_test!(a_case_note_is_saved_once_scoped_and_audited, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let mut stranger = app.login_as(Role::CivilAffairsAdmin, OTHER_COUNTY).await;
    let r = register(&mut admin, "周玉梅", 11, None).await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/cases",
        json!({"resident_id": r, "problem": "独居，行动不便"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let case = res.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/cases/{case}/note");
    let body = json!({"note": "入户了解近况，情绪稳定"});

    let first = keyed(&mut admin, &path, &body, "note-0001").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json()["stage"], "intake");
    let again = keyed(&mut admin, &path, &body, "note-0001").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let notes = "SELECT COUNT(*) FROM case_events WHERE kind = 'note' AND case_id = ";
    assert_eq!(count(&app, notes, &case).await, 1);
    let audited =
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'case' AND action = 'note' AND entity_id = ";
    assert_eq!(count(&app, audited, &case).await, 1);
    // The note is sealed at rest.
    let mut c = app.state.db.read().await.unwrap();
    let clear = Sql::new("SELECT COUNT(*) FROM case_events WHERE body_sealed LIKE '%情绪稳定%'")
        .fetch_i64(&mut c)
        .await
        .unwrap();
    drop(c);
    assert_eq!(clear, 0);

    // Required, and out of scope is not found.
    let res = send_json(&mut admin, Method::POST, &path, json!({"note": "  "})).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "note");
    let res = send_json(&mut stranger, Method::POST, &path, body.clone()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    assert_eq!(count(&app, notes, &case).await, 1);

    // The case page: the form adds a note, shown in the history.
    let res = admin
        .post_form(
            &format!("/cases/{case}/note"),
            &[("note", "电话回访，已联系家属")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = admin.get(&format!("/cases/{case}")).await;
    assert!(page.text.contains("电话回访，已联系家属"), "{}", page.text);
    assert!(!page.select("#case-note form").is_empty());
    assert_eq!(count(&app, notes, &case).await, 2);
});

app_test!(a_queued_write_against_a_changed_file_is_a_conflict, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
    let mut stranger = app.login_as(Role::CivilAffairsAdmin, OTHER_COUNTY).await;
    let worker_id = app
        .user("queue_worker", Role::SocialWorker, TOWN, false)
        .await;
    let mut worker = app.client();
    worker.login("queue_worker", PASSWORD).await;
    let r = register(&mut admin, "吴桂英", 21, Some(&worker_id)).await;
    let visit = |expected: Value| {
        json!({"kind": "visit", "domain": "elderly", "resident_id": r, "served_on": "2024-01-05",
               "duration_minutes": 30, "method": "home", "workers": "queue_worker",
               "notes": "离线记录", "expected": expected})
    };
    let as_seen = json!({"resident_status": "active", "resident_worker": worker_id});
    let visits = "SELECT COUNT(*) FROM services WHERE kind = 'visit' AND resident_id = ";

    // The file as it was: saved, once, however often it is sent.
    let res = keyed(
        &mut worker,
        "/api/v1/services",
        &visit(as_seen.clone()),
        "visit-0001",
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = keyed(
        &mut worker,
        "/api/v1/services",
        &visit(as_seen.clone()),
        "visit-0001",
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.headers["idempotent-replayed"], "true");
    assert_eq!(count(&app, visits, &r).await, 1);

    // Reassigned meanwhile: 409 with what changed, nothing saved.
    let other_id = app
        .user("other_worker", Role::SocialWorker, TOWN, false)
        .await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/residents/batch/assign",
        json!({"ids": [r], "worker_user_id": other_id}),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.text);
    let res = keyed(
        &mut admin,
        "/api/v1/services",
        &visit(as_seen.clone()),
        "visit-0002",
    )
    .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    let body = res.json();
    assert_eq!(body["code"], "conflict.file_changed");
    assert_eq!(body["changes"][0]["field"], "resident_worker");
    assert_eq!(body["changes"][0]["current"], other_id.as_str());
    assert_eq!(body["changes"][0]["current_label"], "other_worker name");
    assert_eq!(body["resident_id"], r.as_str());
    assert_eq!(count(&app, visits, &r).await, 1);
    // Submitted anyway (no `expected`) with the same key: saved against the file as it is.
    let mut anyway = visit(Value::Null);
    anyway.as_object_mut().unwrap().remove("expected");
    let res = keyed(&mut admin, "/api/v1/services", &anyway, "visit-0002").await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(count(&app, visits, &r).await, 2);

    // Moved out meanwhile: the status is named.
    let res = send_json(
        &mut admin,
        Method::POST,
        &format!("/api/v1/residents/{r}/status"),
        json!({"status": "moved_out"}),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.text);
    let res = keyed(
        &mut admin,
        "/api/v1/services",
        &visit(json!({"resident_status": "active"})),
        "visit-0003",
    )
    .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert_eq!(res.json()["changes"][0]["field"], "resident_status");
    assert_eq!(res.json()["changes"][0]["current"], "moved_out");
    assert_eq!(count(&app, visits, &r).await, 2);
    // Outside the caller's scope: not found, whatever it expected.
    let res = keyed(
        &mut stranger,
        "/api/v1/services",
        &visit(as_seen.clone()),
        "visit-0004",
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);

    // A case note made against a stage the case has left.
    let r2 = register(&mut admin, "郑秀兰", 22, None).await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/cases",
        json!({"resident_id": r2, "problem": "照料不足"}),
    )
    .await;
    let case = res.json()["id"].as_str().unwrap().to_owned();
    let scores = json!({"daily_living": 2, "economic": 1, "health": 3, "psychological": 1,
                        "social_support": 2, "safety": 1});
    let res = send_json(
        &mut admin,
        Method::POST,
        &format!("/api/v1/cases/{case}/assess"),
        json!({"scores": scores, "risk": "key"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let note = json!({"note": "离线时写的记录", "expected": {"case_stage": "intake"}});
    let path = format!("/api/v1/cases/{case}/note");
    let res = keyed(&mut admin, &path, &note, "note-0002").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert_eq!(res.json()["changes"][0]["field"], "case_stage");
    assert_eq!(res.json()["changes"][0]["current"], "assessment");
    assert_eq!(res.json()["case_id"], case.as_str());
    let notes = "SELECT COUNT(*) FROM case_events WHERE kind = 'note' AND case_id = ";
    assert_eq!(count(&app, notes, &case).await, 0);
    let res = keyed(&mut stranger, &path, &note, "note-0003").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    // As it is now: saved.
    let res = keyed(
        &mut admin,
        &path,
        &json!({"note": "离线时写的记录", "expected": {"case_stage": "assessment"}}),
        "note-0002",
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(count(&app, notes, &case).await, 1);
});
