//! What the home page shows of an account's scope in numbers.

use shegong_domain::{RegionLevel, Scope};
use sqlx::AnyConnection;

use crate::StoreResult;
use crate::sql::Sql;

/// Regions of one level in the scope's subtree: a cheap range count on the primary key.
pub async fn regions_in_scope(
    conn: &mut AnyConnection,
    scope: &Scope,
    level: RegionLevel,
) -> StoreResult<i64> {
    let mut q = Sql::new("SELECT COUNT(*) FROM regions WHERE ");
    q.region_range("code", scope)
        .push(" AND level = ")
        .bind(level.as_str());
    q.fetch_i64(conn).await
}
