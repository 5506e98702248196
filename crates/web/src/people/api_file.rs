//! The JSON API for changes to a resident's file, as the file's page makes them: editing, status,
//! risk tier, household, category memberships, merging a duplicate and revealing the sealed
//! values. Each handler turns its body into the page's form and calls the page's own parse and
//! write functions: the same checks, the same scope (a file outside it is not found) and the
//! same audit entry.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_domain::people::{
    DisabilityCategory, DisabilityGrade, Relation, ResidentStatus, RiskTier,
};
use shegong_store::people::households::{self, Membership};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::{FormData, today};

use super::api::{ResidentBody, ResidentCreated, ResidentDto, api_get, file_or_placement};
use super::households::{
    change_add_membership, change_end_membership, change_household, change_merge, parse_end,
    parse_membership,
};
use super::resident_file::{audit_reveal, change_status, change_tier, parse_tier};
use super::residents::{change_resident, current_form, load_file, opened, parse, viewer};

/// A field error from a page's write function, as the API answers it (422).
pub(super) fn refused(outcome: Option<FieldError>) -> WebResult<()> {
    match outcome {
        None => Ok(()),
        Some(e) => Err(WebError::Invalid(vec![e])),
    }
}

fn form(pairs: &[(&str, &str)]) -> FormData {
    FormData::new(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(all.iter().map(|v| code(*v)))
}

fn tiers() -> utoipa::openapi::schema::Object {
    codes(RiskTier::ALL, RiskTier::as_str)
}

/// The statuses a file may be given (`merged` only by a merge).
fn statuses() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(
        ResidentStatus::ALL
            .iter()
            .filter(|s| **s != ResidentStatus::Merged)
            .map(|s| s.as_str()),
    )
}

fn relations() -> utoipa::openapi::schema::Object {
    codes(Relation::ALL, Relation::as_str)
}

fn disability_categories() -> utoipa::openapi::schema::Object {
    codes(DisabilityCategory::ALL, DisabilityCategory::as_str)
}

fn disability_grades() -> utoipa::openapi::schema::Object {
    codes(DisabilityGrade::ALL, DisabilityGrade::as_str)
}

/// Edit a resident's file, as its edit form does: the body replaces the file (a station or
/// worker left out is unassigned, as a form sent with the field empty), except that sealed
/// values (identity number, phone, address, guardian phone) left out keep their stored values
/// and `protected` left out keeps the file's flag. A file the caller can no longer open once
/// saved (made protected, without the grant) answers with where it is, as registering does.
#[utoipa::path(put, path = "/api/v1/residents/{id}", tag = "people", request_body = ResidentBody,
    responses((status = 200, body = ResidentCreated), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_update_resident(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ResidentBody>,
) -> WebResult<Json<ResidentCreated>> {
    let u = writer(&ctx)?;
    let current = current_form(&load_file(&state, u, &id).await?);
    let mut pairs: Vec<(String, String)> = b
        .form()
        .pairs()
        .into_iter()
        .filter(|(k, _)| b.protected.is_some() || k != "protected")
        .collect();
    if b.protected.is_none() {
        pairs.push(("protected".into(), current.get("protected").to_owned()));
    }
    pairs.push((
        "registered_on".into(),
        current.get("registered_on").to_owned(),
    ));
    let input = parse(&FormData::new(pairs), &today(state.now())).map_err(WebError::Invalid)?;
    refused(change_resident(&state, &ctx, &id, input).await?)?;
    Ok(Json(file_or_placement(state, ctx, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"status": "moved_out"}))]
pub struct ResidentStatusBody {
    /// `active`, `moved_out` or `deceased` (`merged` comes only from a merge).
    #[schema(schema_with = statuses)]
    pub status: String,
}

/// Set a file's status (in care, moved away, deceased), as the file's page does.
#[utoipa::path(post, path = "/api/v1/residents/{id}/status", tag = "people", request_body = ResidentStatusBody,
    responses((status = 200, body = ResidentDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named (`status`)")))]
pub async fn api_set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ResidentStatusBody>,
) -> WebResult<Json<ResidentDto>> {
    refused(change_status(&state, &ctx, &id, b.status).await?)?;
    api_get(State(state), ctx, Path(id)).await
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"risk_tier": "high", "reason": "独居且近期跌倒"}))]
pub struct ResidentTierBody {
    #[schema(schema_with = tiers)]
    pub risk_tier: String,
    /// Why the tier changes (kept in the tier's history).
    #[schema(min_length = 1)]
    pub reason: String,
}

