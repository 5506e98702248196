//! Stations: the scoped list with filters and Excel export, the form (with the region picker),
//! the station page (history, funding, services, five-indicator assessment, monthly progress,
//! attachments), and `/api/v1/stations`. Pages and API share one parser, so their validation
//! messages are the same.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::network::station::{self as st, FundingSource, Mode, Room, Status, Tier};
use shegong_domain::{FieldError, Permission, Scope};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::network::construction::{self, ReportInput};
use shegong_store::network::indicators;
use shegong_store::network::stations::{self, Filter, Station, StationInput};
use shegong_store::{PageRequest, network::attachments, network::inspections, network::orgs};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::excel::{self, Cell};
use crate::ui::forms::{Check, FormData, format_yuan, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, pager, rfc3339};

pub fn reader(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::ReadData)?;
    Ok(u)
}

pub fn writer(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    Ok(u)
}

/// Parse a station form (or API body in the same shape) into the store's input.
pub fn parse(f: &FormData) -> Result<StationInput, Vec<FieldError>> {
    let mut c = Check::default();
    let tier = c.take(Tier::parse(f.get("tier")));
    let region = c.region("region", f.get("region"));
    let name = c.text("name", f.get("name"), 100);
    let address = c.opt_text("address", f.get("address"), 200);
    let lng = match f.get("lng") {
        "" => None,
        v => c.take(st::parse_longitude(v)),
    };
    let lat = match f.get("lat") {
        "" => None,
        v => c.take(st::parse_latitude(v)),
    };
    if lng.is_some() != lat.is_some() {
        c.fail("lat", "station.coordinates_pair");
    }
    let host = c.opt_text("host_premises", f.get("host_premises"), 100);
    let mode = c.take(Mode::parse(f.get("mode")));
    let operator = Some(f.get("operator").to_owned()).filter(|s| !s.is_empty());
    let status = c.take(Status::parse(f.get("status")));
    let since = c.date("status_since", f.get("status_since"));
    let area = c.int("area_m2", f.get("area_m2"), 0, 1_000_000, 0);
    let mut rooms = Vec::new();
    for r in f.all("rooms") {
        if let Some(room) = c.take(Room::parse(&r))
            && !rooms.contains(&room)
        {
            rooms.push(room);
        }
    }
    let staff = c.int("staff_count", f.get("staff_count"), 0, 10_000, 0);
    let certified = c.int("certified_count", f.get("certified_count"), 0, 10_000, 0);
    let phone = c.opt_text("phone", f.get("phone"), 40);
    let hours = c.opt_text("open_hours", f.get("open_hours"), 100);
    if let (Some(t), Some(r)) = (tier, &region) {
        c.take(t.check_region(r));
    }
    if mode == Some(Mode::Purchase) && operator.is_none() {
        c.fail("operator", "station.operator_required");
    }
    if certified > staff {
        c.fail("certified_count", "station.certified_exceeds_staff");
    }
    c.finish()?;
    Ok(StationInput {
        tier: tier.expect("checked"),
        region: region.expect("checked"),
        name,
        address,
        lng_e6: lng,
        lat_e6: lat,
        host_premises: host,
        mode: mode.expect("checked"),
        operator_org_id: operator,
        status: status.expect("checked"),
        status_since: since,
        area_m2: area,
        rooms,
        staff_count: staff,
        certified_count: certified,
        phone,
        open_hours: hours,
    })
}

