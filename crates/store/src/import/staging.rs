//! Sheets held between an import's preview and its commit, per user and kind: the parsed rows,
//! sealed by the caller.

use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreResult, new_id};

pub async fn stage(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    filename: &str,
    content: &[u8],
    now: Millis,
) -> StoreResult<String> {
    // One staged file per user and kind; older ones are dropped.
    Sql::new("DELETE FROM import_batches WHERE user_id = ")
        .bind(user_id)
        .push(" AND kind = ")
        .bind(kind)
        .execute(conn)
        .await?;
    let id = new_id();
    sqlx::query("INSERT INTO import_batches (id, user_id, kind, filename, content, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(user_id)
        .bind(kind)
        .bind(filename)
        .bind(content.to_vec())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(id)
}

/// The user's own staged file: (filename, bytes).
pub async fn staged(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    id: &str,
) -> StoreResult<(String, Vec<u8>)> {
    let row: (String, Vec<u8>) = sqlx::query_as(
        "SELECT filename, content FROM import_batches WHERE id = $1 AND user_id = $2 AND kind = $3",
    )
    .bind(id)
    .bind(user_id)
    .bind(kind)
    .fetch_optional(conn)
    .await?
    .ok_or(crate::StoreError::NotFound)?;
    Ok(row)
}

pub async fn discard(conn: &mut AnyConnection, user_id: &str, id: &str) -> StoreResult<()> {
    Sql::new("DELETE FROM import_batches WHERE id = ")
        .bind(id)
        .push(" AND user_id = ")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
