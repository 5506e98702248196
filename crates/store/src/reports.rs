//! Hierarchical reporting (issue 17 item 4): report instances per template, unit (region) and
//! period, their figures computed from the records ("数出一门": the maintained counters and a few
//! named counts over the records; manual lines only where the platform has no source), the steps
//! up the region tree (the unit submits with its head's sign-off; the level above reviews,
//! approves, returns or locks), the approved snapshot, 补报 adjustments for a locked period,
//! unlock requests approved one level up (every parent report then marked stale), and the
//! timeliness and completeness of the level below.
//!
//! Visibility: a report belongs to its unit's region; a reader sees the reports of their region
//! and below. Organisation-scoped accounts (agencies) see none: reporting is the regions' line.

use serde::Serialize;
use shegong_domain::reports::{
    self as rp, Action, Figures, Frequency, Period, ReportState, check_action,
};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::statistics::counters::{self, Dim, Regions};
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

/// Largest value a manual line takes.
pub const MAX_MANUAL: i64 = 1_000_000_000;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Template {
    pub code: String,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    pub version: i64,
}

/// One line of a template: where its figure comes from.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Line {
    pub code: String,
    pub section: String,
    /// `counter`, `records` or `manual`.
    pub source: String,
    pub dim: String,
    pub counter_key: String,
    pub measure: String,
    pub span: String,
}