/// The form's fields from a stored station.
fn form_of(s: &Station) -> FormData {
    let mut pairs: Vec<(String, String)> = vec![
        ("tier".into(), s.tier.clone()),
        ("region".into(), s.region_code.clone()),
        ("name".into(), s.name.clone()),
        ("address".into(), s.address.clone()),
        ("lng".into(), s.lng_e6.map(micro).unwrap_or_default()),
        ("lat".into(), s.lat_e6.map(micro).unwrap_or_default()),
        ("host_premises".into(), s.host_premises.clone()),
        ("mode".into(), s.mode.clone()),
        (
            "operator".into(),
            s.operator_org_id.clone().unwrap_or_default(),
        ),
        ("status".into(), s.status.clone()),
        ("status_since".into(), s.status_since.clone()),
        ("area_m2".into(), s.area_m2.to_string()),
        ("staff_count".into(), s.staff_count.to_string()),
        ("certified_count".into(), s.certified_count.to_string()),
        ("phone".into(), s.phone.clone()),
        ("open_hours".into(), s.open_hours.clone()),
    ];
    for r in s.rooms.split(',').filter(|r| !r.is_empty()) {
        pairs.push(("rooms".into(), r.to_owned()));
    }
    FormData::new(pairs)
}

pub fn micro(v: i64) -> String {
    format!("{:.6}", v as f64 / 1_000_000.0)
}

/// Field-by-field changes for the audit log.
fn changes(before: Option<&Station>, after: &StationInput) -> Vec<Change> {
    let b = |f: fn(&Station) -> String| before.map(f);
    audit::diff(&[
        (
            "tier",
            b(|s| s.tier.clone()),
            Some(after.tier.as_str().into()),
        ),
        (
            "region",
            b(|s| s.region_code.clone()),
            Some(after.region.to_string()),
        ),
        (
            "name",
            b(|s| s.name.clone()),
            Some(after.name.trim().into()),
        ),
        (
            "address",
            b(|s| s.address.clone()),
            Some(after.address.trim().into()),
        ),
        (
            "mode",
            b(|s| s.mode.clone()),
            Some(after.mode.as_str().into()),
        ),
        (
            "operator",
            before.map(|s| s.operator_org_id.clone().unwrap_or_default()),
            Some(after.operator_org_id.clone().unwrap_or_default()),
        ),
        (
            "status",
            b(|s| s.status.clone()),
            Some(after.status.as_str().into()),
        ),
        (
            "status_since",
            b(|s| s.status_since.clone()),
            Some(after.status_since.clone()),
        ),
        (
            "area_m2",
            b(|s| s.area_m2.to_string()),
            Some(after.area_m2.to_string()),
        ),
        (
            "rooms",
            b(|s| s.rooms.clone()),
            Some(st::rooms_to_string(&after.rooms)),
        ),
        (
            "staff_count",
            b(|s| s.staff_count.to_string()),
            Some(after.staff_count.to_string()),
        ),
        (
            "certified_count",
            b(|s| s.certified_count.to_string()),
            Some(after.certified_count.to_string()),
        ),
        (
            "host_premises",
            b(|s| s.host_premises.clone()),
            Some(after.host_premises.trim().into()),
        ),
        (
            "phone",
            b(|s| s.phone.clone()),
            Some(after.phone.trim().into()),
        ),
        (
            "open_hours",
            b(|s| s.open_hours.clone()),
            Some(after.open_hours.trim().into()),
        ),
        (
            "lng",
            b(|s| s.lng_e6.map(micro).unwrap_or_default()),
            Some(after.lng_e6.map(micro).unwrap_or_default()),
        ),
        (
            "lat",
            b(|s| s.lat_e6.map(micro).unwrap_or_default()),
            Some(after.lat_e6.map(micro).unwrap_or_default()),
        ),
    ])
}

/// Choice lists for selects: (code, label).
pub struct Choices {
    pub tiers: Vec<(String, String)>,
    pub modes: Vec<(String, String)>,
    pub statuses: Vec<(String, String)>,
    pub rooms: Vec<(String, String)>,
    pub sources: Vec<(String, String)>,
    pub orgs: Vec<(String, String)>,
}

fn labels<T: Copy>(
    t: &Tr,
    prefix: &str,
    all: &[T],
    code: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| {
            (
                code(*v).to_owned(),
                t.get(&format!("{prefix}.{}", code(*v))).to_owned(),
            )
        })
        .collect()
}

