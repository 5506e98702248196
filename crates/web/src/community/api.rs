//! `/api/v1/issues`: the 急难愁盼 ledger — list, register, read (with its history), step, and
//! the tally per community for a week or a month. The same parsing, scope and audit as the pages.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_store::PageRequest;
use shegong_store::community::{self as cm, Issue, IssueStep, Tally};
use utoipa::{IntoParams, ToSchema};

use super::issues::{ListQuery, TallyQuery, tally_of};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::FormData;
use crate::ui::list::rfc3339;

/// One issue.
#[derive(Serialize, ToSchema)]
pub struct IssueDto {
    pub id: String,
    /// 台账编号: the community's code, the day and a sequence.
    pub issue_no: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    /// `person`, `household` or `community`.
    pub subject: String,
    pub resident_id: Option<String>,
    pub household_id: Option<String>,
    /// Where the matter came from.
    pub origin: String,
    pub source_ref: String,
    pub category: String,
    pub title: String,
    pub description: String,
    /// Urgency: `red`, `yellow` or `blue`.
    pub colour: String,
    /// As shown on the ledger: the urgency, or `green` once answered.
    pub shown_colour: String,
    pub raised_at: String,
    pub due_at: String,
    /// Not answered by the due time (open past it now, or answered after it).
    pub overdue: bool,
    pub responsibility: Option<String>,
    pub handler: String,
    pub state: String,
    pub answer: String,
    pub answered_at: Option<String>,
    pub rating: Option<String>,
}

