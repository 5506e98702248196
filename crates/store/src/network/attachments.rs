//! Attachments: photos, rule documents and evidence. The bytes live in a directory outside any
//! web-served path, named by their SHA-256 (identical uploads are stored once); rows hold the
//! metadata with the owner's region, so reads are scoped like the owner.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreError, StoreResult, new_id};

/// Largest accepted file.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// Accepted types, recognised by their first bytes (never by the name or the client's claim).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const XLSX_OR_DOCX: &[u8] = b"PK\x03\x04";
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(XLSX_OR_DOCX) {
        Some("application/zip")
    } else {
        None
    }
}

/// Where files are kept: `<dir>/<first two hex digits>/<sha256>`.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, sha: &str) -> PathBuf {
        self.dir.join(&sha[..2]).join(sha)
    }

    /// Write the bytes (once per content) and return their SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path(&sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir).await?;
        // Write beside, then rename: a crash never leaves a truncated file under the real name.
        let tmp = dir.join(format!("{sha}.{}.tmp", new_id()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::File::open(&tmp).await?.sync_all().await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }

    pub async fn get(&self, sha: &str) -> std::io::Result<Vec<u8>> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad hash",
            ));
        }
        tokio::fs::read(self.path(sha)).await
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: String,
    pub owner_kind: String,
    pub owner_id: String,
    pub region_code: String,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_by: String,
    pub created_at: i64,
}

const SELECT: &str = "SELECT id, owner_kind, owner_id, region_code, kind, filename, content_type, size, sha256, created_by, created_at FROM attachments";

pub struct NewAttachment<'a> {
    pub owner_kind: &'a str,
    pub owner_id: &'a str,
    /// The owner's region (the caller has read the owner within scope).
    pub region_code: &'a str,
    pub kind: &'a str,
    pub filename: &'a str,
    pub bytes: &'a [u8],
}

/// Check, store and record a file. Returns the attachment.
pub async fn add(
    conn: &mut AnyConnection,
    files: &FileStore,
    new: NewAttachment<'_>,
    by: &str,
    now: Millis,
) -> StoreResult<Attachment> {
    if new.bytes.is_empty() {
        return Err(FieldError::new("file", "attachment.empty").into());
    }
    if new.bytes.len() > MAX_BYTES {
        return Err(FieldError::new("file", "attachment.too_large").into());
    }
    let Some(content_type) = sniff(new.bytes) else {
        return Err(FieldError::new("file", "attachment.type_not_allowed").into());
    };
    let filename: String = new
        .filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("file")
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let sha = files
        .put(new.bytes)
        .await
        .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
    let a = Attachment {
        id: new_id(),
        owner_kind: new.owner_kind.to_owned(),
        owner_id: new.owner_id.to_owned(),
        region_code: new.region_code.to_owned(),
        kind: new.kind.to_owned(),
        filename: if filename.is_empty() {
            "file".into()
        } else {
            filename
        },
        content_type: content_type.to_owned(),
        size: new.bytes.len() as i64,
        sha256: sha,
        created_by: by.to_owned(),
        created_at: now,
    };
    Sql::new("INSERT INTO attachments (id, owner_kind, owner_id, region_code, kind, filename, content_type, size, sha256, created_by, created_at) VALUES (")
        .bind(&a.id).push(", ").bind(&a.owner_kind).push(", ").bind(&a.owner_id).push(", ").bind(&a.region_code).push(", ")
        .bind(&a.kind).push(", ").bind(&a.filename).push(", ").bind(&a.content_type).push(", ").bind(a.size).push(", ")
        .bind(&a.sha256).push(", ").bind(&a.created_by).push(", ").bind(a.created_at).push(")")
        .execute(conn).await?;
    Ok(a)
}

/// The owner's attachments (the caller has read the owner within scope).
pub async fn for_owner(
    conn: &mut AnyConnection,
    owner_kind: &str,
    owner_id: &str,
) -> StoreResult<Vec<Attachment>> {
    Sql::new(SELECT)
        .push(" WHERE owner_kind = ")
        .bind(owner_kind)
        .push(" AND owner_id = ")
        .bind(owner_id)
        .push(" ORDER BY created_at")
        .fetch_all(conn)
        .await
}

/// One attachment in scope (by its region; an organisation-bound scope sees attachments of the
/// stations its organisation operates). A rectification's evidence is reached as the
/// rectification is: through its station, wherever the station now is. A service record's
/// photos are not reached here but through the record (`people::evidence::attachment`).
pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Attachment> {
    let mut q = Sql::new(SELECT);
    q.push(" WHERE id = ")
        .bind(id)
        .push(" AND ((owner_kind NOT IN ('rectification', 'service') AND ");
    q.region_range("region_code", scope);
    if let Some(org) = scope.org {
        q.push(" AND (owner_kind <> 'station' OR owner_id IN (SELECT id FROM stations WHERE operator_org_id = ")
            .bind(org.to_string())
            .push("))");
    }
    q.push(") OR (owner_kind = 'rectification' AND owner_id IN (SELECT x.id FROM rectifications x JOIN stations s ON s.id = x.station_id WHERE ");
    q.region_range("s.region_code", scope);
    if let Some(org) = scope.org {
        q.push(" AND s.operator_org_id = ").bind(org.to_string());
    }
    q.push(")))");
    q.fetch_one(conn).await
}

/// An attachment as a list shows it: with the uploader's display name when the account exists
/// (`created_by` holds the account name).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Listed {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub a: Attachment,
    pub uploader_name: Option<String>,
}

/// The owner's attachments with their uploaders' names, oldest first (the caller has read the
/// owner within scope).
pub async fn listed(
    conn: &mut AnyConnection,
    owner_kind: &str,
    owner_id: &str,
) -> StoreResult<Vec<Listed>> {
    Sql::new("SELECT a.id, a.owner_kind, a.owner_id, a.region_code, a.kind, a.filename, a.content_type, a.size, \
              a.sha256, a.created_by, a.created_at, u.display_name AS uploader_name \
              FROM attachments a LEFT JOIN users u ON u.username = a.created_by WHERE a.owner_kind = ")
        .bind(owner_kind)
        .push(" AND a.owner_id = ")
        .bind(owner_id)
        .push(" ORDER BY a.created_at, a.id")
        .fetch_all(conn)
        .await
}
