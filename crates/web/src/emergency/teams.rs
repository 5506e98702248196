//! Emergency social-work teams (`/emergency-teams`, `/api/v1/emergency-teams`): a name, a
//! region and optionally a host station; members drawn from staff and volunteers of the team's
//! region, each in a group (评估组/执行组/后勤组) and possibly a reserve. Every change audited;
//! out of scope is not found.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shegong_domain::emergency::TeamRole;
use shegong_domain::{FieldError, Permission};
use shegong_store::PageRequest;
use shegong_store::admin::audit::Change;
use shegong_store::emergency::teams::{self, Member, MemberInput, Team, TeamInput};
use utoipa::{IntoParams, ToSchema};

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
pub struct EmergencyTeamQuery {
    /// Name contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

/// Parse the team form (or API body in its shape); every refused field named.
pub fn parse(f: &FormData) -> Result<TeamInput, Vec<FieldError>> {
    let mut c = Check::default();
    let name = c.name("name", f.get("name").trim(), 100);
    let region = c.region("region", f.get("region").trim());
    let station_id = Some(f.get("station").trim().to_owned()).filter(|s| !s.is_empty());
    if station_id.as_ref().is_some_and(|s| s.len() > 64) {
        c.fail("station", "staff.station_unknown");
    }
    c.finish()?;
    let Some(region) = region else {
        return Err(vec![FieldError::new("region", "form.required")]);
    };
    Ok(TeamInput {
        region,
        name,
        station_id,
    })
}

/// Parse a member form: `member` is `staff:<id>` or `volunteer:<id>` (the page's choice), or the
/// API's `staff_id` / `volunteer_id`.
pub fn parse_member(f: &FormData) -> Result<MemberInput, Vec<FieldError>> {
    let mut c = Check::default();
    let (mut staff_id, mut volunteer_id) = (
        Some(f.get("staff_id").trim().to_owned()).filter(|s| !s.is_empty()),
        Some(f.get("volunteer_id").trim().to_owned()).filter(|s| !s.is_empty()),
    );
    match f.get("member").trim().split_once(':') {
        Some(("staff", id)) => staff_id = Some(id.to_owned()),
        Some(("volunteer", id)) => volunteer_id = Some(id.to_owned()),
        _ => {}
    }
    if staff_id
        .iter()
        .chain(volunteer_id.iter())
        .any(|s| s.len() > 64)
    {
        c.fail("staff_id", "emergency.staff_unknown");
    }
    if staff_id.is_none() && volunteer_id.is_none() {
        c.fail("member", "form.required");
    }
    let role = f.get("role").trim().to_owned();
    if let Err(e) = TeamRole::parse(&role) {
        c.fail(e.field, e.code);
    }
    c.finish()?;
    Ok(MemberInput {
        staff_id,
        volunteer_id,
        role,
        reserve: f.has("reserve", "1") || f.has("reserve", "true"),
    })
}

async fn create_team(state: &AppState, ctx: &Ctx, input: TeamInput) -> WebResult<String> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("emergency_team", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = teams::create(conn, &scope, &input, &by, now).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.to_string()),
                    changes: vec![
                        Change::new("name", None::<String>, Some(input.name.clone())),
                        Change::new("station", None::<String>, input.station_id.clone()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

async fn add_member(
    state: &AppState,
    ctx: &Ctx,
    team_id: &str,
    input: MemberInput,
) -> WebResult<String> {
    let (tid, now) = (team_id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("emergency_team", "add_member"),
        move |conn, scope, _| -> WorkWith<'_, String> {
            Box::pin(async move {
                let (team, id) = teams::add_member(conn, &scope, &tid, &input, now).await?;
                let done = Done {
                    entity_id: tid,
                    region: Some(team.region_code),
                    changes: vec![
                        Change::new("staff_id", None::<String>, input.staff_id.clone()),
                        Change::new("volunteer_id", None::<String>, input.volunteer_id.clone()),
                        Change::new("role", None::<String>, Some(input.role.clone())),
                        Change::new("reserve", None::<String>, Some(input.reserve)),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

async fn station_choices(
    state: &AppState,
    scope: &shegong_domain::Scope,
) -> WebResult<Vec<(String, String)>> {
    use shegong_store::network::stations;
    let mut c = state.db.read().await?;
    let page = PageRequest {
        page: 1,
        per_page: 5000,
    };
    Ok(
        stations::list(&mut c, scope, &stations::Filter::default(), page)
            .await?
            .items
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
    )
}

#[derive(Template)]
#[template(path = "emergency/teams.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Team>,
    pager: Pager,
    q: EmergencyTeamQuery,
    f: FormData,
    errors: FormErrors,
    stations: Vec<(String, String)>,
    can_write: bool,
}

impl ListPage {
    fn region(&self, t: &Team) -> String {
        shegong_domain::network::region::display_path(t.region_path.split('/'))
    }
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&["name", "region", "station"])
    }
}

fn check_q(q: Option<&String>) -> WebResult<()> {
    if q.is_some_and(|x| x.chars().count() > 100) {
        return Err(FieldError::new("q", "form.too_long").into());
    }
    Ok(())
}

async fn list(
    state: &AppState,
    ctx: &Ctx,
    q: EmergencyTeamQuery,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    check_q(q.q.as_ref())?;
    let data = {
        let mut c = state.db.read().await?;
        teams::list(
            &mut c,
            &u.scope(),
            q.q.as_deref(),
            PageRequest::new(q.page, q.per_page),
        )
        .await?
    };
    let can_write = u.can(Permission::WriteData);
    let stations = if can_write {
        station_choices(state, &u.scope()).await?
    } else {
        vec![]
    };
    let pairs = vec![("q", q.q.clone().unwrap_or_default())];
    let title = t.get("menu.emergency_teams");
    Ok(page(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &ListPage {
            base: Base::new(ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/emergency-teams", &pairs)?,
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
    Query(q): Query<EmergencyTeamQuery>,
) -> WebResult<Response> {
    let region = ctx.user()?.user.region_code.clone();
    let f = FormData::new(vec![("region".into(), region)]);
    list(&state, &ctx, q, f, vec![]).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match parse(&f) {
        Ok(input) => create_team(&state, &ctx, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match result {
        Ok(id) => {
            Ok(Redirect::to(&format!("/emergency-teams/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => {
            list(&state, &ctx, EmergencyTeamQuery::default(), f, errors).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "emergency/team.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    team: Team,
    region: String,
    members: Vec<Member>,
    candidates: Vec<(String, String, String)>,
    roles: Vec<&'static str>,
    f: FormData,
    errors: FormErrors,
    can_write: bool,
}

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    (notice, f, errors): (Option<&str>, FormData, Vec<FieldError>),
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let can_write = u.can(Permission::WriteData);
    let (team, members, candidates) = {
        let mut c = state.db.read().await?;
        let team = teams::get(&mut c, &u.scope(), id).await?;
        let members = teams::members(&mut c, &u.scope(), id).await?;
        let candidates = if can_write {
            teams::candidates(&mut c, &u.scope(), &team).await?
        } else {
            vec![]
        };
        (team, members, candidates)
    };
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
                team.name.clone(),
                vec![
                    Crumb::link(t.get("menu.emergency_teams"), "/emergency-teams"),
                    Crumb::here(team.name.clone()),
                ],
            )
            .with_notice(&t, notice),
            region: shegong_domain::network::region::display_path(team.region_path.split('/')),
            team,
            members,
            candidates,
            roles: TeamRole::ALL.iter().map(|r| r.as_str()).collect(),
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

pub async fn add_member_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match parse_member(&f) {
        Ok(input) => add_member(&state, &ctx, &id, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(_) => {
            Ok(Redirect::to(&format!("/emergency-teams/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, (None, f, e)).await,
        Err(e) => Err(e),
    }
}

/// The teams in scope (as filtered) as a sheet: name, region, host station, members, reserves.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<EmergencyTeamQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "emergency_team", Permission::Export)?;
    let u = export.user();
    check_q(q.q.as_ref())?;
    let t = ctx.tr();
    let list = {
        let mut c = state.db.read().await?;
        teams::list_all(&mut c, &u.scope(), q.q.as_deref(), excel::MAX_ROWS).await?
    };
    let headers = [
        "field.name",
        "field.region",
        "field.station",
        "emergency.members",
        "emergency.reserves",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|r| {
            vec![
                r.name.as_str().into(),
                shegong_domain::network::region::display_path(r.region_path.split('/')).into(),
                r.station_name.clone().unwrap_or_default().into(),
                Cell::Int(r.members),
                Cell::Int(r.reserves),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "menu.emergency_teams",
            &headers,
            &rows,
            vec![],
        )
        .await
}

// ---------------------------------------------------------------- API

/// An emergency social-work team.
#[derive(Serialize, ToSchema)]
pub struct EmergencyTeamDto {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub region_path: String,
    /// The host station, if any.
    pub station_id: Option<String>,
    /// Members, not counting reserves.
    pub members: i64,
    pub reserves: i64,
}

fn dto(t: Team) -> EmergencyTeamDto {
    EmergencyTeamDto {
        id: t.id,
        name: t.name,
        region_code: t.region_code,
        region_path: t.region_path,
        station_id: t.station_id,
        members: t.members,
        reserves: t.reserves,
    }
}

/// A team member: a staff member or a volunteer.
#[derive(Serialize, ToSchema)]
pub struct EmergencyMemberDto {
    pub id: String,
    pub staff_id: Option<String>,
    pub volunteer_id: Option<String>,
    pub name: String,
    /// `assessment` (评估组), `execution` (执行组) or `logistics` (后勤组).
    pub role: String,
    pub reserve: bool,
}

fn member_dto(m: Member) -> EmergencyMemberDto {
    EmergencyMemberDto {
        id: m.id,
        staff_id: m.staff_id,
        volunteer_id: m.volunteer_id,
        name: m.name,
        role: m.role.as_str().to_owned(),
        reserve: m.reserve == 1,
    }
}

#[derive(Serialize, ToSchema)]
pub struct EmergencyTeamDetailDto {
    #[serde(flatten)]
    pub team: EmergencyTeamDto,
    pub member_list: Vec<EmergencyMemberDto>,
}

#[derive(Serialize, ToSchema)]
pub struct EmergencyTeamPage {
    pub items: Vec<EmergencyTeamDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<EmergencyTeamDetailDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let team = teams::get(&mut c, &u.scope(), id).await?;
    let members = teams::members(&mut c, &u.scope(), id).await?;
    Ok(EmergencyTeamDetailDto {
        team: dto(team),
        member_list: members.into_iter().map(member_dto).collect(),
    })
}

/// Emergency teams in the caller's scope.
#[utoipa::path(get, path = "/api/v1/emergency-teams", tag = "emergency", params(EmergencyTeamQuery),
    responses((status = 200, body = EmergencyTeamPage), (status = 422, description = "A filter refused, named")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<EmergencyTeamQuery>,
) -> WebResult<Json<EmergencyTeamPage>> {
    let u = reader(&ctx)?;
    check_q(q.q.as_ref())?;
    let mut c = state.db.read().await?;
    let p = teams::list(
        &mut c,
        &u.scope(),
        q.q.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(EmergencyTeamPage {
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        items: p.items.into_iter().map(dto).collect(),
    }))
}

/// One team with its members.
#[utoipa::path(get, path = "/api/v1/emergency-teams/{id}", tag = "emergency", params(("id" = String, Path)),
    responses((status = 200, body = EmergencyTeamDetailDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<EmergencyTeamDetailDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "芦淞区应急社会工作服务队", "region_code": "430203"}))]
pub struct EmergencyTeamBody {
    pub name: String,
    /// A region code in the caller's scope.
    pub region_code: String,
    /// A host station in scope, of the team's region.
    #[serde(default)]
    pub station_id: Option<String>,
}

/// Create a team; every refused field named, nothing written.
#[utoipa::path(post, path = "/api/v1/emergency-teams", tag = "emergency", request_body = EmergencyTeamBody,
    responses((status = 201, body = EmergencyTeamDetailDto), (status = 403, description = "May not change data"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<EmergencyTeamBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = FormData::new(vec![
        ("name".into(), body.name),
        ("region".into(), body.region_code),
        ("station".into(), body.station_id.unwrap_or_default()),
    ]);
    let input = parse(&f).map_err(WebError::Invalid)?;
    let id = create_team(&state, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"staff_id": "0190f1c2-0000-7000-8000-000000000000", "role": "assessment", "reserve": false}))]
pub struct EmergencyMemberBody {
    /// A staff member in scope, of the team's region (or give `volunteer_id`).
    #[serde(default)]
    pub staff_id: Option<String>,
    /// A volunteer in scope, of the team's region (or give `staff_id`).
    #[serde(default)]
    pub volunteer_id: Option<String>,
    /// `assessment`, `execution` or `logistics`.
    #[schema(schema_with = super::code::role)]
    pub role: String,
    #[serde(default)]
    pub reserve: bool,
}

/// Add a staff member or volunteer to the team.
#[utoipa::path(post, path = "/api/v1/emergency-teams/{id}/members", tag = "emergency", params(("id" = String, Path)),
    request_body = EmergencyMemberBody,
    responses((status = 201, body = EmergencyTeamDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Person unknown, of another region or already a member; group unknown (named)")))]
pub async fn api_add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<EmergencyMemberBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = FormData::new(vec![
        ("staff_id".into(), b.staff_id.unwrap_or_default()),
        ("volunteer_id".into(), b.volunteer_id.unwrap_or_default()),
        ("role".into(), b.role),
        ("reserve".into(), if b.reserve { "1" } else { "" }.into()),
    ]);
    let input = parse_member(&f).map_err(WebError::Invalid)?;
    add_member(&state, &ctx, &id, input).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

/// This module's pages and API operations.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/emergency-teams", get(list_page).post(create))
        .route("/emergency-teams/export.xlsx", get(export))
        .route("/emergency-teams/{id}", get(detail_page))
        .route("/emergency-teams/{id}/members", post(add_member_page))
        .route("/api/v1/emergency-teams", get(api_list).post(api_create))
        .route("/api/v1/emergency-teams/{id}", get(api_get))
        .route("/api/v1/emergency-teams/{id}/members", post(api_add_member))
}
