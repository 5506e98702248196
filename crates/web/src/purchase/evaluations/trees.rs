//! Indicator tree pages (评估指标体系): the trees in scope (the national default, the ones that
//! apply to the user's region and those of regions below), a tree's nodes with its grade
//! thresholds and an Excel export, and the editor — a region's new version, pre-filled from
//! any visible tree, one row per node (code, parent, name, points, scorer, levels or bands,
//! who scores, evidence, the contract part a delivery node measures). A refused cell is shown
//! in its row; nothing is stored until the whole tree passes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::purchase::contract::LineTier;
use shegong_domain::purchase::evaluation::{EvaluatorRole, Points};
use shegong_domain::purchase::indicator::Scorer;
use shegong_domain::{FieldError, Permission};
use shegong_store::PageRequest;
use shegong_store::network::regions;
use shegong_store::purchase::indicator_trees::{self as trees, StoredTree, TreeSummary};
use utoipa::IntoParams;

use super::labels;
use super::tree_text::{EDITOR_SPARE_ROWS, NodeText, Refusal, TreeText};
use super::writes;
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::purchase::writes::{is_purchaser, purchaser};
use crate::ui::excel::{Cell, Export};
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::list::{NoticeQuery, Pager, pager, rfc3339};

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

/// A tree as the list shows it.
pub struct ListRow {
    pub id: String,
    pub region: String,
    pub name: String,
    pub version: i64,
    pub max: String,
    pub nodes: i64,
    pub evaluations: i64,
    pub current: bool,
    pub created_on: String,
}

fn list_row(t: &Tr, s: TreeSummary) -> ListRow {
    ListRow {
        region: match (s.region_name, s.region_code.as_str()) {
            (_, "") => t.get("trees.national_default").to_owned(),
            (Some(path), _) => path,
            (None, code) => code.to_owned(),
        },
        created_on: rfc3339(s.created_at).chars().take(10).collect(),
        max: s.max.to_string(),
        id: s.id,
        // The national default is shipped text: translated in English.
        name: if s.region_code.is_empty() && t.lang == crate::ui::i18n::Lang::En {
            t.get("trees.builtin_name").to_owned()
        } else {
            s.name
        },
        version: s.version,
        nodes: s.nodes,
        evaluations: s.evaluations,
        current: s.current,
    }
}

#[derive(Template)]
#[template(path = "purchase/indicator_trees.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<ListRow>,
    pager: Pager,
    can_create: bool,
}

/// The national default is stored on first use; stored here too so the list always shows it.
async fn ensure_default(state: &AppState) -> WebResult<()> {
    let mut tx = state.db.begin().await?;
    trees::ensure_default(&mut tx, state.now()).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    ensure_default(&state).await?;
    let data = {
        let mut c = state.db.read().await?;
        trees::list(&mut c, &u.scope(), PageRequest::new(q.page, q.per_page)).await?
    };
    let title = t.get("menu.indicator_trees");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            t,
            base: Base::new(
                &ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.evaluations"), "/evaluations"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/evaluations/trees", &[])?,
            rows: data.items.into_iter().map(|s| list_row(&t, s)).collect(),
            can_create: is_purchaser(u),
        },
    ))
}

/// A node as the tree page shows it.
pub struct NodeView {
    pub id: String,
    pub depth: usize,
    pub name: String,
    pub max: String,
    pub scorer_code: &'static str,
    pub scorer: String,
    pub steps: String,
    pub role: String,
    pub evidence_required: bool,
    pub measures: String,
}

fn measures_label(t: &Tr, m: Option<LineTier>) -> String {
    match m {
        Some(LineTier::Core) => t.get("trees.measures_core").to_owned(),
        Some(LineTier::Basic) => t.get("trees.measures_basic").to_owned(),
        None => String::new(),
    }
}

/// The national default tree is shipped text, not data: in English its node names, its name
/// and its graded levels (优/良/中/差) are shown translated. A region's own trees are shown as
/// they were written.
fn builtin(t: &Tr, tree: &StoredTree) -> bool {
    tree.region_code.is_empty() && t.lang == crate::ui::i18n::Lang::En
}

fn builtin_name(t: &Tr, tree: &StoredTree, node_id: &str, name: String) -> String {
    if !builtin(t, tree) {
        return name;
    }
    t.try_get(&format!("trees.builtin.{node_id}"))
        .map_or(name, str::to_owned)
}

fn builtin_steps(t: &Tr, tree: &StoredTree, steps: String) -> String {
    if !builtin(t, tree) {
        return steps;
    }
    [
        ("优", "excellent"),
        ("良", "good"),
        ("中", "fair"),
        ("差", "poor"),
    ]
    .iter()
    .fold(steps.replace('；', "; "), |s, (zh, key)| {
        s.replace(
            &format!("{zh}="),
            &format!("{}=", t.get(&format!("trees.level.{key}"))),
        )
    })
}

/// The tree's name as shown (the national default's translated in English).
pub fn tree_name(t: &Tr, tree: &StoredTree) -> String {
    if builtin(t, tree) {
        t.get("trees.builtin_name").to_owned()
    } else {
        tree.name.clone()
    }
}

