//! Casework after MZ/T 094-2017: a case moves 接案 → 预估 → 计划 → 介入 → 评估 → 结案; plans
//! and closures wait for a supervisor; a case can be referred to another station (accepted or
//! declined there) and reopened. Every step is a case event whose structured body (assessment
//! scores, goals, evaluation) is sealed, since it holds health and family detail.
//!
//! Visibility: the case's region must be in scope and its resident must pass the protection rule
//! (see `residents::Viewer`); a station receiving a referral sees it among incoming transfers.

// Each step takes the same context (connection, viewer, keys, actor, clock) plus its own fields.
#![allow(clippy::too_many_arguments)]

use serde::Serialize;
use serde_json::Value as Json;
use shegong_domain::people::{AssessmentDomain, CaseOutcome, CaseStage, RiskTier};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::people::residents::{self, Viewer, check_worker, in_scope};
use crate::sql::Sql;
use crate::{
    Millis, Page, PageRequest, StoreError, StoreResult, network::stations, new_id,
    statistics::counters,
};

pub const BODY_FIELD: &str = "case_events.body";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Case {
    pub id: String,
    pub resident_id: String,
    pub resident_name: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub worker_user_id: Option<String>,
    pub worker_name: Option<String>,
    pub supervisor_user_id: Option<String>,
    pub supervisor_name: Option<String>,
    /// The schema admits only the domain's stages, so anything else is a decoding error.
    #[sqlx(try_from = "String")]
    pub stage: CaseStage,
    pub pending: String,
    pub problem: String,
    pub risk_level: Option<String>,
    pub opened_on: String,
    pub closed_on: Option<String>,
    /// 结案成效 code (`CaseOutcome`); none before a closure was requested, and on cases closed
    /// before outcomes were coded.
    pub outcome_code: Option<String>,
    /// The closure note (on older cases, the whole free-text outcome).
    pub outcome: String,
    pub transfer_station_id: Option<String>,
    pub transfer_station_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT c.id, c.resident_id, r.name AS resident_name, c.region_code, g.path_names AS region_path, \
     c.station_id, s.name AS station_name, c.worker_user_id, w.display_name AS worker_name, c.supervisor_user_id, \
     v.display_name AS supervisor_name, c.stage, c.pending, c.problem, c.risk_level, c.opened_on, c.closed_on, c.outcome_code, c.outcome, \
     c.transfer_station_id, t.name AS transfer_station_name, c.created_at, c.updated_at \
     FROM cases c JOIN residents r ON r.id = c.resident_id JOIN regions g ON g.code = c.region_code \
     LEFT JOIN stations s ON s.id = c.station_id LEFT JOIN stations t ON t.id = c.transfer_station_id \
     LEFT JOIN users w ON w.id = c.worker_user_id LEFT JOIN users v ON v.id = c.supervisor_user_id WHERE 1 = 1";

/// The region and organisation scope on the case's own region and station (`residents::in_scope`),
/// and the protection rule on its resident.
fn visible(viewer: &Viewer, q: &mut Sql) {
    in_scope(q, &viewer.scope, "c.region_code", "c.station_id", true);
    viewer.protect(q, "r", None);
}

pub async fn get(conn: &mut AnyConnection, viewer: &Viewer, id: &str) -> StoreResult<Case> {
    let mut q = Sql::new(SELECT);
    q.push(" AND c.id = ").bind(id);
    visible(viewer, &mut q);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub stage: Option<String>,
    /// `open` (not closed), `pending` (awaiting a supervisor) or none.
    pub state: Option<String>,
    pub worker: Option<String>,
    pub resident: Option<String>,
    pub q: Option<String>,
    /// A key of `SORTS`; none is the default order (last changed first).
    pub sort: Option<crate::Sort>,
}

/// The orders a case list offers (key, column).
pub const SORTS: &[(&str, &str)] = &[
    ("opened_on", "c.opened_on"),
    ("stage", "c.stage"),
    ("updated", "c.updated_at"),
];

fn filtered(viewer: &Viewer, f: &Filter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    visible(viewer, &mut q);
    if let Some(s) = &f.stage {
        q.push(" AND c.stage = ").bind(s.clone());
    }
    match f.state.as_deref() {
        Some("open") => {
            q.push(" AND c.stage <> 'closed'");
        }
        Some("pending") => {
            q.push(" AND c.pending <> ''");
        }
        _ => {}
    }
    if let Some(w) = &f.worker {
        q.push(" AND c.worker_user_id = ").bind(w.clone());
    }
    if let Some(r) = &f.resident {
        q.push(" AND c.resident_id = ").bind(r.clone());
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["r.name", "c.problem"], text);
    }
    q
}

