//! Supervision: supervisor–supervisee pairs and their sessions, and 三区计划 teams with their
//! members, on the supervision page and through the API.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::text::DateKind;
use shegong_domain::workforce::{format_hours, parse_hours};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::workforce::staff::{self, Filter};
use shegong_store::workforce::supervision::{self, NewSession, NewTeam};
use shegong_store::{Conn, PageRequest, Scope};
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Work, audited_id, writer};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;
use crate::workforce::staff::{as_date, today_date};

#[derive(Template)]
#[template(path = "workforce/supervision.html")]
struct SupervisionPage {
    t: Tr,
    base: Base,
    pairs: Vec<(supervision::Pair, Vec<supervision::Session>)>,
    teams: Vec<supervision::Team>,
    people: Vec<(String, String)>,
    /// Supervisor accounts that may be named on a pair: (user id, display name).
    accounts: Vec<(String, String)>,
    can_write: bool,
    can_arrange: bool,
    error: Option<String>,
    today: String,
}

impl SupervisionPage {
    fn hours(&self, tenths: &i64) -> String {
        format_hours(*tenths)
    }
}

async fn supervision_render(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let me = Some(u.user.id.as_str());
    let mut pairs = Vec::new();
    for p in supervision::pairs(&mut c, &scope, me).await? {
        let s = supervision::sessions(&mut c, &scope, me, &p.id).await?;
        pairs.push((p, s));
    }
    let accounts = shegong_store::people::residents::workers(&mut c, &scope)
        .await?
        .iter()
        .filter(|a| a.role == "supervisor")
        .map(|a| {
            (
                a.id.clone(),
                crate::people::residents::account_label(&t, a, false),
            )
        })
        .collect();
    let teams = supervision::teams(&mut c, &scope).await?;
    let people = staff::list(
        &mut c,
        &scope,
        &Filter {
            status: Some("active".into()),
            ..Default::default()
        },
        PageRequest {
            page: 1,
            per_page: 5000,
        },
    )
    .await?
    .items
    .into_iter()
    .map(|p| {
        (
            p.id,
            format!("{}（{}）", p.name, p.station_name.unwrap_or_default()),
        )
    })
    .collect();
    drop(c);
    let title = t.get("menu.supervision");
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &SupervisionPage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)]).with_notice(&t, notice),
            pairs,
            teams,
            people,
            accounts,
            can_write: u.can(Permission::WriteData),
            can_arrange: u.can(Permission::ArrangeSupervision),
            error: error.map(|e| {
                format!(
                    "{}{}{}",
                    t.get(&format!("field.{}", e.field)),
                    t.get("punct.colon"),
                    t.get(e.code)
                )
            }),
            today: today(state.now()),
        },
    ))
}

pub async fn supervision_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    supervision_render(&state, &ctx, q.notice.as_deref(), None).await
}

/// One small write of supervision (page or API), audited as the creation of `entity`: the new
/// record's id, or the field error (nothing written).
async fn supervision_save<F>(
    state: &AppState,
    ctx: &Ctx,
    entity: &'static str,
    work: F,
) -> WebResult<Result<String, FieldError>>
where
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> Work<'c> + Send + 'static,
{
    audited_id(state, ctx, entity, "create", work).await
}

/// The page's answer to a write: back to the page with a notice, or the page with the error.
async fn answer(
    state: &AppState,
    ctx: &Ctx,
    saved: WebResult<Result<String, FieldError>>,
) -> WebResult<Response> {
    match saved? {
        Ok(_) => Ok(Redirect::to("/supervision?notice=notice.saved").into_response()),
        Err(e) => supervision_render(state, ctx, None, Some(e)).await,
    }
}

/// A new supervisor–supervisee pair, checked.
pub(super) struct PairInput {
    supervisor: String,
    supervisee: String,
    account: Option<String>,
    from: NaiveDate,
}

