//! Which stations a scope reaches: the condition every station-keyed read shares, and a station's
//! place (id and region) for the areas that only need to know it is in scope. Neutral on purpose:
//! stations, indicators, construction, inspections, coverage, staff and residents use it, and it
//! uses none of them, so they form no cycle.

use shegong_domain::Scope;
use sqlx::AnyConnection;

use crate::StoreResult;
use crate::sql::Sql;

/// `select` (naming the stations table `s`) limited to `scope`: its region range and, when the
/// scope names an organisation, the stations that organisation operates.
pub(crate) fn scoped_from(select: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    q.region_range("s.region_code", scope);
    if let Some(org) = scope.org {
        q.push(" AND s.operator_org_id = ").bind(org.to_string());
    }
    q
}

/// A station as other records see it: which one, and where.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StationPlace {
    pub id: String,
    pub region_code: String,
}

/// Station `id` if `scope` reaches it; `NotFound` otherwise (as every scoped read answers).
pub async fn place(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<StationPlace> {
    let mut q = scoped_from("SELECT s.id, s.region_code FROM stations s", scope);
    q.push(" AND s.id = ").bind(id);
    q.fetch_one(conn).await
}