fn node_views(t: &Tr, tree: &StoredTree) -> Vec<NodeView> {
    let depths = tree.tree.depths();
    tree.tree
        .nodes()
        .iter()
        .map(|n| {
            let text = NodeText::of(n);
            NodeView {
                depth: depths.get(&n.id).copied().unwrap_or(0),
                name: builtin_name(t, tree, &text.id, text.name),
                id: text.id,
                max: text.max,
                scorer_code: n.scorer.code(),
                scorer: t.get(labels::scorer(&n.scorer)).to_owned(),
                steps: builtin_steps(t, tree, text.steps),
                role: t.get(labels::role(n.role)).to_owned(),
                evidence_required: n.evidence_required,
                measures: measures_label(t, n.measures),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "purchase/indicator_tree.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    tree: StoredTree,
    region: String,
    max: String,
    thresholds: (String, String, String),
    nodes: Vec<NodeView>,
    can_create: bool,
}

async fn region_name(c: &mut shegong_store::Conn, t: &Tr, code: &str) -> WebResult<String> {
    if code.is_empty() {
        return Ok(t.get("trees.national_default").to_owned());
    }
    let paths = regions::display_paths(c, &[code]).await?;
    Ok(paths.get(code).cloned().unwrap_or_else(|| code.to_owned()))
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let (tree, region) = {
        let mut c = state.db.read().await?;
        let tree = trees::get(&mut c, &u.scope(), &id).await?;
        let region = region_name(&mut c, &t, &tree.region_code).await?;
        (tree, region)
    };
    let title = format!("{} v{}", tree_name(&t, &tree), tree.version);
    let (e, g, p) = tree.thresholds_bp;
    let pct = |bp: i64| format!("{}%", Points(bp));
    Ok(page(
        StatusCode::OK,
        &DetailPage {
            t,
            base: Base::new(
                &ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.evaluations"), "/evaluations"),
                    Crumb::link(t.get("menu.indicator_trees"), "/evaluations/trees"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, q.notice.as_deref()),
            region,
            max: tree.tree.max().to_string(),
            thresholds: (pct(e), pct(g), pct(p)),
            nodes: node_views(&t, &tree),
            can_create: is_purchaser(u),
            tree,
        },
    ))
}

/// The tree's nodes as a sheet, in the editor's columns (codes, so a sheet can be read back).
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "indicator_tree", Permission::Export)?;
    let t = ctx.tr();
    let tree = {
        let mut c = state.db.read().await?;
        trees::get(&mut c, &export.user().scope(), &id).await?
    };
    let headers = [
        "trees.code",
        "trees.parent",
        "trees.node_name",
        "trees.max",
        "trees.scorer",
        "trees.steps",
        "trees.role",
        "trees.evidence_required",
        "trees.measures",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = tree
        .tree
        .nodes()
        .iter()
        .map(|n| {
            let text = NodeText::of(n);
            vec![
                text.id.into(),
                text.parent.into(),
                text.name.into(),
                text.max.into(),
                text.scorer.into(),
                text.steps.into(),
                text.role.into(),
                if n.evidence_required { "1" } else { "0" }.into(),
                text.measures.into(),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "menu.indicator_trees",
            &headers,
            &rows,
            vec![],
        )
        .await
}

// ---------------------------------------------------------------------------------------------
// The editor

/// One editor row: the typed node and the message of its refused cell, if any.
pub struct EditRow {
    pub i: usize,
    pub node: NodeText,
    pub error: String,
}

#[derive(Template)]
#[template(path = "purchase/indicator_tree_form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    tree: TreeText,
    rows: Vec<EditRow>,
    /// (code, label) of the regions the tree may be for.
    regions: Vec<(String, String)>,
    scorers: Vec<(&'static str, String)>,
    roles: Vec<(String, String)>,
    /// Errors not about a row, by field.
    errors: Vec<(&'static str, String)>,
}

impl FormPage {
    fn error(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
            .next()
            .unwrap_or_default()
    }

    /// Messages about fields the form shows nowhere else.
    fn messages(&self) -> Vec<String> {
        const SHOWN: &[&str] = &[
            "region",
            "name",
            "excellent_percent",
            "good_percent",
            "pass_percent",
        ];
        self.errors
            .iter()
            .filter(|(f, _)| !SHOWN.contains(f))
            .map(|(_, m)| m.clone())
            .collect()
    }
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    /// The tree to start from; default: the one in effect for the user's region.
    pub from: Option<String>,
}

/// The editor's regions: the user's own region and the ones directly below it.
async fn region_options(state: &AppState, ctx: &Ctx) -> WebResult<Vec<(String, String)>> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let mut c = state.db.read().await?;
    let mut out = vec![];
    for top in regions::children(&mut c, &scope, None).await? {
        let below = if scope.region.is_some() {
            regions::children(&mut c, &scope, Some(&top.code)).await?
        } else {
            vec![]
        };
        out.push((top.code.clone(), top.path_names.clone()));
        out.extend(below.into_iter().map(|r| (r.code, r.path_names)));
    }
    Ok(out)
}

async fn render_form(
    state: &AppState,
    ctx: &Ctx,
    tree: TreeText,
    refused: Vec<Refusal>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let message = |e: &FieldError| t.get(e.code).to_owned();
    // Trailing blank rows give way to the spare ones (refusals name rows with content only).
    let filled = tree
        .nodes
        .iter()
        .rposition(|n| !n.is_blank())
        .map_or(0, |last| last + 1);
    let mut rows: Vec<EditRow> = tree
        .nodes
        .iter()
        .take(filled)
        .cloned()
        .chain(std::iter::repeat_with(NodeText::default).take(EDITOR_SPARE_ROWS))
        .enumerate()
        .map(|(i, node)| EditRow {
            i,
            node,
            error: String::new(),
        })
        .collect();
    let mut errors = vec![];
    for r in &refused {
        let row = r.row.or_else(|| tree.row_of(r.error.field));
        match row.and_then(|i| rows.get_mut(i)) {
            Some(edit) => {
                let key = format!("trees.column.{}", column_of(r.error.field));
                edit.error = format!("{}: {}", t.get(&key), message(&r.error));
            }
            None => errors.push((r.error.field, message(&r.error))),
        }
    }
    let title = t.get("trees.new");
    let status = form_status(&refused);
    Ok(page(
        status,
        &FormPage {
            t,
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.evaluations"), "/evaluations"),
                    Crumb::link(t.get("menu.indicator_trees"), "/evaluations/trees"),
                    Crumb::here(title),
                ],
            ),
            regions: region_options(state, ctx).await?,
            scorers: Scorer::CODES
                .iter()
                .map(|c| (*c, t.get(&format!("evaluations.scorer.{c}")).to_owned()))
                .collect(),
            roles: EvaluatorRole::ALL
                .iter()
                .map(|r| (r.to_string(), t.get(labels::role(*r)).to_owned()))
                .collect(),
            rows: std::mem::take(&mut rows),
            errors,
            tree,
        },
    ))
}

/// The column a row error is about: the cell's field, or the tree-level check (`nodes.<code>`)
/// shown as the node's.
fn column_of(field: &str) -> &str {
    match field {
        "id" | "parent" | "name" | "max" | "scorer" | "steps" | "role" | "measures" => field,
        _ => "node",
    }
}

pub async fn new_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> WebResult<Response> {
    let u = purchaser(&ctx)?;
    ensure_default(&state).await?;
    let region = u.scope().prefix().to_owned();
    let from = {
        let mut c = state.db.read().await?;
        match q.from.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => trees::get(&mut c, &u.scope(), id).await?,
            None => trees::in_effect(&mut c, &region)
                .await?
                .ok_or(WebError::NotFound)?,
        }
    };
    render_form(&state, &ctx, TreeText::of(&from, &region), vec![]).await
}

/// The editor's fields back into a tree: `rows` rows of `n{i}_<column>`, blank ones skipped.
fn submitted(f: &FormData) -> TreeText {
    let count = f
        .get("rows")
        .parse::<usize>()
        .unwrap_or(0)
        .min(trees_max_rows());
    let get = |column: &str, i: usize| f.get(&format!("n{i}_{column}")).to_owned();
    TreeText {
        region_code: f.get("region_code").trim().to_owned(),
        name: f.get("name").to_owned(),
        excellent_percent: f.get("excellent_percent").to_owned(),
        good_percent: f.get("good_percent").to_owned(),
        pass_percent: f.get("pass_percent").to_owned(),
        nodes: (0..count)
            .map(|i| NodeText {
                id: get("id", i),
                parent: get("parent", i),
                name: get("name", i),
                max: get("max", i),
                scorer: get("scorer", i),
                steps: get("steps", i),
                role: get("role", i),
                evidence_required: !get("evidence", i).is_empty(),
                measures: get("measures", i),
            })
            .collect(),
    }
}

fn trees_max_rows() -> usize {
    shegong_domain::purchase::indicator::MAX_NODES + EDITOR_SPARE_ROWS
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    purchaser(&ctx)?;
    let mut tree = submitted(&f);
    // "More rows": show the form again with what was typed and the spare rows below it.
    if f.get("more") == "1" {
        tree.nodes.retain(|n| !n.is_blank());
        return render_form(&state, &ctx, tree, vec![]).await;
    }
    let input = match tree.input() {
        Ok(input) => input,
        Err(refused) => return render_form(&state, &ctx, tree, refused).await,
    };
    match writes::create_tree(&state, &ctx, input).await {
        Ok(id) => Ok(
            Redirect::to(&format!("/evaluations/trees/{id}?notice=notice.saved")).into_response(),
        ),
        // The store's checks of the whole tree name the node (`nodes.<code>`): shown in its row.
        Err(WebError::Invalid(errors)) => {
            let refused = errors
                .into_iter()
                .map(|error| Refusal { row: None, error })
                .collect();
            render_form(&state, &ctx, tree, refused).await
        }
        Err(e) => Err(e),
    }
}