impl Line {
    pub fn manual(&self) -> bool {
        self.source == "manual"
    }
    /// An amount in fen (shown in yuan).
    pub fn money(&self) -> bool {
        self.measure == "value_fen"
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Report {
    pub id: String,
    pub template_code: String,
    pub region_code: String,
    pub region_name: String,
    pub region_path: String,
    pub period: String,
    #[sqlx(try_from = "String")]
    pub state: ReportState,
    pub manual: String,
    pub snapshot: Option<String>,
    pub stale: i64,
    pub return_reason: String,
    pub due_on: String,
    pub submitted_at: Option<Millis>,
    pub signed_by: Option<String>,
    pub signed_name: String,
    pub decided_at: Option<Millis>,
    pub decided_by: Option<String>,
    pub locked_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Report {
    pub fn manual_values(&self) -> Figures {
        serde_json::from_str(&self.manual).unwrap_or_default()
    }
    pub fn snapshot_values(&self) -> Option<Figures> {
        self.snapshot
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }
    /// Submitted by the end of its due day (China Standard Time).
    pub fn on_time(&self) -> bool {
        let due_end = chrono::NaiveDate::parse_from_str(&self.due_on, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis() - shegong_domain::calendar::CST_OFFSET);
        matches!((self.submitted_at, due_end), (Some(s), Some(d)) if s < d)
    }
}

const SELECT: &str = "SELECT r.id, r.template_code, r.region_code, g.name AS region_name, g.path_names AS region_path, r.period, r.state, r.manual, r.snapshot, \
    r.stale, r.return_reason, r.due_on, r.submitted_at, r.signed_by, r.signed_name, r.decided_at, r.decided_by, r.locked_at, r.created_at, r.updated_at \
    FROM reports r JOIN regions g ON g.code = r.region_code WHERE 1 = 1";

/// Who takes a step: the account's id and the name recorded with the sign-off.
pub struct Actor<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub at: Millis,
}

pub async fn templates(conn: &mut AnyConnection) -> StoreResult<Vec<Template>> {
    Sql::new("SELECT code, frequency, version FROM report_templates ORDER BY seq")
        .fetch_all(conn)
        .await
}

pub async fn template(conn: &mut AnyConnection, code: &str) -> StoreResult<Template> {
    Sql::new("SELECT code, frequency, version FROM report_templates WHERE code = ")
        .bind(code.to_owned())
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::Invalid(FieldError::new(
            "template",
            "report.template_unknown",
        )))
}

pub async fn lines(conn: &mut AnyConnection, template: &str) -> StoreResult<Vec<Line>> {
    Sql::new("SELECT code, section, source, dim, counter_key, measure, span FROM report_template_lines WHERE template_code = ")
        .bind(template.to_owned())
        .push(" ORDER BY seq")
        .fetch_all(conn)
        .await
}

fn visible(scope: &Scope, region: &str) -> bool {
    scope.org.is_none() && scope.contains_region(region)
}

/// The report of `template` for `region` and `period`, opened as an auto-filled draft when there
/// is none yet. Returns its id.
pub async fn open(
    conn: &mut AnyConnection,
    scope: &Scope,
    template_code: &str,
    region: &RegionCode,
    period: &str,
    at: Millis,
) -> StoreResult<String> {
    let t = template(conn, template_code).await?;
    let p = Period::parse(period, t.frequency)?;
    if !visible(scope, region.as_str()) {
        return Err(StoreError::NotFound);
    }
    if region.as_str().len() > 9 {
        return Err(FieldError::new("region", "report.unit_level").into());
    }
    let exists: Option<(String,)> = Sql::new("SELECT id FROM reports WHERE template_code = ")
        .bind(t.code.clone())
        .push(" AND region_code = ")
        .bind(region.as_str().to_owned())
        .push(" AND period = ")
        .bind(p.to_string())
        .fetch_optional(conn)
        .await?;
    if let Some((id,)) = exists {
        return Ok(id);
    }
    let id = new_id();
    Sql::new("INSERT INTO reports (id, template_code, region_code, period, state, due_on, created_at, updated_at) VALUES (")
        .bind(id.clone()).push(", ").bind(t.code).push(", ").bind(region.as_str().to_owned())
        .push(", ").bind(p.to_string()).push(", 'draft', ").bind(p.due_on().to_string())
        .push(", ").bind(at).push(", ").bind(at).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

/// Drafts for the period each template last ended by `today`, for every unit that reports: the
/// township of every station that is not closed and each region above it. Units that already
/// have the report are left alone, so calling it again (housekeeping does, hourly) opens nothing
/// twice. Returns how many drafts it tried to open.
pub async fn open_ended(
    conn: &mut AnyConnection,
    today: chrono::NaiveDate,
    at: Millis,
) -> StoreResult<usize> {
    let towns: Vec<(String,)> = Sql::new(
        "SELECT DISTINCT SUBSTR(region_code, 1, 9) FROM stations WHERE status <> 'closed' AND LENGTH(region_code) >= 9",
    )
    .fetch_all(conn)
    .await?;
    let mut units = std::collections::BTreeSet::new();
    for (t,) in towns {
        for len in [2, 4, 6, 9] {
            if let Some(u) = t.get(..len) {
                units.insert(u.to_owned());
            }
        }
    }
    let mut opened = 0;
    for t in templates(conn).await? {
        let p = Period::containing(today, t.frequency).prev();
        let have: std::collections::HashSet<String> =
            Sql::new("SELECT region_code FROM reports WHERE template_code = ")
                .bind(t.code.clone())
                .push(" AND period = ")
                .bind(p.to_string())
                .fetch_all::<(String,)>(conn)
                .await?
                .into_iter()
                .map(|(r,)| r)
                .collect();
        let missing: Vec<&String> = units.iter().filter(|u| !have.contains(*u)).collect();
        for chunk in missing.chunks(200) {
            let mut q = Sql::new(
                "INSERT INTO reports (id, template_code, region_code, period, state, due_on, created_at, updated_at) VALUES ",
            );
            for (i, u) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("(")
                    .bind(new_id())
                    .push(", ")
                    .bind(t.code.clone())
                    .push(", ")
                    .bind((*u).clone())
                    .push(", ")
                    .bind(p.to_string())
                    .push(", 'draft', ")
                    .bind(p.due_on().to_string())
                    .push(", ")
                    .bind(at)
                    .push(", ")
                    .bind(at)
                    .push(")");
            }
            // Another server's housekeeping may have opened some meanwhile.
            q.push(" ON CONFLICT (template_code, region_code, period) DO NOTHING");
            q.execute(conn).await?;
            opened += chunk.len();
        }
    }
    Ok(opened)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Report> {
    let r: Report = Sql::new(SELECT)
        .push(" AND r.id = ")
        .bind(id.to_owned())
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !visible(scope, &r.region_code) {
        return Err(StoreError::NotFound);
    }
    Ok(r)
}

async fn find(
    conn: &mut AnyConnection,
    template: &str,
    region: &str,
    period: &str,
) -> StoreResult<Option<Report>> {
    Sql::new(SELECT)
        .push(" AND r.template_code = ")
        .bind(template.to_owned())
        .push(" AND r.region_code = ")
        .bind(region.to_owned())
        .push(" AND r.period = ")
        .bind(period.to_owned())
        .fetch_optional(conn)
        .await
}

/// List filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub template: Option<String>,
    pub period: Option<String>,
    pub state: Option<ReportState>,
    pub region: Option<RegionCode>,
    pub stale: bool,
    /// Reports still to submit (draft or returned) due before this day (`YYYY-MM-DD`): late.
    pub overdue_on: Option<String>,
}

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    if scope.org.is_some() {
        q.push(" AND 1 = 0");
    }
    q.push(" AND ");
    q.region_range("r.region_code", scope);
    if let Some(r) = &f.region {
        q.push(" AND ");
        q.region_range("r.region_code", &Scope::region(r.clone()));
    }
    if let Some(t) = &f.template {
        q.push(" AND r.template_code = ").bind(t.clone());
    }
    if let Some(p) = &f.period {
        q.push(" AND r.period = ").bind(p.clone());
    }
    if let Some(s) = f.state {
        q.push(" AND r.state = ").bind(s.as_str());
    }
    if f.stale {
        q.push(" AND r.stale = 1");
    }
    if let Some(day) = &f.overdue_on {
        q.push(" AND r.state IN ('draft', 'returned') AND r.due_on < ")
            .bind(day.clone());
    }
    q
}

