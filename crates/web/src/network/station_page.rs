//! The station page: registry details, status and operator history, funding, services offered,
//! the five-indicator assessment, progress reports, inspections and attachments; and the changes
//! made from it (funding, services, assessment), each audited through `station_action`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::network::station::FundingSource;
use shegong_domain::{FieldError, Permission, Scope};
use shegong_store::admin::audit::Change;
use shegong_store::network::construction;
use shegong_store::network::indicators;
use shegong_store::network::stations::{self, Station};
use shegong_store::{Conn, PageRequest, StoreResult, network::attachments, network::inspections};

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited, writer};
use crate::network::stations::{Choices, Row, choices, room_labels, row};
use crate::ui::forms::{Check, FormData, format_yuan, today};
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;

pub struct ItemRow {
    pub id: String,
    pub category: String,
    pub name: String,
    pub requirement: String,
    pub evidence: String,
    pub weight: i64,
    pub met: Option<bool>,
    pub note: String,
    pub assessed: String,
}

#[derive(Template)]
#[template(path = "network/stations/detail.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    s: Station,
    row: Row,
    rooms: String,
    history: Vec<stations::StatusChange>,
    operators: Vec<stations::OperatorPeriod>,
    funding: Vec<(i64, String, String)>,
    services: Vec<(String, String, String, bool)>,
    items: Vec<ItemRow>,
    reports: Vec<construction::Report>,
    visits: Vec<inspections::Visit>,
    rects: Vec<inspections::Rect>,
    files: Vec<attachments::Attachment>,
    choices: Choices,
    can_write: bool,
    can_supervise: bool,
    this_month: String,
    today: String,
    error: Option<String>,
}

impl DetailPage {
    fn month_text(&self, m: &i64) -> String {
        format!("{}-{:02}", m / 100, m % 100)
    }
}

/// Funding rows as (year, source label, amount in yuan).
async fn funding_rows(
    c: &mut Conn,
    t: &Tr,
    scope: &Scope,
    id: &str,
) -> WebResult<Vec<(i64, String, String)>> {
    Ok(stations::funding(c, scope, id)
        .await?
        .into_iter()
        .map(|f| {
            (
                f.year,
                t.get(&format!("station.source.{}", f.source)).to_owned(),
                format_yuan(f.amount_fen),
            )
        })
        .collect())
}

/// The region's service items as (id, domain label, name, offered here).
async fn service_rows(
    c: &mut Conn,
    t: &Tr,
    scope: &Scope,
    s: &Station,
) -> WebResult<Vec<(String, String, String, bool)>> {
    let offered = stations::services(c, scope, &s.id).await?;
    Ok(stations::service_items_for(c, &s.region_code)
        .await?
        .into_iter()
        .map(|i| {
            let on = offered.contains(&i.id);
            (
                i.id,
                t.get(&format!("service.domain.{}", i.domain)).to_owned(),
                i.name,
                on,
            )
        })
        .collect())
}

/// The region's indicator items with this station's assessment of each.
async fn item_rows(c: &mut Conn, t: &Tr, scope: &Scope, s: &Station) -> WebResult<Vec<ItemRow>> {
    let done = indicators::assessments(c, scope, &s.id).await?;
    Ok(indicators::items_for(c, &s.region_code)
        .await?
        .into_iter()
        .map(|i| {
            let a = done.iter().find(|a| a.item_id == i.id);
            ItemRow {
                category: t
                    .get(&format!("indicator.category.{}", i.category))
                    .to_owned(),
                evidence: t
                    .get(&format!("indicator.evidence.{}", i.evidence))
                    .to_owned(),
                met: a.map(|a| a.met != 0),
                note: a.map(|a| a.note.clone()).unwrap_or_default(),
                assessed: a
                    .map(|a| format!("{} {}", a.assessed_on, a.assessed_by))
                    .unwrap_or_default(),
                id: i.id,
                name: i.name,
                requirement: i.requirement,
                weight: i.weight,
            }
        })
        .collect())
}

/// The station's latest inspection visits and its rectifications.
async fn inspection_rows(
    c: &mut Conn,
    scope: &Scope,
    id: &str,
    today_s: &str,
) -> WebResult<(Vec<inspections::Visit>, Vec<inspections::Rect>)> {
    let visits = inspections::visits(
        c,
        scope,
        Some(id),
        None,
        PageRequest::new(Some(1), Some(50)),
    )
    .await?
    .items;
    let rects = inspections::rectifications(
        c,
        scope,
        &inspections::RectFilter {
            station_id: Some(id.to_owned()),
            ..Default::default()
        },
        today_s,
        PageRequest::new(Some(1), Some(100)),
    )
    .await?
    .items;
    Ok((visits, rects))
}

/// The station page, with `error` (a rejected change) shown at the top and a 422 status.
pub(super) async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let message = error.map(|e| {
        format!(
            "{}: {}",
            t.get(&format!("field.{}", e.field)),
            t.get(e.code)
        )
    });
    detail_with(state, ctx, id, notice, message).await
}

