//! SQLite's page caches share one budget for the whole process (`db.rs`, `SQLITE_MEMORY`): the
//! writer sets it when it connects, and every reader opened after it works within it.

use shegong_store::testing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqlite_connection_works_within_one_memory_budget() {
    let db = testing::sqlite().await;
    let budget: i64 = 96 << 20;
    let mut readers = Vec::new();
    for _ in 0..3 {
        readers.push(db.db.read().await.unwrap());
    }
    for c in &mut readers {
        let (limit,): (i64,) = sqlx::query_as("PRAGMA soft_heap_limit")
            .fetch_one(&mut **c)
            .await
            .unwrap();
        assert_eq!(limit, budget);
    }
    let mut tx = db.db.begin().await.unwrap();
    let (limit,): (i64,) = sqlx::query_as("PRAGMA soft_heap_limit")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(limit, budget);
}
