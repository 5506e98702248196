//! Statistics for every level, read from the maintained counters (`store::stats`): the
//! dashboard of a region with drill-down to its sub-regions and a ranking of them on any
//! indicator (the imbalance view), a full-screen wall display, the monthly report as a formatted
//! Excel file, the public disclosure portal (no login; small cells suppressed; never personal
//! data) and the open-data API with CSV and JSON downloads.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::{Permission, RegionCode, Scope};
use shegong_store::statistics::counters::{self, Regions, Row};
use shegong_store::{Conn, PageRequest, network::regions, network::stations, people::residents};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::network::stations::reader;
use crate::ui::excel::{self, Cell};
use crate::ui::forms::{format_yuan, today};
use crate::ui::i18n::Tr;

/// Region code in URLs: `CN` for the whole country.
fn code_of(s: &str) -> WebResult<String> {
    if s.eq_ignore_ascii_case("cn") {
        return Ok(String::new());
    }
    RegionCode::parse(s)
        .map(|c| c.to_string())
        .map_err(|_| WebError::NotFound)
}

fn url_code(code: &str) -> &str {
    if code.is_empty() { "CN" } else { code }
}

/// The year's month range (`YYYY-01`, `YYYY-12`).
fn months(year: i32) -> (String, String) {
    (format!("{year:04}-01"), format!("{year:04}-12"))
}

/// Figures of one region for a period.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Figures {
    pub records: i64,
    pub person_times: i64,
    pub hours: i64,
    /// Linked resources, fen.
    pub value_fen: i64,
    /// Active people served.
    pub people: i64,
    pub high_risk: i64,
    pub key_risk: i64,
    /// Active staff, and those of them holding a certificate.
    pub staff: i64,
    pub certified: i64,
    /// Station funding of the year, fen.
    pub funding_fen: i64,
}

fn add_services(f: &mut Figures, r: &Row) {
    f.records += r.n;
    f.person_times += r.person_times;
    f.hours += r.minutes / 60;
    f.value_fen += r.value_fen;
}

fn add_people(f: &mut Figures, r: &Row) {
    f.people += r.n;
    match r.key.as_str() {
        "high" => f.high_risk += r.n,
        "key" => f.key_risk += r.n,
        _ => {}
    }
}

fn add_staff(f: &mut Figures, r: &Row) {
    f.staff += r.n;
    if r.key != "none" {
        f.certified += r.n;
    }
}

/// Which months of a counter a figure reads.
#[derive(Clone, Copy)]
enum Period {
    /// The year's months (services).
    Months,
    /// The year itself (funding is counted by year).
    Year,
    /// The month-less counters of the current state (people, staff).
    Now,
}

fn add_funding(f: &mut Figures, r: &Row) {
    f.funding_fen += r.value_fen;
}

/// How a counter row adds to the figures.
type Add = fn(&mut Figures, &Row);

/// Each figure's counters: dimension, period, and how a row adds to the figures.
const READS: [(&str, Period, Add); 4] = [
    ("kind", Period::Months, add_services),
    ("tier", Period::Now, add_people),
    ("staff_cert", Period::Now, add_staff),
    ("funding", Period::Year, add_funding),
];

/// The figures of each of `code`'s children, from the counters only (the region's own come
/// from the rows the dashboard reads anyway, see `load`).
async fn children_figures(
    c: &mut Conn,
    code: &str,
    year: i32,
) -> WebResult<BTreeMap<String, Figures>> {
    let (from, to) = months(year);
    let y = year.to_string();
    let mut children: BTreeMap<String, Figures> = BTreeMap::new();
    for (dim, period, add) in READS {
        let (f, t) = match period {
            Period::Months => (from.as_str(), to.as_str()),
            Period::Year => (y.as_str(), y.as_str()),
            Period::Now => ("", ""),
        };
        for r in counters::read(c, Regions::ChildrenOf(code), dim, f, t).await? {
            add(children.entry(r.region_code.clone()).or_default(), &r);
        }
    }
    Ok(children)
}

/// The indicators the drill-down table can rank by.
const INDICATORS: [&str; 7] = [
    "records",
    "person_times",
    "hours",
    "people",
    "high_risk",
    "staff",
    "funding",
];

fn indicator(f: &Figures, name: &str) -> i64 {
    match name {
        "person_times" => f.person_times,
        "hours" => f.hours,
        "people" => f.people,
        "high_risk" => f.high_risk,
        "staff" => f.staff,
        "funding" => f.funding_fen,
        _ => f.records,
    }
}

pub struct ChildRow {
    pub code: String,
    pub name: String,
    pub f: Figures,
    pub value: String,
    pub funding: String,
    /// Share of the largest sub-region's figure on the ranked indicator, 0–100 (bar width).
    pub bar: i64,
    pub drill: bool,
}

#[derive(Deserialize, Default)]
pub struct DashQuery {
    year: Option<i32>,
    /// One of `INDICATORS`: rank the sub-regions.
    sort: Option<String>,
}

