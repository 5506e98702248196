//! Input checks that hold for every request, before any handler parses it: the body size, and no
//! control characters in the path, the query, form fields or JSON strings.
//!
//! NUL and the other C0/C1 control characters have no business in any field: PostgreSQL refuses
//! NUL in text (a 500 there, silently stored on SQLite), and the rest hide text from people who
//! read it later. Tab and line breaks are allowed (multi-line fields); everything else is refused
//! with a field error, identically on both databases. Multipart bodies (uploads) are left to the
//! import engine, which reads files cell by cell.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shegong_domain::FieldError;

use crate::http::error::WebError;
use crate::http::state::AppState;

/// A character no field may hold: C0 controls except tab, line feed and carriage return; DEL;
/// C1 controls.
pub fn is_forbidden_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

fn bad(field: &str) -> WebError {
    WebError::Invalid(vec![FieldError::new(
        field_name(field),
        "input.control_character",
    )])
}

/// `a=b&c=d` decoded: the first field holding a forbidden character (its name, or `query`).
fn check_pairs(text: &str) -> Result<(), WebError> {
    for pair in text.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k);
        if key.chars().any(is_forbidden_control) {
            return Err(bad("query"));
        }
        if decode(v).chars().any(is_forbidden_control) {
            return Err(bad(&key));
        }
    }
    Ok(())
}

/// Percent- and plus-decoding; bytes that are not UTF-8 come out as U+FFFD (which is allowed:
/// the extractor refuses invalid UTF-8 on its own terms).
fn decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match (b, escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (other, None) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A field name for an error message. Names come from the request, so they are interned in a
/// small bounded set (field errors carry `&'static str`); anything past it is just "body".
fn field_name(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    const MAX_NAMES: usize = 512;
    const MAX_LEN: usize = 64;
    if name.len() > MAX_LEN || name.chars().any(is_forbidden_control) {
        return "body";
    }
    let Ok(mut names) = NAMES.get_or_init(Default::default).lock() else {
        return "body";
    };
    if let Some(known) = names.get(name) {
        return known;
    }
    if names.len() >= MAX_NAMES {
        return "body";
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The JSON path of the first string (or key) with a forbidden character.
fn check_json(v: &serde_json::Value, path: &str) -> Result<(), WebError> {
    match v {
        serde_json::Value::String(s) if s.chars().any(is_forbidden_control) => {
            Err(bad(if path.is_empty() { "body" } else { path }))
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_json(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(k, item)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.chars().any(is_forbidden_control) {
                return Err(bad(if path.is_empty() { "body" } else { path }));
            }
            check_json(item, &here)
        }),
        _ => Ok(()),
    }
}

/// The Content-Length the client declared, if any.
fn declared_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Bodies up to this size are read whole before anything else looks at the request.
const SMALL_BODY: u64 = 256 * 1024;

/// Read small request bodies whole, first. A response sent before its request body was read
/// (a 401 to an anonymous write, a 403, a 404 or 405 for a POST) makes hyper close the
/// connection with unread bytes in the socket, and the kernel's reset can destroy the response
/// before the client reads it: under load, kept-alive connections looked "closed without a
/// response". Read first, the connection stays usable; larger bodies (uploads) still stream, and
/// a response that leaves one unread says `Connection: close`.
pub async fn read_small_bodies(req: Request, next: Next) -> Response {
    let length = declared_length(&req);
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    match length {
        Some(n) if n > 0 && n <= SMALL_BODY => {
            let (parts, body) = req.into_parts();
            match to_bytes(body, SMALL_BODY as usize).await {
                Ok(bytes) => {
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                // The client sent less than it declared, or the connection broke.
                Err(_) => axum::http::StatusCode::BAD_REQUEST.into_response(),
            }
        }
        Some(n) if n > SMALL_BODY => with_close(next.run(req).await),
        _ if chunked => with_close(next.run(req).await),
        _ => next.run(req).await,
    }
}

/// Errors answered to a large body that may be unread: tell the client the connection ends.
fn with_close(mut res: Response) -> Response {
    if res.status().is_client_error() || res.status().is_server_error() {
        res.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    res
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.body_limit;
    if declared_length(&req).is_some_and(|n| n > limit as u64) {
        return WebError::TooLarge.into_response();
    }
    if decode(req.uri().path()).chars().any(is_forbidden_control) {
        return bad("path").into_response();
    }
    if let Some(q) = req.uri().query()
        && let Err(e) = check_pairs(q)
    {
        return e.into_response();
    }
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let json = content_type.starts_with("application/json");
    if !form && !json {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return WebError::TooLarge.into_response(),
    };
    let checked = if form {
        match std::str::from_utf8(&bytes) {
            Ok(text) => check_pairs(text),
            Err(_) => Ok(()), // the form extractor refuses it with its own 400
        }
    } else {
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(v) => check_json(&v, ""),
            Err(_) => Ok(()), // malformed JSON: the extractor's 400
        }
    };
    if let Err(e) = checked {
        return e.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_forbidden_but_tab_and_newlines_are_not() {
        for c in ['\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
            assert!(is_forbidden_control(c), "{c:?}");
        }
        for c in ['\t', '\n', '\r', ' ', 'a', '张', '\u{a0}'] {
            assert!(!is_forbidden_control(c), "{c:?}");
        }
    }

    #[test]
    fn pairs_name_the_field() {
        assert!(check_pairs("q=%E5%BC%A0&page=2").is_ok());
        assert!(check_pairs("a%0Ab=1&c=x%09y").is_ok());
        let Err(WebError::Invalid(f)) = check_pairs("page=1&username=ad%00min") else {
            panic!("NUL accepted");
        };
        assert_eq!(f[0].field, "username");
        let Err(WebError::Invalid(f)) = check_pairs("q=%C2%85") else {
            panic!("C1 accepted");
        };
        assert_eq!(f[0].field, "q");
        // A broken escape is not a control character.
        assert!(check_pairs("q=100%").is_ok());
        assert!(check_pairs("q=%zz").is_ok());
    }

    #[test]
    fn json_paths_name_the_field() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"name":"ok","members":[{"name":"a\u0000b"}]}"#).unwrap();
        let Err(WebError::Invalid(f)) = check_json(&v, "") else {
            panic!("NUL accepted");
        };
        assert_eq!(f[0].field, "members[0].name");
        let v: serde_json::Value =
            serde_json::from_str(r#"{"notes":"line 1\nline 2\tx"}"#).unwrap();
        assert!(check_json(&v, "").is_ok());
    }
}
