//! Volunteer activities (`/volunteer-activities`, `/api/v1/activities`): a station publishes an
//! activity (a risky one only with its insurance reference), signs volunteers up within the quota,
//! and signs them in and out — or shows a QR code they scan (`checkin`). Each sign-out becomes a
//! pending hour record (`hours`). Every change audited; out of scope is not found.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shegong_domain::volunteers::activities::{ActivityStatus, SignInMethod};
use shegong_domain::{FieldError, Permission};
use shegong_store::PageRequest;
use shegong_store::admin::audit::Change;
use shegong_store::volunteers::activities::{
    self as act, Activity, ActivityInput, AttendanceRow, Filter, Mark, SignUp,
};
use shegong_store::volunteers::registry;
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, local_input, local_time, pager, rfc3339};

#[derive(Deserialize, IntoParams, Default)]
pub struct ActivityQuery {
    /// Name or address contains.
    pub q: Option<String>,
    /// `draft`, `open`, `closed` or `cancelled`.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ActivityQuery {
    fn filter(&self) -> Result<Filter, FieldError> {
        if self.q.as_ref().is_some_and(|x| x.chars().count() > 100) {
            return Err(FieldError::new("q", "form.too_long"));
        }
        Ok(Filter {
            q: self.q.clone(),
            status: match self.status.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(s) => Some(ActivityStatus::parse(s)?),
            },
            station_id: None,
        })
    }
}

/// Parse the activity form (or API body in its shape); every refused field named.
pub fn parse(f: &FormData) -> Result<ActivityInput, Vec<FieldError>> {
    let mut c = Check::default();
    let name = c.name("name", f.get("name").trim(), 100);
    let station_id = c.text("station", f.get("station").trim(), 64);
    let team_id = c.opt_text("team", f.get("team").trim(), 64);
    let starts_at = c.datetime("starts_at", f.get("starts_at"));
    let ends_at = c.datetime("ends_at", f.get("ends_at"));
    let address = c.text("address", f.get("address").trim(), 200);
    let recipients = c.opt_text("recipients", f.get("recipients").trim(), 200);
    let content = c.opt_text("content", f.get("content").trim(), 2000);
    let requirements = c.opt_text("requirements", f.get("requirements").trim(), 1000);
    let quota = c.int("quota", f.get("quota").trim(), 1, 10_000, 0);
    let risky = f.has("risky", "1") || f.has("risky", "true");
    let insurance_ref = c.opt_text("insurance_ref", f.get("insurance_ref").trim(), 100);
    let input = ActivityInput {
        station_id,
        team_id: Some(team_id).filter(|s| !s.is_empty()),
        name,
        starts_at: starts_at.unwrap_or_default(),
        ends_at: ends_at.unwrap_or_default(),
        address,
        recipients,
        content,
        requirements,
        quota,
        risky,
        insurance_ref: Some(insurance_ref).filter(|s| !s.is_empty()),
    };
    if starts_at.is_some() && ends_at.is_some() {
        for e in shegong_domain::volunteers::activities::check_activity(&input.shape()) {
            if !c.errors.iter().any(|x| x.field == e.field) {
                c.fail(e.field, e.code);
            }
        }
    }
    c.finish()?;
    Ok(input)
}