/// The pair form's fields (`supervisor`, `supervisee`, `supervisor_account`, `from_date`).
pub(super) fn parse_pair(f: &FormData, now: i64) -> Result<PairInput, Vec<FieldError>> {
    // The supervisor's own account (optional): they then see this pair's records wherever the
    // supervisee works.
    let account = Some(f.get("supervisor_account").trim().to_owned()).filter(|s| !s.is_empty());
    // A pair starts today unless the form names another day (a planned start may lie ahead).
    let mut c = Check::default();
    let from = match f.get("from_date").trim() {
        "" => Some(today_date(now)),
        v => as_date(&c.date_of("from_date", v, DateKind::Plan, today_date(now))),
    };
    c.finish()?;
    let from = from.ok_or_else(|| vec![FieldError::new("from_date", "date.invalid")])?;
    Ok(PairInput {
        supervisor: f.get("supervisor").to_owned(),
        supervisee: f.get("supervisee").to_owned(),
        account,
        from,
    })
}

/// Pair a supervisor with a supervisee (managers and supervisors arrange supervision).
pub(super) async fn save_pair(
    state: &AppState,
    ctx: &Ctx,
    p: PairInput,
) -> WebResult<Result<String, FieldError>> {
    ctx.user()?.require(Permission::ArrangeSupervision)?;
    let now = state.now();
    supervision_save(state, ctx, "supervision_pair", move |conn, scope, _| {
        Box::pin(async move {
            let (a, b, account) = (&p.supervisor, &p.supervisee, p.account.as_deref());
            let id = supervision::add_pair_for(conn, &scope, a, b, account, p.from, now).await?;
            Ok(Done {
                entity_id: id,
                region: None,
                changes: vec![
                    Change::new("supervisor", None::<String>, Some(a)),
                    Change::new("supervisee", None::<String>, Some(b)),
                    Change::new("supervisor_account", None::<String>, p.account.clone()),
                ],
            })
        })
    })
    .await
}

pub async fn add_pair(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    // Supervision is set up by managers and supervisors, not by the supervisee's peers.
    ctx.user()?.require(Permission::ArrangeSupervision)?;
    let input = match parse_pair(&f, state.now()) {
        Ok(i) => i,
        Err(e) => return supervision_render(&state, &ctx, None, e.into_iter().next()).await,
    };
    let saved = save_pair(&state, &ctx, input).await;
    answer(&state, &ctx, saved).await
}

/// A supervision session, checked.
pub(super) struct SessionInput {
    held_on: String,
    hours: i64,
    topics: String,
}

/// The session form's fields (`held_on`, `hours`, `topics`).
pub(super) fn parse_session(f: &FormData) -> Result<SessionInput, Vec<FieldError>> {
    let mut c = Check::default();
    let held_on = c.date("held_on", f.get("held_on"));
    let hours = c.take(parse_hours("hours", f.get("hours")));
    let topics = c.text("topics", f.get("topics"), 500);
    c.finish()?;
    let hours = hours.ok_or_else(|| vec![FieldError::new("hours", "form.required")])?;
    Ok(SessionInput {
        held_on,
        hours,
        topics,
    })
}

/// Record a session of pair `pair` (as the caller: a supervisor records their own pairs').
pub(super) async fn save_session(
    state: &AppState,
    ctx: &Ctx,
    pair: String,
    s: SessionInput,
) -> WebResult<Result<String, FieldError>> {
    let now = state.now();
    let me = writer(ctx)?.user.id.clone();
    supervision_save(state, ctx, "supervision_session", move |conn, scope, by| {
        Box::pin(async move {
            let new = NewSession {
                held_on: &s.held_on,
                hours_tenths: s.hours,
                topics: &s.topics,
            };
            let id =
                supervision::add_session_as(conn, &scope, Some(&me), &pair, &new, &by, now).await?;
            Ok(Done {
                entity_id: id,
                region: None,
                changes: vec![
                    Change::new("pair", None::<String>, Some(&pair)),
                    Change::new("hours", None::<String>, Some(format_hours(s.hours))),
                ],
            })
        })
    })
    .await
}

pub async fn add_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(pair): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let input = match parse_session(&f) {
        Ok(i) => i,
        Err(e) => return supervision_render(&state, &ctx, None, e.into_iter().next()).await,
    };
    let saved = save_session(&state, &ctx, pair, input).await;
    answer(&state, &ctx, saved).await
}

/// A 三区计划 team, checked.
pub(super) struct TeamInput {
    region: String,
    name: String,
    sending: String,
    starts: String,
    ends: String,
}

