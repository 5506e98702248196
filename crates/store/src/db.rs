use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};

use crate::{StoreError, StoreResult, migrate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub url: String,
    /// Read connections for SQLite; total connections for PostgreSQL.
    pub max_connections: u32,
    /// A PostgreSQL streaming replica of `url` for reads that may lag (`Db::read` inside
    /// `on_replica`); `None`: every read on the primary.
    pub replica_url: Option<String>,
    /// SQLite's page caches.
    pub caches: SqliteCaches,
}

impl DbOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            replica_url: None,
            caches: SqliteCaches::default(),
        }
    }
}

/// SQLite's page cache of each connection, in MiB: memory in the server's process against
/// pages re-read from the operating system's file cache. Pages are cached as they are used, so
/// an idle connection holds little; a full one holds its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteCaches {
    /// Each connection of the read pool (lists, files, dashboards, exports). In WAL mode a
    /// reader drops its whole cache at its next read after any commit, so under a steady
    /// write load these caches live for one request or so: a large one buys little.
    pub reader_mib: u32,
    /// The one writer: an import's rows land at random places in a dozen indexes, and pages
    /// dirtied beyond the cache are spilled to the WAL before the commit and written again.
    pub writer_mib: u32,
    /// Each of the (at most two) connections an import's check and commit look rows up with
    /// (`Db::read_bulk`): index ranges all over the register, read again chunk after chunk.
    /// Closed a minute after their last use, which gives their memory back.
    pub bulk_mib: u32,
}

impl Default for SqliteCaches {
    fn default() -> Self {
        Self {
            reader_mib: 4,
            writer_mib: 64,
            bulk_mib: 16,
        }
    }
}

impl SqliteCaches {
    fn pragma(mib: u32) -> String {
        // A negative size is in KiB.
        format!("PRAGMA cache_size = -{}", u64::from(mib.max(1)) * 1024)
    }
}

tokio::task_local! {
    /// Set while a request whose reads may come from the replica runs (`Db::on_replica`).
    static ON_REPLICA: bool;
}

/// The database: SQLite (embedded default) or PostgreSQL (production).
///
/// SQLite runs in WAL mode with `synchronous=FULL`: every commit is fsynced to the WAL before it
/// returns, so a committed case file or ledger entry survives a process crash and a power loss.
/// All writes go through one connection (SQLite allows one writer at a time anyway; queueing in
/// the pool beats busy-waiting on locks); reads use a separate pool of read-only connections.
/// PostgreSQL uses one pool for both.
#[derive(Clone, Debug)]
pub struct Db {
    write: AnyPool,
    read: AnyPool,
    /// Reads of bulk work (`read_bulk`): SQLite's own small pool with larger caches;
    /// PostgreSQL's one pool.
    bulk: AnyPool,
    /// A streaming replica for reads that may lag (PostgreSQL).
    replica: Option<AnyPool>,
    backend: Backend,
    sqlite_path: Option<PathBuf>,
    /// Audited writes queue here and share transactions (`group`).
    group: crate::group::Group,
}

