//! Batch actions on the resident list: assign one responsible worker to the selected residents
//! (page form and `POST /api/v1/residents/batch/assign`). Same checks as a single change: the
//! write permission, every id within the caller's scope (else the whole batch is refused on
//! `ids`), the worker an assignable account in reach; one audit entry per resident.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_store::admin::audit::Change;
use shegong_store::people::residents;
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, write_batch, writer};
use crate::ui::forms::FormData;

use super::resident_list::split_ids;
use super::residents::viewer;

#[derive(Deserialize, ToSchema)]
pub struct AssignBody {
    /// The selected residents (1 to 200), each within the caller's scope.
    pub ids: Vec<String>,
    /// The account to make their responsible worker.
    pub worker_user_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct BatchDone {
    /// How many records changed.
    pub updated: usize,
}

async fn assign(state: &AppState, ctx: &Ctx, ids: Vec<String>, worker: String) -> WebResult<usize> {
    let v = viewer(state, writer(ctx)?);
    let now = state.now();
    write_batch(
        state,
        ctx,
        Entry::new("resident", "update"),
        move |conn, _scope, _by| {
            Box::pin(async move {
                let before = residents::assign_worker(conn, &v, &ids, &worker, now).await?;
                Ok(before
                    .into_iter()
                    .map(|r| Done {
                        entity_id: r.id,
                        region: Some(r.region_code),
                        changes: vec![Change::new(
                            "worker",
                            r.worker_user_id,
                            Some(worker.clone()),
                        )],
                    })
                    .collect())
            })
        },
    )
    .await?
    .map_err(|e| WebError::Invalid(vec![e]))
}

/// The list's batch form: `ids` (comma-separated) and `worker`.
pub async fn page_assign(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let ids = split_ids(f.get("ids"));
    assign(&state, &ctx, ids, f.get("worker").to_owned()).await?;
    Ok(Redirect::to("/residents?notice=notice.saved").into_response())
}

/// Assign one responsible worker to several residents at once (all or none; one audit entry
/// per resident).
#[utoipa::path(post, path = "/api/v1/residents/batch/assign", tag = "people", request_body = AssignBody,
    responses((status = 200, body = BatchDone),
        (status = 422, description = "`ids` empty, over 200, or naming a resident outside the caller's scope; `worker` not assignable"),
        (status = 403, description = "No write permission")))]
pub async fn api_assign(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<AssignBody>,
) -> WebResult<Json<BatchDone>> {
    let updated = assign(&state, &ctx, b.ids, b.worker_user_id).await?;
    Ok(Json(BatchDone { updated }))
}
