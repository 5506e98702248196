//! Backup is SQLite's (PostgreSQL uses pg_dump): a snapshot taken while writers keep writing
//! restores to a database that passes integrity checks and verifies its audit chain.

use shegong_store::admin::audit::{self, Actor, Event};
use shegong_store::{DbOptions, testing};

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
        drop(c);
        restored.close().await;
    }
    std::fs::remove_dir_all(dir).unwrap();
}
