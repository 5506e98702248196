//! `/api/v1/stations`: list, read, create and replace, with the same parser and audit entries as
//! the forms (so validation messages are the same). Progress reports are in `station_progress.rs`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_store::PageRequest;
use shegong_store::network::stations::{self, Station};
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::network::stations::{ListQuery, create_station, parse, update_station};
use crate::ui::forms::FormData;
use crate::ui::list::rfc3339;

/// A station as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct StationDto {
    pub id: String,
    /// `county_center`, `township_station` or `village_room`.
    pub tier: String,
    /// The region served (township code for a township station).
    pub region_code: String,
    pub region_path: Vec<String>,
    pub name: String,
    pub address: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub host_premises: String,
    /// `purchase` (government purchase of services) or `direct` (direct employment).
    pub mode: String,
    pub operator_org_id: Option<String>,
    pub operator_name: Option<String>,
    /// `planned`, `under_construction`, `operating`, `suspended` or `closed`.
    pub status: String,
    pub status_since: String,
    pub area_m2: i64,
    pub rooms: Vec<String>,
    pub staff_count: i64,
    pub certified_count: i64,
    pub phone: String,
    pub open_hours: String,
    /// Five-indicator readiness, percent.
    pub readiness_pct: i64,
    pub updated_at: String,
}

impl From<Station> for StationDto {
    fn from(s: Station) -> Self {
        StationDto {
            region_path: s.region_path.split('/').map(str::to_owned).collect(),
            rooms: s
                .rooms
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            lng: s.lng_e6.map(|v| v as f64 / 1e6),
            lat: s.lat_e6.map(|v| v as f64 / 1e6),
            updated_at: rfc3339(s.updated_at),
            id: s.id,
            tier: s.tier.to_string(),
            region_code: s.region_code,
            name: s.name,
            address: s.address,
            host_premises: s.host_premises,
            mode: s.mode.to_string(),
            operator_org_id: s.operator_org_id,
            operator_name: s.operator_name,
            status: s.status.to_string(),
            status_since: s.status_since,
            area_m2: s.area_m2,
            staff_count: s.staff_count,
            certified_count: s.certified_count,
            phone: s.phone,
            open_hours: s.open_hours,
            readiness_pct: s.readiness_pct,
        }
    }
}

/// Creating or replacing a station (all fields; the same rules as the form). Fields that only
/// make sense together: a region at the tier's level, an operator for `purchase`, `lng` with
/// `lat`, `certified_count` at most `staff_count`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "tier": "township_station", "region_code": "430203001", "name": "贺家土街道社工站",
    "address": "贺家土街道建设路8号", "lng": 113.134, "lat": 27.827, "host_premises": "街道便民服务中心",
    "mode": "purchase", "operator_org_id": "0190a3c2-0000-7000-8000-000000000001",
    "status": "planned", "status_since": "2024-01-01", "area_m2": 120,
    "rooms": ["office", "case_room", "group_room"], "staff_count": 4, "certified_count": 2,
    "phone": "0731-22881234", "open_hours": "周一至周五 8:30-17:30"
}))]
pub struct StationBody {
    #[schema(schema_with = crate::http::api::code::tier)]
    pub tier: String,
    /// The region served, at the tier's level (a township code for a township station).
    #[schema(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region_code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address: String,
    /// Longitude within China; given together with `lat`.
    #[schema(minimum = 73.0, maximum = 136.0)]
    pub lng: Option<f64>,
    #[schema(minimum = 3.0, maximum = 54.0)]
    pub lat: Option<f64>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub host_premises: String,
    /// `purchase` needs an operator.
    #[schema(schema_with = crate::http::api::code::mode)]
    pub mode: String,
    pub operator_org_id: Option<String>,
    #[schema(schema_with = crate::http::api::code::station_status)]
    pub status: String,
    #[schema(format = Date)]
    pub status_since: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub area_m2: i64,
    #[serde(default)]
    #[schema(schema_with = crate::http::api::code::rooms)]
    pub rooms: Vec<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub staff_count: i64,
    /// At most `staff_count`.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub certified_count: i64,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub open_hours: String,
}

impl StationBody {
    fn form(&self) -> FormData {
        let mut pairs: Vec<(String, String)> = vec![
            ("tier".into(), self.tier.clone()),
            ("region".into(), self.region_code.clone()),
            ("name".into(), self.name.clone()),
            ("address".into(), self.address.clone()),
            (
                "lng".into(),
                self.lng.map(|v| v.to_string()).unwrap_or_default(),
            ),
            (
                "lat".into(),
                self.lat.map(|v| v.to_string()).unwrap_or_default(),
            ),
            ("host_premises".into(), self.host_premises.clone()),
            ("mode".into(), self.mode.clone()),
            (
                "operator".into(),
                self.operator_org_id.clone().unwrap_or_default(),
            ),
            ("status".into(), self.status.clone()),
            ("status_since".into(), self.status_since.clone()),
            ("area_m2".into(), self.area_m2.to_string()),
            ("staff_count".into(), self.staff_count.to_string()),
            ("certified_count".into(), self.certified_count.to_string()),
            ("phone".into(), self.phone.clone()),
            ("open_hours".into(), self.open_hours.clone()),
        ];
        pairs.extend(self.rooms.iter().map(|r| ("rooms".to_owned(), r.clone())));
        FormData::new(pairs)
    }
}

#[derive(Serialize, ToSchema)]
pub struct StationPage {
    pub items: Vec<StationDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Stations within the caller's scope.
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations", params(ListQuery),
    responses((status = 200, body = StationPage), (status = 401, description = "Not signed in")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<StationPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = stations::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(StationPage {
        items: p.items.into_iter().map(Into::into).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// One station.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, body = StationDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<StationDto>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    Ok(Json(stations::get(&mut c, &u.scope(), &id).await?.into()))
}

/// Create a station.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", request_body = StationBody,
    responses((status = 201, body = StationDto), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<StationBody>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let input = parse(&body.form()).map_err(WebError::Invalid)?;
    let id = create_station(&state, &ctx, &input).await?;
    let mut c = state.db.read().await?;
    let dto: StationDto = stations::get(&mut c, &u.scope(), &id).await?.into();
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Replace a station's fields.
#[utoipa::path(put, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = String, Path)), request_body = StationBody,
    responses((status = 200, body = StationDto), (status = 404, description = "Unknown or outside the caller's scope"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<StationBody>,
) -> WebResult<Json<StationDto>> {
    let u = writer(&ctx)?;
    {
        let mut c = state.db.read().await?;
        stations::get(&mut c, &u.scope(), &id).await?;
    }
    let input = parse(&body.form()).map_err(WebError::Invalid)?;
    update_station(&state, &ctx, &id, &input).await?;
    let mut c = state.db.read().await?;
    Ok(Json(stations::get(&mut c, &u.scope(), &id).await?.into()))
}
