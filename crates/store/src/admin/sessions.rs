//! Server-side sessions. The cookie holds a random token; only its SHA-256 is stored, so a copy
//! of the database does not hand out live sessions.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Start a session. Returns (cookie token, session).
pub async fn create(
    conn: &mut AnyConnection,
    user_id: &str,
    ip: Option<&str>,
    user_agent: Option<&str>,
    now: Millis,
) -> StoreResult<(String, Session)> {
    let token = random_token();
    let s = Session {
        id_hash: hash_token(&token),
        user_id: user_id.to_owned(),
        csrf_token: random_token(),
        created_at: now,
        last_seen_at: now,
    };
    Sql::new("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent) VALUES (")
        .bind(&s.id_hash)
        .push(", ")
        .bind(&s.user_id)
        .push(", ")
        .bind(&s.csrf_token)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(ip)
        .push(", ")
        .bind(user_agent.map(|u| u.chars().take(200).collect::<String>()))
        .push(")")
        .execute(conn)
        .await?;
    Ok((token, s))
}

/// The live session for a cookie token: `None` when unknown or idle longer than `idle`
/// (an idle session is deleted on sight).
pub async fn lookup(
    conn: &mut AnyConnection,
    token: &str,
    idle: Millis,
    now: Millis,
) -> StoreResult<Option<Session>> {
    let hash = hash_token(token);
    let s: Option<Session> = Sql::new(
        "SELECT id_hash, user_id, csrf_token, created_at, last_seen_at FROM sessions WHERE id_hash = ",
    )
    .bind(&hash)
    .fetch_optional(conn)
    .await?;
    Ok(s.filter(|s| now - s.last_seen_at <= idle))
}

/// Record activity. Cheap enough per request, but callers skip it within a minute of the last.
pub async fn touch(conn: &mut AnyConnection, id_hash: &str, now: Millis) -> StoreResult<()> {
    Sql::new("UPDATE sessions SET last_seen_at = ")
        .bind(now)
        .push(" WHERE id_hash = ")
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, id_hash: &str) -> StoreResult<()> {
    crate::admin::accounts_changed();
    Sql::new("DELETE FROM sessions WHERE id_hash = ")
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// End every session of a user (disabled, password reset, role change).
pub async fn delete_for_user(conn: &mut AnyConnection, user_id: &str) -> StoreResult<u64> {
    crate::admin::accounts_changed();
    Sql::new("DELETE FROM sessions WHERE user_id = ")
        .bind(user_id)
        .execute(conn)
        .await
}

pub async fn purge_idle(conn: &mut AnyConnection, idle: Millis, now: Millis) -> StoreResult<u64> {
    crate::admin::accounts_changed();
    Sql::new("DELETE FROM sessions WHERE last_seen_at < ")
        .bind(now - idle)
        .execute(conn)
        .await
}

/// End a user's other sessions (after they changed their own password).
pub async fn delete_others(
    conn: &mut AnyConnection,
    user_id: &str,
    keep_hash: &str,
) -> StoreResult<u64> {
    crate::admin::accounts_changed();
    Sql::new("DELETE FROM sessions WHERE user_id = ")
        .bind(user_id)
        .push(" AND id_hash <> ")
        .bind(keep_hash)
        .execute(conn)
        .await
}