/// The station page with an error message already written out (a rejected upload names its
/// file as well as the field).
pub(super) async fn detail_with(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<String>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let today_s = today(state.now());
    let mut c = state.db.read().await?;
    let s = stations::get(&mut c, &scope, id).await?;
    let history = stations::status_history(&mut c, &scope, id).await?;
    let operators = stations::operator_history(&mut c, &scope, id).await?;
    let funding = funding_rows(&mut c, &t, &scope, id).await?;
    let services = service_rows(&mut c, &t, &scope, &s).await?;
    let items = item_rows(&mut c, &t, &scope, &s).await?;
    let reports = construction::reports(&mut c, &scope, id).await?;
    let (visits, rects) = inspection_rows(&mut c, &scope, id, &today_s).await?;
    let files = attachments::for_owner(&mut c, "station", id).await?;
    drop(c);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &DetailPage {
            t,
            base: Base::new(
                ctx,
                s.name.clone(),
                vec![
                    Crumb::link(t.get("menu.stations"), "/stations"),
                    Crumb::here(s.name.clone()),
                ],
            )
            .with_notice(&t, notice),
            row: row(&t, &s),
            rooms: room_labels(&t, &s.rooms),
            history,
            operators,
            funding,
            services,
            items,
            reports,
            visits,
            rects,
            files,
            choices: choices(state, &t, &scope).await?,
            can_write: u.can(Permission::WriteData),
            can_supervise: u.can(Permission::Supervise),
            this_month: today_s.get(..7).unwrap_or_default().to_owned(),
            today: today_s,
            error,
            s,
        },
    ))
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    detail(&state, &ctx, &id, q.notice.as_deref(), None).await
}

/// The future a station change returns: the changes for the audit entry.
pub(super) type StationWork<'c> =
    std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<Vec<Change>>> + Send + 'c>>;

/// A station change with its audit entry (filed under the station's region), from its page or
/// the API: `Some` field error when refused (nothing written); a station outside the caller's
/// scope is not found.
pub(super) async fn station_change<F>(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &'static str,
    f: F,
) -> WebResult<Option<FieldError>>
where
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> StationWork<'c> + Send + 'static,
{
    let sid = id.to_owned();
    audited(state, ctx, "station", action, move |conn, scope, by| {
        Box::pin(async move {
            let region = stations::get(conn, &scope, &sid).await?.region_code;
            let changes = f(conn, scope, by).await?;
            Ok(Done {
                entity_id: sid,
                region: Some(region),
                changes,
            })
        })
    })
    .await
}

/// A station change from its page: back to it with a notice, or the page with the field error.
pub(super) async fn station_action<F>(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &'static str,
    f: F,
) -> WebResult<Response>
where
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> StationWork<'c> + Send + 'static,
{
    match station_change(state, ctx, id, action, f).await? {
        None => Ok(Redirect::to(&format!("/stations/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(state, ctx, id, None, Some(e)).await,
    }
}

/// A year's funding from one source, checked.
pub(super) struct FundingInput {
    year: i64,
    source: FundingSource,
    amount: i64,
}

/// The funding form's fields (`year`, `source`, `amount` in yuan): the page's and the API's one
/// set of rules.
pub(super) fn parse_funding(f: &FormData) -> Result<FundingInput, Vec<FieldError>> {
    let mut c = Check::default();
    let year = c.int("year", f.get("year"), 2000, 2100, 0);
    let source = c.take(FundingSource::parse(f.get("source")));
    let amount = c.yuan("amount", f.get("amount"));
    c.finish()?;
    let source = source.ok_or_else(|| vec![FieldError::new("source", "form.required")])?;
    Ok(FundingInput {
        year,
        source,
        amount,
    })
}

/// Record a year's funding from one source of station `id` (page and API), audited.
pub(super) async fn save_funding(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: FundingInput,
) -> WebResult<Option<FieldError>> {
    let FundingInput {
        year,
        source,
        amount,
    } = input;
    let (sid, now) = (id.to_owned(), state.now());
    station_change(state, ctx, id, "funding", move |conn, scope, _| {
        Box::pin(async move {
            let before =
                stations::set_funding(conn, &scope, &sid, year, source, amount, now).await?;
            Ok(vec![Change::new(
                &format!("funding.{year}.{}", source.as_str()),
                before.map(format_yuan),
                Some(format_yuan(amount)),
            )])
        })
    })
    .await
}

pub async fn set_funding(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match parse_funding(&f) {
        Ok(i) => i,
        Err(errors) => return detail(&state, &ctx, &id, None, errors.into_iter().next()).await,
    };
    match save_funding(&state, &ctx, &id, input).await? {
        None => Ok(Redirect::to(&format!("/stations/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(&state, &ctx, &id, None, Some(e)).await,
    }
}

/// Set the services station `id` offers (catalogue items; page and API), audited.
pub(super) async fn save_services(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    mut items: Vec<String>,
) -> WebResult<Option<FieldError>> {
    // A service named twice is offered once.
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(i.clone()));
    let sid = id.to_owned();
    station_change(state, ctx, id, "services", move |conn, scope, _| {
        Box::pin(async move {
            let before = stations::set_services(conn, &scope, &sid, &items).await?;
            Ok(vec![Change::new(
                "services",
                Some(before.len()),
                Some(items.len()),
            )])
        })
    })
    .await
}

pub async fn set_services(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    match save_services(&state, &ctx, &id, f.all("item")).await? {
        None => Ok(Redirect::to(&format!("/stations/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(&state, &ctx, &id, None, Some(e)).await,
    }
}