/// Reports in the reader's scope, newest period first, then by region.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Report>> {
    let count = filtered(
        scope,
        f,
        "SELECT COUNT(*) FROM reports r JOIN regions g ON g.code = r.region_code WHERE 1 = 1",
    );
    let mut q = filtered(scope, f, SELECT);
    q.push(" ORDER BY r.period DESC, r.template_code, r.region_code");
    q.fetch_page(conn, &count, page).await
}

/// The reports awaiting the reader's work (for the to-do queue): their own unit's reports to
/// submit (drafts and returned ones) and the units' below to review or approve (submitted, under
/// review, or asking to be unlocked).
pub async fn awaiting(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Report>> {
    if scope.org.is_some() {
        return Ok(vec![]);
    }
    let mut q = Sql::new(SELECT);
    q.push(" AND ((r.region_code = ")
        .bind(scope.prefix().to_owned())
        .push(" AND r.state IN ('draft', 'returned')) OR (");
    q.region_range("r.region_code", scope);
    q.push(" AND r.region_code <> ")
        .bind(scope.prefix().to_owned())
        .push(" AND (r.state IN ('submitted', 'reviewing') OR EXISTS (SELECT 1 FROM report_unlocks u WHERE u.report_id = r.id AND u.state = 'pending'))))")
        .push(" ORDER BY r.due_on, r.region_code LIMIT 500");
    q.fetch_all(conn).await
}

// ---- figures ----

/// The live figures computed for `region` and `period` from the counters and the records
/// (manual lines absent).
async fn computed(
    conn: &mut AnyConnection,
    lines: &[Line],
    region: &str,
    p: &Period,
) -> StoreResult<Figures> {
    let mut out = Figures::new();
    let (from, to) = p.months();
    let national = Scope::national();
    for l in lines {
        let v = match l.source.as_str() {
            "counter" => {
                let Some(dim) = Dim::parse(&l.dim) else {
                    continue;
                };
                let (a, b) = match l.span.as_str() {
                    "stock" => (String::new(), String::new()),
                    "year" => (p.year.to_string(), p.year.to_string()),
                    _ => (from.clone(), to.clone()),
                };
                let rows =
                    counters::read(conn, &national, Regions::One(region), dim, &a, &b).await?;
                rows.iter()
                    .filter(|r| l.counter_key == "*" || r.key == l.counter_key)
                    .map(|r| match l.measure.as_str() {
                        "person_times" => r.person_times,
                        "minutes" => r.minutes,
                        "value_fen" => r.value_fen,
                        _ => r.n,
                    })
                    .sum()
            }
            "records" => records(conn, &l.dim, region, p).await?,
            _ => continue,
        };
        out.insert(l.code.clone(), v);
    }
    Ok(out)
}

/// A named count over the records of `region`'s subtree in the period.
async fn records(
    conn: &mut AnyConnection,
    name: &str,
    region: &str,
    p: &Period,
) -> StoreResult<i64> {
    let (from, to) = p.days();
    let (from, to) = (from.to_string(), to.to_string());
    let scope = Scope {
        region: RegionCode::parse(region).ok(),
        org: None,
    };
    let mut q = match name {
        "new_files" => {
            let mut q = Sql::new("SELECT COUNT(*) FROM residents WHERE registered_on >= ");
            q.bind(from).push(" AND registered_on < ").bind(to);
            q
        }
        "cases_opened" => {
            let mut q = Sql::new("SELECT COUNT(*) FROM cases WHERE opened_on >= ");
            q.bind(from).push(" AND opened_on < ").bind(to);
            q
        }
        "cases_closed" => {
            let mut q = Sql::new("SELECT COUNT(*) FROM cases WHERE closed_on >= ");
            q.bind(from).push(" AND closed_on < ").bind(to);
            q
        }
        "cases_followed" => {
            let mut q = Sql::new("SELECT COUNT(*) FROM cases WHERE opened_on < ");
            q.bind(to)
                .push(" AND (closed_on IS NULL OR closed_on >= ")
                .bind(from)
                .push(")");
            q
        }
        _ => return Ok(0),
    };
    q.push(" AND ");
    q.region_range("region_code", &scope);
    q.fetch_i64(conn).await
}

/// One child unit's report for the period, as the level above sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ChildStatus {
    pub region_code: String,
    pub region_name: String,
    pub report_id: Option<String>,
    pub state: Option<ReportState>,
    pub on_time: bool,
    pub stale: bool,
}

