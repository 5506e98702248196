//! Incidents (`/incidents`, `/api/v1/incidents`): type, level, affected regions, response level
//! and the states 预警 → 响应 → 处置 → 恢复 → 关闭 with their timeline; deployments of team
//! members; the incident page's timeline (state changes, deployments, tagged services by day)
//! and figures. Every change audited; out of scope is not found.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use shegong_domain::emergency::{self as em, IncidentKind, IncidentLevel, IncidentState, TeamRole};
use shegong_domain::{FieldError, Permission, RegionCode};
use shegong_store::PageRequest;
use shegong_store::admin::audit::Change;
use shegong_store::emergency::incidents::{
    self, Deployment, DeploymentInput, Event, Figures, Filter, Incident, IncidentInput, ServiceDay,
};
use shegong_store::emergency::teams::{self, Team, TeamMember};
use utoipa::IntoParams;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, pager};

#[derive(Deserialize, IntoParams, Default)]
pub struct IncidentQuery {
    /// Title contains.
    pub q: Option<String>,
    /// `natural_disaster`, `accident`, `public_health` or `social_safety`.
    #[param(schema_with = super::code::kind_filter)]
    pub kind: Option<String>,
    /// `warning`, `response`, `handling`, `recovery` or `closed`.
    #[param(schema_with = super::code::state_filter)]
    pub state: Option<String>,
    /// Order: `title`, `kind`, `level`, `region`, `started` (latest first) or `state`; `-`
    /// before it reverses the order. Any other value is the default order (newest first).
    #[param(schema_with = crate::http::api::code::incident_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these incidents (comma-separated ids of a batch selection, at most 200).
    #[serde(default)]
    #[param(ignore)]
    pub ids: Option<String>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

pub(super) fn filter_of(q: &IncidentQuery) -> WebResult<Filter> {
    if q.q.as_ref().is_some_and(|x| x.chars().count() > 100) {
        return Err(FieldError::new("q", "form.too_long").into());
    }
    let opt = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(Filter {
        text: q.q.clone(),
        kind: opt(&q.kind).map(|k| IncidentKind::parse(&k)).transpose()?,
        state: opt(&q.state)
            .map(|s| IncidentState::parse(&s))
            .transpose()?,
        sort: shegong_store::Sort::parse(q.sort.as_deref(), incidents::SORTS),
        ids: crate::ui::list::batch_ids(q.ids.as_deref())?,
    })
}

/// Local time (China Standard Time) of epoch milliseconds, `YYYY-MM-DD HH:MM`.
pub fn local(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms + 8 * 3_600_000)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Parse the incident form (or the API body in its shape); every refused field named.
pub fn parse(f: &FormData) -> Result<IncidentInput, Vec<FieldError>> {
    let mut c = Check::default();
    let title = c.text("title", f.get("title").trim(), 100);
    let kind = c.take(IncidentKind::parse(f.get("kind")));
    let level = c.take(IncidentLevel::parse(f.get("level")));
    let response_level = c.take(em::check_response_level(f.get("response_level")));
    let mut regions = Vec::new();
    let raw = f.all("regions").join(",");
    for code in raw
        .split([',', '，', '、', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match RegionCode::parse(code) {
            Ok(r) => regions.push(r),
            Err(_) => {
                c.fail("regions", "region.unknown");
                break;
            }
        }
    }
    if regions.is_empty() {
        c.fail("regions", "form.required");
    }
    let started_at = c.datetime("started_at", f.get("started_at"));
    let state = match f.get("state").trim() {
        "" => Some(IncidentState::Warning),
        s => c.take(IncidentState::parse(s)),
    };
    let description = c.opt_text("description", f.get("description").trim(), 2000);
    c.finish()?;
    match (kind, level, response_level, started_at, state) {
        (Some(kind), Some(level), Some(response_level), Some(started_at), Some(state)) => {
            Ok(IncidentInput {
                title,
                kind,
                level,
                response_level,
                regions,
                started_at,
                state,
                description,
            })
        }
        _ => Err(vec![FieldError::new("kind", "form.required")]),
    }
}

/// Parse a transition: the target state and a note.
pub fn parse_transition(f: &FormData) -> Result<(IncidentState, String), Vec<FieldError>> {
    let mut c = Check::default();
    let to = c.take(IncidentState::parse(f.get("state")));
    let note = c.opt_text("note", f.get("note").trim(), 500);
    c.finish()?;
    to.map(|s| (s, note))
        .ok_or_else(|| vec![FieldError::new("state", "form.required")])
}

/// Parse a deployment: team, members (repeated `member_ids`), role, from, to, note.
pub fn parse_deployment(f: &FormData) -> Result<DeploymentInput, Vec<FieldError>> {
    let mut c = Check::default();
    let team_id = f.get("team_id").trim().to_owned();
    if team_id.is_empty() {
        c.fail("team_id", "form.required");
    } else if team_id.len() > 64 {
        c.fail("team_id", "emergency.team_unknown");
    }
    let member_ids: Vec<String> = f
        .all("member_ids")
        .into_iter()
        .flat_map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    if member_ids.is_empty() {
        c.fail("member_ids", "form.required");
    } else if member_ids.iter().any(|m| m.len() > 64) {
        c.fail("member_ids", "emergency.member_not_in_team");
    }
    let role = c.take(TeamRole::parse(f.get("role")));
    let from = c.datetime("from", f.get("from"));
    let to = c.datetime("to", f.get("to"));
    if let (Some(a), Some(b)) = (from, to)
        && let Err(e) = em::check_period(a, b)
    {
        c.fail(e.field, e.code);
    }
    let note = c.opt_text("note", f.get("note").trim(), 500);
    c.finish()?;
    match (role, from, to) {
        (Some(role), Some(from), Some(to)) => Ok(DeploymentInput {
            team_id,
            member_ids,
            role,
            from,
            to,
            note,
        }),
        _ => Err(vec![FieldError::new("role", "form.required")]),
    }
}

pub(super) async fn create_incident(
    state: &AppState,
    ctx: &Ctx,
    input: IncidentInput,
) -> WebResult<String> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("incident", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let i = incidents::create(conn, &scope, &input, (&by, now)).await?;
                let done = Done {
                    entity_id: i.id.clone(),
                    region: Some(i.region_code.clone()),
                    changes: vec![
                        Change::new("title", None::<String>, Some(i.title.clone())),
                        Change::new("kind", None::<String>, Some(i.kind.as_str())),
                        Change::new("level", None::<String>, Some(i.level.as_str())),
                        Change::new("state", None::<String>, Some(i.state.as_str())),
                    ],
                };
                Ok((done, i.id))
            })
        },
    )
    .await
}

