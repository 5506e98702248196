//! The dashboard of a region, read from the maintained counters (`store::statistics`): its
//! figures with drill-down to its sub-regions and a ranking of them on any indicator (the
//! imbalance view), charts, and the same figures as a full-screen wall display.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::{RegionCode, Scope};
use shegong_store::people::visit_rules::DueCounts;
use shegong_store::statistics::counters::{self, Dim, Regions, Row};
use shegong_store::{Conn, network::regions};
use utoipa::ToSchema;

use super::shared::{category_names, code_of, months, region_scope, url_code};
use super::tables::{SmallTable, domain_totals, table_header, table_rows};
use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::forms::{format_yuan, today};
use crate::ui::i18n::Tr;

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
    /// Active volunteers, and those of them with at least one star.
    pub volunteers: i64,
    pub starred: i64,
    /// Recorded volunteer hours of the year (whole hours).
    pub volunteer_hours: i64,
    /// Community charity of the year, fen: money donated, goods donated (declared value), paid out.
    pub donated_fen: i64,
    pub goods_fen: i64,
    pub disbursed_fen: i64,
    /// Donations of the year (money and goods), how many.
    pub donations: i64,
    /// Time-bank person accounts now, and the credits people and groups hold (not money).
    pub timebank_accounts: i64,
    pub timebank_held: i64,
    /// Time credits of the year: earned and redeemed, net of reversals.
    pub timebank_earned: i64,
    pub timebank_redeemed: i64,
    /// 急难愁盼 issues of the year: raised, answered, answered by the due time.
    pub issues_raised: i64,
    pub issues_answered: i64,
    pub issues_on_time: i64,
}

fn add_issues(f: &mut Figures, r: &Row) {
    match r.key.as_str() {
        "answered" => f.issues_answered += r.n,
        "on_time" => f.issues_on_time += r.n,
        k if k.starts_with("raised_") => f.issues_raised += r.n,
        _ => {}
    }
}

fn add_timebank_balance(f: &mut Figures, r: &Row) {
    match r.key.as_str() {
        "person" => {
            f.timebank_accounts += r.n;
            f.timebank_held += r.minutes;
        }
        "group" => f.timebank_held += r.minutes,
        _ => {}
    }
}

fn add_timebank_flow(f: &mut Figures, r: &Row) {
    match r.key.as_str() {
        "earn" => f.timebank_earned += r.minutes,
        "reversal_earn" => f.timebank_earned -= r.minutes,
        "redeem" => f.timebank_redeemed += r.minutes,
        "reversal_redeem" => f.timebank_redeemed -= r.minutes,
        _ => {}
    }
}

fn add_charity(f: &mut Figures, r: &Row) {
    match r.key.as_str() {
        "money" => {
            f.donated_fen += r.value_fen;
            f.donations += r.n;
        }
        "goods" => {
            f.goods_fen += r.value_fen;
            f.donations += r.n;
        }
        "paid" => f.disbursed_fen += r.value_fen,
        _ => {}
    }
}

fn add_volunteers(f: &mut Figures, r: &Row) {
    f.volunteers += r.n;
    if r.key != "0" {
        f.starred += r.n;
    }
}

fn add_volunteer_hours(f: &mut Figures, r: &Row) {
    // Minutes add up before they become hours (each month's remainder counts).
    f.volunteer_hours = (f.volunteer_hours * 60 + r.minutes) / 60;
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
const READS: [(Dim, Period, Add); 10] = [
    (Dim::Kind, Period::Months, add_services),
    (Dim::Tier, Period::Now, add_people),
    (Dim::StaffCert, Period::Now, add_staff),
    (Dim::Funding, Period::Year, add_funding),
    (Dim::VolunteerStars, Period::Now, add_volunteers),
    (Dim::VolunteerHours, Period::Months, add_volunteer_hours),
    (Dim::Charity, Period::Months, add_charity),
    (Dim::TimebankBalance, Period::Now, add_timebank_balance),
    (Dim::TimebankFlow, Period::Months, add_timebank_flow),
    (Dim::Issues, Period::Months, add_issues),
];

/// Each of [`READS`] as `(dim, from, to)`: the year's months (`from..=to`), the year `y` itself,
/// or no month.
fn figure_reads<'a>((from, to): (&'a str, &'a str), y: &'a str) -> [(Dim, &'a str, &'a str); 10] {
    READS.map(|(dim, period, _)| match period {
        Period::Months => (dim, from, to),
        Period::Year => (dim, y, y),
        Period::Now => (dim, "", ""),
    })
}