/// A report's figures with what they rest on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figured {
    /// The figures shown: the approved snapshot once approved, else the live roll-up.
    pub figures: Figures,
    /// 补报: changes to the previous period's records since it was locked.
    pub adjustments: Figures,
    /// The previous period, when it is locked (the adjustments are for it).
    pub adjusted_period: Option<String>,
    pub children: Vec<ChildStatus>,
    /// Children that submitted by the due date, per mille of the children (及时率).
    pub timeliness: i64,
    /// Children approved, per mille of the children (完整率).
    pub completeness: i64,
}

/// The live roll-up for `region` and `period`: its own computed figures and typed manual lines,
/// each child's approved snapshot in place of its live figures (or its typed manual lines while
/// it is not approved). Also the children's statuses.
async fn rolled(
    conn: &mut AnyConnection,
    t: &Template,
    lines: &[Line],
    region: &str,
    p: &Period,
) -> StoreResult<(Figures, Vec<ChildStatus>)> {
    let mut own = computed(conn, lines, region, p).await?;
    if let Some(r) = find(conn, &t.code, region, &p.to_string()).await? {
        for (k, v) in r.manual_values() {
            *own.entry(k).or_insert(0) += v;
        }
    }
    let mut children = vec![];
    // Units report down to the township; villages do not.
    if region.len() >= 9 {
        return Ok((own, children));
    }
    let kids = crate::network::regions::children(
        conn,
        &Scope::national(),
        (!region.is_empty()).then_some(region),
    )
    .await?;
    let mut parts = vec![];
    for k in kids {
        let r = find(conn, &t.code, &k.code, &p.to_string()).await?;
        let approved = r.as_ref().and_then(|r| {
            if r.state.approved() {
                r.snapshot_values()
            } else {
                None
            }
        });
        let live = if approved.is_some() {
            computed(conn, lines, &k.code, p).await?
        } else {
            Figures::new()
        };
        let typed = r.as_ref().map(Report::manual_values).unwrap_or_default();
        parts.push((live, Some(approved.unwrap_or(typed))));
        children.push(ChildStatus {
            region_code: k.code,
            region_name: k.name,
            report_id: r.as_ref().map(|r| r.id.clone()),
            state: r.as_ref().map(|r| r.state),
            on_time: r.as_ref().is_some_and(Report::on_time),
            stale: r.as_ref().is_some_and(|r| r.stale != 0),
        });
    }
    Ok((rp::rolled_up(&own, &parts), children))
}

