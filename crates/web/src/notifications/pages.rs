//! The inbox and the settings page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_store::notify::{self, Notification, Settings};
use shegong_store::{Page, PageRequest};

use super::api::{Choice, SettingsDto, from_dto, settings_dto};
use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, local_time, pager};

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    pub unread: Option<String>,
    pub page: Option<i64>,
    pub notice: Option<String>,
}

pub struct Row {
    pub id: String,
    pub text: String,
    pub at: String,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "notifications/inbox.html")]
struct InboxPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    unread_only: bool,
    unread: i64,
}

pub async fn inbox(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<InboxQuery>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    let t = ctx.tr();
    let unread_only = q.unread.as_deref() == Some("1");
    let mut c = state.db.read().await?;
    let data: Page<Notification> = notify::inbox(
        &mut c,
        &u.user.id,
        unread_only,
        PageRequest::new(q.page, None),
    )
    .await?;
    let unread = notify::unread_count(&mut c, &u.user.id).await?;
    drop(c);
    let query = if unread_only {
        vec![("unread", "1".to_owned())]
    } else {
        vec![]
    };
    let title = t.get("menu.notifications");
    Ok(page(
        StatusCode::OK,
        &InboxPage {
            pager: pager(&t, &data, "/notifications", &query)?,
            rows: data
                .items
                .into_iter()
                .map(|n| Row {
                    unread: n.read_at.is_none(),
                    at: local_time(n.created_at),
                    id: n.id,
                    text: n.text,
                })
                .collect(),
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            t,
            unread_only,
            unread,
        },
    ))
}

/// Open a notification: marked read, then to the page it links to.
pub async fn open(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    let mut tx = state.db.begin().await?;
    let n = notify::mark_read(&mut tx, &u.user.id, &id, state.now()).await?;
    tx.commit().await?;
    // Only local paths are ever stored; anything else goes to the inbox.
    let to = if n.link.starts_with('/') && !n.link.starts_with("//") {
        n.link
    } else {
        "/notifications".into()
    };
    Ok(Redirect::to(&to).into_response())
}

pub async fn read_all(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = ctx.user()?;
    let mut tx = state.db.begin().await?;
    notify::mark_all_read(&mut tx, &u.user.id, state.now()).await?;
    tx.commit().await?;
    Ok(Redirect::to("/notifications?notice=notice.saved").into_response())
}

pub struct EventRow {
    pub event: String,
    pub label: String,
    /// (channel, checkbox value, checked) per configured channel.
    pub cells: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "notifications/settings.html")]
struct SettingsPage {
    t: Tr,
    base: Base,
    s: SettingsDto,
    channels: Vec<String>,
    rows: Vec<EventRow>,
    errors: FormErrors,
}

fn settings_page_of(
    state: &AppState,
    ctx: &Ctx,
    s: SettingsDto,
    errors: Vec<shegong_domain::FieldError>,
    notice: Option<&str>,
) -> Response {
    let t = ctx.tr();
    let channels: Vec<String> = super::notifier::configured(state)
        .iter()
        .map(|c| c.kind().as_str().to_owned())
        .collect();
    let rows = super::notifier::events()
        .into_iter()
        .map(|e| EventRow {
            label: if e == super::notifier::DIGEST {
                t.get("notify.digest_event").to_owned()
            } else {
                t.get(&format!("todo.kind.{e}")).to_owned()
            },
            cells: channels
                .iter()
                .map(|c| {
                    let checked = s.choices.iter().any(|x| x.event == e && &x.channel == c);
                    (c.clone(), format!("{e}:{c}"), checked)
                })
                .collect(),
            event: e.to_owned(),
        })
        .collect();
    let title = t.get("notify.settings");
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &SettingsPage {
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.notifications"), "/notifications"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            errors: FormErrors::new(t, errors),
            t,
            s,
            channels,
            rows,
        },
    )
}

pub async fn settings_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<InboxQuery>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    let mut c = state.db.read().await?;
    let s: Settings = notify::settings(&mut c, &state.keys, &u.user.id).await?;
    drop(c);
    Ok(settings_page_of(
        &state,
        &ctx,
        settings_dto(&state, s),
        vec![],
        q.notice.as_deref(),
    ))
}

/// The settings form as typed.
fn typed(f: &FormData) -> SettingsDto {
    SettingsDto {
        email: f.get("email").to_owned(),
        mobile: f.get("mobile").to_owned(),
        digest: f.get("digest") == "1",
        quiet_from: f.get("quiet_from").to_owned(),
        quiet_to: f.get("quiet_to").to_owned(),
        choices: f
            .all("choice")
            .into_iter()
            .filter_map(|v| {
                v.split_once(':').map(|(e, c)| Choice {
                    event: e.to_owned(),
                    channel: c.to_owned(),
                })
            })
            .collect(),
        channels: vec![],
    }
}

pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    ctx.user()?;
    let result = match from_dto(typed(&f)) {
        Ok(s) => super::save(&state, &ctx, s).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/notifications/settings?notice=notice.saved").into_response()),
        // The form comes back as typed, the error next to its field.
        Err(WebError::Invalid(errors)) => {
            Ok(settings_page_of(&state, &ctx, typed(&f), errors, None))
        }
        Err(e) => Err(e),
    }
}