/// Everything a dashboard shows, read once for the page, the wall and the table exports.
struct Dash {
    code: String,
    title: String,
    lineage: Vec<(String, String)>,
    year: i32,
    this_year: i32,
    sort: String,
    top: Figures,
    rows: Vec<ChildRow>,
    /// max / min of the ranked indicator among sub-regions with any, and its coefficient of variation.
    spread: Option<(String, String)>,
    due: residents::DueCounts,
    /// Elderly and 特困 people visited this month, and all of them.
    visited: (i64, i64),
    /// The station network of the region (coverage, operating stations, open and overdue
    /// rectifications), from the station registry (thousands of rows, grouped per request).
    network: shegong_store::network::coverage::Figures,
    kinds: Vec<Row>,
    domains: Vec<Row>,
    tiers: Vec<Row>,
    /// (category name, people), fewest first.
    cats: Vec<(String, i64)>,
    roles: Vec<Row>,
    certs: Vec<Row>,
    funding: Vec<Row>,
}

/// Visits due from the counters of due dates: before today, today, within seven days.
fn due_counts(rows: &[Row], today: &str) -> residents::DueCounts {
    let week = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d")
        .map(|d| (d + chrono::Duration::days(7)).to_string())
        .unwrap_or_default();
    let sum = |f: &dyn Fn(&str) -> bool| rows.iter().filter(|r| f(&r.key)).map(|r| r.n).sum();
    residents::DueCounts {
        overdue: sum(&|k| k < today),
        today: sum(&|k| k == today),
        week: sum(&|k| k <= week.as_str()),
    }
}

async fn load(state: &AppState, ctx: &Ctx, code: &str, q: &DashQuery) -> WebResult<Dash> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let code = code_of(code)?;
    if !scope.contains_region(&code) {
        return Err(WebError::NotFound);
    }
    let t = ctx.tr();
    let today_s = today(state.now());
    let this_year: i32 = today_s[..4].parse().unwrap_or(2026);
    let year = q
        .year
        .filter(|y| (2000..=this_year).contains(y))
        .unwrap_or(this_year);
    let (from, to) = months(year);
    let sort = q
        .sort
        .clone()
        .filter(|s| INDICATORS.contains(&s.as_str()))
        .unwrap_or_else(|| "records".into());
    let mut c = state.db.read().await?;
    let by_child = children_figures(&mut c, &code, year).await?;
    let kinds = counters::read(&mut c, Regions::One(&code), "kind", &from, &to).await?;
    let domains = counters::read(&mut c, Regions::One(&code), "domain", &from, &to).await?;
    let tiers = counters::read(&mut c, Regions::One(&code), "tier", "", "").await?;
    let roles = counters::read(&mut c, Regions::One(&code), "staff_role", "", "").await?;
    let certs = counters::read(&mut c, Regions::One(&code), "staff_cert", "", "").await?;
    let y = year.to_string();
    let funding = counters::read(&mut c, Regions::One(&code), "funding", &y, &y).await?;
    let mut top = Figures::default();
    let added: [(&[Row], Add); 4] = [
        (&kinds, add_services),
        (&tiers, add_people),
        (&certs, add_staff),
        (&funding, add_funding),
    ];
    for (rows, add) in added {
        rows.iter().for_each(|r| add(&mut top, r));
    }
    let due_dates = counters::read(&mut c, Regions::One(&code), "due", "", "").await?;
    let due = due_counts(&due_dates, &today_s);
    let elderly = counters::read(&mut c, Regions::One(&code), "elderly_visit", "", "").await?;
    let visited = (
        elderly
            .iter()
            .filter(|r| r.key == today_s[..7])
            .map(|r| r.n)
            .sum(),
        elderly.iter().map(|r| r.n).sum(),
    );
    let names = category_names(&mut c, &t, &scope).await?;
    let mut cats: Vec<(String, i64)> =
        counters::read(&mut c, Regions::One(&code), "category", "", "")
            .await?
            .into_iter()
            .map(|r| (names.get(&r.key).cloned().unwrap_or(r.key), r.n))
            .collect();
    cats.sort_by_key(|x| x.1);
    let region_scope = Scope {
        region: RegionCode::parse(&code).ok(),
        org: None,
    };
    let children = regions::children(
        &mut c,
        &region_scope,
        (!code.is_empty()).then_some(code.as_str()),
    )
    .await?;
    let title = if code.is_empty() {
        t.get("stats.national").to_owned()
    } else {
        regions::get(&mut c, &Scope::national(), &code)
            .await?
            .display_path()
    };
    let mut lineage = Vec::new();
    if let Ok(rc) = RegionCode::parse(&code) {
        for a in rc.lineage() {
            if scope.contains_region(a.as_str()) {
                let r = regions::get(&mut c, &Scope::national(), a.as_str()).await?;
                lineage.push((a.to_string(), r.name));
            }
        }
    }
    let (network, _) = shegong_store::network::coverage::coverage(
        &mut c,
        &scope,
        (!code.is_empty()).then_some(code.as_str()),
        &today_s,
    )
    .await?;
    drop(c);
    let max = by_child
        .values()
        .map(|f| indicator(f, &sort))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut rows: Vec<ChildRow> = children
        .into_iter()
        .map(|r| {
            let f = by_child.get(&r.code).cloned().unwrap_or_default();
            let v = indicator(&f, &sort);
            ChildRow {
                value: format_yuan(f.value_fen),
                funding: format_yuan(f.funding_fen),
                bar: v * 100 / max,
                drill: r.level != "village",
                code: r.code,
                name: r.name,
                f,
            }
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(indicator(&r.f, &sort)));
    let values: Vec<f64> = rows.iter().map(|r| indicator(&r.f, &sort) as f64).collect();
    let spread = (values.len() > 1).then(|| {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let sd =
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
        let min = values.iter().cloned().fold(f64::MAX, f64::min);
        let maxv = values.iter().cloned().fold(0.0, f64::max);
        (
            if min > 0.0 {
                format!("{:.1}", maxv / min)
            } else {
                "∞".into()
            },
            if mean > 0.0 {
                format!("{:.2}", sd / mean)
            } else {
                "—".into()
            },
        )
    });
    Ok(Dash {
        code,
        title,
        lineage,
        year,
        this_year,
        sort,
        top,
        rows,
        spread,
        due,
        visited,
        network,
        kinds,
        domains,
        tiers,
        cats,
        roles,
        certs,
        funding,
    })
}

