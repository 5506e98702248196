//! The SQLite and PostgreSQL migration trees define the same schema: after migrating both, the
//! tables, their columns and the (named) indexes match by name. Types differ by dialect and are
//! not compared; indexes that back a primary key or unique constraint are left out (SQLite names
//! them `sqlite_autoindex_*`, PostgreSQL after the constraint).

use std::collections::BTreeSet;

use shegong_store::testing;

type Names = BTreeSet<String>;

async fn sqlite_schema(db: &shegong_store::Db) -> (Names, Names, Names) {
    let mut c = db.read().await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT tbl_name, name FROM sqlite_master \
         WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    (
        tables.into_iter().map(|(t,)| t).collect(),
        columns
            .into_iter()
            .map(|(t, c)| format!("{t}.{c}"))
            .collect(),
        indexes
            .into_iter()
            .map(|(t, i)| format!("{t}.{i}"))
            .collect(),
    )
}

async fn postgres_schema(db: &shegong_store::Db) -> (Names, Names, Names) {
    let mut c = db.read().await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT tablename::text, indexname::text FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname NOT IN (SELECT conname FROM pg_constraint)",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    (
        tables.into_iter().map(|(t,)| t).collect(),
        columns
            .into_iter()
            .map(|(t, c)| format!("{t}.{c}"))
            .collect(),
        indexes
            .into_iter()
            .map(|(t, i)| format!("{t}.{i}"))
            .collect(),
    )
}

/// What one side has and the other lacks, for a readable failure.
fn difference(what: &str, sqlite: &Names, postgres: &Names) -> Option<String> {
    let only_sqlite: Vec<&String> = sqlite.difference(postgres).collect();
    let only_postgres: Vec<&String> = postgres.difference(sqlite).collect();
    if only_sqlite.is_empty() && only_postgres.is_empty() {
        return None;
    }
    Some(format!(
        "{what}: only in SQLite {only_sqlite:?}; only in PostgreSQL {only_postgres:?}"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_define_the_same_schema() {
    let lite = testing::sqlite().await;
    let pg = testing::postgres().await;
    let (lt, lc, li) = sqlite_schema(&lite).await;
    let (pt, pc, pi) = postgres_schema(&pg).await;
    assert!(lt.len() > 10, "{lt:?}");
    assert!(!li.is_empty());
    let problems: Vec<String> = [
        difference("tables", &lt, &pt),
        difference("columns", &lc, &pc),
        difference("indexes", &li, &pi),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
