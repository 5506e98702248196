//! Stations, the registry: the scoped list with filters and Excel export, the form (with the
//! region picker), creating and updating with their audit entries, and the one parser the form,
//! the API (`stations_api.rs`) and the import share, so their validation messages are the same.
//! The station page and its changes are in `station_page.rs`, progress in `station_progress.rs`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::network::station::{self as st, FundingSource, Mode, Room, Status, Tier};
use shegong_domain::{FieldError, Permission, Scope};
use shegong_store::admin::audit::{self, Change};
use shegong_store::network::stations::{self, Filter, Station, StationInput};
use shegong_store::{PageRequest, network::orgs};
use utoipa::IntoParams;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, pager};

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
    let checked = c.finish();
    // `Check` has recorded an error for each field that did not parse, so `checked` is an
    // error whenever one of these is missing.
    let (Ok(()), Some(tier), Some(region), Some(mode), Some(status)) =
        (&checked, tier, region, mode, status)
    else {
        return Err(checked.err().unwrap_or_default());
    };
    Ok(StationInput {
        tier,
        region,
        name,
        address,
        lng_e6: lng,
        lat_e6: lat,
        host_premises: host,
        mode,
        operator_org_id: operator,
        status,
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
        ("tier".into(), s.tier.to_string()),
        ("region".into(), s.region_code.clone()),
        ("name".into(), s.name.clone()),
        ("address".into(), s.address.clone()),
        ("lng".into(), s.lng_e6.map(micro).unwrap_or_default()),
        ("lat".into(), s.lat_e6.map(micro).unwrap_or_default()),
        ("host_premises".into(), s.host_premises.clone()),
        ("mode".into(), s.mode.to_string()),
        (
            "operator".into(),
            s.operator_org_id.clone().unwrap_or_default(),
        ),
        ("status".into(), s.status.to_string()),
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

/// The station's rooms, translated and joined.
pub fn room_labels(t: &Tr, rooms: &str) -> String {
    rooms
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| t.get(&format!("station.room.{r}")).to_owned())
        .collect::<Vec<_>>()
        .join("、")
}

/// Micro-degrees as decimal degrees, six places.
pub fn micro(v: i64) -> String {
    format!("{:.6}", v as f64 / 1_000_000.0)
}

/// Field-by-field changes for the audit log.
fn changes(before: Option<&Station>, after: &StationInput) -> Vec<Change> {
    let b = |f: fn(&Station) -> String| before.map(f);
    audit::diff(&[
        (
            "tier",
            b(|s| s.tier.to_string()),
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
            b(|s| s.mode.to_string()),
            Some(after.mode.as_str().into()),
        ),
        (
            "operator",
            before.map(|s| s.operator_org_id.clone().unwrap_or_default()),
            Some(after.operator_org_id.clone().unwrap_or_default()),
        ),
        (
            "status",
            b(|s| s.status.to_string()),
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

pub(super) async fn choices(state: &AppState, t: &Tr, scope: &Scope) -> WebResult<Choices> {
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
    /// Order: `region` (default), `name`, `tier`, `status`, `staff` (most first), `readiness`
    /// (highest first) or `updated` (latest first); `-` before it reverses the order. Any other
    /// value is the default order.
    #[param(schema_with = crate::http::api::code::station_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these stations (comma-separated ids of a batch selection, at most 200).
    #[serde(default)]
    #[param(ignore)]
    pub ids: Option<String>,
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

    pub(super) fn filter(&self) -> Filter {
        Filter {
            q: self.q.clone(),
            region: self.region.clone(),
            tier: self.tier.clone(),
            status: self.status.clone(),
            mode: self.mode.clone(),
            operator: self.operator.clone(),
            sort: shegong_store::Sort::parse(self.sort.as_deref(), stations::SORTS),
            ids: None,
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.filter().sort, self.per_page);
        vec![
            ("q", v(&self.q)),
            ("region", v(&self.region)),
            ("tier", v(&self.tier)),
            ("status", v(&self.status)),
            ("mode", v(&self.mode)),
            ("operator", v(&self.operator)),
            sort,
            size,
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

pub(super) fn row(t: &Tr, s: &Station) -> Row {
    Row {
        id: s.id.clone(),
        name: s.name.clone(),
        region: s.display_path(),
        tier: t.get(&format!("station.tier.{}", s.tier)).to_owned(),
        status: t.get(&format!("station.status.{}", s.status)).to_owned(),
        status_class: status_class(s.status.as_str()),
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
    can_export: bool,
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
            PageRequest::sized(q.page, q.per_page),
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
            pager: pager(&t, &data, "/stations", &pairs)?,
            export_href: format!(
                "/stations/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            choices: choices(&state, &t, &u.scope()).await?,
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            q,
        },
    ))
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "station", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let filter = Filter {
        ids: crate::ui::list::batch_ids(q.ids.as_deref())?,
        ..q.filter()
    };
    let data = {
        let mut c = state.db.read().await?;
        stations::list(
            &mut c,
            &u.scope(),
            &filter,
            PageRequest {
                page: 1,
                per_page: excel::MAX_ROWS,
            },
        )
        .await?
    };
    crate::ui::list::check_batch(
        crate::ui::list::batch_ids(q.ids.as_deref())?.as_ref(),
        data.items.len(),
    )?;
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
            let rooms = room_labels(&t, &s.rooms);
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
    export
        .send(&state, &ctx, "menu.stations", &headers, &rows, vec![])
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
    let status = form_status(&errors);
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
    let (input, now) = (input.clone(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("station", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = stations::create(conn, &scope, &input, &by, now).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.as_str().to_owned()),
                    changes: changes(None, &input),
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Update a station with its audit entry, filed only when something changed (form, API and
/// import).
pub async fn update_station(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: &StationInput,
) -> WebResult<()> {
    let (id, input, now) = (id.to_owned(), input.clone(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("station", "update").only_if_changed(),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before =
                    stations::update(conn, &scope, &id, &input, &by, &today(now), now).await?;
                let done = Done {
                    changes: changes(Some(&before), &input),
                    entity_id: id,
                    region: Some(input.region.as_str().to_owned()),
                };
                Ok((done, ()))
            })
        },
    )
    .await
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
