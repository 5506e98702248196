//! The staff registry's API: records with identity values masked, registration and the audited
//! reveal.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_store::PageRequest;
use shegong_store::workforce::staff::{self, Staff};
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::{FormData, today};
use crate::ui::list::rfc3339;
use crate::workforce::staff::{ListQuery, load, masked, parse, reveal_values};
use crate::workforce::staff_form::create_staff;

/// A staff record as the API returns it: identity values masked.
#[derive(Serialize, ToSchema)]
pub struct StaffDto {
    pub id: String,
    pub name: String,
    /// `resident_id`, `hk_macau_permit`, `taiwan_permit`, `foreign_permanent` or `passport`.
    pub id_type: String,
    /// Masked, e.g. `4302**********1234`; see `POST /api/v1/staff/{id}/reveal`.
    pub id_number: String,
    /// Masked, e.g. `138****5678`.
    pub mobile: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub education: String,
    pub role: String,
    pub employment_mode: String,
    pub sector: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub employer_org_id: Option<String>,
    pub region_code: String,
    /// Highest certificate: `assistant`, `intermediate`, `senior`, or null.
    pub certificate: Option<String>,
    /// `active` or `left`.
    pub status: String,
    pub joined_on: String,
    pub left_on: Option<String>,
    pub updated_at: String,
}

pub(super) fn dto(state: &AppState, s: Staff) -> StaffDto {
    let (id_number, mobile) = masked(state, &s);
    StaffDto {
        id_number,
        mobile,
        updated_at: rfc3339(s.updated_at),
        id: s.id,
        name: s.name,
        id_type: s.id_type,
        sex: s.sex,
        birth_date: s.birth_date.map(staff::date_text),
        education: s.education,
        role: s.role.to_string(),
        employment_mode: s.employment_mode.to_string(),
        sector: s.sector,
        station_id: s.station_id,
        station_name: s.station_name,
        employer_org_id: s.employer_org_id,
        region_code: s.region_code,
        certificate: s.cert_level,
        status: s.status.to_string(),
        joined_on: staff::date_text(s.joined_on),
        left_on: s.left_on.map(staff::date_text),
    }
}

#[derive(Serialize, ToSchema)]
pub struct StaffPage {
    pub items: Vec<StaffDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Staff within the caller's scope (identity values masked).
#[utoipa::path(get, path = "/api/v1/staff", tag = "workforce", params(ListQuery), responses((status = 200, body = StaffPage)))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<StaffPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = staff::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(StaffPage {
        items: p.items.into_iter().map(|s| dto(&state, s)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// One staff record (identity values masked).
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "workforce", params(("id" = String, Path)),
    responses((status = 200, body = StaffDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<StaffDto>> {
    let u = reader(&ctx)?;
    Ok(Json(dto(&state, load(&state, u, &id).await?)))
}

/// Creating a staff record.
#[derive(Deserialize, ToSchema)]
pub struct StaffBody {
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    #[serde(default)]
    pub mobile: String,
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
}

impl StaffBody {
    fn form(&self) -> FormData {
        FormData::new(vec![
            ("name".into(), self.name.clone()),
            ("id_type".into(), self.id_type.clone()),
            ("id_number".into(), self.id_number.clone()),
            ("mobile".into(), self.mobile.clone()),
            ("sex".into(), self.sex.clone()),
            ("birth_date".into(), self.birth_date.clone()),
            ("education".into(), self.education.clone()),
            ("major".into(), self.major.clone()),
            ("role".into(), self.role.clone()),
            ("employment_mode".into(), self.employment_mode.clone()),
            ("sector".into(), self.sector.clone()),
            (
                "station".into(),
                self.station_id.clone().unwrap_or_default(),
            ),
            (
                "region".into(),
                self.region_code.clone().unwrap_or_default(),
            ),
            (
                "employer".into(),
                self.employer_org_id.clone().unwrap_or_default(),
            ),
            ("joined_on".into(), self.joined_on.clone()),
        ])
    }
}

/// Register a staff member.
#[utoipa::path(post, path = "/api/v1/staff", tag = "workforce", request_body = StaffBody,
    responses((status = 201, body = StaffDto), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<StaffBody>,
) -> WebResult<Response> {
    let u = writer(&ctx)?.clone();
    let input = parse(&body.form(), None, &today(state.now())).map_err(WebError::Invalid)?;
    let id = create_staff(&state, &ctx, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(dto(&state, load(&state, &u, &id).await?)),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct RevealBody {
    /// Why the full value is needed (recorded in the audit log).
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Revealed {
    pub id_number: String,
    pub mobile: String,
}

/// The full identity number and mobile, for a stated reason (audited).
#[utoipa::path(post, path = "/api/v1/staff/{id}/reveal", tag = "workforce", params(("id" = String, Path)), request_body = RevealBody,
    responses((status = 200, body = Revealed), (status = 403, description = "No reveal permission"), (status = 422, description = "Reason missing")))]
pub async fn api_reveal(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<RevealBody>,
) -> WebResult<Json<Revealed>> {
    let (id_number, mobile) = reveal_values(&state, &ctx, &id, &body.reason).await?;
    Ok(Json(Revealed { id_number, mobile }))
}
