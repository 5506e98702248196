//! Evaluation pages: the scoped list with filters, pagination and a form to plan an evaluation,
//! and an evaluation's page — its score sheet (node, maximum, scorer, input, points, evidence)
//! with the form to enter scores, the state buttons and the rectification tasks.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use shegong_domain::FieldError;
use shegong_domain::purchase::evaluation::{
    EvaluationKind, EvaluationState, EvaluatorRole, Points, RectificationState,
};
use shegong_domain::purchase::indicator::Scorer;
use shegong_store::PageRequest;
use shegong_store::network::orgs;
use shegong_store::purchase::contracts;
use shegong_store::purchase::evaluations::{
    self as evals, Evaluation, EvaluationInput, Filter, RectificationInput, ScoreSheet, ScoreText,
    input_text, node_field,
};
use utoipa::IntoParams;

use super::labels;
use super::writes::{self, participant};
use crate::http::auth::{Ctx, CurrentUser, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::purchase::contracts::today_date;
use crate::purchase::writes::is_purchaser;
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, pager};

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    /// Contract number, title or provider name contains.
    pub q: Option<String>,
    /// An evaluation state: `plan`, `self_assessment`, … `final`, `published`.
    #[param(schema_with = super::code::state)]
    pub state: Option<String>,
    /// `spot_check`, `mid_term`, `final` or `quarterly`.
    #[param(schema_with = super::code::kind)]
    pub kind: Option<String>,
    /// The evaluations of one contract.
    pub contract_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

fn given(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ListQuery {
    pub(super) fn filter(&self) -> WebResult<Filter> {
        Ok(Filter {
            q: self.q.clone(),
            state: given(&self.state).map(EvaluationState::parse).transpose()?,
            kind: given(&self.kind).map(EvaluationKind::parse).transpose()?,
            contract_id: given(&self.contract_id).map(str::to_owned),
        })
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("q", v(&self.q)),
            ("state", v(&self.state)),
            ("kind", v(&self.kind)),
            ("contract_id", v(&self.contract_id)),
        ]
    }
}

pub struct Row {
    pub id: String,
    pub contract_id: String,
    pub contract: String,
    pub provider: String,
    pub kind: String,
    pub evaluator: String,
    pub planned_on: String,
    pub state: String,
    pub score: String,
    pub grade: String,
}

fn row(t: &Tr, e: &Evaluation) -> Row {
    Row {
        id: e.id.clone(),
        contract_id: e.contract_id.clone(),
        contract: format!("{} {}", e.contract_number, e.contract_title),
        provider: e.provider_name.clone(),
        kind: t.get(labels::kind(e.kind)).to_owned(),
        evaluator: e.evaluator_name.clone().unwrap_or_default(),
        planned_on: e.planned_on.to_string(),
        state: t.get(labels::state(e.state)).to_owned(),
        score: e
            .result
            .map(|r| format!("{} / {}", r.total, r.max))
            .unwrap_or_default(),
        grade: e
            .result
            .map(|r| t.get(labels::grade(r.grade)).to_owned())
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "purchase/evaluations.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    states: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    can_create: bool,
    /// (id, label) of the contracts and organisations the planning form offers.
    contracts: Vec<(String, String)>,
    orgs: Vec<(String, String)>,
    form: FormData,
    errors: FormErrors,
}

impl ListPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).unwrap_or_default()
    }

    fn messages(&self) -> Vec<String> {
        self.errors
            .others(&["contract_id", "kind", "evaluator_org", "planned_on", "note"])
    }
}

fn kinds(t: &Tr) -> Vec<(String, String)> {
    EvaluationKind::ALL
        .iter()
        .map(|k| (k.to_string(), t.get(labels::kind(*k)).to_owned()))
        .collect()
}

