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
    /// Failed sign-ins for usernames that do not exist, so that they "lock" exactly like real
    /// accounts and the lockout message does not tell which names exist.
    pub unknown_logins: std::sync::Mutex<std::collections::HashMap<String, UnknownLogin>>,
    /// Imports running in the background in this process.
    pub imports: crate::import::jobs::Jobs,
    /// Recent failed QR sign-ins per activity (`volunteers::checkin`): bounds guessing of the
    /// mobile's last four digits.
    pub checkin_failures: crate::volunteers::checkin::Failures,
}

#[derive(Default, Clone, Copy)]
pub struct UnknownLogin {
    pub failures: i64,
    pub locked_until: i64,
}

/// Bound on the map above; past it, entries that are not locked are dropped.
pub const UNKNOWN_LOGINS_MAX: usize = 10_000;

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
                unknown_logins: Default::default(),
                imports: Default::default(),
                checkin_failures: Default::default(),
            }),
        }
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }
}
