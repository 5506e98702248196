//! Issue 19: every API write accepts an `Idempotency-Key`. A retry of the same request gets the
//! first answer again and writes nothing; the same key on another request is refused on the
//! field; a refused request frees its key; the kept answer is sealed at rest. On both databases.

use super::*;

async fn post_keyed(c: &mut Client, path: &str, body: serde_json::Value, key: &str) -> Res {
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

app_test!(a_retried_api_write_is_answered_once, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let org =
        serde_json::json!({"name": "重试社工服务中心", "kind": "agency", "region_code": "430203"});
    let first = post_keyed(
        &mut admin,
        "/api/v1/organizations",
        org.clone(),
        "retry-0001",
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = post_keyed(
        &mut admin,
        "/api/v1/organizations",
        org.clone(),
        "retry-0001",
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(
        fixtures::count(
            &app,
            "SELECT COUNT(*) FROM organizations WHERE name = '重试社工服务中心'"
        )
        .await,
        1
    );
    // The kept answer is sealed: the name is not readable in the table.
    let sealed = fixtures::count(
        &app,
        "SELECT COUNT(*) FROM api_replays WHERE response_sealed LIKE '%重试社工服务中心%'",
    )
    .await;
    assert_eq!(sealed, 0);
    assert_eq!(
        fixtures::count(&app, "SELECT COUNT(*) FROM api_replays").await,
        1
    );

    // The same key on a different request is refused on the field, and writes nothing.
    let other =
        serde_json::json!({"name": "另一个机构", "kind": "agency", "region_code": "430203"});
    let res = post_keyed(
        &mut admin,
        "/api/v1/organizations",
        other.clone(),
        "retry-0001",
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "idempotency_key");
    assert_eq!(
        fixtures::count(
            &app,
            "SELECT COUNT(*) FROM organizations WHERE name = '另一个机构'"
        )
        .await,
        0
    );

    // A refused request frees its key: corrected, it is written once.
    let bad = serde_json::json!({"name": "", "kind": "agency", "region_code": "430203"});
    let res = post_keyed(&mut admin, "/api/v1/organizations", bad, "retry-0002").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "name");
    let res = post_keyed(
        &mut admin,
        "/api/v1/organizations",
        other.clone(),
        "retry-0002",
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);

    // Keys are per account: another account's same key is its own.
    let mut second = fixtures::login(
        &app,
        "second_admin",
        Role::CivilAffairsAdmin,
        "430203",
        None,
    )
    .await;
    let third =
        serde_json::json!({"name": "第三个机构", "kind": "agency", "region_code": "430203"});
    let res = post_keyed(&mut second, "/api/v1/organizations", third, "retry-0001").await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_ne!(res.json()["id"], first.json()["id"]);

    // A malformed key is refused on the field.
    let res = post_keyed(&mut admin, "/api/v1/organizations", org, "two words").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "idempotency_key");
});

app_test!(a_key_still_in_progress_answers_409_and_expires, |app| {
    use shegong_store::replay::{self, Claim};
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let user: String = {
        let mut c = app.state.db.read().await.unwrap();
        shegong_store::sql::Sql::new(
            "SELECT id FROM users WHERE username = 'civilaffairsadmin_430203'",
        )
        .fetch_one::<(String,)>(&mut c)
        .await
        .unwrap()
        .0
    };
    let keys = &app.state.keys;
    let now = app.state.now();
    // A first request that claimed the key and has not answered yet.
    let mut tx = app.state.db.begin().await.unwrap();
    let claim = replay::claim(&mut tx, keys, &user, "slow-0001", "h1", now)
        .await
        .unwrap();
    assert_eq!(claim, Claim::New);
    assert_eq!(
        replay::claim(&mut tx, keys, &user, "slow-0001", "h1", now)
            .await
            .unwrap(),
        Claim::Running
    );
    assert_eq!(
        replay::claim(&mut tx, keys, &user, "slow-0001", "h2", now)
            .await
            .unwrap(),
        Claim::Reused
    );
    replay::finish(
        &mut tx,
        keys,
        &user,
        "slow-0001",
        (201, "application/json", "{\"id\":\"x\"}"),
    )
    .await
    .unwrap();
    assert_eq!(
        replay::claim(&mut tx, keys, &user, "slow-0001", "h1", now)
            .await
            .unwrap(),
        Claim::Answered {
            status: 201,
            content_type: "application/json".into(),
            body: "{\"id\":\"x\"}".into()
        }
    );
    // A day later the key is free again; housekeeping drops what expired.
    let later = now + replay::TTL_MS + 1;
    assert_eq!(
        replay::claim(&mut tx, keys, &user, "slow-0001", "h2", later)
            .await
            .unwrap(),
        Claim::New
    );
    replay::claim(&mut tx, keys, &user, "slow-0002", "h3", now)
        .await
        .unwrap();
    assert_eq!(replay::purge(&mut tx, later).await.unwrap(), 1);
    tx.commit().await.unwrap();

    // Through the API: a retry while the first request (same method, path and body) is still
    // running answers 409; the same key on another request 422.
    let org = serde_json::json!({"name": "并发机构", "kind": "agency", "region_code": "430203"});
    let hash = {
        use sha2::{Digest, Sha256};
        let mut d = Sha256::new();
        d.update(format!("POST /api/v1/organizations\n{org}"));
        hex::encode(d.finalize())
    };
    let mut tx = app.state.db.begin().await.unwrap();
    replay::claim(&mut tx, keys, &user, "busy-0001", &hash, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let res = post_keyed(
        &mut admin,
        "/api/v1/organizations",
        org.clone(),
        "busy-0001",
    )
    .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert_eq!(res.json()["code"], "idempotency.in_progress");
    let other =
        serde_json::json!({"name": "并发机构二", "kind": "agency", "region_code": "430203"});
    let res = post_keyed(&mut admin, "/api/v1/organizations", other, "busy-0001").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(
        fixtures::count(
            &app,
            "SELECT COUNT(*) FROM organizations WHERE name LIKE '并发机构%'"
        )
        .await,
        0
    );
});
