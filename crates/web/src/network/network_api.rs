//! The station pages' remaining changes by API (issue 19 item 5): funding, services, the
//! supervisor's confirmation, station files (Base64, like rectification evidence), construction
//! targets and the region's checklist and service list. Each JSON body is read as the page's
//! form and goes through the page's own check and save functions: the same rules, scope,
//! permission and audit entry. (The five-indicator assessment form's counterpart is
//! `PUT /api/v1/stations/{id}/checklist`.)

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_store::network::{attachments, stations};
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::network::attachments::{Upload, save_station_file};
use crate::network::construction::save_target;
use crate::network::indicators::{save_active, save_item, save_service};
use crate::network::station_page::{parse_funding, save_funding, save_services};
use crate::network::station_progress::save_confirm;
use crate::network::stations_api::StationDto;
use crate::ui::forms::{Check, FormData};
use crate::ui::list::rfc3339;

fn form(pairs: &[(&str, &str)]) -> FormData {
    FormData::new(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn invalid(e: Option<shegong_domain::FieldError>) -> WebResult<()> {
    match e {
        None => Ok(()),
        Some(e) => Err(WebError::Invalid(vec![e])),
    }
}

/// One year's funding of a station from one source.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"year": 2024, "source": "county", "amount": "50000"}))]
pub struct FundingBody {
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i64,
    /// The source of the money.
    #[schema(schema_with = funding_sources)]
    pub source: String,
    /// Yuan, up to two decimals.
    #[schema(pattern = "^[0-9]{1,12}(\\.[0-9]{1,2})?$")]
    pub amount: String,
}

fn funding_sources() -> utoipa::openapi::schema::Object {
    use shegong_domain::network::station::FundingSource;
    crate::http::api::code::one_of(FundingSource::ALL.iter().map(|s| s.as_str()))
}

/// Record (or correct) a station's funding for a year from one source, as its page does.
/// Audited. Returns every funding row of the station.
#[utoipa::path(post, path = "/api/v1/stations/{id}/funding", tag = "stations", params(("id" = String, Path)),
    request_body = FundingBody,
    responses((status = 200, body = Vec<FundingBody>), (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_funding(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<FundingBody>,
) -> WebResult<Json<Vec<FundingBody>>> {
    let u = writer(&ctx)?.clone();
    let year = b.year.to_string();
    let f = form(&[
        ("year", &year),
        ("source", &b.source),
        ("amount", &b.amount),
    ]);
    let input = parse_funding(&f).map_err(WebError::Invalid)?;
    invalid(save_funding(&state, &ctx, &id, input).await?)?;
    let mut c = state.db.read().await?;
    let rows = stations::funding(&mut c, &u.scope(), &id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| FundingBody {
                year: r.year,
                source: r.source,
                amount: crate::ui::forms::format_yuan(r.amount_fen),
            })
            .collect(),
    ))
}

/// The services a station offers: items of the service list (服务清单) that apply to its
/// region.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"services": []}))]
pub struct ServicesBody {
    /// Service item ids (`GET /indicators` lists them); repeats count once.
    pub services: Vec<String>,
}

/// Replace the services a station offers, as its page does. Audited.
#[utoipa::path(put, path = "/api/v1/stations/{id}/services", tag = "stations", params(("id" = String, Path)),
    request_body = ServicesBody,
    responses((status = 200, body = ServicesBody), (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "`services`: an item that does not apply to the station's region")))]
pub async fn api_services(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ServicesBody>,
) -> WebResult<Json<ServicesBody>> {
    let u = writer(&ctx)?.clone();
    if b.services.len() > 500 {
        return Err(shegong_domain::FieldError::new("services", "form.too_long").into());
    }
    invalid(save_services(&state, &ctx, &id, b.services).await?)?;
    let mut c = state.db.read().await?;
    let services = stations::services(&mut c, &u.scope(), &id).await?;
    Ok(Json(ServicesBody { services }))
}