pub async fn list(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Case>> {
    let count = filtered(
        viewer,
        f,
        "SELECT COUNT(*) FROM cases c JOIN residents r ON r.id = c.resident_id WHERE 1 = 1",
    );
    let mut q = filtered(viewer, f, SELECT);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "c.id")) {
        q.push(" ORDER BY c.updated_at DESC, c.id");
    }
    q.fetch_page(conn, &count, page).await
}

/// Cases referred to a station in the viewer's scope, waiting to be accepted or declined.
fn referred_to(viewer: &Viewer) -> Sql {
    let mut q = Sql::new(SELECT);
    q.push(" AND c.transfer_region IS NOT NULL");
    // The receiving station's region and, for an organisation, its being one of theirs.
    in_scope(
        &mut q,
        &viewer.scope,
        "c.transfer_region",
        "c.transfer_station_id",
        true,
    );
    q
}

/// Referrals waiting for a station in the viewer's scope to accept or decline.
pub async fn incoming(conn: &mut AnyConnection, viewer: &Viewer) -> StoreResult<Vec<Case>> {
    let mut q = referred_to(viewer);
    q.push(" ORDER BY c.updated_at LIMIT 200");
    q.fetch_all(conn).await
}

/// One referral waiting for a station in the viewer's scope (a case their side may answer but
/// not yet read through `get`).
pub async fn referral(conn: &mut AnyConnection, viewer: &Viewer, id: &str) -> StoreResult<Case> {
    let mut q = referred_to(viewer);
    q.push(" AND c.id = ").bind(id);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone)]
pub struct OpenCase {
    pub resident_id: String,
    pub station_id: Option<String>,
    pub worker_user_id: Option<String>,
    pub supervisor_user_id: Option<String>,
    pub problem: String,
    pub opened_on: String,
}

/// Who acts: account id and name (for the event history).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub name: String,
}

async fn event(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    case: &Case,
    kind: &str,
    stage: CaseStage,
    body: &Json,
    actor: &Actor,
    now: Millis,
) -> StoreResult<()> {
    Sql::new("INSERT INTO case_events (id, case_id, region_code, kind, stage, body_sealed, actor_id, actor_name, at) VALUES (")
        .bind(new_id()).push(", ").bind(case.id.clone()).push(", ").bind(case.region_code.clone()).push(", ").bind(kind).push(", ")
        .bind(stage.as_str()).push(", ").bind(keys.seal(BODY_FIELD, &body.to_string())).push(", ").bind(actor.user_id.clone()).push(", ")
        .bind(actor.name.clone()).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(())
}

