//! 星级志愿者认定 from the volunteer's page or `POST /api/v1/volunteers/{id}/stars`: the
//! configuration names the level that approves each star in the volunteer's province
//! (`[volunteers.star_approval]`); an administrator of that level or above (supervision
//! permission) awards it once the recorded hours reach it. Audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shegong_domain::{FieldError, Permission, RegionLevel};
use shegong_store::admin::audit::Change;
use shegong_store::volunteers::registry;
use shegong_store::volunteers::stars::{self, AwardInput, StarAward};
use utoipa::ToSchema;

use crate::config::{StarApprover, VolunteerRules};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};
use crate::ui::forms::{FormData, today};

/// The level that approves `stars` in the province of `region` (any level for a star out of
/// range: the award is refused on the star itself).
pub fn approver(rules: &VolunteerRules, region: &str, stars: i64) -> RegionLevel {
    let n = usize::try_from(stars).unwrap_or(0);
    match n
        .checked_sub(1)
        .and_then(|i| rules.star_approvers(region).get(i).copied())
    {
        Some(StarApprover::Province) => RegionLevel::Province,
        Some(StarApprover::City) => RegionLevel::City,
        _ => RegionLevel::County,
    }
}

fn parse(f: &FormData) -> Result<(i64, String), Vec<FieldError>> {
    let mut c = crate::ui::forms::Check::default();
    let stars = f.get("stars").trim();
    let stars = match stars.parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            c.fail("stars", "volunteer.star_invalid");
            0
        }
    };
    let note = c.opt_text("note", f.get("note").trim(), 200);
    c.finish()?;
    Ok((stars, note))
}

async fn award(
    state: &AppState,
    ctx: &Ctx,
    volunteer_id: String,
    (stars, note): (i64, String),
) -> WebResult<String> {
    let now = state.now();
    let day = today(now);
    let rules = state.config.volunteers.clone();
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_star", "create").requiring(Permission::Supervise),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let v = registry::get(conn, &scope, &volunteer_id).await?;
                let input = AwardInput {
                    approver: approver(&rules, &v.region_code, stars),
                    volunteer_id,
                    stars,
                    note,
                };
                let id = stars::award(conn, &scope, &input, (&by, now), &day).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(v.region_code),
                    changes: vec![
                        Change::new("volunteer_id", None::<String>, Some(v.id)),
                        Change::new("stars", None::<i64>, Some(stars)),
                        Change::new("minutes", None::<i64>, Some(v.recorded_minutes)),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// The volunteer page's award form.
pub async fn award_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    ctx.user()?.require(Permission::Supervise)?;
    let r = match parse(&f) {
        Ok(input) => award(&state, &ctx, id.clone(), input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/volunteers/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(e)) => match e.into_iter().next() {
            Some(first) => super::registry::show_with_error(&state, &ctx, &id, first).await,
            None => Err(WebError::Invalid(vec![])),
        },
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- API

/// A star level awarded.
#[derive(Serialize, ToSchema)]
pub struct StarAwardDto {
    pub id: String,
    pub volunteer_id: String,
    /// 1–5.
    pub stars: i64,
    /// Recorded minutes the award rests on.
    pub minutes: i64,
    /// The level the province's rules name for this star: `county`, `city` or `province`.
    pub approver_level: String,
    /// The approving administrator's region code ('' for a national account).
    pub approver_region: String,
    pub note: String,
    #[schema(format = Date)]
    pub awarded_on: String,
}

fn dto(a: StarAward) -> StarAwardDto {
    StarAwardDto {
        id: a.id,
        volunteer_id: a.volunteer_id,
        stars: a.stars,
        minutes: a.minutes,
        approver_level: a.approver_level,
        approver_region: a.approver_region,
        note: a.note,
        awarded_on: a.awarded_on,
    }
}

/// A volunteer's star awards, highest first.
#[utoipa::path(get, path = "/api/v1/volunteers/{id}/stars", tag = "volunteers", params(("id" = String, Path)),
    responses((status = 200, body = Vec<StarAwardDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<StarAwardDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let list = stars::list(&mut c, &u.scope(), &id).await?;
    Ok(Json(list.into_iter().map(dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"stars": 1, "note": "2026年度星级认定"}))]
pub struct StarAwardBody {
    /// 1–5: within the volunteer's recorded hours (100/300/600/1000/1500), above any award so far.
    pub stars: i64,
    #[serde(default)]
    pub note: String,
}

/// Award a star level (星级认定), by an administrator of the level the province's rules name for
/// it, or above.
#[utoipa::path(post, path = "/api/v1/volunteers/{id}/stars", tag = "volunteers", params(("id" = String, Path)),
    request_body = StarAwardBody,
    responses((status = 201, body = StarAwardDto), (status = 403, description = "No supervision permission"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Star out of range, hours short, already awarded, or not this level's to award (named)")))]
pub async fn api_award(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<StarAwardBody>,
) -> WebResult<Response> {
    ctx.user()?.require(Permission::Supervise)?;
    let f = FormData::new(vec![
        ("stars".into(), b.stars.to_string()),
        ("note".into(), b.note),
    ]);
    let input = parse(&f).map_err(WebError::Invalid)?;
    let aid = award(&state, &ctx, id, input).await?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let a = stars::get(&mut c, &u.scope(), &aid).await?;
    Ok((StatusCode::CREATED, Json(dto(a))).into_response())
}

/// This module's page action and API operations.
pub fn routes() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/volunteers/{id}/stars", post(award_page))
        .route(
            "/api/v1/volunteers/{id}/stars",
            get(api_list).post(api_award),
        )
}