/// A dashboard table shown as a table: its export name, title, header and rows.
struct SmallTable {
    name: &'static str,
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "statistics/stats/dashboard.html")]
struct DashPage {
    t: Tr,
    base: Base,
    d: Dash,
    url_code: String,
    years: Vec<i32>,
    value: String,
    funding: String,
    indicators: Vec<(String, String)>,
    rate: Option<String>,
    certified_rate: Option<String>,
    /// The small tables (staff, certificates, funding).
    tables: Vec<SmallTable>,
    charts: String,
    echarts: &'static str,
    charts_js: &'static str,
    wall: bool,
}

/// The ECharts options of the dashboard, as one JSON object (id → option).
fn chart_options(t: &Tr, d: &Dash) -> String {
    let months: Vec<String> = (1..=12).map(|m| format!("{:04}-{m:02}", d.year)).collect();
    let mut by_kind: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for r in &d.kinds {
        if let Some(i) = months.iter().position(|m| *m == r.month) {
            by_kind.entry(&r.key).or_insert_with(|| vec![0; 12])[i] += r.n;
        }
    }
    let series: Vec<serde_json::Value> = by_kind
        .iter()
        .map(|(k, v)| serde_json::json!({"name": t.get(&format!("service.kind.{k}")), "type": "bar", "stack": "all", "data": v}))
        .collect();
    let pie = |items: Vec<(String, i64)>| -> serde_json::Value {
        serde_json::json!({"tooltip": {"trigger": "item"}, "series": [{"type": "pie", "radius": ["35%", "65%"],
            "data": items.into_iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect::<Vec<_>>()}]})
    };
    let month_labels: Vec<String> = (1..=12).map(|m| format!("{m}")).collect();
    serde_json::json!({
        "chart-months": {
            "tooltip": {"trigger": "axis"}, "legend": {"top": 0}, "grid": {"left": 48, "right": 16, "top": 48, "bottom": 28},
            "xAxis": {"type": "category", "data": month_labels}, "yAxis": {"type": "value"}, "series": series
        },
        "chart-domains": pie(domain_totals(d).into_iter().map(|(k, (n, _))| (t.get(&format!("service.domain.{k}")).to_owned(), n)).collect()),
        "chart-categories": {
            "tooltip": {"trigger": "axis"}, "grid": {"left": 140, "right": 24, "top": 8, "bottom": 24},
            "xAxis": {"type": "value"}, "yAxis": {"type": "category", "data": d.cats.iter().map(|c| c.0.clone()).collect::<Vec<_>>()},
            "series": [{"type": "bar", "data": d.cats.iter().map(|c| c.1).collect::<Vec<_>>()}]
        },
        "chart-tiers": pie(d.tiers.iter().map(|r| (t.get(&format!("resident.tier.{}", r.key)).to_owned(), r.n)).collect()),
    })
    .to_string()
}

/// Records and person-times of the year per service domain.
fn domain_totals(d: &Dash) -> BTreeMap<&str, (i64, i64)> {
    let mut by: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in &d.domains {
        let e = by.entry(&r.key).or_default();
        e.0 += r.n;
        e.1 += r.person_times;
    }
    by
}

/// The dashboard's tables, each exportable: charts' data and the small tables.
const TABLES: [&str; 8] = [
    "subregions",
    "months",
    "domains",
    "categories",
    "tiers",
    "staff",
    "certificates",
    "funding",
];

fn table_header(t: &Tr, name: &str) -> Vec<String> {
    let g = |k: &str| t.get(k).to_owned();
    match name {
        "subregions" => [
            "stats.region",
            "stats.ind.records",
            "stats.ind.person_times",
            "stats.ind.hours",
            "stats.ind.value",
            "stats.ind.people",
            "stats.ind.high_risk",
            "stats.ind.staff",
            "stats.ind.certified",
            "stats.ind.funding",
        ]
        .map(g)
        .to_vec(),
        "months" => {
            let mut h = vec![g("stats.month")];
            h.extend(
                shegong_domain::people::ServiceKind::ALL
                    .iter()
                    .map(|k| g(&format!("service.kind.{}", k.as_str()))),
            );
            h.push(g("stats.total"));
            h
        }
        "domains" => vec![
            g("stats.domain"),
            g("stats.ind.records"),
            g("stats.ind.person_times"),
        ],
        "categories" => vec![g("stats.category"), g("stats.ind.people")],
        "tiers" => vec![g("stats.tier"), g("stats.ind.people")],
        "staff" => vec![g("stats.role"), g("stats.ind.staff")],
        "certificates" => vec![g("certificate.level_label"), g("stats.ind.staff")],
        "funding" => vec![
            g("stats.source"),
            g("stats.col.stations_funded"),
            g("stats.ind.funding"),
        ],
        _ => vec![],
    }
}

