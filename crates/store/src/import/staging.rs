//! Sheets held between an import's preview and its commit, per user and kind (the sheet as
//! read, sealed by the caller, and the column mapping chosen for it); what a finished import
//! did, for its result page; and column mappings remembered per organisation for the next sheet
//! with the same headers.

use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreResult, new_id};

pub async fn stage(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    filename: &str,
    sheet: (&[u8], &[u8]),
    now: Millis,
) -> StoreResult<String> {
    let (content, shown) = sheet;
    // One staged file per user and kind; older ones (finished ones too) are dropped.
    Sql::new("DELETE FROM import_batches WHERE user_id = ")
        .bind(user_id)
        .push(" AND kind = ")
        .bind(kind)
        .execute(conn)
        .await?;
    let id = new_id();
    sqlx::query("INSERT INTO import_batches (id, user_id, kind, filename, content, shown, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id)
        .bind(user_id)
        .bind(kind)
        .bind(filename)
        .bind(content.to_vec())
        .bind(shown.to_vec())
        .bind(now)
        .execute(conn)
        .await?;
    Ok(id)
}

/// A staged file of the user's.
#[derive(sqlx::FromRow)]
pub struct Batch {
    pub filename: String,
    /// Empty once the import is done.
    pub content: Vec<u8>,
    /// The column mapping chosen in the preview (JSON), if one was.
    pub mapping: Option<String>,
    /// What the finished import did (JSON); `None` while it is staged.
    pub result: Option<String>,
}

/// The user's own staged (or finished) file, the whole sheet.
pub async fn staged(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    id: &str,
) -> StoreResult<Batch> {
    read_batch(conn, "content", user_id, kind, id).await
}

/// The user's own staged (or finished) file, with only what its page shows of the sheet as
/// `content` (the whole sheet for a file staged before that part was kept apart).
pub async fn staged_shown(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    id: &str,
) -> StoreResult<Batch> {
    read_batch(conn, "COALESCE(shown, content)", user_id, kind, id).await
}

async fn read_batch(
    conn: &mut AnyConnection,
    content: &'static str,
    user_id: &str,
    kind: &str,
    id: &str,
) -> StoreResult<Batch> {
    Sql::new("SELECT filename, ")
        .push(content)
        .push(" AS content, mapping, result FROM import_batches WHERE id = ")
        .bind(id)
        .push(" AND user_id = ")
        .bind(user_id)
        .push(" AND kind = ")
        .bind(kind)
        .fetch_one(conn)
        .await
}

/// Whether the user has this file staged (or finished), without reading it.
pub async fn exists(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    id: &str,
) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM import_batches WHERE id = $1 AND user_id = $2 AND kind = $3",
    )
    .bind(id)
    .bind(user_id)
    .bind(kind)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Keep the mapping chosen for a staged file.
pub async fn set_mapping(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    mapping: &str,
) -> StoreResult<()> {
    Sql::new("UPDATE import_batches SET mapping = ")
        .bind(mapping)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND user_id = ")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Take a staged file for its commit: false when another commit took it first. Run in the
/// commit's transaction, before the rows are written: a second commit of the same file waits
/// for the first and then finds it taken (a rollback gives it back).
pub async fn claim(conn: &mut AnyConnection, user_id: &str, id: &str) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE import_batches SET result = '' WHERE id = $1 AND user_id = $2 AND result IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The import is done: drop the sheet, keep what it did for the result page.
pub async fn finish(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    result: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE import_batches SET content = $1, shown = NULL, result = $2 WHERE id = $3 AND user_id = $4",
    )
    .bind(Vec::<u8>::new())
    .bind(result)
    .bind(id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
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

/// A column mapping to remember for sheets of the same headers.
pub struct Remembered<'a> {
    /// "org:{id}" or "region:{code}".
    pub owner: &'a str,
    pub kind: &'a str,
    /// `import::mapping::signature` of the headers.
    pub signature: &'a str,
    pub mapping: &'a str,
    pub by: &'a str,
}

pub async fn remember(
    conn: &mut AnyConnection,
    r: &Remembered<'_>,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO import_mappings (owner, kind, signature, mapping, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (owner, kind, signature) DO UPDATE SET mapping = excluded.mapping, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(r.owner)
    .bind(r.kind)
    .bind(r.signature)
    .bind(r.mapping)
    .bind(r.by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The mapping remembered for these headers, if any.
pub async fn remembered(
    conn: &mut AnyConnection,
    owner: &str,
    kind: &str,
    signature: &str,
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT mapping FROM import_mappings WHERE owner = $1 AND kind = $2 AND signature = $3",
    )
    .bind(owner)
    .bind(kind)
    .bind(signature)
    .fetch_optional(conn)
    .await?)
}
