//! The workforce pages' changes by API (issue 19 item 5): editing a staff record, certificates
//! and trainings, supervision pairs, sessions, 三区计划 teams and members, and the staffing
//! rule. Each JSON body is read as the page's form and goes through the page's own check and
//! save functions: the same rules, scope, permission and audit entry.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::FormData;
use crate::workforce::dashboard::save_rule;
use crate::workforce::staff::{load, parse_certificate, save_certificate};
use crate::workforce::staff_api::{StaffDto, dto};
use crate::workforce::staff_form::save_update;
use crate::workforce::supervision::{
    parse_pair, parse_session, parse_team, save_member, save_pair, save_session, save_team,
};
use crate::workforce::training::{parse_training, save_training};

fn form(pairs: &[(&str, &str)]) -> FormData {
    FormData::new(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

/// A staff record's fields as the edit form has them.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "王小明", "id_type": "resident_id", "role": "frontline",
    "employment_mode": "direct", "joined_on": "2020-01-01", "region_code": "430203"}))]
pub struct StaffUpdateBody {
    pub name: String,
    pub id_type: String,
    /// Empty keeps the current number.
    #[serde(default)]
    pub id_number: String,
    /// Empty keeps the current number unless `clear_mobile`.
    #[serde(default)]
    pub mobile: String,
    /// Remove the mobile number.
    #[serde(default)]
    pub clear_mobile: bool,
    #[serde(default)]
    pub sex: String,
    /// `YYYY-MM-DD`; suggested from the identity number when empty.
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub education: String,
    #[serde(default)]
    pub major: String,
    pub role: String,
    pub employment_mode: String,
    #[serde(default)]
    pub sector: String,
    pub station_id: Option<String>,
    /// Work region when there is no station.
    pub region_code: Option<String>,
    pub employer_org_id: Option<String>,
    pub joined_on: String,
    /// `YYYY-MM-DD`, when the person left.
    #[serde(default)]
    pub left_on: String,
    #[serde(default)]
    pub left_reason: String,
}

impl StaffUpdateBody {
    fn form(&self) -> FormData {
        form(&[
            ("name", &self.name),
            ("id_type", &self.id_type),
            ("id_number", &self.id_number),
            ("mobile", &self.mobile),
            ("clear_mobile", if self.clear_mobile { "1" } else { "" }),
            ("sex", &self.sex),
            ("birth_date", &self.birth_date),
            ("education", &self.education),
            ("major", &self.major),
            ("role", &self.role),
            ("employment_mode", &self.employment_mode),
            ("sector", &self.sector),
            ("station", self.station_id.as_deref().unwrap_or_default()),
            ("region", self.region_code.as_deref().unwrap_or_default()),
            (
                "employer",
                self.employer_org_id.as_deref().unwrap_or_default(),
            ),
            ("joined_on", &self.joined_on),
            ("left_on", &self.left_on),
            ("left_reason", &self.left_reason),
        ])
    }
}

/// Edit a staff record (as its edit form does). Audited; identity number and mobile changes are
/// recorded without their values.
#[utoipa::path(put, path = "/api/v1/staff/{id}", tag = "workforce", params(("id" = String, Path)),
    request_body = StaffUpdateBody,
    responses((status = 200, body = StaffDto), (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<StaffUpdateBody>,
) -> WebResult<Json<StaffDto>> {
    let u = writer(&ctx)?.clone();
    let s = load(&state, &u, &id).await?;
    save_update(&state, &ctx, &s, &b.form())
        .await?
        .map_err(WebError::Invalid)?;
    Ok(Json(dto(&state, load(&state, &u, &id).await?)))
}

/// A social work qualification certificate.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"level": "assistant", "number": "ZS2024001", "obtained_on": "2024-06-30"}))]
pub struct StaffCertificateBody {
    /// `assistant`, `intermediate` or `senior`.
    #[schema(schema_with = cert_levels)]
    pub level: String,
    #[schema(min_length = 1, max_length = 40)]
    pub number: String,
    /// `YYYY-MM-DD`, not in the future.
    #[schema(format = Date)]
    pub obtained_on: String,
    /// `YYYY-MM-DD`; three years from `obtained_on` when empty.
    #[serde(default)]
    pub registered_until: String,
}

fn cert_levels() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(["assistant", "intermediate", "senior"])
}

