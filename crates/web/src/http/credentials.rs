//! Who a credential is, remembered for a few seconds. Without it every request, page or API,
//! reads its session or token and then its account before any work: two statements, on a
//! pooled connection, that answer the same for the minutes a client stays busy.
//!
//! The bound: an entry serves for at most `FRESH` after it was read from the database. Every
//! change to accounts, tokens or sessions this process makes (`admin::accounts_epoch`: sign-out,
//! revocation, disabling, a role or scope change, a password change, a lockout) drops all
//! entries at once, so on the instance that made it the change holds from the next request;
//! another instance sharing the database sees it within `FRESH`. A request that reads while
//! such a change is being committed may keep what it read for `FRESH` at most, too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shegong_store::admin::accounts_epoch;
use shegong_store::admin::sessions::Session;
use shegong_store::admin::users::User;

/// How long an entry serves after it was read.
pub const FRESH: Duration = Duration::from_secs(5);

/// Entries at most: past it the cache starts over (a flood of distinct credentials costs the
/// database reads it would have cost anyway, not memory).
const MAX_ENTRIES: usize = 10_000;

/// What a credential resolved to.
#[derive(Debug, Clone)]
pub enum Resolved {
    Token {
        id: String,
        last_used: Option<i64>,
        user: User,
    },
    Session {
        session: Session,
        user: User,
    },
}

#[derive(Default)]
pub struct Credentials {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// `accounts_epoch()` the entries were read under.
    epoch: u64,
    map: HashMap<String, (Instant, Resolved)>,
}

impl Entries {
    /// Forget everything when an account, token or session changed since.
    fn current(&mut self) -> &mut HashMap<String, (Instant, Resolved)> {
        let epoch = accounts_epoch();
        if self.epoch != epoch {
            self.map.clear();
            self.epoch = epoch;
        }
        &mut self.map
    }
}

impl Credentials {
    /// The fresh entry for `key` (a hash of the credential), if any.
    pub fn get(&self, key: &str) -> Option<Resolved> {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let map = entries.current();
        match map.get(key) {
            Some((at, r)) if at.elapsed() < FRESH => Some(r.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// The epoch to read under: pass it back to `put`.
    pub fn epoch(&self) -> u64 {
        accounts_epoch()
    }

    /// Remember what `key` resolved to, read from the database at `read_at` under `epoch` —
    /// unless something changed meanwhile, when what was read may already be out of date.
    pub fn put(&self, key: String, epoch: u64, read_at: Instant, resolved: Resolved) {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let map = entries.current();
        if accounts_epoch() != epoch {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (read_at, resolved));
    }

    /// Update a served entry in place (its last use recorded), keeping its read time.
    pub fn touched(&self, key: &str, resolved: Resolved) {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.current().get_mut(key) {
            entry.1 = resolved;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: "u1".into(),
            username: "a".into(),
            display_name: "A".into(),
            role: "station_worker".into(),
            region_code: "430202001".into(),
            region_path: None,
            org_id: None,
            org_name: None,
            must_change_password: 0,
            password_changed_at: 0,
            failed_logins: 0,
            locked_until: None,
            disabled: 0,
            sees_protected: 0,
            last_login_at: None,
            last_login_ip: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn token() -> Resolved {
        Resolved::Token {
            id: "t1".into(),
            last_used: None,
            user: user(),
        }
    }

    #[test]
    fn an_entry_serves_until_it_is_stale() {
        let c = Credentials::default();
        let e = c.epoch();
        c.put("k".into(), e, Instant::now(), token());
        assert!(c.get("k").is_some());
        assert!(c.get("other").is_none());
        let old = Instant::now().checked_sub(FRESH).unwrap();
        c.put("k".into(), e, old, token());
        assert!(c.get("k").is_none(), "read {FRESH:?} ago: read again");
        assert!(c.get("k").is_none());
    }

    #[test]
    fn what_was_read_while_accounts_changed_is_not_kept() {
        let c = Credentials::default();
        let before = c.epoch();
        c.put("k".into(), before, Instant::now(), token());
        // The epoch is process-wide: any change to an account drops every entry.
        shegong_store::admin::accounts_changed();
        assert!(c.get("k").is_none());
        c.put("k".into(), before, Instant::now(), token());
        assert!(c.get("k").is_none(), "read under the old epoch");
        c.put("k".into(), c.epoch(), Instant::now(), token());
        assert!(c.get("k").is_some());
    }
}