pub(super) async fn transition(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    (to, note): (IncidentState, String),
) -> WebResult<()> {
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("incident", "transition"),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let (before, after) =
                    incidents::transition(conn, &scope, &id, to, &note, (&by, now)).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(after.region_code),
                    changes: vec![Change::new(
                        "state",
                        Some(before.state.as_str()),
                        Some(after.state.as_str()),
                    )],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

pub(super) async fn deploy(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: DeploymentInput,
) -> WebResult<String> {
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("incident_deployment", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let did = incidents::deploy(conn, &scope, &id, &input, (&by, now)).await?;
                let i = incidents::get(conn, &scope, &id).await?;
                let done = Done {
                    entity_id: did.clone(),
                    region: Some(i.region_code),
                    changes: vec![
                        Change::new("incident_id", None::<String>, Some(id)),
                        Change::new("team_id", None::<String>, Some(input.team_id.clone())),
                        Change::new(
                            "member_ids",
                            None::<String>,
                            Some(input.member_ids.join(",")),
                        ),
                        Change::new("role", None::<String>, Some(input.role.as_str())),
                        Change::new("from", None::<String>, Some(local(input.from))),
                        Change::new("to", None::<String>, Some(local(input.to))),
                    ],
                };
                Ok((done, did))
            })
        },
    )
    .await
}

// ---------------------------------------------------------------- pages

#[derive(Template)]
#[template(path = "emergency/incidents.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Incident>,
    pager: Pager,
    q: IncidentQuery,
    f: FormData,
    errors: FormErrors,
    kinds: Vec<&'static str>,
    levels: Vec<&'static str>,
    states: Vec<&'static str>,
    can_write: bool,
    can_export: bool,
    export_href: String,
}

