//! What `shegong bench` measures against: the dashboard's figures by a grouped scan of the raw
//! tables (what a dashboard without counters would do), the database's own single-row durable
//! commit rate, and a count to check an import through the pages wrote every row.

use shegong_domain::Scope;
use sqlx::AnyConnection;

use crate::StoreResult;
use crate::sql::Sql;

/// The dashboard's main figures for `scope` by grouped scans of the raw tables: service records
/// served from `from_day` to `to_day` by month and kind, those from `from_day` on per sub-region
/// (codes of `child_len` characters), and active residents by risk tier. Returns the rows read.
pub async fn dashboard_by_scan(
    conn: &mut AnyConnection,
    scope: &Scope,
    child_len: i64,
    from_day: &str,
    to_day: &str,
) -> StoreResult<usize> {
    let mut months = Sql::new(
        "SELECT SUBSTR(served_on, 1, 7), kind, COUNT(*), CAST(SUM(person_times) AS BIGINT) FROM services WHERE ",
    );
    months
        .region_range("region_code", scope)
        .push(" AND served_on >= ")
        .bind(from_day)
        .push(" AND served_on <= ")
        .bind(to_day)
        .push(" GROUP BY SUBSTR(served_on, 1, 7), kind");
    let months = months
        .fetch_all::<(String, String, i64, Option<i64>)>(conn)
        .await?;
    // The length is cast: PostgreSQL has no SUBSTR(text, int, bigint). Grouped by position, as
    // the two placeholders of one expression would not match.
    let mut regions = Sql::new("SELECT SUBSTR(region_code, 1, CAST(");
    regions
        .bind(child_len)
        .push(" AS INTEGER)), COUNT(*) FROM services WHERE ")
        .region_range("region_code", scope)
        .push(" AND served_on >= ")
        .bind(from_day)
        .push(" GROUP BY 1");
    let regions = regions.fetch_all::<(String, i64)>(conn).await?;
    let mut tiers =
        Sql::new("SELECT risk_tier, COUNT(*) FROM residents WHERE status = 'active' AND ");
    tiers
        .region_range("region_code", scope)
        .push(" GROUP BY risk_tier");
    let tiers = tiers.fetch_all::<(String, i64)>(conn).await?;
    Ok(months.len() + regions.len() + tiers.len())
}

/// A table of its own for the raw commit-rate probe (the bench's database is a throw-away one).
pub async fn create_commit_probe(conn: &mut AnyConnection) -> StoreResult<()> {
    Sql::new("CREATE TABLE bench_commit (id TEXT PRIMARY KEY, v BIGINT NOT NULL)")
        .execute(conn)
        .await?;
    Ok(())
}

/// One row into the probe table (the caller commits it alone).
pub async fn insert_commit_probe(conn: &mut AnyConnection, id: &str, v: i64) -> StoreResult<()> {
    Sql::new("INSERT INTO bench_commit (id, v) VALUES (")
        .bind(id)
        .push(", ")
        .bind(v)
        .push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// Residents whose record was created by `created_by` (a username or a generator's name).
pub async fn count_residents_created_by(
    conn: &mut AnyConnection,
    created_by: &str,
) -> StoreResult<i64> {
    Sql::new("SELECT COUNT(*) FROM residents WHERE created_by = ")
        .bind(created_by)
        .fetch_i64(conn)
        .await
}
