//! Two instances starting together on a fresh database: both migrate without an error, each
//! migration is applied by one of them and recorded once. Plain tests rather than `db_test!`:
//! they need an empty database, not the migrated template.

use std::str::FromStr;

use shegong_store::{Db, DbOptions, migrate};
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Executor};

async fn two_instances_migrate_at_once(url: &str) {
    let a = Db::connect(&DbOptions::new(url)).await.unwrap();
    let b = Db::connect(&DbOptions::new(url)).await.unwrap();
    let (by_a, by_b) = tokio::join!(migrate::run(&a), migrate::run(&b));
    let (by_a, by_b) = (by_a.unwrap(), by_b.unwrap());
    let all: Vec<i64> = migrate::for_backend(a.backend())
        .iter()
        .map(|m| m.version)
        .collect();
    let mut applied: Vec<i64> = by_a.iter().chain(&by_b).copied().collect();
    applied.sort_unstable();
    assert_eq!(
        applied, all,
        "each migration applied by exactly one instance"
    );
    let mut c = a.read().await.unwrap();
    let recorded: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, COUNT(*) FROM schema_migrations GROUP BY version ORDER BY version",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    drop(c);
    assert_eq!(
        recorded,
        all.iter().map(|v| (*v, 1)).collect::<Vec<_>>(),
        "each migration recorded once"
    );
    assert_eq!(
        migrate::current_version(&b).await.unwrap(),
        migrate::latest_version()
    );
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = std::env::temp_dir()
        .join("shegong-tests")
        .join(format!("migrate-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    two_instances_migrate_at_once(&format!("sqlite://{}/fresh.db", dir.display())).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let admin = shegong_store::testing::admin_url();
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnectOptions::from_str(&admin)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let name = format!("shegong_m_{}", uuid::Uuid::now_v7().simple());
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    // The admin URL with the new database's name in place of its own.
    let (base, query) = admin.split_once('?').unwrap_or((&admin, ""));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    two_instances_migrate_at_once(&format!("{root}/{name}{query}")).await;
    conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
        .await
        .unwrap();
}
