//! Evaluations of contracts (评估): indicator trees per region and version, evaluations moved
//! through the domain's workflow, inputs entered node by node, rectification tasks, and the final
//! score and grade — which assesses the contract's instalments triggered by that kind of
//! evaluation through [`super::instalments::advance`] and the contract's reduction rule.
//!
//! Who does what: a purchaser (a scope naming no organisation) plans evaluations and may do
//! everything else; the assigned evaluator organisation moves its evaluation along, enters the
//! third party's nodes and sets rectification tasks; the provider submits rectification
//! evidence. An evaluation is visible to the purchaser's region, to its evaluator organisation
//! and to the provider; outside that it does not exist (`NotFound`).
//!
//! Delivery nodes (ratio bands) are pre-filled from the contract's computed deliverables
//! ([`measured`]), each from the lines of the tier it measures (core, basic, or all): the sheet
//! shows the measured ratio and the points it gives; an evaluator may override it with points
//! and a reason (a plain ratio different from the measured one is refused naming the node).
//! Reaching the final score freezes the measured ratios into the sheet as inputs entered by
//! nobody ([`MEASURED_BY`]), so later records do not move a closed sheet.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::purchase::contract::LineTier;
use shegong_domain::purchase::evaluation::{
    EvaluationKind, EvaluationState, EvaluatorRole, FinalScore, Grade, Points, RectificationState,
    check_no_conflict,
};
use shegong_domain::purchase::indicator::{
    self, IndicatorNode, IndicatorTree, Input, Inputs, NodeError, Scorer,
};
use shegong_domain::purchase::instalment::{InstalmentState, Trigger};
use shegong_domain::purchase::{HUNDRED_PERCENT, ratio_bp};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::contracts::{self, Contract};
use super::deliverables;
use super::indicator_trees::{StoredTree, load_tree, tree_for_region};
use super::instalments::{self, Assess, Instalment, Step};
use super::{from_json, stored, to_json};
use crate::sql::Sql;
use crate::workforce::staff::date_text;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

fn date(text: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))
}

/// The field an error about node `id` names: `scores.<id>`. Node ids come from stored trees,
/// so they are interned in a small bounded set (field errors carry `&'static str`); anything
/// past it is just `scores`.
pub fn node_field(id: &str) -> &'static str {
    super::indicator_trees::node_field("scores", id)
}

fn node_error(e: &NodeError) -> FieldError {
    FieldError::new(node_field(&e.node), e.code)
}

// ---------------------------------------------------------------------------------------------
// Evaluations

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub id: String,
    pub contract_id: String,
    pub contract_number: String,
    pub contract_title: String,
    pub provider_org_id: String,
    pub provider_name: String,
    /// The contract's (purchaser's) region.
    pub region_code: String,
    pub tree_id: String,
    pub tree_version: i64,
    pub kind: EvaluationKind,
    pub state: EvaluationState,
    pub evaluator_org_id: Option<String>,
    pub evaluator_name: Option<String>,
    pub planned_on: NaiveDate,
    pub finished_on: Option<NaiveDate>,
    /// The final score, once the evaluation reached it.
    pub result: Option<FinalScore>,
    pub vetoed_by: Option<String>,
    pub note: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    contract_id: String,
    contract_number: String,
    contract_title: String,
    provider_org_id: String,
    provider_name: String,
    region_code: String,
    tree_id: String,
    tree_version: i64,
    kind: String,
    state: String,
    evaluator_org_id: Option<String>,
    evaluator_name: Option<String>,
    planned_on: String,
    finished_on: Option<String>,
    total_points: Option<i64>,
    max_points: Option<i64>,
    grade: Option<String>,
    vetoed_by: Option<String>,
    note: String,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str = "SELECT e.id, e.contract_id, c.number AS contract_number, \
     c.title AS contract_title, c.provider_org_id, o.name AS provider_name, e.region_code, \
     e.tree_id, t.version AS tree_version, e.kind, e.state, e.evaluator_org_id, \
     eo.name AS evaluator_name, e.planned_on, e.finished_on, e.total_points, e.max_points, \
     e.grade, e.vetoed_by, e.note, e.created_at, e.updated_at \
     FROM evaluations e JOIN contracts c ON c.id = e.contract_id \
     JOIN organizations o ON o.id = c.provider_org_id \
     JOIN indicator_trees t ON t.id = e.tree_id \
     LEFT JOIN organizations eo ON eo.id = e.evaluator_org_id";

const COUNT: &str = "SELECT COUNT(*) FROM evaluations e JOIN contracts c ON c.id = e.contract_id \
     JOIN organizations o ON o.id = c.provider_org_id";

impl TryFrom<Row> for Evaluation {
    type Error = StoreError;

