//! Inspection (督查): plans, visits with checklist results and findings, and rectification
//! tasks (整改) with an owner and a deadline, followed through submission, verification and
//! closure. Open and overdue rectifications are counted up the region tree.

use serde::Serialize;
use shegong_domain::network::station::Rectification;
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::network::attachments;
use crate::network::station_scope::{self, scoped_from};
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreResult, network::indicators, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Plan {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub notes: String,
    pub visit_count: i64,
    pub created_by: String,
    pub created_at: i64,
}

const PLAN: &str = "SELECT p.id, p.region_code, r.path_names AS region_path, p.title, p.starts_on, p.ends_on, p.notes, \
     (SELECT COUNT(*) FROM inspection_visits v WHERE v.plan_id = p.id) AS visit_count, p.created_by, p.created_at \
     FROM inspection_plans p JOIN regions r ON r.code = p.region_code";

pub struct PlanInput {
    pub region: String,
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub notes: String,
}

pub async fn create_plan(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &PlanInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    if input.region.is_empty() || !scope.contains_region(&input.region) || scope.org.is_some() {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(FieldError::new("title", "inspection.title_invalid").into());
    }
    if input.ends_on < input.starts_on {
        return Err(FieldError::new("ends_on", "inspection.period_invalid").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO inspection_plans (id, region_code, title, starts_on, ends_on, notes, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(&input.region).push(", ").bind(title).push(", ").bind(&input.starts_on).push(", ")
        .bind(&input.ends_on).push(", ").bind(input.notes.trim()).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

pub async fn plans(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Plan>> {
    let mut q = Sql::new(PLAN);
    q.push(" WHERE ");
    q.region_range("p.region_code", scope);
    if let Some(org) = scope.org {
        q.push(" AND p.id IN (SELECT v.plan_id FROM inspection_visits v JOIN stations s ON s.id = v.station_id WHERE s.operator_org_id = ")
            .bind(org.to_string())
            .push(")");
    }
    q.push(" ORDER BY p.starts_on DESC, p.created_at DESC");
    q.fetch_all(conn).await
}

pub async fn plan(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Plan> {
    plans(conn, scope)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(crate::StoreError::NotFound)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Visit {
    pub id: String,
    pub plan_id: Option<String>,
    pub station_id: String,
    pub station_name: String,
    pub region_code: String,
    pub region_path: String,
    pub visited_on: String,
    pub inspector: String,
    pub lng_e6: Option<i64>,
    pub lat_e6: Option<i64>,
    pub findings: String,
    pub met_count: i64,
    pub item_count: i64,
    pub created_at: i64,
    /// Set when the visit was voided (recorded in error); it stays on file with the reason.
    pub voided_at: Option<i64>,
    pub voided_by: Option<String>,
    pub void_reason: String,
}

const VISIT: &str = "SELECT v.id, v.plan_id, v.station_id, s.name AS station_name, v.region_code, r.path_names AS region_path, \
     v.visited_on, v.inspector, v.lng_e6, v.lat_e6, v.findings, v.met_count, v.item_count, v.created_at, \
     v.voided_at, v.voided_by, v.void_reason \
     FROM inspection_visits v JOIN stations s ON s.id = v.station_id JOIN regions r ON r.code = v.region_code";

pub struct RectificationInput {
    pub description: String,
    pub owner: String,
    pub deadline: String,
}

pub struct VisitInput {
    pub plan_id: Option<String>,
    pub station_id: String,
    pub visited_on: String,
    pub inspector: String,
    pub lng_e6: Option<i64>,
    pub lat_e6: Option<i64>,
    pub findings: String,
    /// (indicator item id, met, note)
    pub results: Vec<(String, bool, String)>,
    pub rectifications: Vec<RectificationInput>,
}

/// Record a visit with its checklist results and the rectifications it requires.
pub async fn record_visit(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &VisitInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let st = station_scope::place(conn, scope, &input.station_id).await?;
    if let Some(p) = &input.plan_id {
        plan(conn, scope, p)
            .await
            .map_err(|_| FieldError::new("plan", "inspection.plan_unknown"))?;
    }
    if input.inspector.trim().is_empty() {
        return Err(FieldError::new("inspector", "inspection.inspector_required").into());
    }
    // An inspection records something: a rated indicator, findings or a rectification.
    if input.results.is_empty()
        && input.findings.trim().is_empty()
        && input.rectifications.is_empty()
    {
        return Err(FieldError::new("results", "inspection.nothing_recorded").into());
    }
    let items = indicators::items_for(conn, &st.region_code).await?;
    if input
        .results
        .iter()
        .any(|(id, _, _)| !items.iter().any(|i| &i.id == id))
    {
        return Err(FieldError::new("results", "indicator.not_applicable").into());
    }
    for (n, r) in input.rectifications.iter().enumerate() {
        if r.description.trim().is_empty() || r.owner.trim().is_empty() {
            return Err(
                FieldError::new(rect_field("owner", n + 1), "rectification.incomplete").into(),
            );
        }
        if r.deadline.as_str() < input.visited_on.as_str() {
            return Err(FieldError::new(
                rect_field("deadline", n + 1),
                "rectification.deadline_before_visit",
            )
            .into());
        }
    }
    let id = new_id();
    let met = input.results.iter().filter(|(_, m, _)| *m).count() as i64;
    Sql::new("INSERT INTO inspection_visits (id, plan_id, station_id, region_code, visited_on, inspector, lng_e6, lat_e6, findings, met_count, item_count, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(input.plan_id.clone()).push(", ").bind(&input.station_id).push(", ").bind(&st.region_code).push(", ")
        .bind(&input.visited_on).push(", ").bind(input.inspector.trim()).push(", ").bind(input.lng_e6).push(", ").bind(input.lat_e6).push(", ")
        .bind(input.findings.trim()).push(", ").bind(met).push(", ").bind(input.results.len() as i64).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    for (item, m, note) in &input.results {
        Sql::new("INSERT INTO inspection_results (visit_id, item_id, met, note) VALUES (")
            .bind(&id)
            .push(", ")
            .bind(item)
            .push(", ")
            .bind(*m)
            .push(", ")
            .bind(note.trim())
            .push(")")
            .execute(conn)
            .await?;
    }
    for r in &input.rectifications {
        Sql::new("INSERT INTO rectifications (id, visit_id, station_id, region_code, description, owner, deadline, status, created_at, updated_at) VALUES (")
            .bind(new_id()).push(", ").bind(&id).push(", ").bind(&input.station_id).push(", ").bind(&st.region_code).push(", ")
            .bind(r.description.trim()).push(", ").bind(r.owner.trim()).push(", ").bind(&r.deadline).push(", 'open', ").bind(now).push(", ").bind(now).push(")")
            .execute(conn).await?;
    }
    Ok(id)
}

/// The most rectification rows one visit records (the form shows three; the API takes up to
/// this many).
pub const MAX_RECT_ROWS: usize = 10;

const RECT_FIELDS: [[&str; 3]; MAX_RECT_ROWS] = [
    ["rect_desc_1", "rect_owner_1", "rect_deadline_1"],
    ["rect_desc_2", "rect_owner_2", "rect_deadline_2"],
    ["rect_desc_3", "rect_owner_3", "rect_deadline_3"],
    ["rect_desc_4", "rect_owner_4", "rect_deadline_4"],
    ["rect_desc_5", "rect_owner_5", "rect_deadline_5"],
    ["rect_desc_6", "rect_owner_6", "rect_deadline_6"],
    ["rect_desc_7", "rect_owner_7", "rect_deadline_7"],
    ["rect_desc_8", "rect_owner_8", "rect_deadline_8"],
    ["rect_desc_9", "rect_owner_9", "rect_deadline_9"],
    ["rect_desc_10", "rect_owner_10", "rect_deadline_10"],
];

/// The field of rectification row `n` (1 to `MAX_RECT_ROWS`; beyond, the last) for `part`
/// (`desc`, `owner`, `deadline`), so an error says which row is wrong.
pub fn rect_field(part: &str, n: usize) -> &'static str {
    let [desc, owner, deadline] = RECT_FIELDS
        .get(n.clamp(1, MAX_RECT_ROWS) - 1)
        .copied()
        .unwrap_or(["rect_desc_1", "rect_owner_1", "rect_deadline_1"]);
    match part {
        "desc" => desc,
        "owner" => owner,
        _ => deadline,
    }
}

/// Void a visit recorded in error: it stays on file, marked with who voided it, when and why,
/// and its rectifications leave the open and overdue lists. Returns the visit before.
pub async fn void_visit(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    reason: &str,
    by: &str,
    now: Millis,
) -> StoreResult<Visit> {
    let before = visit(conn, scope, id).await?;
    if before.voided_at.is_some() {
        return Err(FieldError::new("reason", "inspection.already_voided").into());
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(FieldError::new("reason", "inspection.void_reason_required").into());
    }
    // Conditional on not yet voided: two voids at once leave one record of it.
    let changed = Sql::new("UPDATE inspection_visits SET voided_at = ")
        .bind(now)
        .push(", voided_by = ")
        .bind(by)
        .push(", void_reason = ")
        .bind(reason)
        .push(" WHERE voided_at IS NULL AND id = ")
        .bind(id)
        .execute(conn)
        .await?;
    if changed == 0 {
        return Err(FieldError::new("reason", "inspection.already_voided").into());
    }
    Sql::new("UPDATE rectifications SET voided_at = ")
        .bind(now)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE voided_at IS NULL AND visit_id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

pub async fn visits(
    conn: &mut AnyConnection,
    scope: &Scope,
    station_id: Option<&str>,
    plan_id: Option<&str>,
    page: PageRequest,
) -> StoreResult<Page<Visit>> {
    let filter = |select: &'static str| {
        let mut q = scoped_from(select, scope);
        if let Some(s) = station_id {
            q.push(" AND v.station_id = ").bind(s);
        }
        if let Some(p) = plan_id {
            q.push(" AND v.plan_id = ").bind(p);
        }
        q
    };
    let mut q = filter(VISIT);
    q.push(" ORDER BY v.visited_on DESC, v.created_at DESC");
    q.fetch_page(
        conn,
        &filter("SELECT COUNT(*) FROM inspection_visits v JOIN stations s ON s.id = v.station_id"),
        page,
    )
    .await
}

pub async fn visit(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Visit> {
    let mut q = scoped_from(VISIT, scope);
    q.push(" AND v.id = ").bind(id);
    q.fetch_one(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Result_ {
    pub item_id: String,
    pub item_name: String,
    pub category: String,
    pub met: i64,
    pub note: String,
}

pub async fn visit_results(
    conn: &mut AnyConnection,
    scope: &Scope,
    visit_id: &str,
) -> StoreResult<Vec<Result_>> {
    visit(conn, scope, visit_id).await?;
    Sql::new("SELECT r.item_id, i.name AS item_name, i.category, r.met, r.note FROM inspection_results r \
              JOIN indicator_items i ON i.id = r.item_id WHERE r.visit_id = ")
        .bind(visit_id).push(" ORDER BY i.category, i.sort").fetch_all(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Rect {
    pub id: String,
    pub visit_id: String,
    pub station_id: String,
    pub station_name: String,
    pub region_code: String,
    pub region_path: String,
    pub description: String,
    pub owner: String,
    pub deadline: String,
    pub status: String,
    pub response: String,
    pub verified_by: Option<String>,
    /// The verifier's display name (`verified_by` holds the account name).
    pub verifier_name: Option<String>,
    pub updated_at: i64,
    /// Set when its inspection was voided.
    pub voided_at: Option<i64>,
}

impl Rect {
    pub fn is_overdue(&self, today: &str) -> bool {
        self.voided_at.is_none()
            && Rectification::parse(&self.status).is_ok_and(|s| s.is_open())
            && self.deadline.as_str() < today
    }
}

const RECT: &str = "SELECT x.id, x.visit_id, x.station_id, s.name AS station_name, x.region_code, r.path_names AS region_path, \
     x.description, x.owner, x.deadline, x.status, x.response, x.verified_by, vu.display_name AS verifier_name, \
     x.updated_at, x.voided_at \
     FROM rectifications x JOIN stations s ON s.id = x.station_id JOIN regions r ON r.code = x.region_code \
     LEFT JOIN users vu ON vu.username = x.verified_by";

#[derive(Debug, Clone, Default)]
pub struct RectFilter {
    pub station_id: Option<String>,
    /// `open` (open or submitted), `overdue`, or a status code.
    pub state: Option<String>,
    pub region: Option<String>,
    /// Only those due before this day (`YYYY-MM-DD`, checked by the caller).
    pub due_before: Option<String>,
    /// A key of `RECT_SORTS`; none is the default order (deadline first).
    pub sort: Option<crate::Sort>,
}

/// The orders a rectification list offers (key, column).
pub const RECT_SORTS: &[(&str, &str)] = &[
    ("deadline", "x.deadline"),
    ("status", "x.status"),
    ("updated", "x.updated_at"),
];

pub async fn rectifications(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &RectFilter,
    today: &str,
    page: PageRequest,
) -> StoreResult<Page<Rect>> {
    let filter = |select: &'static str| {
        let mut q = scoped_from(select, scope);
        if let Some(s) = &f.station_id {
            q.push(" AND x.station_id = ").bind(s.as_str());
        }
        if let Some(region) = f.region.as_deref().filter(|s| !s.is_empty()) {
            let sub = Scope {
                region: Scope::parse_region(region).ok().flatten(),
                org: None,
            };
            q.push(" AND ");
            q.region_range("x.region_code", &sub);
        }
        if let Some(d) = f.due_before.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND x.deadline < ").bind(d);
        }
        if f.state.as_deref().is_some_and(|s| !s.is_empty()) {
            q.push(" AND x.voided_at IS NULL");
        }
        match f.state.as_deref() {
            Some("open") => {
                q.push(" AND x.status IN ('open', 'submitted')");
            }
            Some("overdue") => {
                q.push(" AND x.status IN ('open', 'submitted') AND x.deadline < ")
                    .bind(today);
            }
            Some(s) if !s.is_empty() => {
                q.push(" AND x.status = ").bind(s);
            }
            _ => {}
        }
        q
    };
    let mut q = filter(RECT);
    if !f.sort.is_some_and(|s| q.order(s, RECT_SORTS, "x.id")) {
        q.push(" ORDER BY x.deadline, x.created_at");
    }
    q.fetch_page(
        conn,
        &filter("SELECT COUNT(*) FROM rectifications x JOIN stations s ON s.id = x.station_id"),
        page,
    )
    .await
}

pub async fn rectification(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Rect> {
    let mut q = scoped_from(RECT, scope);
    q.push(" AND x.id = ").bind(id);
    q.fetch_one(conn).await
}

/// Close a batch of verified rectifications (all or none: the caller's transaction). An id the
/// scope does not reach, or one that cannot be closed, refuses the batch on `ids`.
pub async fn close_batch(
    conn: &mut AnyConnection,
    scope: &Scope,
    ids: &[String],
    by: &str,
    now: Millis,
) -> StoreResult<Vec<Rect>> {
    let mut ids: Vec<&str> = ids.iter().map(|s| s.trim()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > 200 || ids.iter().any(|s| s.is_empty() || s.len() > 64) {
        return Err(FieldError::new("ids", "batch.invalid").into());
    }
    let mut before = Vec::with_capacity(ids.len());
    for id in ids {
        match advance(conn, scope, id, Rectification::Closed, "", by, now).await {
            Ok(r) => before.push(r),
            Err(crate::StoreError::NotFound) => {
                return Err(FieldError::new("ids", "batch.out_of_scope").into());
            }
            Err(crate::StoreError::Invalid(_)) => {
                return Err(FieldError::new("ids", "batch.not_closable").into());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(before)
}

/// Move a rectification along its flow. Returns it before the change.
pub async fn advance(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    next: Rectification,
    response: &str,
    by: &str,
    now: Millis,
) -> StoreResult<Rect> {
    let before = rectification(conn, scope, id).await?;
    if before.voided_at.is_some() {
        return Err(FieldError::new("status", "rectification.voided").into());
    }
    let current = Rectification::parse(&before.status)?;
    if !current.can_become(next) {
        return Err(FieldError::new("status", "rectification.transition").into());
    }
    let mut q = Sql::new("UPDATE rectifications SET status = ");
    q.bind(next.as_str()).push(", updated_at = ").bind(now);
    match next {
        Rectification::Submitted => {
            if response.trim().is_empty() {
                return Err(FieldError::new("response", "rectification.response_required").into());
            }
            q.push(", response = ")
                .bind(response.trim())
                .push(", submitted_at = ")
                .bind(now);
        }
        Rectification::Verified => {
            q.push(", verified_by = ")
                .bind(by)
                .push(", verified_at = ")
                .bind(now);
        }
        Rectification::Closed => {
            q.push(", closed_at = ").bind(now);
        }
        Rectification::Open => {}
    }
    q.push(" WHERE id = ").bind(id);
    q.execute(conn).await?;
    Sql::new("INSERT INTO rectification_events (id, rectification_id, from_status, to_status, note, by_user, at) VALUES (")
        .bind(crate::new_id()).push(", ").bind(id).push(", ").bind(before.status.clone()).push(", ")
        .bind(next.as_str()).push(", ").bind(response.trim()).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(before)
}

/// One step of a rectification, with the actor's display name when the account exists.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RectEvent {
    pub from_status: String,
    pub to_status: String,
    pub note: String,
    pub by_user: String,
    pub by_name: Option<String>,
    pub at: i64,
}

/// The steps of a rectification in scope, oldest first.
pub async fn rectification_history(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<RectEvent>> {
    rectification(conn, scope, id).await?;
    Sql::new("SELECT e.from_status, e.to_status, e.note, e.by_user, u.display_name AS by_name, e.at \
              FROM rectification_events e LEFT JOIN users u ON u.username = e.by_user WHERE e.rectification_id = ")
        .bind(id)
        .push(" ORDER BY e.at, e.id")
        .fetch_all(conn)
        .await
}

/// Attach evidence (整改佐证材料: photos, PDF, office files) to a rectification in scope, as
/// `attachments::add` checks and stores it. Evidence is added until the rectification is closed;
/// a voided one takes none. Returns the rectification and the attachment.
pub async fn add_evidence(
    conn: &mut AnyConnection,
    files: &attachments::FileStore,
    scope: &Scope,
    id: &str,
    file: (&str, &[u8]),
    by: &str,
    now: Millis,
) -> StoreResult<(Rect, attachments::Attachment)> {
    let r = rectification(conn, scope, id).await?;
    if r.voided_at.is_some() || r.status == Rectification::Closed.as_str() {
        return Err(FieldError::new("file", "rectification.evidence_closed").into());
    }
    let (filename, bytes) = file;
    let a = attachments::add(
        conn,
        files,
        attachments::NewAttachment {
            owner_kind: "rectification",
            owner_id: &r.id,
            region_code: &r.region_code,
            kind: "evidence",
            filename,
            bytes,
        },
        by,
        now,
    )
    .await?;
    Ok((r, a))
}

/// A rectification's evidence in scope, oldest first, with the uploaders' names.
pub async fn evidence(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<attachments::Listed>> {
    rectification(conn, scope, id).await?;
    attachments::listed(conn, "rectification", id).await
}
