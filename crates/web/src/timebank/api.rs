//! `/api/v1/timebank`: schemes, accounts, an account's entries (read and posted) and reversals;
//! every write the pages offer, with the same checks and audit entries.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_domain::timebank::AccountKind;
use shegong_store::PageRequest;
use shegong_store::timebank::{self as tb, Account, AccountFilter, PassbookLine, Scheme};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::forms::FormData;
use crate::ui::list::rfc3339;

/// A scheme's rules.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RulesDto {
    /// Minutes of service per credit (1–480); credits are whole.
    pub unit_minutes: i64,
    /// Most credits earned per account and day; none when absent.
    #[serde(default)]
    pub daily_earn_cap: Option<i64>,
    /// Most credits a person account holds; none when absent.
    #[serde(default)]
    pub balance_cap: Option<i64>,
    /// Credits above the cap: `refuse`, or `sweep` to the donation pool.
    #[schema(schema_with = crate::timebank::code::cap_overflow)]
    pub cap_overflow: String,
    /// Credits earned in total before redeeming.
    #[serde(default)]
    pub redeem_min_earned: i64,
    /// Who may receive transfers: `none`, `family` (one household on file) or `scheme`.
    #[schema(schema_with = crate::timebank::code::transfer_to)]
    pub transfer_to: String,
    /// Lowest balance of a person account (0, or down to -1000 for an overdraft).
    #[serde(default)]
    pub min_balance: i64,
    /// Service kinds that earn.
    #[serde(default)]
    pub eligible_kinds: Vec<String>,
    /// Partner schemes (通存通兑) by id, in the caller's scope.
    #[serde(default)]
    pub partners: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SchemeDto {
    pub id: String,
    pub region_code: String,
    pub name: String,
    pub operator: String,
    pub rules: RulesDto,
    /// Person and group accounts.
    pub accounts: i64,
    /// Time credits are not money: they cannot be bought and pay no return.
    pub notice: String,
    pub created_at: String,
    pub updated_at: String,
}

const NOT_MONEY: &str = "Time credits are not money: they cannot be bought and pay no return.";

