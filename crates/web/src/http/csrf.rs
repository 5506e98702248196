//! CSRF protection on every state-changing request: the Origin (when sent) must be our own host,
//! and the request must echo the session's token in the `X-CSRF-Token` header (scripts read it
//! from the page's `<meta name="csrf-token">`) or a `_csrf` form field. Requests authenticated by
//! a bearer token carry no cookie and are exempt.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::auth::{Ctx, SESSION_COOKIE, cookie};
use crate::http::error::WebError;
use crate::http::state::AppState;

pub const HEADER: &str = "x-csrf-token";
pub const FIELD: &str = "_csrf";
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// The value of a small text field of a multipart body (the token is hex: no escaping).
fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let start = body
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())?
        + needle.len();
    let rest = body.get(start..)?;
    let value_start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let value = rest.get(value_start..)?;
    let end = value.windows(2).position(|w| w == b"\r\n")?;
    std::str::from_utf8(value.get(..end)?)
        .ok()
        .map(str::to_owned)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn origin_ok(req: &Request) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true; // Not sent by every client; the token check still applies.
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
        .unwrap_or("");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Uploads are read whole for the token check, up to the configured body limit (413 beyond it).
pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let bearer_only = req.headers().contains_key(header::AUTHORIZATION)
        && cookie(req.headers(), SESSION_COOKIE).is_none();
    if bearer_only {
        return next.run(req).await;
    }
    let expected = req
        .extensions()
        .get::<Ctx>()
        .map(|c| c.csrf.clone())
        .unwrap_or_default();
    if expected.is_empty() || !origin_ok(&req) {
        return WebError::Csrf.into_response();
    }
    let header_token = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(t) = header_token {
        return if constant_time_eq(t.as_bytes(), expected.as_bytes()) {
            next.run(req).await
        } else {
            WebError::Csrf.into_response()
        };
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if content_type.starts_with("multipart/form-data") {
        // Uploads carry the token as a form field, so it never appears in a URL.
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, state.config.body_limit).await else {
            return WebError::TooLarge.into_response();
        };
        return match multipart_field(&bytes, FIELD) {
            Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
            _ => WebError::Csrf.into_response(),
        };
    }
    let query_token = req.uri().query().and_then(|q| {
        url_pairs(q)
            .into_iter()
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v)
    });
    if !is_form {
        // Multipart uploads put the token in the query string (the body is streamed).
        return match query_token {
            Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => next.run(req).await,
            _ => WebError::Csrf.into_response(),
        };
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT.min(state.config.body_limit)).await else {
        return WebError::TooLarge.into_response();
    };
    let form_token = std::str::from_utf8(&bytes).ok().and_then(|s| {
        url_pairs(s)
            .into_iter()
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v)
    });
    match form_token {
        Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => WebError::Csrf.into_response(),
    }
}

/// Decode `a=b&c=d` (form or query) into pairs.
fn url_pairs(s: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(s).unwrap_or_default()
}
