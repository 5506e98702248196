//! Inspection (督查): plans, the visit form (checklist results, findings, GPS, rectifications),
//! rectifications followed through submission, verification and closure, and
//! `/api/v1/inspections`. Open and overdue rectifications show up the tree on the coverage page.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::network::station::Rectification;
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::network::inspections::{
    self, Plan, PlanInput, Rect, RectFilter, Visit, VisitInput,
};
use shegong_store::{PageRequest, network::indicators, network::stations};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited, audited_id};
use crate::network::inspection_check::{
    PlanFields, RectRowFields, VisitFields, check_plan, check_visit,
};
use crate::network::stations::micro;
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;
use crate::ui::list::{FormErrors, Pager, local_time, pager, rfc3339};
use shegong_store::network::attachments::Listed;

pub(crate) fn supervisor(ctx: &Ctx) -> WebResult<&crate::http::auth::CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::Supervise)?;
    Ok(u)
}

#[derive(Deserialize, Default)]
pub struct HomeQuery {
    /// `open`, `overdue`, or a rectification status.
    state: Option<String>,
    region: Option<String>,
    /// `deadline`, `status` or `updated` (`-` for descending).
    sort: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "network/inspections/index.html")]
struct IndexPage {
    t: Tr,
    base: Base,
    plans: Vec<Plan>,
    rects: Vec<Rect>,
    pager: Pager,
    state: String,
    region: String,
    today: String,
    visits: Vec<Visit>,
    can_supervise: bool,
    errors: FormErrors,
    f: FormData,
}

async fn index(
    state: &AppState,
    ctx: &Ctx,
    q: HomeQuery,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let today_s = today(state.now());
    let filter = RectFilter {
        station_id: None,
        state: Some(q.state.clone().unwrap_or_else(|| "open".into())),
        region: q.region.clone(),
        due_before: None,
        sort: shegong_store::Sort::parse(q.sort.as_deref(), inspections::RECT_SORTS),
    };
    let mut c = state.db.read().await?;
    let plans = inspections::plans(&mut c, &scope).await?;
    let data = inspections::rectifications(
        &mut c,
        &scope,
        &filter,
        &today_s,
        PageRequest::sized(q.page, Some(q.per_page.unwrap_or(50))),
    )
    .await?;
    let visits = inspections::visits(
        &mut c,
        &scope,
        None,
        None,
        PageRequest::new(Some(1), Some(20)),
    )
    .await?
    .items;
    drop(c);
    let state_s = filter.state.clone().unwrap_or_default();
    let [sort, size] = crate::ui::list::table_pairs(filter.sort, q.per_page);
    let pairs = vec![
        ("state", state_s.clone()),
        ("region", q.region.clone().unwrap_or_default()),
        sort,
        size,
    ];
    let title = t.get("menu.inspections");
    let status = form_status(&errors);
    Ok(page(
        status,
        &IndexPage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            plans,
            pager: pager(&t, &data, "/inspections", &pairs)?,
            rects: data.items,
            state: state_s,
            region: q.region.unwrap_or_default(),
            today: today_s,
            visits,
            can_supervise: u.can(Permission::Supervise),
            errors: FormErrors::new(t, errors),
            f,
        },
    ))
}

pub async fn page_index(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HomeQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let f = FormData::new(vec![("region".into(), u.user.region_code.clone())]);
    index(&state, &ctx, q, f, vec![]).await
}

pub async fn create_plan(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    supervisor(&ctx)?;
    let checked = check_plan(&PlanFields {
        region: f.get("region"),
        title: f.get("title"),
        starts_on: f.get("starts_on"),
        ends_on: f.get("ends_on"),
        notes: f.get("notes"),
    });
    let input = match checked {
        Ok(input) => input,
        Err(errors) => return index(&state, &ctx, HomeQuery::default(), f, errors).await,
    };
    match save_plan(&state, &ctx, input).await? {
        Ok(_) => Ok(Redirect::to("/inspections?notice=notice.saved").into_response()),
        Err(e) => index(&state, &ctx, HomeQuery::default(), f, vec![e]).await,
    }
}