fn scheme_dto(s: Scheme) -> SchemeDto {
    let r = s.rules;
    SchemeDto {
        id: s.id,
        region_code: s.region_code,
        name: s.name,
        operator: s.operator,
        rules: RulesDto {
            unit_minutes: r.unit_minutes,
            daily_earn_cap: r.daily_earn_cap,
            balance_cap: r.balance_cap,
            cap_overflow: r.cap_overflow.to_string(),
            redeem_min_earned: r.redeem_min_earned,
            transfer_to: r.transfer_to.to_string(),
            min_balance: r.min_balance,
            eligible_kinds: r.eligible_kinds.iter().map(ToString::to_string).collect(),
            partners: r.partners,
        },
        accounts: s.accounts,
        notice: NOT_MONEY.into(),
        created_at: rfc3339(s.created_at),
        updated_at: rfc3339(s.updated_at),
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct SchemesQuery {
    /// Name contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SchemePage {
    pub items: Vec<SchemeDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Time-bank schemes in the caller's scope.
#[utoipa::path(get, path = "/api/v1/timebank/schemes", tag = "timebank", params(SchemesQuery),
    responses((status = 200, body = SchemePage)))]
pub async fn list_schemes(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SchemesQuery>,
) -> WebResult<Json<SchemePage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = tb::list_schemes(
        &mut c,
        &u.scope(),
        q.q.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(SchemePage {
        items: p.items.into_iter().map(scheme_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load_scheme(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<SchemeDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(scheme_dto(tb::get_scheme(&mut c, &u.scope(), id).await?))
}

/// One scheme with its rules.
#[utoipa::path(get, path = "/api/v1/timebank/schemes/{id}", tag = "timebank", params(("id" = String, Path)),
    responses((status = 200, body = SchemeDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get_scheme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<SchemeDto>> {
    Ok(Json(load_scheme(&state, &ctx, &id).await?))
}

/// A scheme as written: its region (the caller's or below), name, operator and rules.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region_code": "430202", "name": "荷塘区公益时间银行", "operator": "荷塘区社会工作服务中心",
    "rules": {"unit_minutes": 60, "daily_earn_cap": 2, "balance_cap": 1500, "cap_overflow": "sweep", "redeem_min_earned": 100,
    "transfer_to": "family", "min_balance": 0, "eligible_kinds": ["visit", "community"], "partners": []}}))]
pub struct SchemeBody {
    pub region_code: String,
    pub name: String,
    #[serde(default)]
    pub operator: String,
    pub rules: RulesDto,
}

fn scheme_form(body: SchemeBody) -> Result<shegong_store::timebank::SchemeInput, WebError> {
    if body.rules.eligible_kinds.len() > 20 || body.rules.partners.len() > 50 {
        return Err(WebError::Invalid(vec![FieldError::new(
            "partners",
            "timebank.partner_invalid",
        )]));
    }
    let r = body.rules;
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let mut pairs = vec![
        ("region".to_owned(), body.region_code),
        ("name".to_owned(), body.name),
        ("operator".to_owned(), body.operator),
        ("unit_minutes".to_owned(), r.unit_minutes.to_string()),
        ("daily_earn_cap".to_owned(), opt(r.daily_earn_cap)),
        ("balance_cap".to_owned(), opt(r.balance_cap)),
        ("cap_overflow".to_owned(), r.cap_overflow),
        (
            "redeem_min_earned".to_owned(),
            r.redeem_min_earned.to_string(),
        ),
        ("transfer_to".to_owned(), r.transfer_to),
        ("min_balance".to_owned(), r.min_balance.to_string()),
    ];
    pairs.extend(
        r.eligible_kinds
            .into_iter()
            .map(|k| ("eligible_kinds".to_owned(), k)),
    );
    pairs.extend(r.partners.into_iter().map(|p| ("partners".to_owned(), p)));
    super::scheme_input(&FormData::new(pairs)).map_err(WebError::Invalid)
}

/// Create a scheme (with its donation pool and issuer accounts); every field error at once.
#[utoipa::path(post, path = "/api/v1/timebank/schemes", tag = "timebank", request_body = SchemeBody,
    responses((status = 201, body = SchemeDto), (status = 403, description = "Cannot write"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn create_scheme(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<SchemeBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    let input = scheme_form(body)?;
    let id = super::create_scheme(&state, &ctx, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_scheme(&state, &ctx, &id).await?),
    )
        .into_response())
}

/// A scheme's new name, operator and rules (its region stays).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "荷塘区公益时间银行（2026 年规则）", "operator": "荷塘区社会工作服务中心",
    "rules": {"unit_minutes": 30, "balance_cap": 1500, "cap_overflow": "sweep", "redeem_min_earned": 0,
    "transfer_to": "scheme", "min_balance": 0, "eligible_kinds": ["visit", "casework"], "partners": []}}))]
pub struct SchemeUpdate {
    pub name: String,
    #[serde(default)]
    pub operator: String,
    pub rules: RulesDto,
}

