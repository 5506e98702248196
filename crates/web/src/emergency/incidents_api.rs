//! The incidents API: `/api/v1/incidents` (list, create), one incident with its regions,
//! figures, timeline and services by day, transitions and deployments. Same validation, scope
//! and audit as the pages.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_store::PageRequest;
use shegong_store::emergency::incidents::{self, Deployment, Figures, Incident};
use utoipa::ToSchema;

use super::incidents::{
    IncidentQuery, create_incident, deploy, parse, parse_deployment, parse_transition, transition,
};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::FormData;

/// An incident.
#[derive(Serialize, ToSchema)]
pub struct IncidentDto {
    pub id: String,
    pub title: String,
    /// `natural_disaster` (自然灾害), `accident` (事故灾难), `public_health` (公共卫生) or
    /// `social_safety` (社会安全).
    pub kind: String,
    /// `1`–`4`: 特别重大, 重大, 较大, 一般.
    pub level: String,
    pub response_level: Option<String>,
    /// The lowest common ancestor of the affected regions: the incident's scope.
    pub region_code: String,
    pub region_path: String,
    /// Epoch milliseconds.
    pub started_at: i64,
    /// `warning`, `response`, `handling`, `recovery` or `closed`.
    pub state: String,
    pub description: String,
}

fn dto(i: Incident) -> IncidentDto {
    IncidentDto {
        id: i.id,
        title: i.title,
        kind: i.kind.as_str().to_owned(),
        level: i.level.as_str().to_owned(),
        response_level: i.response_level,
        region_code: i.region_code,
        region_path: i.region_path,
        started_at: i.started_at,
        state: i.state.as_str().to_owned(),
        description: i.description,
    }
}

#[derive(Serialize, ToSchema)]
pub struct IncidentPage {
    pub items: Vec<IncidentDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The incident's figures, read from its own rows.
#[derive(Serialize, ToSchema)]
pub struct IncidentFiguresDto {
    pub deployed_members: i64,
    pub deployments: i64,
    pub person_days: i64,
    pub services: i64,
    pub person_times: i64,
    pub minutes: i64,
}

fn figures_dto(f: Figures) -> IncidentFiguresDto {
    IncidentFiguresDto {
        deployed_members: f.deployed_members,
        deployments: f.deployments,
        person_days: f.person_days,
        services: f.services,
        person_times: f.person_times,
        minutes: f.minutes,
    }
}

/// A state change on the timeline.
#[derive(Serialize, ToSchema)]
pub struct IncidentEventDto {
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
    pub user_id: String,
    /// Epoch milliseconds.
    pub at: i64,
}

/// Services tagged with the incident on one day.
#[derive(Serialize, ToSchema)]
pub struct IncidentServiceDayDto {
    #[schema(format = Date)]
    pub served_on: String,
    pub services: i64,
    pub person_times: i64,
    pub minutes: i64,
}

#[derive(Serialize, ToSchema)]
pub struct IncidentDetailDto {
    #[serde(flatten)]
    pub incident: IncidentDto,
    /// The affected region codes.
    pub regions: Vec<String>,
    pub figures: IncidentFiguresDto,
    pub timeline: Vec<IncidentEventDto>,
    pub services_by_day: Vec<IncidentServiceDayDto>,
}

/// A deployment of team members.
#[derive(Serialize, ToSchema)]
pub struct DeploymentDto {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub role: String,
    /// Epoch milliseconds.
    pub from: i64,
    pub to: i64,
    pub note: String,
    /// Team member ids.
    pub member_ids: Vec<String>,
    pub member_names: Vec<String>,
}

fn deployment_dto(d: Deployment) -> DeploymentDto {
    DeploymentDto {
        member_ids: d.members.iter().map(|m| m.member_id.clone()).collect(),
        member_names: d.members.into_iter().map(|m| m.name).collect(),
        id: d.id,
        team_id: d.team_id,
        team_name: d.team_name,
        role: d.role,
        from: d.from_at,
        to: d.to_at,
        note: d.note,
    }
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<IncidentDetailDto> {
    let u = reader(ctx)?;
    let sc = u.scope();
    let mut c = state.db.read().await?;
    let i = incidents::get(&mut c, &sc, id).await?;
    let regions = incidents::regions(&mut c, &sc, id).await?;
    let figures = incidents::figures(&mut c, &sc, id).await?;
    let events = incidents::events(&mut c, &sc, id).await?;
    let days = incidents::services_by_day(&mut c, &sc, id).await?;
    Ok(IncidentDetailDto {
        incident: dto(i),
        regions,
        figures: figures_dto(figures),
        timeline: events
            .into_iter()
            .map(|e| IncidentEventDto {
                from_state: e.from_state,
                to_state: e.to_state,
                note: e.note,
                user_id: e.created_by,
                at: e.created_at,
            })
            .collect(),
        services_by_day: days
            .into_iter()
            .map(|d| IncidentServiceDayDto {
                served_on: d.served_on,
                services: d.services,
                person_times: d.person_times,
                minutes: d.minutes,
            })
            .collect(),
    })
}

/// Incidents in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "emergency", params(IncidentQuery),
    responses((status = 200, body = IncidentPage), (status = 422, description = "A filter refused, named")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<IncidentQuery>,
) -> WebResult<Json<IncidentPage>> {
    let u = reader(&ctx)?;
    let flt = super::incidents::filter_of(&q)?;
    let mut c = state.db.read().await?;
    let p = incidents::list(
        &mut c,
        &u.scope(),
        &flt,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(IncidentPage {
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        items: p.items.into_iter().map(dto).collect(),
    }))
}

/// One incident with its affected regions, figures, timeline and services by day.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "emergency", params(("id" = String, Path)),
    responses((status = 200, body = IncidentDetailDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<IncidentDetailDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"title": "7·15 暴雨洪涝", "kind": "natural_disaster", "level": "3", "response_level": "4",
    "regions": ["430203001", "430203002"], "started_at": "2026-07-15T06:00", "state": "warning"}))]