/// Confirm that building a station is complete (supervising roles): it becomes operating.
/// Audited.
#[utoipa::path(post, path = "/api/v1/stations/{id}/confirm", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, body = StationDto), (status = 403, description = "Not permitted to supervise"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "`status`: the station is not under construction")))]
pub async fn api_confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<StationDto>> {
    invalid(save_confirm(&state, &ctx, &id).await?)?;
    let u = ctx.user()?;
    let mut c = state.db.read().await?;
    Ok(Json(stations::get(&mut c, &u.scope(), &id).await?.into()))
}

/// A station file, its content in Base64.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"kind": "photo", "filename": "门牌.png", "content_base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}))]
pub struct StationFileBody {
    /// `photo`, `rule`, `evidence` or `other` (the default).
    #[serde(default = "other")]
    #[schema(schema_with = file_kinds)]
    pub kind: String,
    /// The file's name as shown (its path is dropped), at most 120 characters kept.
    #[schema(max_length = 255)]
    pub filename: String,
    /// The file, Base64-encoded (standard alphabet): JPG, PNG, PDF, DOCX or XLSX, recognised by
    /// its content, at most 10 MB once decoded.
    pub content_base64: String,
}

fn other() -> String {
    "other".to_owned()
}

fn file_kinds() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(["photo", "rule", "evidence", "other"])
}

/// A station file as stored.
#[derive(Serialize, ToSchema)]
pub struct StationFileDto {
    pub id: String,
    pub kind: String,
    pub filename: String,
    /// As recognised from the content.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    /// Where to download it (`GET`, scoped and audited).
    pub download: String,
}

/// Add a file (photo, rules, evidence) to a station, as its page does: the writing permission,
/// the station in the caller's scope, the file checked by its content and size. Audited.
#[utoipa::path(post, path = "/api/v1/stations/{id}/attachments", tag = "stations", params(("id" = String, Path)),
    request_body = StationFileBody,
    responses((status = 201, body = StationFileDto), (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 413, description = "The request is over the server's body limit"),
        (status = 422, description = "Not Base64 (`content_base64`), no name (`filename`), an unknown `kind`, empty, over 10 MB or of a type not accepted (`file`)")))]
pub async fn api_attachment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<StationFileBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let filename = c.text("filename", b.filename.trim(), 255);
    let bytes = c.base64_file(&b.content_base64, attachments::MAX_BYTES);
    c.finish().map_err(WebError::Invalid)?;
    let up = Upload {
        kind: b.kind.trim().to_owned(),
        name: filename,
        bytes,
    };
    let a = save_station_file(&state, &ctx, &id, up).await?;
    let dto = StationFileDto {
        download: format!("/api/v1/attachments/{}", a.id),
        uploaded_at: rfc3339(a.created_at),
        uploaded_by: a.created_by,
        id: a.id,
        kind: a.kind,
        filename: a.filename,
        content_type: a.content_type,
        size: a.size,
        sha256: a.sha256,
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// A region's construction target: how many stations should be operating by the end of a year.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"region": "430203", "year": 2025, "target": 9}))]
pub struct TargetBody {
    /// A region in the caller's scope.
    #[schema(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region: String,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i64,
    #[schema(minimum = 0, maximum = 100000)]
    pub target: i64,
}

/// Set a region's construction target for a year (supervising roles), as the construction page
/// does. Audited.
#[utoipa::path(post, path = "/api/v1/construction/targets", tag = "stations", request_body = TargetBody,
    responses((status = 200, body = TargetBody), (status = 403, description = "Not permitted to supervise"),
        (status = 422, description = "Invalid fields, each named (`region` outside the caller's scope)")))]
pub async fn api_target(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<TargetBody>,
) -> WebResult<Json<TargetBody>> {
    let (year, target) = (b.year.to_string(), b.target.to_string());
    let f = form(&[("region", &b.region), ("year", &year), ("target", &target)]);
    save_target(&state, &ctx, &f)
        .await?
        .map_err(|(_, e)| WebError::Invalid(vec![e]))?;
    Ok(Json(b))
}

