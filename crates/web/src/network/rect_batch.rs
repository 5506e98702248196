//! Closing verified rectifications in batch from the inspection page (and
//! `POST /api/v1/rectifications/batch/close`): the supervising permission, every id within the
//! caller's scope and verified (else the whole batch is refused on `ids`), one audit entry per
//! rectification, as closing one does.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::Permission;
use shegong_domain::network::station::Rectification;
use shegong_store::admin::audit::Change;
use shegong_store::network::inspections;
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, write_batch};
use crate::people::batch::BatchDone;
use crate::people::resident_list::split_ids;
use crate::ui::forms::FormData;

#[derive(Deserialize, ToSchema)]
pub struct CloseBody {
    /// The selected rectifications (1 to 200), each verified and within the caller's scope.
    pub ids: Vec<String>,
}

async fn close(state: &AppState, ctx: &Ctx, ids: Vec<String>) -> WebResult<usize> {
    let now = state.now();
    write_batch(
        state,
        ctx,
        Entry::new("rectification", "advance").requiring(Permission::Supervise),
        move |conn, scope, by| {
            Box::pin(async move {
                let before = inspections::close_batch(conn, &scope, &ids, &by, now).await?;
                Ok(before
                    .into_iter()
                    .map(|r| Done {
                        entity_id: r.id,
                        region: Some(r.region_code),
                        changes: vec![Change::new(
                            "status",
                            Some(&r.status),
                            Some(Rectification::Closed.as_str()),
                        )],
                    })
                    .collect())
            })
        },
    )
    .await?
    .map_err(|e| WebError::Invalid(vec![e]))
}

/// The inspection page's batch form: `ids` (comma-separated).
pub async fn page_close(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    close(&state, &ctx, split_ids(f.get("ids"))).await?;
    Ok(Redirect::to("/inspections?state=verified&notice=notice.saved").into_response())
}

/// Close several verified rectifications at once (all or none; one audit entry each).
#[utoipa::path(post, path = "/api/v1/rectifications/batch/close", tag = "stations", request_body = CloseBody,
    responses((status = 200, body = BatchDone),
        (status = 422, description = "`ids` empty, over 200, naming a rectification outside the caller's scope, or one not verified"),
        (status = 403, description = "Not a supervising account")))]
pub async fn api_close(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<CloseBody>,
) -> WebResult<Json<BatchDone>> {
    let updated = close(&state, &ctx, b.ids).await?;
    Ok(Json(BatchDone { updated }))
}
