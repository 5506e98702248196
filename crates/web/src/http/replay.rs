//! `Idempotency-Key` on every API write. A phone that sends a visit on a weak signal and never sees
//! the answer sends it again with the same key; it must get the first answer, not a second visit.
//!
//! The first request with a key claims it (`store::replay`); its successful answer is kept,
//! sealed, for a day and sent again to every retry of the same request (same method, path, query
//! and body). An error answer changed nothing (a refused write leaves nothing written), so its
//! key is released and the retry runs afresh. A retry while the first is still running gets 409;
//! the same key on a different request gets 422 on `idempotency_key`.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use shegong_domain::FieldError;
use shegong_store::people::idempotency::parse_key;
use shegong_store::replay::{self, Claim};

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;

pub const HEADER: &str = "idempotency-key";
/// Set on an answer sent again from the kept copy.
pub const REPLAYED: &str = "idempotent-replayed";

pub async fn remember(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !writes || !req.uri().path().starts_with("/api/") || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    let user_id = req
        .extensions()
        .get::<Ctx>()
        .and_then(|c| c.user.as_ref())
        .map(|u| u.user.id.clone());
    // Without an account the handler answers 401 and nothing is kept.
    let Some(user_id) = user_id else {
        return next.run(req).await;
    };
    keyed(&state, &user_id, req, next)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn keyed(state: &AppState, user_id: &str, req: Request, next: Next) -> WebResult<Response> {
    let key = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(parse_key)
        .unwrap_or_else(|| {
            Err(FieldError::new(
                "idempotency_key",
                "idempotency.key_invalid",
            ))
        })
        .map_err(|e| WebError::Invalid(vec![e]))?;
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, state.config.body_limit)
        .await
        .map_err(|_| WebError::TooLarge)?;
    let mut digest = Sha256::new();
    digest.update(parts.method.as_str());
    digest.update(b" ");
    digest.update(parts.uri.path_and_query().map_or("", |p| p.as_str()));
    digest.update(b"\n");
    digest.update(&bytes);
    let hash = hex::encode(digest.finalize());
    match claim(state, user_id, &key, &hash).await? {
        Claim::New => {}
        Claim::Answered {
            status,
            content_type,
            body,
        } => return Ok(again(status, &content_type, body)),
        Claim::Running => return Err(WebError::Conflict("idempotency.in_progress")),
        Claim::Reused => {
            return Err(WebError::Invalid(vec![FieldError::new(
                "idempotency_key",
                "idempotency.key_reused",
            )]));
        }
    }
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    Ok(settle(state, user_id, &key, res).await)
}

async fn claim(state: &AppState, user_id: &str, key: &str, hash: &str) -> WebResult<Claim> {
    let mut tx = state.db.begin().await?;
    let claim = replay::claim(&mut tx, &state.keys, user_id, key, hash, state.now()).await?;
    tx.commit().await.map_err(shegong_store::StoreError::from)?;
    Ok(claim)
}

/// Keep a successful answer for the retries; release the key of any other.
async fn settle(state: &AppState, user_id: &str, key: &str, res: Response) -> Response {
    let status = res.status();
    if !status.is_success() {
        store(state, user_id, key, None).await;
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, state.config.body_limit).await else {
        store(state, user_id, key, None).await;
        return WebError::Internal(anyhow::anyhow!("answer body unreadable")).into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let text = String::from_utf8_lossy(&bytes);
    store(
        state,
        user_id,
        key,
        Some((status.as_u16(), content_type, text.as_ref())),
    )
    .await;
    Response::from_parts(parts, Body::from(bytes))
}

/// Keep `answer` under the key, or release the key when there is none to keep.
async fn store(state: &AppState, user_id: &str, key: &str, answer: Option<(u16, &str, &str)>) {
    let result = async {
        let mut tx = state.db.begin().await?;
        match answer {
            Some(a) => replay::finish(&mut tx, &state.keys, user_id, key, a).await?,
            None => replay::release(&mut tx, user_id, key).await?,
        }
        tx.commit().await.map_err(shegong_store::StoreError::from)
    }
    .await;
    if let Err(e) = result {
        // The request itself is answered; only the copy for a retry is missing (the retry then
        // gets 409 until the key expires).
        tracing::error!(error = %e, "idempotency key not settled");
    }
}

fn again(status: u16, content_type: &str, body: String) -> Response {
    let mut res = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        res.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    res.headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    res
}
