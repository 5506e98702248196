//! `/api/v1/notifications`: the caller's inbox and choices, as the pages do.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use shegong_store::PageRequest;
use shegong_store::notify::{self, Notification, Settings};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::state::AppState;
use crate::ui::list::rfc3339;

/// One notification.
#[derive(Serialize, ToSchema)]
pub struct NotificationDto {
    pub id: String,
    /// A to-do kind (`visit`, `plan_approval`, …) or `digest`.
    pub event: String,
    /// What was sent: kinds of work and counts, never personal data.
    pub text: String,
    /// A path of this platform.
    pub link: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

fn dto(n: Notification) -> NotificationDto {
    NotificationDto {
        id: n.id,
        event: n.event,
        text: n.text,
        link: n.link,
        created_at: rfc3339(n.created_at),
        read_at: n.read_at.map(rfc3339),
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationDto>,
    pub total: i64,
    pub unread: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct InboxParams {
    /// Only the unread ones.
    pub unread: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The caller's inbox, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(InboxParams),
    responses((status = 200, body = NotificationPage), (status = 401, description = "Not signed in")))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<InboxParams>,
) -> WebResult<Json<NotificationPage>> {
    let u = ctx.user()?;
    let mut c = state.db.read().await?;
    let page = notify::inbox(
        &mut c,
        &u.user.id,
        q.unread.unwrap_or(false),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    let unread = notify::unread_count(&mut c, &u.user.id).await?;
    Ok(Json(NotificationPage {
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        unread,
        items: page.items.into_iter().map(dto).collect(),
    }))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = NotificationDto), (status = 404, description = "Not the caller's")))]
pub async fn read(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<NotificationDto>> {
    let u = ctx.user()?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let n = notify::mark_read(&mut tx, &u.user.id, &id, now).await?;
    tx.commit().await?;
    Ok(Json(dto(Notification {
        read_at: n.read_at.or(Some(now)),
        ..n
    })))
}

#[derive(Serialize, ToSchema)]
pub struct ReadAll {
    /// How many were unread.
    pub marked: u64,
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications",
    responses((status = 200, body = ReadAll), (status = 401, description = "Not signed in")))]
pub async fn read_all(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<ReadAll>> {
    let u = ctx.user()?;
    let mut tx = state.db.begin().await?;
    let marked = notify::mark_all_read(&mut tx, &u.user.id, state.now()).await?;
    tx.commit().await?;
    Ok(Json(ReadAll { marked }))
}

/// The caller's choices.
#[derive(Serialize, Deserialize, ToSchema, Default)]
pub struct SettingsDto {
    /// For e-mail notifications; empty for none.
    #[serde(default)]
    pub email: String,
    /// A mainland mobile number for SMS; empty for none.
    #[serde(default)]
    pub mobile: String,
    /// One digest a day (after 08:00 China time) instead of a message per event.
    #[serde(default)]
    pub digest: bool,
    /// Quiet hours, `HH:MM` China time (both empty: none); outside channels wait until they end.
    #[serde(default)]
    pub quiet_from: String,
    #[serde(default)]
    pub quiet_to: String,
    /// Which events go out on which outside channel (`email`, `webhook`, `sms`); the inbox
    /// receives every event. Events: the to-do kinds and `digest`.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// The outside channels this server has configured (read only).
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Clone)]
pub struct Choice {
    pub event: String,
    pub channel: String,
}

pub fn settings_dto(state: &AppState, s: Settings) -> SettingsDto {
    SettingsDto {
        email: s.email.unwrap_or_default(),
        mobile: s.mobile.unwrap_or_default(),
        digest: s.digest,
        quiet_from: s.quiet_from,
        quiet_to: s.quiet_to,
        choices: s
            .choices
            .into_iter()
            .map(|(event, channel)| Choice { event, channel })
            .collect(),
        channels: super::notifier::configured(state)
            .iter()
            .map(|c| c.kind().as_str().to_owned())
            .collect(),
    }
}

/// The caller's choices of channels, digest and quiet hours.
#[utoipa::path(get, path = "/api/v1/notifications/settings", tag = "notifications",
    responses((status = 200, body = SettingsDto), (status = 401, description = "Not signed in")))]
pub async fn get_settings(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<SettingsDto>> {
    let u = ctx.user()?;
    let mut c = state.db.read().await?;
    let s = notify::settings(&mut c, &state.keys, &u.user.id).await?;
    Ok(Json(settings_dto(&state, s)))
}

/// Replace the caller's choices (audited; addresses are not written into the entry).
#[utoipa::path(post, path = "/api/v1/notifications/settings", tag = "notifications", request_body = SettingsDto,
    responses((status = 200, body = SettingsDto), (status = 422, description = "A field that does not read, named")))]
pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<SettingsDto>,
) -> WebResult<Json<SettingsDto>> {
    let saved = super::save(&state, &ctx, from_dto(b)?).await?;
    Ok(Json(settings_dto(&state, saved)))
}

/// Bounded before anything is stored: 60 choices at most (20 events × 3 channels).
pub fn from_dto(b: SettingsDto) -> WebResult<Settings> {
    use shegong_domain::FieldError;
    if b.choices.len() > 60 {
        return Err(FieldError::new("choices", "form.too_long").into());
    }
    if [&b.email, &b.mobile, &b.quiet_from, &b.quiet_to]
        .iter()
        .any(|v| v.chars().count() > 254)
    {
        return Err(FieldError::new("email", "form.too_long").into());
    }
    Ok(Settings {
        email: Some(b.email).filter(|e| !e.trim().is_empty()),
        mobile: Some(b.mobile).filter(|m| !m.trim().is_empty()),
        digest: b.digest,
        quiet_from: b.quiet_from,
        quiet_to: b.quiet_to,
        choices: b
            .choices
            .into_iter()
            .map(|c| (c.event, c.channel))
            .collect(),
    })
}
