//! Repeat-safe creation: a key claimed by an account inside the transaction that creates the
//! record, so a retried request answers with the first record.

use shegong_domain::FieldError;
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreResult};

/// How long a creation key is remembered.
pub const IDEMPOTENCY_TTL_MS: Millis = 24 * 3600 * 1000;

/// The result of claiming a creation key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use: create the record, then `settle_key` in the same transaction.
    New,
    /// Seen before (within the expiry): the record the first request created.
    Done(String),
}

/// A key as clients send it: 1–100 visible ASCII characters (a UUID fits).
pub fn parse_key(raw: &str) -> Result<String, FieldError> {
    let k = raw.trim();
    if k.is_empty() || k.len() > 100 || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldError::new(
            "idempotency_key",
            "idempotency.key_invalid",
        ));
    }
    Ok(k.to_owned())
}

/// Claim `(user, key)` for creating an `entity` (`resident`, `case`, `service`), inside the
/// transaction that will create it. A concurrent request with the same key waits on the row
/// (PostgreSQL) or the single writer (SQLite), then sees the first one's record.
pub async fn claim_key(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    entity: &str,
    now: Millis,
) -> StoreResult<Claim> {
    Sql::new("DELETE FROM idempotency_keys WHERE user_id = ")
        .bind(user_id)
        .push(" AND expires_at < ")
        .bind(now)
        .execute(conn)
        .await?;
    let inserted = Sql::new(
        "INSERT INTO idempotency_keys (user_id, idem_key, entity, entity_id, created_at, expires_at) VALUES (",
    )
    .bind(user_id)
    .push(", ")
    .bind(key)
    .push(", ")
    .bind(entity)
    .push(", '', ")
    .bind(now)
    .push(", ")
    .bind(now + IDEMPOTENCY_TTL_MS)
    .push(") ON CONFLICT (user_id, idem_key) DO NOTHING")
    .execute(conn)
    .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let (kind, id): (String, String) =
        Sql::new("SELECT entity, entity_id FROM idempotency_keys WHERE user_id = ")
            .bind(user_id)
            .push(" AND idem_key = ")
            .bind(key)
            .fetch_one(conn)
            .await?;
    if kind != entity || id.is_empty() {
        return Err(FieldError::new("idempotency_key", "idempotency.key_reused").into());
    }
    Ok(Claim::Done(id))
}

/// Record the id created under a claimed key (same transaction as the record).
pub async fn settle_key(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    id: &str,
) -> StoreResult<()> {
    Sql::new("UPDATE idempotency_keys SET entity_id = ")
        .bind(id)
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND idem_key = ")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// A key already settled by this account for `entity` (a read before the write; `claim_key`
/// still decides inside the write's transaction).
pub async fn find_key(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    entity: &str,
    now: Millis,
) -> StoreResult<Option<String>> {
    let row: Option<(String, String)> =
        Sql::new("SELECT entity, entity_id FROM idempotency_keys WHERE user_id = ")
            .bind(user_id)
            .push(" AND idem_key = ")
            .bind(key)
            .push(" AND expires_at >= ")
            .bind(now)
            .fetch_optional(conn)
            .await?;
    match row {
        Some((kind, _)) if kind != entity => {
            Err(FieldError::new("idempotency_key", "idempotency.key_reused").into())
        }
        Some((_, id)) if !id.is_empty() => Ok(Some(id)),
        _ => Ok(None),
    }
}
