//! A region's purchase of services (`/contracts/summary`): contracts by state, spend by funding
//! level and catalogue field, budget execution, what was paid, grades, overdue instalments and
//! rectifications, and a row per sub-region that drills down; as Excel and as JSON.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shegong_domain::Permission;
use shegong_domain::money::Fen;
use shegong_domain::purchase::contract::execution_rate_bp;
use shegong_domain::purchase::format_percent;
use shegong_store::purchase::summary::{self, Figures, Summary};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::purchase::contracts::today_date;
use crate::ui::excel::{Cell, Export};
use crate::ui::i18n::Tr;

#[derive(Deserialize, IntoParams)]
pub struct SummaryQuery {
    /// A region code inside the caller's scope (default: the caller's own region).
    pub region: Option<String>,
}

async fn load(state: &AppState, ctx: &Ctx, q: &SummaryQuery) -> WebResult<Summary> {
    let u = reader(ctx)?;
    let scope = u.scope();
    if scope.org.is_some() {
        return Err(WebError::Forbidden);
    }
    let region = q
        .region
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| u.user.region_code.clone());
    if region.is_empty() {
        // A national account picks a province first.
        return Err(WebError::NotFound);
    }
    let mut c = state.db.read().await?;
    Ok(summary::summary(&mut c, &scope, region.trim(), today_date(state.now())).await?)
}

fn rate(f: &Figures) -> String {
    execution_rate_bp(f.budget, f.spent)
        .map(|bp| format!("{}%", format_percent(bp)))
        .unwrap_or_else(|| "—".to_owned())
}

fn label(t: &Tr, family: &str, code: &str) -> String {
    if code == "unassigned" {
        t.get("purchase.summary_unassigned").to_owned()
    } else {
        t.get(&format!("{family}.{code}")).to_owned()
    }
}

#[derive(Template)]
#[template(path = "purchase/summary.html")]
struct SummaryPage {
    t: Tr,
    base: Base,
    s: Summary,
    rate: String,
    /// (label, contracts, amount) rows of each breakdown.
    states: Vec<(String, i64, Fen)>,
    sources: Vec<(String, Fen)>,
    fields: Vec<(String, i64, Fen)>,
    grades: Vec<(String, i64)>,
    /// Sub-region rows: (code, name, figures, execution rate, drills down).
    children: Vec<(String, String, Figures, String, bool)>,
    charts: String,
    echarts: &'static str,
    charts_js: &'static str,
}

fn pie(items: &[(String, f64)]) -> serde_json::Value {
    serde_json::json!({"tooltip": {"trigger": "item"}, "legend": {"bottom": 0},
        "series": [{"type": "pie", "radius": ["35%", "62%"],
        "data": items.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect::<Vec<_>>()}]})
}

/// Yuan as a chart value (charts need numbers, not "1,234.00").
fn yuan(f: Fen) -> f64 {
    f.0 as f64 / 100.0
}

pub async fn page_summary(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SummaryQuery>,
) -> WebResult<Response> {
    let s = load(&state, &ctx, &q).await?;
    let t = ctx.tr();
    let states: Vec<(String, i64, Fen)> = s
        .by_state
        .iter()
        .map(|(c, n, a)| (label(&t, "purchase.state", c), *n, *a))
        .collect();
    let sources: Vec<(String, Fen)> = s
        .by_source
        .iter()
        .map(|(c, a)| (label(&t, "purchase.level", c), *a))
        .collect();
    let fields: Vec<(String, i64, Fen)> = s
        .by_field
        .iter()
        .map(|(c, n, a)| (label(&t, "purchase.field", c), *n, *a))
        .collect();
    let grades: Vec<(String, i64)> = s
        .grades
        .iter()
        .map(|(g, n)| (t.get(&format!("evaluations.grade.{g}")).to_owned(), *n))
        .collect();
    let charts = serde_json::json!({
        "chart-sources": pie(&sources.iter().map(|(n, a)| (n.clone(), yuan(*a))).collect::<Vec<_>>()),
        "chart-fields": pie(&fields.iter().map(|(n, _, a)| (n.clone(), yuan(*a))).collect::<Vec<_>>()),
        "chart-grades": pie(&grades.iter().map(|(n, c)| (n.clone(), *c as f64)).collect::<Vec<_>>()),
    })
    .to_string();
    let children = s
        .children
        .iter()
        .map(|c| {
            let deeper = c.code != s.region_code && c.code.len() < 12;
            (
                c.code.clone(),
                c.name.clone(),
                c.figures.clone(),
                rate(&c.figures),
                deeper,
            )
        })
        .collect();
    let title = format!("{} · {}", s.region_name, t.get("menu.purchase_summary"));
    Ok(page(
        StatusCode::OK,
        &SummaryPage {
            base: Base::new(
                &ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.contracts"), "/contracts"),
                    Crumb::here(title),
                ],
            ),
            rate: rate(&s.total),
            states,
            sources,
            fields,
            grades,
            children,
            charts,
            echarts: crate::http::assets::url("vendor/echarts.min.js"),
            charts_js: crate::http::assets::url("charts.js"),
            s,
            t,
        },
    ))
}

