//! The JSON API for the other changes the people pages make: a case's steps (assessment, plan,
//! approval, evaluation, closure, reopening, referral and its answer), correcting and deleting
//! a service record, and the visit rules. Each handler turns its body into the page's form and
//! calls the page's own parse and write functions: the same checks, scope and audit.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::people::{AssessmentDomain, CaseOutcome, RiskTier, ServiceKind, VisitMethod};
use shegong_store::people::visit_rules;
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::FormData;

use super::api::{CaseDto, ServiceDto, api_case, api_service};
use super::api_file::refused;
use super::case_steps::{STEPS, parse_step, run_step};
use super::services::{change_service, parse_correction, remove_service};
use super::visit_rules::{change_rule, parse_rule};

fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(values)
}

fn tiers() -> utoipa::openapi::schema::Object {
    one_of(RiskTier::ALL.iter().map(|v| v.as_str()))
}

fn kinds() -> utoipa::openapi::schema::Object {
    one_of(ServiceKind::ALL.iter().map(|v| v.as_str()))
}

fn outcomes() -> utoipa::openapi::schema::Object {
    one_of(CaseOutcome::ALL.iter().map(|v| v.as_str()))
}

fn decisions() -> utoipa::openapi::schema::Object {
    one_of(["approve", "return", "accept", "decline"])
}

fn steps() -> utoipa::openapi::schema::Object {
    one_of(STEPS.iter().copied())
}

fn methods() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(one_of(VisitMethod::ALL.iter().map(|v| v.as_str())))
        .min_items(Some(1))
        .build()
}

/// 预估 scores, one per domain: 0 (no need) to 3 (severe need); all six are required.
#[derive(Deserialize, ToSchema)]
pub struct AssessmentScores {
    #[schema(minimum = 0, maximum = 3)]
    pub daily_living: i64,
    #[schema(minimum = 0, maximum = 3)]
    pub economic: i64,
    #[schema(minimum = 0, maximum = 3)]
    pub health: i64,
    #[schema(minimum = 0, maximum = 3)]
    pub psychological: i64,
    #[schema(minimum = 0, maximum = 3)]
    pub social_support: i64,
    #[schema(minimum = 0, maximum = 3)]
    pub safety: i64,
}

impl AssessmentScores {
    fn of(&self, d: AssessmentDomain) -> i64 {
        match d {
            AssessmentDomain::DailyLiving => self.daily_living,
            AssessmentDomain::Economic => self.economic,
            AssessmentDomain::Health => self.health,
            AssessmentDomain::Psychological => self.psychological,
            AssessmentDomain::SocialSupport => self.social_support,
            AssessmentDomain::Safety => self.safety,
        }
    }
}

/// One planned service of a plan: what, and how many times a month.
#[derive(Deserialize, ToSchema)]
pub struct PlannedServiceBody {
    #[schema(schema_with = kinds)]
    pub kind: String,
    #[schema(minimum = 1, maximum = 60)]
    pub per_month: i64,
}

/// What a step needs, by step (other fields are ignored):
/// `assess`: `scores`, `risk`, `notes`; `plan`: `goals`, `services`; `decide` (a supervisor's,
/// on a pending plan or closure): `decision` (`approve` or `return`), `comment` (required to
/// return); `evaluate`: `goals_met`, `summary`; `close`: `outcome`, `outcome_note`;
/// `reopen`: `reason`; `refer`: `station`, `reason`; `answer` (a referral to the caller's
/// station): `decision` (`accept` or `decline`), `worker`, `reason` (required to decline);
/// `note` (个案记录, at any open stage): `note`. Any step may carry `expected`: the case as the
/// caller last saw it (an offline app's queued write); when it has changed since, 409.
#[derive(Deserialize, ToSchema, Default)]
#[schema(example = json!({
    "scores": {"daily_living": 2, "economic": 1, "health": 2, "psychological": 1, "social_support": 2, "safety": 1},
    "risk": "key", "notes": "独居，需定期探访", "goals": "改善日常照料",
    "services": [{"kind": "visit", "per_month": 4}], "decision": "approve", "comment": "同意",
    "goals_met": 80, "summary": "照料改善", "outcome": "goals_met", "outcome_note": "目标达成",
    "reason": "迁居至新社区", "station": "0190a0b2-7c4e-7a51-9d2f-3b9e1c2d4e5f"
}))]
pub struct CaseStepBody {
    pub scores: Option<AssessmentScores>,
    #[schema(schema_with = tiers)]
    pub risk: Option<String>,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    #[schema(max_length = 2000)]
    pub goals: Option<String>,
    #[serde(default)]
    pub services: Vec<PlannedServiceBody>,
    #[schema(schema_with = decisions)]
    pub decision: Option<String>,
    #[schema(max_length = 500)]
    pub comment: Option<String>,
    /// Percent of the goals reached.
    #[schema(minimum = 0, maximum = 100)]
    pub goals_met: Option<i64>,
    #[schema(max_length = 2000)]
    pub summary: Option<String>,
    #[schema(schema_with = outcomes)]
    pub outcome: Option<String>,
    /// Required with outcome `other`.
    #[schema(max_length = 500)]
    pub outcome_note: Option<String>,
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// The station a case is referred to.
    pub station: Option<String>,
    /// The accepting side's worker for the case.
    pub worker: Option<String>,
    /// 个案记录: the progress note (step `note`).
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// The case as the caller last saw it; a difference answers 409 `conflict.file_changed`
    /// and nothing is saved. Left out: no check.
    pub expected: Option<super::offline::FileExpectation>,
}