/// Record a certificate of a staff member (as their page does). Audited.
#[utoipa::path(post, path = "/api/v1/staff/{id}/certificates", tag = "workforce", params(("id" = String, Path)),
    request_body = StaffCertificateBody,
    responses((status = 201, body = StaffDto), (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_certificate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<StaffCertificateBody>,
) -> WebResult<Response> {
    let u = writer(&ctx)?.clone();
    load(&state, &u, &id).await?;
    let f = form(&[
        ("level", &b.level),
        ("number", &b.number),
        ("obtained_on", &b.obtained_on),
        ("registered_until", &b.registered_until),
    ]);
    let input = parse_certificate(&f, state.now()).map_err(WebError::Invalid)?;
    if let Some(e) = save_certificate(&state, &ctx, &id, input).await? {
        return Err(e.into());
    }
    let body = dto(&state, load(&state, &u, &id).await?);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A training attended.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"course": "个案管理实务", "provider": "市社工协会", "hours": "6", "held_on": "2024-05-10"}))]
pub struct StaffTrainingBody {
    #[schema(min_length = 1, max_length = 100)]
    pub course: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub provider: String,
    /// Hours, e.g. `1.5` (tenths at most).
    pub hours: String,
    /// `YYYY-MM-DD`, not in the future.
    #[schema(format = Date)]
    pub held_on: String,
}