/// Create a plan (checked by `check_plan`), audited; the plan's id or the store's field error.
/// The one write the form and the API share.
pub(crate) async fn save_plan(
    state: &AppState,
    ctx: &Ctx,
    input: PlanInput,
) -> WebResult<Result<String, FieldError>> {
    supervisor(ctx)?;
    let now = state.now();
    audited_id(
        state,
        ctx,
        "inspection_plan",
        "create",
        move |conn, scope, by| {
            Box::pin(async move {
                let id = inspections::create_plan(conn, &scope, &input, &by, now).await?;
                Ok(Done {
                    entity_id: id,
                    region: Some(input.region),
                    changes: vec![Change::new("title", None::<String>, Some(&input.title))],
                })
            })
        },
    )
    .await
}

pub struct ResultRow {
    pub id: String,
    pub category: String,
    pub name: String,
    pub requirement: String,
    /// As entered: `1` met, `0` not met, empty unassessed (kept when the form comes back).
    pub met: String,
    pub note: String,
}

/// One of the three rectification rows of the visit form, as entered, with its errors.
pub struct RectRow {
    pub n: usize,
    pub desc: String,
    pub owner: String,
    pub deadline: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "network/inspections/visit_form.html")]
struct VisitForm {
    t: Tr,
    base: Base,
    station: stations::Station,
    plans: Vec<Plan>,
    items: Vec<ResultRow>,
    rects: Vec<RectRow>,
    f: FormData,
    errors: FormErrors,
}

/// The rectification rows as entered, each with the first error about it, labelled with its row.
fn rect_rows(t: Tr, f: &FormData, errors: &[FieldError]) -> Vec<RectRow> {
    (1..=RECT_ROWS)
        .map(|n| {
            let error = ["desc", "owner", "deadline"].iter().find_map(|part| {
                let field = inspections::rect_field(part, n);
                errors
                    .iter()
                    .find(|e| e.field == field)
                    .map(|e| format!("{}: {}", t.get(&format!("field.{field}")), t.get(e.code)))
            });
            RectRow {
                n,
                desc: f.get(&format!("rect_desc_{n}")).to_owned(),
                owner: f.get(&format!("rect_owner_{n}")).to_owned(),
                deadline: f.get(&format!("rect_deadline_{n}")).to_owned(),
                error,
            }
        })
        .collect()
}

const RECT_ROWS: usize = 3;

#[derive(Deserialize)]
pub struct StationQuery {
    station: String,
}

async fn visit_form(
    state: &AppState,
    ctx: &Ctx,
    station_id: &str,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = supervisor(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let station = stations::get(&mut c, &scope, station_id).await?;
    let plans = inspections::plans(&mut c, &scope).await?;
    let items = indicators::items_for(&mut c, &station.region_code)
        .await?
        .into_iter()
        .map(|i| ResultRow {
            category: t
                .get(&format!("indicator.category.{}", i.category))
                .to_owned(),
            met: f.get(&format!("met_{}", i.id)).to_owned(),
            note: f.get(&format!("note_{}", i.id)).to_owned(),
            id: i.id,
            name: i.name,
            requirement: i.requirement,
        })
        .collect();
    drop(c);
    let status = form_status(&errors);
    let title = t.get("inspection.record_visit");
    let rects = rect_rows(t, &f, &errors);
    Ok(page(
        status,
        &VisitForm {
            t,
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.inspections"), "/inspections"),
                    Crumb::link(station.name.clone(), format!("/stations/{}", station.id)),
                    Crumb::here(title),
                ],
            ),
            station,
            plans,
            items,
            rects,
            f,
            errors: FormErrors::new(t, errors),
        },
    ))
}

pub async fn new_visit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StationQuery>,
) -> WebResult<Response> {
    let u = supervisor(&ctx)?;
    let f = FormData::new(vec![
        ("visited_on".into(), today(state.now())),
        ("inspector".into(), u.user.display_name.clone()),
    ]);
    visit_form(&state, &ctx, &q.station, f, vec![]).await
}

