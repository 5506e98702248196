//! `/api/v1/hotlines`, `/api/v1/tickets`: every write the hotline pages offer, with the same
//! checks and audit entries. Times are RFC 3339 in responses; in request bodies RFC 3339 or
//! "YYYY-MM-DD HH:MM" China time. The caller's phone is masked.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::hotline::{Category, Channel, TicketState};
use shegong_domain::people::identity::{Mobile, mask};
use shegong_store::PageRequest;
use shegong_store::hotline::tickets::{self as tk, Filter, Ticket, TicketEvent};
use shegong_store::hotline::{self as hl, Duty, Hotline};
use utoipa::{IntoParams, ToSchema};

use super::check_id;
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::forms::FormData;
use crate::ui::list::rfc3339;

fn form(pairs: Vec<(&str, String)>) -> FormData {
    FormData::new(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A phone shown masked: mobiles as `138****5678`, other numbers by the generic mask.
pub fn masked_phone(p: &str) -> String {
    Mobile::parse(p)
        .map(|m| m.masked())
        .unwrap_or_else(|_| mask(p))
}

#[derive(Serialize, ToSchema)]
pub struct DutyDto {
    pub id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    /// 1 Monday … 7 Sunday (weekly), or `on_date` (once).
    pub weekday: Option<i64>,
    #[schema(format = Date)]
    pub on_date: Option<String>,
    /// "HH:MM" China time; an end before the start runs past midnight.
    pub starts: String,
    pub ends: String,
}

fn duty_dto(d: Duty) -> DutyDto {
    DutyDto {
        id: d.id,
        user_id: d.user_id,
        user_name: d.user_name,
        weekday: d.weekday,
        on_date: d.on_date,
        starts: d.starts,
        ends: d.ends,
    }
}

#[derive(Serialize, ToSchema)]
pub struct HotlineDto {
    pub id: String,
    pub region_code: String,
    pub station_id: String,
    pub station_name: Option<String>,
    pub number: String,
    pub name: String,
    #[schema(schema_with = crate::hotline::code::kind)]
    pub kind: String,
    pub active: bool,
    /// The roster (only on a single line's read).
    pub roster: Vec<DutyDto>,
    /// Who is on duty now (only on a single line's read).
    pub on_duty: Vec<DutyDto>,
}

fn hotline_dto(h: Hotline, roster: Vec<Duty>, on_duty: Vec<Duty>) -> HotlineDto {
    HotlineDto {
        id: h.id,
        region_code: h.region_code,
        station_id: h.station_id,
        station_name: h.station_name,
        number: h.number,
        name: h.name,
        kind: h.kind.as_str().into(),
        active: h.active == 1,
        roster: roster.into_iter().map(duty_dto).collect(),
        on_duty: on_duty.into_iter().map(duty_dto).collect(),
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct HotlinesQuery {
    /// Number or name contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct HotlinePage {
    pub items: Vec<HotlineDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Hotlines in the caller's scope.
#[utoipa::path(get, path = "/api/v1/hotlines", tag = "hotline", params(HotlinesQuery),
    responses((status = 200, body = HotlinePage)))]
pub async fn list_hotlines(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HotlinesQuery>,
) -> WebResult<Json<HotlinePage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = hl::list(
        &mut c,
        &u.scope(),
        q.q.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(HotlinePage {
        items: p
            .items
            .into_iter()
            .map(|h| hotline_dto(h, vec![], vec![]))
            .collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load_hotline(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<HotlineDto> {
    check_id(id)?;
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let h = hl::get(&mut c, &u.scope(), id).await?;
    let roster = hl::roster(&mut c, &u.scope(), id).await?;
    let on = hl::on_duty(&mut c, &u.scope(), id, state.now()).await?;
    Ok(hotline_dto(h, roster, on))
}

/// One hotline with its roster and who is on duty now.
#[utoipa::path(get, path = "/api/v1/hotlines/{id}", tag = "hotline", params(("id" = String, Path)),
    responses((status = 200, body = HotlineDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get_hotline(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<HotlineDto>> {
    Ok(Json(load_hotline(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"station_id": "0190f5a0-0000-7000-8000-000000000001", "number": "0731-28812345",
    "name": "社工站守护热线", "kind": "station", "active": true}))]
pub struct HotlineBody {
    pub station_id: String,
    /// Digits and dashes, 3–20 characters; unique per station.
    #[schema(pattern = "^[0-9][0-9-]{2,19}$")]
    pub number: String,
    #[serde(default)]
    pub name: String,
    #[schema(schema_with = crate::hotline::code::kind)]
    pub kind: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn hotline_form(b: HotlineBody) -> FormData {
    form(vec![
        ("station_id", b.station_id),
        ("number", b.number),
        ("name", b.name),
        ("kind", b.kind),
        ("active", b.active.to_string()),
    ])
}

/// Add a hotline to a station.
#[utoipa::path(post, path = "/api/v1/hotlines", tag = "hotline", request_body = HotlineBody,
    responses((status = 201, body = HotlineDto), (status = 403, description = "Cannot write"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn create_hotline(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<HotlineBody>,
) -> WebResult<Response> {
    crate::http::write::writer(&ctx)?;
    let input = super::hotline_input(&hotline_form(b)).map_err(WebError::Invalid)?;
    let id = super::create_hotline(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_hotline(&state, &ctx, &id).await?),
    )
        .into_response())
}

/// Change a hotline (number, name, kind, station, active).
#[utoipa::path(put, path = "/api/v1/hotlines/{id}", tag = "hotline", params(("id" = String, Path)),
    request_body = HotlineBody,
    responses((status = 200, body = HotlineDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn update_hotline(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<HotlineBody>,
) -> WebResult<Json<HotlineDto>> {
    crate::http::write::writer(&ctx)?;
    load_hotline(&state, &ctx, &id).await?;
    let input = super::hotline_input(&hotline_form(b)).map_err(WebError::Invalid)?;
    super::update_hotline(&state, &ctx, &id, input).await?;
    Ok(Json(load_hotline(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"user_id": "0190f5a0-0000-7000-8000-000000000002", "weekday": 1, "starts": "08:30", "ends": "17:30"}))]
pub struct DutyBody {
    /// A worker account reaching the line's station.
    pub user_id: String,
    /// 1 Monday … 7 Sunday, every week; or give `on_date`.
    #[serde(default)]
    pub weekday: Option<i64>,
    #[serde(default)]
    #[schema(format = Date)]
    pub on_date: Option<String>,
    /// "HH:MM" China time.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub starts: String,
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub ends: String,
}

/// Take a shift off the line's roster; returns the line.
#[utoipa::path(delete, path = "/api/v1/hotlines/{id}/duty/{duty}", tag = "hotline",
    params(("id" = String, Path), ("duty" = String, Path, description = "The shift's id (from the line's roster)")),
    responses((status = 200, body = HotlineDto), (status = 404, description = "Unknown line or shift, or outside the caller's scope")))]
pub async fn remove_duty(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, duty)): Path<(String, String)>,
) -> WebResult<Json<HotlineDto>> {
    crate::http::write::writer(&ctx)?;
    super::remove_duty(&state, &ctx, &id, &duty).await?;
    Ok(Json(load_hotline(&state, &ctx, &id).await?))
}

/// Put a worker on the line's roster; returns the line.
#[utoipa::path(post, path = "/api/v1/hotlines/{id}/duty", tag = "hotline", params(("id" = String, Path)),
    request_body = DutyBody,
    responses((status = 201, body = HotlineDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn add_duty(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<DutyBody>,
) -> WebResult<Response> {
    crate::http::write::writer(&ctx)?;
    load_hotline(&state, &ctx, &id).await?;
    let input = super::duty_input(&form(vec![
        ("user_id", b.user_id),
        (
            "weekday",
            b.weekday.map(|w| w.to_string()).unwrap_or_default(),
        ),
        ("on_date", b.on_date.unwrap_or_default()),
        ("starts", b.starts),
        ("ends", b.ends),
    ]))
    .map_err(WebError::Invalid)?;
    super::add_duty(&state, &ctx, &id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_hotline(&state, &ctx, &id).await?),
    )
        .into_response())
}

// ---------------------------------------------------------------- tickets

#[derive(Serialize, ToSchema)]
pub struct TicketEventDto {
    pub step: String,
    pub from_state: Option<String>,
    #[schema(schema_with = crate::hotline::code::state)]
    pub to_state: String,
    pub note: String,
    pub actor: String,
    #[schema(format = DateTime)]
    pub at: String,
}

fn event_dto(e: TicketEvent) -> TicketEventDto {
    TicketEventDto {
        step: e.step,
        from_state: e.from_state,
        to_state: e.to_state,
        note: e.note,
        actor: e.actor_name.unwrap_or(e.actor_id),
        at: rfc3339(e.at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct TicketDto {
    pub id: String,
    pub region_code: String,
    pub station_id: String,
    pub hotline_id: Option<String>,
    #[schema(schema_with = crate::hotline::code::channel)]
    pub channel: String,
    #[schema(format = DateTime)]
    pub received_at: String,
    pub caller_name: String,
    /// Masked.
    pub caller_phone: Option<String>,
    #[schema(schema_with = crate::hotline::code::category)]
    pub category: String,
    #[schema(schema_with = crate::hotline::code::urgency)]
    pub urgency: String,
    pub content: String,
    pub assignee_user_id: Option<String>,
    #[schema(format = DateTime)]
    pub due_at: String,
    #[schema(schema_with = crate::hotline::code::state)]
    pub state: String,
    pub overdue: bool,
    /// 0 on time; 1 township, 2 county, 3 city, 4 province.
    pub escalation: u8,
    /// The 12345 ticket number and its mirrored state.
    pub external_no: Option<String>,
    pub external_state: String,
    /// The resident the caller was confirmed as.
    pub resident_id: Option<String>,
    pub household_id: Option<String>,
    pub outcome: Option<String>,
    pub case_id: Option<String>,
    pub service_id: Option<String>,
    pub org_id: Option<String>,
    pub outcome_ref: String,
    pub satisfaction: Option<String>,
    /// The local crisis protocol (crisis tickets only).
    pub protocol: Option<String>,
    /// The history (only on a single ticket's read).
    pub history: Vec<TicketEventDto>,
}

pub(crate) fn ticket_dto(state: &AppState, t: Ticket, history: Vec<TicketEvent>) -> TicketDto {
    let now = state.now();
    let rules = &state.config.hotline;
    TicketDto {
        overdue: t.overdue(now),
        escalation: t.escalation(now, rules.escalation_working_days),
        caller_phone: t.phone(&state.keys).map(|p| masked_phone(&p)),
        protocol: (t.category == Category::Crisis).then(|| rules.crisis_protocol.clone()),
        id: t.id,
        region_code: t.region_code,
        station_id: t.station_id,
        hotline_id: t.hotline_id,
        channel: t.channel.as_str().into(),
        received_at: rfc3339(t.received_at),
        caller_name: t.caller_name,
        category: t.category.as_str().into(),
        urgency: t.urgency.as_str().into(),
        content: t.content,
        assignee_user_id: t.assignee_user_id,
        due_at: rfc3339(t.due_at),
        state: t.state.as_str().into(),
        external_no: t.external_no,
        external_state: t.external_state,
        resident_id: t.resident_id,
        household_id: t.household_id,
        outcome: t.outcome,
        case_id: t.case_id,
        service_id: t.service_id,
        org_id: t.org_id,
        outcome_ref: t.outcome_ref,
        satisfaction: t.satisfaction,
        history: history.into_iter().map(event_dto).collect(),
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct TicketsQuery {
    /// Content, caller name or 12345 number contains.
    pub q: Option<String>,
    #[param(schema_with = crate::hotline::code::state)]
    pub state: Option<String>,
    #[param(schema_with = crate::hotline::code::category)]
    pub category: Option<String>,
    #[param(schema_with = crate::hotline::code::channel)]
    pub channel: Option<String>,
    pub station_id: Option<String>,
    pub assignee_user_id: Option<String>,
    /// Past due and not answered.
    pub overdue: Option<bool>,
    /// Crisis tickets only.
    pub crisis: Option<bool>,
    /// Overdue tickets escalated at least to this level (1 township … 4 province).
    pub escalated_to: Option<u8>,
    /// Order: `received` (newest first), `due`, `state`, `category` or `channel`; `-` before it
    /// reverses the order. Any other value is the default order (newest first).
    #[param(schema_with = crate::http::api::code::ticket_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these tickets (comma-separated ids of a batch selection, at most 200).
    #[serde(default)]
    #[param(ignore)]
    pub ids: Option<String>,
}

impl TicketsQuery {
    pub fn filter(&self) -> WebResult<Filter> {
        let opt = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty() && s.len() <= 64);
        let code = |v: &Option<String>| opt(v).map(|s| s.trim().to_owned());
        Ok(Filter {
            text: opt(&self.q),
            state: code(&self.state)
                .map(|s| TicketState::parse(&s))
                .transpose()?,
            category: code(&self.category)
                .map(|s| Category::parse(&s))
                .transpose()?,
            channel: code(&self.channel)
                .map(|s| Channel::parse(&s))
                .transpose()?,
            station_id: opt(&self.station_id),
            assignee_user_id: opt(&self.assignee_user_id),
            overdue: self.overdue.unwrap_or(false),
            crisis: self.crisis.unwrap_or(false),
            escalated_to: self.escalated_to.filter(|l| (1..=4).contains(l)),
            sort: self.sort(),
            ids: crate::ui::list::batch_ids(self.ids.as_deref())?,
        })
    }

    pub fn sort(&self) -> Option<shegong_store::Sort> {
        shegong_store::Sort::parse(self.sort.as_deref(), tk::SORTS)
    }
}

#[derive(Serialize, ToSchema)]
pub struct TicketPage {
    pub items: Vec<TicketDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Tickets in the caller's scope, newest first; filters for overdue, escalated and crisis lists.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "hotline", params(TicketsQuery),
    responses((status = 200, body = TicketPage), (status = 422, description = "An unknown code in a filter")))]
pub async fn list_tickets(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TicketsQuery>,
) -> WebResult<Json<TicketPage>> {
    let u = reader(&ctx)?;
    let f = q.filter()?;
    let mut c = state.db.read().await?;
    let per_level = state.config.hotline.escalation_working_days;
    let p = tk::list(
        &mut c,
        &u.scope(),
        &f,
        state.now(),
        per_level,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(TicketPage {
        items: p
            .items
            .into_iter()
            .map(|t| ticket_dto(&state, t, vec![]))
            .collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load_ticket(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<TicketDto> {
    check_id(id)?;
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let t = tk::get(&mut c, &u.scope(), id).await?;
    let h = tk::history(&mut c, &u.scope(), id).await?;
    Ok(ticket_dto(state, t, h))
}

/// One ticket with its history (and the crisis protocol for a crisis).
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "hotline", params(("id" = String, Path)),
    responses((status = 200, body = TicketDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<TicketDto>> {
    Ok(Json(load_ticket(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"station_id": "0190f5a0-0000-7000-8000-000000000001", "channel": "phone",
    "caller_name": "李阿姨", "caller_phone": "13800001234", "category": "help", "urgency": "normal",
    "content": "独居老人家中停水，求助"}))]
pub struct TicketBody {
    pub station_id: String,
    #[serde(default)]
    pub hotline_id: String,
    #[schema(schema_with = crate::hotline::code::channel)]
    pub channel: String,
    /// Only for a 12345 dispatch (never in the future); otherwise the server's clock.
    #[serde(default)]
    pub received_at: String,
    /// Empty for an anonymous caller.
    #[serde(default)]
    pub caller_name: String,
    #[serde(default)]
    pub caller_phone: String,
    /// The caller's identity number, to find them on file (sealed; only its keyed hash kept).
    #[serde(default)]
    pub caller_id_number: String,
    #[schema(schema_with = crate::hotline::code::category)]
    pub category: String,
    #[serde(default)]
    #[schema(schema_with = crate::hotline::code::urgency)]
    pub urgency: String,
    pub content: String,
    /// Dispatched at once to this worker.
    #[serde(default)]
    pub assignee_user_id: String,
    /// The 12345 ticket number (required for, and only for, a 12345 dispatch; unique).
    #[serde(default)]
    pub external_no: String,
    #[serde(default)]
    pub external_state: String,
}

/// Take a ticket; its due time follows the configured policy for its category.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "hotline", request_body = TicketBody,
    responses((status = 201, body = TicketDto), (status = 403, description = "Cannot write"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn create_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<TicketBody>,
) -> WebResult<Response> {
    crate::http::write::writer(&ctx)?;
    let input = super::ticket_input(&form(vec![
        ("station_id", b.station_id),
        ("hotline_id", b.hotline_id),
        ("channel", b.channel),
        ("received_at", b.received_at),
        ("caller_name", b.caller_name),
        ("caller_phone", b.caller_phone),
        ("caller_id_number", b.caller_id_number),
        ("category", b.category),
        ("urgency", b.urgency),
        ("content", b.content),
        ("assignee_user_id", b.assignee_user_id),
        ("external_no", b.external_no),
        ("external_state", b.external_state),
    ]))
    .map_err(WebError::Invalid)?;
    let id = super::create_ticket(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_ticket(&state, &ctx, &id).await?),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"step": "assign", "assignee_user_id": "0190f5a0-0000-7000-8000-000000000002"}))]
pub struct TicketStepBody {
    #[schema(schema_with = crate::hotline::code::step)]
    pub step: String,
    /// The reason (required to return a ticket or to ask for an extension).
    #[serde(default)]
    pub note: String,
    /// For `assign` and `reassign`.
    #[serde(default)]
    pub assignee_user_id: String,
    /// For `approve_extension`: the new due time.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub due_at: String,
    /// For `follow_up`.
    #[serde(default)]
    #[schema(schema_with = crate::hotline::code::satisfaction)]
    pub satisfaction: String,
}

/// Move a ticket one step; a step its state does not allow is refused on `step`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/step", tag = "hotline", params(("id" = String, Path)),
    request_body = TicketStepBody,
    responses((status = 200, body = TicketDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not allowed in this state, or invalid fields; nothing written")))]
pub async fn step_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<TicketStepBody>,
) -> WebResult<Json<TicketDto>> {
    crate::http::write::writer(&ctx)?;
    load_ticket(&state, &ctx, &id).await?;
    let (step, input) = super::step_input(&form(vec![
        ("step", b.step),
        ("note", b.note),
        ("assignee_user_id", b.assignee_user_id),
        ("due_at", b.due_at),
        ("satisfaction", b.satisfaction),
    ]))
    .map_err(WebError::Invalid)?;
    super::step_ticket(&state, &ctx, &id, step, input).await?;
    Ok(Json(load_ticket(&state, &ctx, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct MatchCandidateDto {
    pub resident_id: String,
    pub name: String,
    pub household_id: Option<String>,
    /// `id_number` or `earlier_ticket` (the same phone, confirmed before).
    pub matched_by: String,
}

/// Residents the caller may be (by identity number, or the same phone on an earlier confirmed
/// ticket), for a user to confirm one.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/candidates", tag = "hotline", params(("id" = String, Path)),
    responses((status = 200, body = Vec<MatchCandidateDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn candidates(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<MatchCandidateDto>>> {
    check_id(&id)?;
    let u = reader(&ctx)?;
    let viewer = crate::people::residents::viewer(&state, u);
    let mut c = state.db.read().await?;
    let list = tk::candidates(&mut c, &viewer, &id).await?;
    Ok(Json(
        list.into_iter()
            .map(|m| MatchCandidateDto {
                resident_id: m.resident_id,
                name: m.name,
                household_id: m.household_id,
                matched_by: m.matched_by,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct TicketResidentBody {
    /// A resident on file the caller may see.
    pub resident_id: String,
}

/// Confirm the caller as a resident on file (audited); an unknown one is refused on `resident_id`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/resident", tag = "hotline", params(("id" = String, Path)),
    request_body = TicketResidentBody,
    responses((status = 200, body = TicketDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Unknown resident; nothing written")))]
pub async fn confirm_resident(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<TicketResidentBody>,
) -> WebResult<Json<TicketDto>> {
    crate::http::write::writer(&ctx)?;
    load_ticket(&state, &ctx, &id).await?;
    if b.resident_id.trim().is_empty() || b.resident_id.len() > 64 {
        return Err(WebError::Invalid(vec![shegong_domain::FieldError::new(
            "resident_id",
            "ticket.resident_unknown",
        )]));
    }
    super::confirm_resident(&state, &ctx, &id, b.resident_id.trim().to_owned()).await?;
    Ok(Json(load_ticket(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "service_recorded", "duration_minutes": 30, "workers": "王社工"}))]
pub struct OutcomeBody {
    #[schema(schema_with = crate::hotline::code::outcome)]
    pub outcome: String,
    /// For `referred`.
    #[serde(default)]
    pub org_id: String,
    /// For a volunteer task or resource match: what it is.
    #[serde(default)]
    pub outcome_ref: String,
    /// For `service_recorded`: the service's length and who served.
    #[serde(default)]
    pub duration_minutes: Option<i64>,
    #[serde(default)]
    pub workers: String,
}

/// Record what came of the ticket (once): a case opened or a service recorded for the confirmed
/// resident (linked), a referral, a volunteer task or resource match.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/outcome", tag = "hotline", params(("id" = String, Path)),
    request_body = OutcomeBody,
    responses((status = 200, body = TicketDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn set_outcome(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<OutcomeBody>,
) -> WebResult<Json<TicketDto>> {
    crate::http::write::writer(&ctx)?;
    load_ticket(&state, &ctx, &id).await?;
    let input = super::outcome_input(&form(vec![
        ("outcome", b.outcome),
        ("org_id", b.org_id),
        ("outcome_ref", b.outcome_ref),
        (
            "duration_minutes",
            b.duration_minutes
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        ("workers", b.workers),
    ]))
    .map_err(WebError::Invalid)?;
    super::set_outcome(&state, &ctx, &id, input).await?;
    Ok(Json(load_ticket(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"external_state": "已办结"}))]
pub struct ExternalStateBody {
    /// The ticket's state in the 12345 system, as it reads there.
    pub external_state: String,
}

/// Mirror a 12345 ticket's external state (nothing is sent to 12345).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/external", tag = "hotline", params(("id" = String, Path)),
    request_body = ExternalStateBody,
    responses((status = 200, body = TicketDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not a 12345 ticket, or an invalid state text")))]
pub async fn mirror_external(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ExternalStateBody>,
) -> WebResult<Json<TicketDto>> {
    crate::http::write::writer(&ctx)?;
    load_ticket(&state, &ctx, &id).await?;
    super::mirror_external(&state, &ctx, &id, b.external_state).await?;
    Ok(Json(load_ticket(&state, &ctx, &id).await?))
}