/// A report's figures: the approved snapshot once approved, else the live roll-up; the 补报
/// adjustments of the previous period when that one is locked; the children's statuses with
/// the timeliness and completeness of the level below.
pub async fn figures(conn: &mut AnyConnection, r: &Report) -> StoreResult<Figured> {
    let t = template(conn, &r.template_code).await?;
    let p = Period::parse(&r.period, t.frequency)?;
    let lines = lines(conn, &t.code).await?;
    let (live, children) = rolled(conn, &t, &lines, &r.region_code, &p).await?;
    let figures = match r.snapshot_values() {
        Some(s) if r.state.approved() => s,
        _ => live,
    };
    let prev = p.prev();
    let mut out = Figured {
        figures,
        ..Figured::default()
    };
    let prev_report = find(conn, &t.code, &r.region_code, &prev.to_string()).await?;
    if let Some((ReportState::Locked, Some(snap))) =
        prev_report.map(|pr| (pr.state, pr.snapshot_values()))
    {
        let (now, _) = rolled(conn, &t, &lines, &r.region_code, &prev).await?;
        out.adjustments = rp::adjustments(&snap, &now);
        out.adjusted_period = Some(prev.to_string());
    }
    let n = children.len() as i64;
    out.timeliness = rp::rate_permille(children.iter().filter(|c| c.on_time).count() as i64, n);
    out.completeness = rp::rate_permille(
        children
            .iter()
            .filter(|c| c.state.is_some_and(ReportState::approved))
            .count() as i64,
        n,
    );
    out.children = children;
    Ok(out)
}

/// Type the manual lines of a draft or returned report (the unit's); other lines are refused.
pub async fn set_manual(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    values: &Figures,
    at: Millis,
) -> StoreResult<Report> {
    let r = get(conn, scope, id).await?;
    if !r.state.editable() {
        return Err(FieldError::new("state", "report.not_editable").into());
    }
    let lines = lines(conn, &r.template_code).await?;
    for (code, v) in values {
        if !lines.iter().any(|l| l.manual() && &l.code == code) {
            return Err(FieldError::new("values", "report.line_not_manual").into());
        }
        if !(0..=MAX_MANUAL).contains(v) {
            return Err(FieldError::new("values", "report.value_range").into());
        }
    }
    let mut manual = r.manual_values();
    manual.extend(values.iter().map(|(k, v)| (k.clone(), *v)));
    let text = serde_json::to_string(&manual).unwrap_or_else(|_| "{}".into());
    Sql::new("UPDATE reports SET manual = ")
        .bind(text)
        .push(", updated_at = ")
        .bind(at)
        .push(" WHERE id = ")
        .bind(id.to_owned())
        .execute(conn)
        .await?;
    Ok(r)
}

/// The step's authority: the unit's own steps need the unit in scope; the level above's need
/// the unit's parent in scope (the country's scope for a province's report).
pub fn may_act(scope: &Scope, region: &str, action: Action) -> bool {
    if !visible(scope, region) {
        return false;
    }
    if !action.by_parent() {
        return true;
    }
    match RegionCode::parse(region).ok().and_then(|c| c.parent()) {
        Some(parent) => scope.contains_region(parent.as_str()),
        None => scope.region.is_none(),
    }
}

async fn set_state(
    conn: &mut AnyConnection,
    ids: &[String],
    from: ReportState,
    to: ReportState,
    by: &Actor<'_>,
) -> StoreResult<()> {
    for id in ids {
        let n = Sql::new("UPDATE reports SET state = ")
            .bind(to.as_str())
            .push(if to == ReportState::Locked {
                ", locked_at = updated_at"
            } else {
                ""
            })
            .push(", updated_at = ")
            .bind(by.at)
            .push(" WHERE id = ")
            .bind(id.clone())
            .push(" AND state = ")
            .bind(from.as_str())
            .execute(conn)
            .await?;
        if n > 0 {
            step(conn, id, Some(from), to, "cascade", "", by).await?;
        }
    }
    Ok(())
}

