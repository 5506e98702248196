//! `/api/v1/indicator-trees`: the indicator trees in scope and a region's new version, with the
//! editor's checks and audit. A tree reads back in the shape it is written, so a client can
//! fetch one, change it and post it as the next version.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shegong_store::PageRequest;
use shegong_store::purchase::indicator_trees::{self as trees, StoredTree, TreeSummary};
use utoipa::ToSchema;

use super::tree_text::TreeText;
use super::trees::ListQuery;
use super::writes;
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::purchase::writes::purchaser;
use crate::ui::list::rfc3339;

/// A tree as lists show it.
#[derive(Serialize, ToSchema)]
pub struct TreeSummaryDto {
    pub id: String,
    /// '' for the national default.
    pub region_code: String,
    pub region_name: Option<String>,
    pub version: i64,
    pub name: String,
    /// The tree's maximum in points.
    pub max: String,
    pub nodes: i64,
    /// The latest version of its region: the one evaluations planned there from now use.
    pub current: bool,
    /// Evaluations scored on this version.
    pub evaluations: i64,
    pub created_at: String,
}

fn summary_dto(s: TreeSummary) -> TreeSummaryDto {
    TreeSummaryDto {
        max: s.max.to_string(),
        created_at: rfc3339(s.created_at),
        id: s.id,
        region_code: s.region_code,
        region_name: s.region_name,
        version: s.version,
        name: s.name,
        nodes: s.nodes,
        current: s.current,
        evaluations: s.evaluations,
    }
}

#[derive(Serialize, ToSchema)]
pub struct TreePage {
    pub items: Vec<TreeSummaryDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// A tree with its nodes, in the shape `POST /api/v1/indicator-trees` takes.
#[derive(Serialize, ToSchema)]
pub struct TreeDto {
    pub id: String,
    pub version: i64,
    /// The tree's maximum in points.
    pub max: String,
    #[serde(flatten)]
    pub tree: TreeText,
}

fn tree_dto(t: &StoredTree) -> TreeDto {
    TreeDto {
        id: t.id.clone(),
        version: t.version,
        max: t.tree.max().to_string(),
        tree: TreeText::of(t, &t.region_code),
    }
}

/// The indicator trees the caller sees: the national default, the trees that apply to the
/// caller's region (its own and its parents') and those of regions inside it; an organisation
/// account sees the trees of its evaluations. By region, newest version first.
#[utoipa::path(get, path = "/api/v1/indicator-trees", tag = "evaluation", params(ListQuery),
    responses((status = 200, body = TreePage)))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<TreePage>> {
    let u = reader(&ctx)?;
    {
        let mut tx = state.db.begin().await?;
        trees::ensure_default(&mut tx, state.now()).await?;
        tx.commit().await?;
    }
    let mut c = state.db.read().await?;
    let p = trees::list(&mut c, &u.scope(), PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(TreePage {
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        items: p.items.into_iter().map(summary_dto).collect(),
    }))
}

/// One tree with its nodes and grade thresholds.
#[utoipa::path(get, path = "/api/v1/indicator-trees/{id}", tag = "evaluation", params(("id" = String, Path)),
    responses((status = 200, body = TreeDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<TreeDto>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    Ok(Json(tree_dto(&trees::get(&mut c, &u.scope(), &id).await?)))
}

/// A region's own tree, as its next version (purchasers of that region only). Evaluations
/// planned before keep the tree they were planned on. The whole tree is checked: one root,
/// every sum's children adding up to its maximum, levels and bands readable and ordered,
/// thresholds descending.
#[utoipa::path(post, path = "/api/v1/indicator-trees", tag = "evaluation", request_body = TreeText,
    responses((status = 201, body = TreeDto), (status = 403, description = "Not a purchaser"),
        (status = 422, description = "Invalid fields, each named: a node's problem on `nodes.<code>` (`nodes` when its code is unusable), the thresholds on `grades` or `<grade>_percent`; nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<TreeText>,
) -> WebResult<Response> {
    let u = purchaser(&ctx)?;
    let input = body.input().map_err(|refused| {
        WebError::Invalid(refused.iter().map(|r| r.api_error(&body.nodes)).collect())
    })?;
    let id = writes::create_tree(&state, &ctx, input).await?;
    let mut c = state.db.read().await?;
    let tree = trees::get(&mut c, &u.scope(), &id).await?;
    Ok((StatusCode::CREATED, Json(tree_dto(&tree))).into_response())
}
