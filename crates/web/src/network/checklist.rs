//! The station checklist (五项指标) saved as one form — every item's result and note at once,
//! back to the checklist on the page — and the same as `PUT /api/v1/stations/{id}/checklist`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_store::admin::audit::Change;
use shegong_store::network::{indicators, stations};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, audited, writer};
use crate::ui::forms::{FormData, today};

use super::station_page::detail;

/// One item's result: met or not, with a note (at most 500 characters).
#[derive(Deserialize, ToSchema, Clone)]
pub struct ChecklistEntry {
    /// An indicator item that applies to the station (`GET /api/v1/stations/{id}/checklist`).
    pub item_id: String,
    pub met: bool,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"items": [{"item_id": "ind-site-1", "met": true, "note": "有独立场地"}]}))]
pub struct ChecklistBody {
    /// The items to record (others keep their result), at most 200.
    pub items: Vec<ChecklistEntry>,
}

/// The station's checklist: every item that applies, with its result.
#[derive(Serialize, ToSchema)]
pub struct ChecklistDto {
    /// Weighted share of items met, percent.
    pub readiness_pct: i64,
    pub items: Vec<ChecklistItemDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ChecklistItemDto {
    pub item_id: String,
    /// `site`, `funding`, `staff`, `rules` or `services`.
    pub category: String,
    pub name: String,
    pub weight: i64,
    /// None while unassessed.
    pub met: Option<bool>,
    pub note: String,
    pub assessed_on: Option<String>,
}

/// Record every entry in one audited write: one change per item whose result changed, and the
/// readiness after.
async fn save(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    entries: Vec<ChecklistEntry>,
) -> WebResult<Option<FieldError>> {
    writer(ctx)?;
    if entries.len() > 200 {
        return Ok(Some(FieldError::new("item", "form.too_long")));
    }
    if entries.iter().any(|e| e.note.chars().count() > 500) {
        return Ok(Some(FieldError::new("note", "form.too_long")));
    }
    let (sid, on, now) = (id.to_owned(), today(state.now()), state.now());
    audited(state, ctx, "station", "assess", move |conn, scope, by| {
        Box::pin(async move {
            let region = stations::get(conn, &scope, &sid).await?.region_code;
            let mut changes = Vec::new();
            let mut pct = None;
            for e in &entries {
                let (before, after) = indicators::assess(
                    conn, &scope, &sid, &e.item_id, e.met, &e.note, None, &by, &on, now,
                )
                .await?;
                pct = Some(after);
                if before != Some(e.met) {
                    changes.push(Change::new(
                        &format!("indicator.{}", e.item_id),
                        before,
                        Some(e.met),
                    ));
                }
            }
            changes.push(Change::new("readiness_pct", None::<i64>, pct));
            Ok(Done {
                entity_id: sid,
                region: Some(region),
                changes,
            })
        })
    })
    .await
}

/// The checklist form: `item`, `met` (`1`, `0`, or empty to leave an item unassessed) and `note`
/// repeated per row, in row order. Back to the checklist (`#indicators`) with a notice.
pub async fn assess(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let (items, mets, notes) = (f.all("item"), f.all("met"), f.all("note"));
    let entries: Vec<ChecklistEntry> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let met = match mets.get(i).map(|m| m.trim()) {
                Some("1") => true,
                Some("0") => false,
                _ => return None,
            };
            Some(ChecklistEntry {
                item_id: item.trim().to_owned(),
                met,
                note: notes
                    .get(i)
                    .map(|n| n.trim().to_owned())
                    .unwrap_or_default(),
            })
        })
        .collect();
    match save(&state, &ctx, &id, entries).await? {
        None => Ok(
            Redirect::to(&format!("/stations/{id}?notice=notice.saved#indicators")).into_response(),
        ),
        Some(e) => detail(&state, &ctx, &id, None, Some(e)).await,
    }
}

async fn checklist(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<ChecklistDto> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let mut c = state.db.read().await?;
    let s = stations::get(&mut c, &scope, id).await?;
    let items = indicators::items_for(&mut c, &s.region_code).await?;
    let done = indicators::assessments(&mut c, &scope, id).await?;
    Ok(ChecklistDto {
        readiness_pct: s.readiness_pct,
        items: items
            .into_iter()
            .map(|i| {
                let a = done.iter().find(|a| a.item_id == i.id);
                ChecklistItemDto {
                    met: a.map(|a| a.met != 0),
                    note: a.map(|a| a.note.clone()).unwrap_or_default(),
                    assessed_on: a.map(|a| a.assessed_on.clone()),
                    item_id: i.id,
                    category: i.category,
                    name: i.name,
                    weight: i.weight,
                }
            })
            .collect(),
    })
}

/// The station's checklist (五项指标) with each item's result and the readiness.
#[utoipa::path(get, path = "/api/v1/stations/{id}/checklist", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, body = ChecklistDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_checklist(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ChecklistDto>> {
    Ok(Json(checklist(&state, &ctx, &id).await?))
}

/// Record the results of several checklist items at once (as the station page's one form does);
/// items not named keep their result. One audit entry.
#[utoipa::path(put, path = "/api/v1/stations/{id}/checklist", tag = "stations", params(("id" = String, Path)),
    request_body = ChecklistBody,
    responses((status = 200, body = ChecklistDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named (`item` for an item that does not apply)")))]
pub async fn api_save_checklist(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ChecklistBody>,
) -> WebResult<Json<ChecklistDto>> {
    if let Some(e) = save(&state, &ctx, &id, b.items).await? {
        return Err(WebError::Invalid(vec![e]));
    }
    Ok(Json(checklist(&state, &ctx, &id).await?))
}