/// Change a scheme's name, operator and rules (its region stays). A cap below a balance held,
/// or a minimum above one, is refused.
#[utoipa::path(put, path = "/api/v1/timebank/schemes/{id}", tag = "timebank", params(("id" = String, Path)),
    request_body = SchemeUpdate,
    responses((status = 200, body = SchemeDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn update_scheme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<SchemeUpdate>,
) -> WebResult<Json<SchemeDto>> {
    super::writer(&ctx)?;
    let input = scheme_form(SchemeBody {
        region_code: load_scheme(&state, &ctx, &id).await?.region_code,
        name: body.name,
        operator: body.operator,
        rules: body.rules,
    })?;
    super::update_scheme(&state, &ctx, &id, input).await?;
    Ok(Json(load_scheme(&state, &ctx, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct AccountDto {
    pub id: String,
    pub scheme_id: String,
    /// `person`, `group`, `pool`, `issuer` or `settlement`.
    #[schema(schema_with = crate::timebank::code::account_kind)]
    pub account_kind: String,
    /// `resident`, `volunteer` or `named` (person and group accounts).
    pub holder_kind: Option<String>,
    pub holder_id: Option<String>,
    pub holder_name: String,
    /// Settlement accounts: the partner scheme.
    pub partner_scheme_id: Option<String>,
    /// Time credits (not money).
    pub balance: i64,
    pub earned_total: i64,
    pub created_at: String,
}

fn account_dto(a: Account) -> AccountDto {
    AccountDto {
        id: a.id,
        scheme_id: a.scheme_id,
        account_kind: a.kind.to_string(),
        holder_kind: a.holder_kind.map(|h| h.to_string()),
        holder_id: a.holder_id,
        holder_name: a.holder_name,
        partner_scheme_id: a.partner_scheme_id,
        balance: a.balance,
        earned_total: a.earned_total,
        created_at: rfc3339(a.created_at),
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct AccountsQuery {
    pub scheme_id: Option<String>,
    #[param(schema_with = crate::timebank::code::account_kind)]
    pub account_kind: Option<String>,
    /// Holder name contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountPage {
    pub items: Vec<AccountDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Accounts in the caller's scope.
#[utoipa::path(get, path = "/api/v1/timebank/accounts", tag = "timebank", params(AccountsQuery),
    responses((status = 200, body = AccountPage), (status = 422, description = "Unknown account kind")))]
pub async fn list_accounts(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AccountsQuery>,
) -> WebResult<Json<AccountPage>> {
    let u = reader(&ctx)?;
    let kind = match q
        .account_kind
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(k) => Some(AccountKind::parse(k)?),
        None => None,
    };
    let f = AccountFilter {
        holder_id: None,
        scheme_id: q
            .scheme_id
            .clone()
            .filter(|s| !s.trim().is_empty() && s.len() <= 64),
        kind,
        q: q.q.clone(),
    };
    let mut c = state.db.read().await?;
    let p = tb::list_accounts(&mut c, &u.scope(), &f, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(AccountPage {
        items: p.items.into_iter().map(account_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load_account(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<AccountDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(account_dto(tb::get_account(&mut c, &u.scope(), id).await?))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/timebank/accounts/{id}", tag = "timebank", params(("id" = String, Path)),
    responses((status = 200, body = AccountDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn get_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<AccountDto>> {
    Ok(Json(load_account(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"scheme_id": "0190f1c2-0000-7000-8000-000000000000", "account_kind": "person", "holder_kind": "named", "holder_name": "王秀英"}))]
pub struct AccountBody {
    pub scheme_id: String,
    /// `person` or `group` (pool, issuer and settlement accounts are the scheme's own).
    #[schema(schema_with = crate::timebank::code::opened_kind)]
    pub account_kind: String,
    #[schema(schema_with = crate::timebank::code::holder_kind)]
    pub holder_kind: String,
    /// A resident's id (resident holders).
    #[serde(default)]
    pub holder_id: String,
    /// The holder's name (named holders).
    #[serde(default)]
    pub holder_name: String,
}

/// Open a person or group account in a scheme.
#[utoipa::path(post, path = "/api/v1/timebank/accounts", tag = "timebank", request_body = AccountBody,
    responses((status = 201, body = AccountDto), (status = 404, description = "Scheme unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn open_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<AccountBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    let input = super::account_input(&FormData::new(vec![
        ("account_kind".into(), body.account_kind),
        ("holder_kind".into(), body.holder_kind),
        ("holder_id".into(), body.holder_id),
        ("holder_name".into(), body.holder_name),
    ]))
    .map_err(WebError::Invalid)?;
    if body.scheme_id.len() > 64 {
        return Err(WebError::NotFound);
    }
    let id = super::open_account(&state, &ctx, &body.scheme_id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_account(&state, &ctx, &id).await?),
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct EntryLineDto {
    pub entry_id: String,
    /// `earn`, `redeem`, `transfer`, `donate`, `grant`, `cap_sweep`, `interscheme` or `reversal`.
    pub kind: String,
    /// This account's posting (credits; negative: taken out).
    pub amount: i64,
    /// The balance after this entry.
    pub balance: i64,
    pub source_id: Option<String>,
    pub reverses_id: Option<String>,
    pub reversed_by: Option<String>,
    pub note: String,
    pub created_at: String,
}

fn line_dto(l: PassbookLine) -> EntryLineDto {
    EntryLineDto {
        entry_id: l.entry_id,
        kind: l.kind,
        amount: l.amount,
        balance: l.balance,
        source_id: l.source_id,
        reverses_id: l.reverses_id,
        reversed_by: l.reversed_by,
        note: l.note,
        created_at: rfc3339(l.created_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct EntryPage {
    pub items: Vec<EntryLineDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct PageQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The account's passbook: its entries in the order posted, with the running balance.
#[utoipa::path(get, path = "/api/v1/timebank/accounts/{id}/entries", tag = "timebank", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = EntryPage), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn entries(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult<Json<EntryPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = tb::passbook(
        &mut c,
        &u.scope(),
        &id,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(EntryPage {
        items: p.items.into_iter().map(line_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"kind": "grant", "amount": 5, "note": "重点空巢独居老人"}))]
pub struct EntryBody {
    /// `earn` (from `source_id`), `grant` (from the issuer), `redeem`, `transfer` (to
    /// `to_account_id`), `donate` (to the pool) or `interscheme` (to a person of a partner scheme).
    #[schema(schema_with = crate::timebank::code::entry_kind)]
    pub kind: String,
    /// Whole credits (EARN takes them from its source).
    #[serde(default)]
    pub amount: i64,
    #[serde(default)]
    pub to_account_id: String,
    /// EARN: what `source_id` names — `service` (default: a service record of an eligible kind in
    /// the scheme's region) or `volunteer_hours` (a recorded hour record of the account's volunteer).
    #[serde(default)]
    pub source_kind: String,
    #[serde(default)]
    pub source_id: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct PostedDto {
    pub entry_id: String,
    pub account: AccountDto,
}

/// Post an entry on the account (the one debited, or for EARN and GRANT the one credited).
/// Refusals name the field: amount over the balance, cap exceeded, not eligible, transfer not
/// allowed, source used; nothing written.
#[utoipa::path(post, path = "/api/v1/timebank/accounts/{id}/entries", tag = "timebank", params(("id" = String, Path)),
    request_body = EntryBody,
    responses((status = 201, body = PostedDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Refused, naming the field; nothing written")))]
pub async fn post_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<EntryBody>,
) -> WebResult<Response> {
    super::writer(&ctx)?;
    let input = super::entry_input(&FormData::new(vec![
        ("kind".into(), body.kind),
        ("amount".into(), body.amount.to_string()),
        ("to_account_id".into(), body.to_account_id),
        ("source_kind".into(), body.source_kind),
        ("source_id".into(), body.source_id),
        ("note".into(), body.note),
    ]))
    .map_err(WebError::Invalid)?;
    let entry_id = super::post_entry(&state, &ctx, &id, input).await?;
    let account = load_account(&state, &ctx, &id).await?;
    Ok((StatusCode::CREATED, Json(PostedDto { entry_id, account })).into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[schema(example = json!({"note": "录入错误"}))]
pub struct ReversalBody {
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReversalDto {
    pub entry_id: String,
    pub reverses_id: String,
}

/// Reverse an entry: a new entry with every posting negated (at most once; never a reversal).
#[utoipa::path(post, path = "/api/v1/timebank/entries/{id}/reversal", tag = "timebank", params(("id" = String, Path)),
    request_body = ReversalBody,
    responses((status = 201, body = ReversalDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Already reversed, a reversal, or a balance would break its bounds")))]
pub async fn reverse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<ReversalBody>,
) -> WebResult<Response> {
    let entry_id = super::reverse(&state, &ctx, &id, body.note).await?;
    Ok((
        StatusCode::CREATED,
        Json(ReversalDto {
            entry_id,
            reverses_id: id,
        }),
    )
        .into_response())
}
