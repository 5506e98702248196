//! `/api/v1/volunteers`: list, get, register and change volunteers; identity and mobile masked.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_store::PageRequest;
use shegong_store::volunteers::registry::{self, Volunteer};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::FormData;
use crate::ui::list::rfc3339;

use super::input::{self, masked};
use super::registry::{ListQuery, change, register, today_date};

/// A volunteer as the API shows it: identity number and mobile masked.
#[derive(Serialize, ToSchema)]
pub struct VolunteerDto {
    pub id: String,
    /// 志愿者编号: generated, unique, never the identity number.
    pub volunteer_no: String,
    pub name: String,
    pub id_type: String,
    pub id_number_masked: String,
    pub mobile_masked: String,
    pub sex: Option<String>,
    #[schema(format = Date)]
    pub birth_date: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub skills: Vec<String>,
    pub intentions: Vec<String>,
    pub availability: String,
    pub guardian_name: String,
    pub guardian_consent_on: Option<String>,
    pub accompanied: bool,
    /// `active`, `suspended` or `left`.
    pub status: String,
    #[schema(format = Date)]
    pub registered_on: String,
    pub created_at: String,
    pub updated_at: String,
}

fn dto(state: &AppState, v: Volunteer) -> VolunteerDto {
    let m = masked(state, &v);
    VolunteerDto {
        skills: v.skill_list(),
        intentions: v.intention_list(),
        id_number_masked: m.id_number,
        mobile_masked: m.mobile,
        id: v.id,
        volunteer_no: v.volunteer_no,
        name: v.name,
        id_type: v.id_type,
        sex: v.sex,
        birth_date: v.birth_date,
        region_code: v.region_code,
        region_path: v.region_path,
        station_id: v.station_id,
        availability: v.availability,
        guardian_name: v.guardian_name,
        guardian_consent_on: v.guardian_consent_on,
        accompanied: v.accompanied == 1,
        status: v.status.to_string(),
        registered_on: v.registered_on,
        created_at: rfc3339(v.created_at),
        updated_at: rfc3339(v.updated_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct VolunteerPage {
    pub items: Vec<VolunteerDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Volunteers in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/volunteers", tag = "volunteers", params(ListQuery),
    responses((status = 200, body = VolunteerPage), (status = 401, description = "Not signed in"),
        (status = 422, description = "A filter refused, named")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<VolunteerPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = registry::list(
        &mut c,
        &u.scope(),
        &q.filter()?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(VolunteerPage {
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        items: p.items.into_iter().map(|v| dto(&state, v)).collect(),
    }))
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<VolunteerDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let v = registry::get(&mut c, &u.scope(), id).await?;
    Ok(dto(state, v))
}

/// One volunteer (masked).
#[utoipa::path(get, path = "/api/v1/volunteers/{id}", tag = "volunteers", params(("id" = String, Path)),
    responses((status = 200, body = VolunteerDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<VolunteerDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// A volunteer to register, or the fields to change (`PATCH`: only those given).
#[derive(Deserialize, ToSchema, Default)]
#[schema(example = json!({
    "name": "刘思雨", "id_type": "resident_id", "id_number": "43020319900307002X",
    "mobile": "13873312345", "region": "430203001", "skills": ["养老照护", "心理疏导"],
    "intentions": ["助老"], "availability": "周末上午"
}))]
pub struct VolunteerBody {
    pub name: Option<String>,
    /// `resident_id` when a number is given without a type.
    pub id_type: Option<String>,
    /// Required to register; on `PATCH`, replaces the stored one.
    pub id_number: Option<String>,
    /// `male` or `female`; from a resident ID number when omitted.
    pub sex: Option<String>,
    /// `YYYY-MM-DD`; from a resident ID number when omitted.
    pub birth_date: Option<String>,
    pub mobile: Option<String>,
    /// A township or village code in the caller's scope.
    pub region: Option<String>,
    pub station_id: Option<String>,
    /// At most 20, each at most 20 characters.
    pub skills: Option<Vec<String>>,
    pub intentions: Option<Vec<String>>,
    pub availability: Option<String>,
    /// Required under 14, with `guardian_consent_on`.
    pub guardian_name: Option<String>,
    #[schema(format = Date)]
    pub guardian_consent_on: Option<String>,
    /// Required (true) under 10.
    pub accompanied: Option<bool>,
    /// `active` (default), `suspended` or `left`.
    pub status: Option<String>,
    #[schema(format = Date)]
    pub registered_on: Option<String>,
}

impl VolunteerBody {
    /// The body over `base` (the stored record's form, or empty), as the form would send it.
    fn over(self, base: FormData) -> Result<FormData, WebError> {
        let mut pairs: Vec<(String, String)> = base.pairs();
        let mut set = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                pairs.retain(|(x, _)| x != k);
                pairs.push((k.to_owned(), v));
            }
        };
        let tags = |field: &'static str, v: Option<Vec<String>>| match v {
            Some(list) if list.len() > 100 => Err(WebError::Invalid(vec![FieldError::new(
                field,
                "volunteer.too_many_tags",
            )])),
            Some(list) => Ok(Some(list.join("、"))),
            None => Ok(None),
        };
        let (skills, intentions) = (
            tags("skills", self.skills)?,
            tags("intentions", self.intentions)?,
        );
        set("name", self.name);
        set("id_type", self.id_type);
        set("id_number", self.id_number);
        set("sex", self.sex);
        set("birth_date", self.birth_date);
        set("mobile", self.mobile);
        set("region", self.region);
        set("station", self.station_id);
        set("skills", skills);
        set("intentions", intentions);
        set("availability", self.availability);
        set("guardian_name", self.guardian_name);
        set("guardian_consent_on", self.guardian_consent_on);
        set(
            "accompanied",
            self.accompanied
                .map(|a| if a { "1" } else { "" }.to_owned()),
        );
        set("status", self.status);
        set("registered_on", self.registered_on);
        Ok(FormData::new(pairs))
    }
}

