//! `/api/v1/reports`: list, open, read (figures with their sources, 补报 adjustments, the level
//! below's statuses, history), type the manual lines, and the steps — submit (with the unit
//! head's sign-off), review, approve, return (with a reason), lock, request an unlock (with a
//! reason) and approve it. The same parsing, scope and audit as the pages.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::reports::{Action, Figures};
use shegong_store::PageRequest;
use shegong_store::reports::{self as rp, Report};
use utoipa::{IntoParams, ToSchema};

use super::pages::ListQuery;
use super::{Loaded, load};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::list::rfc3339;

/// One report.
#[derive(Serialize, ToSchema)]
pub struct ReportDto {
    pub id: String,
    #[schema(schema_with = super::code::template)]
    pub template: String,
    /// The reporting unit.
    pub region_code: String,
    pub region_path: String,
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub period: String,
    #[schema(schema_with = super::code::state)]
    pub state: String,
    /// A report below was unlocked after this one's approval: it needs approving again.
    pub stale: bool,
    pub return_reason: String,
    #[schema(format = Date)]
    pub due_on: String,
    pub submitted_at: Option<String>,
    /// Submitted by the due date (及时).
    pub on_time: bool,
    /// The unit head's electronic sign-off: who (account) and the name signed.
    pub signed_by: Option<String>,
    pub signed_name: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub locked_at: Option<String>,
}