/// The id of the record made.
#[derive(Serialize, ToSchema)]
pub struct CreatedItem {
    pub id: String,
}

/// A checklist item (五项指标) of the caller's region, applying to every station below.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"category": "site", "name": "场地面积达标", "evidence": "photo", "weight": 2}))]
pub struct IndicatorItemBody {
    /// `site`, `funding`, `staff`, `rules` or `services`.
    #[schema(schema_with = categories)]
    pub category: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub requirement: String,
    /// The evidence it asks for.
    #[schema(schema_with = evidences)]
    pub evidence: String,
    #[schema(minimum = 1, maximum = 100)]
    pub weight: i64,
}

fn categories() -> utoipa::openapi::schema::Object {
    use shegong_domain::network::station::Category;
    crate::http::api::code::one_of(Category::ALL.iter().map(|c| c.as_str()))
}

fn evidences() -> utoipa::openapi::schema::Object {
    use shegong_domain::network::station::Evidence;
    crate::http::api::code::one_of(Evidence::ALL.iter().map(|c| c.as_str()))
}

/// Add a checklist item for the caller's region (supervising roles), as the indicators page
/// does; readiness below is recomputed. Audited.
#[utoipa::path(post, path = "/api/v1/indicators", tag = "stations", request_body = IndicatorItemBody,
    responses((status = 201, body = CreatedItem), (status = 403, description = "Not permitted to supervise"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<IndicatorItemBody>,
) -> WebResult<Response> {
    let weight = b.weight.to_string();
    let f = form(&[
        ("category", &b.category),
        ("name", &b.name),
        ("requirement", &b.requirement),
        ("evidence", &b.evidence),
        ("weight", &weight),
    ]);
    let id = save_item(&state, &ctx, &f)
        .await?
        .map_err(WebError::Invalid)?;
    Ok((StatusCode::CREATED, Json(CreatedItem { id })).into_response())
}

/// A service of the service list (服务清单) of the caller's region.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"domain": "elderly", "name": "高龄老人探访"}))]
pub struct ServiceItemBody {
    #[schema(schema_with = domains)]
    pub domain: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

fn domains() -> utoipa::openapi::schema::Object {
    use shegong_domain::network::station::ServiceDomain;
    crate::http::api::code::one_of(ServiceDomain::ALL.iter().map(|c| c.as_str()))
}

/// Add a service to the caller's region's service list (supervising roles). Audited.
#[utoipa::path(post, path = "/api/v1/indicators/services", tag = "stations", request_body = ServiceItemBody,
    responses((status = 201, body = CreatedItem), (status = 403, description = "Not permitted to supervise"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<ServiceItemBody>,
) -> WebResult<Response> {
    let f = form(&[("domain", &b.domain), ("service_name", &b.name)]);
    let id = save_service(&state, &ctx, &f)
        .await?
        .map_err(WebError::Invalid)?;
    Ok((StatusCode::CREATED, Json(CreatedItem { id })).into_response())
}

/// Whether a checklist item is in use.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"active": false}))]
pub struct ActiveBody {
    pub active: bool,
}

/// Switch a checklist item of the caller's region on or off (supervising roles); readiness
/// below is recomputed. Audited.
#[utoipa::path(post, path = "/api/v1/indicators/{id}/active", tag = "stations", params(("id" = String, Path)),
    request_body = ActiveBody,
    responses((status = 200, body = ActiveBody), (status = 403, description = "Not permitted to supervise"),
        (status = 404, description = "Unknown item, or one not defined in the caller's region")))]
pub async fn api_set_active(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ActiveBody>,
) -> WebResult<Json<ActiveBody>> {
    save_active(&state, &ctx, id, b.active).await?;
    Ok(Json(b))
}