/// Register a volunteer in the caller's scope; every refused field named, nothing written. The
/// same identity number registered anywhere is refused on `id_number`.
#[utoipa::path(post, path = "/api/v1/volunteers", tag = "volunteers", request_body = VolunteerBody,
    responses((status = 201, body = VolunteerDto), (status = 403, description = "May not change data"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<VolunteerBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = body.over(FormData::new(vec![]))?;
    let parsed = input::parse(&f, today_date(&state), false).map_err(WebError::Invalid)?;
    let id = register(&state, &ctx, parsed).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

/// Change the fields given; the rest stay. The volunteer number never changes.
#[utoipa::path(patch, path = "/api/v1/volunteers/{id}", tag = "volunteers", params(("id" = String, Path)),
    request_body = VolunteerBody,
    responses((status = 200, body = VolunteerDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_patch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<VolunteerBody>,
) -> WebResult<Json<VolunteerDto>> {
    writer(&ctx)?;
    let current = {
        let u = reader(&ctx)?;
        let mut c = state.db.read().await?;
        registry::get(&mut c, &u.scope(), &id).await?
    };
    let f = body.over(input::form_of(&current))?;
    let parsed = input::parse(&f, today_date(&state), true).map_err(WebError::Invalid)?;
    change(&state, &ctx, &id, parsed).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct VolunteerRevealBody {
    /// Why the full values are needed (2–200 characters, recorded in the audit log).
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct VolunteerRevealed {
    pub id_number: String,
    pub mobile: String,
}

/// The full identity number and mobile of a volunteer, for a stated reason, as the volunteer's
/// page (and the full-number certificate) reveals them: the reveal permission, the volunteer in
/// scope, the reason recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/volunteers/{id}/reveal", tag = "volunteers", params(("id" = String, Path)),
    request_body = VolunteerRevealBody,
    responses((status = 200, body = VolunteerRevealed), (status = 403, description = "No reveal permission"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Reason missing or too long (`reason`)")))]
pub async fn api_reveal(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<VolunteerRevealBody>,
) -> WebResult<Json<VolunteerRevealed>> {
    let v = super::registry::audit_reveal(&state, &ctx, &id, &body.reason).await?;
    let open = super::input::opened(&state, &v);
    Ok(Json(VolunteerRevealed {
        id_number: open.id_number,
        mobile: open.mobile,
    }))
}