async fn create_activity(state: &AppState, ctx: &Ctx, input: ActivityInput) -> WebResult<String> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_activity", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = act::create(conn, &scope, &input, &by, now).await?;
                let a = act::get(conn, &scope, &id).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(a.region_code),
                    changes: vec![
                        Change::new("name", None::<String>, Some(input.name.clone())),
                        Change::new(
                            "starts_at",
                            None::<String>,
                            Some(local_time(input.starts_at)),
                        ),
                        Change::new("quota", None::<String>, Some(input.quota)),
                        Change::new("risky", None::<String>, Some(input.risky)),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Open, close or cancel; audited with the state before and after.
async fn change_status(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    step: String,
    insurance_ref: String,
) -> WebResult<()> {
    let (aid, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_activity", "status"),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before =
                    act::step(conn, &scope, &aid, step.trim(), Some(&insurance_ref), now).await?;
                let after = act::get(conn, &scope, &aid).await?;
                let done = Done {
                    entity_id: aid,
                    region: Some(after.region_code),
                    changes: vec![
                        Change::new("status", Some(before.status), Some(after.status)),
                        Change::new("insurance_ref", before.insurance_ref, after.insurance_ref),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// The volunteer a page or API call names: their id, or their volunteer number.
async fn volunteer_id(state: &AppState, ctx: &Ctx, typed: &str) -> WebResult<String> {
    let typed = typed.trim();
    if typed.is_empty() || typed.len() > 64 {
        return Err(FieldError::new("volunteer_id", "team.volunteer_unknown").into());
    }
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let found = if typed.starts_with('V') {
        registry::by_no(&mut c, &u.scope(), typed).await
    } else {
        registry::get(&mut c, &u.scope(), typed).await
    };
    found
        .map(|v| v.id)
        .map_err(|_| FieldError::new("volunteer_id", "team.volunteer_unknown").into())
}

/// Sign up (`join`) or withdraw, audited on the activity.
async fn change_sign_up(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    volunteer: &str,
    join: Option<bool>,
) -> WebResult<()> {
    let vid = volunteer_id(state, ctx, volunteer).await?;
    let (aid, now) = (id.to_owned(), state.now());
    let action = if join.is_some() {
        "sign_up"
    } else {
        "withdraw"
    };
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_activity", action),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let a = match join {
                    Some(consent) => {
                        act::sign_up(conn, &scope, &aid, &vid, consent, (&by, now)).await?
                    }
                    None => act::withdraw(conn, &scope, &aid, &vid).await?,
                };
                let mut changes = vec![Change::new("volunteer_id", None::<String>, Some(vid))];
                if join == Some(true) {
                    changes.push(Change::new("guardian_consent", None::<String>, Some(true)));
                }
                let done = Done {
                    entity_id: aid,
                    region: Some(a.region_code),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Sign a volunteer in or out (`at`: now, or a time the organiser enters). Returns the minutes
/// of a sign-out.
async fn attend(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    volunteer: &str,
    out: bool,
    at: Option<i64>,
) -> WebResult<Option<i64>> {
    let vid = volunteer_id(state, ctx, volunteer).await?;
    let (aid, now) = (id.to_owned(), state.now());
    let at = at.unwrap_or(now);
    let action = if out { "sign_out" } else { "sign_in" };
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_activity", action),
        move |conn, scope, by| -> WorkWith<'_, Option<i64>> {
            Box::pin(async move {
                let m = Mark {
                    activity_id: &aid,
                    volunteer_id: &vid,
                    at,
                    method: SignInMethod::Organiser,
                };
                let mut changes = vec![
                    Change::new("volunteer_id", None::<String>, Some(vid.clone())),
                    Change::new("at", None::<String>, Some(local_time(at))),
                ];
                let (region, minutes) = if out {
                    let done = act::sign_out(conn, &scope, &m, (&by, now)).await?;
                    changes.push(Change::new("minutes", None::<String>, Some(done.minutes)));
                    (done.region_code, Some(done.minutes))
                } else {
                    act::sign_in(conn, &scope, &m, (&by, now)).await?;
                    (act::get(conn, &scope, &aid).await?.region_code, None)
                };
                let done = Done {
                    entity_id: aid.clone(),
                    region: Some(region),
                    changes,
                };
                Ok((done, minutes))
            })
        },
    )
    .await
}

/// Write one community service record for the residents on file the activity served (their ids;
/// each in the caller's scope), linked to the activity once: it counts in the statistics like any
/// service. Returns the record's id.
async fn record_services(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    domain: &str,
    residents: Vec<String>,
) -> WebResult<String> {
    let u = writer(ctx)?;
    if residents.is_empty() || residents.len() > 500 {
        return Err(FieldError::new("participants", "activity.residents_required").into());
    }
    if residents.iter().any(|r| r.is_empty() || r.len() > 64) {
        return Err(FieldError::new("participants", "resident.unknown").into());
    }
    shegong_domain::network::station::ServiceDomain::parse(domain)?;
    let v = crate::people::residents::viewer(state, u);
    let (app, aid, now, domain) = (state.clone(), id.to_owned(), state.now(), domain.to_owned());
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_activity", "services"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let a = act::get(conn, &scope, &aid).await?;
                let attended = act::attendance(conn, &scope, &aid).await?.len();
                let input = service_of(&a, domain, residents, attended);
                let sid =
                    shegong_store::people::services::create(conn, &v, &app.keys, &input, &by, now)
                        .await?;
                act::link_service(conn, &scope, &aid, &sid).await?;
                let done = Done {
                    entity_id: aid,
                    region: Some(a.region_code),
                    changes: vec![
                        Change::new("service_id", None::<String>, Some(sid.clone())),
                        Change::new(
                            "participants",
                            None::<String>,
                            Some(input.participants.len()),
                        ),
                    ],
                };
                Ok((done, sid))
            })
        },
    )
    .await
}