impl Db {
    pub async fn connect(opts: &DbOptions) -> StoreResult<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(&opts.url).ok_or_else(|| {
            StoreError::Db(sqlx::Error::Configuration(
                format!(
                    "unsupported database url (use sqlite:// or postgres://): {}",
                    redact(&opts.url)
                )
                .into(),
            ))
        })?;
        match backend {
            Backend::Sqlite => {
                let path = sqlite_path(&opts.url);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
                }
                let base = format!("sqlite://{}", path.display());
                let writer_cache = SqliteCaches::pragma(opts.caches.writer_mib);
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |conn, _| {
                        let cache = writer_cache.clone();
                        Box::pin(async move {
                            conn.execute(SQLITE_PRAGMAS).await?;
                            conn.execute(sqlx::AssertSqlSafe(cache)).await?;
                            Ok(())
                        })
                    })
                    .connect_with(AnyConnectOptions::from_str(&format!("{base}?mode=rwc"))?)
                    .await?;
                // The writer creates the file and switches it to WAL before any reader opens it.
                let read = sqlite_readers(opts.max_connections.max(1), opts.caches.reader_mib)
                    .connect_with(AnyConnectOptions::from_str(&format!("{base}?mode=rw"))?)
                    .await?;
                let bulk = sqlite_readers(BULK_READERS, opts.caches.bulk_mib)
                    .acquire_timeout(Duration::from_millis(250))
                    .min_connections(0)
                    .idle_timeout(Duration::from_secs(60))
                    .connect_lazy_with(AnyConnectOptions::from_str(&format!("{base}?mode=rw"))?);
                Ok(Db {
                    write,
                    read,
                    bulk,
                    replica: None,
                    backend,
                    sqlite_path: Some(path),
                    group: Default::default(),
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| Box::pin(postgres_session(conn)))
                    .connect_with(AnyConnectOptions::from_str(&opts.url)?)
                    .await?;
                // The replica is connected lazily: a replica that is down at start (or later)
                // costs a fallback to the primary, not the server.
                let replica = match opts.replica_url.as_deref().filter(|u| !u.is_empty()) {
                    Some(url) => Some(
                        AnyPoolOptions::new()
                            .max_connections(opts.max_connections.max(2))
                            .acquire_timeout(Duration::from_secs(2))
                            .after_connect(|conn, _| Box::pin(postgres_session(conn)))
                            .connect_lazy_with(AnyConnectOptions::from_str(url)?),
                    ),
                    None => None,
                };
                Ok(Db {
                    write: pool.clone(),
                    bulk: pool.clone(),
                    read: pool,
                    replica,
                    backend,
                    sqlite_path: None,
                    group: Default::default(),
                })
            }
        }
    }

    /// Connect and bring the schema up to date.
    pub async fn open(opts: &DbOptions) -> StoreResult<Db> {
        let db = Self::connect(opts).await?;
        migrate::run(&db).await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for reads: the replica's inside `on_replica` when one is configured (and
    /// answers), else the primary's.
    pub async fn read(&self) -> StoreResult<PoolConnection<Any>> {
        if let Some(replica) = &self.replica
            && Self::reading_on_replica()
        {
            match replica.acquire().await {
                Ok(c) => return Ok(c),
                Err(e) => {
                    tracing::warn!(error = %e, "read replica unavailable: reading from the primary")
                }
            }
        }
        Ok(self.read.acquire().await?)
    }

    /// A connection for the long look-ups of bulk work (an import's check and commit), always
    /// on the primary. On SQLite it comes from a pool of its own, at most two connections with
    /// larger page caches (`SqliteCaches::bulk_mib`), so the read pool's caches stay small;
    /// when both are taken (two imports at once) it is an ordinary read connection.
    pub async fn read_bulk(&self) -> StoreResult<PoolConnection<Any>> {
        match self.bulk.acquire().await {
            Ok(c) => Ok(c),
            Err(sqlx::Error::PoolTimedOut) => Ok(self.read.acquire().await?),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether reads may be sent to a replica.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Run `f` with its `read()`s on the replica (when one is configured). Writes (`begin`) stay
    /// on the primary; so do reads in tasks `f` spawns.
    pub async fn on_replica<F: std::future::Future>(f: F) -> F::Output {
        ON_REPLICA.scope(true, f).await
    }

    /// Whether this task's reads may go to the replica (inside `on_replica`): a task spawned to
    /// go on with the request's reads (a streamed export) passes it on.
    pub fn reading_on_replica() -> bool {
        ON_REPLICA.try_with(|on| *on).unwrap_or(false)
    }

    /// A write transaction. Commit it; dropping it rolls back.
    pub async fn begin(&self) -> StoreResult<Transaction<'static, Any>> {
        Ok(self.write.begin().await?)
    }

    /// Run `unit` as one write of a group commit (`group`): it shares its transaction and its
    /// durable commit with the writes queued at the same moment, is undone alone when it fails
    /// or returns `Outcome::Rollback`, and returns only after the commit that holds it.
    pub async fn grouped<T, F>(&self, unit: F) -> StoreResult<T>
    where
        F: for<'c> FnOnce(&'c mut sqlx::AnyConnection) -> crate::group::Unit<'c, T>,
    {
        self.group.clone().run(self, unit).await
    }

    /// Group commit's (writes kept, commits made) since start.
    pub fn grouped_counts(&self) -> (u64, u64) {
        self.group.counts()
    }

    /// A connection of its own, out of the pool, for a session-level lock held as long as it
    /// lives (`leader`). PostgreSQL only: SQLite's one writer cannot be taken away.
    pub async fn dedicated(&self) -> StoreResult<sqlx::AnyConnection> {
        if self.backend != Backend::Postgres {
            return Err(StoreError::Db(sqlx::Error::Configuration(
                "a dedicated connection is for PostgreSQL".into(),
            )));
        }
        Ok(self.write.acquire().await?.detach())
    }

    /// Keep the planner's statistics current (housekeeping, hourly). SQLite: `PRAGMA optimize`
    /// on the writer, which re-analyzes only the tables that changed much since their last
    /// statistics (or never had any), each from at most `analysis_limit` rows of an index, so it
    /// stays short on a 10^7-row table. PostgreSQL: nothing, autovacuum analyzes (bulk loads
    /// call `bulk::analyze` themselves).
    pub async fn optimize(&self) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let mut conn = self.write.acquire().await?;
        conn.execute("PRAGMA analysis_limit = 1000").await?;
        conn.execute("PRAGMA optimize = 0x10002").await?;
        Ok(())
    }

    /// The SQLite file, when the backend is SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref()
    }

    pub async fn ping(&self) -> StoreResult<()> {
        let mut c = self.read().await?;
        c.ping().await?;
        Ok(())
    }

    /// Pool sizes for metrics: (connections open, idle).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.read.size(), self.read.num_idle())
    }

    /// A consistent snapshot of a SQLite database into `dest`, taken while others keep writing
    /// (`VACUUM INTO` reads one snapshot of the WAL database).
    pub async fn backup_sqlite(&self, dest: &Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Db(sqlx::Error::Configuration(
                "backup is for SQLite; use pg_dump for PostgreSQL (see docs/operations.md)".into(),
            )));
        }
        let dest = dest.to_str().ok_or_else(|| {
            StoreError::Db(sqlx::Error::Configuration(
                "backup path is not UTF-8".into(),
            ))
        })?;
        let mut conn = self.write.acquire().await?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(r) = &self.replica {
            r.close().await;
        }
        self.read.close().await;
        self.bulk.close().await;
        self.write.close().await;
    }
}

