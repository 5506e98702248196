//! `/api/v1/funds`, `/api/v1/donations`, `/api/v1/wishes`, `/api/v1/disbursements`: every write
//! the charity pages offer, with the same checks and audit entries. Amounts are fen in
//! responses and yuan (text, up to two decimals) in request bodies, like contracts.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::charity::{DisbursementState, DonationKind, WishState};
use shegong_store::PageRequest;
use shegong_store::charity::{
    self as ch, Disbursement, DisbursementFilter, Donation, DonationFilter, Fund, Member,
    StockLine, Wish, WishFilter,
};
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

fn parsed<T>(
    v: Option<&str>,
    parse: fn(&str) -> Result<T, shegong_domain::FieldError>,
) -> WebResult<Option<T>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(parse(s)?)),
        None => Ok(None),
    }
}

fn short(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.trim().is_empty() && s.len() <= 64)
}

#[derive(Serialize, ToSchema)]
pub struct CommitteeMemberDto {
    pub id: String,
    pub name: String,
    /// `chair`, `member` or `supervisor` (supervisors do not count towards the quorum).
    #[schema(schema_with = crate::charity::code::role)]
    pub role: String,
    pub affiliation: String,
}

fn member_dto(m: Member) -> CommitteeMemberDto {
    CommitteeMemberDto {
        id: m.id,
        name: m.name,
        role: m.role.to_string(),
        affiliation: m.affiliation,
    }
}

#[derive(Serialize, ToSchema)]
pub struct FundDto {
    pub id: String,
    pub region_code: String,
    pub station_id: Option<String>,
    pub name: String,
    /// The host charity (with public-fundraising status): all money and goods go through it.
    pub host_name: String,
    pub host_uscc: String,
    pub initiator: String,
    pub purpose: String,
    /// What happens to the remainder when the fund ends.
    pub residual_rule: String,
    #[schema(format = Date)]
    pub starts_on: String,
    pub ends_on: Option<String>,
    /// Money donated, fen.
    pub income_fen: i64,
    /// Declared value of goods donated, fen.
    pub goods_fen: i64,
    /// Approved and paid disbursements, fen.
    pub committed_fen: i64,
    pub paid_fen: i64,
    pub available_fen: i64,
    /// Whether the committee can decide (≥ 5 unpaid deciding members, an odd number, ≥ 1 supervisor).
    pub committee_complete: bool,
    /// Members of the committee (in `GET /api/v1/funds/{id}`; empty in lists).
    pub committee: Vec<CommitteeMemberDto>,
    /// Next quarterly disclosure due (activities over six months), and the full one after the end.
    pub disclosure_next_due: Option<String>,
    pub disclosure_final_due: Option<String>,
    pub created_at: String,
}

pub(crate) fn disclosure(f: &Fund, now: i64) -> shegong_domain::charity::Disclosure {
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let today = d(&crate::ui::forms::today(now)).unwrap_or_default();
    let start = d(&f.starts_on).unwrap_or(today);
    shegong_domain::charity::disclosure(start, f.ends_on.as_deref().and_then(d), today)
}