async fn list(
    state: &AppState,
    ctx: &Ctx,
    q: ListQuery,
    form: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let can_create = is_purchaser(u);
    let (data, contract_opts, orgs) = {
        let mut c = state.db.read().await?;
        let data = evals::list(
            &mut c,
            &u.scope(),
            &q.filter()?,
            PageRequest::new(q.page, q.per_page),
        )
        .await?;
        let (mut contract_opts, mut org_opts) = (vec![], vec![]);
        if can_create {
            contract_opts = contracts::list(
                &mut c,
                &u.scope(),
                &contracts::Filter::default(),
                PageRequest::new(Some(1), Some(100)),
            )
            .await?
            .items
            .into_iter()
            .map(|k| {
                (
                    k.id,
                    format!("{} {} ({})", k.number, k.title, k.provider_name),
                )
            })
            .collect();
            org_opts = orgs::list(&mut c, &u.scope())
                .await?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect();
        }
        (data, contract_opts, org_opts)
    };
    let pairs = q.pairs();
    let title = t.get("menu.evaluations");
    let status = form_status(&errors);
    Ok(page(
        status,
        &ListPage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: data.items.iter().map(|e| row(&t, e)).collect(),
            pager: pager(&t, &data, "/evaluations", &pairs)?,
            states: EvaluationState::ALL
                .iter()
                .map(|s| (s.to_string(), t.get(labels::state(*s)).to_owned()))
                .collect(),
            kinds: kinds(&t),
            can_create,
            contracts: contract_opts,
            orgs,
            form,
            errors: FormErrors::new(t, errors),
            q,
        },
    ))
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    list(&state, &ctx, q, FormData::default(), vec![]).await
}