/// Record a training of a staff member (as their page does: the same rules and audit entry).
#[utoipa::path(post, path = "/api/v1/staff/{id}/trainings", tag = "workforce", params(("id" = String, Path)),
    request_body = StaffTrainingBody,
    responses((status = 201, body = StaffDto), (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_training(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<StaffTrainingBody>,
) -> WebResult<Response> {
    let u = writer(&ctx)?.clone();
    load(&state, &u, &id).await?;
    let f = form(&[
        ("course", &b.course),
        ("provider", &b.provider),
        ("hours", &b.hours),
        ("held_on", &b.held_on),
    ]);
    let input = parse_training(&f, state.now()).map_err(WebError::Invalid)?;
    if let Some(e) = save_training(&state, &ctx, &id, input).await? {
        return Err(e.into());
    }
    let body = dto(&state, load(&state, &u, &id).await?);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The id of the record made.
#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

fn created(saved: Result<String, shegong_domain::FieldError>) -> WebResult<Response> {
    let id = saved.map_err(|e| WebError::Invalid(vec![e]))?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

/// A supervisor–supervisee pair: two staff records in the caller's scope.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"supervisor": "staff-id-1", "supervisee": "staff-id-2"}))]
pub struct PairBody {
    /// The supervisor's staff record.
    pub supervisor: String,
    /// The supervisee's staff record (not the supervisor's).
    pub supervisee: String,
    /// The supervisor's own account (a supervisor in scope), who then sees the pair's records.
    #[serde(default)]
    pub supervisor_account: Option<String>,
    /// `YYYY-MM-DD`; today when empty.
    #[serde(default)]
    pub from_date: String,
}

/// Pair a supervisor with a supervisee (managers and supervisors arrange supervision). Audited.
#[utoipa::path(post, path = "/api/v1/supervision/pairs", tag = "workforce", request_body = PairBody,
    responses((status = 201, body = Created), (status = 403, description = "Not permitted to arrange supervision"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_pair(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<PairBody>,
) -> WebResult<Response> {
    ctx.user()?
        .require(shegong_domain::Permission::ArrangeSupervision)?;
    let f = form(&[
        ("supervisor", &b.supervisor),
        ("supervisee", &b.supervisee),
        (
            "supervisor_account",
            b.supervisor_account.as_deref().unwrap_or_default(),
        ),
        ("from_date", &b.from_date),
    ]);
    let input = parse_pair(&f, state.now()).map_err(WebError::Invalid)?;
    created(save_pair(&state, &ctx, input).await?)
}

/// A supervision session.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"held_on": "2024-05-10", "hours": "2", "topics": "个案督导"}))]
pub struct SessionBody {
    #[schema(format = Date)]
    pub held_on: String,
    /// Hours, e.g. `1.5`.
    pub hours: String,
    #[schema(min_length = 1, max_length = 500)]
    pub topics: String,
}

/// Record a session of a pair the caller sees (a supervisor their own pairs'). Audited.
#[utoipa::path(post, path = "/api/v1/supervision/pairs/{id}/sessions", tag = "workforce", params(("id" = String, Path)),
    request_body = SessionBody,
    responses((status = 201, body = Created), (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown pair or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<SessionBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = form(&[
        ("held_on", &b.held_on),
        ("hours", &b.hours),
        ("topics", &b.topics),
    ]);
    let input = parse_session(&f).map_err(WebError::Invalid)?;
    created(save_session(&state, &ctx, id, input).await?)
}

/// A 三区计划 team hosted by a county.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region": "430203", "name": "三区计划服务队", "sending": "长沙市社工协会",
    "starts_on": "2024-01-01", "ends_on": "2024-12-31"}))]
pub struct SanquTeamBody {
    /// The host county, in the caller's scope.
    pub region: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The sending organisation.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub sending: String,
    #[schema(format = Date)]
    pub starts_on: String,
    /// Not before `starts_on`.
    #[schema(format = Date)]
    pub ends_on: String,
}

/// Register a 三区计划 team. Audited.
#[utoipa::path(post, path = "/api/v1/supervision/teams", tag = "workforce", request_body = SanquTeamBody,
    responses((status = 201, body = Created), (status = 403, description = "Not permitted to change data"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_team(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<SanquTeamBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = form(&[
        ("region", &b.region),
        ("name", &b.name),
        ("sending", &b.sending),
        ("starts_on", &b.starts_on),
        ("ends_on", &b.ends_on),
    ]);
    let input = parse_team(&f).map_err(WebError::Invalid)?;
    created(save_team(&state, &ctx, input).await?)
}

/// A member of a 三区计划 team.
#[derive(Deserialize, ToSchema)]
pub struct SanquMemberBody {
    /// A staff record in the caller's scope, in no other team.
    pub staff: String,
    /// Sent from outside the county.
    #[serde(default)]
    pub dispatched: bool,
}

/// Add a member to a 三区计划 team. Audited; returns the team's id.
#[utoipa::path(post, path = "/api/v1/supervision/teams/{id}/members", tag = "workforce", params(("id" = String, Path)),
    request_body = SanquMemberBody,
    responses((status = 201, body = Created), (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown team or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<SanquMemberBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    created(save_member(&state, &ctx, id, b.staff, b.dispatched).await?)
}

/// A region's staffing rule: the fewest social workers a station there should have.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"region": "430203", "min_social_workers": 2}))]
pub struct RuleBody {
    /// A region in the caller's scope.
    #[schema(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region: String,
    #[schema(minimum = 0, maximum = 50)]
    pub min_social_workers: i64,
}

/// Set a region's staffing rule (supervising roles). Audited.
#[utoipa::path(put, path = "/api/v1/workforce/rule", tag = "workforce", request_body = RuleBody,
    responses((status = 200, body = RuleBody), (status = 403, description = "Not permitted to supervise"),
        (status = 422, description = "Invalid fields, each named (`region` outside the caller's scope)")))]
pub async fn api_set_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<RuleBody>,
) -> WebResult<Json<RuleBody>> {
    let min = b.min_social_workers.to_string();
    let f = form(&[("region", &b.region), ("min_social_workers", &min)]);
    let min_social_workers = save_rule(&state, &ctx, &f).await?;
    Ok(Json(RuleBody {
        region: b.region,
        min_social_workers,
    }))
}