async fn choices(state: &AppState, t: &Tr, scope: &Scope) -> WebResult<Choices> {
    let mut c = state.db.read().await?;
    let orgs = orgs::list(&mut c, scope)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(Choices {
        tiers: labels(t, "station.tier", Tier::ALL, Tier::as_str),
        modes: labels(t, "station.mode", Mode::ALL, Mode::as_str),
        statuses: labels(t, "station.status", Status::ALL, Status::as_str),
        rooms: labels(t, "station.room", Room::ALL, Room::as_str),
        sources: labels(
            t,
            "station.source",
            FundingSource::ALL,
            FundingSource::as_str,
        ),
        orgs,
    })
}

// ---------------------------------------------------------------------------------------------
// List and export

#[derive(Deserialize, IntoParams, Default, Clone)]
pub struct ListQuery {
    /// Name or address contains.
    pub q: Option<String>,
    /// Only stations in this region's subtree.
    pub region: Option<String>,
    #[param(schema_with = crate::http::api::code::tier)]
    pub tier: Option<String>,
    #[param(schema_with = crate::http::api::code::station_status)]
    pub status: Option<String>,
    #[param(schema_with = crate::http::api::code::mode)]
    pub mode: Option<String>,
    /// Operator organisation id.
    pub operator: Option<String>,
    /// `region` (default), `name`, `readiness` or `updated`.
    #[param(schema_with = crate::http::api::code::station_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
    /// Counts after an import, shown once.
    #[serde(default)]
    #[param(ignore)]
    pub created: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub updated: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub unchanged: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub skipped: Option<usize>,
}

impl ListQuery {
    /// "导入完成：新增 3，更新 1，未变 5，跳过有误的 2 行" after an import.
    pub fn import_summary(&self, t: &Tr) -> Option<String> {
        let created = self.created?;
        let n = |v: Option<usize>| v.unwrap_or(0).to_string();
        Some(t.fmt(
            "import.summary",
            &[
                ("created", &created.to_string()),
                ("updated", &n(self.updated)),
                ("unchanged", &n(self.unchanged)),
                ("skipped", &n(self.skipped)),
            ],
        ))
    }

    fn filter(&self) -> Filter {
        Filter {
            q: self.q.clone(),
            region: self.region.clone(),
            tier: self.tier.clone(),
            status: self.status.clone(),
            mode: self.mode.clone(),
            operator: self.operator.clone(),
            sort: self.sort.clone(),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("q", v(&self.q)),
            ("region", v(&self.region)),
            ("tier", v(&self.tier)),
            ("status", v(&self.status)),
            ("mode", v(&self.mode)),
            ("operator", v(&self.operator)),
            ("sort", v(&self.sort)),
        ]
    }
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub region: String,
    pub tier: String,
    pub status: String,
    pub status_class: &'static str,
    pub mode: String,
    pub operator: String,
    pub staff: i64,
    pub readiness: i64,
}

pub fn status_class(s: &str) -> &'static str {
    match s {
        "operating" => "tag-ok",
        "planned" | "under_construction" => "tag-warn",
        "suspended" => "tag-bad",
        _ => "tag-muted",
    }
}

fn row(t: &Tr, s: &Station) -> Row {
    Row {
        id: s.id.clone(),
        name: s.name.clone(),
        region: s.display_path(),
        tier: t.get(&format!("station.tier.{}", s.tier)).to_owned(),
        status: t.get(&format!("station.status.{}", s.status)).to_owned(),
        status_class: status_class(&s.status),
        mode: t.get(&format!("station.mode.{}", s.mode)).to_owned(),
        operator: s.operator_name.clone().unwrap_or_default(),
        staff: s.staff_count,
        readiness: s.readiness_pct,
    }
}