/// Change a file's risk tier with a reason, as the file's page does; the visit schedule
/// follows.
#[utoipa::path(post, path = "/api/v1/residents/{id}/tier", tag = "people", request_body = ResidentTierBody,
    responses((status = 200, body = ResidentDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named (`risk_tier`, `reason`)")))]
pub async fn api_set_tier(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ResidentTierBody>,
) -> WebResult<Json<ResidentDto>> {
    writer(&ctx)?;
    let (tier, reason) = parse_tier(&form(&[("risk_tier", &b.risk_tier), ("reason", &b.reason)]))?;
    refused(change_tier(&state, &ctx, &id, tier, reason).await?)?;
    api_get(State(state), ctx, Path(id)).await
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"other": "0190a0b2-7c4e-7a51-9d2f-3b9e1c2d4e5f", "relation": "10"}))]
pub struct HouseholdBody {
    /// The resident whose household this one joins (its head when it has none yet).
    pub other: String,
    /// 与户主关系, GB/T 4761 code (`10` spouse, `20` son, …).
    #[schema(schema_with = relations)]
    pub relation: String,
}

/// Join another resident's household, as the file's page does.
#[utoipa::path(post, path = "/api/v1/residents/{id}/household", tag = "people", request_body = HouseholdBody,
    responses((status = 200, body = ResidentDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named (`relation`, `other`)")))]
pub async fn api_join_household(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<HouseholdBody>,
) -> WebResult<Json<ResidentDto>> {
    writer(&ctx)?;
    let relation = Relation::parse(&b.relation)?;
    refused(change_household(&state, &ctx, &id, b.other, relation).await?)?;
    api_get(State(state), ctx, Path(id)).await
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"other": "0190a0b2-7c4e-7a51-9d2f-3b9e1c2d4e5f"}))]
pub struct MergeBody {
    /// The likely duplicate merged into this file: its memberships, cases, services and tier
    /// history move here, and it is closed as `merged`.
    pub other: String,
}

