//! Planning and recording inspections by API (`POST /api/v1/inspections/plans`,
//! `POST /api/v1/inspections/visits`), as the inspection pages do: the same checks
//! (`inspection_check`), the supervising permission, scope and audit (`save_plan`, `save_visit`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_store::StoreError;
use shegong_store::network::inspections;
use utoipa::ToSchema;

use super::inspection_check::{PlanFields, RectRowFields, VisitFields, check_plan, check_visit};
use super::inspections::{checklist_of, inspection_dto, save_plan, save_visit};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::forms::today;

/// An inspection plan (督查计划) to create.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region": "430203", "title": "2025 年度督导", "starts_on": "2025-03-01", "ends_on": "2025-03-31", "notes": ""}))]
pub struct PlanBody {
    /// The region it covers: a region code within the caller's scope.
    pub region: String,
    /// At most 100 characters.
    #[schema(max_length = 100)]
    pub title: String,
    /// `YYYY-MM-DD`
    #[schema(format = Date)]
    pub starts_on: String,
    /// `YYYY-MM-DD`, not before `starts_on`.
    #[schema(format = Date)]
    pub ends_on: String,
    /// At most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub notes: String,
}

/// A created plan.
#[derive(Serialize, ToSchema)]
pub struct PlanDto {
    pub id: String,
    pub region_code: String,
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub notes: String,
}

/// Create an inspection plan for a region in the caller's scope, as the inspections page does
/// (the supervising permission); audited.
#[utoipa::path(post, path = "/api/v1/inspections/plans", tag = "stations", request_body = PlanBody,
    responses((status = 201, body = PlanDto),
        (status = 403, description = "Not a supervising account"),
        (status = 422, description = "Invalid fields, each named (`region` outside the caller's scope, `title`, `starts_on`, `ends_on` before `starts_on`, `notes`)")))]
pub async fn api_create_plan(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<PlanBody>,
) -> WebResult<Response> {
    let input = check_plan(&PlanFields {
        region: &b.region,
        title: &b.title,
        starts_on: &b.starts_on,
        ends_on: &b.ends_on,
        notes: &b.notes,
    })
    .map_err(WebError::Invalid)?;
    let id = save_plan(&state, &ctx, input)
        .await?
        .map_err(|e| WebError::Invalid(vec![e]))?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = inspections::plan(&mut c, &u.scope(), &id).await?;
    let dto = PlanDto {
        id: p.id,
        region_code: p.region_code,
        title: p.title,
        starts_on: p.starts_on,
        ends_on: p.ends_on,
        notes: p.notes,
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// One checklist item rated.
#[derive(Deserialize, ToSchema)]
pub struct ResultBody {
    /// A checklist item (indicator) of the station's region.
    pub item_id: String,
    pub met: bool,
    /// At most 500 characters kept.
    #[serde(default)]
    pub note: String,
}

/// One rectification the inspection requires.
#[derive(Deserialize, ToSchema)]
pub struct RectBody {
    /// What must be fixed (at most 1,000 characters kept).
    pub description: String,
    /// Who is responsible (at most 50 characters kept).
    pub owner: String,
    /// `YYYY-MM-DD`, not before the inspection.
    #[schema(format = Date)]
    pub deadline: String,
}

/// An inspection visit (督查记录) to record.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"station": "…", "visited_on": "2025-03-10", "inspector": "督导员", "findings": "台账不全",
    "rectifications": [{"description": "补齐服务台账", "owner": "站长", "deadline": "2025-04-10"}]}))]
pub struct VisitBody {
    /// The station inspected, within the caller's scope.
    pub station: String,
    /// An inspection plan in the caller's scope.
    pub plan: Option<String>,
    /// `YYYY-MM-DD`
    #[schema(format = Date)]
    pub visited_on: String,
    /// At most 50 characters.
    #[schema(max_length = 50)]
    pub inspector: String,
    /// At most 4,000 characters.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub findings: String,
    /// Where it was recorded (both or neither).
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    /// The checklist items rated, each once.
    #[serde(default)]
    pub results: Vec<ResultBody>,
    /// The rectifications it requires, at most 10; an error names the row as
    /// `rect_desc_N`, `rect_owner_N` or `rect_deadline_N` (N from 1).
    #[serde(default)]
    pub rectifications: Vec<RectBody>,
}

/// The body as the visit form's fields.
fn fields(b: VisitBody) -> VisitFields {
    let num = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    VisitFields {
        plan: b.plan.unwrap_or_default(),
        lng: num(b.lng),
        lat: num(b.lat),
        station: b.station,
        visited_on: b.visited_on,
        inspector: b.inspector,
        findings: b.findings,
        results: b
            .results
            .into_iter()
            .map(|r| (r.item_id, r.met, r.note))
            .collect(),
        rects: b
            .rectifications
            .into_iter()
            .enumerate()
            .map(|(i, r)| RectRowFields {
                n: i + 1,
                description: r.description,
                owner: r.owner,
                deadline: r.deadline,
            })
            .collect(),
    }
}

/// Record an inspection with its checklist results, findings and rectifications, as the visit
/// form does (the supervising permission); audited. Returns the inspection.
#[utoipa::path(post, path = "/api/v1/inspections/visits", tag = "stations", request_body = VisitBody,
    responses((status = 201, body = super::inspections::InspectionDto),
        (status = 403, description = "Not a supervising account"),
        (status = 422, description = "Invalid fields, each named: `station` (unknown or outside the caller's scope), `plan`, `visited_on`, `inspector`, `findings`, `lng`, `lat`, `results` (an item not of the checklist, rated twice, or nothing recorded), `rectifications` (over 10), `rect_desc_N`, `rect_owner_N`, `rect_deadline_N`")))]
pub async fn api_record_visit(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<VisitBody>,
) -> WebResult<Response> {
    let u = super::inspections::supervisor(&ctx)?;
    let scope = u.scope();
    let items = match checklist_of(&state, &scope, &b.station).await {
        Err(WebError::NotFound) => {
            let e = FieldError::new("station", "staff.station_unknown");
            return Err(StoreError::Invalid(e).into());
        }
        other => other?,
    };
    let input = check_visit(fields(b), &items).map_err(WebError::Invalid)?;
    let id = save_visit(&state, &ctx, input)
        .await?
        .map_err(|e| WebError::Invalid(vec![e]))?;
    let mut c = state.db.read().await?;
    let v = inspections::visit(&mut c, &scope, &id).await?;
    let dto = inspection_dto(&mut c, &scope, v, &today(state.now())).await?;
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}