    fn try_from(r: Row) -> StoreResult<Evaluation> {
        let result = match (r.total_points, r.max_points, r.grade.as_deref()) {
            (Some(total), Some(max), Some(grade)) => Some(FinalScore {
                total: Points(total),
                max: Points(max),
                grade: stored(Grade::parse(grade))?,
            }),
            _ => None,
        };
        Ok(Evaluation {
            kind: stored(EvaluationKind::parse(&r.kind))?,
            state: stored(EvaluationState::parse(&r.state))?,
            planned_on: date(&r.planned_on)?,
            finished_on: r.finished_on.as_deref().map(date).transpose()?,
            result,
            id: r.id,
            contract_id: r.contract_id,
            contract_number: r.contract_number,
            contract_title: r.contract_title,
            provider_org_id: r.provider_org_id,
            provider_name: r.provider_name,
            region_code: r.region_code,
            tree_id: r.tree_id,
            tree_version: r.tree_version,
            evaluator_org_id: r.evaluator_org_id,
            evaluator_name: r.evaluator_name,
            vetoed_by: r.vetoed_by,
            note: r.note,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// `select` (evaluations as `e`, contracts as `c`) restricted to what `scope` may see: a
/// purchaser's region, or for a scope naming an organisation the evaluations it is assigned
/// and those of the contracts it provides.
fn visible(select: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    restrict(&mut q, scope);
    q
}

/// The condition of [`visible`], appended to `q`.
pub(super) fn restrict(q: &mut Sql, scope: &Scope) {
    match scope.org {
        Some(org) => {
            let org = org.to_string();
            q.push("(e.evaluator_org_id = ")
                .bind(org.clone())
                .push(" OR c.provider_org_id = ")
                .bind(org)
                .push(")");
        }
        None => {
            q.region_range("e.region_code", scope);
        }
    }
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Evaluation> {
    let mut q = visible(SELECT, scope);
    q.push(" AND e.id = ").bind(id);
    let row: Row = q.fetch_one(conn).await?;
    row.try_into()
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Contract number, title, provider or evaluator name contains.
    pub q: Option<String>,
    pub state: Option<EvaluationState>,
    pub kind: Option<EvaluationKind>,
    pub contract_id: Option<String>,
}

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = visible(select, scope);
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["c.number", "c.title", "o.name"], text);
    }
    if let Some(state) = f.state {
        q.push(" AND e.state = ").bind(state.as_str());
    }
    if let Some(kind) = f.kind {
        q.push(" AND e.kind = ").bind(kind.as_str());
    }
    if let Some(c) = f.contract_id.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND e.contract_id = ").bind(c);
    }
    q
}

/// One page of the evaluations in scope, latest planned first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Evaluation>> {
    let mut q = filtered(scope, f, SELECT);
    q.push(" ORDER BY e.planned_on DESC, e.id DESC");
    let rows: Page<Row> = q.fetch_page(conn, &filtered(scope, f, COUNT), page).await?;
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(Evaluation::try_from)
            .collect::<StoreResult<_>>()?,
        total: rows.total,
        capped: rows.capped,
        page: rows.page,
        per_page: rows.per_page,
    })
}

/// A new evaluation of a contract.
#[derive(Debug, Clone)]
pub struct EvaluationInput {
    pub contract_id: String,
    pub kind: EvaluationKind,
    /// The third-party evaluation organisation assigned, if any yet.
    pub evaluator_org_id: Option<String>,
    pub planned_on: NaiveDate,
    pub note: String,
}

/// The evaluator organisation `id` exists and may score `contract` (回避): refused on
/// `evaluator_org`.
async fn check_evaluator(
    conn: &mut AnyConnection,
    contract: &Contract,
    id: &str,
) -> StoreResult<()> {
    let exists = Sql::new("SELECT COUNT(*) FROM organizations WHERE id = ")
        .bind(id)
        .fetch_i64(conn)
        .await?
        > 0;
    let (Some(evaluator), true) = (Uuid::parse_str(id).ok(), exists) else {
        return refuse("evaluator_org", "evaluation.evaluator_unknown");
    };
    let provider = Uuid::parse_str(&contract.provider_org_id)
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))?;
    let links = crate::network::org_links::pairs_of(conn, id).await?;
    check_no_conflict(evaluator, provider, &links)?;
    Ok(())
}