/// The visit form as entered: results are `met_<item>` = 1/0 with `note_<item>`; up to three
/// rectifications `rect_desc_N`, `rect_owner_N`, `rect_deadline_N` (blank rows left out).
fn visit_fields(f: &FormData, items: &[String]) -> VisitFields {
    let results = items
        .iter()
        .filter(|i| !f.get(&format!("met_{i}")).is_empty())
        .map(|i| {
            (
                i.clone(),
                f.get(&format!("met_{i}")) == "1",
                f.get(&format!("note_{i}")).to_owned(),
            )
        })
        .collect();
    let rects = (1..=RECT_ROWS)
        .map(|n| RectRowFields {
            n,
            description: f.get(&format!("rect_desc_{n}")).to_owned(),
            owner: f.get(&format!("rect_owner_{n}")).to_owned(),
            deadline: f.get(&format!("rect_deadline_{n}")).to_owned(),
        })
        .filter(|r| {
            !(r.description.trim().is_empty()
                && r.owner.trim().is_empty()
                && r.deadline.trim().is_empty())
        })
        .collect();
    VisitFields {
        plan: f.get("plan").to_owned(),
        station: f.get("station").to_owned(),
        visited_on: f.get("visited_on").to_owned(),
        inspector: f.get("inspector").to_owned(),
        findings: f.get("findings").to_owned(),
        lng: f.get("lng").to_owned(),
        lat: f.get("lat").to_owned(),
        results,
        rects,
    }
}

/// The checklist items of a station's region (the station in the caller's scope).
pub(crate) async fn checklist_of(
    state: &AppState,
    scope: &shegong_domain::Scope,
    station_id: &str,
) -> WebResult<Vec<String>> {
    let mut c = state.db.read().await?;
    let st = stations::get(&mut c, scope, station_id).await?;
    Ok(indicators::items_for(&mut c, &st.region_code)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect())
}

pub async fn create_visit(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = supervisor(&ctx)?;
    let station_id = f.get("station").to_owned();
    let items = checklist_of(&state, &u.scope(), &station_id).await?;
    let input = match check_visit(visit_fields(&f, &items), &items) {
        Ok(i) => i,
        Err(errors) => return visit_form(&state, &ctx, &station_id, f, errors).await,
    };
    match save_visit(&state, &ctx, input).await? {
        Ok(id) => Ok(
            Redirect::to(&format!("/inspections/visits/{id}?notice=notice.saved")).into_response(),
        ),
        Err(e) => visit_form(&state, &ctx, &station_id, f, vec![e]).await,
    }
}

/// Record a visit (checked by `check_visit`) with its rectifications, audited; the visit's id
/// or the store's field error. The one write the form and the API share.
pub(crate) async fn save_visit(
    state: &AppState,
    ctx: &Ctx,
    input: VisitInput,
) -> WebResult<Result<String, FieldError>> {
    supervisor(ctx)?;
    let now = state.now();
    audited_id(
        state,
        ctx,
        "inspection_visit",
        "create",
        move |conn, scope, by| {
            Box::pin(async move {
                let id = inspections::record_visit(conn, &scope, &input, &by, now).await?;
                let sid = input.station_id.clone();
                let region = stations::get(conn, &scope, &sid).await?.region_code;
                Ok(Done {
                    entity_id: id,
                    region: Some(region),
                    changes: vec![
                        Change::new("station", None::<String>, Some(&sid)),
                        Change::new("visited_on", None::<String>, Some(&input.visited_on)),
                        Change::new(
                            "rectifications",
                            None::<String>,
                            Some(input.rectifications.len()),
                        ),
                    ],
                })
            })
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "network/inspections/visit.html")]
struct VisitPage {
    t: Tr,
    base: Base,
    v: Visit,
    results: Vec<inspections::Result_>,
    rects: Vec<Rect>,
    today: String,
    gps: String,
    can_void: bool,
    voided_at: String,
    f: FormData,
    errors: FormErrors,
}

pub async fn visit_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    show_visit(
        &state,
        &ctx,
        &id,
        q.notice.as_deref(),
        FormData::default(),
        vec![],
    )
    .await
}

/// The rectifications recorded by one visit.
async fn visit_rects(
    c: &mut shegong_store::Conn,
    scope: &shegong_domain::Scope,
    v: &Visit,
    today_s: &str,
) -> WebResult<Vec<Rect>> {
    Ok(inspections::rectifications(
        c,
        scope,
        &RectFilter {
            station_id: Some(v.station_id.clone()),
            ..Default::default()
        },
        today_s,
        PageRequest::new(Some(1), Some(200)),
    )
    .await?
    .items
    .into_iter()
    .filter(|r| r.visit_id == v.id)
    .collect())
}

