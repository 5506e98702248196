//! Coverage of the station network for any region in scope: administrative townships (functional
//! zones apart), townships with an operating station, coverage, stations by status, readiness and
//! open rectifications, with drill-down to each child region; as a table, a chart and
//! `/api/v1/coverage/{region_code}`. The chart is SVG drawn on the server: no script, no tiles.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use shegong_store::network::coverage::{self, Figures};
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::forms::today;
use crate::ui::i18n::Tr;

/// One bar of the chart.
pub struct Bar {
    pub label: String,
    pub href: String,
    pub permille: i64,
    pub text: String,
    pub y: i64,
    pub width: i64,
}

#[derive(Template)]
#[template(path = "network/coverage.html")]
struct CoveragePage {
    t: Tr,
    base: Base,
    top: Figures,
    rows: Vec<Figures>,
    bars: Vec<Bar>,
    chart_height: i64,
    drill: bool,
}

/// Bars of 0–100 % over a 400-unit-wide plot, 22 units per row.
fn bars(rows: &[Figures], drill: bool) -> Vec<Bar> {
    rows.iter()
        .filter(|r| r.townships > 0)
        .enumerate()
        .map(|(i, r)| Bar {
            label: r.name.clone(),
            href: if drill {
                format!("/coverage/{}", r.code)
            } else {
                String::new()
            },
            permille: r.coverage_permille(),
            text: r.coverage_text(),
            y: i as i64 * 22,
            width: r.coverage_permille() * 400 / 1000,
        })
        .collect()
}

async fn coverage_page(state: &AppState, ctx: &Ctx, code: Option<String>) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    // Without a code: the user's own region (or the whole country).
    let code = code.or_else(|| scope.region.as_ref().map(|r| r.to_string()));
    let (mut top, rows) = {
        let mut c = state.db.read().await?;
        coverage::coverage(&mut c, &scope, code.as_deref(), &today(state.now())).await?
    };
    if top.code.is_empty() {
        top.name = t.get("scope.national").to_owned();
    }
    let drill = code.as_deref().is_none_or(|c| c.len() < 6);
    let mut crumbs = vec![Crumb::link(t.get("menu.coverage"), "/coverage")];
    if let Some(c) = &code {
        let mut conn = state.db.read().await?;
        let lineage = shegong_store::network::regions::lineage(
            &mut conn,
            &scope,
            &shegong_domain::RegionCode::parse(c)?,
        )
        .await?;
        for r in lineage {
            crumbs.push(if &r.code == c {
                Crumb::here(r.name)
            } else {
                Crumb::link(r.name, format!("/coverage/{}", r.code))
            });
        }
    }
    let bars = bars(&rows, drill);
    Ok(page(
        StatusCode::OK,
        &CoveragePage {
            t,
            base: Base::new(
                ctx,
                format!("{} · {}", t.get("menu.coverage"), top.name),
                crumbs,
            ),
            chart_height: bars.len() as i64 * 22 + 10,
            bars,
            top,
            rows,
            drill,
        },
    ))
}

pub async fn page_root(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    coverage_page(&state, &ctx, None).await
}

pub async fn page_region(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    if shegong_domain::RegionCode::parse(&code).is_err() {
        return Err(WebError::NotFound);
    }
    coverage_page(&state, &ctx, Some(code)).await
}

/// Coverage figures of one region.
#[derive(Serialize, ToSchema)]
pub struct CoverageDto {
    pub code: String,
    pub name: String,
    /// Administrative townships (街道, 镇, 乡).
    pub townships: i64,
    /// Township-level functional zones, counted apart.
    pub zones: i64,
    /// Administrative townships with an operating township station.
    pub covered: i64,
    pub zones_covered: i64,
    /// covered / townships, percent with one decimal.
    pub coverage_pct: f64,
    pub stations_planned: i64,
    pub stations_under_construction: i64,
    pub stations_operating: i64,
    pub stations_suspended: i64,
    pub stations_closed: i64,
    /// Average five-indicator readiness of stations not closed, percent.
    pub readiness_avg: i64,
    pub rectifications_open: i64,
    pub rectifications_overdue: i64,
}

impl From<Figures> for CoverageDto {
    fn from(f: Figures) -> Self {
        CoverageDto {
            coverage_pct: f.coverage_permille() as f64 / 10.0,
            code: f.code,
            name: f.name,
            townships: f.townships,
            zones: f.zones,
            covered: f.covered,
            zones_covered: f.zones_covered,
            stations_planned: f.planned,
            stations_under_construction: f.under_construction,
            stations_operating: f.operating,
            stations_suspended: f.suspended,
            stations_closed: f.closed,
            readiness_avg: f.readiness_avg,
            rectifications_open: f.rectifications_open,
            rectifications_overdue: f.rectifications_overdue,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CoverageReport {
    pub region: CoverageDto,
    /// The same figures for each child region (drill-down).
    pub children: Vec<CoverageDto>,
}

/// Coverage of a region within the caller's scope, with its child regions.
#[utoipa::path(get, path = "/api/v1/coverage/{region_code}", tag = "stations", params(("region_code" = String, Path, description = "Region code")),
    responses((status = 200, body = CoverageReport), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_coverage(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Json<CoverageReport>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let (top, rows) =
        coverage::coverage(&mut c, &u.scope(), Some(&code), &today(state.now())).await?;
    Ok(Json(CoverageReport {
        region: top.into(),
        children: rows.into_iter().map(Into::into).collect(),
    }))
}
