//! Excel exports of the statistics: any of the dashboard's tables, and the monthly report
//! (月报) of a region by sub-region. Both are audited like every export.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use shegong_domain::Permission;
use shegong_domain::people::ServiceKind;
use shegong_store::admin::audit::Change;
use shegong_store::network::regions;
use shegong_store::statistics::counters::{self, Dim, Regions, Row};

use super::dashboards::{DashQuery, load};
use super::shared::{code_of, region_scope, url_code};
use super::tables::{TABLES, table_header, table_rows};
use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::excel::{Cell, Export};
use crate::ui::forms::{format_yuan, today};
use crate::ui::i18n::Tr;

/// One of the dashboard's tables (`TABLES`) as an Excel file, with the dashboard's year and
/// ranking; audited like every export.
pub async fn table_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((code, file)): Path<(String, String)>,
    Query(q): Query<DashQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "stats_table", Permission::Export)?;
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
    export
        .send(
            &state,
            &ctx,
            &format!("stats.table.{name}"),
            &header,
            &rows,
            vec![
                Change::new("table", None::<String>, Some(name)),
                Change::new("region", None::<String>, Some(url_code(&d.code))),
                Change::new("year", None::<String>, Some(d.year.to_string())),
            ],
        )
        .await
}

#[derive(Deserialize)]
pub struct ReportQuery {
    /// `YYYY-MM`; the current month when absent.
    month: Option<String>,
}

/// The monthly report's columns: region, records and person-times of each kind of service,
/// linked value, people by risk tier.
fn report_headers(t: &Tr) -> Vec<String> {
    let mut headers: Vec<String> = vec![t.get("stats.region").to_owned()];
    for k in ServiceKind::ALL {
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
    headers
}

/// One line of the monthly report from a region's service (`kinds`) and tier (`tiers`) counters.
fn report_line(name: String, kinds: &[&Row], tiers: &[&Row]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = vec![name.into()];
    for k in ServiceKind::ALL {
        let (n, p) = kinds
            .iter()
            .filter(|r| r.key == k.as_str())
            .fold((0, 0), |a, r| (a.0 + r.n, a.1 + r.person_times));
        cells.push(n.into());
        cells.push(p.into());
    }
    cells.push(format_yuan(kinds.iter().map(|r| r.value_fen).sum()).into());
    for tier in ["high", "key", "general"] {
        cells.push(
            tiers
                .iter()
                .filter(|r| r.key == tier)
                .map(|r| r.n)
                .sum::<i64>()
                .into(),
        );
    }
    cells
}

/// 月报: one row per sub-region (and the total), services of the month by kind (records and
/// person-times), linked value, people served by risk tier.
pub async fn monthly_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<ReportQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "monthly_report", Permission::Export)?;
    let u = export.user();
    let code = code_of(&code)?;
    let scope = u.scope();
    if !scope.contains_region(&code) {
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
    let children = regions::children(
        &mut c,
        &region_scope(&code),
        (!code.is_empty()).then_some(code.as_str()),
    )
    .await?;
    let kinds_rows = counters::read(
        &mut c,
        &scope,
        Regions::ChildrenOf(&code),
        Dim::Kind,
        &month,
        &month,
    )
    .await?;
    let total_rows = counters::read(
        &mut c,
        &scope,
        Regions::One(&code),
        Dim::Kind,
        &month,
        &month,
    )
    .await?;
    let tier_rows = counters::read(
        &mut c,
        &scope,
        Regions::ChildrenOf(&code),
        Dim::Tier,
        "",
        "",
    )
    .await?;
    let total_tiers =
        counters::read(&mut c, &scope, Regions::One(&code), Dim::Tier, "", "").await?;
    drop(c);
    let headers = report_headers(&t);
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
            report_line(ch.name.clone(), &kr, &tr)
        })
        .collect();
    rows.push(report_line(
        t.get("stats.total").to_owned(),
        &total_rows.iter().collect::<Vec<_>>(),
        &total_tiers.iter().collect::<Vec<_>>(),
    ));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    export
        .send(
            &state,
            &ctx,
            "stats.monthly_report",
            &header_refs,
            &rows,
            vec![
                Change::new("month", None::<String>, Some(month)),
                Change::new("region", None::<String>, Some(url_code(&code))),
            ],
        )
        .await
}