fn dto(i: Issue, now: i64) -> IssueDto {
    IssueDto {
        overdue: i.overdue(now),
        shown_colour: i.shown_colour().to_owned(),
        subject: i.subject.as_str().to_owned(),
        origin: i.source.as_str().to_owned(),
        category: i.category.as_str().to_owned(),
        colour: i.colour.as_str().to_owned(),
        state: i.state.as_str().to_owned(),
        raised_at: rfc3339(i.raised_at),
        due_at: rfc3339(i.due_at),
        answered_at: i.answered_at.map(rfc3339),
        id: i.id,
        issue_no: i.issue_no,
        region_code: i.region_code,
        region_path: i.region_path,
        station_id: i.station_id,
        resident_id: i.resident_id,
        household_id: i.household_id,
        source_ref: i.source_ref,
        title: i.title,
        description: i.description,
        responsibility: i.responsibility,
        handler: i.handler,
        answer: i.answer,
        rating: i.rating,
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuePage {
    pub items: Vec<IssueDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct IssuesQuery {
    #[param(schema_with = super::code::colour)]
    pub colour: Option<String>,
    #[param(schema_with = super::code::state)]
    pub state: Option<String>,
    #[param(schema_with = super::code::category)]
    pub category: Option<String>,
    /// `1`: only issues open and past their due time now.
    pub overdue: Option<String>,
    /// Region code (within the caller's scope).
    pub region: Option<String>,
    /// Number, title or handler contains.
    pub q: Option<String>,
    /// Order: `no`, `region`, `category`, `colour`, `state`, `raised` (latest first) or `due`;
    /// `-` before it reverses the order. Any other value is the default order (latest raised
    /// first).
    #[param(schema_with = crate::http::api::code::issue_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Issues in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/issues", tag = "community", params(IssuesQuery),
    responses((status = 200, body = IssuePage), (status = 422, description = "An unknown code, named")))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<IssuesQuery>,
) -> WebResult<Json<IssuePage>> {
    let u = reader(&ctx)?;
    let now = state.now();
    let lq = ListQuery {
        colour: q.colour,
        state: q.state,
        category: q.category,
        overdue: q.overdue,
        region: q.region,
        q: q.q,
        sort: q.sort,
        ..ListQuery::default()
    };
    let mut c = state.db.read().await?;
    let p = cm::list(
        &mut c,
        &u.scope(),
        &lq.filter(now)?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(IssuePage {
        items: p.items.into_iter().map(|i| dto(i, now)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"subject": "community", "region": "430202001", "origin": "resident_meeting",
    "category": "utilities", "title": "三单元楼道灯不亮", "colour": "red"}))]
pub struct IssueBody {
    #[schema(schema_with = super::code::subject)]
    pub subject: String,
    /// For a person: the resident's file.
    #[serde(default)]
    pub resident_id: String,
    /// For a household: its id.
    #[serde(default)]
    pub household_id: String,
    /// For a community matter: the community (village level) or township code.
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub station_id: String,
    /// Where the matter came from.
    #[schema(schema_with = super::code::source)]
    pub origin: String,
    /// The visit, assessment, ticket or meeting it came from (a number or note).
    #[serde(default)]
    pub source_ref: String,
    #[schema(schema_with = super::code::category)]
    pub category: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[schema(schema_with = super::code::colour)]
    pub colour: String,
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<IssueDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(dto(cm::get(&mut c, &u.scope(), id).await?, state.now()))
}

/// Register an issue (登记): due by the region's policy for its colour.
#[utoipa::path(post, path = "/api/v1/issues", tag = "community", request_body = IssueBody,
    responses((status = 201, body = IssueDto), (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<IssueBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = FormData::new(
        [
            ("subject", b.subject),
            ("resident_id", b.resident_id),
            ("household_id", b.household_id),
            ("region", b.region),
            ("station", b.station_id),
            ("origin", b.origin),
            ("source_ref", b.source_ref),
            ("category", b.category),
            ("title", b.title),
            ("description", b.description),
            ("colour", b.colour),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    );
    let input = super::issue_input(&f).map_err(WebError::Invalid)?;
    let id = super::create(&state, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

/// One step of an issue's history.
#[derive(Serialize, ToSchema)]
pub struct IssueStepDto {
    pub seq: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
    pub by_user: String,
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct IssueDetail {
    pub issue: IssueDto,
    pub steps: Vec<IssueStepDto>,
}

fn step_dto(s: IssueStep) -> IssueStepDto {
    IssueStepDto {
        seq: s.seq,
        from_state: s.from_state,
        to_state: s.to_state,
        note: s.note,
        by_user: s.by_user,
        at: rfc3339(s.at),
    }
}

/// An issue with its history.
#[utoipa::path(get, path = "/api/v1/issues/{id}", tag = "community", params(("id" = String, Path)),
    responses((status = 200, body = IssueDetail), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<IssueDetail>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let i = cm::get(&mut c, &u.scope(), &id).await?;
    let steps = cm::steps(&mut c, &u.scope(), &id).await?;
    Ok(Json(IssueDetail {
        issue: dto(i, state.now()),
        steps: steps.into_iter().map(step_dto).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"step": "verify"}))]
pub struct IssueStepBody {
    /// One step from the current state: `verify` or `dismiss` (with the reason in `note`) from
    /// registered; `assign` (with `responsibility` and `handler`); `handle`; `answer` (the answer
    /// in `note`); `rate_satisfied`, `rate_fair` or `rate_unsatisfied` (handled again);
    /// `archive`.
    #[schema(schema_with = super::code::step)]
    pub step: String,
    #[serde(default)]
    #[schema(schema_with = super::code::responsibility)]
    pub responsibility: Option<String>,
    #[serde(default)]
    pub handler: String,
    #[serde(default)]
    pub note: String,
}

/// Move an issue one step.
#[utoipa::path(post, path = "/api/v1/issues/{id}/step", tag = "community", params(("id" = String, Path)),
    request_body = IssueStepBody,
    responses((status = 200, body = IssueDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not a step from the current state, or invalid fields, named")))]
pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<IssueStepBody>,
) -> WebResult<Json<IssueDto>> {
    writer(&ctx)?;
    let f = FormData::new(vec![
        ("step".into(), b.step),
        (
            "responsibility".into(),
            b.responsibility.unwrap_or_default(),
        ),
        ("handler".into(), b.handler),
        ("note".into(), b.note),
    ]);
    let input = super::step_input(&f).map_err(WebError::Invalid)?;
    super::step(&state, &ctx, id.clone(), input).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct TallyParams {
    /// `week` (default, Monday to Sunday) or `month`.
    #[param(schema_with = period)]
    pub period: Option<String>,
    /// A day within the period, `YYYY-MM-DD` (default today).
    #[param(format = Date)]
    pub date: Option<String>,
    /// Region code (within the caller's scope).
    pub region: Option<String>,
}

fn period() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(["week", "month"])
}

/// The issues raised in a week or month, per community.
#[derive(Serialize, ToSchema)]
pub struct IssueTally {
    #[schema(format = Date)]
    pub from: String,
    /// The first day after the period.
    #[schema(format = Date)]
    pub to: String,
    pub communities: Vec<TallyDto>,
}

/// One community's figures for the period.
#[derive(Serialize, ToSchema)]
pub struct TallyDto {
    pub region_code: String,
    pub region_name: String,
    pub raised: i64,
    pub red: i64,
    pub yellow: i64,
    pub blue: i64,
    pub answered: i64,
    /// Answered by the due time.
    pub on_time: i64,
    pub rated: i64,
    pub satisfied: i64,
    /// Still open past the due time at the end of the period.
    pub overdue: i64,
}

fn tally_dto(t: Tally) -> TallyDto {
    TallyDto {
        region_code: t.region_code,
        region_name: t.region_name,
        raised: t.raised,
        red: t.red,
        yellow: t.yellow,
        blue: t.blue,
        answered: t.answered,
        on_time: t.on_time,
        rated: t.rated,
        satisfied: t.satisfied,
        overdue: t.overdue,
    }
}

/// The week's or month's issues per community of the caller's scope: raised by colour, answered,
/// on time, rated, satisfied, and still open past the due time at the period's end — computed
/// from the records.
#[utoipa::path(get, path = "/api/v1/issues/tally", tag = "community", params(TallyParams),
    responses((status = 200, body = IssueTally), (status = 422, description = "Unknown period or a bad date, named")))]
pub async fn tally(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TallyParams>,
) -> WebResult<Json<IssueTally>> {
    let tq = TallyQuery {
        period: q.period,
        date: q.date,
        region: q.region,
    };
    let (from, to, _, rows) = tally_of(&state, &ctx, &tq).await?;
    Ok(Json(IssueTally {
        from: from.to_string(),
        to: to.to_string(),
        communities: rows.into_iter().map(tally_dto).collect(),
    }))
}