async fn step(
    conn: &mut AnyConnection,
    id: &str,
    from: Option<ReportState>,
    to: ReportState,
    action: &str,
    note: &str,
    by: &Actor<'_>,
) -> StoreResult<()> {
    let seq = Sql::new("SELECT COALESCE(MAX(seq), 0) + 1 FROM report_steps WHERE report_id = ")
        .bind(id.to_owned())
        .fetch_i64(conn)
        .await?;
    Sql::new("INSERT INTO report_steps (report_id, seq, from_state, to_state, action, note, by_user, by_name, at) VALUES (")
        .bind(id.to_owned()).push(", ").bind(seq).push(", ").bind(from.map(|s| s.as_str()))
        .push(", ").bind(to.as_str()).push(", ").bind(action.to_owned()).push(", ").bind(note.to_owned())
        .push(", ").bind(by.user_id.to_owned()).push(", ").bind(by.name.to_owned()).push(", ").bind(by.at).push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// The approved children's report ids of `r` (same template and period).
async fn child_ids(
    conn: &mut AnyConnection,
    r: &Report,
    state: ReportState,
) -> StoreResult<Vec<String>> {
    if r.region_code.len() >= 9 {
        return Ok(vec![]);
    }
    let rows: Vec<(String,)> = Sql::new("SELECT r.id FROM reports r JOIN regions g ON g.code = r.region_code WHERE r.template_code = ")
        .bind(r.template_code.clone())
        .push(" AND r.period = ")
        .bind(r.period.clone())
        .push(" AND r.state = ")
        .bind(state.as_str())
        .push(" AND g.parent_code = ")
        .bind(r.region_code.clone())
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Take `action` on report `id` (in the caller's transaction); returns the report before it.
/// Submitting records the unit head's sign-off and marks the approved children as summed up
/// (已汇总上报); approving freezes the figures as the snapshot and locks the summed-up children;
/// an unlock request waits for the level above, whose approval reopens the report as a draft and
/// marks every report above it for the period stale.
pub async fn act(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    action: Action,
    reason: &str,
    by: &Actor<'_>,
) -> StoreResult<Report> {
    let r = get(conn, scope, id).await?;
    if !may_act(scope, &r.region_code, action) {
        return Err(if action.by_parent() {
            StoreError::Invalid(FieldError::new("action", "report.not_your_level"))
        } else {
            StoreError::NotFound
        });
    }
    let to = check_action(r.state, action, reason)?;
    let reason = reason.trim();
    let mut q = Sql::new("UPDATE reports SET state = ");
    q.bind(to.as_str()).push(", updated_at = ").bind(by.at);
    match action {
        Action::Submit => {
            q.push(", submitted_at = ")
                .bind(by.at)
                .push(", signed_by = ")
                .bind(by.user_id.to_owned())
                .push(", signed_name = ")
                .bind(by.name.to_owned())
                .push(", return_reason = ''");
        }
        Action::Approve => {
            let f = figures(conn, &r).await?;
            let snap = serde_json::to_string(&f.figures).unwrap_or_else(|_| "{}".into());
            q.push(", snapshot = ")
                .bind(snap)
                .push(", stale = 0, decided_at = ")
                .bind(by.at)
                .push(", decided_by = ")
                .bind(by.user_id.to_owned());
        }
        Action::Return => {
            q.push(", return_reason = ")
                .bind(reason.to_owned())
                .push(", snapshot = NULL, decided_at = ")
                .bind(by.at)
                .push(", decided_by = ")
                .bind(by.user_id.to_owned());
        }
        Action::Lock => {
            q.push(", locked_at = ").bind(by.at);
        }
        Action::RequestUnlock => unlock_request(conn, &r, reason, by).await?,
        Action::ApproveUnlock => {
            unlock_approve(conn, &r, by).await?;
            q.push(", snapshot = NULL, locked_at = NULL, submitted_at = NULL");
        }
        Action::Review => {}
    }
    q.push(" WHERE id = ")
        .bind(id.to_owned())
        .push(" AND state = ")
        .bind(r.state.as_str());
    if q.execute(conn).await? == 0 {
        return Err(FieldError::new("state", "report.changed_meanwhile").into());
    }
    step(conn, id, Some(r.state), to, action.as_str(), reason, by).await?;
    match action {
        Action::Submit => {
            let ids = child_ids(conn, &r, ReportState::Approved).await?;
            set_state(
                conn,
                &ids,
                ReportState::Approved,
                ReportState::Aggregated,
                by,
            )
            .await?;
        }
        Action::Approve => {
            let ids = child_ids(conn, &r, ReportState::Aggregated).await?;
            set_state(conn, &ids, ReportState::Aggregated, ReportState::Locked, by).await?;
        }
        _ => {}
    }
    Ok(r)
}

async fn unlock_request(
    conn: &mut AnyConnection,
    r: &Report,
    reason: &str,
    by: &Actor<'_>,
) -> StoreResult<()> {
    if pending_unlock(conn, &r.id).await?.is_some() {
        return Err(FieldError::new("action", "report.unlock_pending").into());
    }
    Sql::new("INSERT INTO report_unlocks (id, report_id, reason, state, requested_by, requested_at) VALUES (")
        .bind(new_id()).push(", ").bind(r.id.clone()).push(", ").bind(reason.to_owned())
        .push(", 'pending', ").bind(by.user_id.to_owned()).push(", ").bind(by.at).push(")")
        .execute(conn)
        .await?;
    Ok(())
}

async fn unlock_approve(conn: &mut AnyConnection, r: &Report, by: &Actor<'_>) -> StoreResult<()> {
    let Some(u) = pending_unlock(conn, &r.id).await? else {
        return Err(FieldError::new("action", "report.unlock_not_requested").into());
    };
    Sql::new("UPDATE report_unlocks SET state = 'approved', decided_by = ")
        .bind(by.user_id.to_owned())
        .push(", decided_at = ")
        .bind(by.at)
        .push(" WHERE id = ")
        .bind(u.id)
        .execute(conn)
        .await?;
    // Every report above it for the period rests on the figures now reopened.
    let mut above: Vec<String> = vec![String::new()];
    if let Ok(c) = RegionCode::parse(&r.region_code) {
        above.extend(
            c.lineage()
                .into_iter()
                .map(|c| c.to_string())
                .filter(|c| c != &r.region_code),
        );
    }
    for code in above {
        Sql::new("UPDATE reports SET stale = 1, updated_at = ")
            .bind(by.at)
            .push(" WHERE template_code = ")
            .bind(r.template_code.clone())
            .push(" AND period = ")
            .bind(r.period.clone())
            .push(" AND region_code = ")
            .bind(code)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// An unlock request.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Unlock {
    pub id: String,
    pub report_id: String,
    pub reason: String,
    pub state: String,
    pub requested_by: String,
    pub requested_at: Millis,
    pub decided_by: Option<String>,
    pub decided_at: Option<Millis>,
}

pub async fn pending_unlock(
    conn: &mut AnyConnection,
    report_id: &str,
) -> StoreResult<Option<Unlock>> {
    Sql::new("SELECT id, report_id, reason, state, requested_by, requested_at, decided_by, decided_at FROM report_unlocks WHERE state = 'pending' AND report_id = ")
        .bind(report_id.to_owned())
        .fetch_optional(conn)
        .await
}

/// One step of a report's history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Step {
    pub seq: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    pub action: String,
    pub note: String,
    pub by_user: String,
    pub by_name: String,
    pub at: Millis,
}

pub async fn steps(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Vec<Step>> {
    get(conn, scope, id).await?;
    Sql::new("SELECT seq, from_state, to_state, action, note, by_user, by_name, at FROM report_steps WHERE report_id = ")
        .bind(id.to_owned())
        .push(" ORDER BY seq")
        .fetch_all(conn)
        .await
}
