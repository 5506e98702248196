//! `/api/v1/evaluations`: evaluations in scope with their score sheets and rectification tasks;
//! planning, scores, state moves and rectifications with the same checks and audit as the pages.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::purchase::evaluation::{EvaluationState, Points, RectificationState};
use shegong_domain::purchase::indicator::Scorer;
use shegong_store::PageRequest;
use shegong_store::purchase::evaluations::{
    self as evals, Evaluation, Rectification, ScoreSheet, ScoreText, input_text,
};
use utoipa::ToSchema;

use super::pages::{ListQuery, create_input, rectification_input};
use super::writes::{self, participant};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::purchase::contracts::today_date;
use crate::ui::forms::FormData;
use crate::ui::list::rfc3339;

/// An evaluation as the API returns it. Points are decimal strings ("850", "12.5").
#[derive(Serialize, ToSchema)]
pub struct EvaluationDto {
    pub id: String,
    pub contract_id: String,
    pub contract_number: String,
    pub contract_title: String,
    pub provider_org_id: String,
    pub provider_name: String,
    /// The contract's (purchaser's) region.
    pub region_code: String,
    /// `spot_check`, `mid_term`, `final` or `quarterly`.
    pub kind: String,
    pub state: String,
    /// The states this evaluation may move to now.
    pub next_states: Vec<String>,
    /// The evaluation organisation assigned (null: none yet).
    pub evaluator_org_id: Option<String>,
    pub evaluator_name: Option<String>,
    pub tree_id: String,
    pub tree_version: i64,
    #[schema(format = Date)]
    pub planned_on: String,
    /// The day the final score was reached.
    pub finished_on: Option<String>,
    /// The final score, once reached.
    pub total_points: Option<String>,
    pub max_points: Option<String>,
    /// `excellent`, `good`, `pass` or `fail`, once final.
    pub grade: Option<String>,
    /// The veto node that zeroed the total, if any.
    pub vetoed_by: Option<String>,
    pub note: String,
    pub created_at: String,
    pub updated_at: String,
}

fn dto(e: &Evaluation) -> EvaluationDto {
    EvaluationDto {
        id: e.id.clone(),
        contract_id: e.contract_id.clone(),
        contract_number: e.contract_number.clone(),
        contract_title: e.contract_title.clone(),
        provider_org_id: e.provider_org_id.clone(),
        provider_name: e.provider_name.clone(),
        region_code: e.region_code.clone(),
        kind: e.kind.to_string(),
        state: e.state.to_string(),
        next_states: e
            .state
            .successors()
            .iter()
            .map(ToString::to_string)
            .collect(),
        evaluator_org_id: e.evaluator_org_id.clone(),
        evaluator_name: e.evaluator_name.clone(),
        tree_id: e.tree_id.clone(),
        tree_version: e.tree_version,
        planned_on: e.planned_on.to_string(),
        finished_on: e.finished_on.map(|d| d.to_string()),
        total_points: e.result.map(|r| r.total.to_string()),
        max_points: e.result.map(|r| r.max.to_string()),
        grade: e.result.map(|r| r.grade.to_string()),
        vetoed_by: e.vetoed_by.clone(),
        note: e.note.clone(),
        created_at: rfc3339(e.created_at),
        updated_at: rfc3339(e.updated_at),
    }
}

