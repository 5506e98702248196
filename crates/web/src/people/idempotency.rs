//! Repeat-safe creation: a key (the `Idempotency-Key` header or the form's hidden key) claimed in
//! the creating transaction, so a retried request answers with the first record.

use axum::http::HeaderMap;
use shegong_domain::FieldError;
use shegong_store::people::idempotency;

use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::forms::FormData;

/// The optional `Idempotency-Key` header, checked.
pub fn idempotency_key(headers: &HeaderMap) -> WebResult<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let raw = v.to_str().map_err(|_| {
                WebError::Invalid(vec![FieldError::new(
                    "idempotency_key",
                    "idempotency.key_invalid",
                )])
            })?;
            Ok(Some(
                idempotency::parse_key(raw).map_err(|e| WebError::Invalid(vec![e]))?,
            ))
        }
    }
}

/// The hidden per-form creation key, when the form carries one.
pub(super) fn form_key(f: &FormData) -> Result<Option<String>, FieldError> {
    Some(f.get("idempotency_key"))
        .filter(|k| !k.trim().is_empty())
        .map(idempotency::parse_key)
        .transpose()
}

/// A key seen before answers with the first record; otherwise it is claimed inside the
/// creating transaction (`claim_key`), where a concurrent twin is refused on the field.
pub(super) async fn replayed(
    state: &AppState,
    user_id: &str,
    key: Option<&str>,
    entity: &str,
) -> WebResult<Option<String>> {
    let Some(k) = key else { return Ok(None) };
    let mut c = state.db.read().await?;
    Ok(idempotency::find_key(&mut c, user_id, k, entity, state.now()).await?)
}

pub(super) async fn claim(
    conn: &mut shegong_store::Conn,
    user_id: &str,
    key: Option<&str>,
    entity: &str,
    now: i64,
) -> shegong_store::StoreResult<()> {
    if let Some(k) = key
        && idempotency::claim_key(conn, user_id, k, entity, now).await? != idempotency::Claim::New
    {
        return Err(FieldError::new("idempotency_key", "idempotency.key_reused").into());
    }
    Ok(())
}
