//! A station's construction progress: the monthly report (from the station page and
//! `/api/v1/stations/{id}/progress`) and the supervisor's confirmation that building is done.
//! The overview across regions (targets, overdue reports) is in `construction.rs`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::network::station as st;
use shegong_domain::{FieldError, Permission, Scope};
use shegong_store::admin::audit::Change;
use shegong_store::network::construction::{self, ReportInput};
use shegong_store::network::stations;
use shegong_store::{Conn, StoreResult};
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, audited, writer};
use crate::network::station_page::{detail, station_action, station_change};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::list::rfc3339;

/// File the report and describe it for the audit entry.
async fn file_report(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    input: &ReportInput,
    by: &str,
    now: i64,
) -> StoreResult<Vec<Change>> {
    construction::report(conn, scope, id, input, by, now).await?;
    Ok(vec![Change::new(
        &format!("progress.{}", input.month),
        None::<i64>,
        Some(input.progress_pct),
    )])
}

pub async fn report_progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let month = c.take(st::parse_month("month", f.get("month")));
    let pct = c.int("progress_pct", f.get("progress_pct"), 0, 100, 0);
    let milestones = c.opt_text("milestones", f.get("milestones"), 2000);
    let problems = c.opt_text("problems", f.get("problems"), 2000);
    let checked = c.finish();
    let (Ok(()), Some(month)) = (&checked, month) else {
        let error = checked.err().and_then(|e| e.into_iter().next());
        return detail(&state, &ctx, &id, None, error).await;
    };
    let input = ReportInput {
        month,
        progress_pct: pct,
        milestones,
        problems,
    };
    let (sid, now) = (id.clone(), state.now());
    station_action(&state, &ctx, &id, "progress", move |conn, scope, by| {
        Box::pin(async move { file_report(conn, &scope, &sid, &input, &by, now).await })
    })
    .await
}

pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    match save_confirm(&state, &ctx, &id).await? {
        None => Ok(Redirect::to(&format!("/stations/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(&state, &ctx, &id, None, Some(e)).await,
    }
}

/// Confirm that building station `id` is complete (page and API): supervising roles only, a
/// station under construction; audited as `station`/`confirm_completion`.
pub(super) async fn save_confirm(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
) -> WebResult<Option<FieldError>> {
    ctx.user()?.require(Permission::Supervise)?;
    let (sid, today_s, now) = (id.to_owned(), today(state.now()), state.now());
    station_change(
        state,
        ctx,
        id,
        "confirm_completion",
        move |conn, scope, by| {
            Box::pin(async move {
                let before =
                    stations::confirm_completion(conn, &scope, &sid, &by, &today_s, now).await?;
                Ok(vec![Change::new(
                    "status",
                    Some(before.status),
                    Some("operating"),
                )])
            })
        },
    )
    .await
}

/// A monthly progress report.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProgressDto {
    /// `YYYY-MM`
    #[schema(pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$")]
    pub month: String,
    #[schema(minimum = 0, maximum = 100)]
    pub progress_pct: i64,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub milestones: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub problems: String,
    #[serde(default)]
    pub reported_by: String,
    #[serde(default)]
    pub reported_at: String,
}

/// A station's monthly construction progress reports, newest first.
#[utoipa::path(get, path = "/api/v1/stations/{id}/progress", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ProgressDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<ProgressDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let reports = construction::reports(&mut c, &u.scope(), &id).await?;
    Ok(Json(
        reports
            .into_iter()
            .map(|r| ProgressDto {
                month: format!("{}-{:02}", r.month / 100, r.month % 100),
                progress_pct: r.progress_pct,
                milestones: r.milestones,
                problems: r.problems,
                reported_by: r.reported_by,
                reported_at: rfc3339(r.reported_at),
            })
            .collect(),
    ))
}

/// File (or correct) the report for a month.
#[utoipa::path(post, path = "/api/v1/stations/{id}/progress", tag = "stations", params(("id" = String, Path)), request_body = ProgressDto,
    responses((status = 201, description = "Filed"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<ProgressDto>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let month = c.take(st::parse_month("month", &body.month));
    if !(0..=100).contains(&body.progress_pct) {
        c.fail("progress_pct", "construction.progress_invalid");
    }
    // The same limits as the form.
    let milestones = c.opt_text("milestones", body.milestones.trim(), 2000);
    let problems = c.opt_text("problems", body.problems.trim(), 2000);
    let checked = c.finish();
    let (Ok(()), Some(month)) = (&checked, month) else {
        let errors = checked
            .err()
            .unwrap_or_else(|| vec![FieldError::new("month", "date.invalid_month")]);
        return Err(WebError::Invalid(errors));
    };
    let input = ReportInput {
        month,
        progress_pct: body.progress_pct,
        milestones,
        problems,
    };
    let now = state.now();
    let failed = audited(
        &state,
        &ctx,
        "station",
        "progress",
        move |conn, scope, by| {
            Box::pin(async move {
                let region = stations::get(conn, &scope, &id).await?.region_code;
                let changes = file_report(conn, &scope, &id, &input, &by, now).await?;
                Ok(Done {
                    entity_id: id,
                    region: Some(region),
                    changes,
                })
            })
        },
    )
    .await?;
    match failed {
        None => Ok(StatusCode::CREATED.into_response()),
        Some(e) => Err(e.into()),
    }
}
