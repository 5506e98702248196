//! Volunteer teams (`/volunteer-teams`, `/api/v1/volunteer-teams`): registered with their
//! registration number, or hosted by a liaison station; members are volunteers of the team's
//! region. Every change audited; out of scope is not found.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shegong_domain::network::org::{UsccCheck, check_uscc};
use shegong_domain::{FieldError, Permission};
use shegong_store::PageRequest;
use shegong_store::admin::audit::Change;
use shegong_store::volunteers::teams::{self, Member, Team, TeamInput};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, pager};

#[derive(Deserialize, IntoParams, Default)]
pub struct TeamQuery {
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
    let registered = f.has("registered", "1") || f.has("registered", "true");
    let registration_no = match f.get("registration_no").trim() {
        "" => None,
        v => match check_uscc(v) {
            Ok(UsccCheck::Valid(n) | UsccCheck::CheckMismatch(n)) => Some(n),
            Err(_) => {
                c.fail("registration_no", "uscc.invalid_format");
                None
            }
        },
    };
    let station_id = Some(f.get("station").trim().to_owned()).filter(|s| !s.is_empty());
    if station_id.as_ref().is_some_and(|s| s.len() > 64) {
        c.fail("station", "staff.station_unknown");
    }
    if !registered && registration_no.is_some() {
        c.fail("registration_no", "team.registration_no_unregistered");
    }
    for e in shegong_domain::volunteers::check_team(
        registered,
        registration_no.as_deref(),
        station_id.is_some(),
    ) {
        c.fail(e.field, e.code);
    }
    c.finish()?;
    let Some(region) = region else {
        return Err(vec![FieldError::new("region", "form.required")]);
    };
    Ok(TeamInput {
        region,
        name,
        registered,
        registration_no,
        station_id,
    })
}