/// The team form's fields (`region`, `name`, `sending`, `starts_on`, `ends_on`).
pub(super) fn parse_team(f: &FormData) -> Result<TeamInput, Vec<FieldError>> {
    let mut c = Check::default();
    let starts = c.date("starts_on", f.get("starts_on"));
    let ends = c.date("ends_on", f.get("ends_on"));
    c.finish()?;
    Ok(TeamInput {
        region: f.get("region").to_owned(),
        name: f.get("name").to_owned(),
        sending: f.get("sending").to_owned(),
        starts,
        ends,
    })
}

pub(super) async fn save_team(
    state: &AppState,
    ctx: &Ctx,
    t: TeamInput,
) -> WebResult<Result<String, FieldError>> {
    let now = state.now();
    supervision_save(state, ctx, "sanqu_team", move |conn, scope, _| {
        Box::pin(async move {
            let new = NewTeam {
                region: &t.region,
                name: &t.name,
                sending: &t.sending,
                starts: &t.starts,
                ends: &t.ends,
            };
            let id = supervision::add_team(conn, &scope, &new, now).await?;
            Ok(Done {
                entity_id: id,
                region: None,
                changes: vec![
                    Change::new("name", None::<String>, Some(&t.name)),
                    Change::new("host_county", None::<String>, Some(&t.region)),
                ],
            })
        })
    })
    .await
}

pub async fn add_team(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let input = match parse_team(&f) {
        Ok(i) => i,
        Err(e) => return supervision_render(&state, &ctx, None, e.into_iter().next()).await,
    };
    let saved = save_team(&state, &ctx, input).await;
    answer(&state, &ctx, saved).await
}

/// Add staff member `person` to team `team` (`dispatched`: sent from outside the county).
pub(super) async fn save_member(
    state: &AppState,
    ctx: &Ctx,
    team: String,
    person: String,
    dispatched: bool,
) -> WebResult<Result<String, FieldError>> {
    supervision_save(state, ctx, "sanqu_member", move |conn, scope, _| {
        Box::pin(async move {
            supervision::add_member(conn, &scope, &team, &person, dispatched).await?;
            Ok(Done {
                entity_id: team.clone(),
                region: None,
                changes: vec![
                    Change::new("member", None::<String>, Some(&person)),
                    Change::new("dispatched", None::<bool>, Some(dispatched)),
                ],
            })
        })
    })
    .await
}

pub async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(team): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let (person, dispatched) = (f.get("staff").to_owned(), f.get("dispatched") == "1");
    let saved = save_member(&state, &ctx, team, person, dispatched).await;
    answer(&state, &ctx, saved).await
}

#[derive(Serialize, ToSchema)]
pub struct SupervisionDto {
    pub pair_id: String,
    pub supervisor_id: String,
    pub supervisor_name: String,
    pub supervisee_id: String,
    pub supervisee_name: String,
    pub from_date: String,
    pub sessions: Vec<SessionDto>,
    pub total_hours: f64,
}

#[derive(Serialize, ToSchema)]
pub struct SessionDto {
    pub held_on: String,
    pub hours: f64,
    pub topics: String,
}

/// Supervisor–supervisee pairs within the caller's scope, with their sessions.
#[utoipa::path(get, path = "/api/v1/supervision", tag = "workforce", responses((status = 200, body = Vec<SupervisionDto>)))]
pub async fn api_supervision(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<Vec<SupervisionDto>>> {
    let u = reader(&ctx)?;
    let scope = u.scope();
    let me = Some(u.user.id.as_str());
    let mut c = state.db.read().await?;
    let mut out = Vec::new();
    for p in supervision::pairs(&mut c, &scope, me).await? {
        let sessions = supervision::sessions(&mut c, &scope, me, &p.id).await?;
        out.push(SupervisionDto {
            total_hours: p.hours_tenths as f64 / 10.0,
            sessions: sessions
                .into_iter()
                .map(|s| SessionDto {
                    held_on: s.held_on,
                    hours: s.hours_tenths as f64 / 10.0,
                    topics: s.topics,
                })
                .collect(),
            pair_id: p.id,
            supervisor_id: p.supervisor_id,
            supervisor_name: p.supervisor_name,
            supervisee_id: p.supervisee_id,
            supervisee_name: p.supervisee_name,
            from_date: p.from_date,
        });
    }
    Ok(Json(out))
}