/// One node of the score sheet.
#[derive(Serialize, ToSchema)]
pub struct ScoreNodeDto {
    pub id: String,
    pub parent: Option<String>,
    pub name: String,
    /// 0 for the root.
    pub depth: i64,
    pub max: String,
    /// `sum`, `points`, `graded`, `ratio_bands` or `veto`.
    pub scorer: String,
    /// `third_party`, `purchaser`, `supervising_bureau` or `village_committee`.
    pub role: String,
    pub evidence_required: bool,
    /// The levels a graded node takes (优 / 良 / 中 / 差).
    pub levels: Vec<String>,
    /// What was entered, as `value` of the scores body takes it; null when not yet.
    pub value: Option<String>,
    /// An override's reason.
    pub reason: Option<String>,
    pub evidence: Option<String>,
    pub entered_by: Option<String>,
    /// A leaf's points once entered; a sum's over what is entered so far.
    pub points: Option<String>,
    /// The ratio a delivery node's points came from, in percent.
    pub ratio_percent: Option<String>,
    /// For a delivery node: the ratio measured from the contract's deliverables (the mean of
    /// the counted lines' delivered shares, each capped at 100 %), in percent; null when the
    /// node is entered by hand. A `value` different from it needs a `reason`.
    pub measured_percent: Option<String>,
    /// A failed veto.
    pub vetoed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RectificationTaskDto {
    pub seq: i64,
    pub node_id: Option<String>,
    pub description: String,
    pub owner: String,
    #[schema(format = Date)]
    pub deadline: String,
    pub evidence: String,
    /// `open`, `submitted`, `accepted` or `rejected`.
    pub state: String,
    pub next_states: Vec<String>,
    /// Still open (or sent back) after its deadline.
    pub overdue: bool,
}

fn rect_dto(r: &Rectification, today: chrono::NaiveDate) -> RectificationTaskDto {
    RectificationTaskDto {
        seq: r.seq,
        node_id: r.node_id.clone(),
        description: r.description.clone(),
        owner: r.owner.clone(),
        deadline: r.deadline.to_string(),
        evidence: r.evidence.clone(),
        state: r.state.to_string(),
        next_states: r
            .state
            .successors()
            .iter()
            .map(ToString::to_string)
            .collect(),
        overdue: r.state.is_overdue(r.deadline, today),
    }
}

/// An evaluation with its score sheet and rectification tasks.
#[derive(Serialize, ToSchema)]
pub struct ScoreSheetDto {
    /// The evaluation's own fields, at the top level as every record's are.
    #[serde(flatten)]
    pub evaluation: EvaluationDto,
    pub tree_name: String,
    /// The total over what is entered so far (0 when a veto failed).
    pub sheet_total: String,
    pub sheet_max: String,
    /// Every scored node has its input.
    pub complete: bool,
    /// The grade the entered total would get.
    pub sheet_grade: String,
    pub nodes: Vec<ScoreNodeDto>,
    pub rectifications: Vec<RectificationTaskDto>,
}

fn sheet_dto(s: &ScoreSheet, today: chrono::NaiveDate) -> ScoreSheetDto {
    ScoreSheetDto {
        evaluation: dto(&s.evaluation),
        tree_name: s.tree_name.clone(),
        sheet_total: s.total.to_string(),
        sheet_max: s.max.to_string(),
        complete: s.complete,
        sheet_grade: s.grade.to_string(),
        nodes: s
            .rows
            .iter()
            .map(|r| {
                let n = &r.node;
                let text = r.entered.as_ref().map(|e| input_text(&e.input));
                ScoreNodeDto {
                    id: n.id.clone(),
                    parent: n.parent.clone(),
                    name: n.name.clone(),
                    depth: i64::try_from(r.depth).unwrap_or(0),
                    max: n.max.to_string(),
                    scorer: n.scorer.code().to_owned(),
                    role: n.role.to_string(),
                    evidence_required: n.evidence_required,
                    levels: match &n.scorer {
                        Scorer::Graded { levels } => {
                            levels.iter().map(|l| l.label.clone()).collect()
                        }
                        _ => vec![],
                    },
                    value: text.as_ref().map(|(v, _)| v.clone()),
                    reason: text
                        .as_ref()
                        .map(|(_, r)| r.clone())
                        .filter(|r| !r.is_empty()),
                    evidence: r.entered.as_ref().map(|e| e.evidence.clone()),
                    entered_by: r.entered.as_ref().map(|e| e.entered_by.clone()),
                    points: r.points.map(|p| p.to_string()),
                    ratio_percent: r.ratio_bp.map(|bp| Points(bp).to_string()),
                    measured_percent: r.measured_bp.map(|bp| Points(bp).to_string()),
                    vetoed: r.vetoed,
                }
            })
            .collect(),
        rectifications: s
            .rectifications
            .iter()
            .map(|r| rect_dto(r, today))
            .collect(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct EvaluationPage {
    pub items: Vec<EvaluationDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Evaluations within the caller's scope (a purchaser's region; an evaluator's assignments; an
/// agency's own contracts), latest planned first.
#[utoipa::path(get, path = "/api/v1/evaluations", tag = "evaluation", params(ListQuery),
    responses((status = 200, body = EvaluationPage)))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<EvaluationPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = evals::list(
        &mut c,
        &u.scope(),
        &q.filter()?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(EvaluationPage {
        items: p.items.iter().map(dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<ScoreSheetDto> {
    let u = reader(ctx)?;
    let s = {
        let mut c = state.db.read().await?;
        evals::sheet(&mut c, &u.scope(), id).await?
    };
    Ok(sheet_dto(&s, today_date(state.now())))
}

/// One evaluation with its score sheet (node, maximum, scorer, input, points, evidence) and
/// rectification tasks.
#[utoipa::path(get, path = "/api/v1/evaluations/{id}", tag = "evaluation", params(("id" = String, Path)),
    responses((status = 200, body = ScoreSheetDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ScoreSheetDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// A new evaluation of a contract, scored on the region's indicator tree (the national
/// default when the region has none).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "contract_id": "0190a3c2-0000-7000-8000-000000000003", "kind": "mid_term",
    "planned_on": "2025-12-01", "note": "中期评估"
}))]
pub struct EvaluationBody {
    pub contract_id: String,
    /// `spot_check`, `mid_term`, `final` or `quarterly`.
    #[schema(schema_with = super::code::kind)]
    pub kind: String,
    /// The evaluation organisation to assign; it may not be the provider or linked to it.
    pub evaluator_org: Option<String>,
    #[schema(format = Date)]
    pub planned_on: String,
    #[serde(default)]
    pub note: String,
}

/// Plan an evaluation (purchasers only).
#[utoipa::path(post, path = "/api/v1/evaluations", tag = "evaluation", request_body = EvaluationBody,
    responses((status = 201, body = ScoreSheetDto), (status = 403, description = "Not a purchaser"),
        (status = 422, description = "Invalid fields, each named (a conflicted evaluator on `evaluator_org`); nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<EvaluationBody>,
) -> WebResult<Response> {
    crate::purchase::writes::purchaser(&ctx)?;
    let form = FormData::new(vec![
        ("contract_id".into(), body.contract_id),
        ("kind".into(), body.kind),
        (
            "evaluator_org".into(),
            body.evaluator_org.unwrap_or_default(),
        ),
        ("planned_on".into(), body.planned_on),
        ("note".into(), body.note),
    ]);
    let input = create_input(&form).map_err(WebError::Invalid)?;
    let id = writes::create(&state, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

/// A change to a planned evaluation.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({}))]
pub struct EvaluationPatch {
    /// The evaluation organisation to assign (plan state only); it may not be the provider or
    /// linked to it.
    pub evaluator_org: Option<String>,
}

/// Assign the evaluation organisation of a planned evaluation (purchasers only).
#[utoipa::path(patch, path = "/api/v1/evaluations/{id}", tag = "evaluation", params(("id" = String, Path)),
    request_body = EvaluationPatch,
    responses((status = 200, body = ScoreSheetDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 403, description = "Not a purchaser"),
        (status = 422, description = "Unknown or conflicted organisation on `evaluator_org`, or the evaluation is past its plan")))]
pub async fn api_patch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<EvaluationPatch>,
) -> WebResult<Json<ScoreSheetDto>> {
    crate::purchase::writes::purchaser(&ctx)?;
    if let Some(org) = body.evaluator_org {
        writes::assign(&state, &ctx, &id, org.trim().to_owned()).await?;
    }
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// A node's input.
#[derive(Deserialize, ToSchema)]
pub struct NodeScoreBody {
    /// The node's id in the tree (`management`, `core_delivery`, `financial`, …).
    pub node: String,
    /// Read by the node's scorer: points ("12.5"), a level ("优"), a delivery ratio in percent
    /// ("95"), or for a veto `pass`/`fail`. Empty clears the node.
    pub value: String,
    /// For a delivery node: the reason for overriding the measured ratio (`value` is then the
    /// points).
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub evidence: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"scores": [{"node": "management", "value": "优", "evidence": "项目管理台账"}]}))]
pub struct ScoresBody {
    pub scores: Vec<NodeScoreBody>,
}

/// The most entries one request takes (a tree has fewer nodes).
const MAX_SCORES: usize = 500;

/// Enter (or clear) node inputs. All are checked before any is written: a score above a node's
/// maximum is refused on `scores.<node>`. The evaluator enters the third party's nodes, the
/// purchaser any; not once the evaluation is final.
#[utoipa::path(put, path = "/api/v1/evaluations/{id}/scores", tag = "evaluation", params(("id" = String, Path)),
    request_body = ScoresBody,
    responses((status = 200, body = ScoreSheetDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 403, description = "Not taking part in evaluations"),
        (status = 422, description = "Invalid scores, named by node; nothing written")))]
pub async fn api_scores(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<ScoresBody>,
) -> WebResult<Json<ScoreSheetDto>> {
    participant(&ctx)?;
    if body.scores.len() > MAX_SCORES {
        return Err(WebError::Invalid(vec![shegong_domain::FieldError::new(
            "scores",
            "purchase.too_many_rows",
        )]));
    }
    let entries = body
        .scores
        .into_iter()
        .map(|s| ScoreText {
            node: s.node,
            value: s.value,
            reason: s.reason,
            evidence: s.evidence,
        })
        .collect();
    writes::scores(&state, &ctx, &id, entries).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"to": "self_assessment"}))]
