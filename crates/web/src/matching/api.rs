//! `/api/v1/needs`, `/api/v1/resources`, `/api/v1/matches`, `/api/v1/community-lists`: the
//! same parsing, scope and audit as the pages. Reasons come with their message key, argument
//! and the text in the caller's language.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_domain::matching::Reason;
use shegong_store::PageRequest;
use shegong_store::matching::lists::{self, Approval, NeedLine, ResourceLine, ServiceLine};
use shegong_store::matching::matches::{self as mm, Match};
use shegong_store::matching::needs::{self as nd, Need};
use shegong_store::matching::resources::{self as rs, Proposal, Resource};
use utoipa::{IntoParams, ToSchema};

use super::pages::{ListsQuery, MatchesQuery, NeedsQuery, ResourcesQuery, lists_of};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::list::rfc3339;

/// A reason for a score, in plain words.
#[derive(Serialize, ToSchema)]
pub struct MatchReason {
    /// The message key (`match.why.skill`, …).
    pub key: String,
    pub arg: String,
    /// The reason in the caller's language.
    pub text: String,
}

fn reasons(t: &Tr, rs: &[Reason]) -> Vec<MatchReason> {
    rs.iter()
        .map(|r| MatchReason {
            key: r.key.clone(),
            arg: r.arg.clone(),
            text: super::reason_text(t, r),
        })
        .collect()
}

/// One need.
#[derive(Serialize, ToSchema)]
pub struct NeedDto {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub subject: String,
    pub resident_id: Option<String>,
    pub household_id: Option<String>,
    pub help_kind: String,
    pub title: String,
    pub description: String,
    /// Items (goods) or fen (money); 0 for help given in time.
    pub quantity: i64,
    #[schema(format = Date)]
    pub wanted_on: Option<String>,
    pub day_part: Option<String>,
    pub source: String,
    pub source_id: Option<String>,
    pub state: String,
    pub cancel_reason: String,
    /// Matches proposed or confirmed, not yet executed.
    pub live_matches: i64,
    pub created_at: String,
}

fn need_dto(n: Need) -> NeedDto {
    NeedDto {
        subject: n.subject.as_str().to_owned(),
        help_kind: n.help_kind.as_str().to_owned(),
        source: n.source.as_str().to_owned(),
        state: n.state.as_str().to_owned(),
        created_at: rfc3339(n.created_at),
        id: n.id,
        region_code: n.region_code,
        region_path: n.region_path,
        station_id: n.station_id,
        resident_id: n.resident_id,
        household_id: n.household_id,
        title: n.title,
        description: n.description,
        quantity: n.quantity,
        wanted_on: n.wanted_on,
        day_part: n.day_part,
        source_id: n.source_id,
        cancel_reason: n.cancel_reason,
        live_matches: n.live_matches,
    }
}

#[derive(Serialize, ToSchema)]
pub struct NeedPage {
    pub items: Vec<NeedDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct NeedsParams {
    #[param(schema_with = super::code::help_kind)]
    pub help_kind: Option<String>,
    #[param(schema_with = super::code::need_state)]
    pub state: Option<String>,
    /// Region code (within the caller's scope).
    pub region: Option<String>,
    /// A resident's needs.
    pub resident_id: Option<String>,
    /// Title contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Needs in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/needs", tag = "matching", params(NeedsParams),
    responses((status = 200, body = NeedPage), (status = 422, description = "An unknown code, named")))]