#[derive(Template)]
#[template(path = "network/stations/list.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    choices: Choices,
    export_href: String,
    can_write: bool,
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        stations::list(
            &mut c,
            &u.scope(),
            &q.filter(),
            PageRequest::new(q.page, q.per_page),
        )
        .await?
    };
    let pairs = q.pairs();
    let title = t.get("menu.stations");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            t,
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: data.items.iter().map(|s| row(&t, s)).collect(),
            pager: pager(&t, &data, "/stations", &pairs),
            export_href: format!(
                "/stations/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            choices: choices(&state, &t, &u.scope()).await?,
            can_write: u.can(Permission::WriteData),
            q,
        },
    ))
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::Export)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        stations::list(
            &mut c,
            &u.scope(),
            &q.filter(),
            PageRequest {
                page: 1,
                per_page: excel::MAX_ROWS,
            },
        )
        .await?
    };
    let headers = [
        "station.name",
        "station.township",
        "region.path",
        "station.tier_label",
        "station.status_label",
        "station.status_since",
        "station.mode_label",
        "station.operator",
        "station.address",
        "station.host_premises",
        "station.area_m2",
        "station.rooms",
        "station.staff_count",
        "station.certified_count",
        "station.readiness",
        "station.phone",
        "station.lng",
        "station.lat",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|s| {
            let rooms = s
                .rooms
                .split(',')
                .filter(|r| !r.is_empty())
                .map(|r| t.get(&format!("station.room.{r}")).to_owned())
                .collect::<Vec<_>>()
                .join("、");
            let path: Vec<&str> = s.region_path.split('/').collect();
            vec![
                s.name.as_str().into(),
                path.last().copied().unwrap_or("").into(),
                s.display_path().into(),
                t.get(&format!("station.tier.{}", s.tier)).into(),
                t.get(&format!("station.status.{}", s.status)).into(),
                s.status_since.as_str().into(),
                t.get(&format!("station.mode.{}", s.mode)).into(),
                s.operator_name.clone().unwrap_or_default().into(),
                s.address.as_str().into(),
                s.host_premises.as_str().into(),
                s.area_m2.into(),
                rooms.into(),
                s.staff_count.into(),
                s.certified_count.into(),
                s.readiness_pct.into(),
                s.phone.as_str().into(),
                s.lng_e6.map(micro).unwrap_or_default().into(),
                s.lat_e6.map(micro).unwrap_or_default().into(),
            ]
        })
        .collect();
    excel::send(
        &state,
        &ctx,
        "station",
        "menu.stations",
        &headers,
        &rows,
        vec![],
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Form

#[derive(Template)]
#[template(path = "network/stations/form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    station: Option<Station>,
    f: FormData,
    errors: FormErrors,
    choices: Choices,
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    station: Option<Station>,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writer(ctx)?;
    let t = ctx.tr();
    let title = station
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_else(|| t.get("station.new").to_owned());
    let mut crumbs = vec![Crumb::link(t.get("menu.stations"), "/stations")];
    if let Some(s) = &station {
        crumbs.push(Crumb::link(s.name.clone(), format!("/stations/{}", s.id)));
        crumbs.push(Crumb::here(t.get("action.edit")));
    } else {
        crumbs.push(Crumb::here(title.clone()));
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(
        status,
        &FormPage {
            t,
            base: Base::new(ctx, title, crumbs),
            station,
            f,
            errors: FormErrors::new(t, errors),
            choices: choices(state, &t, &u.scope()).await?,
        },
    ))
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let f = FormData::new(vec![
        ("tier".into(), "township_station".into()),
        ("status".into(), "planned".into()),
        ("mode".into(), "purchase".into()),
        ("region".into(), u.user.region_code.clone()),
        ("status_since".into(), today(state.now())),
    ]);
    form_page(&state, &ctx, None, f, vec![]).await
}