fn fund_dto(f: Fund, committee: Vec<Member>, now: i64) -> FundDto {
    let due = disclosure(&f, now);
    let complete = f.members >= 5 && f.members % 2 == 1 && f.supervisors >= 1;
    FundDto {
        available_fen: f.available_fen(),
        committee_complete: complete,
        committee: committee.into_iter().map(member_dto).collect(),
        disclosure_next_due: due.next_due.map(|d| d.to_string()),
        disclosure_final_due: due.final_due.map(|d| d.to_string()),
        id: f.id,
        region_code: f.region_code,
        station_id: f.station_id,
        name: f.name,
        host_name: f.host_name,
        host_uscc: f.host_uscc,
        initiator: f.initiator,
        purpose: f.purpose,
        residual_rule: f.residual_rule,
        starts_on: f.starts_on,
        ends_on: f.ends_on,
        income_fen: f.income_fen,
        goods_fen: f.goods_fen,
        committed_fen: f.committed_fen,
        paid_fen: f.paid_fen,
        created_at: rfc3339(f.created_at),
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct FundsQuery {
    /// Name or host contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct FundPage {
    pub items: Vec<FundDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Community funds in the caller's scope.
#[utoipa::path(get, path = "/api/v1/funds", tag = "charity", params(FundsQuery),
    responses((status = 200, body = FundPage)))]
pub async fn list_funds(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FundsQuery>,
) -> WebResult<Json<FundPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = ch::list_funds(
        &mut c,
        &u.scope(),
        q.q.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    let now = state.now();
    Ok(Json(FundPage {
        items: p
            .items
            .into_iter()
            .map(|f| fund_dto(f, vec![], now))
            .collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load_fund(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<FundDto> {
    check_id(id)?;
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let f = ch::get_fund(&mut c, &u.scope(), id).await?;
    let m = ch::committee(&mut c, &u.scope(), id).await?;
    Ok(fund_dto(f, m, state.now()))
}

/// One fund with its committee and disclosure dates.
#[utoipa::path(get, path = "/api/v1/funds/{id}", tag = "charity", params(("id" = String, Path)),
    responses((status = 200, body = FundDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get_fund(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<FundDto>> {
    Ok(Json(load_fund(&state, &ctx, &id).await?))
}

/// A fund as written.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region_code": "430203", "name": "株洲市慈善总会贺家土社区慈善基金",
    "host_name": "株洲市慈善总会", "host_uscc": "91350100M000100Y43", "host_public_fundraising": true,
    "initiator": "贺家土街道办事处", "purpose": "困难群众帮扶、微心愿、社区微项目",
    "residual_rule": "终止后剩余财产转入株洲市慈善总会同类公益项目", "starts_on": "2026-01-01"}))]
pub struct FundBody {
    pub region_code: String,
    /// The station running it (required for an organisation's account).
    #[serde(default)]
    pub station_id: String,
    /// "慈善组织全称 + XX乡镇(街道)/社区慈善基金".
    pub name: String,
    pub host_name: String,
    pub host_uscc: String,
    /// The host holds public-fundraising status (required: a fund cannot raise money itself).
    pub host_public_fundraising: bool,
    #[serde(default)]
    pub initiator: String,
    pub purpose: String,
    pub residual_rule: String,
    #[schema(format = Date)]
    pub starts_on: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub ends_on: Option<String>,
}

/// Create a fund; every field error at once.
#[utoipa::path(post, path = "/api/v1/funds", tag = "charity", request_body = FundBody,
    responses((status = 201, body = FundDto), (status = 403, description = "Cannot write"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn create_fund(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<FundBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    let input = super::fund_input(&form(vec![
        ("region", b.region_code),
        ("station", b.station_id),
        ("name", b.name),
        ("host_name", b.host_name),
        ("host_uscc", b.host_uscc),
        (
            "host_public_fundraising",
            b.host_public_fundraising.to_string(),
        ),
        ("initiator", b.initiator),
        ("purpose", b.purpose),
        ("residual_rule", b.residual_rule),
        ("starts_on", b.starts_on),
        ("ends_on", b.ends_on.unwrap_or_default()),
    ]))
    .map_err(WebError::Invalid)?;
    let id = super::create_fund(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_fund(&state, &ctx, &id).await?),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"ends_on": "2026-12-31"}))]
pub struct EndBody {
    /// The last day of the fund: the full disclosure is due within three months after it.
    #[schema(format = Date)]
    pub ends_on: String,
}

/// End a running fund on a date; returns the fund with its final disclosure date.
#[utoipa::path(post, path = "/api/v1/funds/{id}/end", tag = "charity", params(("id" = String, Path)),
    request_body = EndBody,
    responses((status = 200, body = FundDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Already ended, or the date is invalid or before the start")))]
pub async fn end_fund(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<EndBody>,
) -> WebResult<Json<FundDto>> {
    super::writer(&ctx)?;
    check_id(&id)?;
    load_fund(&state, &ctx, &id).await?;
    super::end_fund(&state, &ctx, &id, &form(vec![("ends_on", b.ends_on)])).await?;
    Ok(Json(load_fund(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "周建国", "role": "member", "affiliation": "社区居委会", "unpaid": true}))]
pub struct CommitteeMemberBody {
    pub name: String,
    #[schema(schema_with = crate::charity::code::role)]
    pub role: String,
    #[serde(default)]
    pub affiliation: String,
    /// Members serve unpaid (required).
    pub unpaid: bool,
}

/// Add a member or supervisor to the fund's committee; returns the fund.
#[utoipa::path(post, path = "/api/v1/funds/{id}/committee", tag = "charity", params(("id" = String, Path)),
    request_body = CommitteeMemberBody,
    responses((status = 201, body = FundDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<CommitteeMemberBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    check_id(&id)?;
    let input = super::member_input(&form(vec![
        ("name", b.name),
        ("role", b.role),
        ("affiliation", b.affiliation),
        ("unpaid", b.unpaid.to_string()),
    ]))
    .map_err(WebError::Invalid)?;
    super::add_member(&state, &ctx, &id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_fund(&state, &ctx, &id).await?),
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct DisbursementDto {
    pub id: String,
    pub fund_id: String,
    /// `project`, `person` or `wish`.
    #[schema(schema_with = crate::charity::code::target_kind)]
    pub target_kind: String,
    pub wish_id: Option<String>,
    pub recipient_resident_id: Option<String>,
    pub purpose: String,
    pub amount_fen: i64,
    /// `proposed`, `approved`, `rejected` or `paid`.
    #[schema(schema_with = crate::charity::code::disbursement_state)]
    pub state: String,
    /// The committee's decision record.
    pub resolution_ref: String,
    pub decided_on: Option<String>,
    pub paid_on: Option<String>,
    pub voucher_no: String,
    /// The service record a payment to a resident wrote (`/api/v1/services/{id}`).
    pub service_id: Option<String>,
    pub created_at: String,
}

fn disbursement_dto(d: Disbursement) -> DisbursementDto {
    DisbursementDto {
        id: d.id,
        fund_id: d.fund_id,
        target_kind: d.target_kind.to_string(),
        wish_id: d.wish_id,
        recipient_resident_id: d.recipient_resident_id,
        purpose: d.purpose,
        amount_fen: d.amount_fen,
        state: d.state.to_string(),
        resolution_ref: d.resolution_ref,
        decided_on: d.decided_on,
        paid_on: d.paid_on,
        voucher_no: d.voucher_no,
        service_id: d.service_id,
        created_at: rfc3339(d.created_at),
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct DisbursementsQuery {
    #[param(schema_with = crate::charity::code::disbursement_state)]
    pub state: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DisbursementPage {
    pub items: Vec<DisbursementDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The fund's disbursements, newest first.
#[utoipa::path(get, path = "/api/v1/funds/{id}/disbursements", tag = "charity", params(("id" = String, Path), DisbursementsQuery),
    responses((status = 200, body = DisbursementPage), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Unknown state")))]
pub async fn list_disbursements(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<DisbursementsQuery>,
) -> WebResult<Json<DisbursementPage>> {
    check_id(&id)?;
    let u = reader(&ctx)?;
    let f = DisbursementFilter {
        fund_id: Some(id.clone()),
        state: parsed(q.state.as_deref(), DisbursementState::parse)?,
    };
    let mut c = state.db.read().await?;
    ch::get_fund(&mut c, &u.scope(), &id).await?;
    let p = ch::list_disbursements(&mut c, &u.scope(), &f, PageRequest::new(q.page, q.per_page))
        .await?;
    Ok(Json(DisbursementPage {
        items: p.items.into_iter().map(disbursement_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load_disbursement(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<DisbursementDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(disbursement_dto(
        ch::get_disbursement(&mut c, &u.scope(), id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"target_kind": "project", "purpose": "重阳节慰问困难老人", "amount": "200"}))]
pub struct DisbursementBody {
    /// `project`, `person` (a resident on file, kept internal) or `wish` (a wish of the fund).
    #[schema(schema_with = crate::charity::code::target_kind)]
    pub target_kind: String,
    #[serde(default)]
    pub wish_id: String,
    #[serde(default)]
    pub recipient_resident_id: String,
    /// The public purpose (published; no personal data). A wish's title when empty.
    #[serde(default)]
    pub purpose: String,
    /// Yuan, up to two decimals.
    pub amount: String,
}

/// Propose a disbursement from the fund.
#[utoipa::path(post, path = "/api/v1/funds/{id}/disbursements", tag = "charity", params(("id" = String, Path)),
    request_body = DisbursementBody,
    responses((status = 201, body = DisbursementDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn propose(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<DisbursementBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    check_id(&id)?;
    load_fund(&state, &ctx, &id).await?;
    let input = super::disbursement_input(&form(vec![
        ("fund_id", id),
        ("target_kind", b.target_kind),
        ("wish_id", b.wish_id),
        ("recipient_resident_id", b.recipient_resident_id),
        ("purpose", b.purpose),
        ("amount", b.amount),
    ]))
    .map_err(WebError::Invalid)?;
    let did = super::propose(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_disbursement(&state, &ctx, &did).await?),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"decision": "approve", "resolution_ref": "管委会2026年第3次会议决议", "decided_on": "2026-03-01"}))]
pub struct DecisionBody {
    /// `approve` or `reject`.
    #[schema(schema_with = crate::charity::code::decision)]
    pub decision: String,
    /// The committee's decision record (resolution number or minutes).
    pub resolution_ref: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub decided_on: Option<String>,
}

/// The committee's decision on a proposed disbursement. Approval needs a committee that can
/// decide and money not yet committed.
#[utoipa::path(post, path = "/api/v1/disbursements/{id}/decision", tag = "charity", params(("id" = String, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = DisbursementDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Refused, naming the field; nothing written")))]
pub async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<DecisionBody>,
) -> WebResult<Json<DisbursementDto>> {
    super::writer(&ctx)?;
    check_id(&id)?;
    load_disbursement(&state, &ctx, &id).await?;
    let d = super::decision_input(
        &form(vec![
            ("decision", b.decision),
            ("resolution_ref", b.resolution_ref),
            ("decided_on", b.decided_on.unwrap_or_default()),
        ]),
        state.now(),
    )
    .map_err(WebError::Invalid)?;
    super::decide(&state, &ctx, &id, d).await?;
    Ok(Json(load_disbursement(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[schema(example = json!({"paid_on": "2026-03-05", "voucher_no": "付字2026-031"}))]
pub struct PaymentBody {
    #[serde(default)]
    #[schema(format = Date)]
    pub paid_on: Option<String>,
    /// The host's payment voucher.
    #[serde(default)]
    pub voucher_no: String,
    /// Required (1–1440) when the disbursement goes to a resident on file: the payment then
    /// writes the resident's service record (资源链接) and this is its length in minutes.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: Option<i64>,
}

/// Record the payment (through the host) of an approved disbursement.
#[utoipa::path(post, path = "/api/v1/disbursements/{id}/payment", tag = "charity", params(("id" = String, Path)),
    request_body = PaymentBody,
    responses((status = 200, body = DisbursementDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not approved, or invalid fields")))]
pub async fn pay(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<PaymentBody>,
) -> WebResult<Json<DisbursementDto>> {
    super::writer(&ctx)?;
    check_id(&id)?;
    load_disbursement(&state, &ctx, &id).await?;
    let p = super::payment_input(
        &form(vec![
            ("paid_on", b.paid_on.unwrap_or_default()),
            ("voucher_no", b.voucher_no),
            (
                "duration_minutes",
                b.duration_minutes
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            ),
        ]),
        state.now(),
    )
    .map_err(WebError::Invalid)?;
    super::pay(&state, &ctx, &id, p).await?;
    Ok(Json(load_disbursement(&state, &ctx, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct DonationDto {
    pub id: String,
    pub fund_id: String,
    /// `money` or `goods`.
    #[schema(schema_with = crate::charity::code::donation_kind)]
    pub kind: String,
    /// Money: the amount; goods: their declared value (fen).
    pub amount_fen: i64,
    pub goods_item: String,
    pub quantity: i64,
    pub unit: String,
    /// None for an anonymous donor.
    pub donor_name: Option<String>,
    /// `issued`, `waived` or `anonymous`.
    #[schema(schema_with = crate::charity::code::receipt)]
    pub receipt: String,
    pub receipt_no: Option<String>,
    #[schema(schema_with = crate::charity::code::use_kind)]
    pub use_kind: String,
    pub designated_purpose: String,
    #[schema(schema_with = crate::charity::code::channel)]
    pub channel: String,
    /// The donation site.
    pub station_id: Option<String>,
    pub received_on: String,
}

fn donation_dto(d: Donation) -> DonationDto {
    DonationDto {
        id: d.id,
        fund_id: d.fund_id,
        kind: d.kind.to_string(),
        amount_fen: d.amount_fen,
        goods_item: d.item,
        quantity: d.quantity,
        unit: d.unit,
        donor_name: d.donor_name,
        receipt: d.receipt.to_string(),
        receipt_no: d.receipt_no,
        use_kind: d.use_kind.to_string(),
        designated_purpose: d.designated_purpose,
        channel: d.channel.to_string(),
        station_id: d.station_id,
        received_on: d.received_on,
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct DonationsQuery {
    pub fund_id: Option<String>,
    #[param(schema_with = crate::charity::code::donation_kind)]
    pub kind: Option<String>,
    /// Donor, item or receipt number contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DonationPage {
    pub items: Vec<DonationDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Donations in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/donations", tag = "charity", params(DonationsQuery),
    responses((status = 200, body = DonationPage), (status = 422, description = "Unknown kind")))]
pub async fn list_donations(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DonationsQuery>,
) -> WebResult<Json<DonationPage>> {
    let u = reader(&ctx)?;
    let f = DonationFilter {
        fund_id: short(&q.fund_id),
        kind: parsed(q.kind.as_deref(), DonationKind::parse)?,
        q: q.q.clone(),
    };
    let mut c = state.db.read().await?;
    let p =
        ch::list_donations(&mut c, &u.scope(), &f, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(DonationPage {
        items: p.items.into_iter().map(donation_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"fund_id": "0190f1c2-0000-7000-8000-000000000000", "kind": "money", "amount": "500",
    "donor_name": "刘女士", "receipt": "waived", "use_kind": "general", "channel": "qr", "received_on": "2026-03-01"}))]
pub struct DonationBody {
    pub fund_id: String,
    /// `money` or `goods`.
    #[schema(schema_with = crate::charity::code::donation_kind)]
    pub kind: String,
    /// Yuan: money given, or the declared value of goods.
    #[serde(default)]
    pub amount: String,
    /// Goods: what, how many, in what unit.
    #[serde(default)]
    pub goods_item: String,
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub unit: String,
    /// Empty for an anonymous donor.
    #[serde(default)]
    pub donor_name: String,
    /// `issued` (with `receipt_no`, unique per host), `waived` or `anonymous`.
    #[schema(schema_with = crate::charity::code::receipt)]
    pub receipt: String,
    #[serde(default)]
    pub receipt_no: String,
    /// `general` or `designated` (with `designated_purpose`).
    #[serde(default)]
    #[schema(schema_with = crate::charity::code::use_kind)]
    pub use_kind: String,
    #[serde(default)]
    pub designated_purpose: String,
    #[schema(schema_with = crate::charity::code::channel)]
    pub channel: String,
    /// The donation site: a station.
    #[serde(default)]
    pub station_id: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub received_on: Option<String>,
}

/// Record a donation (goods also enter the fund's stock).
#[utoipa::path(post, path = "/api/v1/donations", tag = "charity", request_body = DonationBody,
    responses((status = 201, body = DonationDto), (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn create_donation(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<DonationBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    let use_kind = if b.use_kind.trim().is_empty() {
        "general".to_owned()
    } else {
        b.use_kind
    };
    let input = super::donation_input(
        &form(vec![
            ("fund_id", b.fund_id),
            ("kind", b.kind),
            ("amount", b.amount),
            ("goods_item", b.goods_item),
            ("quantity", b.quantity.to_string()),
            ("unit", b.unit),
            ("donor_name", b.donor_name),
            ("receipt", b.receipt),
            ("receipt_no", b.receipt_no),
            ("use_kind", use_kind),
            ("designated_purpose", b.designated_purpose),
            ("channel", b.channel),
            ("station", b.station_id),
            ("received_on", b.received_on.unwrap_or_default()),
        ]),
        state.now(),
    )
    .map_err(WebError::Invalid)?;
    let id = super::create_donation(&state, &ctx, input).await?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let d = ch::get_donation(&mut c, &u.scope(), &id).await?;
    Ok((StatusCode::CREATED, Json(donation_dto(d))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct WishDto {
    pub id: String,
    pub fund_id: String,
    /// What is published: no personal data.
    pub title: String,
    pub category: String,
    pub value_fen: i64,
    /// The person or family on file (internal, never published).
    pub beneficiary_resident_id: Option<String>,
    pub beneficiary_note: String,
    /// `posted`, `claimed`, `fulfilled` or `confirmed`.
    #[schema(schema_with = crate::charity::code::wish_state)]
    pub state: String,
    pub claimant: String,
    pub posted_on: String,
    pub claimed_on: Option<String>,
    pub fulfilled_on: Option<String>,
    pub confirmed_on: Option<String>,
}

pub(crate) fn wish_dto(w: Wish) -> WishDto {
    WishDto {
        id: w.id,
        fund_id: w.fund_id,
        title: w.title,
        category: w.category,
        value_fen: w.value_fen,
        beneficiary_resident_id: w.beneficiary_resident_id,
        beneficiary_note: w.beneficiary_note,
        state: w.state.to_string(),
        claimant: w.claimant,
        posted_on: w.posted_on,
        claimed_on: w.claimed_on,
        fulfilled_on: w.fulfilled_on,
        confirmed_on: w.confirmed_on,
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct WishesQuery {
    pub fund_id: Option<String>,
    #[param(schema_with = crate::charity::code::wish_state)]
    pub state: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct WishPage {
    pub items: Vec<WishDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Small wishes (微心愿) in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/wishes", tag = "charity", params(WishesQuery),
    responses((status = 200, body = WishPage), (status = 422, description = "Unknown state")))]
pub async fn list_wishes(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WishesQuery>,
) -> WebResult<Json<WishPage>> {
    let u = reader(&ctx)?;
    let f = WishFilter {
        fund_id: short(&q.fund_id),
        state: parsed(q.state.as_deref(), WishState::parse)?,
    };
    let mut c = state.db.read().await?;
    let p = ch::list_wishes(&mut c, &u.scope(), &f, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(WishPage {
        items: p.items.into_iter().map(wish_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load_wish(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<WishDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(wish_dto(ch::get_wish(&mut c, &u.scope(), id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"fund_id": "0190f1c2-0000-7000-8000-000000000000", "title": "想要一个新书包",
    "category": "学习用品", "value": "150", "posted_on": "2026-03-01"}))]
pub struct WishBody {
    pub fund_id: String,
    /// Published: say what is wished for, not who wishes it.
    pub title: String,
    #[serde(default)]
    pub category: String,
    /// Yuan.
    #[serde(default)]
    pub value: String,
    /// The person or family on file (internal).
    #[serde(default)]
    pub beneficiary_resident_id: String,
    #[serde(default)]
    pub beneficiary_note: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub posted_on: Option<String>,
}

/// Post a small wish for a person or family.
#[utoipa::path(post, path = "/api/v1/wishes", tag = "charity", request_body = WishBody,
    responses((status = 201, body = WishDto), (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn create_wish(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<WishBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    let input = super::wish_input(
        &form(vec![
            ("fund_id", b.fund_id),
            ("title", b.title),
            ("category", b.category),
            ("value", b.value),
            ("beneficiary_resident_id", b.beneficiary_resident_id),
            ("beneficiary_note", b.beneficiary_note),
            ("posted_on", b.posted_on.unwrap_or_default()),
        ]),
        state.now(),
    )
    .map_err(WebError::Invalid)?;
    let id = super::create_wish(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_wish(&state, &ctx, &id).await?),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"to": "claimed", "claimant": "荷塘区青年志愿者协会", "on": "2026-03-02"}))]
pub struct StepBody {
    /// `claimed` (with `claimant`), `fulfilled` or `confirmed`: one step at a time.
    #[schema(schema_with = crate::charity::code::wish_step)]
    pub to: String,
    #[serde(default)]
    pub claimant: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub on: Option<String>,
}

/// Move a wish one step: claimed, fulfilled, confirmed.
#[utoipa::path(post, path = "/api/v1/wishes/{id}/step", tag = "charity", params(("id" = String, Path)),
    request_body = StepBody,
    responses((status = 200, body = WishDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not the next step, or invalid fields")))]
pub async fn step_wish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<StepBody>,
) -> WebResult<Json<WishDto>> {
    super::writer(&ctx)?;
    check_id(&id)?;
    load_wish(&state, &ctx, &id).await?;
    let (to, claimant, on) = super::step_input(
        &form(vec![
            ("to", b.to),
            ("claimant", b.claimant),
            ("on", b.on.unwrap_or_default()),
        ]),
        state.now(),
    )
    .map_err(WebError::Invalid)?;
    super::step_wish(&state, &ctx, &id, to, claimant, on).await?;
    Ok(Json(load_wish(&state, &ctx, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct StockLineDto {
    pub goods_item: String,
    pub unit: String,
    pub quantity: i64,
}

fn stock_dto(s: StockLine) -> StockLineDto {
    StockLineDto {
        goods_item: s.item,
        unit: s.unit,
        quantity: s.quantity,
    }
}

/// What the fund holds in goods, item by item.
#[utoipa::path(get, path = "/api/v1/funds/{id}/stock", tag = "charity", params(("id" = String, Path)),
    responses((status = 200, body = Vec<StockLineDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn stock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<StockLineDto>>> {
    check_id(&id)?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let s = ch::stock(&mut c, &u.scope(), &id).await?;
    Ok(Json(s.into_iter().map(stock_dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"move_kind": "receipt", "goods_item": "大米", "unit": "袋", "quantity": 10, "moved_on": "2026-03-01"}))]
pub struct StockBody {
    /// `receipt`, `issue` (with `signed_by`; never more than on hand) or `count` (a stock-take:
    /// the quantity counted).
    #[schema(schema_with = crate::charity::code::move_kind)]
    pub move_kind: String,
    pub goods_item: String,
    #[serde(default)]
    pub unit: String,
    pub quantity: i64,
    #[serde(default)]
    pub signed_by: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub moved_on: Option<String>,
}

/// Receive, issue or count goods; returns the fund's stock.
#[utoipa::path(post, path = "/api/v1/funds/{id}/stock", tag = "charity", params(("id" = String, Path)),
    request_body = StockBody,
    responses((status = 201, body = Vec<StockLineDto>), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn move_stock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<StockBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    check_id(&id)?;
    load_fund(&state, &ctx, &id).await?;
    let input = super::stock_input(
        &form(vec![
            ("fund_id", id.clone()),
            ("move_kind", b.move_kind),
            ("goods_item", b.goods_item),
            ("unit", b.unit),
            ("quantity", b.quantity.to_string()),
            ("signed_by", b.signed_by),
            ("note", b.note),
            ("moved_on", b.moved_on.unwrap_or_default()),
        ]),
        state.now(),
    )
    .map_err(WebError::Invalid)?;
    super::move_stock(&state, &ctx, input).await?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let s = ch::stock(&mut c, &u.scope(), &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(s.into_iter().map(stock_dto).collect::<Vec<_>>()),
    )
        .into_response())
}