pub struct IncidentBody {
    pub title: String,
    #[schema(schema_with = super::code::kind)]
    pub kind: String,
    #[schema(schema_with = super::code::level)]
    pub level: String,
    /// `1`–`4`, or empty for none yet.
    #[serde(default)]
    #[schema(schema_with = super::code::response_level)]
    pub response_level: String,
    /// Affected region codes, all in the caller's scope.
    pub regions: Vec<String>,
    /// Local time (China Standard Time), `YYYY-MM-DDTHH:MM`.
    pub started_at: String,
    /// The first state: `warning` (the default) or `response`.
    #[serde(default)]
    #[schema(schema_with = super::code::first_state)]
    pub state: String,
    #[serde(default)]
    pub description: String,
}

/// Record an incident; every refused field named, nothing written.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "emergency", request_body = IncidentBody,
    responses((status = 201, body = IncidentDetailDto), (status = 403, description = "May not change data"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<IncidentBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut pairs = vec![
        ("title".into(), b.title),
        ("kind".into(), b.kind),
        ("level".into(), b.level),
        ("response_level".into(), b.response_level),
        ("started_at".into(), b.started_at),
        ("state".into(), b.state),
        ("description".into(), b.description),
    ];
    pairs.extend(b.regions.into_iter().map(|r| ("regions".to_owned(), r)));
    let input = parse(&FormData::new(pairs)).map_err(WebError::Invalid)?;
    let id = create_incident(&state, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"state": "response", "note": "启动四级响应"}))]
pub struct TransitionBody {
    /// The next state: one step forward, or `closed`.
    #[schema(schema_with = super::code::state)]
    pub state: String,
    #[serde(default)]
    pub note: String,
}

/// Move the incident to its next state (recorded on the timeline); an illegal move is refused
/// on `state`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transitions", tag = "emergency", params(("id" = String, Path)),
    request_body = TransitionBody,
    responses((status = 200, body = IncidentDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Transition refused (named on `state`)")))]
pub async fn api_transition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<TransitionBody>,
) -> WebResult<Json<IncidentDetailDto>> {
    writer(&ctx)?;
    let f = FormData::new(vec![("state".into(), b.state), ("note".into(), b.note)]);
    let input = parse_transition(&f).map_err(WebError::Invalid)?;
    transition(&state, &ctx, &id, input).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// The incident's deployments, by start.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/deployments", tag = "emergency", params(("id" = String, Path)),
    responses((status = 200, body = Vec<DeploymentDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_deployments(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<DeploymentDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let list = incidents::deployments(&mut c, &u.scope(), &id).await?;
    Ok(Json(list.into_iter().map(deployment_dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"team_id": "0190f1c2-0000-7000-8000-000000000000",
    "member_ids": ["0190f1c2-0000-7000-8000-000000000001"], "role": "execution",
    "from": "2026-07-15T08:00", "to": "2026-07-17T20:00"}))]
pub struct DeploymentBody {
    /// A team in the caller's scope.
    pub team_id: String,
    /// Members of that team (team member ids).
    pub member_ids: Vec<String>,
    #[schema(schema_with = super::code::role)]
    pub role: String,
    /// Local time (China Standard Time), `YYYY-MM-DDTHH:MM`.
    pub from: String,
    /// After `from`.
    pub to: String,
    #[serde(default)]
    pub note: String,
}

/// Deploy team members; refused, named and with nothing written, for a closed incident, `to`
/// not after `from`, a member not in the team, or a member already deployed in an overlapping
/// period (to this or another incident).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/deployments", tag = "emergency", params(("id" = String, Path)),
    request_body = DeploymentBody,
    responses((status = 201, body = DeploymentDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_deploy(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<DeploymentBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut pairs = vec![
        ("team_id".into(), b.team_id),
        ("role".into(), b.role),
        ("from".into(), b.from),
        ("to".into(), b.to),
        ("note".into(), b.note),
    ];
    pairs.extend(
        b.member_ids
            .into_iter()
            .map(|m| ("member_ids".to_owned(), m)),
    );
    let input = parse_deployment(&FormData::new(pairs)).map_err(WebError::Invalid)?;
    let did = deploy(&state, &ctx, &id, input).await?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let d = incidents::deployments(&mut c, &u.scope(), &id)
        .await?
        .into_iter()
        .find(|d| d.id == did)
        .ok_or(WebError::NotFound)?;
    Ok((StatusCode::CREATED, Json(deployment_dto(d))).into_response())
}
