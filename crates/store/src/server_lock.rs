//! Who is using the database: a serving process holds a lock for its lifetime, and an offline
//! command that rewrites the database (`shegong restore`) takes it exclusively, so it refuses
//! while a server runs instead of swapping the file under it and losing acknowledged writes.
//!
//! SQLite: an advisory lock (`flock`) on `<database>.lock`, which also names the holder (pid,
//! host, start time); the operating system releases it when the process dies, so a crash leaves
//! no stale lock. One server per SQLite file: the server's lock is exclusive too.
//! PostgreSQL: a session advisory lock on a dedicated connection; servers take it shared (several
//! instances may serve one database), offline commands exclusively.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::str::FromStr;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions};

use crate::StoreError;
use crate::db::{Backend, sqlite_path};

/// The PostgreSQL advisory lock key ("SHEGONG" in ASCII).
const PG_KEY: i64 = 0x0053_4845_474f_4e47;

/// Tries, 50 ms apart, before a PostgreSQL lock counts as held (about one second).
const LOCK_ATTEMPTS: u32 = 20;

/// Held while alive; dropping it releases the lock.
#[derive(Debug)]
pub struct ServerLock {
    _held: Held,
}

/// What keeps the lock: never read, only dropped (which releases it).
#[derive(Debug)]
#[allow(dead_code)]
enum Held {
    File(File),
    Postgres(Box<AnyConnection>),
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds the database: the holder as far as it is known.
    #[error("the database is in use by {0}")]
    Held(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The lock file next to a SQLite database.
pub fn lock_file(url: &str) -> PathBuf {
    let db = sqlite_path(url);
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    db.with_file_name(name)
}

fn io(e: std::io::Error) -> LockError {
    LockError::Store(StoreError::Db(sqlx::Error::Io(e)))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown host".into())
}

fn lock_sqlite(url: &str, what: &str) -> Result<ServerLock, LockError> {
    let path = lock_file(url);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LockError::Held(if holder.is_empty() {
                format!("another process (lock file {})", path.display())
            } else {
                format!("{holder} (lock file {})", path.display())
            }));
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    let since = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    let note = format!(
        "{what}, pid {} on {}, since {since}\n",
        std::process::id(),
        host_name()
    );
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    file.write_all(note.as_bytes()).map_err(io)?;
    Ok(ServerLock {
        _held: Held::File(file),
    })
}

async fn lock_postgres(url: &str, shared: bool) -> Result<ServerLock, LockError> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnectOptions::from_str(url)
        .map_err(StoreError::from)?
        .connect()
        .await
        .map_err(StoreError::from)?;
    let sql = if shared {
        "SELECT pg_try_advisory_lock_shared($1)"
    } else {
        "SELECT pg_try_advisory_lock($1)"
    };
    // A holder that has just let go (its connection closed) keeps the lock until its backend
    // notices the disconnect: try for a moment before calling the lock held.
    let mut got = false;
    for attempt in 0..LOCK_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let (now,): (bool,) = sqlx::query_as(sql)
            .bind(PG_KEY)
            .fetch_one(&mut conn)
            .await
            .map_err(StoreError::from)?;
        if now {
            got = true;
            break;
        }
    }
    if !got {
        return Err(LockError::Held(if shared {
            "an offline command (restore or maintenance)".into()
        } else {
            format!("a running server (advisory lock {PG_KEY:#x} in pg_locks)")
        }));
    }
    Ok(ServerLock {
        _held: Held::Postgres(Box::new(conn)),
    })
}

impl ServerLock {
    /// Taken by `shegong serve` for its lifetime.
    pub async fn serving(url: &str) -> Result<ServerLock, LockError> {
        match Backend::from_url(url) {
            Some(Backend::Postgres) => lock_postgres(url, true).await,
            _ => lock_sqlite(url, "shegong serve"),
        }
    }

    /// Taken by an offline command that rewrites the database; refused while a server runs.
    pub async fn exclusive(url: &str, command: &str) -> Result<ServerLock, LockError> {
        match Backend::from_url(url) {
            Some(Backend::Postgres) => lock_postgres(url, false).await,
            _ => lock_sqlite(url, command),
        }
    }
}