/// The community service record of an activity: its day, start, length, place and station.
fn service_of(
    a: &Activity,
    domain: String,
    residents: Vec<String>,
    volunteers: usize,
) -> shegong_store::people::services::ServiceInput {
    let start = local_time(a.starts_at);
    let minutes = ((a.ends_at - a.starts_at) / 60_000).clamp(1, 1440);
    shegong_store::people::services::ServiceInput {
        kind: "community".into(),
        domain,
        station_id: Some(a.station_id.clone()),
        resident_id: None,
        case_id: None,
        person_times: i64::try_from(residents.len()).unwrap_or(0),
        participants: residents,
        title: a.name.clone(),
        served_on: start.get(..10).unwrap_or("").to_owned(),
        started_at: start.get(11..16).map(str::to_owned),
        duration_minutes: minutes,
        method: None,
        location: a.address.clone(),
        value_fen: 0,
        workers: format!("{}（志愿者 {volunteers} 人次）", a.station_name),
        volunteer_id: None,
        notes: String::new(),
        sensitive: false,
        incident_id: None,
    }
}

#[derive(Template)]
#[template(path = "volunteers/activities.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Activity>,
    pager: Pager,
    q: ActivityQuery,
    f: FormData,
    errors: FormErrors,
    stations: Vec<(String, String)>,
    can_write: bool,
}

impl ListPage {
    fn when(&self, a: &Activity) -> String {
        format!("{} – {}", local_time(a.starts_at), local_time(a.ends_at))
    }
    fn status(&self, s: &ActivityStatus) -> String {
        self.t.label("activity.status", s.as_str())
    }
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "name",
            "station",
            "team",
            "starts_at",
            "ends_at",
            "address",
            "recipients",
            "content",
            "requirements",
            "quota",
            "risky",
            "insurance_ref",
        ])
    }
}

