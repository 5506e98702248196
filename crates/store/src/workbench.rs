//! What a home page shows beside the to-do queue (issue 17 item 3), for the roles whose work is
//! not a queue of items: a worker's visits due today and residents at high risk, and a
//! supervisor's supervisees with their overdue work. Like the queue, read from the records in
//! the viewer's scope and protection rule, so it cannot drift from them.

use serde::Serialize;
use sqlx::AnyConnection;

use crate::people::residents::{Viewer, in_scope};
use crate::sql::Sql;
use crate::{Millis, StoreResult};

/// Lines listed per panel; the count says how many there are in all.
pub const SHOWN: i64 = 10;
/// An open case untouched this long is flagged to its supervisor.
pub const STALE_CASE_DAYS: i64 = 30;

/// Some of a list: how many in all and the first [`SHOWN`].
#[derive(Debug, Clone, Serialize)]
pub struct Listed<T> {
    pub count: i64,
    pub items: Vec<T>,
}

/// A resident on a worker's home page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct ResidentLine {
    pub id: String,
    pub name: String,
    pub risk_tier: String,
    /// `YYYY-MM-DD`; none when no visit is scheduled.
    pub next_visit_due: Option<String>,
}

const RESIDENT_LINE: &str = "SELECT r.id, r.name, r.risk_tier, r.next_visit_due";

/// The viewer's own residents due for a visit today or overdue, the longest overdue first.
pub async fn visits_today(
    conn: &mut AnyConnection,
    v: &Viewer,
) -> StoreResult<Listed<ResidentLine>> {
    let from = |select: &'static str| {
        let mut q = Sql::new(select);
        q.push(" FROM residents r WHERE r.status = 'active' AND r.worker_user_id = ")
            .bind(v.user_id.clone())
            .push(" AND r.next_visit_due <= ")
            .bind(v.today.to_string());
        v.restrict(&mut q);
        q
    };
    let count: i64 = from("SELECT COUNT(*)").fetch_one::<(i64,)>(conn).await?.0;
    let mut q = from(RESIDENT_LINE);
    q.push(" ORDER BY r.next_visit_due, r.id LIMIT ")
        .bind(SHOWN);
    Ok(Listed {
        count,
        items: q.fetch_all(conn).await?,
    })
}

/// The viewer's own active residents at high risk (高风险), the soonest visit first.
pub async fn at_risk(conn: &mut AnyConnection, v: &Viewer) -> StoreResult<Listed<ResidentLine>> {
    let from = |select: &'static str| {
        let mut q = Sql::new(select);
        q.push(" FROM residents r WHERE r.status = 'active' AND r.risk_tier = 'high' AND r.worker_user_id = ")
            .bind(v.user_id.clone());
        v.restrict(&mut q);
        q
    };
    let count: i64 = from("SELECT COUNT(*)").fetch_one::<(i64,)>(conn).await?.0;
    let mut q = from(RESIDENT_LINE);
    q.push(" ORDER BY COALESCE(r.next_visit_due, '9999-12-31'), r.id LIMIT ")
        .bind(SHOWN);
    Ok(Listed {
        count,
        items: q.fetch_all(conn).await?,
    })
}

/// A worker whose open cases name the viewer as supervisor, and what of theirs is late.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct Supervisee {
    pub user_id: String,
    pub display_name: String,
    /// Their open cases naming the viewer as supervisor.
    pub open_cases: i64,
    /// Of those, untouched for [`STALE_CASE_DAYS`] days.
    pub stale_cases: i64,
    /// Their residents (in the viewer's sight) whose visit is overdue.
    pub overdue_visits: i64,
}

/// The viewer's supervisees — the workers of the open cases in scope that name the viewer as
/// supervisor — with their overdue visits and stale cases, the most overdue first.
pub async fn supervisees(
    conn: &mut AnyConnection,
    v: &Viewer,
    now: Millis,
) -> StoreResult<Vec<Supervisee>> {
    let mut q = Sql::new(
        "SELECT c.worker_user_id AS user_id, u.display_name, CAST(COUNT(*) AS BIGINT) AS open_cases, \
         CAST(SUM(CASE WHEN c.updated_at < ",
    );
    q.bind(now - STALE_CASE_DAYS * 86_400_000)
        .push(" THEN 1 ELSE 0 END) AS BIGINT) AS stale_cases, \
         (SELECT COUNT(*) FROM residents r WHERE r.status = 'active' AND r.worker_user_id = c.worker_user_id AND r.next_visit_due < ")
        .bind(v.today.to_string());
    v.restrict(&mut q);
    q.push(") AS overdue_visits FROM cases c JOIN users u ON u.id = c.worker_user_id WHERE c.stage <> 'closed' AND c.supervisor_user_id = ")
        .bind(v.user_id.clone());
    in_scope(&mut q, &v.scope, "c.region_code", "c.station_id", true);
    q.push(" GROUP BY c.worker_user_id, u.display_name ORDER BY overdue_visits DESC, stale_cases DESC, u.display_name LIMIT ")
        .bind(SHOWN * 5);
    q.fetch_all(conn).await
}