/// Create a station with its audit entry (form, API and import).
pub async fn create_station(
    state: &AppState,
    ctx: &Ctx,
    input: &StationInput,
) -> WebResult<String> {
    let u = writer(ctx)?;
    let mut tx = state.db.begin().await?;
    let id = stations::create(&mut tx, &u.scope(), input, &u.user.username, state.now()).await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("create", "station", Some(id.clone()))
            .region(input.region.as_str())
            .changes(changes(None, input)),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Update a station with its audit entry (form, API and import).
pub async fn update_station(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: &StationInput,
) -> WebResult<()> {
    let u = writer(ctx)?;
    let mut tx = state.db.begin().await?;
    let before = stations::update(
        &mut tx,
        &u.scope(),
        id,
        input,
        &u.user.username,
        &today(state.now()),
        state.now(),
    )
    .await?;
    let diff = changes(Some(&before), input);
    if !diff.is_empty() {
        audit::record(
            &mut tx,
            state.db.backend(),
            &ctx.actor(),
            Event::new("update", "station", Some(id.to_owned()))
                .region(input.region.as_str())
                .changes(diff),
            state.now(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let input = match parse(&f) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &ctx, None, f, errors).await,
    };
    match create_station(&state, &ctx, &input).await {
        Ok(id) => Ok(
            Redirect::to(&format!("/stations/{id}?notice=notice.station_created")).into_response(),
        ),
        Err(WebError::Invalid(errors)) => form_page(&state, &ctx, None, f, errors).await,
        Err(e) => Err(e),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let s = {
        let mut c = state.db.read().await?;
        stations::get(&mut c, &u.scope(), &id).await?
    };
    let f = form_of(&s);
    form_page(&state, &ctx, Some(s), f, vec![]).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let s = {
        let mut c = state.db.read().await?;
        stations::get(&mut c, &u.scope(), &id).await?
    };
    let input = match parse(&f) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &ctx, Some(s), f, errors).await,
    };
    match update_station(&state, &ctx, &id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/stations/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => form_page(&state, &ctx, Some(s), f, errors).await,
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The station page

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

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let s = stations::get(&mut c, &scope, id).await?;
    let history = stations::status_history(&mut c, &scope, id).await?;
    let operators = stations::operator_history(&mut c, &scope, id).await?;
    let funding = stations::funding(&mut c, &scope, id)
        .await?
        .into_iter()
        .map(|f| {
            (
                f.year,
                t.get(&format!("station.source.{}", f.source)).to_owned(),
                format_yuan(f.amount_fen),
            )
        })
        .collect();
    let offered = stations::services(&mut c, &scope, id).await?;
    let services = stations::service_items_for(&mut c, &s.region_code)
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
        .collect();
    let done = indicators::assessments(&mut c, &scope, id).await?;
    let items = indicators::items_for(&mut c, &s.region_code)
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
        .collect();
    let reports = construction::reports(&mut c, &scope, id).await?;
    let visits = inspections::visits(
        &mut c,
        &scope,
        Some(id),
        None,
        PageRequest::new(Some(1), Some(50)),
    )
    .await?
    .items;
    let rects = inspections::rectifications(
        &mut c,
        &scope,
        &inspections::RectFilter {
            station_id: Some(id.to_owned()),
            ..Default::default()
        },
        &today(state.now()),
        PageRequest::new(Some(1), Some(100)),
    )
    .await?
    .items;
    let files = attachments::for_owner(&mut c, "station", id).await?;
    drop(c);
    let rooms = s
        .rooms
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| t.get(&format!("station.room.{r}")).to_owned())
        .collect::<Vec<_>>()
        .join("、");
    let today_s = today(state.now());
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
            rooms,
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
            this_month: today_s[..7].to_owned(),
            today: today_s,
            error: error.map(|e| {
                format!(
                    "{}: {}",
                    t.get(&format!("field.{}", e.field)),
                    t.get(e.code)
                )
            }),
            s,
        },
    ))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    detail(&state, &ctx, &id, q.notice.as_deref(), None).await
}

