//! Construction (建设清单): annual targets per region and monthly progress reports per station.
//! A station still planned or under construction owes a report for every month; last month's
//! report is overdue once the `due_day` of this month has passed.

use serde::Serialize;
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope::{self, scoped_from};
use crate::sql::Sql;
use crate::{Millis, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Target {
    pub region_code: String,
    pub region_path: String,
    pub year: i64,
    pub target: i64,
}

pub async fn set_target(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &str,
    year: i64,
    target: i64,
    now: Millis,
) -> StoreResult<Option<i64>> {
    if !scope.contains_region(region) || region.is_empty() || scope.org.is_some() {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    if !(2000..=2100).contains(&year) {
        return Err(FieldError::new("year", "station.year_invalid").into());
    }
    if !(0..=100_000).contains(&target) {
        return Err(FieldError::new("target", "construction.target_invalid").into());
    }
    let before: Option<(i64,)> =
        Sql::new("SELECT target FROM construction_targets WHERE region_code = ")
            .bind(region)
            .push(" AND year = ")
            .bind(year)
            .fetch_optional(conn)
            .await?;
    Sql::new("INSERT INTO construction_targets (id, region_code, year, target, updated_at) VALUES (")
        .bind(new_id()).push(", ").bind(region).push(", ").bind(year).push(", ").bind(target).push(", ").bind(now)
        .push(") ON CONFLICT (region_code, year) DO UPDATE SET target = excluded.target, updated_at = excluded.updated_at")
        .execute(conn).await?;
    Ok(before.map(|(t,)| t))
}

pub async fn targets(
    conn: &mut AnyConnection,
    scope: &Scope,
    year: i64,
) -> StoreResult<Vec<Target>> {
    let mut q = Sql::new(
        "SELECT t.region_code, r.path_names AS region_path, t.year, t.target FROM construction_targets t \
                          JOIN regions r ON r.code = t.region_code WHERE ",
    );
    q.region_range("t.region_code", scope);
    q.push(" AND t.year = ")
        .bind(year)
        .push(" ORDER BY t.region_code");
    q.fetch_all(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Report {
    pub id: String,
    pub station_id: String,
    pub month: i64,
    pub progress_pct: i64,
    pub milestones: String,
    pub problems: String,
    pub reported_by: String,
    pub reported_at: i64,
}

const REPORT: &str = "SELECT id, station_id, month, progress_pct, milestones, problems, reported_by, reported_at FROM progress_reports";

#[derive(Debug, Clone)]
pub struct ReportInput {
    pub month: i64,
    pub progress_pct: i64,
    pub milestones: String,
    pub problems: String,
}

/// File (or correct) a station's report for a month. Returns the report id.
pub async fn report(
    conn: &mut AnyConnection,
    scope: &Scope,
    station_id: &str,
    input: &ReportInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let st = station_scope::place(conn, scope, station_id).await?;
    if !(0..=100).contains(&input.progress_pct) {
        return Err(FieldError::new("progress_pct", "construction.progress_invalid").into());
    }
    if input.milestones.chars().count() > 2000 || input.problems.chars().count() > 2000 {
        return Err(FieldError::new("milestones", "construction.text_too_long").into());
    }
    let existing: Option<(String,)> =
        Sql::new("SELECT id FROM progress_reports WHERE station_id = ")
            .bind(station_id)
            .push(" AND month = ")
            .bind(input.month)
            .fetch_optional(conn)
            .await?;
    let id = existing.map(|(i,)| i).unwrap_or_else(new_id);
    Sql::new("INSERT INTO progress_reports (id, station_id, region_code, month, progress_pct, milestones, problems, reported_by, reported_at) VALUES (")
        .bind(&id).push(", ").bind(station_id).push(", ").bind(&st.region_code).push(", ").bind(input.month).push(", ")
        .bind(input.progress_pct).push(", ").bind(input.milestones.trim()).push(", ").bind(input.problems.trim()).push(", ")
        .bind(by).push(", ").bind(now)
        .push(") ON CONFLICT (station_id, month) DO UPDATE SET progress_pct = excluded.progress_pct, milestones = excluded.milestones, \
               problems = excluded.problems, reported_by = excluded.reported_by, reported_at = excluded.reported_at")
        .execute(conn).await?;
    Ok(id)
}

pub async fn reports(
    conn: &mut AnyConnection,
    scope: &Scope,
    station_id: &str,
) -> StoreResult<Vec<Report>> {
    station_scope::place(conn, scope, station_id).await?;
    Sql::new(REPORT)
        .push(" WHERE station_id = ")
        .bind(station_id)
        .push(" ORDER BY month DESC")
        .fetch_all(conn)
        .await
}

/// The month before `month` (YYYYMM).
pub fn previous_month(month: i64) -> i64 {
    let (y, m) = (month / 100, month % 100);
    if m == 1 {
        (y - 1) * 100 + 12
    } else {
        y * 100 + m - 1
    }
}

/// Which month's report is due as of `today` (YYYYMMDD-ish parts): last month's, once the due
/// day of this month has passed; otherwise the month before that.
pub fn month_due(year: i64, month: i64, day: i64, due_day: i64) -> i64 {
    let this = year * 100 + month;
    if day > due_day {
        previous_month(this)
    } else {
        previous_month(previous_month(this))
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Overdue {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub region_path: String,
    pub status: String,
    pub last_month: Option<i64>,
}

/// Stations in scope still being built whose report for `due_month` is missing.
pub async fn overdue(
    conn: &mut AnyConnection,
    scope: &Scope,
    due_month: i64,
) -> StoreResult<Vec<Overdue>> {
    let mut q = scoped_from(
        "SELECT s.id, s.name, s.region_code, r.path_names AS region_path, s.status, \
         (SELECT MAX(p.month) FROM progress_reports p WHERE p.station_id = s.id) AS last_month \
         FROM stations s JOIN regions r ON r.code = s.region_code",
        scope,
    );
    q.push(" AND s.status IN ('planned', 'under_construction') AND NOT EXISTS (SELECT 1 FROM progress_reports p WHERE p.station_id = s.id AND p.month >= ")
        .bind(due_month)
        .push(") ORDER BY s.region_code, s.name");
    q.fetch_all(conn).await
}