/// The figures of each of `code`'s children, from the counters only (the region's own come
/// from the rows the dashboard reads anyway, see `load`).
async fn children_figures(
    c: &mut Conn,
    scope: &Scope,
    code: &str,
    year: i32,
) -> WebResult<BTreeMap<String, Figures>> {
    let (from, to) = months(year);
    let y = year.to_string();
    let mut children: BTreeMap<String, Figures> = BTreeMap::new();
    let reads = figure_reads((&from, &to), &y);
    let rows = counters::read_each(c, scope, Regions::ChildrenOf(code), &reads).await?;
    for ((_, _, add), rows) in READS.iter().zip(rows) {
        for r in rows {
            add(children.entry(r.region_code.clone()).or_default(), &r);
        }
    }
    Ok(children)
}

/// The indicators the drill-down table can rank by.
pub(super) const INDICATORS: [&str; 13] = [
    "records",
    "person_times",
    "hours",
    "people",
    "high_risk",
    "staff",
    "funding",
    "volunteers",
    "volunteer_hours",
    "donated",
    "disbursed",
    "timebank_earned",
    "issues_raised",
];

pub(super) fn indicator(f: &Figures, name: &str) -> i64 {
    match name {
        "person_times" => f.person_times,
        "hours" => f.hours,
        "people" => f.people,
        "high_risk" => f.high_risk,
        "staff" => f.staff,
        "funding" => f.funding_fen,
        "volunteers" => f.volunteers,
        "volunteer_hours" => f.volunteer_hours,
        "donated" => f.donated_fen + f.goods_fen,
        "disbursed" => f.disbursed_fen,
        "timebank_earned" => f.timebank_earned,
        "issues_raised" => f.issues_raised,
        _ => f.records,
    }
}

pub struct ChildRow {
    pub code: String,
    pub name: String,
    pub f: Figures,
    pub value: String,
    pub funding: String,
    pub donated: String,
    pub disbursed: String,
    /// Share of the largest sub-region's figure on the ranked indicator, 0–100 (bar width).
    pub bar: i64,
    pub drill: bool,
}

#[derive(Deserialize, Default)]
pub struct DashQuery {
    pub(super) year: Option<i32>,
    /// One of `INDICATORS`: rank the sub-regions.
    pub(super) sort: Option<String>,
}

/// Everything a dashboard shows, read once for the page, the wall and the table exports.
pub(super) struct Dash {
    pub(super) code: String,
    pub(super) title: String,
    pub(super) lineage: Vec<(String, String)>,
    pub(super) year: i32,
    pub(super) this_year: i32,
    pub(super) sort: String,
    pub(super) top: Figures,
    pub(super) rows: Vec<ChildRow>,
    /// max / min of the ranked indicator among sub-regions with any, and its coefficient of variation.
    pub(super) spread: Option<(String, String)>,
    pub(super) due: DueCounts,
    /// Elderly and 特困 people visited this month, and all of them.
    pub(super) visited: (i64, i64),
    /// The station network of the region (coverage, operating stations, open and overdue
    /// rectifications), from the station registry (thousands of rows, grouped per request).
    pub(super) network: shegong_store::network::coverage::Figures,
    pub(super) kinds: Vec<Row>,
    pub(super) domains: Vec<Row>,
    pub(super) tiers: Vec<Row>,
    /// (category name, people), fewest first.
    pub(super) cats: Vec<(String, i64)>,
    pub(super) roles: Vec<Row>,
    pub(super) certs: Vec<Row>,
    pub(super) funding: Vec<Row>,
    /// Services of the year at stations run by social work agencies (records, minutes, value).
    pub(super) by_agencies: Row,
}

/// Visits due from the counters of due dates: before today, today, within seven days.
fn due_counts(rows: &[Row], today: &str) -> DueCounts {
    let week = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d")
        .map(|d| (d + chrono::Duration::days(7)).to_string())
        .unwrap_or_default();
    let sum = |f: &dyn Fn(&str) -> bool| rows.iter().filter(|r| f(&r.key)).map(|r| r.n).sum();
    DueCounts {
        overdue: sum(&|k| k < today),
        today: sum(&|k| k == today),
        week: sum(&|k| k <= week.as_str()),
    }
}

/// The region's own counters a dashboard shows, and its figures from them.
struct Own {
    kinds: Vec<Row>,
    domains: Vec<Row>,
    tiers: Vec<Row>,
    roles: Vec<Row>,
    certs: Vec<Row>,
    funding: Vec<Row>,
    /// Services per station (for those run by agencies).
    stations: Vec<Row>,
    due_dates: Vec<Row>,
    elderly: Vec<Row>,
    categories: Vec<Row>,
    top: Figures,
}

