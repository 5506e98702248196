//! `/api/v1/contracts`: contracts in scope with their lines, budget, stations and instalments;
//! creation, state changes and instalment steps with the same checks and audit as the pages.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_domain::purchase::contract::ContractState;
use shegong_domain::purchase::format_percent;
use shegong_domain::purchase::instalment::{Portion, ReductionRule};
use shegong_store::PageRequest;
use shegong_store::purchase::contracts::{self, Contract, ContractDetail, ContractEdit};
use shegong_store::purchase::deliverables::{self, ContractDelivery, LineDelivery};
use shegong_store::purchase::instalments::{self, Instalment};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::purchase::contracts::{ListQuery, next_instalment_states, today_date};
use crate::purchase::input;
use crate::purchase::writes;
use crate::ui::forms::FormData;
use crate::ui::list::rfc3339;

/// A contract as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct ContractDto {
    pub id: String,
    /// The purchaser's region.
    pub region_code: String,
    pub contract_number: String,
    pub title: String,
    pub purchaser_org_id: Option<String>,
    pub purchaser_name: Option<String>,
    pub provider_org_id: String,
    pub provider_name: String,
    /// The provider's Unified Social Credit Code.
    pub provider_uscc: Option<String>,
    /// Fen (1 yuan = 100 fen).
    pub amount_fen: i64,
    /// `YYYY-MM-DD`, first and last day included.
    #[schema(format = Date)]
    pub term_start: String,
    #[schema(format = Date)]
    pub term_end: String,
    pub procurement_method: String,
    pub state: String,
    /// The states this contract may move to now.
    pub next_states: Vec<String>,
    pub renewal_of: Option<String>,
    pub catalogue_item_id: Option<String>,
    /// What an assessment result pays, e.g. `excellent=100; good=100; pass=90; fail=0`.
    pub reduction_rule: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