/// The rows of a dashboard table as text (numbers as digits, money in yuan).
fn table_rows(t: &Tr, d: &Dash, name: &str) -> Vec<Vec<String>> {
    let label = |prefix: &str, key: &str| t.get(&format!("{prefix}.{key}")).to_owned();
    let keyed = |rows: &[Row], prefix: &str| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| vec![label(prefix, &r.key), r.n.to_string()])
            .collect()
    };
    match name {
        "subregions" => d
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.f.records.to_string(),
                    r.f.person_times.to_string(),
                    r.f.hours.to_string(),
                    r.value.clone(),
                    r.f.people.to_string(),
                    r.f.high_risk.to_string(),
                    r.f.staff.to_string(),
                    r.f.certified.to_string(),
                    r.funding.clone(),
                ]
            })
            .collect(),
        "months" => (1..=12)
            .map(|m| {
                let month = format!("{:04}-{m:02}", d.year);
                let n = |kind: Option<&str>| -> i64 {
                    d.kinds
                        .iter()
                        .filter(|r| r.month == month && kind.is_none_or(|k| r.key == k))
                        .map(|r| r.n)
                        .sum()
                };
                let mut row = vec![month.clone()];
                row.extend(
                    shegong_domain::people::ServiceKind::ALL
                        .iter()
                        .map(|k| n(Some(k.as_str())).to_string()),
                );
                row.push(n(None).to_string());
                row
            })
            .collect(),
        "domains" => domain_totals(d)
            .into_iter()
            .map(|(k, (n, p))| vec![label("service.domain", k), n.to_string(), p.to_string()])
            .collect(),
        "categories" => d
            .cats
            .iter()
            .rev()
            .map(|(name, n)| vec![name.clone(), n.to_string()])
            .collect(),
        "tiers" => keyed(&d.tiers, "resident.tier"),
        "staff" => keyed(&d.roles, "staff.role"),
        "certificates" => d
            .certs
            .iter()
            .map(|r| {
                let name = if r.key == "none" {
                    t.get("stats.no_certificate").to_owned()
                } else {
                    label("certificate.level", &r.key)
                };
                vec![name, r.n.to_string()]
            })
            .collect(),
        "funding" => d
            .funding
            .iter()
            .map(|r| {
                vec![
                    label("station.source", &r.key),
                    r.n.to_string(),
                    format_yuan(r.value_fen),
                ]
            })
            .collect(),
        _ => vec![],
    }
}

async fn category_names(
    c: &mut Conn,
    t: &Tr,
    scope: &Scope,
) -> WebResult<BTreeMap<String, String>> {
    Ok(residents::categories(c, scope)
        .await?
        .into_iter()
        .map(|x| {
            (
                x.code,
                if t.lang == crate::ui::i18n::Lang::En {
                    x.name_en
                } else {
                    x.name_zh
                },
            )
        })
        .collect())
}

async fn dashboard(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    q: &DashQuery,
    wall: bool,
) -> WebResult<Response> {
    let d = load(state, ctx, code, q).await?;
    let t = ctx.tr();
    let mut crumbs = vec![Crumb::link(t.get("menu.stats"), "/stats")];
    for (lc, name) in &d.lineage {
        if *lc != d.code {
            crumbs.push(Crumb::link(
                name.clone(),
                format!("/stats/{lc}?year={}", d.year),
            ));
        }
    }
    crumbs.push(Crumb::here(d.title.clone()));
    let percent = |part: i64, all: i64| {
        (all > 0).then(|| format!("{:.1}%（{part}/{all}）", part as f64 * 100.0 / all as f64))
    };
    let tables = ["staff", "certificates", "funding"]
        .into_iter()
        .map(|name| SmallTable {
            name,
            title: t.get(&format!("stats.table.{name}")).to_owned(),
            header: table_header(&t, name),
            rows: table_rows(&t, &d, name),
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &DashPage {
            base: Base::new(ctx, d.title.clone(), crumbs),
            url_code: url_code(&d.code).to_owned(),
            years: (d.this_year - 4..=d.this_year).rev().collect(),
            value: format_yuan(d.top.value_fen),
            funding: format_yuan(d.top.funding_fen),
            indicators: INDICATORS
                .iter()
                .map(|i| (i.to_string(), t.get(&format!("stats.ind.{i}")).to_owned()))
                .collect(),
            rate: percent(d.visited.0, d.visited.1),
            certified_rate: percent(d.top.certified, d.top.staff),
            tables,
            charts: chart_options(&t, &d),
            echarts: crate::http::assets::url("vendor/echarts.min.js"),
            charts_js: crate::http::assets::url("charts.js"),
            wall,
            d,
            t,
        },
    ))
}