impl CaseStepBody {
    /// The step form as the case page sends it.
    fn form(&self) -> FormData {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(s) = &self.scores {
            pairs.extend(
                AssessmentDomain::ALL
                    .iter()
                    .map(|d| (format!("score_{}", d.as_str()), s.of(*d).to_string())),
            );
        }
        for p in &self.services {
            pairs.push(("service_kind".into(), p.kind.clone()));
            pairs.push(("per_month".into(), p.per_month.to_string()));
        }
        for (k, v) in [
            ("risk", o(&self.risk)),
            ("notes", o(&self.notes)),
            ("goals", o(&self.goals)),
            ("decision", o(&self.decision)),
            ("comment", o(&self.comment)),
            (
                "goals_met",
                self.goals_met.map(|n| n.to_string()).unwrap_or_default(),
            ),
            ("summary", o(&self.summary)),
            ("outcome", o(&self.outcome)),
            ("outcome_note", o(&self.outcome_note)),
            ("reason", o(&self.reason)),
            ("station", o(&self.station)),
            ("worker", o(&self.worker)),
            ("note", o(&self.note)),
        ] {
            pairs.push((k.to_owned(), v));
        }
        FormData::new(pairs)
    }
}

/// A case and one of its steps.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CaseStepPath {
    pub id: String,
    /// The step, as on the case page.
    #[param(schema_with = steps)]
    pub step: String,
}

/// Take a case one step, as the case page's forms do (`/cases/{id}/{step}`): `assess`, `plan`,
/// `decide`, `evaluate`, `close`, `reopen`, `refer`, `answer` or `note`. Answers the case as it
/// is now, or 204 when it has left the caller's scope (a referral declined). With `expected`,
/// a case that changed since (stage, pending decision, worker, or its resident's status or
/// worker) answers 409 with what changed, and nothing is saved.
#[utoipa::path(post, path = "/api/v1/cases/{id}/{step}", tag = "people", request_body = CaseStepBody,
    params(CaseStepPath),
    responses((status = 200, body = CaseDto), (status = 204, description = "Done; the case is no longer in the caller's scope"),
        (status = 403, description = "`decide` without the case-approval permission"),
        (status = 404, description = "Unknown or outside the caller's scope (to answer: not referred to it)"),
        (status = 409, body = super::offline::FileConflict, description = "`expected` given and the case changed since"),
        (status = 422, description = "Invalid fields, each named (`stage` when the case is not at a stage for the step, or the step is unknown)")))]
pub async fn api_case_step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(CaseStepPath { id, step }): Path<CaseStepPath>,
    Json(b): Json<CaseStepBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let parsed = parse_step(&step, &b.form())?;
    if let Some(e) = &b.expected
        && let Some(conflict) = super::offline::case_conflict(&state, &ctx, &id, e).await?
    {
        return Ok(conflict);
    }
    refused(run_step(&state, &ctx, &id, parsed).await?)?;
    match api_case(State(state), ctx, Path(id)).await {
        Ok(d) => Ok(d.into_response()),
        Err(WebError::NotFound) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"served_on": "2024-03-01", "duration_minutes": 45, "person_times": 1, "value": "0"}))]
pub struct ServiceCorrectionBody {
    /// Not in the future.
    #[schema(format = Date)]
    pub served_on: String,
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: i64,
    #[schema(minimum = 1, maximum = 100000)]
    pub person_times: i64,
    /// Value of linked resources in yuan (`"1200.50"`); zero when left out.
    #[schema(pattern = "^[0-9]{1,12}(\\.[0-9]{1,2})?$")]
    pub value: Option<String>,
}