async fn list(
    state: &AppState,
    ctx: &Ctx,
    q: ActivityQuery,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let filter = q.filter()?;
    let data = {
        let mut c = state.db.read().await?;
        act::list(
            &mut c,
            &u.scope(),
            &filter,
            PageRequest::new(q.page, q.per_page),
        )
        .await?
    };
    let can_write = u.can(Permission::WriteData);
    let stations = if can_write {
        super::registry::station_choices(state, &u.scope()).await?
    } else {
        vec![]
    };
    let pairs = vec![
        ("q", q.q.clone().unwrap_or_default()),
        ("status", q.status.clone().unwrap_or_default()),
    ];
    let title = t.get("menu.volunteer_activities");
    Ok(page(
        form_status(&errors),
        &ListPage {
            base: Base::new(ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/volunteer-activities", &pairs)?,
            rows: data.items,
            q,
            f,
            errors: FormErrors::new(t, errors),
            stations,
            can_write,
            t,
        },
    ))
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ActivityQuery>,
) -> WebResult<Response> {
    list(
        &state,
        &ctx,
        q,
        FormData::new(vec![("quota".into(), "20".into())]),
        vec![],
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match parse(&f) {
        Ok(input) => create_activity(&state, &ctx, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match result {
        Ok(id) => Ok(
            Redirect::to(&format!("/volunteer-activities/{id}?notice=notice.saved"))
                .into_response(),
        ),
        Err(WebError::Invalid(errors)) => {
            list(&state, &ctx, ActivityQuery::default(), f, errors).await
        }
        Err(e) => Err(e),
    }
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ActivityQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "volunteer_activity", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let list = {
        let mut c = state.db.read().await?;
        act::list_all(&mut c, &u.scope(), &q.filter()?, excel::MAX_ROWS).await?
    };
    let headers = [
        "activity.name",
        "activity.station",
        "activity.starts_at",
        "activity.ends_at",
        "activity.address",
        "activity.recipients",
        "activity.content",
        "activity.quota",
        "activity.signed_up",
        "activity.insurance_ref",
        "common.status",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|a| {
            vec![
                a.name.as_str().into(),
                a.station_name.as_str().into(),
                local_time(a.starts_at).into(),
                local_time(a.ends_at).into(),
                a.address.as_str().into(),
                a.recipients.as_str().into(),
                a.content.as_str().into(),
                Cell::Int(a.quota),
                Cell::Int(a.signed_up),
                a.insurance_ref.clone().unwrap_or_default().into(),
                t.label("activity.status", a.status.as_str()).into(),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "menu.volunteer_activities",
            &headers,
            &rows,
            vec![],
        )
        .await
}

#[derive(Template)]
#[template(path = "volunteers/activity.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    a: Activity,
    sign_ups: Vec<SignUp>,
    sessions: Vec<AttendanceRow>,
    hours: Vec<shegong_store::volunteers::hours::HourRecord>,
    can_write: bool,
    error: Option<String>,
    now_input: String,
}

impl DetailPage {
    fn time(&self, millis: &i64) -> String {
        local_time(*millis)
    }
    fn opt_time(&self, millis: &Option<i64>) -> String {
        millis.map(local_time).unwrap_or_default()
    }
    fn status(&self) -> String {
        self.t.label("activity.status", self.a.status.as_str())
    }
    fn hour_state(&self, s: &shegong_domain::volunteers::activities::HourState) -> String {
        self.t.label("hours.state", s.as_str())
    }
    fn is(&self, s: &str) -> bool {
        self.a.status.as_str() == s
    }
    fn domains(&self) -> Vec<(String, String)> {
        self.t.options(
            "service.domain",
            shegong_domain::network::station::ServiceDomain::ALL,
        )
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
    let t = ctx.tr();
    let (a, sign_ups, sessions, hours) = {
        let mut c = state.db.read().await?;
        let s = u.scope();
        let a = act::get(&mut c, &s, id).await?;
        let sign_ups = act::sign_ups(&mut c, &s, id).await?;
        let sessions = act::attendance(&mut c, &s, id).await?;
        let f = shegong_store::volunteers::hours::Filter {
            activity_id: Some(id.to_owned()),
            ..Default::default()
        };
        let hours = shegong_store::volunteers::hours::list_all(&mut c, &s, &f, 2000).await?;
        (a, sign_ups, sessions, hours)
    };
    let error = error.map(|e| FormErrors::new(t, vec![e]).others(&[]).join(" "));
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &DetailPage {
            base: Base::new(
                ctx,
                a.name.clone(),
                vec![
                    Crumb::link(t.get("menu.volunteer_activities"), "/volunteer-activities"),
                    Crumb::here(a.name.clone()),
                ],
            )
            .with_notice(&t, notice),
            a,
            sign_ups,
            sessions,
            hours,
            can_write: u.can(Permission::WriteData),
            error,
            now_input: local_input(state.now()),
            t,
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

/// After a page action: back to the activity with a notice, or the page with the refusal.
async fn after(state: &AppState, ctx: &Ctx, id: &str, r: WebResult<()>) -> WebResult<Response> {
    match r {
        Ok(()) => Ok(
            Redirect::to(&format!("/volunteer-activities/{id}?notice=notice.saved"))
                .into_response(),
        ),
        Err(WebError::Invalid(e)) => detail(state, ctx, id, None, e.into_iter().next()).await,
        Err(e) => Err(e),
    }
}

pub async fn status_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = change_status(
        &state,
        &ctx,
        &id,
        f.get("step").to_owned(),
        f.get("insurance_ref").to_owned(),
    )
    .await;
    after(&state, &ctx, &id, r).await
}

pub async fn sign_up_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let consent = f.has("guardian_consent", "1");
    let join = (!f.has("withdraw", "1")).then_some(consent);
    let r = change_sign_up(&state, &ctx, &id, f.get("volunteer_id"), join).await;
    after(&state, &ctx, &id, r).await
}

pub async fn attend_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let at = match f.get("at").trim() {
        "" => None,
        v => c.datetime("at", v),
    };
    let r = match c.finish() {
        Err(e) => Err(WebError::Invalid(e)),
        Ok(()) => attend(
            &state,
            &ctx,
            &id,
            f.get("volunteer_id"),
            f.has("out", "1"),
            at,
        )
        .await
        .map(|_| ()),
    };
    after(&state, &ctx, &id, r).await
}

pub async fn services_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let residents = f
        .get("participants")
        .split(['\n', ',', '，', ' ', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let r = record_services(&state, &ctx, &id, f.get("domain"), residents)
        .await
        .map(|_| ());
    after(&state, &ctx, &id, r).await
}

/// The QR code to scan at the activity: the self sign-in page's address (only while open).
pub async fn qr(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let a = {
        let mut c = state.db.read().await?;
        act::get(&mut c, &u.scope(), &id).await?
    };
    if a.status != ActivityStatus::Open {
        return Err(WebError::NotFound);
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.len() < 200
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    crate::admin::twofactor_enrol::qr_response(&format!("{scheme}://{host}/checkin/{}", a.qr_token))
}

// ---------------------------------------------------------------- API

/// The codes the API documents as enumerations.
pub mod code {
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn activity_step() -> Object {
        one_of(["open", "close", "cancel"])
    }
    pub fn attendance_action() -> Object {
        one_of(["sign_in", "sign_out"])
    }
    pub fn hour_step() -> Object {
        one_of(["confirm", "record", "correct", "revoke"])
    }
}

/// An activity as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct ActivityDto {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub region_path: String,
    /// The organising station (the only one that may certify the hours).
    pub station_id: String,
    pub station_name: String,
    pub team_id: Option<String>,
    pub starts_at: String,
    pub ends_at: String,
    pub address: String,
    pub recipients: String,
    pub content: String,
    pub requirements: String,
    pub quota: i64,
    pub signed_up: i64,
    pub risky: bool,
    pub insurance_ref: Option<String>,
    /// `draft`, `open`, `closed` or `cancelled`.
    pub status: String,
}

fn dto(a: Activity) -> ActivityDto {
    ActivityDto {
        id: a.id,
        name: a.name,
        region_code: a.region_code,
        region_path: a.region_path,
        station_id: a.station_id,
        station_name: a.station_name,
        team_id: a.team_id,
        starts_at: rfc3339(a.starts_at),
        ends_at: rfc3339(a.ends_at),
        address: a.address,
        recipients: a.recipients,
        content: a.content,
        requirements: a.requirements,
        quota: a.quota,
        signed_up: a.signed_up,
        risky: a.risky == 1,
        insurance_ref: a.insurance_ref,
        status: a.status.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct SignUpDto {
    pub volunteer_id: String,
    pub volunteer_no: String,
    pub name: String,
    pub guardian_consent: bool,
    /// `signed_up` or `withdrawn`.
    pub status: String,
    /// The sign-in of a session still open.
    pub open_since: Option<String>,
    pub sessions: i64,
    pub minutes: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceDto {
    pub id: String,
    pub volunteer_id: String,
    pub volunteer_no: String,
    pub name: String,
    /// The China Standard Time date the session counts for.
    #[schema(format = Date)]
    pub day: String,
    pub sign_in: String,
    pub sign_out: Option<String>,
    /// Minutes served (travel excluded); none while open.
    pub minutes: Option<i64>,
    /// `organiser` or `qr`.
    pub method: String,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityDetailDto {
    #[serde(flatten)]
    pub activity: ActivityDto,
    pub sign_ups: Vec<SignUpDto>,
    pub attendance: Vec<AttendanceDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityPage {
    pub items: Vec<ActivityDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<ActivityDetailDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let a = act::get(&mut c, &u.scope(), id).await?;
    let sign_ups = act::sign_ups(&mut c, &u.scope(), id).await?;
    let sessions = act::attendance(&mut c, &u.scope(), id).await?;
    Ok(ActivityDetailDto {
        activity: dto(a),
        sign_ups: sign_ups
            .into_iter()
            .map(|s| SignUpDto {
                volunteer_id: s.volunteer_id,
                volunteer_no: s.volunteer_no,
                name: s.name,
                guardian_consent: s.guardian_consent == 1,
                status: s.status,
                open_since: s.open_since.map(rfc3339),
                sessions: s.sessions,
                minutes: s.minutes,
            })
            .collect(),
        attendance: sessions
            .into_iter()
            .map(|s| AttendanceDto {
                id: s.id,
                volunteer_id: s.volunteer_id,
                volunteer_no: s.volunteer_no,
                name: s.name,
                day: s.day,
                sign_in: rfc3339(s.sign_in),
                sign_out: s.sign_out.map(rfc3339),
                minutes: s.minutes,
                method: s.method,
            })
            .collect(),
    })
}

/// Volunteer activities in the caller's scope, latest first.
#[utoipa::path(get, path = "/api/v1/activities", tag = "volunteers", params(ActivityQuery),
    responses((status = 200, body = ActivityPage), (status = 422, description = "A filter refused, named")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ActivityQuery>,
) -> WebResult<Json<ActivityPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = act::list(
        &mut c,
        &u.scope(),
        &q.filter()?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(ActivityPage {
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        items: p.items.into_iter().map(dto).collect(),
    }))
}

/// One activity with its sign-ups and attendance.
#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "volunteers", params(("id" = String, Path)),
    responses((status = 200, body = ActivityDetailDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ActivityDetailDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"station_id": "0190f1c2-0000-7000-8000-000000000000", "name": "重阳节探访独居老人",
    "starts_at": "2026-10-29T09:00", "ends_at": "2026-10-29T11:30", "address": "荷塘区贺家土街道社工站活动室",
    "recipients": "独居老人", "content": "上门陪伴、代购", "quota": 20}))]
pub struct ActivityBody {
    /// The organising station, in the caller's scope.
    pub station_id: String,
    #[serde(default)]
    pub team_id: Option<String>,
    pub name: String,
    /// China Standard Time, `YYYY-MM-DDTHH:MM`.
    pub starts_at: String,
    pub ends_at: String,
    /// The exact address.
    pub address: String,
    #[serde(default)]
    pub recipients: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub requirements: String,
    pub quota: i64,
    /// A risky activity opens only with `insurance_ref`.
    #[serde(default)]
    pub risky: bool,
    #[serde(default)]
    pub insurance_ref: Option<String>,
}

/// Create a draft activity; every refused field named, nothing written.
#[utoipa::path(post, path = "/api/v1/activities", tag = "volunteers", request_body = ActivityBody,
    responses((status = 201, body = ActivityDetailDto), (status = 403, description = "May not change data"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<ActivityBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = FormData::new(vec![
        ("station".into(), b.station_id),
        ("team".into(), b.team_id.unwrap_or_default()),
        ("name".into(), b.name),
        ("starts_at".into(), b.starts_at),
        ("ends_at".into(), b.ends_at),
        ("address".into(), b.address),
        ("recipients".into(), b.recipients),
        ("content".into(), b.content),
        ("requirements".into(), b.requirements),
        ("quota".into(), b.quota.to_string()),
        ("risky".into(), if b.risky { "1" } else { "" }.into()),
        ("insurance_ref".into(), b.insurance_ref.unwrap_or_default()),
    ]);
    let input = parse(&f).map_err(WebError::Invalid)?;
    let id = create_activity(&state, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"step": "open", "insurance_ref": "PICC-2026-0077"}))]
pub struct StatusBody {
    /// `open` (publish for sign-up), `close` (ended) or `cancel`.
    #[schema(schema_with = code::activity_step)]
    pub step: String,
    /// Sets the insurance reference when opening (required for a risky activity).
    #[serde(default)]
    pub insurance_ref: String,
}

/// Publish, end or cancel the activity.
#[utoipa::path(post, path = "/api/v1/activities/{id}/status", tag = "volunteers", params(("id" = String, Path)),
    request_body = StatusBody,
    responses((status = 200, body = ActivityDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not allowed now, or a risky activity without insurance (named)")))]
pub async fn api_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<StatusBody>,
) -> WebResult<Json<ActivityDetailDto>> {
    writer(&ctx)?;
    change_status(&state, &ctx, &id, b.step, b.insurance_ref).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"volunteer_id": "0190f1c2-0000-7000-8000-000000000000"}))]
pub struct SignUpBody {
    /// The volunteer's id or volunteer number, in the caller's scope.
    pub volunteer_id: String,
    /// The guardian's consent to this activity (required under 14).
    #[serde(default)]
    pub guardian_consent: bool,
}

/// Sign a volunteer up (within the quota; minors with consent).
#[utoipa::path(post, path = "/api/v1/activities/{id}/signups", tag = "volunteers", params(("id" = String, Path)),
    request_body = SignUpBody,
    responses((status = 201, body = ActivityDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not open, full, already signed up, or a minor without consent (named)")))]
pub async fn api_sign_up(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<SignUpBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    change_sign_up(&state, &ctx, &id, &b.volunteer_id, Some(b.guardian_consent)).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

/// Withdraw a sign-up (before any attendance).
#[utoipa::path(delete, path = "/api/v1/activities/{id}/signups/{volunteer_id}", tag = "volunteers",
    params(("id" = String, Path), ("volunteer_id" = String, Path)),
    responses((status = 200, body = ActivityDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not signed up, or already attended (named)")))]
pub async fn api_withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, volunteer_id)): Path<(String, String)>,
) -> WebResult<Json<ActivityDetailDto>> {
    writer(&ctx)?;
    change_sign_up(&state, &ctx, &id, &volunteer_id, None).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"volunteer_id": "0190f1c2-0000-7000-8000-000000000000", "action": "sign_in"}))]
pub struct AttendanceBody {
    /// The volunteer's id or volunteer number.
    pub volunteer_id: String,
    /// `sign_in` or `sign_out`.
    #[schema(schema_with = code::attendance_action)]
    pub action: String,
    /// China Standard Time `YYYY-MM-DDTHH:MM`; default now. Never ahead of now.
    #[serde(default)]
    pub at: String,
}

/// Sign a volunteer in or out (at most three sign-ins a day, no overlap, 16 hours a day at
/// most); a sign-out writes a pending hour record.
#[utoipa::path(post, path = "/api/v1/activities/{id}/attendance", tag = "volunteers", params(("id" = String, Path)),
    request_body = AttendanceBody,
    responses((status = 200, body = ActivityDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Refused by the attendance rules, named")))]
pub async fn api_attend(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<AttendanceBody>,
) -> WebResult<Json<ActivityDetailDto>> {
    writer(&ctx)?;
    let out = match b.action.trim() {
        "sign_in" => false,
        "sign_out" => true,
        _ => return Err(FieldError::new("action", "attendance.action_unknown").into()),
    };
    let mut c = Check::default();
    let at = match b.at.trim() {
        "" => None,
        v => c.datetime("at", v),
    };
    c.finish().map_err(WebError::Invalid)?;
    attend(&state, &ctx, &id, &b.volunteer_id, out, at).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"domain": "elderly", "resident_ids": ["0190f1c2-0000-7000-8000-000000000000"]}))]
pub struct ActivityServiceBody {
    /// The service domain (as for service records).
    pub domain: String,
    /// Residents on file the activity served, in the caller's scope.
    pub resident_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityServiceDto {
    /// The community service record written (see `/api/v1/services`).
    pub service_id: String,
}

/// Record the residents on file the activity served as one community service record (once per
/// activity); it counts in the statistics like any service.
#[utoipa::path(post, path = "/api/v1/activities/{id}/service", tag = "volunteers", params(("id" = String, Path)),
    request_body = ActivityServiceBody,
    responses((status = 201, body = ActivityServiceDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "No residents, one unknown, recorded already, or the activity not held (named)")))]
pub async fn api_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ActivityServiceBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let service_id = record_services(&state, &ctx, &id, &b.domain, b.resident_ids).await?;
    Ok((StatusCode::CREATED, Json(ActivityServiceDto { service_id })).into_response())
}

/// This module's pages and API operations.
pub fn routes() -> Router<AppState> {
    use axum::routing::{delete, get, post};
    Router::new()
        .route("/volunteer-activities", get(list_page).post(create))
        .route("/volunteer-activities/export.xlsx", get(export))
        .route("/volunteer-activities/{id}", get(detail_page))
        .route("/volunteer-activities/{id}/status", post(status_page))
        .route("/volunteer-activities/{id}/signups", post(sign_up_page))
        .route("/volunteer-activities/{id}/attendance", post(attend_page))
        .route("/volunteer-activities/{id}/qr.svg", get(qr))
        .route("/volunteer-activities/{id}/service", post(services_page))
        .route("/api/v1/activities", get(api_list).post(api_create))
        .route("/api/v1/activities/{id}", get(api_get))
        .route("/api/v1/activities/{id}/status", post(api_status))
        .route("/api/v1/activities/{id}/signups", post(api_sign_up))
        .route(
            "/api/v1/activities/{id}/signups/{volunteer_id}",
            delete(api_withdraw),
        )
        .route("/api/v1/activities/{id}/attendance", post(api_attend))
        .route("/api/v1/activities/{id}/service", post(api_service))
}