/// One of the dashboard's tables (`TABLES`) as an Excel file, with the dashboard's year and
/// ranking; audited like every export.
pub async fn table_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((code, file)): Path<(String, String)>,
    Query(q): Query<DashQuery>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::Export)?;
    let name = file
        .strip_suffix(".xlsx")
        .filter(|n| TABLES.contains(n))
        .ok_or(WebError::NotFound)?;
    let d = load(&state, &ctx, &code, &q).await?;
    let t = ctx.tr();
    let header = table_header(&t, name);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    // Figures go out as numbers, so the sheet adds up; names and money as text.
    let rows: Vec<Vec<Cell>> = table_rows(&t, &d, name)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| match v.parse::<i64>() {
                    Ok(n) => Cell::Int(n),
                    Err(_) => Cell::Text(v),
                })
                .collect()
        })
        .collect();
    excel::send(
        &state,
        &ctx,
        "stats_table",
        &format!("stats.table.{name}"),
        &header,
        &rows,
        vec![
            shegong_store::admin::audit::Change::new("table", None::<String>, Some(name)),
            shegong_store::admin::audit::Change::new(
                "region",
                None::<String>,
                Some(url_code(&d.code)),
            ),
            shegong_store::admin::audit::Change::new(
                "year",
                None::<String>,
                Some(d.year.to_string()),
            ),
        ],
    )
    .await
}

pub async fn root(ctx: Ctx) -> WebResult<Response> {
    let u = reader(&ctx)?;
    Ok(Redirect::to(&format!("/stats/{}", url_code(&u.user.region_code))).into_response())
}

pub async fn region(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<DashQuery>,
) -> WebResult<Response> {
    dashboard(&state, &ctx, &code, &q, false).await
}

/// The full-screen display (大屏): the same figures, large, without the menu.
pub async fn wall(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<DashQuery>,
) -> WebResult<Response> {
    dashboard(&state, &ctx, &code, &q, true).await
}

#[derive(Deserialize)]
pub struct ReportQuery {
    /// `YYYY-MM`; the current month when absent.
    month: Option<String>,
}