/// Merge a likely duplicate into this file, as the file's page does.
#[utoipa::path(post, path = "/api/v1/residents/{id}/merge", tag = "people", request_body = MergeBody,
    responses((status = 200, body = ResidentDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named (`other`)")))]
pub async fn api_merge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<MergeBody>,
) -> WebResult<Json<ResidentDto>> {
    refused(change_merge(&state, &ctx, &id, b.other).await?)?;
    api_get(State(state), ctx, Path(id)).await
}

#[derive(Serialize, ToSchema)]
pub struct MembershipDto {
    pub id: String,
    /// A category code of the catalogue (`dibao`, `disabled`, …).
    pub category: String,
    pub disability_category: Option<String>,
    pub disability_grade: Option<String>,
    pub source: String,
    pub evidence: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub verified_by: String,
    /// Whether it holds today.
    pub active: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MembershipList {
    pub items: Vec<MembershipDto>,
}

/// The category memberships of a file, current and past (ids to end one).
#[utoipa::path(get, path = "/api/v1/residents/{id}/memberships", tag = "people",
    responses((status = 200, body = MembershipList), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_memberships(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<MembershipList>> {
    let v = viewer(&state, reader(&ctx)?);
    let mut c = state.db.read().await?;
    shegong_store::people::residents::get(&mut c, &v, &id).await?;
    let today_s = v.today.to_string();
    let items = households::memberships_of(&mut c, &v, &[id.as_str()])
        .await?
        .into_iter()
        .map(|m: Membership| MembershipDto {
            active: m.active_on(&today_s),
            id: m.id,
            category: m.category,
            disability_category: m.disability_category,
            disability_grade: m.disability_grade,
            source: m.source,
            evidence: m.evidence,
            valid_from: m.valid_from,
            valid_to: m.valid_to,
            verified_by: m.verified_by,
        })
        .collect();
    Ok(Json(MembershipList { items }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"category": "dibao", "valid_from": "2024-01-01", "source": "民政局低保名册"}))]
pub struct MembershipBody {
    /// A category code of the catalogue in the file's region.
    #[schema(min_length = 1, max_length = 40)]
    pub category: String,
    /// Required with `disabled` and `severely_disabled`, refused otherwise.
    #[schema(schema_with = disability_categories)]
    pub disability_category: Option<String>,
    #[schema(schema_with = disability_grades)]
    pub disability_grade: Option<String>,
    #[schema(format = Date)]
    pub valid_from: String,
    /// Not before `valid_from`.
    #[schema(format = Date)]
    pub valid_to: Option<String>,
    #[schema(max_length = 100)]
    pub source: Option<String>,
    #[schema(max_length = 200)]
    pub evidence: Option<String>,
    #[schema(max_length = 50)]
    pub verified_by: Option<String>,
}

/// Add a category membership (低保, 特困, 残疾, …) to a file, as the file's page does; answers
/// the file's memberships.
#[utoipa::path(post, path = "/api/v1/residents/{id}/memberships", tag = "people", request_body = MembershipBody,
    responses((status = 201, body = MembershipList), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<MembershipBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let m = parse_membership(&FormData::new(vec![
        ("category".into(), b.category.clone()),
        ("disability_category".into(), o(&b.disability_category)),
        ("disability_grade".into(), o(&b.disability_grade)),
        ("valid_from".into(), b.valid_from.clone()),
        ("valid_to".into(), o(&b.valid_to)),
        ("source".into(), o(&b.source)),
        ("evidence".into(), o(&b.evidence)),
        ("verified_by".into(), o(&b.verified_by)),
    ]))?;
    refused(change_add_membership(&state, &ctx, &id, m).await?)?;
    let list = api_memberships(State(state), ctx, Path(id)).await?;
    Ok((StatusCode::CREATED, list).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"valid_to": "2025-12-31"}))]
pub struct MembershipEndBody {
    /// The last day it holds; not before it began.
    #[schema(format = Date)]
    pub valid_to: String,
}

/// End a category membership of a file, as the file's page does (it stays as history); answers
/// the file's memberships.
#[utoipa::path(post, path = "/api/v1/residents/{id}/memberships/{mid}/end", tag = "people", request_body = MembershipEndBody,
    params(("id" = String, Path), ("mid" = String, Path, description = "The membership (`GET /api/v1/residents/{id}/memberships`)")),
    responses((status = 200, body = MembershipList), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named (`valid_to`)")))]
pub async fn api_end_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, mid)): Path<(String, String)>,
    Json(b): Json<MembershipEndBody>,
) -> WebResult<Json<MembershipList>> {
    writer(&ctx)?;
    let on = parse_end(&form(&[("valid_to", &b.valid_to)]))?;
    refused(change_end_membership(&state, &ctx, &id, mid, on).await?)?;
    api_memberships(State(state), ctx, Path(id)).await
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "核对低保申请材料"}))]
pub struct ResidentRevealBody {
    /// Why the full values are needed (recorded in the audit log), 2–200 characters.
    #[schema(min_length = 2, max_length = 200)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResidentRevealed {
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub guardian_phone: String,
}

/// The full identity number, phone, address and guardian phone of a file, for a stated reason
/// (audited as `resident`/`reveal`, as the file's page and its print sheet do).
#[utoipa::path(post, path = "/api/v1/residents/{id}/reveal", tag = "people", request_body = ResidentRevealBody,
    responses((status = 200, body = ResidentRevealed), (status = 403, description = "No reveal permission"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Reason missing (`reason`)")))]
pub async fn api_reveal_resident(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ResidentRevealBody>,
) -> WebResult<Json<ResidentRevealed>> {
    let r = audit_reveal(&state, &ctx, &id, &b.reason).await?;
    let m = opened(&state, &r);
    Ok(Json(ResidentRevealed {
        id_number: m.id_number,
        phone: m.phone,
        address: m.address,
        guardian_phone: m.guardian_phone,
    }))
}
