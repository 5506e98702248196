//! API tokens for machine clients: `sg_` + 64 hex characters, shown once, stored as SHA-256.

use serde::Serialize;
use sqlx::AnyConnection;

use crate::admin::sessions::{hash_token, random_token};
use crate::sql::Sql;
use crate::{Millis, StoreError, StoreResult, new_id};

pub const PREFIX: &str = "sg_";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Token {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Create a token for a user. Returns the token record and the secret (shown once).
pub async fn create(
    conn: &mut AnyConnection,
    user_id: &str,
    name: &str,
    now: Millis,
) -> StoreResult<(Token, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(shegong_domain::FieldError::new("name", "token.name_invalid").into());
    }
    let secret = format!("{PREFIX}{}", random_token());
    let t = Token {
        id: new_id(),
        user_id: user_id.to_owned(),
        name: name.to_owned(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    Sql::new("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (")
        .bind(&t.id)
        .push(", ")
        .bind(&t.user_id)
        .push(", ")
        .bind(&t.name)
        .push(", ")
        .bind(hash_token(&secret))
        .push(", ")
        .bind(now)
        .push(")")
        .execute(conn)
        .await?;
    Ok((t, secret))
}

/// A user's own tokens, newest first.
pub async fn list_for_user(conn: &mut AnyConnection, user_id: &str) -> StoreResult<Vec<Token>> {
    Sql::new("SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = ")
        .bind(user_id)
        .push(" ORDER BY created_at DESC")
        .fetch_all(conn)
        .await
}

/// Revoke one of the user's own tokens.
pub async fn revoke(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    now: Millis,
) -> StoreResult<Token> {
    crate::admin::accounts_changed();
    let t: Token = Sql::new("SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = ")
        .bind(id)
        .push(" AND user_id = ")
        .bind(user_id)
        .fetch_one(conn)
        .await?;
    Sql::new("UPDATE api_tokens SET revoked_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND revoked_at IS NULL")
        .execute(conn)
        .await?;
    Ok(t)
}

/// A live token: (token id, user id, last used), or NotFound.
pub async fn authenticate(
    conn: &mut AnyConnection,
    secret: &str,
) -> StoreResult<(String, String, Option<i64>)> {
    if !secret.starts_with(PREFIX) {
        return Err(StoreError::NotFound);
    }
    Sql::new(
        "SELECT id, user_id, last_used_at FROM api_tokens WHERE revoked_at IS NULL AND token_hash = ",
    )
    .bind(hash_token(secret))
    .fetch_one(conn)
    .await
}

/// Record a token's use. Callers do it at most once a minute per token, so reads stay reads.
pub async fn touch(conn: &mut AnyConnection, id: &str, now: Millis) -> StoreResult<()> {
    Sql::new("UPDATE api_tokens SET last_used_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revoke every live token of a user (after an administrator reset the password).
pub async fn revoke_all(conn: &mut AnyConnection, user_id: &str, now: Millis) -> StoreResult<u64> {
    crate::admin::accounts_changed();
    Sql::new("UPDATE api_tokens SET revoked_at = ")
        .bind(now)
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND revoked_at IS NULL")
        .execute(conn)
        .await
}