/// Plan an evaluation of a contract the purchaser sees, scored on the region's tree. Refused:
/// a scope naming an organisation, a contract not visible (`contract_id`), an unknown or
/// conflicted evaluator organisation (`evaluator_org`), a note too long. Returns its id.
pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &EvaluationInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    if scope.org.is_some() {
        return refuse("contract_id", "purchase.purchaser_only");
    }
    let contract = match contracts::get(conn, scope, &input.contract_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            return refuse("contract_id", "evaluation.contract_unknown");
        }
        Err(e) => return Err(e),
    };
    if input.note.chars().count() > 2000 {
        return refuse("note", "purchase.text_invalid");
    }
    if let Some(org) = &input.evaluator_org_id {
        check_evaluator(conn, &contract, org).await?;
    }
    let tree = tree_for_region(conn, &contract.region_code, now).await?;
    let id = new_id();
    Sql::new("INSERT INTO evaluations (id, contract_id, region_code, tree_id, kind, state, evaluator_org_id, planned_on, note, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(contract.id.as_str()).push(", ").bind(contract.region_code.as_str()).push(", ")
        .bind(tree.id.as_str()).push(", ").bind(input.kind.as_str()).push(", ")
        .bind(EvaluationState::Plan.as_str()).push(", ").bind(input.evaluator_org_id.clone()).push(", ")
        .bind(date_text(input.planned_on)).push(", ").bind(input.note.trim()).push(", ")
        .bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

/// Assign (or change) the evaluator organisation before the work starts (plan state only),
/// with the same conflict check. Purchaser only. Returns the organisation before.
pub async fn assign(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    evaluator_org_id: &str,
    now: Millis,
) -> StoreResult<Option<String>> {
    let ev = get(conn, scope, id).await?;
    if scope.org.is_some() {
        return refuse("evaluator_org", "purchase.purchaser_only");
    }
    if ev.state != EvaluationState::Plan {
        return refuse("state", "evaluation.transition_invalid");
    }
    let contract = contracts::get(conn, scope, &ev.contract_id).await?;
    check_evaluator(conn, &contract, evaluator_org_id).await?;
    Sql::new("UPDATE evaluations SET evaluator_org_id = ")
        .bind(evaluator_org_id)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(ev.evaluator_org_id)
}

/// Whether `scope` is the purchaser (no organisation) or the evaluation's evaluator.
fn is_purchaser(scope: &Scope) -> bool {
    scope.org.is_none()
}

fn is_evaluator(scope: &Scope, ev: &Evaluation) -> bool {
    match (scope.org, ev.evaluator_org_id.as_deref()) {
        (Some(org), Some(assigned)) => org.to_string() == assigned,
        _ => false,
    }
}

fn is_provider(scope: &Scope, ev: &Evaluation) -> bool {
    scope
        .org
        .is_some_and(|org| org.to_string() == ev.provider_org_id)
}

fn require_evaluator_or_purchaser(
    scope: &Scope,
    ev: &Evaluation,
    field: &'static str,
) -> StoreResult<()> {
    if is_purchaser(scope) || is_evaluator(scope, ev) {
        Ok(())
    } else {
        refuse(field, "evaluation.evaluator_only")
    }
}

fn is_closed(state: EvaluationState) -> bool {
    matches!(state, EvaluationState::Final | EvaluationState::Published)
}

// ---------------------------------------------------------------------------------------------
// Scores

/// One stored input of a node.
#[derive(Debug, Clone, Serialize)]
pub struct StoredInput {
    pub input: Input,
    pub evidence: String,
    pub entered_by: String,
    pub entered_at: Millis,
}

async fn stored_inputs(
    conn: &mut AnyConnection,
    id: &str,
) -> StoreResult<HashMap<String, StoredInput>> {
    let rows: Vec<(String, String, String, String, i64)> = Sql::new(
        "SELECT node_id, input, evidence, entered_by, entered_at FROM evaluation_scores \
         WHERE evaluation_id = ",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for (node, input, evidence, entered_by, entered_at) in rows {
        out.insert(
            node,
            StoredInput {
                input: from_json(&input)?,
                evidence,
                entered_by,
                entered_at,
            },
        );
    }
    Ok(out)
}

/// `entered_by` of the inputs that freeze a measured ratio when the final score is reached.
pub const MEASURED_BY: &str = "";

/// Whether a stored input is a frozen measured ratio rather than something an evaluator typed.
fn is_frozen(s: &StoredInput) -> bool {
    s.entered_by == MEASURED_BY && matches!(s.input, Input::Ratio { .. })
}

/// The nodes that measure delivery: the ratio-band nodes (the default tree scores delivery,
/// `core_delivery` and `basic_delivery`, and nothing else by ratio bands). Each measures the
/// lines of its `measures` tier, or every counted line when it names none.
fn delivery_nodes(tree: &IndicatorTree) -> impl Iterator<Item = &IndicatorNode> {
    tree.nodes()
        .iter()
        .filter(|n| matches!(n.scorer, Scorer::RatioBands { .. }))
}

/// The mean of the delivered shares (basis points, each capped at 100 %) of the lines counted
/// from service records, of `tier` only when given; `None` without such a line.
fn mean_delivered(lines: &[deliverables::LineDelivery], tier: Option<LineTier>) -> Option<i64> {
    let shares: Vec<i64> = lines
        .iter()
        .filter(|l| tier.is_none_or(|t| l.tier == t))
        .filter_map(|l| l.delivered_bp)
        .map(|bp| bp.clamp(0, HUNDRED_PERCENT))
        .collect();
    let counted = i64::try_from(shares.len()).unwrap_or(i64::MAX);
    ratio_bp(shares.iter().sum(), counted.saturating_mul(HUNDRED_PERCENT))
        .map(|mean| mean.min(HUNDRED_PERCENT))
}

/// Ratios measured from the contract's computed deliverables, by delivery node: the mean of
/// the delivered/target shares of the lines counted from service records (the measure of a
/// region's purchase overview), over the lines of the node's tier when it measures one
/// (`core_delivery` the core lines, `basic_delivery` the basic ones) and over every counted
/// line otherwise. A node without a counted line to measure is left out (its delivery is then
/// entered as a ratio), and so is every node of a closed evaluation, whose ratios were frozen
/// into its inputs at the final score.
async fn measured(
    conn: &mut AnyConnection,
    ev: &Evaluation,
    tree: &IndicatorTree,
) -> StoreResult<HashMap<String, i64>> {
    if is_closed(ev.state) || delivery_nodes(tree).next().is_none() {
        return Ok(HashMap::new());
    }
    // The evaluation is visible to the caller; its contract is read on the purchaser's behalf
    // (an evaluator organisation does not see the contract itself). Pace is not used, so any
    // date will do.
    let purchaser = Scope::region(stored(RegionCode::parse(&ev.region_code))?);
    let lines =
        deliverables::for_contract(conn, &purchaser, &ev.contract_id, ev.planned_on).await?;
    Ok(delivery_nodes(tree)
        .filter_map(|n| Some((n.id.clone(), mean_delivered(&lines, n.measures)?)))
        .collect())
}

/// `measured` as it applies to `entered`: a node holding a plain ratio entered while nothing
/// was measured (or frozen at the final score) keeps it until someone enters the node again.
fn applicable(
    measured: &HashMap<String, i64>,
    entered: &HashMap<String, Input>,
    touched: &[String],
) -> HashMap<String, i64> {
    measured
        .iter()
        .filter(|(node, _)| {
            touched.contains(node) || !matches!(entered.get(*node), Some(Input::Ratio { .. }))
        })
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// A stand-in input for a leaf not scored yet, so a partial sheet can be computed (and each
/// entered input checked) before every node has its score.
fn placeholder(node: &IndicatorNode) -> Option<Input> {
    match &node.scorer {
        Scorer::Sum => None,
        Scorer::Points => Some(Input::Points {
            points: Points::ZERO,
        }),
        Scorer::Graded { levels } => levels.first().map(|l| Input::Level {
            label: l.label.clone(),
        }),
        Scorer::RatioBands { .. } => Some(Input::Ratio { ratio_bp: 0 }),
        Scorer::Veto => Some(Input::Veto { passed: true }),
    }
}

/// The sheet as far as it is entered: `entered` and `measured` plus placeholders for the rest.
fn partial(
    tree: &IndicatorTree,
    entered: &HashMap<String, Input>,
    measured: HashMap<String, i64>,
) -> Result<indicator::Scored, NodeError> {
    let mut all = entered.clone();
    for node in tree.nodes() {
        if !all.contains_key(&node.id)
            && !measured.contains_key(&node.id)
            && let Some(p) = placeholder(node)
        {
            all.insert(node.id.clone(), p);
        }
    }
    indicator::score(
        tree,
        &Inputs {
            entered: all,
            measured,
        },
    )
}

/// What an evaluator typed for a node: one value read by the node's scorer (points "12.5", a
/// level "优", a ratio "95" percent, a veto "pass"/"fail"), an override's reason for a ratio
/// node (the value is then the points), and the evidence. An empty value clears the node.
#[derive(Debug, Clone, Default)]
pub struct ScoreText {
    pub node: String,
    pub value: String,
    pub reason: String,
    pub evidence: String,
}

/// `text` as the input `node` takes; refused on the node's field.
pub fn parse_input(node: &IndicatorNode, value: &str, reason: &str) -> Result<Input, FieldError> {
    let field = node_field(&node.id);
    let value = value.trim();
    match &node.scorer {
        Scorer::Sum => Err(FieldError::new(field, "evaluation.input_wrong_kind")),
        Scorer::Points => Ok(Input::Points {
            points: Points::parse(field, value)?,
        }),
        Scorer::Graded { .. } => Ok(Input::Level {
            label: value.to_owned(),
        }),
        Scorer::RatioBands { .. } if !reason.trim().is_empty() => Ok(Input::Override {
            points: Points::parse(field, value)?,
            reason: reason.trim().to_owned(),
        }),
        Scorer::RatioBands { .. } => {
            let percent = value.trim_end_matches(['%', '％']).trim_end();
            let bp = Points::parse(field, percent)
                .map_err(|_| FieldError::new(field, "evaluation.ratio_invalid"))?;
            Ok(Input::Ratio { ratio_bp: bp.0 })
        }
        Scorer::Veto => match value {
            "pass" | "passed" | "true" | "通过" | "1" => Ok(Input::Veto { passed: true }),
            "fail" | "failed" | "false" | "否决" | "不通过" | "0" => {
                Ok(Input::Veto { passed: false })
            }
            _ => Err(FieldError::new(field, "evaluation.veto_invalid")),
        },
    }
}

/// The form's text for a stored input (what [`parse_input`] reads back).
pub fn input_text(input: &Input) -> (String, String) {
    match input {
        Input::Points { points } => (points.to_string(), String::new()),
        Input::Level { label } => (label.clone(), String::new()),
        Input::Ratio { ratio_bp } => (Points(*ratio_bp).to_string(), String::new()),
        Input::Override { points, reason } => (points.to_string(), reason.clone()),
        Input::Veto { passed } => (
            if *passed { "pass" } else { "fail" }.to_owned(),
            String::new(),
        ),
    }
}

/// A node's input as changed by a write: (node, before, after; `None` cleared).
#[derive(Debug, Clone)]
pub struct ScoreChange {
    pub node: String,
    pub before: Option<Input>,
    pub after: Option<Input>,
}

/// Enter (or clear) node inputs. Every entry is checked first — the node exists and is scored
/// by the writer (the evaluator organisation scores the third party's nodes, a purchaser any),
/// the value fits the node, and the sheet with it computes (points above a node's maximum are
/// refused naming the node) — and only then written, so a refusal writes nothing.
pub async fn enter_scores(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    entries: &[ScoreText],
    by: &str,
    now: Millis,
) -> StoreResult<(Evaluation, Vec<ScoreChange>)> {
    let ev = get(conn, scope, id).await?;
    require_evaluator_or_purchaser(scope, &ev, "scores")?;
    if is_closed(ev.state) {
        return refuse("state", "evaluation.closed");
    }
    // A link filed after the assignment still makes the evaluator stand aside.
    if let Some(org) = scope.org {
        let contract = contracts::get(conn, scope, &ev.contract_id).await?;
        check_evaluator(conn, &contract, &org.to_string()).await?;
    }
    if entries.is_empty() {
        return refuse("scores", "evaluation.scores_empty");
    }
    let tree = load_tree(conn, &ev.tree_id).await?;
    let before = stored_inputs(conn, id).await?;
    let mut entered: HashMap<String, Input> = before
        .iter()
        .map(|(k, v)| (k.clone(), v.input.clone()))
        .collect();
    let measured = measured(conn, &ev, &tree.tree).await?;
    let mut evidence: HashMap<String, String> = HashMap::new();
    let mut touched: Vec<String> = Vec::new();
    for e in entries {
        let Some(node) = tree.tree.node(e.node.trim()) else {
            return refuse("scores", "evaluation.node_unknown");
        };
        let field = node_field(&node.id);
        if !is_purchaser(scope) && node.role != EvaluatorRole::ThirdParty {
            return refuse(field, "evaluation.node_not_yours");
        }
        if e.evidence.chars().count() > 2000 || e.reason.chars().count() > 500 {
            return refuse(field, "purchase.text_invalid");
        }
        match parse_input(node, &e.value, &e.reason) {
            _ if e.value.trim().is_empty() => {
                entered.remove(&node.id);
            }
            // The measured ratio itself (as the form pre-fills it) is no input: nothing to
            // override.
            Ok(Input::Ratio { ratio_bp }) if measured.get(&node.id) == Some(&ratio_bp) => {
                entered.remove(&node.id);
            }
            input => {
                entered.insert(node.id.clone(), input?);
            }
        }
        evidence.insert(node.id.clone(), e.evidence.trim().to_owned());
        if !touched.contains(&node.id) {
            touched.push(node.id.clone());
        }
    }
    let measured = applicable(&measured, &entered, &touched);
    partial(&tree.tree, &entered, measured).map_err(|e| node_error(&e))?;
    let mut changes = Vec::new();
    for node in touched {
        let old = before.get(&node).map(|s| s.input.clone());
        let new = entered.get(&node).cloned();
        let old_evidence = before.get(&node).map(|s| s.evidence.as_str()).unwrap_or("");
        let new_evidence = evidence.get(&node).map(String::as_str).unwrap_or("");
        if old == new && (new.is_none() || old_evidence == new_evidence) {
            continue;
        }
        Sql::new("DELETE FROM evaluation_scores WHERE evaluation_id = ")
            .bind(id)
            .push(" AND node_id = ")
            .bind(node.as_str())
            .execute(conn)
            .await?;
        if let Some(input) = &new {
            let reason = match input {
                Input::Override { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            Sql::new("INSERT INTO evaluation_scores (evaluation_id, node_id, input, override_reason, evidence, entered_by, entered_at) VALUES (")
                .bind(id).push(", ").bind(node.as_str()).push(", ").bind(to_json(input)?).push(", ")
                .bind(reason).push(", ").bind(new_evidence).push(", ").bind(by).push(", ").bind(now).push(")")
                .execute(conn)
                .await?;
        }
        changes.push(ScoreChange {
            node,
            before: old,
            after: new,
        });
    }
    if !changes.is_empty() {
        Sql::new("UPDATE evaluations SET updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok((ev, changes))
}

/// One row of the score sheet.
#[derive(Debug, Clone, Serialize)]
pub struct SheetRow {
    pub node: IndicatorNode,
    /// 0 for the root.
    pub depth: usize,
    /// A leaf's points once entered; a sum's points over what is entered so far.
    pub points: Option<Points>,
    pub ratio_bp: Option<i64>,
    /// For a delivery node: the ratio measured from the contract's deliverables (frozen at
    /// the final score), in basis points; `None` when the node is entered by hand.
    pub measured_bp: Option<i64>,
    pub vetoed: bool,
    /// What an evaluator entered (an override of a measured ratio included); `None` for a
    /// node not entered or only measured.
    pub entered: Option<StoredInput>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreSheet {
    pub evaluation: Evaluation,
    pub tree_name: String,
    pub thresholds_bp: (i64, i64, i64),
    pub rows: Vec<SheetRow>,
    /// The total over what is entered (0 when a veto failed).
    pub total: Points,
    pub max: Points,
    /// Every scored node has its input: the sheet can become the final score.
    pub complete: bool,
    pub vetoed_by: Option<String>,
    /// The grade the entered total would get.
    pub grade: Grade,
    pub rectifications: Vec<Rectification>,
}

/// An evaluation with its score sheet (in the tree's order) and rectification tasks.
pub async fn sheet(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<ScoreSheet> {
    let evaluation = get(conn, scope, id).await?;
    let tree = load_tree(conn, &evaluation.tree_id).await?;
    let mut inputs = stored_inputs(conn, id).await?;
    let entered: HashMap<String, Input> = inputs
        .iter()
        .map(|(k, v)| (k.clone(), v.input.clone()))
        .collect();
    let measured = applicable(
        &measured(conn, &evaluation, &tree.tree).await?,
        &entered,
        &[],
    );
    // Ratios frozen at the final score show as measured, not as typed.
    let frozen: Vec<(String, i64)> = inputs
        .iter()
        .filter(|(_, s)| is_frozen(s))
        .filter_map(|(k, s)| match s.input {
            Input::Ratio { ratio_bp } => Some((k.clone(), ratio_bp)),
            _ => None,
        })
        .collect();
    let mut shown_measured = measured.clone();
    for (node, bp) in frozen {
        inputs.remove(&node);
        shown_measured.insert(node, bp);
    }
    let scored = partial(&tree.tree, &entered, measured).map_err(|e| {
        StoreError::Db(sqlx::Error::Decode(
            format!("stored scores of {id}: {e}").into(),
        ))
    })?;
    let depth = tree.tree.depths();
    let complete = tree.tree.nodes().iter().all(|n| {
        n.scorer == Scorer::Sum || entered.contains_key(&n.id) || shown_measured.contains_key(&n.id)
    });
    let rows = tree
        .tree
        .nodes()
        .iter()
        .map(|node| {
            let s = scored.nodes.iter().find(|s| s.node == node.id);
            let shown = node.scorer == Scorer::Sum
                || entered.contains_key(&node.id)
                || shown_measured.contains_key(&node.id);
            SheetRow {
                depth: depth.get(&node.id).copied().unwrap_or(0),
                points: s.filter(|_| shown).map(|s| s.points),
                ratio_bp: s.filter(|_| shown).and_then(|s| s.ratio_bp),
                measured_bp: shown_measured.get(&node.id).copied(),
                vetoed: s.is_some_and(|s| s.vetoed),
                entered: inputs.get(&node.id).cloned(),
                node: node.clone(),
            }
        })
        .collect();
    let rectifications = rectifications(conn, id).await?;
    Ok(ScoreSheet {
        tree_name: tree.name,
        thresholds_bp: tree.thresholds_bp,
        total: scored.total,
        max: scored.max,
        grade: tree.thresholds.grade(scored.total, scored.max),
        vetoed_by: scored.vetoed_by,
        complete,
        rows,
        rectifications,
        evaluation,
    })
}

// ---------------------------------------------------------------------------------------------
// States and the final score

/// What moving an evaluation did.
#[derive(Debug, Clone)]
pub struct Moved {
    pub before: EvaluationState,
    pub evaluation: Evaluation,
    /// Instalments assessed by the final score: (before, after).
    pub assessed: Vec<(Instalment, Instalment)>,
}

/// The final score of a complete sheet (`measured` pre-filling delivery nodes); refused naming
/// the first node without its score or without the evidence it requires (a measured ratio
/// needs none: the service records are its evidence).
fn final_score(
    tree: &StoredTree,
    inputs: &HashMap<String, StoredInput>,
    measured: HashMap<String, i64>,
) -> StoreResult<(FinalScore, Option<String>)> {
    for node in tree.tree.nodes() {
        if node.scorer == Scorer::Sum {
            continue;
        }
        match inputs.get(&node.id) {
            None if measured.contains_key(&node.id) => {}
            None => return refuse(node_field(&node.id), "evaluation.score_missing"),
            Some(s) if is_frozen(s) => {}
            Some(s) if node.evidence_required && s.evidence.trim().is_empty() => {
                return refuse(node_field(&node.id), "evaluation.evidence_required");
            }
            Some(_) => {}
        }
    }
    let entered: HashMap<String, Input> = inputs
        .iter()
        .map(|(k, v)| (k.clone(), v.input.clone()))
        .collect();
    let measured = applicable(&measured, &entered, &[]);
    let scored =
        indicator::score(&tree.tree, &Inputs { entered, measured }).map_err(|e| node_error(&e))?;
    Ok((scored.final_score(tree.thresholds), scored.vetoed_by))
}

/// Move an evaluation to `to` as the domain's workflow allows (refused on `state`). The
/// purchaser or the assigned evaluator moves it. Reaching `final` computes the final score and
/// grade from a complete sheet and assesses the contract's instalments triggered by this kind
/// of evaluation (due or awaiting assessment) by the contract's reduction rule.
pub async fn set_state(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    to: EvaluationState,
    today: NaiveDate,
    now: Millis,
) -> StoreResult<Moved> {
    let ev = get(conn, scope, id).await?;
    require_evaluator_or_purchaser(scope, &ev, "state")?;
    ev.state.go(to)?;
    if to != EvaluationState::Plan && ev.evaluator_org_id.is_none() && !is_purchaser(scope) {
        return refuse("evaluator_org", "evaluation.evaluator_unknown");
    }
    let mut q = Sql::new("UPDATE evaluations SET state = ");
    q.bind(to.as_str());
    let mut result = None;
    let mut freeze = Vec::new();
    if to == EvaluationState::Final {
        let tree = load_tree(conn, &ev.tree_id).await?;
        let inputs = stored_inputs(conn, id).await?;
        let measured = measured(conn, &ev, &tree.tree).await?;
        freeze = measured
            .iter()
            .filter(|(node, _)| !inputs.contains_key(*node))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let (score, vetoed_by) = final_score(&tree, &inputs, measured)?;
        q.push(", total_points = ")
            .bind(score.total.0)
            .push(", max_points = ")
            .bind(score.max.0)
            .push(", grade = ")
            .bind(score.grade.as_str())
            .push(", vetoed_by = ")
            .bind(vetoed_by)
            .push(", finished_on = ")
            .bind(date_text(today));
        result = Some(score);
    }
    q.push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(ev.state.as_str());
    if q.execute(conn).await? != 1 {
        return refuse("state", "evaluation.transition_invalid");
    }
    // The measured ratios the final score used stay with the sheet.
    for (node, ratio_bp) in freeze {
        Sql::new("INSERT INTO evaluation_scores (evaluation_id, node_id, input, override_reason, evidence, entered_by, entered_at) VALUES (")
            .bind(id).push(", ").bind(node.as_str()).push(", ").bind(to_json(&Input::Ratio { ratio_bp })?)
            .push(", '', '', ").bind(MEASURED_BY).push(", ").bind(now).push(")")
            .execute(conn)
            .await?;
    }
    let assessed = match result {
        Some(score) => assess_instalments(conn, &ev, score, now).await?,
        None => Vec::new(),
    };
    Ok(Moved {
        before: ev.state,
        evaluation: get(conn, scope, id).await?,
        assessed,
    })
}

/// The contract's instalments paid by an evaluation of `ev`'s kind, still waiting for it,
/// assessed by `score` through the instalments' own steps — on the purchaser's behalf (the
/// region the contract is filed in), since the result, not the evaluator, decides.
async fn assess_instalments(
    conn: &mut AnyConnection,
    ev: &Evaluation,
    score: FinalScore,
    now: Millis,
) -> StoreResult<Vec<(Instalment, Instalment)>> {
    let region = stored(RegionCode::parse(&ev.region_code))?;
    let purchaser = Scope::region(region);
    let waiting: Vec<Instalment> = instalments::of_contract(conn, &ev.contract_id)
        .await?
        .into_iter()
        .filter(|i| matches!(i.trigger, Trigger::Evaluation { kind } if kind == ev.kind))
        .filter(|i| {
            matches!(
                i.state,
                InstalmentState::Due | InstalmentState::AwaitingAssessment
            )
        })
        .collect();
    let mut out = Vec::with_capacity(waiting.len());
    for before in waiting {
        if before.state == InstalmentState::Due {
            instalments::advance(
                conn,
                &purchaser,
                &ev.contract_id,
                before.seq,
                Step::AwaitAssessment,
                now,
            )
            .await?;
        }
        let (_, after) = instalments::advance(
            conn,
            &purchaser,
            &ev.contract_id,
            before.seq,
            Step::Assess(Assess::Score(score)),
            now,
        )
        .await?;
        out.push((before, after));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Rectifications

#[derive(Debug, Clone, Serialize)]
pub struct Rectification {
    pub id: String,
    pub evaluation_id: String,
    pub seq: i64,
    pub node_id: Option<String>,
    pub description: String,
    pub owner: String,
    pub deadline: NaiveDate,
    pub evidence: String,
    pub state: RectificationState,
    pub created_by: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

type RectRow = (
    String,
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

const RECT_SELECT: &str = "SELECT id, evaluation_id, seq, node_id, description, owner, deadline, \
     evidence, state, created_by, created_at, updated_at FROM evaluation_rectifications WHERE ";

fn decode_rect(r: RectRow) -> StoreResult<Rectification> {
    let (
        id,
        evaluation_id,
        seq,
        node_id,
        description,
        owner,
        deadline,
        evidence,
        state,
        by,
        at,
        up,
    ) = r;
    Ok(Rectification {
        deadline: date(&deadline)?,
        state: stored(RectificationState::parse(&state))?,
        id,
        evaluation_id,
        seq,
        node_id,
        description,
        owner,
        evidence,
        created_by: by,
        created_at: at,
        updated_at: up,
    })
}

async fn rectifications(conn: &mut AnyConnection, id: &str) -> StoreResult<Vec<Rectification>> {
    let rows: Vec<RectRow> = Sql::new(RECT_SELECT)
        .push("evaluation_id = ")
        .bind(id)
        .push(" ORDER BY seq")
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(decode_rect).collect()
}

/// A new rectification task.
#[derive(Debug, Clone)]
pub struct RectificationInput {
    /// The indicator it is about, if any.
    pub node_id: Option<String>,
    pub description: String,
    pub owner: String,
    pub deadline: NaiveDate,
}

/// Set a rectification task on an evaluation (the evaluator or the purchaser; not once the
/// evaluation is final). Returns it.
pub async fn add_rectification(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    input: &RectificationInput,
    by: &str,
    now: Millis,
) -> StoreResult<(Evaluation, Rectification)> {
    let ev = get(conn, scope, id).await?;
    require_evaluator_or_purchaser(scope, &ev, "description")?;
    if is_closed(ev.state) {
        return refuse("state", "evaluation.closed");
    }
    for (field, text, max) in [
        ("description", &input.description, 500),
        ("owner", &input.owner, 100),
    ] {
        let len = text.trim().chars().count();
        if len == 0 || len > max {
            return refuse(field, "purchase.text_invalid");
        }
    }
    let node = input
        .node_id
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(node) = node {
        let tree = load_tree(conn, &ev.tree_id).await?;
        if tree.tree.node(node).is_none() {
            return refuse("node_id", "evaluation.node_unknown");
        }
    }
    let seq = Sql::new(
        "SELECT COALESCE(MAX(seq), 0) FROM evaluation_rectifications WHERE evaluation_id = ",
    )
    .bind(id)
    .fetch_i64(conn)
    .await?
        + 1;
    let rid = new_id();
    Sql::new("INSERT INTO evaluation_rectifications (id, evaluation_id, seq, node_id, description, owner, deadline, evidence, state, created_by, created_at, updated_at) VALUES (")
        .bind(&rid).push(", ").bind(id).push(", ").bind(seq).push(", ").bind(node).push(", ")
        .bind(input.description.trim()).push(", ").bind(input.owner.trim()).push(", ")
        .bind(date_text(input.deadline)).push(", '', ").bind(RectificationState::Open.as_str()).push(", ")
        .bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    let row: RectRow = Sql::new(RECT_SELECT)
        .push("id = ")
        .bind(rid.as_str())
        .fetch_one(conn)
        .await?;
    Ok((ev, decode_rect(row)?))
}

/// Move rectification `seq` of evaluation `id`: the provider (or the purchaser) submits it with
/// its evidence; the evaluator (or the purchaser) accepts or rejects it. Returns (before, after).
pub async fn move_rectification(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    seq: i64,
    to: RectificationState,
    evidence: &str,
    now: Millis,
) -> StoreResult<(Evaluation, Rectification, Rectification)> {
    let ev = get(conn, scope, id).await?;
    if is_closed(ev.state) {
        return refuse("state", "evaluation.closed");
    }
    let row: Option<RectRow> = Sql::new(RECT_SELECT)
        .push("evaluation_id = ")
        .bind(id)
        .push(" AND seq = ")
        .bind(seq)
        .fetch_optional(conn)
        .await?;
    let before = decode_rect(row.ok_or(StoreError::NotFound)?)?;
    before.state.go(to)?;
    let evidence = evidence.trim();
    let mut q = Sql::new("UPDATE evaluation_rectifications SET state = ");
    q.bind(to.as_str());
    if to == RectificationState::Submitted {
        if !(is_purchaser(scope) || is_provider(scope, &ev)) {
            return refuse("state", "evaluation.provider_only");
        }
        if evidence.is_empty() {
            return refuse("evidence", "evaluation.evidence_required");
        }
        if evidence.chars().count() > 2000 {
            return refuse("evidence", "purchase.text_invalid");
        }
        q.push(", evidence = ").bind(evidence);
    } else {
        require_evaluator_or_purchaser(scope, &ev, "state")?;
    }
    q.push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(before.id.as_str())
        .push(" AND state = ")
        .bind(before.state.as_str());
    if q.execute(conn).await? != 1 {
        return refuse("state", "rectification.transition_invalid");
    }
    let row: RectRow = Sql::new(RECT_SELECT)
        .push("id = ")
        .bind(before.id.as_str())
        .fetch_one(conn)
        .await?;
    Ok((ev, before, decode_rect(row)?))
}