/// A new evaluation from the form's fields (the API's body in the same shape).
pub(super) fn create_input(f: &FormData) -> Result<EvaluationInput, Vec<FieldError>> {
    let mut c = Check::default();
    let contract_id = c.text("contract_id", f.get("contract_id").trim(), 64);
    let kind = c.take(EvaluationKind::parse(f.get("kind")));
    let evaluator = f.get("evaluator_org").trim();
    if evaluator.chars().count() > 64 {
        c.fail("evaluator_org", "evaluation.evaluator_unknown");
    }
    let planned_on = c.date("planned_on", f.get("planned_on").trim());
    let note = c.opt_text("note", f.get("note").trim(), 2000);
    c.finish()?;
    let (Some(kind), Ok(planned_on)) = (kind, NaiveDate::parse_from_str(&planned_on, "%Y-%m-%d"))
    else {
        return Err(vec![FieldError::new("planned_on", "date.invalid")]);
    };
    Ok(EvaluationInput {
        contract_id,
        kind,
        evaluator_org_id: Some(evaluator.to_owned()).filter(|s| !s.is_empty()),
        planned_on,
        note,
    })
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    crate::purchase::writes::purchaser(&ctx)?;
    let result = match create_input(&f) {
        Ok(input) => writes::create(&state, &ctx, input).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    match result {
        Ok(id) => {
            Ok(Redirect::to(&format!("/evaluations/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => list(&state, &ctx, ListQuery::default(), f, errors).await,
        Err(e) => Err(e),
    }
}

/// One row of the score sheet as the page shows it.
pub struct SheetRowView {
    pub id: String,
    pub name: String,
    pub depth: usize,
    pub max: String,
    pub scorer: String,
    pub role: String,
    /// `sum`, `points`, `graded`, `ratio` or `veto`: which control the input takes.
    pub control: &'static str,
    pub levels: Vec<String>,
    pub editable: bool,
    pub value: String,
    pub reason: String,
    pub evidence: String,
    pub evidence_required: bool,
    pub points: String,
    pub entered_by: String,
    pub vetoed: bool,
    pub error: String,
}

pub struct RectView {
    pub seq: i64,
    pub node: String,
    pub description: String,
    pub owner: String,
    pub deadline: String,
    pub overdue: bool,
    pub evidence: String,
    pub state: String,
    /// (target state code, button label, whether the step takes evidence).
    pub steps: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "purchase/evaluation.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    ev: Evaluation,
    kind: String,
    state: String,
    tree: String,
    result: String,
    grade: String,
    total: String,
    complete: bool,
    vetoed_by: String,
    rows: Vec<SheetRowView>,
    can_score: bool,
    moves: Vec<(String, String)>,
    rects: Vec<RectView>,
    can_add_rect: bool,
    /// (node id, name) for the rectification form.
    nodes: Vec<(String, String)>,
    /// (id, name) of the organisations a purchaser may assign while the evaluation is planned;
    /// empty when the form is not shown.
    orgs: Vec<(String, String)>,
    messages: Vec<String>,
}

/// Whether `u` may enter `role`'s nodes: the purchaser any, the assigned evaluator the third
/// party's.
fn may_score(u: &CurrentUser, ev: &Evaluation, role: EvaluatorRole) -> bool {
    is_purchaser(u) || (is_evaluator(u, ev) && role == EvaluatorRole::ThirdParty)
}

fn is_evaluator(u: &CurrentUser, ev: &Evaluation) -> bool {
    match (u.scope().org, ev.evaluator_org_id.as_deref()) {
        (Some(org), Some(assigned)) => org.to_string() == assigned,
        _ => false,
    }
}

fn is_provider(u: &CurrentUser, ev: &Evaluation) -> bool {
    u.scope()
        .org
        .is_some_and(|o| o.to_string() == ev.provider_org_id)
}

fn closed(s: EvaluationState) -> bool {
    matches!(s, EvaluationState::Final | EvaluationState::Published)
}

fn sheet_rows(
    t: &Tr,
    u: &CurrentUser,
    s: &ScoreSheet,
    form: Option<&FormData>,
    errors: &[FieldError],
) -> Vec<SheetRowView> {
    let open = !closed(s.evaluation.state);
    s.rows
        .iter()
        .map(|r| {
            let n = &r.node;
            let (stored_value, stored_reason) = r
                .entered
                .as_ref()
                .map(|e| input_text(&e.input))
                .unwrap_or_default();
            let stored_evidence = r
                .entered
                .as_ref()
                .map(|e| e.evidence.clone())
                .unwrap_or_default();
            let submitted = |prefix: &str| {
                let key = format!("{prefix}{}", n.id);
                form.and_then(|f| f.all(&key).into_iter().next())
            };
            let field = node_field(&n.id);
            let control = match &n.scorer {
                Scorer::Sum => "sum",
                Scorer::Points => "points",
                Scorer::Graded { .. } => "graded",
                Scorer::RatioBands { .. } => "ratio",
                Scorer::Veto => "veto",
            };
            SheetRowView {
                id: n.id.clone(),
                name: n.name.clone(),
                depth: r.depth,
                max: n.max.to_string(),
                scorer: t.get(labels::scorer(&n.scorer)).to_owned(),
                role: t.get(labels::role(n.role)).to_owned(),
                control,
                levels: match &n.scorer {
                    Scorer::Graded { levels } => levels.iter().map(|l| l.label.clone()).collect(),
                    _ => vec![],
                },
                editable: open && n.scorer != Scorer::Sum && may_score(u, &s.evaluation, n.role),
                // A delivery node not entered shows its measured ratio, pre-filled.
                value: submitted("v_").unwrap_or(match (r.entered.is_some(), r.measured_bp) {
                    (false, Some(bp)) => Points(bp).to_string(),
                    _ => stored_value,
                }),
                reason: submitted("r_").unwrap_or(stored_reason),
                evidence: submitted("e_").unwrap_or(stored_evidence),
                evidence_required: n.evidence_required,
                points: match (r.points, r.ratio_bp) {
                    (Some(p), Some(bp)) => format!("{p} ({}%)", Points(bp)),
                    (Some(p), None) => p.to_string(),
                    _ => String::new(),
                },
                entered_by: {
                    let by = r.entered.as_ref().map(|e| e.entered_by.clone());
                    match (r.measured_bp, by) {
                        (Some(bp), Some(by)) => format!(
                            "{} {}% · {} {by}",
                            t.get("evaluations.measured"),
                            Points(bp),
                            t.get("evaluations.overridden_by")
                        ),
                        (Some(bp), None) => {
                            format!("{} {}%", t.get("evaluations.measured"), Points(bp))
                        }
                        (None, by) => by.unwrap_or_default(),
                    }
                },
                vetoed: r.vetoed,
                error: errors
                    .iter()
                    .find(|e| e.field == field)
                    .map(|e| t.get(e.code).to_owned())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn rect_views(t: &Tr, u: &CurrentUser, s: &ScoreSheet, today: NaiveDate) -> Vec<RectView> {
    let ev = &s.evaluation;
    let open = !closed(ev.state);
    let judge = is_purchaser(u) || is_evaluator(u, ev);
    let submit = is_purchaser(u) || is_provider(u, ev);
    s.rectifications
        .iter()
        .map(|r| RectView {
            seq: r.seq,
            node: r
                .node_id
                .as_deref()
                .and_then(|id| s.rows.iter().find(|row| row.node.id == id))
                .map(|row| row.node.name.clone())
                .unwrap_or_default(),
            description: r.description.clone(),
            owner: r.owner.clone(),
            deadline: r.deadline.to_string(),
            overdue: r.state.is_overdue(r.deadline, today),
            evidence: r.evidence.clone(),
            state: t.get(labels::rectification(r.state)).to_owned(),
            steps: r
                .state
                .successors()
                .iter()
                .filter(|to| {
                    open && if **to == RectificationState::Submitted {
                        submit
                    } else {
                        judge
                    }
                })
                .map(|to| {
                    (
                        to.to_string(),
                        t.get(labels::rectification_step(*to)).to_owned(),
                        *to == RectificationState::Submitted,
                    )
                })
                .collect(),
        })
        .collect()
}

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    form: Option<&FormData>,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (s, orgs) = {
        let mut c = state.db.read().await?;
        let s = evals::sheet(&mut c, &u.scope(), id).await?;
        let orgs = if is_purchaser(u) && s.evaluation.state == EvaluationState::Plan {
            orgs::list(&mut c, &u.scope())
                .await?
                .into_iter()
                .filter(|o| o.id != s.evaluation.provider_org_id)
                .map(|o| (o.id, o.name))
                .collect()
        } else {
            vec![]
        };
        (s, orgs)
    };
    let ev = s.evaluation.clone();
    let runs = is_purchaser(u) || is_evaluator(u, &ev);
    let status = form_status(&errors);
    let rows = sheet_rows(&t, u, &s, form, &errors);
    let shown: Vec<&str> = rows
        .iter()
        .filter(|r| !r.error.is_empty())
        .map(|r| node_field(&r.id))
        .collect();
    let messages = FormErrors::new(t, errors).others(&shown);
    let title = format!(
        "{} {} · {}",
        ev.contract_number,
        ev.contract_title,
        t.get(labels::kind(ev.kind))
    );
    let vetoed_by = s
        .vetoed_by
        .as_deref()
        .and_then(|v| s.rows.iter().find(|r| r.node.id == v))
        .map(|r| r.node.name.clone())
        .unwrap_or_default();
    Ok(page(
        status,
        &DetailPage {
            t,
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.evaluations"), "/evaluations"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            kind: t.get(labels::kind(ev.kind)).to_owned(),
            state: t.get(labels::state(ev.state)).to_owned(),
            tree: format!("{} v{}", s.tree_name, ev.tree_version),
            result: ev
                .result
                .map(|r| format!("{} / {}", r.total, r.max))
                .unwrap_or_default(),
            grade: ev
                .result
                .map(|r| t.get(labels::grade(r.grade)).to_owned())
                .unwrap_or_default(),
            total: format!("{} / {}", s.total, s.max),
            complete: s.complete,
            vetoed_by,
            can_score: rows.iter().any(|r| r.editable),
            rows,
            moves: if runs {
                ev.state
                    .successors()
                    .iter()
                    .map(|to| (to.to_string(), t.get(labels::state(*to)).to_owned()))
                    .collect()
            } else {
                vec![]
            },
            rects: rect_views(&t, u, &s, today_date(state.now())),
            can_add_rect: runs && !closed(ev.state),
            nodes: s
                .rows
                .iter()
                .map(|r| (r.node.id.clone(), r.node.name.clone()))
                .collect(),
            messages,
            orgs,
            ev,
        },
    ))
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    detail(&state, &ctx, &id, q.notice.as_deref(), None, vec![]).await
}

/// After a write from the evaluation page: back to it, or the page again with the error.
async fn after(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    result: WebResult<()>,
    form: &FormData,
) -> WebResult<Response> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/evaluations/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => detail(state, ctx, id, None, Some(form), errors).await,
        Err(e) => Err(e),
    }
}

/// The score form's entries: `v_<node>` the value, `r_<node>` an override's reason,
/// `e_<node>` the evidence.
fn score_entries(f: &FormData) -> Vec<ScoreText> {
    f.pairs()
        .iter()
        .filter_map(|(k, v)| {
            let node = k.strip_prefix("v_")?;
            Some(ScoreText {
                node: node.to_owned(),
                value: v.clone(),
                reason: f.get(&format!("r_{node}")).to_owned(),
                evidence: f.get(&format!("e_{node}")).to_owned(),
            })
        })
        .collect()
}

pub async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    crate::purchase::writes::purchaser(&ctx)?;
    let org = f.get("evaluator_org").to_owned();
    let result = if org.is_empty() {
        Err(FieldError::new("evaluator_org", "evaluation.evaluator_unknown").into())
    } else {
        writes::assign(&state, &ctx, &id, org).await
    };
    after(&state, &ctx, &id, result, &FormData::default()).await
}

pub async fn save_scores(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    participant(&ctx)?;
    let result = writes::scores(&state, &ctx, &id, score_entries(&f))
        .await
        .map(|_| ());
    after(&state, &ctx, &id, result, &f).await
}

pub async fn move_state(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    participant(&ctx)?;
    let result = match EvaluationState::parse(f.get("to")) {
        Ok(to) => writes::move_state(&state, &ctx, &id, to).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    after(&state, &ctx, &id, result, &FormData::default()).await
}

/// A rectification task from the form's fields (the API's body in the same shape).
pub(super) fn rectification_input(f: &FormData) -> Result<RectificationInput, Vec<FieldError>> {
    let mut c = Check::default();
    let description = c.text("description", f.get("description").trim(), 500);
    let owner = c.text("owner", f.get("owner").trim(), 100);
    let deadline = c.date("deadline", f.get("deadline").trim());
    let node = f.get("node_id").trim();
    if node.chars().count() > 64 {
        c.fail("node_id", "evaluation.node_unknown");
    }
    c.finish()?;
    let deadline = NaiveDate::parse_from_str(&deadline, "%Y-%m-%d")
        .map_err(|_| vec![FieldError::new("deadline", "date.invalid")])?;
    Ok(RectificationInput {
        node_id: Some(node.to_owned()).filter(|s| !s.is_empty()),
        description,
        owner,
        deadline,
    })
}

pub async fn add_rectification(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    participant(&ctx)?;
    let result = match rectification_input(&f) {
        Ok(input) => writes::add_rectification(&state, &ctx, &id, input)
            .await
            .map(|_| ()),
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    after(&state, &ctx, &id, result, &FormData::default()).await
}

pub async fn move_rectification(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, seq)): Path<(String, i64)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    participant(&ctx)?;
    let result = match RectificationState::parse(f.get("to")) {
        Ok(to) => writes::move_rectification(&state, &ctx, &id, seq, to, f.get("evidence").into())
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    after(&state, &ctx, &id, result, &FormData::default()).await
}
