//! Training records: the continuing-education status on a person's page, adding a training there
//! or through the API, and the API's list.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_domain::text::DateKind;
use shegong_domain::workforce::{CertLevel, current_cycle, format_hours, parse_hours};
use shegong_store::admin::audit::Change;
use shegong_store::workforce::staff::{self, Certificate};
use shegong_store::workforce::training::{self as store, NewTraining};
use shegong_store::{Conn, PageRequest, Scope};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::{Check, FormData};
use crate::workforce::staff::{as_date, detail, person_change, today_date};

/// Continuing education in the current 3-year cycle of a person's highest certificate: (cycle
/// start, cycle end, hours done, hours required, whether they are met).
pub type ContinuingEducation = (String, String, String, String, bool);

/// The continuing-education status of a person holding `certs` (`None` without a certificate).
pub(super) async fn continuing_education(
    c: &mut Conn,
    id: &str,
    certs: &[Certificate],
    today: NaiveDate,
) -> WebResult<Option<ContinuingEducation>> {
    let best = certs
        .iter()
        .filter_map(|x| CertLevel::parse(&x.level).ok().map(|l| (l, x)))
        .max_by_key(|(l, _)| l.rank());
    let Some((level, cert)) = best else {
        return Ok(None);
    };
    let (from, to) = current_cycle(cert.obtained_on, cert.registered_until, today);
    let done = store::training_tenths(c, id, from, to).await?;
    let required = level.required_hours() * 10;
    Ok(Some((
        from.to_string(),
        to.to_string(),
        format_hours(done),
        format_hours(required),
        done >= required,
    )))
}

/// A person's trainings for their page: (held on, course, provider, hours), newest first.
pub(super) async fn of_person(
    c: &mut Conn,
    scope: &Scope,
    id: &str,
) -> WebResult<Vec<(String, String, String, String)>> {
    Ok(
        store::trainings(c, scope, Some(id), PageRequest::new(Some(1), Some(200)))
            .await?
            .items
            .into_iter()
            .map(|(tr, _)| {
                (
                    staff::date_text(tr.held_on),
                    tr.course,
                    tr.provider,
                    format_hours(tr.hours_tenths),
                )
            })
            .collect(),
    )
}

/// A training as its form gives it, checked.
pub(super) struct TrainingInput {
    course: String,
    provider: String,
    hours: i64,
    held_on: NaiveDate,
}

/// The training form's fields (`course`, `provider`, `hours`, `held_on`), checked: the page's and
/// `POST /api/v1/staff/{id}/trainings`' one set of rules.
pub(super) fn parse_training(f: &FormData, now: i64) -> Result<TrainingInput, Vec<FieldError>> {
    let mut c = Check::default();
    let course = c.text("course", f.get("course"), 100);
    let provider = c.opt_text("provider", f.get("provider"), 100);
    let hours = c.take(parse_hours("hours", f.get("hours")));
    let held_on = as_date(&c.date_of("held_on", f.get("held_on"), DateKind::Past, today_date(now)));
    c.finish()?;
    // Missing only after `take` or `date_of` recorded an error, which `finish` has returned.
    let (Some(hours), Some(held_on)) = (hours, held_on) else {
        return Err(vec![FieldError::new("held_on", "date.invalid")]);
    };
    Ok(TrainingInput {
        course,
        provider,
        hours,
        held_on,
    })
}

/// Record a training of person `id`, audited (page and API).
pub(super) async fn save_training(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: TrainingInput,
) -> WebResult<Option<FieldError>> {
    let (sid, now) = (id.to_owned(), state.now());
    person_change(state, ctx, id, "training", move |conn, scope, by| {
        Box::pin(async move {
            store::add_training(
                conn,
                &scope,
                &sid,
                &NewTraining {
                    course: &input.course,
                    provider: &input.provider,
                    hours_tenths: input.hours,
                    held_on: input.held_on,
                },
                &by,
                now,
            )
            .await?;
            Ok(vec![
                Change::new("training", None::<String>, Some(&input.course)),
                Change::new("hours", None::<String>, Some(format_hours(input.hours))),
            ])
        })
    })
    .await
}

pub async fn add_training(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match parse_training(&f, state.now()) {
        Ok(i) => i,
        Err(errors) => {
            return detail(&state, &ctx, &id, None, None, errors.into_iter().next()).await;
        }
    };
    match save_training(&state, &ctx, &id, input).await? {
        None => Ok(Redirect::to(&format!("/staff/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(&state, &ctx, &id, None, None, Some(e)).await,
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrainingDto {
    #[serde(default)]
    pub id: String,
    pub staff_id: String,
    #[serde(default)]
    pub staff_name: String,
    pub course: String,
    #[serde(default)]
    pub provider: String,
    /// Hours, e.g. 1.5.
    pub hours: f64,
    /// `YYYY-MM-DD`
    pub held_on: String,
}

#[derive(Deserialize, IntoParams)]
pub struct TrainingQuery {
    pub staff_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Training records within the caller's scope.
#[utoipa::path(get, path = "/api/v1/trainings", tag = "workforce", params(TrainingQuery), responses((status = 200, body = Vec<TrainingDto>)))]
pub async fn api_trainings(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TrainingQuery>,
) -> WebResult<Json<Vec<TrainingDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = store::trainings(
        &mut c,
        &u.scope(),
        q.staff_id.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(
        p.items
            .into_iter()
            .map(|(t, name)| TrainingDto {
                id: t.id,
                staff_id: t.staff_id,
                staff_name: name,
                course: t.course,
                provider: t.provider,
                hours: t.hours_tenths as f64 / 10.0,
                held_on: staff::date_text(t.held_on),
            })
            .collect(),
    ))
}

/// Record a training.
#[utoipa::path(post, path = "/api/v1/trainings", tag = "workforce", request_body = TrainingDto,
    responses((status = 201, description = "Recorded"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_training(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<TrainingDto>,
) -> WebResult<Response> {
    writer(&ctx)?;
    // The form's rules and audit entry (`POST /api/v1/staff/{id}/trainings` is the same).
    let f = FormData::new(vec![
        ("course".into(), b.course),
        ("provider".into(), b.provider),
        ("hours".into(), b.hours.to_string()),
        ("held_on".into(), b.held_on),
    ]);
    let input = parse_training(&f, state.now()).map_err(WebError::Invalid)?;
    if let Some(e) = save_training(&state, &ctx, &b.staff_id, input).await? {
        return Err(e.into());
    }
    Ok(StatusCode::CREATED.into_response())
}