pub(super) fn dto(c: &Contract) -> ContractDto {
    ContractDto {
        id: c.id.clone(),
        region_code: c.region_code.clone(),
        contract_number: c.number.clone(),
        title: c.title.clone(),
        purchaser_org_id: c.purchaser_org_id.clone(),
        purchaser_name: c.purchaser_name.clone(),
        provider_org_id: c.provider_org_id.clone(),
        provider_name: c.provider_name.clone(),
        provider_uscc: c.provider_uscc.clone(),
        amount_fen: c.amount.0,
        term_start: c.term.start().to_string(),
        term_end: c.term.end().to_string(),
        procurement_method: c.method.to_string(),
        state: c.state.to_string(),
        next_states: c
            .state
            .successors()
            .iter()
            .map(ToString::to_string)
            .collect(),
        renewal_of: c.renewal_of.clone(),
        catalogue_item_id: c.catalogue_item_id.clone(),
        reduction_rule: c.reduction_rule.as_ref().map(ToString::to_string),
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct LineDto {
    pub seq: i64,
    /// The kind of service record that counts, or null for lines not counted from records.
    pub service_kind: Option<String>,
    pub content: String,
    pub unit: String,
    pub unit_price_fen: i64,
    pub quantity: i64,
    pub amount_fen: Option<i64>,
    /// Which records count: `{"rule":"group","min_sessions":6,"min_person_times":42}`,
    /// `{"rule":"activity","min_participants":200}`, `{"rule":"closed_case","min_follow_ups":0}`,
    /// `{"rule":"each"}` or `{"rule":"person_times"}`.
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    /// The line's part of the contract: `core` (核心项目) or `basic` (基础项目); the default
    /// evaluation tree measures each part's delivery separately.
    #[schema(schema_with = crate::purchase::code::tier)]
    pub tier: String,
}

#[derive(Serialize, ToSchema)]
pub struct BudgetDto {
    pub seq: i64,
    pub category: String,
    pub amount_fen: i64,
    pub spent_fen: i64,
}

#[derive(Serialize, ToSchema)]
pub struct InstalmentDto {
    pub id: String,
    pub seq: i64,
    /// The share of the contract amount as planned, e.g. "40" (percent); null for a fixed amount.
    pub share_percent: Option<String>,
    /// The fixed amount as planned; null for a share.
    pub planned_fen: Option<i64>,
    /// The instalment's exact part of the contract amount.
    pub amount_fen: i64,
    /// `{"trigger":"date","on":"2025-07-01"}`, `{"trigger":"assessed_on","on":…}` or
    /// `{"trigger":"evaluation","kind":"mid_term"}`.
    #[schema(value_type = Object)]
    pub trigger: serde_json::Value,
    pub due_on: Option<String>,
    pub state: String,
    /// The states this instalment may move to now (its trigger considered).
    pub next_states: Vec<String>,
    /// `pass`, `reduced` or `fail` once assessed.
    pub outcome: Option<String>,
    pub payable_fen: Option<i64>,
    pub paid_on: Option<String>,
}

pub(super) fn instalment_dto(i: &Instalment) -> InstalmentDto {
    let (share_percent, planned_fen) = match i.portion {
        Portion::Share(bp) => (Some(format_percent(bp)), None),
        Portion::Amount(fen) => (None, Some(fen.0)),
    };
    InstalmentDto {
        id: i.id.clone(),
        seq: i.seq,
        share_percent,
        planned_fen,
        amount_fen: i.amount.0,
        trigger: serde_json::to_value(i.trigger).unwrap_or_default(),
        due_on: i.due_on.map(|d| d.to_string()),
        state: i.state.to_string(),
        next_states: next_instalment_states(i)
            .iter()
            .map(ToString::to_string)
            .collect(),
        outcome: i.outcome.map(|o| o.to_string()),
        payable_fen: i.payable.map(|p| p.0),
        paid_on: i.paid_on.map(|d| d.to_string()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ContractDetailDto {
    /// The contract's own fields, at the top level as every record's are.
    #[serde(flatten)]
    pub contract: ContractDto,
    pub lines: Vec<LineDto>,
    pub budget: Vec<BudgetDto>,
    /// The stations the contract runs: (id, name).
    pub stations: Vec<StationRef>,
    pub instalments: Vec<InstalmentDto>,
}

#[derive(Serialize, ToSchema)]
pub struct StationRef {
    pub id: String,
    pub name: String,
}

fn detail_dto(d: &ContractDetail) -> ContractDetailDto {
    ContractDetailDto {
        contract: dto(&d.contract),
        lines: d
            .lines
            .iter()
            .map(|l| LineDto {
                seq: l.seq,
                service_kind: l.line.service_kind.map(|k| k.to_string()),
                content: l.line.content.clone(),
                unit: l.line.unit.clone(),
                unit_price_fen: l.line.unit_price.0,
                quantity: l.line.quantity,
                amount_fen: l.line.amount().map(|a| a.0),
                rule: serde_json::to_value(l.line.rule).unwrap_or_default(),
                tier: l.line.tier.to_string(),
            })
            .collect(),
        budget: d
            .budget
            .iter()
            .map(|b| BudgetDto {
                seq: b.seq,
                category: b.line.category.to_string(),
                amount_fen: b.line.amount.0,
                spent_fen: b.spent.0,
            })
            .collect(),
        stations: d
            .stations
            .iter()
            .map(|(id, name)| StationRef {
                id: id.clone(),
                name: name.clone(),
            })
            .collect(),
        instalments: d.instalments.iter().map(instalment_dto).collect(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ContractPage {
    pub items: Vec<ContractDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Contracts within the caller's scope (a purchaser's region, or an agency's own), latest term
/// first.
#[utoipa::path(get, path = "/api/v1/contracts", tag = "purchase", params(ListQuery),
    responses((status = 200, body = ContractPage)))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<ContractPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = contracts::list(
        &mut c,
        &u.scope(),
        &q.filter()?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(ContractPage {
        items: p.items.iter().map(dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<ContractDetailDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(detail_dto(
        &contracts::detail(&mut c, &u.scope(), id).await?,
    ))
}

/// One contract with its lines, budget lines, stations and instalments.
#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "purchase", params(("id" = String, Path)),
    responses((status = 200, body = ContractDetailDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ContractDetailDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// A contract line in a new contract.
#[derive(Deserialize, ToSchema)]
pub struct LineBody {
    /// A service-record kind (`group`, `casework`, …), or empty for lines not counted from records.
    #[serde(default)]
    #[schema(schema_with = crate::purchase::code::service_kind)]
    pub service_kind: String,
    pub content: String,
    /// 次, 个, 人次, 月 …
    pub unit: String,
    /// Yuan as written: "1000", "1,000.50", "0.1万".
    pub unit_price: String,
    #[schema(minimum = 1, maximum = 1000000)]
    pub quantity: i64,
    /// `each` (default), `person_times`, `group`, `activity` or `closed_case`.
    #[serde(default)]
    #[schema(schema_with = crate::purchase::code::rule)]
    pub rule: String,
    /// group: minimum sessions; activity: minimum participants; closed_case: minimum follow-ups.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
    pub min_a: i64,
    /// group: minimum person-times.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
    pub min_b: i64,
    /// `core` (核心项目) or `basic` (基础项目, the default). Another value is refused (422 on
    /// `lines`, code `purchase.tier_unknown`).
    #[serde(default)]
    #[schema(schema_with = crate::purchase::code::tier)]
    pub tier: String,
}

#[derive(Deserialize, ToSchema)]
pub struct BudgetBody {
    /// `personnel`, `activities`, `supervision_training`, `administration`, `evaluation` or `tax`.
    #[schema(schema_with = crate::purchase::code::budget_category)]
    pub category: String,
    /// Yuan as written.
    pub amount: String,
}

/// One instalment of the plan: a share ("40%") or an amount ("12万"), and its trigger.
#[derive(Deserialize, ToSchema)]
pub struct InstalmentBody {
    /// A percentage: "40", "33.33".
    pub share: Option<String>,
    /// Yuan as written, instead of a share.
    pub amount: Option<String>,
    /// `date` (default), `assessed_on` or `evaluation`.
    #[serde(default)]
    #[schema(schema_with = crate::purchase::code::trigger)]
    pub trigger: String,
    /// `YYYY-MM-DD` for `date` and `assessed_on` (default: the term's first day).
    #[serde(default)]
    pub on: String,
    /// For `evaluation`: `spot_check`, `mid_term`, `final` (default) or `quarterly`.
    #[serde(default)]
    #[schema(schema_with = crate::purchase::code::evaluation_kind)]
    pub kind: String,
}

/// A new contract. Amounts are yuan as people write them ("30万元", "300,000.00"); estimates
/// ("二十多万") are refused.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "region_code": "430203", "contract_number": "ZZLS-2025-017", "title": "贺家土街道社工站运营项目",
    "provider_org_id": "0190a3c2-0000-7000-8000-000000000001", "amount": "30万元",
    "term_start": "2025-06-01", "term_end": "2026-05-31", "procurement_method": "competitive_consultation",
    "stations": ["0190a3c2-0000-7000-8000-000000000002"], "plan": "40/40/20",
    "lines": [{"service_kind": "casework", "content": "个案服务", "unit": "个", "unit_price": "1000",
               "quantity": 30, "rule": "closed_case", "min_a": 0, "min_b": 0, "tier": "core"}],
    "budget": [{"category": "personnel", "amount": "18万元"}]
}))]
pub struct ContractBody {
    /// The purchaser's region (the contract is seen there).
    pub region_code: String,
    pub contract_number: String,
    pub title: String,
    pub purchaser_org_id: Option<String>,
    pub provider_org_id: String,
    pub amount: String,
    #[schema(format = Date)]
    pub term_start: String,
    #[schema(format = Date)]
    pub term_end: String,
    /// `public_tender`, `competitive_consultation`, `competitive_negotiation`, `single_source`,
    /// `inquiry` or `other`.
    #[schema(schema_with = crate::purchase::code::method)]
    pub procurement_method: String,
    pub renewal_of: Option<String>,
    pub catalogue_item_id: Option<String>,
    /// e.g. `excellent=100; good=100; pass=90; fail=0` or `90=100; 60=80; 0=0`.
    #[serde(default)]
    pub reduction_rule: String,
    #[serde(default)]
    pub stations: Vec<String>,
    pub lines: Vec<LineBody>,
    #[serde(default)]
    pub budget: Vec<BudgetBody>,
    /// Shares written at once, e.g. "40/40/20" (the instalments' triggers come from
    /// `instalments` by position, else each is paid on the term's first day).
    #[serde(default)]
    pub plan: String,
    #[serde(default)]
    pub instalments: Vec<InstalmentBody>,
}

impl ContractBody {
    /// The body in the form's shape, so both are parsed by the same code.
    fn form(&self) -> FormData {
        let mut pairs: Vec<(String, String)> = vec![
            ("region".into(), self.region_code.clone()),
            ("contract_number".into(), self.contract_number.clone()),
            ("title".into(), self.title.clone()),
            (
                "purchaser_org_id".into(),
                self.purchaser_org_id.clone().unwrap_or_default(),
            ),
            ("provider_org_id".into(), self.provider_org_id.clone()),
            ("amount".into(), self.amount.clone()),
            ("term_start".into(), self.term_start.clone()),
            ("term_end".into(), self.term_end.clone()),
            ("procurement_method".into(), self.procurement_method.clone()),
            (
                "renewal_of".into(),
                self.renewal_of.clone().unwrap_or_default(),
            ),
            (
                "catalogue_item_id".into(),
                self.catalogue_item_id.clone().unwrap_or_default(),
            ),
            ("reduction_rule".into(), self.reduction_rule.clone()),
            ("plan".into(), self.plan.clone()),
        ];
        pairs.extend(self.stations.iter().map(|s| ("stations".into(), s.clone())));
        for (i, l) in self.lines.iter().enumerate().take(input::MAX_ROWS) {
            let mut row = |k: &str, v: String| pairs.push((format!("{k}_{i}"), v));
            row("line_kind", l.service_kind.clone());
            row("line_content", l.content.clone());
            row("line_unit", l.unit.clone());
            row("line_price", l.unit_price.clone());
            row("line_quantity", l.quantity.to_string());
            row("line_rule", l.rule.clone());
            row("line_a", l.min_a.to_string());
            row("line_b", l.min_b.to_string());
            row("line_tier", l.tier.clone());
        }
        for (i, b) in self.budget.iter().enumerate().take(input::MAX_ROWS) {
            pairs.push((format!("budget_category_{i}"), b.category.clone()));
            pairs.push((format!("budget_amount_{i}"), b.amount.clone()));
        }
        for (i, p) in self.instalments.iter().enumerate().take(input::MAX_ROWS) {
            let portion = match (&p.share, &p.amount) {
                (Some(share), _) => format!("{}%", share.trim().trim_end_matches(['%', '％'])),
                (None, Some(amount)) => amount.clone(),
                (None, None) => String::new(),
            };
            pairs.push((format!("inst_portion_{i}"), portion));
            pairs.push((format!("inst_trigger_{i}"), p.trigger.clone()));
            pairs.push((format!("inst_on_{i}"), p.on.clone()));
            pairs.push((format!("inst_kind_{i}"), p.kind.clone()));
        }
        FormData::new(pairs)
    }
}

/// Write a contract with its lines, budget, stations and payment plan, all or nothing.
#[utoipa::path(post, path = "/api/v1/contracts", tag = "purchase", request_body = ContractBody,
    responses((status = 201, body = ContractDetailDto), (status = 403, description = "Not a purchaser"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<ContractBody>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    // The form has at most `MAX_ROWS` rows of each kind; more is refused, never cut off.
    let too_many: Vec<FieldError> = [
        ("lines", body.lines.len()),
        ("budget", body.budget.len()),
        ("payment_plan", body.instalments.len()),
    ]
    .into_iter()
    .filter(|(_, n)| *n > input::MAX_ROWS)
    .map(|(field, _)| FieldError::new(field, "purchase.too_many_rows"))
    .collect();
    if !too_many.is_empty() {
        return Err(WebError::Invalid(too_many));
    }
    let parsed = input::contract(&body.form()).map_err(WebError::Invalid)?;
    let id = writes::create_contract(&state, &ctx, parsed).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

/// A change to a contract: any of its editable fields, and/or a move to another state.
#[derive(Deserialize, ToSchema)]
pub struct ContractPatch {
    /// The state to move to: one of the contract's `next_states`.
    #[schema(schema_with = crate::purchase::code::contract_state)]
    pub state: Option<String>,
    pub title: Option<String>,
    /// The reduction rule's text; empty removes it.
    pub reduction_rule: Option<String>,
}

/// Change a contract's title or reduction rule, and/or move it to another state (signed → in
/// force → … → archived); illegal steps are refused with 422 on `state`. The edit and the move
/// are separate audited writes, the edit first.
#[utoipa::path(patch, path = "/api/v1/contracts/{id}", tag = "purchase", params(("id" = String, Path)),
    request_body = ContractPatch,
    responses((status = 200, body = ContractDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "A step the contract's state does not allow")))]
pub async fn api_patch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<ContractPatch>,
) -> WebResult<Json<ContractDetailDto>> {
    writes::purchaser(&ctx)?;
    let to = body
        .state
        .as_deref()
        .map(ContractState::parse)
        .transpose()?;
    let reduction_rule = match body.reduction_rule.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(text) => Some(Some(ReductionRule::parse(text)?)),
    };
    if body.title.is_some() || reduction_rule.is_some() {
        let edit = ContractEdit {
            title: body.title,
            reduction_rule,
        };
        writes::edit_contract(&state, &ctx, &id, edit).await?;
    }
    if let Some(to) = to {
        writes::move_contract(&state, &ctx, &id, to).await?;
    }
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// A contract's instalments in plan order.
#[utoipa::path(get, path = "/api/v1/contracts/{id}/instalments", tag = "purchase", params(("id" = String, Path)),
    responses((status = 200, body = Vec<InstalmentDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_instalments(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<InstalmentDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let list = instalments::list(&mut c, &u.scope(), &id).await?;
    Ok(Json(list.iter().map(instalment_dto).collect()))
}

/// An instalment's next step.
#[derive(Deserialize, ToSchema)]
pub struct InstalmentStep {
    /// `awaiting_assessment`, `assessed`, `requested` or `paid`.
    #[schema(schema_with = crate::purchase::code::instalment_step)]
    pub to: String,
    /// For `assessed`: the score ("85", "87.5"); with the contract's reduction rule it decides
    /// the payable.
    #[serde(default)]
    pub score: String,
    /// The score's maximum (default 100).
    #[serde(default)]
    pub max_score: String,
    /// For `assessed` without a score (contracts without a reduction rule): `pass`, `reduced`
    /// or `fail`.
    #[serde(default)]
    #[schema(schema_with = crate::purchase::code::outcome)]
    pub outcome: String,
    /// For a `reduced` outcome: the payable amount, yuan as written.
    #[serde(default)]
    pub payable: String,
    /// For `paid`: `YYYY-MM-DD` (default today).
    #[serde(default)]
    pub paid_on: String,
}

impl InstalmentStep {
    pub(super) fn form(&self) -> FormData {
        FormData::new(vec![
            ("to".into(), self.to.clone()),
            ("score".into(), self.score.clone()),
            ("max_score".into(), self.max_score.clone()),
            ("assessment_outcome".into(), self.outcome.clone()),
            ("payable".into(), self.payable.clone()),
            ("paid_on".into(), self.paid_on.clone()),
        ])
    }
}

/// Move instalment `seq` one step: into assessment, assessed (the payable computed by the
/// contract's reduction rule), payment requested (the provider may do this), paid.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/instalments/{seq}", tag = "purchase",
    params(("id" = String, Path), ("seq" = i64, Path)), request_body = InstalmentStep,
    responses((status = 200, body = InstalmentDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "A step the instalment's state or trigger does not allow, or a bad assessment")))]
pub async fn api_move_instalment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, seq)): Path<(String, i64)>,
    Json(body): Json<InstalmentStep>,
) -> WebResult<Json<InstalmentDto>> {
    writer(&ctx)?;
    let step = input::step(&body.form(), today_date(state.now()))?;
    let after = writes::move_instalment(&state, &ctx, &id, seq, step).await?;
    Ok(Json(instalment_dto(&after)))
}

/// A contract line's delivery: counted from the service records of the contract's stations and
/// term that meet the line's rule, against the target and the elapsed term.
#[derive(Serialize, ToSchema)]
pub struct DeliverableDto {
    pub line_id: String,
    pub seq: i64,
    pub content: String,
    pub unit: String,
    /// The kind of service record counted, or null for lines not counted from records.
    pub service_kind: Option<String>,
    /// The line's qualifying rule, as in the contract's lines.
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    /// `core` (核心项目) or `basic` (基础项目): which delivery indicator the line counts for.
    #[schema(schema_with = crate::purchase::code::tier)]
    pub tier: String,
    /// The target quantity.
    pub target: i64,
    /// Delivered so far; null for lines not counted from records.
    pub delivered: Option<i64>,
    /// Delivered / target as a percentage ("45.5"), above 100 when over-delivered.
    pub delivered_percent: Option<String>,
    /// The same in basis points (10,000 = 100 %).
    pub delivered_bp: Option<i64>,
    /// What an even pace asks by now: target × elapsed share of the term, rounded down.
    pub expected: i64,
    /// Behind pace: the delivered share trails the elapsed share by more than 5 points.
    pub behind: bool,
}

pub(super) fn deliverable_dto(l: &LineDelivery) -> DeliverableDto {
    DeliverableDto {
        line_id: l.line_id.clone(),
        seq: l.seq,
        content: l.content.clone(),
        unit: l.unit.clone(),
        service_kind: l.service_kind.map(|k| k.to_string()),
        rule: serde_json::to_value(l.rule).unwrap_or_default(),
        tier: l.tier.to_string(),
        target: l.target,
        delivered: l.delivered,
        delivered_percent: l.delivered_bp.map(format_percent),
        delivered_bp: l.delivered_bp,
        expected: l.expected,
        behind: l.behind,
    }
}

/// A contract's deliverables as of a day.
#[derive(Serialize, ToSchema)]
pub struct DeliverablesDto {
    pub contract_id: String,
    /// The day pace is measured on (today).
    #[schema(format = Date)]
    pub as_of: String,
    /// How much of the term has passed, as a percentage ("50.13").
    pub elapsed_percent: String,
    pub elapsed_bp: i64,
    /// Whether records still move the figures (false once the contract is accepted: the
    /// accepted figures stay).
    pub counting: bool,
    pub lines: Vec<DeliverableDto>,
}

/// A contract's deliverables line by line: target, delivered (counted live from the service
/// records of the contract's stations and term that meet each line's rule), percentage and pace
/// against the elapsed term.
#[utoipa::path(get, path = "/api/v1/contracts/{id}/deliverables", tag = "purchase", params(("id" = String, Path)),
    responses((status = 200, body = DeliverablesDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_deliverables(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<DeliverablesDto>> {
    let u = reader(&ctx)?;
    let today = today_date(state.now());
    let mut c = state.db.read().await?;
    let contract = contracts::get(&mut c, &u.scope(), &id).await?;
    let lines = deliverables::for_contract(&mut c, &u.scope(), &id, today).await?;
    let elapsed_bp = contract.term.elapsed_bp(today);
    Ok(Json(DeliverablesDto {
        contract_id: contract.id,
        as_of: today.to_string(),
        elapsed_percent: format_percent(elapsed_bp),
        elapsed_bp,
        counting: deliverables::counts_records(contract.state),
        lines: lines.iter().map(deliverable_dto).collect(),
    }))
}

/// A contract's delivery at a glance.
#[derive(Serialize, ToSchema)]
pub struct ContractDeliveryDto {
    #[serde(flatten)]
    pub contract: ContractDto,
    /// Lines counted from service records.
    pub counted_lines: i64,
    /// The mean of the counted lines' delivered percentages, each capped at 100; null without
    /// counted lines.
    pub delivered_percent: Option<String>,
    /// How much of the term has passed, as a percentage.
    pub elapsed_percent: String,
    /// Lines behind pace.
    pub behind_lines: i64,
}

pub(super) fn delivery_dto(d: &ContractDelivery) -> ContractDeliveryDto {
    ContractDeliveryDto {
        contract: dto(&d.contract),
        counted_lines: d.counted_lines,
        delivered_percent: d.delivered_bp.map(format_percent),
        elapsed_percent: format_percent(d.elapsed_bp),
        behind_lines: d.behind_lines,
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<ContractDeliveryDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Delivery of the contracts within the caller's scope (filtered as the contract list), read
/// from the maintained counts: for a region's purchase dashboard.
#[utoipa::path(get, path = "/api/v1/contracts/delivery", tag = "purchase", params(ListQuery),
    responses((status = 200, body = DeliveryPage)))]
pub async fn api_delivery(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<DeliveryPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = deliverables::overview(
        &mut c,
        &u.scope(),
        &q.filter()?,
        PageRequest::new(q.page, q.per_page),
        today_date(state.now()),
    )
    .await?;
    Ok(Json(DeliveryPage {
        items: p.items.iter().map(delivery_dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}
