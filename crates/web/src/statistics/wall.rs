//! The region map of the dashboard and the portal (sub-regions coloured by an indicator, stations
//! at their coordinates), and the full-screen wall display (大屏) built around it: a clock, the
//! headline figures and a ranking that refresh without a reload from `/stats/{code}/wall.json`,
//! which reads the same maintained counters as the dashboard.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shegong_domain::Scope;
use shegong_store::{Conn, PageRequest, network::stations};

use super::dashboards::{DashQuery, INDICATORS, indicator, load};
use super::maps::{self, MapView};
use super::shared::url_code;
use crate::http::auth::{Ctx, reader};
use crate::http::error::WebResult;
use crate::http::render::{Base, page};
use crate::http::state::AppState;
use crate::ui::forms::format_yuan;
use crate::ui::i18n::Tr;

/// Indicators counted in fen, shown as yuan.
const MONEY: [&str; 3] = ["funding", "donated", "disbursed"];

/// Stations drawn on a map at most (the largest city has a few hundred townships).
const MAP_STATIONS: i64 = 2000;

/// The number a map colours by (yuan for money) and the text it shows.
fn shown(ind: &str, v: i64) -> (f64, String) {
    if MONEY.contains(&ind) {
        (v as f64 / 100.0, format_yuan(v))
    } else {
        (v as f64, v.to_string())
    }
}

/// The sub-regions' figures for the map and the ranking: `{code: {name, v: {ind: n}, t: {ind: text}}}`.
fn regions_json(d: &super::dashboards::Dash) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for r in &d.rows {
        let mut v = serde_json::Map::new();
        let mut text = serde_json::Map::new();
        for ind in INDICATORS {
            let (n, s) = shown(ind, indicator(&r.f, ind));
            v.insert(ind.into(), n.into());
            text.insert(ind.into(), s.into());
        }
        out.insert(
            r.code.clone(),
            serde_json::json!({"name": r.name, "v": v, "t": text, "drill": r.drill}),
        );
    }
    out.into()
}