/// Each PostgreSQL session: no JIT compilation. The list queries over 10^6–10^7 rows are
/// estimated far above `jit_above_cost` (the planner cannot tell how soon a newest-first walk
/// fills a page), so PostgreSQL compiled each of them on every execution: 20 ms of code
/// generation for a page it then read in 6 ms (issue 20 item 2, docs/performance.md). Short
/// reads are this server's whole workload, the case JIT does not pay for. A server that does
/// not know the setting (an old fork) keeps its default.
///
/// And random page reads costed as on solid-state storage (`random_page_cost = 1.1`), unless
/// the server's administrator has set a value other than PostgreSQL's stock 4 (which assumes
/// spinning disks): with 4, the capped count of a province's service list (10,001 records, each
/// checked against its resident's protection) hashed all 10^6 residents instead of looking up
/// 10,001 of them, 330 ms instead of 12 (docs/performance.md, "Lists on PostgreSQL").
///
/// Lists are planned for their values on every run (`Sql::plan_each_run`), not by a session
/// setting: `plan_cache_mode = force_custom_plan` for every statement halved the API write rate.
async fn postgres_session(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    for set in ["SET jit = off", SOLID_STATE] {
        if let Err(e) = conn.execute(set).await {
            tracing::debug!(error = %e, set, "setting refused; the server's default applies");
        }
    }
    Ok(())
}

/// `random_page_cost = 1.1` for this session, only where the server has the stock 4.
const SOLID_STATE: &str = "DO $$ BEGIN IF current_setting('random_page_cost') = '4' THEN \
     PERFORM set_config('random_page_cost', '1.1', false); END IF; END $$";

const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// Connections of `read_bulk`'s pool on SQLite: an import's check looks up two chunks at once.
const BULK_READERS: u32 = 2;

/// A pool of read-only SQLite connections with `cache_mib` of page cache each.
fn sqlite_readers(max: u32, cache_mib: u32) -> AnyPoolOptions {
    let cache = SqliteCaches::pragma(cache_mib);
    AnyPoolOptions::new()
        .max_connections(max)
        .after_connect(move |conn, _| {
            let cache = cache.clone();
            Box::pin(async move {
                conn.execute(SQLITE_PRAGMAS).await?;
                conn.execute(sqlx::AssertSqlSafe(cache)).await?;
                conn.execute("PRAGMA query_only = ON").await?;
                Ok(())
            })
        })
}

/// The file path of a `sqlite://` (or `sqlite:`) URL, without query parameters.
pub fn sqlite_path(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// A database URL with any password removed, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_and_redaction() {
        assert_eq!(
            sqlite_path("sqlite://data/shegong.db"),
            PathBuf::from("data/shegong.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            PathBuf::from("/tmp/x.db")
        );
        assert_eq!(
            redact("postgres://app:secret@db:5432/shegong"),
            "postgres://app:***@db:5432/shegong"
        );
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