/// 月报: one row per sub-region (and the total), services of the month by kind (records and
/// person-times), linked value, people served by risk tier.
pub async fn monthly_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<ReportQuery>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::Export)?;
    let code = code_of(&code)?;
    if !u.scope().contains_region(&code) {
        return Err(WebError::NotFound);
    }
    let t = ctx.tr();
    let month = q
        .month
        .filter(|m| {
            m.len() == 7
                && chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok()
        })
        .unwrap_or_else(|| today(state.now())[..7].to_owned());
    let mut c = state.db.read().await?;
    let region_scope = Scope {
        region: RegionCode::parse(&code).ok(),
        org: None,
    };
    let children = regions::children(
        &mut c,
        &region_scope,
        (!code.is_empty()).then_some(code.as_str()),
    )
    .await?;
    let kinds_rows =
        counters::read(&mut c, Regions::ChildrenOf(&code), "kind", &month, &month).await?;
    let total_rows = counters::read(&mut c, Regions::One(&code), "kind", &month, &month).await?;
    let tier_rows = counters::read(&mut c, Regions::ChildrenOf(&code), "tier", "", "").await?;
    let total_tiers = counters::read(&mut c, Regions::One(&code), "tier", "", "").await?;
    drop(c);
    let kinds = shegong_domain::people::ServiceKind::ALL;
    let mut headers: Vec<String> = vec![t.get("stats.region").to_owned()];
    for k in kinds {
        let label = t.get(&format!("service.kind.{}", k.as_str())).to_owned();
        headers.push(format!("{label}{}", t.get("stats.col.records")));
        headers.push(format!("{label}{}", t.get("stats.col.person_times")));
    }
    headers.extend(
        [
            "stats.ind.value",
            "resident.tier.high",
            "resident.tier.key",
            "resident.tier.general",
        ]
        .map(|k| t.get(k).to_owned()),
    );
    let line = |name: String, kr: &[&Row], tr: &[&Row]| -> Vec<Cell> {
        let mut cells: Vec<Cell> = vec![name.into()];
        for k in kinds {
            let (n, p) = kr
                .iter()
                .filter(|r| r.key == k.as_str())
                .fold((0, 0), |a, r| (a.0 + r.n, a.1 + r.person_times));
            cells.push(n.into());
            cells.push(p.into());
        }
        cells.push(format_yuan(kr.iter().map(|r| r.value_fen).sum()).into());
        for tier in ["high", "key", "general"] {
            cells.push(
                tr.iter()
                    .filter(|r| r.key == tier)
                    .map(|r| r.n)
                    .sum::<i64>()
                    .into(),
            );
        }
        cells
    };
    let mut rows: Vec<Vec<Cell>> = children
        .iter()
        .map(|ch| {
            let kr: Vec<&Row> = kinds_rows
                .iter()
                .filter(|r| r.region_code == ch.code)
                .collect();
            let tr: Vec<&Row> = tier_rows
                .iter()
                .filter(|r| r.region_code == ch.code)
                .collect();
            line(ch.name.clone(), &kr, &tr)
        })
        .collect();
    rows.push(line(
        t.get("stats.total").to_owned(),
        &total_rows.iter().collect::<Vec<_>>(),
        &total_tiers.iter().collect::<Vec<_>>(),
    ));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    excel::send(
        &state,
        &ctx,
        "monthly_report",
        "stats.monthly_report",
        &header_refs,
        &rows,
        vec![
            shegong_store::admin::audit::Change::new("month", None::<String>, Some(month)),
            shegong_store::admin::audit::Change::new(
                "region",
                None::<String>,
                Some(url_code(&code)),
            ),
        ],
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Open data

#[derive(Deserialize, IntoParams)]
pub struct StatsQuery {
    /// Region code, `CN` (default: the caller's scope).
    #[param(pattern = "^([Cc][Nn]|[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region: Option<String>,
    /// `self` (default): the region itself; `children`: each sub-region.
    #[param(schema_with = crate::http::api::code::stats_level)]
    pub level: Option<String>,
    /// For services: `kind` (default), `domain` or `station`. For people: `tier` (default),
    /// `category` or `due` (people by next visit date). For the workforce: `staff_role` (default),
    /// `staff_cert` (highest certificate, `none` without) or `funding` (station funding by source).
    pub by: Option<String>,
    /// First month, `YYYY-MM` (services; default January of this year), or year, `YYYY` (funding;
    /// default this year).
    #[param(pattern = "^[0-9]{4}(-(0[1-9]|1[0-2]))?$")]
    pub from: Option<String>,
    /// Last month, `YYYY-MM` (services; default this month), or year, `YYYY` (funding).
    #[param(pattern = "^[0-9]{4}(-(0[1-9]|1[0-2]))?$")]
    pub to: Option<String>,
}

/// One figure of the open data.
#[derive(Serialize, ToSchema)]
pub struct StatRow {
    pub region_code: String,
    /// `YYYY-MM` for services, `YYYY` for funding; empty for current counts (people, staff).
    pub month: String,
    pub key: String,
    pub count: i64,
    pub person_times: i64,
    pub minutes: i64,
    pub value_fen: i64,
}

/// The open data's families of counters.
#[derive(Clone, Copy, PartialEq)]
enum Family {
    Services,
    People,
    Workforce,
}

async fn open_rows(
    state: &AppState,
    ctx: &Ctx,
    q: &StatsQuery,
    family: Family,
) -> WebResult<Vec<StatRow>> {
    let u = reader(ctx)?;
    let code = match &q.region {
        Some(r) => code_of(r)?,
        None => u.user.region_code.clone(),
    };
    if !u.scope().contains_region(&code) {
        return Err(WebError::NotFound);
    }
    let dims: &[&str] = match family {
        Family::Services => &["kind", "domain", "station"],
        Family::People => &["tier", "category", "due"],
        Family::Workforce => &["staff_role", "staff_cert", "funding"],
    };
    let by = q.by.clone().unwrap_or_else(|| dims[0].to_owned());
    if !dims.contains(&by.as_str()) {
        return Err(shegong_domain::FieldError::new("by", "stats.by_unknown").into());
    }
    let now = today(state.now());
    let (from, to) = match (family, by.as_str()) {
        (Family::Services, _) => (
            q.from
                .clone()
                .unwrap_or_else(|| format!("{}-01", &now[..4])),
            q.to.clone().unwrap_or_else(|| now[..7].to_owned()),
        ),
        (_, "funding") => (
            q.from.clone().unwrap_or_else(|| now[..4].to_owned()),
            q.to.clone().unwrap_or_else(|| now[..4].to_owned()),
        ),
        _ => (String::new(), String::new()),
    };
    let regions = if q.level.as_deref() == Some("children") {
        Regions::ChildrenOf(&code)
    } else {
        Regions::One(&code)
    };
    let mut c = state.db.read().await?;
    Ok(counters::read(&mut c, regions, &by, &from, &to)
        .await?
        .into_iter()
        .map(|r| StatRow {
            region_code: url_code(&r.region_code).to_owned(),
            month: r.month,
            key: r.key,
            count: r.n,
            person_times: r.person_times,
            minutes: r.minutes,
            value_fen: r.value_fen,
        })
        .collect())
}

fn csv(name: &str, rows: &[StatRow]) -> Response {
    let mut out = String::from("region_code,month,key,count,person_times,minutes,value_fen\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            r.region_code, r.month, r.key, r.count, r.person_times, r.minutes, r.value_fen
        ));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        out,
    )
        .into_response()
}

/// Service volume from the maintained counters: records, person-times, minutes and linked
/// value per month and kind, domain or station, for a region or each of its sub-regions.
#[utoipa::path(get, path = "/api/v1/stats/services", tag = "statistics", params(StatsQuery),
    responses((status = 200, body = Vec<StatRow>), (status = 404, description = "Region outside the caller's scope")))]
pub async fn api_services(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Json<Vec<StatRow>>> {
    Ok(Json(open_rows(&state, &ctx, &q, Family::Services).await?))
}

/// People served now, by risk tier or category, for a region or each of its sub-regions.
#[utoipa::path(get, path = "/api/v1/stats/people", tag = "statistics", params(StatsQuery),
    responses((status = 200, body = Vec<StatRow>), (status = 404, description = "Region outside the caller's scope")))]