async fn show_visit(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let today_s = today(state.now());
    let mut c = state.db.read().await?;
    let v = inspections::visit(&mut c, &scope, id).await?;
    let results = inspections::visit_results(&mut c, &scope, id).await?;
    let rects = visit_rects(&mut c, &scope, &v, &today_s).await?;
    drop(c);
    let gps = match (v.lng_e6, v.lat_e6) {
        (Some(lng), Some(lat)) => format!("{}, {}", micro(lng), micro(lat)),
        _ => "—".into(),
    };
    let title = format!("{} · {}", v.station_name, v.visited_on);
    Ok(page(
        form_status(&errors),
        &VisitPage {
            t,
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.inspections"), "/inspections"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            can_void: u.can(Permission::Supervise) && v.voided_at.is_none(),
            voided_at: v.voided_at.map(local_time).unwrap_or_default(),
            v,
            results,
            rects,
            today: today_s,
            gps,
            f,
            errors: FormErrors::new(t, errors),
        },
    ))
}

/// Void the visit (recorded in error), audited with the reason. The one write the form and the
/// API share.
async fn void(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    reason: &str,
) -> WebResult<Option<FieldError>> {
    supervisor(ctx)?;
    let (vid, reason, now) = (id.to_owned(), reason.to_owned(), state.now());
    audited(
        state,
        ctx,
        "inspection_visit",
        "void",
        move |conn, scope, by| {
            Box::pin(async move {
                let before = inspections::void_visit(conn, &scope, &vid, &reason, &by, now).await?;
                Ok(Done {
                    entity_id: vid,
                    region: Some(before.region_code),
                    changes: vec![
                        Change::new("station", None::<String>, Some(&before.station_name)),
                        Change::new("visited_on", None::<String>, Some(&before.visited_on)),
                        Change::new("reason", None::<String>, Some(reason.trim())),
                    ],
                })
            })
        },
    )
    .await
}

pub async fn void_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    match void(&state, &ctx, &id, f.get("reason")).await? {
        None => Ok(
            Redirect::to(&format!("/inspections/visits/{id}?notice=notice.saved")).into_response(),
        ),
        Some(e) => show_visit(&state, &ctx, &id, None, f, vec![e]).await,
    }
}

#[derive(Template)]
#[template(path = "network/inspections/rectification.html")]
struct RectPage {
    t: Tr,
    base: Base,
    r: Rect,
    /// Its steps: when, who (by name), from → to, note.
    history: Vec<(String, String, String, String, String)>,
    /// Its evidence: the file, who uploaded it (by name), when, its size.
    files: Vec<EvidenceRow>,
    today: String,
    can_respond: bool,
    can_supervise: bool,
    /// Evidence may be added (a writer, the rectification neither closed nor voided).
    can_upload: bool,
    error: Option<String>,
}

/// One evidence file as the rectification page lists it.
pub struct EvidenceRow {
    pub id: String,
    pub filename: String,
    pub uploader: String,
    pub at: String,
    pub size: String,
}

impl RectPage {
    /// Who verified it, by name (the account name when the account is gone).
    fn verifier(&self) -> &str {
        self.r
            .verifier_name
            .as_deref()
            .or(self.r.verified_by.as_deref())
            .unwrap_or("—")
    }

    fn status_label(&self) -> String {
        self.t
            .get(&format!("rectification.status.{}", self.r.status))
            .to_owned()
    }
}

/// A file size as people read it: "12 KB", "1.5 MB" (at least 1 KB).
pub(crate) fn size_label(t: &Tr, bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        let tenths = (bytes * 10 + 512 * 1024) / (1024 * 1024);
        format!("{}.{} MB", t.num(tenths / 10), tenths % 10)
    } else {
        format!("{} KB", t.num(((bytes + 1023) / 1024).max(1)))
    }
}

fn evidence_rows(t: &Tr, files: Vec<Listed>) -> Vec<EvidenceRow> {
    files
        .into_iter()
        .map(|f| EvidenceRow {
            at: t.datetime(f.a.created_at),
            size: size_label(t, f.a.size),
            uploader: f.uploader_name.unwrap_or(f.a.created_by),
            filename: f.a.filename,
            id: f.a.id,
        })
        .collect()
}