/// Correct a service record's date and figures, as the record's page does (audited with what
/// changed); counters and visit schedules follow.
#[utoipa::path(put, path = "/api/v1/services/{id}", tag = "people", request_body = ServiceCorrectionBody,
    responses((status = 200, body = ServiceDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_correct_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ServiceCorrectionBody>,
) -> WebResult<Json<ServiceDto>> {
    writer(&ctx)?;
    let correction = parse_correction(&FormData::new(vec![
        ("served_on".into(), b.served_on),
        ("duration_minutes".into(), b.duration_minutes.to_string()),
        ("person_times".into(), b.person_times.to_string()),
        ("value".into(), b.value.unwrap_or_default()),
    ]))
    .map_err(WebError::Invalid)?;
    refused(change_service(&state, &ctx, &id, correction).await?)?;
    api_service(State(state), ctx, Path(id)).await
}

/// Delete a service record entered by mistake, as the record's page does (audited with what it
/// was). A record a disbursement or an activity refers to is refused (422 on `service`).
#[utoipa::path(delete, path = "/api/v1/services/{id}", tag = "people",
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Referred to by other records (`service`)")))]
pub async fn api_delete_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<StatusCode> {
    refused(remove_service(&state, &ctx, &id).await?)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct VisitRuleDto {
    /// The region it applies in (with its sub-regions); empty for the national default.
    pub region_code: String,
    /// `high`, `key` or `general`.
    pub tier: String,
    /// A category code, or empty for any category.
    pub category: String,
    pub interval_days: i64,
    pub methods: Vec<String>,
    pub updated_by: String,
}

#[derive(Serialize, ToSchema)]
pub struct VisitRuleList {
    pub items: Vec<VisitRuleDto>,
}

fn rule_dto(r: visit_rules::Rule) -> VisitRuleDto {
    VisitRuleDto {
        region_code: r.region_code,
        tier: r.tier,
        category: r.category,
        interval_days: r.interval_days,
        methods: r.methods,
        updated_by: r.updated_by,
    }
}

/// The visit rules that apply in the caller's scope: national defaults and regional ones.
#[utoipa::path(get, path = "/api/v1/visit-rules", tag = "people",
    responses((status = 200, body = VisitRuleList), (status = 401, description = "Not signed in")))]
pub async fn api_visit_rules(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<VisitRuleList>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let rules = visit_rules::rules_in(&mut c, &u.scope()).await?;
    Ok(Json(VisitRuleList {
        items: rules.into_iter().map(rule_dto).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region": "430203", "risk_tier": "high", "category": "", "interval_days": 7, "methods": ["home", "phone"]}))]
pub struct VisitRuleBody {
    /// A region in the caller's scope.
    #[schema(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region: String,
    #[schema(schema_with = tiers)]
    pub risk_tier: String,
    /// A category code, or empty (or left out) for any category.
    #[schema(max_length = 40)]
    pub category: Option<String>,
    #[schema(minimum = 1, maximum = 366)]
    pub interval_days: i64,
    #[schema(schema_with = methods)]
    pub methods: Vec<String>,
}

/// Set (insert or replace) the visit rule for a region, tier and category, as the visit-rules
/// page does; needs the supervising permission. Residents it applies to are re-scheduled.
#[utoipa::path(post, path = "/api/v1/visit-rules", tag = "people", request_body = VisitRuleBody,
    responses((status = 200, body = VisitRuleDto), (status = 403, description = "Not a supervising role"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_set_visit_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<VisitRuleBody>,
) -> WebResult<Json<VisitRuleDto>> {
    let u = ctx.user()?;
    u.require(shegong_domain::Permission::Supervise)?;
    let mut pairs = vec![
        ("region".to_owned(), b.region),
        ("tier".to_owned(), b.risk_tier),
        ("category".to_owned(), b.category.unwrap_or_default()),
        ("interval_days".to_owned(), b.interval_days.to_string()),
    ];
    pairs.extend(b.methods.into_iter().map(|m| ("methods".to_owned(), m)));
    let rule = parse_rule(&FormData::new(pairs))?;
    let key = (
        rule.region.to_string(),
        rule.tier.as_str().to_owned(),
        rule.category.clone(),
    );
    refused(change_rule(&state, &ctx, rule).await?)?;
    let mut c = state.db.read().await?;
    visit_rules::rules_for(&mut c, &key.0)
        .await?
        .into_iter()
        .find(|r| r.region_code == key.0 && r.tier == key.1 && r.category == key.2)
        .map(|r| Json(rule_dto(r)))
        .ok_or(WebError::NotFound)
}