async fn create_team(state: &AppState, ctx: &Ctx, input: TeamInput) -> WebResult<String> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_team", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = teams::create(conn, &scope, &input, &by, now).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.to_string()),
                    changes: vec![
                        Change::new("name", None::<String>, Some(input.name.clone())),
                        Change::new("registered", None::<String>, Some(input.registered)),
                        Change::new("station", None::<String>, input.station_id.clone()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Add (`join`) or remove a member, audited on the team.
async fn change_member(
    state: &AppState,
    ctx: &Ctx,
    team_id: &str,
    volunteer_id: String,
    join: bool,
) -> WebResult<()> {
    if volunteer_id.trim().is_empty() || volunteer_id.len() > 64 {
        return Err(FieldError::new("volunteer_id", "team.volunteer_unknown").into());
    }
    let (tid, day) = (team_id.to_owned(), today(state.now()));
    let action = if join { "add_member" } else { "remove_member" };
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_team", action),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let team = if join {
                    teams::add_member(conn, &scope, &tid, &volunteer_id, &day).await?
                } else {
                    teams::remove_member(conn, &scope, &tid, &volunteer_id).await?
                };
                let done = Done {
                    entity_id: tid,
                    region: Some(team.region_code),
                    changes: vec![Change::new(
                        "volunteer_id",
                        None::<String>,
                        Some(volunteer_id),
                    )],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "volunteers/teams.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Team>,
    pager: Pager,
    q: TeamQuery,
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
        self.errors
            .others(&["name", "region", "registered", "registration_no", "station"])
    }
}

async fn list(
    state: &AppState,
    ctx: &Ctx,
    q: TeamQuery,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    if q.q.as_ref().is_some_and(|x| x.chars().count() > 100) {
        return Err(FieldError::new("q", "form.too_long").into());
    }
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
        super::registry::station_choices(state, &u.scope()).await?
    } else {
        vec![]
    };
    let pairs = vec![("q", q.q.clone().unwrap_or_default())];
    let title = t.get("menu.volunteer_teams");
    Ok(page(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &ListPage {
            base: Base::new(ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/volunteer-teams", &pairs)?,
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
    Query(q): Query<TeamQuery>,
) -> WebResult<Response> {
    let region = ctx.user()?.user.region_code.clone();
    list(
        &state,
        &ctx,
        q,
        FormData::new(vec![("region".into(), region)]),
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
        Ok(input) => create_team(&state, &ctx, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match result {
        Ok(id) => {
            Ok(Redirect::to(&format!("/volunteer-teams/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => list(&state, &ctx, TeamQuery::default(), f, errors).await,
        Err(e) => Err(e),
    }
}

/// The teams in scope (as filtered) as a sheet: name, region, registration, host station, members.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TeamQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "volunteer_team", Permission::Export)?;
    let u = export.user();
    if q.q.as_ref().is_some_and(|x| x.chars().count() > 100) {
        return Err(FieldError::new("q", "form.too_long").into());
    }
    let t = ctx.tr();
    let list = {
        let mut c = state.db.read().await?;
        teams::list_all(&mut c, &u.scope(), q.q.as_deref(), excel::MAX_ROWS).await?
    };
    let headers = [
        "team.name",
        "volunteer.region",
        "team.registered",
        "team.station",
        "team.members",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|r| {
            let registration = if r.registered == 1 {
                r.registration_no.clone().unwrap_or_default()
            } else {
                t.get("team.unregistered").to_owned()
            };
            vec![
                r.name.as_str().into(),
                shegong_domain::network::region::display_path(r.region_path.split('/')).into(),
                registration.into(),
                r.station_name.clone().unwrap_or_default().into(),
                Cell::Int(r.members),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "menu.volunteer_teams",
            &headers,
            &rows,
            vec![],
        )
        .await
}

#[derive(Template)]
#[template(path = "volunteers/team.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    team: Team,
    region: String,
    members: Vec<Member>,
    can_write: bool,
    error: Option<String>,
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
    let (team, members) = {
        let mut c = state.db.read().await?;
        let team = teams::get(&mut c, &u.scope(), id).await?;
        let members = teams::members(&mut c, &u.scope(), id).await?;
        (team, members)
    };
    let error = error.map(|e| {
        let label = t.get(&format!("field.{}", e.field)).to_owned();
        format!("{label}{}{}", t.get("punct.colon"), t.get(e.code))
    });
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &DetailPage {
            base: Base::new(
                ctx,
                team.name.clone(),
                vec![
                    Crumb::link(t.get("menu.volunteer_teams"), "/volunteer-teams"),
                    Crumb::here(team.name.clone()),
                ],
            )
            .with_notice(&t, notice),
            region: shegong_domain::network::region::display_path(team.region_path.split('/')),
            team,
            members,
            can_write: u.can(Permission::WriteData),
            error,
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

async fn member_page(
    state: AppState,
    ctx: Ctx,
    id: String,
    f: FormData,
    join: bool,
) -> WebResult<Response> {
    writer(&ctx)?;
    let vid = f.get("volunteer_id").trim().to_owned();
    match change_member(&state, &ctx, &id, vid, join).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/volunteer-teams/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, None, e.into_iter().next()).await,
        Err(e) => Err(e),
    }
}

pub async fn add_member_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    member_page(state, ctx, id, f, true).await
}

pub async fn remove_member_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    member_page(state, ctx, id, f, false).await
}

/// A team as the API shows it, with its members.
#[derive(Serialize, ToSchema)]
pub struct TeamDto {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub region_path: String,
    pub registered: bool,
    /// 统一社会信用代码, for a registered team.
    pub registration_no: Option<String>,
    /// The liaison or host station.
    pub station_id: Option<String>,
    pub members: i64,
}

fn dto(t: Team) -> TeamDto {
    TeamDto {
        id: t.id,
        name: t.name,
        region_code: t.region_code,
        region_path: t.region_path,
        registered: t.registered == 1,
        registration_no: t.registration_no,
        station_id: t.station_id,
        members: t.members,
    }
}

#[derive(Serialize, ToSchema)]
pub struct TeamDetailDto {
    #[serde(flatten)]
    pub team: TeamDto,
    pub member_list: Vec<MemberDto>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    pub volunteer_id: String,
    pub volunteer_no: String,
    pub name: String,
    #[schema(format = Date)]
    pub joined_on: String,
}

#[derive(Serialize, ToSchema)]
pub struct TeamPage {
    pub items: Vec<TeamDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<TeamDetailDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let team = teams::get(&mut c, &u.scope(), id).await?;
    let members = teams::members(&mut c, &u.scope(), id).await?;
    Ok(TeamDetailDto {
        team: dto(team),
        member_list: members
            .into_iter()
            .map(|m| MemberDto {
                volunteer_id: m.volunteer_id,
                volunteer_no: m.volunteer_no,
                name: m.name,
                joined_on: m.joined_on,
            })
            .collect(),
    })
}

/// Volunteer teams in the caller's scope.
#[utoipa::path(get, path = "/api/v1/volunteer-teams", tag = "volunteers", params(TeamQuery),
    responses((status = 200, body = TeamPage), (status = 422, description = "A filter refused, named")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TeamQuery>,
) -> WebResult<Json<TeamPage>> {
    let u = reader(&ctx)?;
    if q.q.as_ref().is_some_and(|x| x.chars().count() > 100) {
        return Err(FieldError::new("q", "form.too_long").into());
    }
    let mut c = state.db.read().await?;
    let p = teams::list(
        &mut c,
        &u.scope(),
        q.q.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(TeamPage {
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        items: p.items.into_iter().map(dto).collect(),
    }))
}

/// One team with its members.
#[utoipa::path(get, path = "/api/v1/volunteer-teams/{id}", tag = "volunteers", params(("id" = String, Path)),
    responses((status = 200, body = TeamDetailDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<TeamDetailDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "贺家土街道助老志愿服务队", "region_code": "430203001", "registered": false,
    "station_id": "0190f1c2-0000-7000-8000-000000000000"}))]
pub struct TeamBody {
    pub name: String,
    /// A region code in the caller's scope.
    pub region_code: String,
    #[serde(default)]
    pub registered: bool,
    /// Required for a registered team (统一社会信用代码); refused for an unregistered one.
    #[serde(default)]
    pub registration_no: Option<String>,
    /// The liaison or host station; required for an unregistered team.
    #[serde(default)]
    pub station_id: Option<String>,
}

/// Create a team; every refused field named, nothing written.
#[utoipa::path(post, path = "/api/v1/volunteer-teams", tag = "volunteers", request_body = TeamBody,
    responses((status = 201, body = TeamDetailDto), (status = 403, description = "May not change data"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<TeamBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = FormData::new(vec![
        ("name".into(), body.name),
        ("region".into(), body.region_code),
        (
            "registered".into(),
            if body.registered { "1" } else { "" }.into(),
        ),
        (
            "registration_no".into(),
            body.registration_no.unwrap_or_default(),
        ),
        ("station".into(), body.station_id.unwrap_or_default()),
    ]);
    let input = parse(&f).map_err(WebError::Invalid)?;
    let id = create_team(&state, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"volunteer_id": "0190f1c2-0000-7000-8000-000000000000"}))]
pub struct MemberBody {
    /// A volunteer in the caller's scope, of the team's region.
    pub volunteer_id: String,
}

/// Add a volunteer to the team.
#[utoipa::path(post, path = "/api/v1/volunteer-teams/{id}/members", tag = "volunteers", params(("id" = String, Path)),
    request_body = MemberBody,
    responses((status = 201, body = TeamDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Volunteer unknown, of another region or already a member")))]
pub async fn api_add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<MemberBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    change_member(&state, &ctx, &id, body.volunteer_id, true).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

/// Remove a volunteer from the team (what the team page's remove button does).
#[utoipa::path(delete, path = "/api/v1/volunteer-teams/{id}/members/{volunteer_id}", tag = "volunteers",
    params(("id" = String, Path), ("volunteer_id" = String, Path)),
    responses((status = 200, body = TeamDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "The volunteer is not a member (named on `volunteer_id`)")))]
pub async fn api_remove_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, volunteer_id)): Path<(String, String)>,
) -> WebResult<Json<TeamDetailDto>> {
    writer(&ctx)?;
    change_member(&state, &ctx, &id, volunteer_id, false).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// This module's pages and API operations.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/volunteer-teams", get(list_page).post(create))
        .route("/volunteer-teams/export.xlsx", get(export))
        .route("/volunteer-teams/{id}", get(detail_page))
        .route("/volunteer-teams/{id}/members", post(add_member_page))
        .route(
            "/volunteer-teams/{id}/members/remove",
            post(remove_member_page),
        )
        .route("/api/v1/volunteer-teams", get(api_list).post(api_create))
        .route("/api/v1/volunteer-teams/{id}", get(api_get))
        .route("/api/v1/volunteer-teams/{id}/members", post(api_add_member))
        .route(
            "/api/v1/volunteer-teams/{id}/members/{volunteer_id}",
            axum::routing::delete(api_remove_member),
        )
}