pub async fn api_people(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Json<Vec<StatRow>>> {
    Ok(Json(open_rows(&state, &ctx, &q, Family::People).await?))
}

/// The same as `/api/v1/stats/services`, as a CSV download.
#[utoipa::path(get, path = "/api/v1/stats/services.csv", tag = "statistics", params(StatsQuery),
    responses((status = 200, description = "CSV: region_code,month,key,count,person_times,minutes,value_fen", content_type = "text/csv")))]
pub async fn api_services_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    Ok(csv(
        "services",
        &open_rows(&state, &ctx, &q, Family::Services).await?,
    ))
}

/// The same as `/api/v1/stats/people`, as a CSV download.
#[utoipa::path(get, path = "/api/v1/stats/people.csv", tag = "statistics", params(StatsQuery),
    responses((status = 200, description = "CSV: region_code,month,key,count,person_times,minutes,value_fen", content_type = "text/csv")))]
pub async fn api_people_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    Ok(csv(
        "people",
        &open_rows(&state, &ctx, &q, Family::People).await?,
    ))
}

/// The workforce now: active staff by position or by highest certificate, and station funding
/// by source and year, for a region or each of its sub-regions.
#[utoipa::path(get, path = "/api/v1/stats/workforce", tag = "statistics", params(StatsQuery),
    responses((status = 200, body = Vec<StatRow>), (status = 404, description = "Region outside the caller's scope")))]
pub async fn api_workforce(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Json<Vec<StatRow>>> {
    Ok(Json(open_rows(&state, &ctx, &q, Family::Workforce).await?))
}

/// The same as `/api/v1/stats/workforce`, as a CSV download.
#[utoipa::path(get, path = "/api/v1/stats/workforce.csv", tag = "statistics", params(StatsQuery),
    responses((status = 200, description = "CSV: region_code,month,key,count,person_times,minutes,value_fen", content_type = "text/csv")))]
