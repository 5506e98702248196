//! Liveness, readiness and the language switch.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_store::migrate;

use crate::http::auth::set_cookie;
use crate::http::state::AppState;
use crate::ui::i18n::{LANG_COOKIE, Lang};

pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
pub struct Ready {
    database: bool,
    schema_version: i64,
    schema_expected: i64,
}

/// Ready when the database answers and every migration is applied.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = state.db.ping().await.is_ok();
    let schema_version = if database {
        migrate::current_version(&state.db).await.unwrap_or(0)
    } else {
        0
    };
    let ready = Ready {
        database,
        schema_version,
        schema_expected: migrate::latest_version(),
    };
    let status = if database && ready.schema_version >= ready.schema_expected {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(ready)).into_response()
}

#[derive(Deserialize)]
pub struct LangQuery {
    next: Option<String>,
}

/// Switch the interface language (a cookie; no server state changes).
pub async fn set_lang(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Zh);
    let next = crate::http::render::local_path(q.next.as_deref());
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = set_cookie(&state, LANG_COOKIE, lang.short(), Some(365 * 86_400)).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