/// The indicators a map can be coloured by, with their labels.
fn labels(t: &Tr) -> serde_json::Value {
    INDICATORS
        .iter()
        .map(|i| ((*i).to_owned(), t.get(&format!("stats.ind.{i}")).into()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The stations with coordinates in `code`'s region that `scope` sees: `[[lng, lat, name,
/// region code]]`.
pub(super) async fn station_points(
    c: &mut Conn,
    scope: &Scope,
    code: &str,
) -> WebResult<serde_json::Value> {
    let filter = stations::Filter {
        region: (!code.is_empty()).then(|| code.to_owned()),
        ..Default::default()
    };
    let page = PageRequest {
        page: 1,
        per_page: MAP_STATIONS,
    };
    Ok(stations::list(c, scope, &filter, page)
        .await?
        .items
        .into_iter()
        .filter_map(|s| {
            Some(serde_json::json!([
                s.lng_e6? as f64 / 1e6,
                s.lat_e6? as f64 / 1e6,
                s.name,
                s.region_code
            ]))
        })
        .collect::<Vec<_>>()
        .into())
}

/// A map as the page embeds it: where its boundaries are, what colours it and where a click goes.
pub struct MapBlock {
    pub view: MapView,
    /// JSON: `{labels, regions, stations}`.
    pub data: String,
    /// The indicator shown first.
    pub indicator: String,
    /// The indicators of the picker (code, label).
    pub indicators: Vec<(String, String)>,
    /// Where a click on a sub-region goes, with `{code}` for its code.
    pub drill: String,
}

/// The map block of a dashboard (or the wall): None where no boundary map covers the region.
pub(super) async fn dashboard_map(
    state: &AppState,
    ctx: &Ctx,
    d: &super::dashboards::Dash,
    drill: String,
) -> WebResult<Option<MapBlock>> {
    let t = ctx.tr();
    let Some(view) = maps::view(&state.config, &t, &d.code) else {
        return Ok(None);
    };
    let scope = reader(ctx)?.scope();
    let mut c = state.db.read().await?;
    let points = station_points(&mut c, &scope, &d.code).await?;
    drop(c);
    Ok(Some(MapBlock {
        view,
        data: serde_json::json!({"labels": labels(&t), "regions": regions_json(d), "stations": points})
            .to_string(),
        indicator: d.sort.clone(),
        indicators: INDICATORS
            .iter()
            .map(|i| ((*i).to_owned(), t.get(&format!("stats.ind.{i}")).to_owned()))
            .collect(),
        drill,
    }))
}

/// The wall's headline figures: (key, label, value).
fn kpis(t: &Tr, d: &super::dashboards::Dash) -> Vec<(&'static str, String, String)> {
    let ind = |k: &str| t.get(&format!("stats.ind.{k}")).to_owned();
    vec![
        ("coverage", ind("coverage"), d.network.coverage_text()),
        (
            "operating",
            ind("operating"),
            d.network.operating.to_string(),
        ),
        ("records", ind("records"), d.top.records.to_string()),
        (
            "person_times",
            ind("person_times"),
            d.top.person_times.to_string(),
        ),
        ("people", ind("people"), d.top.people.to_string()),
        ("staff", ind("staff"), d.top.staff.to_string()),
        (
            "volunteers",
            ind("volunteers"),
            d.top.volunteers.to_string(),
        ),
        (
            "volunteer_hours",
            ind("volunteer_hours"),
            d.top.volunteer_hours.to_string(),
        ),
        (
            "donated",
            ind("donated"),
            format_yuan(d.top.donated_fen + d.top.goods_fen),
        ),
        ("funding", ind("funding"), format_yuan(d.top.funding_fen)),
        (
            "issues_raised",
            ind("issues_raised"),
            d.top.issues_raised.to_string(),
        ),
        (
            "rectifications",
            ind("rectifications"),
            d.network.rectifications_open.to_string(),
        ),
    ]
}

#[derive(Deserialize, Default)]
pub struct WallQuery {
    year: Option<i32>,
    sort: Option<String>,
    /// Seconds between refreshes (10 to 3600; default 60).
    refresh: Option<u64>,
}

#[derive(Template)]
#[template(path = "statistics/stats/wall.html")]
struct WallPage {
    t: Tr,
    base: Base,
    title: String,
    url_code: String,
    year: i32,
    /// The indicator ranked and coloured first.
    sort: String,
    kpis: Vec<(&'static str, String, String)>,
    map: Option<MapBlock>,
    /// The figures the ranking starts with (JSON, as `/wall.json` returns them).
    live: String,
    refresh: u64,
    echarts: &'static str,
    charts_js: &'static str,
}

/// The JSON the wall refreshes from.
fn live(t: &Tr, d: &super::dashboards::Dash, now: i64) -> serde_json::Value {
    let kpis: serde_json::Map<String, serde_json::Value> = kpis(t, d)
        .into_iter()
        .map(|(k, _, v)| (k.to_owned(), v.into()))
        .collect();
    serde_json::json!({
        "updated": crate::ui::list::local_time(now),
        "kpis": kpis,
        "labels": labels(t),
        "regions": regions_json(d),
    })
}

/// The full-screen display (大屏): the map, the headline figures and a ranking, without the menu.
pub async fn wall(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<WallQuery>,
) -> WebResult<Response> {
    let dq = DashQuery {
        year: q.year,
        sort: q.sort.clone(),
    };
    let d = load(&state, &ctx, &code, &dq).await?;
    let t = ctx.tr();
    let uc = url_code(&d.code).to_owned();
    let map = dashboard_map(
        &state,
        &ctx,
        &d,
        format!("/stats/{{code}}/wall?year={}", d.year),
    )
    .await?;
    let mut base = Base::new(&ctx, d.title.clone(), vec![]);
    base.menu.clear();
    Ok(page(
        StatusCode::OK,
        &WallPage {
            base,
            title: d.title.clone(),
            year: d.year,
            sort: d.sort.clone(),
            kpis: kpis(&t, &d),
            map,
            live: live(&t, &d, state.now()).to_string(),
            refresh: q.refresh.unwrap_or(60).clamp(10, 3600),
            echarts: crate::http::assets::url("vendor/echarts.min.js"),
            charts_js: crate::http::assets::url("charts.js"),
            url_code: uc,
            t,
        },
    ))
}

/// `/stats/{code}/wall.json`: the wall's figures now (headline figures and the sub-regions'),
/// from the maintained counters.
pub async fn wall_json(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<DashQuery>,
) -> WebResult<Json<serde_json::Value>> {
    let d = load(&state, &ctx, &code, &q).await?;
    Ok(Json(live(&ctx.tr(), &d, state.now())))
}