/// The region's own counters of `year`, in one statement: the figures of [`READS`] and what
/// else the page shows.
async fn own_counters(c: &mut Conn, scope: &Scope, code: &str, year: i32) -> WebResult<Own> {
    let (from, to) = months(year);
    let y = year.to_string();
    let (from, to) = (from.as_str(), to.as_str());
    let others = [
        (Dim::Domain, from, to),
        (Dim::StaffRole, "", ""),
        (Dim::Station, from, to),
        (Dim::Due, "", ""),
        (Dim::ElderlyVisit, "", ""),
        (Dim::Category, "", ""),
    ];
    let reads = [figure_reads((from, to), &y).as_slice(), &others].concat();
    let mut rows = counters::read_each(c, scope, Regions::One(code), &reads).await?;
    let lost = |_| WebError::Internal(anyhow::anyhow!("dashboard: counter reads lost"));
    let [domains, roles, stations, due_dates, elderly, categories]: [Vec<Row>; 6] =
        rows.split_off(READS.len()).try_into().map_err(lost)?;
    let mut top = Figures::default();
    for ((_, _, add), rows) in READS.iter().zip(&rows) {
        rows.iter().for_each(|r| add(&mut top, r));
    }
    let [kinds, tiers, certs, funding, ..]: [Vec<Row>; READS.len()] =
        rows.try_into().map_err(lost)?;
    Ok(Own {
        kinds,
        domains,
        tiers,
        roles,
        certs,
        funding,
        stations,
        due_dates,
        elderly,
        categories,
        top,
    })
}

pub(super) async fn load(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    q: &DashQuery,
) -> WebResult<Dash> {
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
    let sort = q
        .sort
        .clone()
        .filter(|s| INDICATORS.contains(&s.as_str()))
        .unwrap_or_else(|| "records".into());
    let mut c = state.db.read().await?;
    let by_child = children_figures(&mut c, &scope, &code, year).await?;
    let own = own_counters(&mut c, &scope, &code, year).await?;
    let by_agencies = by_agencies(&mut c, &code, own.stations).await?;
    let due = due_counts(&own.due_dates, &today_s);
    let visited = (
        own.elderly
            .iter()
            .filter(|r| today_s.get(..7) == Some(r.key.as_str()))
            .map(|r| r.n)
            .sum(),
        own.elderly.iter().map(|r| r.n).sum(),
    );
    let names = category_names(&mut c, &t, &scope).await?;
    let mut cats: Vec<(String, i64)> = own
        .categories
        .into_iter()
        .map(|r| (names.get(&r.key).cloned().unwrap_or(r.key), r.n))
        .collect();
    cats.sort_by_key(|x| x.1);
    let children = regions::children(
        &mut c,
        &region_scope(&code),
        (!code.is_empty()).then_some(code.as_str()),
    )
    .await?;
    let (title, lineage) = title_and_lineage(&mut c, &t, &scope, &code).await?;
    let (network, _) = shegong_store::network::coverage::coverage(
        &mut c,
        &scope,
        (!code.is_empty()).then_some(code.as_str()),
        &today_s,
    )
    .await?;
    drop(c);
    let rows = ranked(children, &by_child, &sort);
    let spread = spread(&rows, &sort);
    Ok(Dash {
        code,
        title,
        lineage,
        year,
        this_year,
        sort,
        top: own.top,
        rows,
        spread,
        due,
        visited,
        network,
        kinds: own.kinds,
        domains: own.domains,
        tiers: own.tiers,
        cats,
        roles: own.roles,
        certs: own.certs,
        funding: own.funding,
        by_agencies,
    })
}

/// The year's services at the region's stations that social work agencies run (五社's social
/// organisations): the per-station counters (`rows`, read with the dashboard's), summed over the
/// stations run under purchase now.
async fn by_agencies(c: &mut Conn, code: &str, rows: Vec<Row>) -> WebResult<Row> {
    let ids: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
    let run: std::collections::BTreeSet<String> =
        shegong_store::network::stations::run_by_agencies(c, &ids)
            .await?
            .into_iter()
            .collect();
    let mut sum = Row {
        region_code: code.to_owned(),
        month: String::new(),
        key: "agencies".into(),
        n: 0,
        person_times: 0,
        minutes: 0,
        value_fen: 0,
    };
    for r in rows.iter().filter(|r| run.contains(&r.key)) {
        sum.n += r.n;
        sum.person_times += r.person_times;
        sum.minutes += r.minutes;
        sum.value_fen += r.value_fen;
    }
    Ok(sum)
}

/// The page title (the region's full name) and the way down to it, as far as `scope` sees.
async fn title_and_lineage(
    c: &mut Conn,
    t: &Tr,
    scope: &Scope,
    code: &str,
) -> WebResult<(String, Vec<(String, String)>)> {
    let title = if code.is_empty() {
        t.get("stats.national").to_owned()
    } else {
        regions::get(c, &Scope::national(), code)
            .await?
            .display_path()
    };
    let mut lineage = Vec::new();
    if let Ok(rc) = RegionCode::parse(code) {
        for a in rc.lineage() {
            if scope.contains_region(a.as_str()) {
                let r = regions::get(c, &Scope::national(), a.as_str()).await?;
                lineage.push((a.to_string(), r.name));
            }
        }
    }
    Ok((title, lineage))
}