pub async fn api_workforce_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    Ok(csv(
        "workforce",
        &open_rows(&state, &ctx, &q, Family::Workforce).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Public disclosure portal (no login)

/// Suppress a group of figures that add up to a published total (sub-regions of a region, kinds
/// of service): small cells as "<N", and when only one cell of the group is small, the next
/// smallest non-zero one too ("*"), so the hidden figure cannot be had by subtraction.
fn suppress_group(values: &[i64], threshold: i64) -> Vec<String> {
    let mut out: Vec<String> = values.iter().map(|&n| suppressed(n, threshold)).collect();
    let small = values.iter().filter(|&&n| n > 0 && n < threshold).count();
    if small == 1
        && let Some((i, _)) = values
            .iter()
            .enumerate()
            .filter(|(_, n)| **n >= threshold)
            .min_by_key(|(_, n)| **n)
    {
        out[i] = "*".into();
    }
    out
}

/// A public figure: the number, or "<N" when it is below the threshold (and not zero): a small
/// count could point at a person.
fn suppressed(n: i64, threshold: i64) -> String {
    if n > 0 && n < threshold {
        format!("<{threshold}")
    } else {
        n.to_string()
    }
}

pub struct PublicStation {
    pub name: String,
    pub region: String,
    pub address: String,
    pub phone: String,
    pub open_hours: String,
    pub status: String,
    /// SVG coordinates on the map, when the station has coordinates.
    pub xy: Option<(i64, i64)>,
}

#[derive(Template)]
#[template(path = "statistics/public/index.html")]
struct PublicPage {
    t: Tr,
    base: Base,
    code: String,
    place: String,
    children: Vec<(String, String, String, String)>,
    stations: Vec<PublicStation>,
    kinds: Vec<(String, String, String)>,
    people: Vec<(String, String)>,
    threshold: i64,
    year: String,
    has_map: bool,
}

#[derive(Deserialize, Default)]
pub struct PublicQuery {
    region: Option<String>,
}

/// The portal: a region's stations (directory and a map drawn from their coordinates, no map
/// tiles), and its service figures of the year with small cells suppressed.
pub async fn portal(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PublicQuery>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let code = match q.region.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => code_of(r)?,
        None => String::new(),
    };
    let threshold = state.config.portal_min_cell;
    let now = today(state.now());
    let (from, to) = (format!("{}-01", &now[..4]), now[..7].to_owned());
    let all = Scope::national();
    let mut c = state.db.read().await?;
    let place = if code.is_empty() {
        t.get("stats.national").to_owned()
    } else {
        regions::get(&mut c, &all, &code).await?.display_path()
    };
    let region_scope = Scope {
        region: RegionCode::parse(&code).ok(),
        org: None,
    };
    let kids = regions::children(
        &mut c,
        &region_scope,
        (!code.is_empty()).then_some(code.as_str()),
    )
    .await?;
    let per_child = counters::read(&mut c, Regions::ChildrenOf(&code), "kind", &from, &to).await?;
    let sums: Vec<(i64, i64)> = kids
        .iter()
        .map(|k| {
            per_child
                .iter()
                .filter(|r| r.region_code == k.code)
                .fold((0, 0), |a, r| (a.0 + r.n, a.1 + r.person_times))
        })
        .collect();
    let records = suppress_group(&sums.iter().map(|s| s.0).collect::<Vec<_>>(), threshold);
    let person_times = suppress_group(&sums.iter().map(|s| s.1).collect::<Vec<_>>(), threshold);
    let children = kids
        .into_iter()
        .zip(records.into_iter().zip(person_times))
        .map(|(k, (n, p))| (k.code, k.name, n, p))
        .collect();
    let kinds = counters::read(&mut c, Regions::One(&code), "kind", &from, &to).await?;
    let mut by_kind: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in &kinds {
        let e = by_kind.entry(r.key.clone()).or_default();
        e.0 += r.n;
        e.1 += r.person_times;
    }
    let names = category_names(&mut c, &t, &all).await?;
    let cats = counters::read(&mut c, Regions::One(&code), "category", "", "").await?;
    let shown = suppress_group(&cats.iter().map(|r| r.n).collect::<Vec<_>>(), threshold);
    let people = cats
        .into_iter()
        .zip(shown)
        .map(|(r, n)| (names.get(&r.key).cloned().unwrap_or(r.key), n))
        .collect();
    // The directory: stations in the region (at most 500 on a page; narrow the region for more).
    let list = stations::list(
        &mut c,
        &region_scope,
        &stations::Filter::default(),
        PageRequest {
            page: 1,
            per_page: 500,
        },
    )
    .await?
    .items;
    drop(c);
    let coords: Vec<(i64, i64)> = list
        .iter()
        .filter_map(|s| Some((s.lng_e6?, s.lat_e6?)))
        .collect();
    let (min_x, max_x) = coords
        .iter()
        .fold((i64::MAX, i64::MIN), |a, c| (a.0.min(c.0), a.1.max(c.0)));
    let (min_y, max_y) = coords
        .iter()
        .fold((i64::MAX, i64::MIN), |a, c| (a.0.min(c.1), a.1.max(c.1)));
    let project = |lng: i64, lat: i64| -> (i64, i64) {
        let w = (max_x - min_x).max(1);
        let h = (max_y - min_y).max(1);
        (20 + (lng - min_x) * 560 / w, 20 + (max_y - lat) * 360 / h)
    };
    let stations = list
        .into_iter()
        .map(|s| PublicStation {
            xy: match (s.lng_e6, s.lat_e6) {
                (Some(x), Some(y)) => Some(project(x, y)),
                _ => None,
            },
            region: shegong_domain::network::region::display_path(s.region_path.split('/')),
            status: t.get(&format!("station.status.{}", s.status)).to_owned(),
            name: s.name,
            address: s.address,
            phone: s.phone,
            open_hours: s.open_hours,
        })
        .collect();
    let title = t.get("portal.title");
    Ok(page(
        StatusCode::OK,
        &PublicPage {
            base: Base::new(
                &ctx,
                title,
                vec![Crumb::link(title, "/public"), Crumb::here(place.clone())],
            ),
            code: url_code(&code).to_owned(),
            place,
            children,
            has_map: !coords.is_empty(),
            stations,
            kinds: {
                let counts: Vec<(i64, i64)> = by_kind.values().copied().collect();
                let n = suppress_group(&counts.iter().map(|c| c.0).collect::<Vec<_>>(), threshold);
                let p = suppress_group(&counts.iter().map(|c| c.1).collect::<Vec<_>>(), threshold);
                by_kind
                    .keys()
                    .zip(n.into_iter().zip(p))
                    .map(|(k, (n, p))| (t.get(&format!("service.kind.{k}")).to_owned(), n, p))
                    .collect()
            },
            people,
            threshold,
            year: now[..4].to_owned(),
            t,
        },
    ))
}

/// Open data of the portal: service figures of the year per sub-region, suppressed.
pub async fn portal_csv(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> WebResult<Response> {
    let code = match q.region.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => code_of(r)?,
        None => String::new(),
    };
    let threshold = state.config.portal_min_cell;
    let now = today(state.now());
    let mut c = state.db.read().await?;
    let rows = counters::read(
        &mut c,
        Regions::ChildrenOf(&code),
        "kind",
        &format!("{}-01", &now[..4]),
        &now[..7],
    )
    .await?;
    // Each month × kind is a group of sub-regions adding up to the region's figure.
    let mut groups: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        groups
            .entry((r.month.clone(), r.key.clone()))
            .or_default()
            .push(r);
    }
    let mut out = String::from("region_code,month,kind,records,person_times\n");
    for ((month, kind), group) in groups {
        let n = suppress_group(&group.iter().map(|r| r.n).collect::<Vec<_>>(), threshold);
        let p = suppress_group(
            &group.iter().map(|r| r.person_times).collect::<Vec<_>>(),
            threshold,
        );
        for ((r, n), p) in group.iter().zip(n).zip(p) {
            out.push_str(&format!("{},{month},{kind},{n},{p}\n", r.region_code));
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"services.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_small_cell_takes_a_second_one_with_it() {
        assert_eq!(suppress_group(&[12, 1, 0, 40], 10), ["*", "<10", "0", "40"]);
        assert_eq!(
            suppress_group(&[12, 1, 3, 40], 10),
            ["12", "<10", "<10", "40"]
        );
        assert_eq!(suppress_group(&[12, 40], 10), ["12", "40"]);
    }
}
