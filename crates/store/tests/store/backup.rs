//! Backup is SQLite's (PostgreSQL uses pg_dump): a snapshot taken while writers keep writing
//! restores to a database that passes integrity checks and verifies its audit chain, holds a
//! prefix of the writes, and a snapshot taken afterwards has every table's row count.

use std::collections::BTreeMap;

use shegong_store::admin::audit::{self, Actor, Event};
use shegong_store::{Conn, DbOptions, testing};

/// Rows per table, every table in the database.
async fn row_counts(c: &mut Conn) -> BTreeMap<String, i64> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let mut counts = BTreeMap::new();
    for (table,) in tables {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM \"{table}\""
        )))
        .fetch_one(&mut *c)
        .await
        .unwrap();
        counts.insert(table, n);
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_concurrent_writes_is_consistent() {
    let db = testing::sqlite().await;
    let writer = {
        let db = db.db.clone();
        tokio::spawn(async move {
            for i in 0..300i64 {
                let mut tx = db.begin().await.unwrap();
                audit::record(
                    &mut tx,
                    db.backend(),
                    &Actor::system("w"),
                    Event::new("create", "x", Some(i.to_string())).region("43"),
                    i,
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        })
    };
    let dir = std::env::temp_dir().join(format!("shegong-backup-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut snapshots = Vec::new();
    for n in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let path = dir.join(format!("b{n}.db"));
        db.backup_sqlite(&path).await.unwrap();
        snapshots.push(path);
    }
    writer.await.unwrap();
    // Taken with no writer running: the restored copy must match the source table by table.
    let quiet = dir.join("quiet.db");
    db.backup_sqlite(&quiet).await.unwrap();
    let source_counts = {
        let mut c = db.read().await.unwrap();
        row_counts(&mut c).await
    };
    assert!(source_counts.len() > 10, "{source_counts:?}");
    let audit_rows = source_counts.get("audit_log").copied().unwrap_or_default();
    assert!(audit_rows >= 300, "{source_counts:?}");
    let mut previous = 0;
    for path in snapshots {
        let restored =
            shegong_store::Db::open(&DbOptions::new(format!("sqlite://{}", path.display())))
                .await
                .unwrap();
        let mut c = restored.read().await.unwrap();
        let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!(check, "ok");
        let v = audit::verify(&mut c).await.unwrap();
        assert!(v.ok(), "{:?}", v.breaks);
        // Each snapshot holds the writes committed before it, never more than the source.
        let counts = row_counts(&mut c).await;
        assert_eq!(
            counts.keys().collect::<Vec<_>>(),
            source_counts.keys().collect::<Vec<_>>()
        );
        let audited = counts.get("audit_log").copied().unwrap_or_default();
        assert!(
            (previous..=audit_rows).contains(&audited),
            "{previous} <= {audited} <= {audit_rows}"
        );
        previous = audited;
        drop(c);
        restored.close().await;
    }
    let restored =
        shegong_store::Db::open(&DbOptions::new(format!("sqlite://{}", quiet.display())))
            .await
            .unwrap();
    {
        let mut c = restored.read().await.unwrap();
        assert_eq!(row_counts(&mut c).await, source_counts);
    }
    restored.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}