/// The sub-regions with their figures, largest first on the ranked indicator.
fn ranked(
    children: Vec<regions::Region>,
    by_child: &BTreeMap<String, Figures>,
    sort: &str,
) -> Vec<ChildRow> {
    let max = by_child
        .values()
        .map(|f| indicator(f, sort))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut rows: Vec<ChildRow> = children
        .into_iter()
        .map(|r| {
            let f = by_child.get(&r.code).cloned().unwrap_or_default();
            let v = indicator(&f, sort);
            ChildRow {
                value: format_yuan(f.value_fen),
                funding: format_yuan(f.funding_fen),
                donated: format_yuan(f.donated_fen + f.goods_fen),
                disbursed: format_yuan(f.disbursed_fen),
                bar: v * 100 / max,
                drill: r.level != "village",
                code: r.code,
                name: r.name,
                f,
            }
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(indicator(&r.f, sort)));
    rows
}

/// Max / min of the ranked indicator and its coefficient of variation, with two or more
/// sub-regions.
fn spread(rows: &[ChildRow], sort: &str) -> Option<(String, String)> {
    let values: Vec<f64> = rows.iter().map(|r| indicator(&r.f, sort) as f64).collect();
    (values.len() > 1).then(|| {
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
    })
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
    donated: String,
    disbursed: String,
    indicators: Vec<(String, String)>,
    /// Shares as (percentage, "part/all").
    rate: Option<(String, String)>,
    certified_rate: Option<(String, String)>,
    /// The small tables (staff, certificates, funding).
    tables: Vec<SmallTable>,
    charts: String,
    echarts: &'static str,
    charts_js: &'static str,
    /// The sub-regions on a map, where a boundary map covers the region.
    map: Option<super::wall::MapBlock>,
    /// The monthly report's period picker: the month offered (the current month in the current
    /// year, December of a past year) and the latest month that may be chosen.
    report_month: String,
    this_month: String,
    /// The report is an export: offered to those who may export.
    can_report: bool,
}

/// The ECharts options of the dashboard, as one JSON object (id → option).
fn chart_options(t: &Tr, d: &Dash) -> String {
    let months: Vec<String> = (1..=12).map(|m| format!("{:04}-{m:02}", d.year)).collect();
    let mut by_kind: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for r in &d.kinds {
        if let Some(i) = months.iter().position(|m| *m == r.month)
            && let Some(n) = by_kind
                .entry(&r.key)
                .or_insert_with(|| vec![0; 12])
                .get_mut(i)
        {
            *n += r.n;
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

async fn dashboard(state: &AppState, ctx: &Ctx, code: &str, q: &DashQuery) -> WebResult<Response> {
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
    // The share as the figure, its parts in the label: "71.1%（226/318）" did not fit a card.
    let percent = |part: i64, all: i64| {
        (all > 0).then(|| {
            (
                format!("{:.1}%", part as f64 * 100.0 / all as f64),
                format!("{part}/{all}"),
            )
        })
    };
    let map = super::wall::dashboard_map(
        state,
        ctx,
        &d,
        format!("/stats/{{code}}?year={}&sort={}", d.year, d.sort),
    )
    .await?;
    let tables = ["wushe", "staff", "certificates", "funding"]
        .into_iter()
        .map(|name| SmallTable {
            name,
            title: t.get(&format!("stats.table.{name}")).to_owned(),
            header: table_header(&t, name),
            rows: table_rows(&t, &d, name),
        })
        .collect();
    let this_month = today(state.now()).chars().take(7).collect::<String>();
    Ok(page(
        StatusCode::OK,
        &DashPage {
            base: Base::new(ctx, d.title.clone(), crumbs),
            url_code: url_code(&d.code).to_owned(),
            years: (d.this_year - 4..=d.this_year).rev().collect(),
            value: format_yuan(d.top.value_fen),
            funding: format_yuan(d.top.funding_fen),
            donated: format_yuan(d.top.donated_fen + d.top.goods_fen),
            disbursed: format_yuan(d.top.disbursed_fen),
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
            map,
            report_month: if d.year == d.this_year {
                this_month.clone()
            } else {
                format!("{:04}-12", d.year)
            },
            this_month,
            can_report: ctx
                .user()
                .is_ok_and(|u| u.can(shegong_domain::Permission::Export)),
            d,
            t,
        },
    ))
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
    dashboard(&state, &ctx, &code, &q).await
}
