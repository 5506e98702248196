//! SQLite's page caches come from the options, per pool, and bulk work gets its own small pool
//! that never makes a caller wait behind another import (issue 20 item 3: the server's memory).

use std::time::{Duration, Instant};

use shegong_store::{Conn, Db, DbOptions, SqliteCaches, testing};

async fn cache_size(c: &mut Conn) -> i64 {
    let (n,): (i64,) = sqlx::query_as("PRAGMA cache_size")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sqlite_pool_gets_its_cache_and_bulk_reads_never_wait_for_a_busy_bulk_pool() {
    let made = testing::sqlite().await;
    let db = Db::open(&DbOptions {
        caches: SqliteCaches {
            reader_mib: 3,
            writer_mib: 5,
            bulk_mib: 7,
        },
        ..DbOptions::new(&made.url)
    })
    .await
    .unwrap();
    let mut w = db.begin().await.unwrap();
    assert_eq!(cache_size(&mut w).await, -5 * 1024);
    drop(w);
    let mut r = db.read().await.unwrap();
    assert_eq!(cache_size(&mut r).await, -3 * 1024);
    drop(r);
    let mut first = db.read_bulk().await.unwrap();
    let mut second = db.read_bulk().await.unwrap();
    assert_eq!(cache_size(&mut first).await, -7 * 1024);
    assert_eq!(cache_size(&mut second).await, -7 * 1024);
    // Both bulk connections taken (two imports at once): a third is an ordinary reader, soon.
    let started = Instant::now();
    let mut third = db.read_bulk().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(cache_size(&mut third).await, -3 * 1024);
    // Bulk connections are read-only, like the read pool's.
    assert!(
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut *first)
            .await
            .is_err()
    );
    // `close` waits for every connection to come back.
    drop((first, second, third));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bulk_reads_see_the_primary() {
    let made = testing::postgres().await;
    let count = "SELECT COUNT(*) FROM schema_migrations";
    let (before,): (i64,) = sqlx::query_as(count)
        .fetch_one(&mut *made.db.read_bulk().await.unwrap())
        .await
        .unwrap();
    let mut tx = made.db.begin().await.unwrap();
    sqlx::query("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (after,): (i64,) = sqlx::query_as(count)
        .fetch_one(&mut *made.db.read_bulk().await.unwrap())
        .await
        .unwrap();
    assert_eq!(after, before - 1);
}
