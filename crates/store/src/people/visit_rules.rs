//! Visit rules (how often a tier and category are visited, per region) and the visit schedule
//! kept on each resident, so due lists are index reads; the due board's counts.

use chrono::{Months, NaiveDate};
use serde::Serialize;
use shegong_domain::people::{self, RiskTier, VisitMethod, VisitRule};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreError, StoreResult, new_id, statistics::counters};

use super::residents::Viewer;

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: String,
    region_code: String,
    tier: String,
    category: String,
    interval_days: i64,
    methods: String,
    updated_by: String,
    updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub region_code: String,
    pub tier: String,
    pub category: String,
    pub interval_days: i64,
    pub methods: Vec<String>,
    pub updated_by: String,
    pub updated_at: i64,
}

impl From<RuleRow> for Rule {
    fn from(r: RuleRow) -> Self {
        Rule {
            id: r.id,
            region_code: r.region_code,
            tier: r.tier,
            category: r.category,
            interval_days: r.interval_days,
            methods: r
                .methods
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

impl Rule {
    pub(crate) fn domain(&self) -> Option<VisitRule> {
        Some(VisitRule {
            region_code: self.region_code.clone(),
            tier: RiskTier::parse(&self.tier).ok()?,
            category: Some(self.category.clone()).filter(|c| !c.is_empty()),
            interval_days: self.interval_days,
            methods: self
                .methods
                .iter()
                .filter_map(|m| VisitMethod::parse(m).ok())
                .collect(),
        })
    }
}

const RULE_COLUMNS: &str = "SELECT id, region_code, tier, category, interval_days, methods, updated_by, updated_at FROM visit_rules";

/// The rules that apply in `region`: its own and its ancestors', most specific region first.
pub async fn rules_for(conn: &mut AnyConnection, region: &str) -> StoreResult<Vec<Rule>> {
    let mut q = Sql::new(RULE_COLUMNS);
    q.push(" WHERE region_code = ''");
    if let Ok(code) = RegionCode::parse(region) {
        for c in code.lineage() {
            q.push(" OR region_code = ").bind(c.to_string());
        }
    }
    q.push(" ORDER BY LENGTH(region_code) DESC, tier, category");
    let rows: Vec<RuleRow> = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(Rule::from).collect())
}

/// Rules defined in `scope` (its own region, above it and below it).
pub async fn rules_in(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Rule>> {
    let mut rules = rules_for(conn, scope.prefix()).await?;
    let mut q = Sql::new(RULE_COLUMNS);
    q.push(" WHERE region_code <> ")
        .bind(scope.prefix().to_string())
        .push(" AND ");
    q.region_range("region_code", scope);
    q.push(" AND region_code <> '' ORDER BY region_code, tier, category");
    let rows: Vec<RuleRow> = q.fetch_all(conn).await?;
    rules.extend(rows.into_iter().map(Rule::from));
    Ok(rules)
}

/// Set (insert or replace) the rule for `region` × `tier` × `category`; re-schedules the
/// residents it may affect.
#[allow(clippy::too_many_arguments)]
pub async fn set_rule(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    tier: RiskTier,
    category: &str,
    interval_days: i64,
    methods: &[VisitMethod],
    by: &str,
    now: Millis,
) -> StoreResult<Option<Rule>> {
    if !scope.contains_region(region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    if !(1..=366).contains(&interval_days) {
        return Err(FieldError::new("interval_days", "visit.interval_range").into());
    }
    if methods.is_empty() {
        return Err(FieldError::new("methods", "form.required").into());
    }
    let methods = methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let before = rules_for(conn, region.as_str())
        .await?
        .into_iter()
        .find(|r| {
            r.region_code == region.as_str() && r.tier == tier.as_str() && r.category == category
        });
    Sql::new("DELETE FROM visit_rules WHERE region_code = ")
        .bind(region.as_str())
        .push(" AND tier = ")
        .bind(tier.as_str())
        .push(" AND category = ")
        .bind(category)
        .execute(conn)
        .await?;
    Sql::new("INSERT INTO visit_rules (id, region_code, tier, category, interval_days, methods, updated_by, updated_at) VALUES (")
        .bind(new_id()).push(", ").bind(region.as_str()).push(", ").bind(tier.as_str()).push(", ").bind(category).push(", ")
        .bind(interval_days).push(", ").bind(methods).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    // (Status wrapped, as in `likely_duplicates`: the region's index, not the list's.)
    let mut q = Sql::new(
        "SELECT id FROM residents r WHERE COALESCE(r.status, '') = 'active' AND r.risk_tier = ",
    );
    q.bind(tier.as_str()).push(" AND ");
    q.region_range("r.region_code", &Scope::region(region.clone()));
    let ids: Vec<(String,)> = q.fetch_all(conn).await?;
    for (id,) in ids {
        reschedule(conn, &id).await?;
    }
    Ok(before)
}

/// The schedule after a visit to `id` was recorded (the record already written), as
/// `reschedule` would leave it, in two statements instead of nine: a visit changes neither the
/// tier, the categories nor the rules, so the interval the file holds stands (every change of
/// those refreshes it), and only the last visit and the due date can move. The counters'
/// changes are added to `counted`, for the write's one counter statement.
pub async fn visit_recorded(
    conn: &mut AnyConnection,
    id: &str,
    counted: &mut counters::Changes,
) -> StoreResult<()> {
    let Some(f) = counters::schedule_facts(conn, id).await? else {
        return Err(StoreError::NotFound);
    };
    // As `refresh_schedule`: the records' latest, or the file's own when later (a migrated
    // history's last visit, kept without its records).
    let last = f.latest_record.clone().max(f.last_visit_on.clone());
    if last == f.last_visit_on {
        return Ok(());
    }
    let due = due_date(last.as_deref(), &f.registered_on, f.visit_interval_days).to_string();
    Sql::new("UPDATE residents SET last_visit_on = ")
        .bind(last.clone())
        .push(", next_visit_due = ")
        .bind(due.clone())
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    counters::schedule_moved(counted, &f, last.as_deref(), &due);
    Ok(())
}

/// `refresh_schedule` for a write that does not otherwise change the resident (a visit, a
/// rule): the counters follow the new due date and last visit in the same transaction.
pub async fn reschedule(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    let counted = counters::contribution(conn, &[counters::Subject::Resident(id)]).await?;
    refresh_schedule(conn, id).await?;
    counters::changed(conn, &[counters::Subject::Resident(id)], counted).await
}

/// Recompute a resident's visit interval and next due date from the rules, their tier and
/// current categories, and their last visit. Called by every write that can change them, inside
/// its own before-and-after of the resident's counters (or through `reschedule`).
pub(super) async fn refresh_schedule(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    #[derive(sqlx::FromRow)]
    struct S {
        region_code: String,
        risk_tier: String,
        registered_on: String,
        last_visit_on: Option<String>,
    }
    let s: S = Sql::new(
        "SELECT region_code, risk_tier, registered_on, last_visit_on FROM residents WHERE id = ",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    let tier = RiskTier::parse(&s.risk_tier).map_err(StoreError::Invalid)?;
    // Two index lookups (the person's own records, the records they took part in): as one `OR`
    // with a subquery PostgreSQL scans every service record.
    let last: Option<(Option<String>,)> = Sql::new(
        "SELECT MAX(d) FROM (SELECT MAX(served_on) AS d FROM services WHERE kind = 'visit' AND resident_id = ",
    )
    .bind(id)
    .push(" UNION ALL SELECT MAX(s.served_on) AS d FROM service_participants p JOIN services s ON s.id = p.service_id \
           WHERE s.kind = 'visit' AND p.resident_id = ")
    .bind(id)
    .push(") t")
    .fetch_optional(conn)
    .await?;
    let last_visit = last.and_then(|l| l.0).max(s.last_visit_on.clone());
    let categories: Vec<(String,)> = Sql::new("SELECT DISTINCT category FROM resident_memberships WHERE valid_to IS NULL AND resident_id = ")
        .bind(id).fetch_all(conn).await?;
    let categories: Vec<String> = categories.into_iter().map(|c| c.0).collect();
    let rules: Vec<VisitRule> = rules_for(conn, &s.region_code)
        .await?
        .iter()
        .filter_map(Rule::domain)
        .collect();
    let interval = people::applicable_rule(&rules, tier, &categories)
        .map_or(people::default_interval(tier), |r| r.interval_days);
    let due = due_date(last_visit.as_deref(), &s.registered_on, interval);
    Sql::new("UPDATE residents SET last_visit_on = ")
        .bind(last_visit)
        .push(", visit_interval_days = ")
        .bind(interval)
        .push(", next_visit_due = ")
        .bind(due.to_string())
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The next visit due date from the stored dates (ISO text) and the interval.
fn due_date(last_visit: Option<&str>, registered_on: &str, interval_days: i64) -> NaiveDate {
    let date = |t: &str| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
    let registered = date(registered_on).unwrap_or_default();
    people::next_due(last_visit.and_then(date), registered, interval_days)
}

/// Counts for the due board: overdue (due before today), due today, due within seven days.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DueCounts {
    pub overdue: i64,
    pub today: i64,
    pub week: i64,
}

pub async fn due_counts(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    worker: Option<&str>,
) -> StoreResult<DueCounts> {
    let today = viewer.today.to_string();
    let week = (viewer.today + chrono::Duration::days(7)).to_string();
    let mut q = Sql::new("SELECT COALESCE(SUM(CASE WHEN r.next_visit_due < ");
    q.bind(today.clone()).push(" THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN r.next_visit_due = ").bind(today.clone())
        .push(" THEN 1 ELSE 0 END), 0), COUNT(*) FROM residents r WHERE r.status = 'active' AND r.next_visit_due <= ").bind(week);
    if let Some(w) = worker {
        q.push(" AND r.worker_user_id = ").bind(w);
    }
    viewer.restrict(&mut q);
    let (overdue, today, week): (i64, i64, i64) = q.fetch_one(conn).await?;
    Ok(DueCounts {
        overdue,
        today,
        week,
    })
}

/// The monthly visit rate for older people in special hardship (elderly categories, 特困,
/// aged 60 or more) in `month` (`YYYY-MM`): those visited at least once, and all of them.
pub async fn elderly_visit_rate(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    month: &str,
) -> StoreResult<(i64, i64)> {
    let first = format!("{month}-01");
    let last = format!("{month}-31");
    let sixty = viewer
        .today
        .checked_sub_months(Months::new(60 * 12))
        .unwrap_or(viewer.today)
        .to_string();
    let mut q = Sql::new(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM services v WHERE v.kind = 'visit' AND v.resident_id = r.id AND v.served_on >= ",
    );
    q.bind(first.clone()).push(" AND v.served_on <= ").bind(last.clone())
        .push(") THEN 1 ELSE 0 END), 0) FROM residents r WHERE r.status = 'active' AND r.birth_date <= ").bind(sixty)
        .push(" AND EXISTS (SELECT 1 FROM resident_memberships m JOIN resident_categories c ON c.code = m.category \
               WHERE m.resident_id = r.id AND (c.grp = 'elderly' OR m.category = 'tekun') AND m.valid_from <= ").bind(last)
        .push(" AND (m.valid_to IS NULL OR m.valid_to >= ").bind(first).push("))");
    viewer.restrict(&mut q);
    let (all, visited): (i64, i64) = q.fetch_one(conn).await?;
    Ok((visited, all))
}
