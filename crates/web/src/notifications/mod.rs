//! 消息通知 (`/notifications`, `/api/v1/notifications`), issue 17 item 2: the in-app inbox that
//! holds everything any channel sends, each user's choices (which events on which outside
//! channel, a daily digest, quiet hours), and the notifier that fills the inbox from the to-do
//! queue and delivers the outbox.

pub mod api;
pub mod channels;
pub mod notifier;
pub mod pages;

use axum::Router;
use axum::routing::{get, post};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::notify::{self, Settings};
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("notifications"),
    importers: &[],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 11,
        group: "menu.group.workbench",
        entries: &[("menu.notifications", "/notifications", None)],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(api::list, api::read, api::read_all, api::get_settings, api::save_settings),
    tags((name = "notifications", description = "消息通知: the caller's inbox (everything any channel sends) and their choices of channels, digest and quiet hours"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(pages::inbox))
        .route("/notifications/read-all", post(pages::read_all))
        .route(
            "/notifications/settings",
            get(pages::settings_page).post(pages::save_settings),
        )
        .route("/notifications/{id}/open", get(pages::open))
        .route("/api/v1/notifications", get(api::list))
        .route("/api/v1/notifications/read-all", post(api::read_all))
        .route(
            "/api/v1/notifications/settings",
            get(api::get_settings).post(api::save_settings),
        )
        .route("/api/v1/notifications/{id}/read", post(api::read))
}

/// Save the caller's choices (their own only), audited without the addresses' values.
pub async fn save(state: &AppState, ctx: &Ctx, s: Settings) -> WebResult<Settings> {
    let u = ctx.user()?;
    let events = notifier::events();
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let before = notify::settings(&mut tx, &state.keys, &u.user.id).await?;
    let saved = notify::save_settings(&mut tx, &state.keys, &u.user.id, &s, &events, now).await?;
    // Addresses are personal: the entry says they changed, never what to.
    let mut changes = Vec::new();
    if before.email != saved.email {
        changes.push(Change::redacted("email"));
    }
    if before.mobile != saved.mobile {
        changes.push(Change::redacted("mobile"));
    }
    changes.push(Change::new(
        "digest",
        Some(before.digest.to_string()),
        Some(saved.digest.to_string()),
    ));
    changes.push(Change::new(
        "quiet_hours",
        Some(format!("{}–{}", before.quiet_from, before.quiet_to)),
        Some(format!("{}–{}", saved.quiet_from, saved.quiet_to)),
    ));
    let pairs = |s: &Settings| {
        s.choices
            .iter()
            .map(|(e, c)| format!("{e}:{c}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    changes.push(Change::new(
        "choices",
        Some(pairs(&before)),
        Some(pairs(&saved)),
    ));
    let event =
        Event::new("update", "notification_settings", Some(u.user.id.clone())).changes(changes);
    audit::record(&mut tx, state.db.backend(), &ctx.actor(), event, now).await?;
    tx.commit().await?;
    Ok(saved)
}