pub async fn list_needs(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NeedsParams>,
) -> WebResult<Json<NeedPage>> {
    let u = reader(&ctx)?;
    let nq = NeedsQuery {
        help_kind: q.help_kind,
        state: q.state,
        region: q.region,
        resident_id: q.resident_id,
        q: q.q,
        ..NeedsQuery::default()
    };
    let mut c = state.db.read().await?;
    let p = nd::list(
        &mut c,
        &u.scope(),
        &nq.filter()?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(NeedPage {
        items: p.items.into_iter().map(need_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"subject": "community", "region": "430202001", "help_kind": "venue",
    "title": "重阳节活动需要场地", "wanted_on": "2099-10-29", "day_part": "afternoon"}))]
pub struct NeedBody {
    #[schema(schema_with = super::code::subject)]
    pub subject: String,
    #[serde(default)]
    pub resident_id: String,
    #[serde(default)]
    pub household_id: String,
    /// For a community need: the community (village level) or township code.
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub station_id: String,
    #[schema(schema_with = super::code::help_kind)]
    pub help_kind: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Goods: how many items.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Money: the amount in yuan (`300`, `1,200.50`).
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub wanted_on: String,
    #[serde(default)]
    #[schema(schema_with = super::code::day_part)]
    pub day_part: Option<String>,
    /// Where the need was found (default `other`); the record's id in `source_id`.
    #[serde(default)]
    #[schema(schema_with = super::code::source)]
    pub source: Option<String>,
    #[serde(default)]
    pub source_id: String,
}

async fn load_need(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<NeedDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(need_dto(nd::get(&mut c, &u.scope(), id).await?))
}

/// Register a need.
#[utoipa::path(post, path = "/api/v1/needs", tag = "matching", request_body = NeedBody,
    responses((status = 201, body = NeedDto), (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn create_need(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<NeedBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = FormData::new(
        [
            ("subject", b.subject),
            ("resident_id", b.resident_id),
            ("household_id", b.household_id),
            ("region", b.region),
            ("station", b.station_id),
            ("help_kind", b.help_kind),
            ("title", b.title),
            ("description", b.description),
            (
                "quantity",
                b.quantity.map(|q| q.to_string()).unwrap_or_default(),
            ),
            ("amount", b.amount),
            ("wanted_on", b.wanted_on),
            ("day_part", b.day_part.unwrap_or_default()),
            ("source", b.source.unwrap_or_default()),
            ("source_id", b.source_id),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    );
    let input = super::need_input(&f, &super::today_of(&state)).map_err(WebError::Invalid)?;
    let id = super::create_need(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_need(&state, &ctx, &id).await?),
    )
        .into_response())
}

/// A need with its matches.
#[derive(Serialize, ToSchema)]
pub struct NeedDetail {
    pub need: NeedDto,
    pub matches: Vec<MatchDto>,
}

/// A need and its matches.
#[utoipa::path(get, path = "/api/v1/needs/{id}", tag = "matching", params(("id" = String, Path)),
    responses((status = 200, body = NeedDetail), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get_need(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<NeedDetail>> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let n = nd::get(&mut c, &u.scope(), &id).await?;
    let f = mm::Filter {
        need_id: Some(id),
        ..mm::Filter::default()
    };
    let ms = mm::list(&mut c, &u.scope(), &f, PageRequest::new(None, Some(200))).await?;
    Ok(Json(NeedDetail {
        need: need_dto(n),
        matches: ms.items.into_iter().map(|m| match_dto(&t, m)).collect(),
    }))
}

/// A resource as read from the records.
#[derive(Serialize, ToSchema)]
pub struct ResourceDto {
    #[schema(schema_with = super::code::resource_kind)]
    pub kind: String,
    /// The volunteer, contract line, fund or station.
    pub id: String,
    /// Goods: the item; purchased capacity: the station it is delivered through; else empty.
    pub item: String,
    pub label: String,
    pub region_code: String,
    pub region_path: String,
    pub detail: String,
    pub detail2: String,
    pub availability: String,
    /// Sessions left, items in stock or money not committed (fen).
    pub remaining: Option<i64>,
    pub unit: String,
    pub open_matches: i64,
    /// A volunteer holding a time-bank account: the service can be credited.
    pub timebank_member: bool,
}

fn resource_dto(r: Resource) -> ResourceDto {
    ResourceDto {
        kind: r.kind.as_str().to_owned(),
        id: r.id,
        item: r.item,
        label: r.label,
        region_code: r.region_code,
        region_path: r.region_path,
        detail: r.detail,
        detail2: r.detail2,
        availability: r.availability,
        remaining: r.remaining,
        unit: r.unit,
        open_matches: r.open_matches,
        timebank_member: r.timebank > 0,
    }
}

/// A resource proposed for a need.
#[derive(Serialize, ToSchema)]
pub struct MatchCandidate {
    pub resource: ResourceDto,
    /// 0–100: distance 40, fit 30, availability 20, load 10.
    pub score: u32,
    pub reasons: Vec<MatchReason>,
}

/// Resources left out, by reason.
#[derive(Serialize, ToSchema)]
pub struct ExcludedDto {
    /// `too_far`, `no_fit`, `not_available` or `exhausted`.
    pub reason: String,
    pub count: i64,
    pub text: String,
}

/// The matcher's proposals for a need.
#[derive(Serialize, ToSchema)]
pub struct MatchCandidates {
    /// The recipient already has this kind of help that day: nothing is proposed.
    pub throttled: bool,
    pub candidates: Vec<MatchCandidate>,
    pub excluded: Vec<ExcludedDto>,
}

fn candidate_dto(t: &Tr, p: Proposal) -> MatchCandidate {
    MatchCandidate {
        reasons: reasons(t, &p.reasons),
        score: p.score,
        resource: resource_dto(p.resource),
    }
}

/// The resources the matcher proposes for a need, best first, each with its score and reasons.
#[utoipa::path(get, path = "/api/v1/needs/{id}/candidates", tag = "matching", params(("id" = String, Path)),
    responses((status = 200, body = MatchCandidates), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn candidates(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<MatchCandidates>> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let viewer = crate::people::residents::viewer(&state, u);
    let mut c = state.db.read().await?;
    let n = nd::get(&mut c, &u.scope(), &id).await?;
    let p = rs::propose(&mut c, &viewer, &n).await?;
    Ok(Json(MatchCandidates {
        throttled: p.throttled,
        candidates: p
            .candidates
            .into_iter()
            .map(|x| candidate_dto(&t, x))
            .collect(),
        excluded: p
            .excluded
            .into_iter()
            .map(|(k, n)| ExcludedDto {
                text: t.get(&format!("match.excluded.{k}")).to_owned(),
                reason: k.to_owned(),
                count: n,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "家属已自行安排"}))]
pub struct CancelBody {
    pub reason: String,
}

/// Cancel an open need (its live matches are abandoned with it).
#[utoipa::path(post, path = "/api/v1/needs/{id}/cancel", tag = "matching", params(("id" = String, Path)),
    request_body = CancelBody,
    responses((status = 200, body = NeedDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "No reason, or the need is not open")))]
pub async fn cancel_need(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<CancelBody>,
) -> WebResult<Json<NeedDto>> {
    writer(&ctx)?;
    if b.reason.chars().count() > 200 {
        return Err(FieldError::new("reason", "form.too_long").into());
    }
    super::cancel_need(&state, &ctx, id.clone(), b.reason).await?;
    Ok(Json(load_need(&state, &ctx, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ResourcePage {
    pub items: Vec<ResourceDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ResourcesParams {
    #[param(schema_with = super::code::resource_kind)]
    pub kind: Option<String>,
    /// Resources serving this region (in it, or above it).
    pub region: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Resources serving the caller's scope (and the region asked), read from the records.
#[utoipa::path(get, path = "/api/v1/resources", tag = "matching", params(ResourcesParams),
    responses((status = 200, body = ResourcePage), (status = 422, description = "An unknown kind or region, named")))]
pub async fn list_resources(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ResourcesParams>,
) -> WebResult<Json<ResourcePage>> {
    let rq = ResourcesQuery {
        kind: q.kind,
        region: q.region,
        page: q.page,
        per_page: q.per_page,
    };
    let p = super::pages::resources_of(&state, &ctx, &rq).await?;
    Ok(Json(ResourcePage {
        items: p.items.into_iter().map(resource_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// One match.
#[derive(Serialize, ToSchema)]
pub struct MatchDto {
    pub id: String,
    pub need_id: String,
    pub need_title: String,
    pub region_code: String,
    pub region_path: String,
    pub resident_id: Option<String>,
    pub help_kind: String,
    #[schema(schema_with = super::code::resource_kind)]
    pub resource_kind: String,
    pub resource_id: String,
    pub resource_item: String,
    pub resource_label: String,
    pub score: i64,
    /// The matcher's reasons at proposal.
    pub reasons: Vec<MatchReason>,
    #[schema(schema_with = super::code::match_state)]
    pub state: String,
    #[schema(format = Date)]
    pub served_on: Option<String>,
    /// The service record written when executed (a fund's: when the committee paid).
    pub service_id: Option<String>,
    /// A fund's match: the disbursement proposed to the committee.
    pub disbursement_id: Option<String>,
    pub abandon_reason: String,
    pub proposed_at: String,
    pub confirmed_at: Option<String>,
    pub executed_at: Option<String>,
    pub closed_at: Option<String>,
}

pub fn match_dto(t: &Tr, m: Match) -> MatchDto {
    MatchDto {
        reasons: reasons(t, &m.reasons()),
        help_kind: m.help_kind.as_str().to_owned(),
        resource_kind: m.resource_kind.as_str().to_owned(),
        state: m.state.as_str().to_owned(),
        proposed_at: rfc3339(m.proposed_at),
        confirmed_at: m.confirmed_at.map(rfc3339),
        executed_at: m.executed_at.map(rfc3339),
        closed_at: m.closed_at.map(rfc3339),
        id: m.id,
        need_id: m.need_id,
        need_title: m.need_title,
        region_code: m.region_code,
        region_path: m.region_path,
        resident_id: m.resident_id,
        resource_id: m.resource_id,
        resource_item: m.resource_item,
        resource_label: m.resource_label,
        score: m.score,
        served_on: m.served_on,
        service_id: m.service_id,
        disbursement_id: m.disbursement_id,
        abandon_reason: m.abandon_reason,
    }
}

#[derive(Serialize, ToSchema)]
pub struct MatchPage {
    pub items: Vec<MatchDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct MatchesParams {
    #[param(schema_with = super::code::match_state)]
    pub state: Option<String>,
    #[param(schema_with = super::code::resource_kind)]
    pub resource_kind: Option<String>,
    pub need_id: Option<String>,
    /// Region code (within the caller's scope).
    pub region: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Matches in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/matches", tag = "matching", params(MatchesParams),
    responses((status = 200, body = MatchPage), (status = 422, description = "An unknown code, named")))]
pub async fn list_matches(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<MatchesParams>,
) -> WebResult<Json<MatchPage>> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let mq = MatchesQuery {
        state: q.state,
        resource_kind: q.resource_kind,
        need_id: q.need_id,
        region: q.region,
    };
    let mut c = state.db.read().await?;
    let p = mm::list(
        &mut c,
        &u.scope(),
        &mq.filter()?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(MatchPage {
        items: p.items.into_iter().map(|m| match_dto(&t, m)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"need_id": "…", "resource_kind": "volunteer", "resource_id": "…"}))]
pub struct MatchBody {
    pub need_id: String,
    #[schema(schema_with = super::code::resource_kind)]
    pub resource_kind: String,
    pub resource_id: String,
    /// Goods: the item; purchased capacity: the station (as the candidates list gives them).
    #[serde(default)]
    pub resource_item: String,
}

async fn load_match(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<MatchDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(match_dto(&ctx.tr(), mm::get(&mut c, &u.scope(), id).await?))
}

/// Propose a resource for a need (建议): it must be one the matcher proposes now; the score and
/// reasons are kept.
#[utoipa::path(post, path = "/api/v1/matches", tag = "matching", request_body = MatchBody,
    responses((status = 201, body = MatchDto),
        (status = 422, description = "Not a candidate, already proposed, the recipient already served this kind of help that day, or a field named")))]
pub async fn create_match(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<MatchBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = FormData::new(vec![
        ("need_id".into(), b.need_id),
        ("resource_kind".into(), b.resource_kind),
        ("resource_id".into(), b.resource_id),
        ("resource_item".into(), b.resource_item),
    ]);
    let input = super::propose_input(&f).map_err(WebError::Invalid)?;
    let id = super::propose(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_match(&state, &ctx, &id).await?),
    )
        .into_response())
}

/// One match.
#[utoipa::path(get, path = "/api/v1/matches/{id}", tag = "matching", params(("id" = String, Path)),
    responses((status = 200, body = MatchDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get_match(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<MatchDto>> {
    Ok(Json(load_match(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"step": "execute", "served_on": "2099-01-01", "duration_minutes": 60, "workers": "李社工"}))]
pub struct MatchStepBody {
    /// `confirm` (for the need's day), `execute` (writes the service record; a fund's proposes
    /// the disbursement), `complete` (a fund's once paid), `abandon` (with `reason`).
    #[schema(schema_with = super::code::step)]
    pub step: String,
    #[serde(default)]
    pub reason: String,
    /// Execute: the day served (default today).
    #[serde(default)]
    #[schema(format = Date)]
    pub served_on: String,
    #[serde(default)]
    pub duration_minutes: Option<i64>,
    #[serde(default)]
    pub person_times: Option<i64>,
    #[serde(default)]
    pub workers: String,
    #[serde(default)]
    pub notes: String,
    /// Execute, goods: items issued; money: fen (default what the need asks).
    #[serde(default)]
    pub quantity: Option<i64>,
}

/// Move a match one step.
#[utoipa::path(post, path = "/api/v1/matches/{id}/step", tag = "matching", params(("id" = String, Path)),
    request_body = MatchStepBody,
    responses((status = 200, body = MatchDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not a step from the current state, the same-day throttle, or invalid fields, named")))]
pub async fn step_match(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<MatchStepBody>,
) -> WebResult<Json<MatchDto>> {
    writer(&ctx)?;
    let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
    let f = FormData::new(vec![
        ("step".into(), b.step),
        ("reason".into(), b.reason),
        ("served_on".into(), b.served_on),
        ("duration_minutes".into(), n(b.duration_minutes)),
        ("person_times".into(), n(b.person_times)),
        ("workers".into(), b.workers),
        ("notes".into(), b.notes),
        ("quantity".into(), n(b.quantity)),
    ]);
    let input = super::step_input(&f, &super::today_of(&state)).map_err(WebError::Invalid)?;
    super::step(&state, &ctx, id.clone(), input).await?;
    Ok(Json(load_match(&state, &ctx, &id).await?))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ListsParams {
    /// The community (village level) or township code.
    pub region: Option<String>,
    /// The month, `YYYY-MM` (default this month).
    pub period: Option<String>,
}

/// A community's three lists for a month.
#[derive(Serialize, ToSchema)]
pub struct CommunityLists {
    pub region_code: String,
    pub period: String,
    /// SHA-256 of the lists as generated now.
    pub digest: String,
    #[schema(value_type = Vec<Object>)]
    pub needs: Vec<NeedLine>,
    #[schema(value_type = Vec<Object>)]
    pub resources: Vec<ResourceLine>,
    #[schema(value_type = Vec<Object>)]
    pub services: Vec<ServiceLine>,
    pub approval: Option<ApprovalDto>,
    /// Approved, and the records have changed since.
    pub changed_since_approval: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ApprovalDto {
    pub digest: String,
    pub needs: i64,
    pub resources: i64,
    pub services: i64,
    pub approved_by: String,
    pub approved_at: String,
}

fn approval_dto(a: Approval) -> ApprovalDto {
    ApprovalDto {
        approved_at: rfc3339(a.approved_at),
        digest: a.digest,
        needs: a.needs,
        resources: a.resources,
        services: a.services,
        approved_by: a.approved_by,
    }
}

/// The three lists (需求/资源/服务) of a community for a month, generated from the records, and
/// the township's approval if given.
#[utoipa::path(get, path = "/api/v1/community-lists", tag = "matching", params(ListsParams),
    responses((status = 200, body = CommunityLists), (status = 404, description = "Not a community or township in the caller's scope"),
        (status = 422, description = "A bad region or period, named")))]
pub async fn community_lists(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListsParams>,
) -> WebResult<Json<CommunityLists>> {
    let lq = ListsQuery {
        region: q.region,
        period: q.period,
        notice: None,
    };
    let g = lists_of(&state, &ctx, &lq).await?;
    let digest = g.lists.digest();
    Ok(Json(CommunityLists {
        changed_since_approval: g.approval.as_ref().is_some_and(|a| a.digest != digest),
        region_code: g.region.to_string(),
        period: g.period,
        digest,
        needs: g.lists.needs,
        resources: g.lists.resources,
        services: g.lists.services,
        approval: g.approval.map(approval_dto),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region": "430202001", "period": "2026-05"}))]
pub struct ApproveBody {
    pub region: String,
    pub period: String,
}

/// Approve a community's lists for a month that is over (a township user with supervision
/// rights); approving again after the records changed replaces the snapshot.
#[utoipa::path(post, path = "/api/v1/community-lists/approve", tag = "matching", request_body = ApproveBody,
    responses((status = 200, body = ApprovalDto), (status = 403, description = "No supervision rights"),
        (status = 404, description = "Not a community or township in the caller's scope"),
        (status = 422, description = "Not a township user, the month not over, or a bad field, named")))]
pub async fn approve_lists(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<ApproveBody>,
) -> WebResult<Json<ApprovalDto>> {
    let u = reader(&ctx)?;
    let region = shegong_domain::RegionCode::parse(&b.region)
        .map_err(|_| FieldError::new("region", "region.invalid_code"))?;
    lists::month(&b.period)?;
    super::approve(&state, &ctx, region.clone(), b.period.trim().to_owned()).await?;
    let mut c = state.db.read().await?;
    let a = lists::approval(&mut c, &u.scope(), &region, b.period.trim())
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(Json(approval_dto(a)))
}