fn dto(r: Report) -> ReportDto {
    ReportDto {
        on_time: r.on_time(),
        state: r.state.as_str().to_owned(),
        stale: r.stale != 0,
        submitted_at: r.submitted_at.map(rfc3339),
        decided_at: r.decided_at.map(rfc3339),
        locked_at: r.locked_at.map(rfc3339),
        id: r.id,
        template: r.template_code,
        region_code: r.region_code,
        region_path: r.region_path,
        period: r.period,
        return_reason: r.return_reason,
        due_on: r.due_on,
        signed_by: r.signed_by,
        signed_name: r.signed_name,
        decided_by: r.decided_by,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReportPage {
    pub items: Vec<ReportDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ReportsQuery {
    #[param(schema_with = super::code::template)]
    pub template: Option<String>,
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub period: Option<String>,
    #[param(schema_with = super::code::state)]
    pub state: Option<String>,
    /// Region code (within the caller's scope).
    pub region: Option<String>,
    /// `1`: only reports marked stale.
    pub stale: Option<String>,
    /// `1`: only reports late to submit (draft or returned, due before today).
    pub overdue: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Reports in the caller's scope, newest period first.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ReportsQuery),
    responses((status = 200, body = ReportPage), (status = 422, description = "An unknown code, named")))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportsQuery>,
) -> WebResult<Json<ReportPage>> {
    let u = reader(&ctx)?;
    let lq = ListQuery {
        template: q.template,
        period: q.period,
        state: q.state,
        region: q.region,
        stale: q.stale,
        overdue: q.overdue,
        ..ListQuery::default()
    };
    let mut c = state.db.read().await?;
    let p = rp::list(
        &mut c,
        &u.scope(),
        &lq.filter(&crate::ui::forms::today(state.now()))?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(ReportPage {
        items: p.items.into_iter().map(dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"template": "station_monthly", "region": "430202001", "period": "2026-04"}))]
pub struct OpenBody {
    #[schema(schema_with = super::code::template)]
    pub template: String,
    /// The reporting unit: a township, county, city or province code in the caller's scope.
    pub region: String,
    /// `YYYY-MM` (monthly), `YYYY-Qn` (quarterly) or `YYYY` (annual).
    pub period: String,
}

/// Open the report of a unit and period: an auto-filled draft when there is none yet, else the
/// existing one (idempotent).
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", request_body = OpenBody,
    responses((status = 201, body = ReportDetail), (status = 404, description = "The unit is outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn open(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<OpenBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = super::open_input(&b.template, &b.region, &b.period).map_err(WebError::Invalid)?;
    let id = super::open(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(detail(load(&state, &ctx, &id).await?)),
    )
        .into_response())
}

/// One line of a report.
#[derive(Serialize, ToSchema)]
pub struct ReportLineDto {
    pub code: String,
    /// `affairs`, `service`, `volunteers` or `resources`.
    pub section: String,
    /// `counter` or `records` (computed from the records), or `manual` (typed by the unit).
    pub source: String,
    /// An amount in fen (else a count, or minutes for volunteer time).
    pub money: bool,
    pub value: i64,
}

/// 补报: a change to the previous (locked) period's figures since it was locked.
#[derive(Serialize, ToSchema)]
pub struct ReportAdjustmentDto {
    pub code: String,
    pub period: String,
    pub delta: i64,
}

/// One unit of the level below.
#[derive(Serialize, ToSchema)]
pub struct ReportChildDto {
    pub region_code: String,
    pub region_name: String,
    pub report_id: Option<String>,
    /// The report's state (as `ReportDto.state`); null when the unit has not started one.
    pub state: Option<String>,
    pub on_time: bool,
    pub stale: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ReportStepDto {
    pub seq: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    pub action: String,
    pub note: String,
    pub by_user: String,
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReportDetail {
    pub report: ReportDto,
    /// The figures: the approved snapshot once approved, else computed now (the approved
    /// reports of the level below summed with this unit's own).
    pub lines: Vec<ReportLineDto>,
    pub adjustments: Vec<ReportAdjustmentDto>,
    pub children: Vec<ReportChildDto>,
    /// Units below that submitted by the due date, per mille (及时率).
    pub timeliness_permille: i64,
    /// Units below approved, per mille (完整率).
    pub completeness_permille: i64,
    /// The reason of an unlock request waiting for the level above.
    pub unlock_requested: Option<String>,
    pub steps: Vec<ReportStepDto>,
}

fn detail(l: Loaded) -> ReportDetail {
    let Loaded {
        r,
        f,
        lines,
        steps,
        unlock,
    } = l;
    let period = f.adjusted_period.clone().unwrap_or_default();
    ReportDetail {
        lines: lines
            .iter()
            .map(|line| ReportLineDto {
                value: f.figures.get(&line.code).copied().unwrap_or(0),
                money: line.money(),
                code: line.code.clone(),
                section: line.section.clone(),
                source: line.source.clone(),
            })
            .collect(),
        adjustments: f
            .adjustments
            .iter()
            .map(|(code, delta)| ReportAdjustmentDto {
                code: code.clone(),
                period: period.clone(),
                delta: *delta,
            })
            .collect(),
        children: f
            .children
            .into_iter()
            .map(|c| ReportChildDto {
                region_code: c.region_code,
                region_name: c.region_name,
                report_id: c.report_id,
                state: c.state.map(|s| s.as_str().to_owned()),
                on_time: c.on_time,
                stale: c.stale,
            })
            .collect(),
        timeliness_permille: f.timeliness,
        completeness_permille: f.completeness,
        unlock_requested: unlock.map(|u| u.reason),
        steps: steps
            .into_iter()
            .map(|s| ReportStepDto {
                seq: s.seq,
                from_state: s.from_state,
                to_state: s.to_state,
                action: s.action,
                note: s.note,
                by_user: s.by_user,
                at: rfc3339(s.at),
            })
            .collect(),
        report: dto(r),
    }
}

/// A report with its figures, adjustments, the level below and its history.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ReportDetail>> {
    Ok(Json(detail(load(&state, &ctx, &id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"values": {"affairs_dibao_changes": 3}}))]
pub struct ValuesBody {
    /// Manual line code → whole number (0 to 1,000,000,000); computed lines are refused.
    pub values: Figures,
}

/// Type the manual lines of a draft or returned report.
#[utoipa::path(post, path = "/api/v1/reports/{id}/values", tag = "reports", params(("id" = String, Path)),
    request_body = ValuesBody,
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not editable now, a computed line, or a value out of range")))]
pub async fn values(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ValuesBody>,
) -> WebResult<Json<ReportDetail>> {
    writer(&ctx)?;
    if b.values.len() > 100 {
        return Err(WebError::Invalid(vec![shegong_domain::FieldError::new(
            "values",
            "report.line_not_manual",
        )]));
    }
    super::set_values(&state, &ctx, id.clone(), b.values).await?;
    Ok(Json(detail(load(&state, &ctx, &id).await?)))
}

#[derive(Deserialize, ToSchema, Default)]
#[schema(example = json!({"reason": "低保变动数漏填"}))]
pub struct ReasonBody {
    /// Required to return a report or to ask for an unlock; up to 500 characters.
    #[serde(default)]
    pub reason: String,
}

async fn step(
    state: &AppState,
    ctx: &Ctx,
    id: String,
    action: Action,
    reason: String,
) -> WebResult<Json<ReportDetail>> {
    writer(ctx)?;
    super::act(state, ctx, id.clone(), action, reason).await?;
    Ok(Json(detail(load(state, ctx, &id).await?)))
}

/// Submit a draft or returned report, signed off by the caller as the unit head (the unit's own
/// step). Approved reports of the level below become 已汇总上报.
#[utoipa::path(post, path = "/api/v1/reports/{id}/submit", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not a step from the current state")))]
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ReportDetail>> {
    step(&state, &ctx, id, Action::Submit, String::new()).await
}

/// Take a submitted report under review (上级审核中; the level above's step).
#[utoipa::path(post, path = "/api/v1/reports/{id}/review", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not a step from the current state, or not the caller's level")))]
pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ReportDetail>> {
    step(&state, &ctx, id, Action::Review, String::new()).await
}

/// Approve a submitted report (the level above's step): its figures are frozen as the snapshot
/// and its summed-up children are locked.
#[utoipa::path(post, path = "/api/v1/reports/{id}/approve", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not a step from the current state, or not the caller's level")))]
pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ReportDetail>> {
    step(&state, &ctx, id, Action::Approve, String::new()).await
}

/// Return a submitted report to the unit with a reason (the level above's step).
#[utoipa::path(post, path = "/api/v1/reports/{id}/return", tag = "reports", params(("id" = String, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "No reason, not a step from the current state, or not the caller's level")))]
pub async fn return_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> WebResult<Json<ReportDetail>> {
    step(&state, &ctx, id, Action::Return, b.reason).await
}

/// Lock an approved report (the level above's step).
#[utoipa::path(post, path = "/api/v1/reports/{id}/lock", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not a step from the current state, or not the caller's level")))]
pub async fn lock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ReportDetail>> {
    step(&state, &ctx, id, Action::Lock, String::new()).await
}

/// Ask the level above to unlock a locked report, with the reason (the unit's step).
#[utoipa::path(post, path = "/api/v1/reports/{id}/unlock", tag = "reports", params(("id" = String, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "No reason, not locked, or a request already waiting")))]
pub async fn unlock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> WebResult<Json<ReportDetail>> {
    step(&state, &ctx, id, Action::RequestUnlock, b.reason).await
}

/// Approve the waiting unlock request (the level above's step): the report reopens as a draft
/// and every report above it for the period is marked stale.
#[utoipa::path(post, path = "/api/v1/reports/{id}/unlock/approve", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = ReportDetail), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "No request waiting, or not the caller's level")))]
pub async fn approve_unlock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ReportDetail>> {
    step(&state, &ctx, id, Action::ApproveUnlock, String::new()).await
}
