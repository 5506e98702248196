//! The region tree: a browsing page (drill-down with search) and the JSON API that the region
//! picker on every form uses. Both are scoped: outside the user's subtree is "not found".

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shegong_domain::{Permission, RegionCode};
use shegong_store::network::regions::{self, Region};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

/// A region as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct RegionDto {
    /// NBS statistical code: 2 (province), 4 (city), 6 (county), 9 (township) or 12 (village) digits.
    pub code: String,
    pub name: String,
    /// `province`, `city`, `county`, `township` or `village`.
    pub level: String,
    /// Derived from the code: e.g. `street` (街道), `town` (镇), `township` (乡), `township_zone` (功能区).
    pub kind: String,
    pub parent_code: Option<String>,
    pub path_codes: Vec<String>,
    pub path_names: Vec<String>,
    /// The full path for display, pseudo-prefectures (市辖区, 县) left out.
    pub display_path: String,
    pub child_count: i64,
    /// Edition of the division data (NBS vintage year).
    pub vintage: i64,
    pub administrative: bool,
}

impl From<Region> for RegionDto {
    fn from(r: Region) -> Self {
        let path_codes = RegionCode::parse(&r.code)
            .map(|c| c.lineage().into_iter().map(String::from).collect())
            .unwrap_or_default();
        RegionDto {
            administrative: r.kind().is_some_and(|k| k.is_administrative()),
            display_path: r.display_path(),
            path_names: r.path().into_iter().map(str::to_owned).collect(),
            path_codes,
            code: r.code,
            name: r.name,
            level: r.level,
            kind: r.kind,
            parent_code: r.parent_code,
            child_count: r.child_count,
            vintage: r.vintage,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RegionList {
    pub items: Vec<RegionDto>,
}

#[derive(Deserialize, IntoParams)]
pub struct RegionQuery {
    /// Name to search for within the caller's scope (substring). Without it: the top regions of
    /// the caller's scope.
    pub q: Option<String>,
    /// Maximum results (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

fn user_scope(ctx: &Ctx) -> WebResult<shegong_domain::Scope> {
    let u = ctx.user()?;
    // Regions are reference data every signed-in role may read within its own scope.
    Ok(u.scope())
}

/// Search regions by name, or list the top of the caller's scope.
#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", params(RegionQuery),
    responses((status = 200, body = RegionList), (status = 401, description = "Not signed in")))]
pub async fn api_search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RegionQuery>,
) -> WebResult<Json<RegionList>> {
    let scope = user_scope(&ctx)?;
    let mut c = state.db.read().await?;
    let items = match q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            regions::search(
                &mut c,
                &scope,
                state.db.backend(),
                text,
                q.limit.unwrap_or(50),
            )
            .await?
        }
        None => regions::children(&mut c, &scope, None).await?,
    };
    Ok(Json(RegionList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One region.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "regions",
    params(("code" = String, Path, description = "Region code")),
    responses((status = 200, body = RegionDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Json<RegionDto>> {
    let scope = user_scope(&ctx)?;
    let mut c = state.db.read().await?;
    Ok(Json(regions::get(&mut c, &scope, &code).await?.into()))
}

/// The children of a region.
#[utoipa::path(get, path = "/api/v1/regions/{code}/children", tag = "regions",
    params(("code" = String, Path, description = "Region code")),
    responses((status = 200, body = RegionList), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_children(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Json<RegionList>> {
    let scope = user_scope(&ctx)?;
    let mut c = state.db.read().await?;
    let items = regions::children(&mut c, &scope, Some(&code)).await?;
    Ok(Json(RegionList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Template)]
#[template(path = "network/regions.html")]
struct RegionsPage {
    t: Tr,
    base: Base,
    current: Option<RegionDto>,
    children: Vec<RegionDto>,
    q: String,
    results: Option<Vec<RegionDto>>,
}

impl RegionsPage {
    fn kind_label(&self, kind: &str) -> String {
        self.t.get(&format!("region.kind.{kind}")).to_owned()
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    q: Option<String>,
}

async fn regions_page(
    state: &AppState,
    ctx: &Ctx,
    code: Option<String>,
    q: Option<String>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::ReadData)?;
    let scope = u.scope();
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let current = match &code {
        Some(code) => Some(regions::get(&mut c, &scope, code).await?),
        None => None,
    };
    let children = regions::children(&mut c, &scope, code.as_deref()).await?;
    let q = q.unwrap_or_default();
    let results = if q.trim().is_empty() {
        None
    } else {
        Some(regions::search(&mut c, &scope, state.db.backend(), &q, 100).await?)
    };
    let mut crumbs = vec![Crumb::link(t.get("menu.regions"), "/regions")];
    if let Some(cur) = &current {
        let lineage = regions::lineage(&mut c, &scope, &RegionCode::parse(&cur.code)?).await?;
        for r in lineage {
            if r.code == cur.code {
                crumbs.push(Crumb::here(r.name));
            } else {
                crumbs.push(Crumb::link(r.name, format!("/regions/{}", r.code)));
            }
        }
    }
    let title = current
        .as_ref()
        .map(|r| r.name.clone())
        .unwrap_or_else(|| t.get("menu.regions").to_owned());
    Ok(page(
        StatusCode::OK,
        &RegionsPage {
            t,
            base: Base::new(ctx, title, crumbs),
            current: current.map(Into::into),
            children: children.into_iter().map(Into::into).collect(),
            q,
            results: results.map(|r| r.into_iter().map(Into::into).collect()),
        },
    ))
}

pub async fn page_root(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    regions_page(&state, &ctx, None, q.q).await
}

pub async fn page_region(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    if RegionCode::parse(&code).is_err() {
        return Err(WebError::NotFound);
    }
    regions_page(&state, &ctx, Some(code), q.q).await
}