/// The rectification page; `error` (already worded) with a 422.
pub(crate) async fn rect_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<String>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (r, events, files) = {
        let mut c = state.db.read().await?;
        let r = inspections::rectification(&mut c, &u.scope(), id).await?;
        let events = inspections::rectification_history(&mut c, &u.scope(), id).await?;
        let files = inspections::evidence(&mut c, &u.scope(), id).await?;
        (r, events, files)
    };
    let status = |s: &str| t.get(&format!("rectification.status.{s}")).to_owned();
    let history = events
        .into_iter()
        .map(|e| {
            (
                t.datetime(e.at),
                e.by_name.unwrap_or(e.by_user),
                status(&e.from_status),
                status(&e.to_status),
                e.note,
            )
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &RectPage {
            t,
            base: Base::new(
                ctx,
                r.description.clone(),
                vec![
                    Crumb::link(t.get("menu.inspections"), "/inspections"),
                    Crumb::link(
                        r.station_name.clone(),
                        format!("/stations/{}", r.station_id),
                    ),
                    Crumb::here(t.get("rectification.title")),
                ],
            )
            .with_notice(&t, notice),
            can_respond: u.can(Permission::WriteData),
            can_supervise: u.can(Permission::Supervise),
            can_upload: u.can(Permission::WriteData)
                && r.voided_at.is_none()
                && r.status != Rectification::Closed.as_str(),
            history,
            files: evidence_rows(&t, files),
            today: today(state.now()),
            error,
            r,
        },
    ))
}

pub async fn rectification_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    rect_page(&state, &ctx, &id, q.notice.as_deref(), None).await
}

pub async fn advance(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    match advance_rect(&state, &ctx, &id, f.get("to"), f.get("response")).await? {
        None => Ok(Redirect::to(&format!(
            "/inspections/rectifications/{id}?notice=notice.saved"
        ))
        .into_response()),
        Some(e) => {
            let t = ctx.tr();
            let message = format!(
                "{}: {}",
                t.get(&format!("field.{}", e.field)),
                t.get(e.code)
            );
            rect_page(&state, &ctx, &id, None, Some(message)).await
        }
    }
}

