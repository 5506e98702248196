use std::sync::Arc;

use shegong_store::Db;
use shegong_store::crypto::KeyRing;
use shegong_store::network::attachments::FileStore;

use crate::config::Config;
use crate::http::metrics::Metrics;

/// Milliseconds since the epoch. Injectable so tests can move time (idle sessions, lockouts).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(shegong_store::now_millis)
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub metrics: Metrics,
    pub clock: Clock,
    pub started_at: i64,
    pub files: FileStore,
    /// Seals and opens sensitive fields.
    pub keys: KeyRing,
    /// Imports running in the background in this process (their progress is also in the
    /// database, for a poll that reaches another instance).
    pub imports: crate::import::jobs::Jobs,
    /// Who the credentials of recent requests are (`credentials::FRESH` at most).
    pub credentials: crate::http::credentials::Credentials,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    pub fn new(db: Db, config: Config, clock: Clock, keys: KeyRing) -> Self {
        let started_at = clock();
        let files = FileStore::new(&config.attachments_dir);
        Self {
            inner: Arc::new(Inner {
                db,
                config,
                metrics: Metrics::default(),
                clock,
                started_at,
                files,
                keys,
                imports: Default::default(),
                credentials: Default::default(),
            }),
        }
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }
}