/// The drill-down table as Excel: a row per sub-region with the region's total last.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SummaryQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "contract", Permission::Export)?;
    let s = load(&state, &ctx, &q).await?;
    let t = ctx.tr();
    let headers = [
        "purchase.summary_region",
        "purchase.summary_contracts",
        "purchase.amount_yuan",
        "purchase.summary_paid",
        "purchase.summary_budget",
        "purchase.spent",
        "purchase.execution_rate",
        "purchase.summary_overdue_instalments",
        "purchase.summary_overdue_amount",
        "purchase.summary_overdue_rectifications",
    ]
    .map(|k| t.get(k));
    let row = |name: String, f: &Figures| -> Vec<Cell> {
        vec![
            name.into(),
            Cell::Int(f.contracts),
            f.amount.format_yuan().into(),
            f.paid.format_yuan().into(),
            f.budget.format_yuan().into(),
            f.spent.format_yuan().into(),
            rate(f).into(),
            Cell::Int(f.overdue_instalments),
            f.overdue_instalments_amount.format_yuan().into(),
            Cell::Int(f.overdue_rectifications),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = s
        .children
        .iter()
        .map(|c| row(c.name.clone(), &c.figures))
        .collect();
    rows.push(row(
        format!("{}（{}）", s.region_name, t.get("purchase.summary_total")),
        &s.total,
    ));
    export
        .send(
            &state,
            &ctx,
            "menu.purchase_summary",
            &headers,
            &rows,
            vec![],
        )
        .await
}

/// A region's purchase figures as the API returns them (amounts in fen).
#[derive(Serialize, ToSchema)]
pub struct SummaryDto {
    pub region_code: String,
    pub region_name: String,
    pub total: FiguresDto,
    /// Contracts and amounts by contract state.
    pub by_state: Vec<BreakdownDto>,
    /// Contract amounts split by the catalogue item's cost shares: `city`, `district`,
    /// `township`, or `unassigned` (no catalogue item).
    pub by_source: Vec<BreakdownDto>,
    /// By catalogue service field, or `unassigned`.
    pub by_field: Vec<BreakdownDto>,
    /// Final and published evaluations by grade.
    pub grades: Vec<BreakdownDto>,
    pub children: Vec<ChildDto>,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresDto {
    pub contracts: i64,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub budget_fen: i64,
    pub spent_fen: i64,
    /// 执行率, e.g. "62.5%"; "—" without a budget.
    pub execution_rate: String,
    pub overdue_instalments: i64,
    pub overdue_instalments_fen: i64,
    pub overdue_rectifications: i64,
}

#[derive(Serialize, ToSchema)]
pub struct BreakdownDto {
    pub code: String,
    pub count: Option<i64>,
    pub amount_fen: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ChildDto {
    pub code: String,
    pub name: String,
    #[serde(flatten)]
    pub figures: FiguresDto,
}

fn figures(f: &Figures) -> FiguresDto {
    FiguresDto {
        contracts: f.contracts,
        amount_fen: f.amount.0,
        paid_fen: f.paid.0,
        budget_fen: f.budget.0,
        spent_fen: f.spent.0,
        execution_rate: rate(f),
        overdue_instalments: f.overdue_instalments,
        overdue_instalments_fen: f.overdue_instalments_amount.0,
        overdue_rectifications: f.overdue_rectifications,
    }
}

/// A region's purchase of services: contracts by state, spend by funding level and field,
/// budget execution, grades, overdue instalments and rectifications, per sub-region too.
/// Purchasers only (an agency's or evaluator's account has no region view).
#[utoipa::path(get, path = "/api/v1/purchase/summary", tag = "purchase", params(SummaryQuery),
    responses((status = 200, body = SummaryDto), (status = 403, description = "An organisation's account"),
        (status = 404, description = "Region unknown or outside the caller's scope")))]
pub async fn api_summary(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SummaryQuery>,
) -> WebResult<Json<SummaryDto>> {
    let s = load(&state, &ctx, &q).await?;
    let breakdown = |code: &str, count: Option<i64>, amount: Option<Fen>| BreakdownDto {
        code: code.to_owned(),
        count,
        amount_fen: amount.map(|a| a.0),
    };
    Ok(Json(SummaryDto {
        total: figures(&s.total),
        by_state: s
            .by_state
            .iter()
            .map(|(c, n, a)| breakdown(c, Some(*n), Some(*a)))
            .collect(),
        by_source: s
            .by_source
            .iter()
            .map(|(c, a)| breakdown(c, None, Some(*a)))
            .collect(),
        by_field: s
            .by_field
            .iter()
            .map(|(c, n, a)| breakdown(c, Some(*n), Some(*a)))
            .collect(),
        grades: s
            .grades
            .iter()
            .map(|(g, n)| breakdown(g, Some(*n), None))
            .collect(),
        children: s
            .children
            .iter()
            .map(|c| ChildDto {
                code: c.code.clone(),
                name: c.name.clone(),
                figures: figures(&c.figures),
            })
            .collect(),
        region_code: s.region_code,
        region_name: s.region_name,
    }))
}
