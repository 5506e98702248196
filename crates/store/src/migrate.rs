//! Plain-SQL migrations, one tree per backend with identical version numbers. Applied at start
//! and by `shegong migrate`; an applied migration whose text changed is an error.
//!
//! Instances starting together migrate one at a time: each migrating transaction first takes a
//! lock (PostgreSQL: a transaction-level advisory lock; SQLite: the database's write lock), then
//! checks whether the migration is already recorded. The instance that waited finds it recorded
//! and skips it.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Executor};

use crate::{Backend, Db, StoreError, StoreResult, now_millis};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")),
        }),*]
    };
}

pub const SQLITE: &[Migration] = migrations!("sqlite": 1 "0001_core", 2 "0002_stations", 3 "0003_workforce", 4 "0004_people", 5 "0005_stats", 6 "0006_list_order", 7 "0007_stat_reads", 8 "0008_twofactor", 9 "0009_people_scope", 10 "0010_audit_sm3", 11 "0011_import_mapping", 12 "0012_purchase", 13 "0013_purchase_items", 14 "0014_deliverables", 15 "0015_evaluations", 16 "0016_resident_lookup", 17 "0017_purchase_execution", 18 "0018_purchase_projects", 19 "0019_line_tiers", 20 "0020_volunteers", 21 "0021_timebank", 22 "0022_volunteer_activities", 23 "0023_charity", 24 "0024_timebank_day", 25 "0025_service_volunteer", 26 "0026_disbursement_service", 27 "0027_volunteer_stars", 28 "0028_receipt_unique", 29 "0029_hotline", 31 "0031_emergency", 32 "0032_service_incident", 33 "0033_community_issues", 34 "0034_issue_days", 35 "0035_matching", 37 "0037_inspection_void", 39 "0039_resident_writes", 40 "0040_case_outcome_code", 41 "0041_rectification_history", 43 "0043_list_sorts", 45 "0045_reports", 48 "0048_notifications", 51 "0051_more_list_sorts", 52 "0052_audit_action", 56 "0056_api_replays", 57 "0057_visit_evidence", 58 "0058_visit_confirmation", 61 "0061_shared_state", 63 "0063_list_reads", 64 "0064_filtered_lists", 65 "0065_import_shown", 66 "0066_name_chars", 67 "0067_service_list_cover");
pub const POSTGRES: &[Migration] = migrations!("postgres": 1 "0001_core", 2 "0002_stations", 3 "0003_workforce", 4 "0004_people", 5 "0005_stats", 6 "0006_list_order", 7 "0007_stat_reads", 8 "0008_twofactor", 9 "0009_people_scope", 10 "0010_audit_sm3", 11 "0011_import_mapping", 12 "0012_purchase", 13 "0013_purchase_items", 14 "0014_deliverables", 15 "0015_evaluations", 16 "0016_resident_lookup", 17 "0017_purchase_execution", 18 "0018_purchase_projects", 19 "0019_line_tiers", 20 "0020_volunteers", 21 "0021_timebank", 22 "0022_volunteer_activities", 23 "0023_charity", 24 "0024_timebank_day", 25 "0025_service_volunteer", 26 "0026_disbursement_service", 27 "0027_volunteer_stars", 28 "0028_receipt_unique", 29 "0029_hotline", 31 "0031_emergency", 32 "0032_service_incident", 33 "0033_community_issues", 34 "0034_issue_days", 35 "0035_matching", 37 "0037_inspection_void", 39 "0039_resident_writes", 40 "0040_case_outcome_code", 41 "0041_rectification_history", 43 "0043_list_sorts", 45 "0045_reports", 48 "0048_notifications", 51 "0051_more_list_sorts", 52 "0052_audit_action", 56 "0056_api_replays", 57 "0057_visit_evidence", 58 "0058_visit_confirmation", 61 "0061_shared_state", 63 "0063_list_reads", 64 "0064_filtered_lists", 65 "0065_import_shown", 66 "0066_name_chars", 67 "0067_service_list_cover");

pub fn for_backend(b: Backend) -> &'static [Migration] {
    match b {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

pub fn latest_version() -> i64 {
    SQLITE.last().map(|m| m.version).unwrap_or(0)
}

/// Wait until no other instance is migrating; held until the transaction ends (commit or
/// rollback: an error or a crash never leaves it behind).
async fn lock(conn: &mut AnyConnection, backend: Backend) -> StoreResult<()> {
    sqlx::query(crate::dialect::migration_lock(backend))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Apply every pending migration, each in its own transaction. Returns the versions applied.
pub async fn run(db: &Db) -> StoreResult<Vec<i64>> {
    let backend = db.backend();
    let mut tx = db.begin().await?;
    if backend == Backend::Postgres {
        // Two concurrent CREATE TABLE IF NOT EXISTS can both try to create it on PostgreSQL.
        lock(&mut tx, backend).await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
         name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    tx.commit().await?;

    let mut applied_now = Vec::new();
    for m in for_backend(backend) {
        let mut tx = db.begin().await?;
        lock(&mut tx, backend).await?;
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT checksum FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        match existing {
            Some((sum,)) if sum == checksum(m.sql) => continue,
            Some(_) => {
                return Err(StoreError::Db(sqlx::Error::Configuration(
                    format!(
                        "migration {} ({}) was changed after it was applied",
                        m.version, m.name
                    )
                    .into(),
                )));
            }
            None => {}
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(checksum(m.sql))
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied_now.push(m.version);
    }
    Ok(applied_now)
}

/// The highest applied version (0 when none), for readiness checks.
pub async fn current_version(db: &Db) -> StoreResult<i64> {
    let mut c = db.read().await?;
    let v: Result<(Option<i64>,), _> = sqlx::query_as("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *c)
        .await;
    Ok(v.ok().and_then(|(v,)| v).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions_on_disk(dir: &str) -> Vec<(i64, String)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/");
        let mut v: Vec<(i64, String)> = std::fs::read_dir(format!("{path}{dir}"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .map(|f| {
                let stem = f.trim_end_matches(".sql").to_owned();
                (stem[..4].parse().unwrap(), stem)
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn both_trees_have_the_same_versions_and_all_are_embedded() {
        let sqlite = versions_on_disk("sqlite");
        let postgres = versions_on_disk("postgres");
        assert_eq!(sqlite, postgres, "migration trees differ");
        let embedded = |ms: &[Migration]| -> Vec<(i64, String)> {
            ms.iter().map(|m| (m.version, m.name.to_owned())).collect()
        };
        assert_eq!(
            embedded(SQLITE),
            sqlite,
            "a sqlite migration is not embedded"
        );
        assert_eq!(
            embedded(POSTGRES),
            postgres,
            "a postgres migration is not embedded"
        );
    }
}