/// A station change with its audit entry; a field error shows the station page with the
/// message, success goes back to it with a notice.
async fn station_action<F>(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &'static str,
    f: F,
) -> WebResult<Response>
where
    F: for<'c> FnOnce(
            &'c mut shegong_store::Conn,
            Scope,
            String,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = shegong_store::StoreResult<Vec<Change>>>
                    + Send
                    + 'c,
            >,
        > + Send
        + 'static,
{
    let sid = id.to_owned();
    let failed =
        crate::http::write::audited(state, ctx, "station", action, move |conn, scope, by| {
            Box::pin(async move {
                let region = stations::get(conn, &scope, &sid).await?.region_code;
                let changes = f(conn, scope, by).await?;
                Ok(crate::http::write::Done {
                    entity_id: sid,
                    region: Some(region),
                    changes,
                })
            })
        })
        .await?;
    match failed {
        None => Ok(Redirect::to(&format!("/stations/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(state, ctx, id, None, Some(e)).await,
    }
}

pub async fn set_funding(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let year = c.int("year", f.get("year"), 2000, 2100, 0);
    let source = c.take(FundingSource::parse(f.get("source")));
    let amount = c.yuan("amount", f.get("amount"));
    if let Err(errors) = c.finish() {
        return detail(&state, &ctx, &id, None, errors.into_iter().next()).await;
    }
    let source = source.expect("checked");
    let now = state.now();
    let sid = id.clone();
    station_action(&state, &ctx, &id, "funding", move |conn, scope, _| {
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

pub async fn set_services(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let items = f.all("item");
    let sid = id.clone();
    station_action(&state, &ctx, &id, "services", move |conn, scope, _| {
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

pub async fn assess(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let item = f.get("item").to_owned();
    let met = f.get("met") == "1";
    let note = f.get("note").chars().take(500).collect::<String>();
    let (sid, today_s, now) = (id.clone(), today(state.now()), state.now());
    station_action(&state, &ctx, &id, "assess", move |conn, scope, by| {
        Box::pin(async move {
            let (before, pct) = indicators::assess(
                conn, &scope, &sid, &item, met, &note, None, &by, &today_s, now,
            )
            .await?;
            Ok(vec![
                Change::new(&format!("indicator.{item}"), before, Some(met)),
                Change::new("readiness_pct", None::<i64>, Some(pct)),
            ])
        })
    })
    .await
}

pub async fn report_progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let month = c.take(st::parse_month("month", f.get("month")));
    let pct = c.int("progress_pct", f.get("progress_pct"), 0, 100, 0);
    let milestones = c.opt_text("milestones", f.get("milestones"), 2000);
    let problems = c.opt_text("problems", f.get("problems"), 2000);
    if let Err(errors) = c.finish() {
        return detail(&state, &ctx, &id, None, errors.into_iter().next()).await;
    }
    let input = ReportInput {
        month: month.expect("checked"),
        progress_pct: pct,
        milestones,
        problems,
    };
    let (sid, now) = (id.clone(), state.now());
    station_action(&state, &ctx, &id, "progress", move |conn, scope, by| {
        Box::pin(async move {
            construction::report(conn, &scope, &sid, &input, &by, now).await?;
            Ok(vec![Change::new(
                &format!("progress.{}", input.month),
                None::<i64>,
                Some(input.progress_pct),
            )])
        })
    })
    .await
}

pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    ctx.user()?.require(Permission::Supervise)?;
    let (sid, today_s, now) = (id.clone(), today(state.now()), state.now());
    station_action(
        &state,
        &ctx,
        &id,
        "confirm_completion",
        move |conn, scope, by| {
            Box::pin(async move {
                let before =
                    stations::confirm_completion(conn, &scope, &sid, &by, &today_s, now).await?;
                Ok(vec![Change::new(
                    "status",
                    Some(before.status),
                    Some("operating"),
                )])
            })
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// API

/// A station as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct StationDto {
    pub id: String,
    /// `county_center`, `township_station` or `village_room`.
    pub tier: String,
    /// The region served (township code for a township station).
    pub region_code: String,
    pub region_path: Vec<String>,
    pub name: String,
    pub address: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub host_premises: String,
    /// `purchase` (government purchase of services) or `direct` (direct employment).
    pub mode: String,
    pub operator_org_id: Option<String>,
    pub operator_name: Option<String>,
    /// `planned`, `under_construction`, `operating`, `suspended` or `closed`.
    pub status: String,
    pub status_since: String,
    pub area_m2: i64,
    pub rooms: Vec<String>,
    pub staff_count: i64,
    pub certified_count: i64,
    pub phone: String,
    pub open_hours: String,
    /// Five-indicator readiness, percent.
    pub readiness_pct: i64,
    pub updated_at: String,
}

impl From<Station> for StationDto {
    fn from(s: Station) -> Self {
        StationDto {
            region_path: s.region_path.split('/').map(str::to_owned).collect(),
            rooms: s
                .rooms
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            lng: s.lng_e6.map(|v| v as f64 / 1e6),
            lat: s.lat_e6.map(|v| v as f64 / 1e6),
            updated_at: rfc3339(s.updated_at),
            id: s.id,
            tier: s.tier,
            region_code: s.region_code,
            name: s.name,
            address: s.address,
            host_premises: s.host_premises,
            mode: s.mode,
            operator_org_id: s.operator_org_id,
            operator_name: s.operator_name,
            status: s.status,
            status_since: s.status_since,
            area_m2: s.area_m2,
            staff_count: s.staff_count,
            certified_count: s.certified_count,
            phone: s.phone,
            open_hours: s.open_hours,
            readiness_pct: s.readiness_pct,
        }
    }
}

/// Creating or replacing a station (all fields; the same rules as the form).
#[derive(Deserialize, ToSchema)]
pub struct StationBody {
    #[schema(schema_with = crate::http::api::code::tier)]
    pub tier: String,
    /// The region served, at the tier's level (a township code for a township station).
    #[schema(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region_code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address: String,
    /// Longitude within China; given together with `lat`.
    #[schema(minimum = 73.0, maximum = 136.0)]
    pub lng: Option<f64>,
    #[schema(minimum = 3.0, maximum = 54.0)]
    pub lat: Option<f64>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub host_premises: String,
    /// `purchase` needs an operator.
    #[schema(schema_with = crate::http::api::code::mode)]
    pub mode: String,
    pub operator_org_id: Option<String>,
    #[schema(schema_with = crate::http::api::code::station_status)]
    pub status: String,
    #[schema(format = Date)]
    pub status_since: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub area_m2: i64,
    #[serde(default)]
    #[schema(schema_with = crate::http::api::code::rooms)]
    pub rooms: Vec<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub staff_count: i64,
    /// At most `staff_count`.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub certified_count: i64,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub open_hours: String,
}

impl StationBody {
    fn form(&self) -> FormData {
        let mut pairs: Vec<(String, String)> = vec![
            ("tier".into(), self.tier.clone()),
            ("region".into(), self.region_code.clone()),
            ("name".into(), self.name.clone()),
            ("address".into(), self.address.clone()),
            (
                "lng".into(),
                self.lng.map(|v| v.to_string()).unwrap_or_default(),
            ),
            (
                "lat".into(),
                self.lat.map(|v| v.to_string()).unwrap_or_default(),
            ),
            ("host_premises".into(), self.host_premises.clone()),
            ("mode".into(), self.mode.clone()),
            (
                "operator".into(),
                self.operator_org_id.clone().unwrap_or_default(),
            ),
            ("status".into(), self.status.clone()),
            ("status_since".into(), self.status_since.clone()),
            ("area_m2".into(), self.area_m2.to_string()),
            ("staff_count".into(), self.staff_count.to_string()),
            ("certified_count".into(), self.certified_count.to_string()),
            ("phone".into(), self.phone.clone()),
            ("open_hours".into(), self.open_hours.clone()),
        ];
        pairs.extend(self.rooms.iter().map(|r| ("rooms".to_owned(), r.clone())));
        FormData::new(pairs)
    }
}

#[derive(Serialize, ToSchema)]
pub struct StationPage {
    pub items: Vec<StationDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Stations within the caller's scope.
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations", params(ListQuery),
    responses((status = 200, body = StationPage), (status = 401, description = "Not signed in")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<StationPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = stations::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(StationPage {
        items: p.items.into_iter().map(Into::into).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// One station.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, body = StationDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<StationDto>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    Ok(Json(stations::get(&mut c, &u.scope(), &id).await?.into()))
}

/// Create a station.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", request_body = StationBody,
    responses((status = 201, body = StationDto), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<StationBody>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let input = parse(&body.form()).map_err(WebError::Invalid)?;
    let id = create_station(&state, &ctx, &input).await?;
    let mut c = state.db.read().await?;
    let dto: StationDto = stations::get(&mut c, &u.scope(), &id).await?.into();
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Replace a station's fields.
#[utoipa::path(put, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = String, Path)), request_body = StationBody,
    responses((status = 200, body = StationDto), (status = 404, description = "Unknown or outside the caller's scope"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<StationBody>,
) -> WebResult<Json<StationDto>> {
    let u = writer(&ctx)?;
    {
        let mut c = state.db.read().await?;
        stations::get(&mut c, &u.scope(), &id).await?;
    }
    let input = parse(&body.form()).map_err(WebError::Invalid)?;
    update_station(&state, &ctx, &id, &input).await?;
    let mut c = state.db.read().await?;
    Ok(Json(stations::get(&mut c, &u.scope(), &id).await?.into()))
}

/// A monthly progress report.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProgressDto {
    /// `YYYY-MM`
    #[schema(pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$")]
    pub month: String,
    #[schema(minimum = 0, maximum = 100)]
    pub progress_pct: i64,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub milestones: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub problems: String,
    #[serde(default)]
    pub reported_by: String,
    #[serde(default)]
    pub reported_at: String,
}

/// A station's monthly construction progress reports, newest first.
#[utoipa::path(get, path = "/api/v1/stations/{id}/progress", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ProgressDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<ProgressDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let reports = construction::reports(&mut c, &u.scope(), &id).await?;
    Ok(Json(
        reports
            .into_iter()
            .map(|r| ProgressDto {
                month: format!("{}-{:02}", r.month / 100, r.month % 100),
                progress_pct: r.progress_pct,
                milestones: r.milestones,
                problems: r.problems,
                reported_by: r.reported_by,
                reported_at: rfc3339(r.reported_at),
            })
            .collect(),
    ))
}

/// File (or correct) the report for a month.
#[utoipa::path(post, path = "/api/v1/stations/{id}/progress", tag = "stations", params(("id" = String, Path)), request_body = ProgressDto,
    responses((status = 201, description = "Filed"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<ProgressDto>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let mut c = Check::default();
    let month = c.take(st::parse_month("month", &body.month));
    if !(0..=100).contains(&body.progress_pct) {
        c.fail("progress_pct", "construction.progress_invalid");
    }
    // The same limits as the form.
    let milestones = c.opt_text("milestones", body.milestones.trim(), 2000);
    let problems = c.opt_text("problems", body.problems.trim(), 2000);
    c.finish().map_err(WebError::Invalid)?;
    let Some(month) = month else {
        return Err(WebError::Invalid(vec![FieldError::new(
            "month",
            "date.invalid_month",
        )]));
    };
    let input = ReportInput {
        month,
        progress_pct: body.progress_pct,
        milestones,
        problems,
    };
    let mut tx = state.db.begin().await?;
    let region = stations::get(&mut tx, &u.scope(), &id).await?.region_code;
    construction::report(
        &mut tx,
        &u.scope(),
        &id,
        &input,
        &u.user.username,
        state.now(),
    )
    .await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("progress", "station", Some(id.clone()))
            .region(region)
            .changes(vec![Change::new(
                &format!("progress.{}", input.month),
                None::<i64>,
                Some(input.progress_pct),
            )]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::CREATED.into_response())
}
