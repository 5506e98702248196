//! Repeat-safe API writes: the response to a write sent with an `Idempotency-Key` is kept, sealed,
//! under (account, key) for a day, so a client that retries — a phone whose answer was lost on a
//! weak signal — gets the first answer instead of a second record. Creation endpoints that claim
//! their key inside their own transaction (`people::idempotency`) keep doing so; this is the
//! general layer every API write has.

use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::{Millis, StoreResult, new_id};

/// The sealing field of stored responses (they may hold revealed values).
pub const RESPONSE_FIELD: &str = "api_replays.response";
/// How long a key is remembered.
pub const TTL_MS: Millis = 24 * 3600 * 1000;

/// What the key says about this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use: run the request, then `finish` (or `release` when it failed on our side).
    New,
    /// The same request was answered before: send this again.
    Answered {
        status: u16,
        content_type: String,
        body: String,
    },
    /// The same request is still running (or was cut off before it answered).
    Running,
    /// The key was used for a different request.
    Reused,
}

/// Claim `key` for `request_hash` (method, path and body digest) on behalf of `user_id`.
pub async fn claim(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    user_id: &str,
    key: &str,
    request_hash: &str,
    now: Millis,
) -> StoreResult<Claim> {
    Sql::new("DELETE FROM api_replays WHERE user_id = ")
        .bind(user_id)
        .push(" AND idem_key = ")
        .bind(key)
        .push(" AND expires_at < ")
        .bind(now)
        .execute(conn)
        .await?;
    let inserted = Sql::new(
        "INSERT INTO api_replays (id, user_id, idem_key, request_hash, created_at, expires_at) VALUES (",
    )
    .bind(new_id())
    .push(", ")
    .bind(user_id)
    .push(", ")
    .bind(key)
    .push(", ")
    .bind(request_hash)
    .push(", ")
    .bind(now)
    .push(", ")
    .bind(now + TTL_MS)
    .push(") ON CONFLICT (user_id, idem_key) DO NOTHING")
    .execute(conn)
    .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let row: Option<(String, i64, String, Option<String>)> = Sql::new(
        "SELECT request_hash, status, content_type, response_sealed FROM api_replays WHERE user_id = ",
    )
    .bind(user_id)
    .push(" AND idem_key = ")
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        // Expired and removed by a concurrent claim between the two statements: rare; the
        // client's retry claims it afresh.
        None => Claim::Running,
        Some((hash, _, _, _)) if hash != request_hash => Claim::Reused,
        Some((_, 0, _, _)) => Claim::Running,
        Some((_, status, content_type, sealed)) => Claim::Answered {
            status: u16::try_from(status).unwrap_or(500),
            content_type,
            body: match sealed {
                Some(s) => keys
                    .open(RESPONSE_FIELD, &s)
                    .map_err(|e| crate::StoreError::Db(sqlx::Error::Decode(Box::new(e))))?,
                None => String::new(),
            },
        },
    })
}

/// Keep the answer to a claimed key.
pub async fn finish(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    user_id: &str,
    key: &str,
    (status, content_type, body): (u16, &str, &str),
) -> StoreResult<()> {
    Sql::new("UPDATE api_replays SET status = ")
        .bind(i64::from(status))
        .push(", content_type = ")
        .bind(content_type)
        .push(", response_sealed = ")
        .bind(keys.seal(RESPONSE_FIELD, body))
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND idem_key = ")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forget a claimed key whose request failed before it could change anything lasting (a server
/// error, a timeout): the retry runs again.
pub async fn release(conn: &mut AnyConnection, user_id: &str, key: &str) -> StoreResult<()> {
    Sql::new("DELETE FROM api_replays WHERE user_id = ")
        .bind(user_id)
        .push(" AND idem_key = ")
        .bind(key)
        .push(" AND status = 0")
        .execute(conn)
        .await?;
    Ok(())
}

/// Drop every expired key (housekeeping).
pub async fn purge(conn: &mut AnyConnection, now: Millis) -> StoreResult<u64> {
    Sql::new("DELETE FROM api_replays WHERE expires_at < ")
        .bind(now)
        .execute(conn)
        .await
}
