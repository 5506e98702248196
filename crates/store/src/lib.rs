//! Shegong storage: the only code that speaks SQL.
//!
//! One code path serves SQLite and PostgreSQL through sqlx's `Any` driver; SQL is written once with
//! `$n` placeholders (both engines accept them) and the few dialect differences live in
//! [`dialect`]. Every function that reads business data takes the caller's [`Scope`]; there is no
//! unscoped variant, so a forgotten filter does not compile.
//!
//! Functions take `&mut AnyConnection`, which is either a pooled connection or a transaction
//! (`Transaction` derefs to it): a change, its audit entry and its aggregates commit together.

pub mod admin;
pub mod bench;
pub mod bulk;
pub mod crypto;
mod db;
mod dialect;
pub mod distributed;
pub mod emergency;
mod error;
mod group;
pub mod import;
pub mod keycheck;
pub mod leader;
pub mod matching;
pub mod migrate;
pub mod network;
pub mod notify;
pub mod people;
pub mod purchase;
pub mod replay;
pub mod reports;
pub mod reseal;
pub mod server_lock;
pub mod shared;
// The SQL builder is the store's own: no other crate writes SQL. Tests of other crates use it
// (feature `testing`) to damage data on purpose.
pub mod charity;
pub mod community;
pub mod hotline;
#[cfg(feature = "testing")]
pub mod sql;
#[cfg(not(feature = "testing"))]
mod sql;
pub mod statistics;
pub mod timebank;
pub mod todo;
pub mod volunteers;
pub mod workbench;
pub mod workforce;

#[cfg(feature = "testing")]
pub mod testing;

pub use db::{
    Backend, Db, DbOptions, SqliteCaches, redact as db_url_redacted, sqlite_path as sqlite_file,
};
pub use error::{StoreError, StoreResult, UNIQUE_FIELDS};
pub use group::{Outcome, Unit};
pub use shegong_domain::Scope;
pub use sqlx::AnyConnection as Conn;
pub use sqlx::Error as SqlxError;

/// A page request (1-based) and a page of results with the total count.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self {
            // Far past any real list; keeps the offset arithmetic in range.
            page: page.unwrap_or(1).clamp(1, 1_000_000),
            per_page: per_page.unwrap_or(20).clamp(1, 200),
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// The page sizes a list page offers; any other request is bounded to the nearest one above
/// (at most the largest).
pub const PAGE_SIZES: [i64; 4] = [10, 20, 50, 100];

impl PageRequest {
    /// A list page's request: the page size is one of `PAGE_SIZES` (default 20).
    pub fn sized(page: Option<i64>, per_page: Option<i64>) -> Self {
        let n = per_page.unwrap_or(20);
        let size = PAGE_SIZES.iter().copied().find(|s| n <= *s).unwrap_or(100);
        Self::new(page, Some(size))
    }
}

/// A user-chosen order of a list: one key of the list's whitelist (`SORTS` next to the list
/// query), ascending or descending. Only whitelisted SQL ever reaches the query; an unknown key
/// means the list's default order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: &'static str,
    pub desc: bool,
}

impl Sort {
    /// `key` or `-key` (descending); `None` unless `key` is in `allowed` (key, SQL column).
    pub fn parse(raw: Option<&str>, allowed: &[(&'static str, &'static str)]) -> Option<Sort> {
        let raw = raw?.trim();
        let (name, desc) = match raw.strip_prefix('-') {
            Some(n) => (n, true),
            None => (raw, false),
        };
        allowed
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(k, _)| Sort { key: k, desc })
    }

    /// The query-string form (`key` or `-key`).
    pub fn param(&self) -> String {
        if self.desc {
            format!("-{}", self.key)
        } else {
            self.key.to_string()
        }
    }
}

/// Lists over the large tables count at most this many matches (and say "10,000+"): an exact
/// count of millions of rows per page view costs more than it tells.
pub const LIST_COUNT_CAP: i64 = 10_000;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// The count stopped at `LIST_COUNT_CAP`: there are more.
    pub capped: bool,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// Milliseconds since the Unix epoch, UTC: how every time is stored.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// A new primary key (UUIDv7: time-ordered, so inserts append to the index).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// SQLite's own consistency check on a connection (for restore and backup tests).
pub async fn sqlite_integrity_ok(conn: &mut sqlx::AnyConnection) -> StoreResult<bool> {
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(conn)
        .await?;
    Ok(check == "ok")
}