pub struct EvaluationStateBody {
    /// One of the evaluation's `next_states`.
    #[schema(schema_with = super::code::state)]
    pub to: String,
}

/// Move an evaluation to its next state. `final` computes the final score and grade from a
/// complete sheet (the first node missing its score or evidence is named) and assesses the
/// contract's instalments paid by this kind of evaluation by its reduction rule.
#[utoipa::path(post, path = "/api/v1/evaluations/{id}/state", tag = "evaluation", params(("id" = String, Path)),
    request_body = EvaluationStateBody,
    responses((status = 200, body = ScoreSheetDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 403, description = "Not taking part in evaluations"),
        (status = 422, description = "A step the state does not allow, or an incomplete sheet")))]
pub async fn api_state(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<EvaluationStateBody>,
) -> WebResult<Json<ScoreSheetDto>> {
    participant(&ctx)?;
    let to = EvaluationState::parse(&body.to)?;
    writes::move_state(&state, &ctx, &id, to).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"node_id": "management", "description": "补齐督导记录", "owner": "张主任", "deadline": "2026-01-31"}))]
pub struct RectificationTaskBody {
    /// The indicator the task is about, if any.
    pub node_id: Option<String>,
    pub description: String,
    pub owner: String,
    #[schema(format = Date)]
    pub deadline: String,
}

