//! Issue 20 item 5: reads of GET requests go to the read replica, writes and the reads of a
//! client that has just written go to the primary. The "replica" here is a second database that
//! never receives the writes — a replica infinitely far behind — so where a read went shows.

use serde_json::json;
use shegong_store::{Db, DbOptions};

use super::fixtures::send_json;
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let mut primary = shegong_store::testing::postgres().await;
    let behind = shegong_store::testing::postgres().await;
    primary.db = Db::connect(&DbOptions {
        replica_url: Some(behind.url.clone()),
        ..DbOptions::new(&primary.url)
    })
    .await
    .unwrap();
    let config = Config {
        twofactor_for_administrators: false,
        read_replica_url: behind.url.clone(),
        ..Config::default()
    };
    let app = TestApp::with_config(primary, config).await;
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/residents",
        json!({
            "name": "张建国", "birth_date": "1950-01-01", "region": "430202001",
            "risk_tier": "general", "legal_basis": "statutory_duty", "confirm_duplicates": true,
        }),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    assert!(
        admin.cookies.contains_key("sg_rw"),
        "a write marks the client as having written"
    );
    // Read-your-writes: just after the write, the record is read from the primary.
    let path = format!("/api/v1/residents/{id}");
    let res = admin.get(&path).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // So is the export, streamed page by page from a task of its own.
    let sheet = xlsx_text(&admin.get("/residents/export.xlsx").await.bytes);
    assert!(sheet.contains("张建国"), "{sheet}");
    // Past the window the same client reads the replica, which does not have it yet; the session
    // itself is still found (sessions are always read from the primary).
    app.advance_minutes(1);
    let res = admin.get(&path).await;
    assert_eq!(
        res.status,
        StatusCode::NOT_FOUND,
        "read from the replica: {}",
        res.text
    );
    let res = admin.get("/api/v1/residents").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["total"], 0, "the list came from the replica");
    let sheet = xlsx_text(&admin.get("/residents/export.xlsx").await.bytes);
    assert!(
        !sheet.contains("张建国"),
        "the export came from the replica: {sheet}"
    );
    // A write is never sent to the replica.
    let res = send_json(
        &mut admin,
        Method::PUT,
        &path,
        json!({
            "name": "张建华", "birth_date": "1950-01-01", "region": "430202001",
            "risk_tier": "general", "legal_basis": "statutory_duty",
        }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = admin.get(&path).await;
    assert_eq!(res.json()["name"], "张建华", "read back after the write");
    drop(behind);
}

#[test]
fn a_replica_is_for_postgresql_only() {
    let config = |db: &str, replica: &str| Config {
        database_url: db.into(),
        read_replica_url: replica.into(),
        ..Config::default()
    };
    assert!(config("sqlite://x.db", "").validate().is_ok());
    assert!(
        config("postgres://a/b", "postgres://c/b")
            .validate()
            .is_ok(),
        "a PostgreSQL replica of a PostgreSQL primary"
    );
    assert!(
        config("sqlite://x.db", "postgres://c/b")
            .validate()
            .is_err()
    );
    assert!(
        config("postgres://a/b", "sqlite://y.db")
            .validate()
            .is_err()
    );
}