/// Move rectification `id` to status `to` with `response` (required to submit, at most 2,000
/// characters), audited. The station side (writing permission) submits; the supervising side
/// verifies, returns and closes. The one write the page and the API share.
pub(crate) async fn advance_rect(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    to: &str,
    response: &str,
) -> WebResult<Option<FieldError>> {
    let u = reader(ctx)?;
    let next = match Rectification::parse(to) {
        Ok(n) => n,
        Err(e) => return Ok(Some(e)),
    };
    let needed = if next == Rectification::Submitted {
        Permission::WriteData
    } else {
        Permission::Supervise
    };
    u.require(needed)?;
    let mut c = Check::default();
    let response = c.opt_text("response", response, 2000);
    if let Err(mut e) = c.finish() {
        return Ok(e.pop());
    }
    let (rid, now) = (id.to_owned(), state.now());
    audited(
        state,
        ctx,
        "rectification",
        "advance",
        move |conn, scope, by| {
            Box::pin(async move {
                let before =
                    inspections::advance(conn, &scope, &rid, next, &response, &by, now).await?;
                Ok(Done {
                    entity_id: rid,
                    region: Some(before.region_code),
                    changes: vec![Change::new(
                        "status",
                        Some(&before.status),
                        Some(next.as_str()),
                    )],
                })
            })
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// API

#[derive(Deserialize, IntoParams, Default)]
pub struct ApiQuery {
    /// Only this station's inspections.
    pub station: Option<String>,
    /// Only this plan's inspections.
    pub plan: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RectificationDto {
    pub id: String,
    pub description: String,
    pub owner: String,
    /// `YYYY-MM-DD`
    pub deadline: String,
    /// `open`, `submitted`, `verified` or `closed`.
    pub status: String,
    pub overdue: bool,
    pub response: String,
}

/// An inspection visit as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct InspectionDto {
    pub id: String,
    pub plan_id: Option<String>,
    pub station_id: String,
    pub station_name: String,
    pub region_code: String,
    pub visited_on: String,
    pub inspector: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub findings: String,
    pub items_met: i64,
    pub items_checked: i64,
    pub rectifications: Vec<RectificationDto>,
    pub recorded_at: String,
    /// Voided (recorded in error); it stays on file with the reason.
    pub voided: bool,
    pub voided_at: Option<String>,
    pub void_reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct InspectionPage {
    pub items: Vec<InspectionDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Inspection visits within the caller's scope, newest first, with their rectifications.
#[utoipa::path(get, path = "/api/v1/inspections", tag = "stations", params(ApiQuery),
    responses((status = 200, body = InspectionPage), (status = 401, description = "Not signed in")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ApiQuery>,
) -> WebResult<Json<InspectionPage>> {
    let u = reader(&ctx)?;
    let scope = u.scope();
    let today_s = today(state.now());
    let mut c = state.db.read().await?;
    let p = inspections::visits(
        &mut c,
        &scope,
        q.station.as_deref(),
        q.plan.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    let mut items = Vec::new();
    for v in p.items {
        items.push(inspection_dto(&mut c, &scope, v, &today_s).await?);
    }
    Ok(Json(InspectionPage {
        items,
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// Why an inspection is voided.
#[derive(Deserialize, ToSchema)]
pub struct InspectionVoidBody {
    /// Required, at most 500 characters.
    pub reason: String,
}

/// Void an inspection recorded in error (督查记录作废): it stays on file marked voided with the
/// reason, its rectifications leave the open and overdue counts; audited. Needs the supervising
/// permission; returns the inspection.
#[utoipa::path(post, path = "/api/v1/inspections/{id}/void", tag = "stations", params(("id" = String, Path)),
    request_body = InspectionVoidBody,
    responses((status = 200, body = InspectionDto), (status = 404, description = "Unknown inspection or outside the caller's scope"),
        (status = 422, description = "No reason, or already voided (field `reason`)")))]
pub async fn api_void(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<InspectionVoidBody>,
) -> WebResult<Json<InspectionDto>> {
    if let Some(e) = void(&state, &ctx, &id, &body.reason).await? {
        return Err(e.into());
    }
    let u = reader(&ctx)?;
    let scope = u.scope();
    let today_s = today(state.now());
    let mut c = state.db.read().await?;
    let v = inspections::visit(&mut c, &scope, &id).await?;
    Ok(Json(inspection_dto(&mut c, &scope, v, &today_s).await?))
}

pub(crate) async fn inspection_dto(
    c: &mut shegong_store::Conn,
    scope: &shegong_domain::Scope,
    v: Visit,
    today_s: &str,
) -> WebResult<InspectionDto> {
    let rects = visit_rects(c, scope, &v, today_s)
        .await?
        .into_iter()
        .map(|r| RectificationDto {
            overdue: r.is_overdue(today_s),
            id: r.id,
            description: r.description,
            owner: r.owner,
            deadline: r.deadline,
            status: r.status,
            response: r.response,
        })
        .collect();
    Ok(InspectionDto {
        voided: v.voided_at.is_some(),
        voided_at: v.voided_at.map(rfc3339),
        void_reason: v.void_reason,
        lng: v.lng_e6.map(|x| x as f64 / 1e6),
        lat: v.lat_e6.map(|x| x as f64 / 1e6),
        recorded_at: rfc3339(v.created_at),
        rectifications: rects,
        id: v.id,
        plan_id: v.plan_id,
        station_id: v.station_id,
        station_name: v.station_name,
        region_code: v.region_code,
        visited_on: v.visited_on,
        inspector: v.inspector,
        findings: v.findings,
        items_met: v.met_count,
        items_checked: v.item_count,
    })
}

// ---------------------------------------------------------------------------------------------
// Print

#[derive(Template)]
#[template(path = "network/inspections/print.html")]
struct VisitSheet {
    t: Tr,
    base: Base,
    sheet: crate::ui::print::Sheet,
    error: Option<String>,
    v: Visit,
    results: Vec<inspections::Result_>,
    rects: Vec<Rect>,
    voided_at: String,
}

/// The inspection record to print and sign (A4): the visit, its checklist and rectifications.
pub async fn print_visit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let today_s = today(state.now());
    let mut c = state.db.read().await?;
    let v = inspections::visit(&mut c, &scope, &id).await?;
    let results = inspections::visit_results(&mut c, &scope, &id).await?;
    let rects = visit_rects(&mut c, &scope, &v, &today_s).await?;
    drop(c);
    let sheet = crate::ui::print::Sheet::new(
        &t,
        &ctx,
        state.now(),
        (
            v.station_name.clone(),
            v.id.clone(),
            format!("/inspections/visits/{id}"),
        ),
        &[
            "print.sign_inspector",
            "print.sign_station",
            "print.sign_unit",
        ],
    );
    Ok(page(
        StatusCode::OK,
        &VisitSheet {
            base: Base::new(&ctx, t.get("print.inspection_title"), vec![]),
            sheet,
            error: None,
            voided_at: v.voided_at.map(local_time).unwrap_or_default(),
            v,
            results,
            rects,
            t,
        },
    ))
}