/// Set a rectification task (the evaluator or the purchaser).
#[utoipa::path(post, path = "/api/v1/evaluations/{id}/rectifications", tag = "evaluation", params(("id" = String, Path)),
    request_body = RectificationTaskBody,
    responses((status = 201, body = RectificationTaskDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 403, description = "Not taking part in evaluations"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_rectification(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<RectificationTaskBody>,
) -> WebResult<Response> {
    participant(&ctx)?;
    let form = FormData::new(vec![
        ("node_id".into(), body.node_id.unwrap_or_default()),
        ("description".into(), body.description),
        ("owner".into(), body.owner),
        ("deadline".into(), body.deadline),
    ]);
    let input = rectification_input(&form).map_err(WebError::Invalid)?;
    let r = writes::add_rectification(&state, &ctx, &id, input).await?;
    let today = today_date(state.now());
    Ok((StatusCode::CREATED, Json(rect_dto(&r, today))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"to": "submitted", "evidence": "督导记录 12 份"}))]
pub struct RectificationTaskStep {
    /// `submitted` (with evidence, by the provider), `accepted` or `rejected`.
    #[schema(schema_with = super::code::rectification_step)]
    pub to: String,
    #[serde(default)]
    pub evidence: String,
}

/// Move rectification task `seq`: the provider submits it with its evidence, the evaluator
/// accepts (closes) or rejects it.
#[utoipa::path(post, path = "/api/v1/evaluations/{id}/rectifications/{seq}", tag = "evaluation",
    params(("id" = String, Path), ("seq" = i64, Path)), request_body = RectificationTaskStep,
    responses((status = 200, body = RectificationTaskDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 403, description = "Not taking part in evaluations"),
        (status = 422, description = "A step the task's state does not allow, or evidence missing")))]
pub async fn api_move_rectification(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, seq)): Path<(String, i64)>,
    Json(body): Json<RectificationTaskStep>,
) -> WebResult<Json<RectificationTaskDto>> {
    participant(&ctx)?;
    let to = RectificationState::parse(&body.to)?;
    let r = writes::move_rectification(&state, &ctx, &id, seq, to, body.evidence).await?;
    Ok(Json(rect_dto(&r, today_date(state.now()))))
}