/// 接案: open a case for a resident the viewer may see.
pub async fn open(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    input: &OpenCase,
    actor: &Actor,
    now: Millis,
) -> StoreResult<String> {
    let r = residents::get(conn, viewer, &input.resident_id)
        .await
        .map_err(|_| FieldError::new("resident", "resident.unknown"))?;
    if input.problem.trim().is_empty() {
        return Err(FieldError::new("problem", "form.required").into());
    }
    if let Some(sid) = &input.station_id {
        // Scoped by organisation too: another agency's station is unknown.
        stations::get(conn, &viewer.scope, sid)
            .await
            .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
    }
    // An organisation sees cases of its own stations only: the new case must have one.
    if viewer.scope.org.is_some() && input.station_id.is_none() && r.station_id.is_none() {
        return Err(FieldError::new("station", "resident.station_required_org").into());
    }
    if let Some(w) = &input.worker_user_id {
        check_worker(conn, &viewer.scope, w, "worker").await?;
    }
    if let Some(s) = &input.supervisor_user_id {
        check_worker(conn, &viewer.scope, s, "supervisor").await?;
    }
    let id = new_id();
    Sql::new("INSERT INTO cases (id, resident_id, region_code, station_id, worker_user_id, supervisor_user_id, stage, problem, opened_on, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(&r.id).push(", ").bind(&r.region_code).push(", ").bind(input.station_id.clone().or(r.station_id.clone())).push(", ")
        .bind(input.worker_user_id.clone()).push(", ").bind(input.supervisor_user_id.clone()).push(", 'intake', ").bind(input.problem.trim()).push(", ")
        .bind(input.opened_on.clone()).push(", ").bind(actor.user_id.clone()).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    let case = get(conn, viewer, &id).await?;
    event(
        conn,
        keys,
        &case,
        "intake",
        CaseStage::Intake,
        &serde_json::json!({ "problem": input.problem.trim() }),
        actor,
        now,
    )
    .await?;
    Ok(id)
}

async fn set(
    conn: &mut AnyConnection,
    id: &str,
    stage: CaseStage,
    pending: &str,
    now: Millis,
) -> StoreResult<()> {
    Sql::new("UPDATE cases SET stage = ")
        .bind(stage.as_str())
        .push(", pending = ")
        .bind(pending)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

fn wrong_stage() -> StoreError {
    FieldError::new("stage", "case.wrong_stage").into()
}

/// 预估: scores per domain (0–3), a risk level and notes. Moves an intake to assessment; a
/// later re-assessment leaves the stage. The resident's risk tier follows the assessment.
pub async fn assess(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    scores: &[(AssessmentDomain, i64)],
    risk: RiskTier,
    notes: &str,
    actor: &Actor,
    now: Millis,
) -> StoreResult<Case> {
    let case = get(conn, viewer, id).await?;
    if case.stage == CaseStage::Closed {
        return Err(wrong_stage());
    }
    if scores.len() != AssessmentDomain::ALL.len()
        || scores.iter().any(|(_, s)| !(0..=3).contains(s))
    {
        return Err(FieldError::new("scores", "assessment.scores_incomplete").into());
    }
    let body = serde_json::json!({
        "scores": scores.iter().map(|(d, s)| (d.as_str().to_string(), Json::from(*s))).collect::<serde_json::Map<_, _>>(),
        "risk": risk.as_str(),
        "notes": notes.trim(),
    });
    let stage = if case.stage == CaseStage::Intake {
        CaseStage::Assessment
    } else {
        case.stage
    };
    event(conn, keys, &case, "assessment", stage, &body, actor, now).await?;
    set(conn, id, stage, &case.pending, now).await?;
    Sql::new("UPDATE cases SET risk_level = ")
        .bind(risk.as_str())
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    residents::set_tier(
        conn,
        viewer,
        &case.resident_id,
        risk,
        "case.event.assessment",
        &actor.name,
        now,
    )
    .await?;
    Ok(case)
}

/// One planned service: what, how often (times per month).
#[derive(Debug, Clone, Serialize)]
pub struct PlannedService {
    pub kind: String,
    pub per_month: i64,
}

/// 计划: goals and planned services, submitted for a supervisor's approval.
pub async fn submit_plan(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    goals: &str,
    services: &[PlannedService],
    actor: &Actor,
    now: Millis,
) -> StoreResult<Case> {
    let case = get(conn, viewer, id).await?;
    if !matches!(
        case.stage,
        CaseStage::Assessment | CaseStage::Planning | CaseStage::Intervention
    ) || !case.pending.is_empty()
    {
        return Err(wrong_stage());
    }
    if goals.trim().is_empty() {
        return Err(FieldError::new("goals", "form.required").into());
    }
    if services.is_empty() || services.iter().any(|s| !(1..=60).contains(&s.per_month)) {
        return Err(FieldError::new("services", "case.plan_services").into());
    }
    let body = serde_json::json!({ "goals": goals.trim(), "services": services });
    event(
        conn,
        keys,
        &case,
        "plan",
        CaseStage::Planning,
        &body,
        actor,
        now,
    )
    .await?;
    set(conn, id, CaseStage::Planning, "plan", now).await?;
    Ok(case)
}

/// A supervisor approves or returns what is pending (the plan or the closure). The worker on
/// the case cannot approve their own work.
pub async fn decide(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    approve: bool,
    comment: &str,
    actor: &Actor,
    today: &str,
    now: Millis,
) -> StoreResult<Case> {
    let case = get(conn, viewer, id).await?;
    if case.worker_user_id.as_deref() == Some(actor.user_id.as_str()) {
        return Err(FieldError::new("decision", "case.self_approval").into());
    }
    if !approve && comment.trim().is_empty() {
        return Err(FieldError::new("comment", "case.reason_required").into());
    }
    let body = serde_json::json!({ "comment": comment.trim() });
    match (case.pending.as_str(), approve) {
        ("plan", true) => {
            event(
                conn,
                keys,
                &case,
                "plan_approved",
                CaseStage::Intervention,
                &body,
                actor,
                now,
            )
            .await?;
            set(conn, id, CaseStage::Intervention, "", now).await?;
        }
        ("plan", false) => {
            event(
                conn,
                keys,
                &case,
                "plan_returned",
                CaseStage::Planning,
                &body,
                actor,
                now,
            )
            .await?;
            set(conn, id, CaseStage::Planning, "", now).await?;
        }
        ("closure", true) => {
            event(
                conn,
                keys,
                &case,
                "closed",
                CaseStage::Closed,
                &body,
                actor,
                now,
            )
            .await?;
            set(conn, id, CaseStage::Closed, "", now).await?;
            Sql::new("UPDATE cases SET closed_on = ")
                .bind(today)
                .push(" WHERE id = ")
                .bind(id)
                .execute(conn)
                .await?;
        }
        ("closure", false) => {
            event(
                conn,
                keys,
                &case,
                "closure_returned",
                CaseStage::Evaluation,
                &body,
                actor,
                now,
            )
            .await?;
            set(conn, id, CaseStage::Evaluation, "", now).await?;
        }
        _ => return Err(FieldError::new("decision", "case.nothing_pending").into()),
    }
    Ok(case)
}

/// 评估: how far the goals were reached, during intervention.
pub async fn evaluate(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    goals_met: i64,
    summary: &str,
    actor: &Actor,
    now: Millis,
) -> StoreResult<Case> {
    let case = get(conn, viewer, id).await?;
    if case.stage != CaseStage::Intervention {
        return Err(wrong_stage());
    }
    if !(0..=100).contains(&goals_met) {
        return Err(FieldError::new("goals_met", "form.out_of_range").into());
    }
    if summary.trim().is_empty() {
        return Err(FieldError::new("summary", "form.required").into());
    }
    let body = serde_json::json!({ "goals_met": goals_met, "summary": summary.trim() });
    event(
        conn,
        keys,
        &case,
        "evaluation",
        CaseStage::Evaluation,
        &body,
        actor,
        now,
    )
    .await?;
    set(conn, id, CaseStage::Evaluation, "", now).await?;
    Ok(case)
}

/// 个案记录: a note on the case's progress (a home visit's observations, a call, a meeting),
/// at any open stage. It is a sealed case event of kind `note` at the current stage; the case's
/// `updated_at` moves, since it was worked on, but its stage does not.
pub async fn note(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    text: &str,
    actor: &Actor,
    now: Millis,
) -> StoreResult<Case> {
    let case = get(conn, viewer, id).await?;
    if case.stage == CaseStage::Closed {
        return Err(wrong_stage());
    }
    if text.trim().is_empty() {
        return Err(FieldError::new("note", "form.required").into());
    }
    let body = serde_json::json!({ "text": text.trim() });
    event(conn, keys, &case, "note", case.stage, &body, actor, now).await?;
    Sql::new("UPDATE cases SET updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(case)
}

/// 结案: request closure with the outcome (a code, and a note — required for `other`); a
/// supervisor decides.
pub async fn request_closure(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    outcome: CaseOutcome,
    note: &str,
    actor: &Actor,
    now: Millis,
) -> StoreResult<Case> {
    let case = get(conn, viewer, id).await?;
    if case.stage != CaseStage::Evaluation || !case.pending.is_empty() {
        return Err(wrong_stage());
    }
    let note = note.trim();
    if outcome == CaseOutcome::Other && note.is_empty() {
        return Err(FieldError::new("outcome_note", "case.outcome_note_required").into());
    }
    event(
        conn,
        keys,
        &case,
        "closure_requested",
        CaseStage::Evaluation,
        &serde_json::json!({ "outcome": outcome.as_str(), "note": note }),
        actor,
        now,
    )
    .await?;
    set(conn, id, CaseStage::Evaluation, "closure", now).await?;
    Sql::new("UPDATE cases SET outcome_code = ")
        .bind(outcome.as_str())
        .push(", outcome = ")
        .bind(note)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(case)
}

/// Reopen a closed case: back to assessment, with the reason.
pub async fn reopen(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    reason: &str,
    actor: &Actor,
    now: Millis,
) -> StoreResult<Case> {
    let case = get(conn, viewer, id).await?;
    if case.stage != CaseStage::Closed {
        return Err(wrong_stage());
    }
    if reason.trim().is_empty() {
        return Err(FieldError::new("reason", "case.reason_required").into());
    }
    event(
        conn,
        keys,
        &case,
        "reopened",
        CaseStage::Assessment,
        &serde_json::json!({ "reason": reason.trim() }),
        actor,
        now,
    )
    .await?;
    set(conn, id, CaseStage::Assessment, "", now).await?;
    Sql::new("UPDATE cases SET closed_on = NULL WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(case)
}

/// 转介: refer the case to another station (anywhere); it moves when that station accepts.
pub async fn refer(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    station_id: &str,
    reason: &str,
    actor: &Actor,
    now: Millis,
) -> StoreResult<Case> {
    let case = get(conn, viewer, id).await?;
    if case.stage == CaseStage::Closed || case.transfer_station_id.is_some() {
        return Err(wrong_stage());
    }
    if case.station_id.as_deref() == Some(station_id) {
        return Err(FieldError::new("station", "case.same_station").into());
    }
    let target = stations::get(conn, &Scope::national(), station_id)
        .await
        .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
    if reason.trim().is_empty() {
        return Err(FieldError::new("reason", "case.reason_required").into());
    }
    let body =
        serde_json::json!({ "to": target.name, "station_id": target.id, "reason": reason.trim() });
    event(conn, keys, &case, "referred", case.stage, &body, actor, now).await?;
    Sql::new("UPDATE cases SET transfer_station_id = ")
        .bind(&target.id)
        .push(", transfer_region = ")
        .bind(&target.region_code)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(case)
}

/// The receiving side accepts (the case, and the resident's file, move to its station and
/// region; the new worker is the acceptor's choice) or declines (with a reason).
pub async fn answer_referral(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    accept: bool,
    worker: Option<&str>,
    reason: &str,
    actor: &Actor,
    now: Millis,
) -> StoreResult<Case> {
    let case = referral(conn, viewer, id).await?;
    let station = case
        .transfer_station_id
        .clone()
        .ok_or(StoreError::NotFound)?;
    let target = stations::get(conn, &Scope::national(), &station).await?;
    if !accept {
        if reason.trim().is_empty() {
            return Err(FieldError::new("reason", "case.reason_required").into());
        }
        event(
            conn,
            keys,
            &case,
            "referral_declined",
            case.stage,
            &serde_json::json!({ "reason": reason.trim(), "station": target.name }),
            actor,
            now,
        )
        .await?;
        Sql::new(
            "UPDATE cases SET transfer_station_id = NULL, transfer_region = NULL, updated_at = ",
        )
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
        return Ok(case);
    }
    if let Some(w) = worker {
        check_worker(conn, &viewer.scope, w, "worker").await?;
    }
    event(
        conn,
        keys,
        &case,
        "referral_accepted",
        case.stage,
        &serde_json::json!({ "station": target.name }),
        actor,
        now,
    )
    .await?;
    Sql::new("UPDATE cases SET station_id = ").bind(&target.id).push(", region_code = ").bind(&target.region_code)
        .push(", worker_user_id = ").bind(worker.map(str::to_owned)).push(", supervisor_user_id = NULL, transfer_station_id = NULL, transfer_region = NULL, updated_at = ")
        .bind(now).push(" WHERE id = ").bind(id).execute(conn).await?;
    let counted =
        counters::contribution(conn, &[counters::Subject::Resident(&case.resident_id)]).await?;
    // The person is now served there: their file follows unless it already lies within that region.
    let mut q = Sql::new("UPDATE residents SET station_id = ");
    q.bind(&target.id)
        .push(", worker_user_id = ")
        .bind(worker.map(str::to_owned))
        .push(", updated_at = ")
        .bind(now);
    let home: (String,) = Sql::new("SELECT region_code FROM residents WHERE id = ")
        .bind(case.resident_id.clone())
        .fetch_one(conn)
        .await?;
    if !home.0.starts_with(&target.region_code) {
        q.push(", region_code = ").bind(&target.region_code);
    }
    q.push(" WHERE id = ").bind(case.resident_id.clone());
    q.execute(conn).await?;
    counters::changed(
        conn,
        &[counters::Subject::Resident(&case.resident_id)],
        counted,
    )
    .await?;
    Ok(case)
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub kind: String,
    pub stage: CaseStage,
    pub body: Json,
    pub actor_name: String,
    pub at: i64,
}

/// A `case_events` row as stored (the body sealed).
#[derive(sqlx::FromRow)]
struct StoredEvent {
    kind: String,
    #[sqlx(try_from = "String")]
    stage: CaseStage,
    body_sealed: String,
    actor_name: String,
    at: i64,
}

/// The case history, oldest first, bodies opened.
pub async fn events(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
) -> StoreResult<Vec<CaseEvent>> {
    get(conn, viewer, id).await?;
    let rows: Vec<StoredEvent> = Sql::new(
        "SELECT kind, stage, body_sealed, actor_name, at FROM case_events WHERE case_id = ",
    )
    .bind(id)
    .push(" ORDER BY at, id")
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|e| CaseEvent {
            kind: e.kind,
            stage: e.stage,
            body: keys
                .open(BODY_FIELD, &e.body_sealed)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Json::Null),
            actor_name: e.actor_name,
            at: e.at,
        })
        .collect())
}