impl ListPage {
    fn region(&self, i: &Incident) -> String {
        shegong_domain::network::region::display_path(i.region_path.split('/'))
    }
    fn local(&self, ms: &i64) -> String {
        local(*ms)
    }
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "title",
            "kind",
            "level",
            "response_level",
            "regions",
            "started_at",
            "state",
            "description",
        ])
    }
}

fn codes<T: Copy>(all: &[T], s: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| s(*v)).collect()
}

async fn list(
    state: &AppState,
    ctx: &Ctx,
    q: IncidentQuery,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let flt = filter_of(&q)?;
    let data = {
        let mut c = state.db.read().await?;
        incidents::list(
            &mut c,
            &u.scope(),
            &flt,
            PageRequest::sized(q.page, q.per_page),
        )
        .await?
    };
    let [sort, size] = crate::ui::list::table_pairs(flt.sort, q.per_page);
    let pairs = vec![
        ("q", q.q.clone().unwrap_or_default()),
        ("kind", q.kind.clone().unwrap_or_default()),
        ("state", q.state.clone().unwrap_or_default()),
        sort,
        size,
    ];
    let title = t.get("menu.incidents");
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(
        status,
        &ListPage {
            base: Base::new(ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/incidents", &pairs)?,
            export_href: format!(
                "/incidents/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            can_export: u.can(Permission::Export),
            rows: data.items,
            q,
            f,
            errors: FormErrors::new(t, errors),
            kinds: codes(IncidentKind::ALL, IncidentKind::as_str),
            levels: codes(IncidentLevel::ALL, IncidentLevel::as_str),
            states: codes(IncidentState::ALL, IncidentState::as_str),
            can_write: u.can(Permission::WriteData),
            t,
        },
    ))
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<IncidentQuery>,
) -> WebResult<Response> {
    let region = ctx.user()?.user.region_code.clone();
    let f = FormData::new(vec![("regions".into(), region)]);
    list(&state, &ctx, q, f, vec![]).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match parse(&f) {
        Ok(input) => create_incident(&state, &ctx, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/incidents/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => {
            list(&state, &ctx, IncidentQuery::default(), f, errors).await
        }
        Err(e) => Err(e),
    }
}

/// The incidents in scope (as filtered) as a sheet.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<IncidentQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "incident", Permission::Export)?;
    let u = export.user();
    let flt = filter_of(&q)?;
    let t = ctx.tr();
    let list = {
        let mut c = state.db.read().await?;
        incidents::list_all(&mut c, &u.scope(), &flt, excel::MAX_ROWS).await?
    };
    crate::ui::list::check_batch(
        crate::ui::list::batch_ids(q.ids.as_deref())?.as_ref(),
        list.len(),
    )?;
    let headers = [
        "field.title",
        "field.kind",
        "field.level",
        "field.response_level",
        "field.region",
        "field.started_at",
        "field.state",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|i| {
            vec![
                i.title.as_str().into(),
                t.get(&format!("emergency.kind.{}", i.kind)).into(),
                t.get(&format!("emergency.level.l{}", i.level)).into(),
                i.response_level
                    .as_deref()
                    .map(|l| t.get(&format!("emergency.level.l{l}")).to_owned())
                    .unwrap_or_default()
                    .into(),
                shegong_domain::network::region::display_path(i.region_path.split('/')).into(),
                local(i.started_at).into(),
                t.get(&format!("emergency.state.{}", i.state)).into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.incidents", &headers, &rows, vec![])
        .await
}

/// An incident's deployments as a sheet: team, role, from, to, members.
pub async fn export_deployments(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "incident_deployment", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let list = {
        let mut c = state.db.read().await?;
        incidents::deployments(&mut c, &u.scope(), &id).await?
    };
    let headers = [
        "field.team_id",
        "field.role",
        "field.from",
        "field.to",
        "field.member_ids",
        "emergency.person_count",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|d| {
            let names: Vec<&str> = d.members.iter().map(|m| m.name.as_str()).collect();
            vec![
                d.team_name.as_str().into(),
                t.get(&format!("emergency.role.{}", d.role)).into(),
                local(d.from_at).into(),
                local(d.to_at).into(),
                names.join("、").into(),
                Cell::Int(i64::try_from(d.members.len()).unwrap_or(0)),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "emergency.deployments",
            &headers,
            &rows,
            vec![Change::new("incident_id", None::<String>, Some(id))],
        )
        .await
}

#[derive(Template)]
#[template(path = "emergency/incident.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    inc: Incident,
    region: String,
    regions: Vec<String>,
    figures: Figures,
    events: Vec<Event>,
    deployments: Vec<Deployment>,
    days: Vec<ServiceDay>,
    teams: Vec<Team>,
    members: Vec<TeamMember>,
    next: Vec<&'static str>,
    roles: Vec<&'static str>,
    f: FormData,
    errors: FormErrors,
    can_write: bool,
}

impl DetailPage {
    fn local(&self, ms: &i64) -> String {
        local(*ms)
    }
    fn names(&self, d: &Deployment) -> String {
        let n: Vec<&str> = d.members.iter().map(|m| m.name.as_str()).collect();
        n.join("、")
    }
    fn checked(&self, id: &str) -> bool {
        self.f.all("member_ids").iter().any(|m| m == id)
    }
}

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    (notice, f, errors): (Option<&str>, FormData, Vec<FieldError>),
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let sc = u.scope();
    let can_write = u.can(Permission::WriteData);
    let mut c = state.db.read().await?;
    let i = incidents::get(&mut c, &sc, id).await?;
    let regions = incidents::regions(&mut c, &sc, id).await?;
    let figures = incidents::figures(&mut c, &sc, id).await?;
    let events = incidents::events(&mut c, &sc, id).await?;
    let deployments = incidents::deployments(&mut c, &sc, id).await?;
    let days = incidents::services_by_day(&mut c, &sc, id).await?;
    let (teams, members) = if can_write && i.state.is_open() {
        let all = teams::list(&mut c, &sc, None, PageRequest::new(Some(1), Some(200))).await?;
        (all.items, teams::all_members(&mut c, &sc).await?)
    } else {
        (vec![], vec![])
    };
    drop(c);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(
        status,
        &DetailPage {
            base: Base::new(
                ctx,
                i.title.clone(),
                vec![
                    Crumb::link(t.get("menu.incidents"), "/incidents"),
                    Crumb::here(i.title.clone()),
                ],
            )
            .with_notice(&t, notice),
            region: shegong_domain::network::region::display_path(i.region_path.split('/')),
            next: i.state.next().iter().map(|s| s.as_str()).collect(),
            roles: codes(TeamRole::ALL, TeamRole::as_str),
            inc: i,
            regions,
            figures,
            events,
            deployments,
            days,
            teams,
            members,
            f,
            errors: FormErrors::new(t, errors),
            can_write,
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
    let f = FormData::new(vec![]);
    detail(&state, &ctx, &id, (q.notice.as_deref(), f, vec![])).await
}

pub async fn transition_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match parse_transition(&f) {
        Ok(input) => transition(&state, &ctx, &id, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, (None, f, e)).await,
        Err(e) => Err(e),
    }
}

pub async fn deploy_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match parse_deployment(&f) {
        Ok(input) => deploy(&state, &ctx, &id, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, (None, f, e)).await,
        Err(e) => Err(e),
    }
}

/// This module's pages and API operations.
pub fn routes() -> Router<AppState> {
    use super::incidents_api as api;
    Router::new()
        .route("/incidents", get(list_page).post(create))
        .route("/incidents/export.xlsx", get(export))
        .route("/incidents/{id}", get(detail_page))
        .route("/incidents/{id}/transitions", post(transition_page))
        .route("/incidents/{id}/deployments", post(deploy_page))
        .route("/incidents/{id}/deployments.xlsx", get(export_deployments))
        .route(
            "/api/v1/incidents",
            get(api::api_list).post(api::api_create),
        )
        .route("/api/v1/incidents/{id}", get(api::api_get))
        .route(
            "/api/v1/incidents/{id}/transitions",
            post(api::api_transition),
        )
        .route(
            "/api/v1/incidents/{id}/deployments",
            get(api::api_deployments).post(api::api_deploy),
        )
}
