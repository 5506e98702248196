//! Accounts and their sessions, API tokens and second factors; the audit log; the home page's
//! overview of a scope.

pub mod audit;
pub mod overview;
pub mod sessions;
pub mod tokens;
pub mod twofactor;
pub mod users;

use std::sync::atomic::{AtomicU64, Ordering};

/// Changes to who a credential is (accounts, API tokens, sessions) made by this process.
static ACCOUNTS_EPOCH: AtomicU64 = AtomicU64::new(0);

/// What a process-local cache of resolved credentials compares with what it read under: a
/// different value means an account, token or session may have changed since.
pub fn accounts_epoch() -> u64 {
    ACCOUNTS_EPOCH.load(Ordering::Acquire)
}

/// Called by every write that can end a session or token or change an account's access.
pub fn accounts_changed() {
    ACCOUNTS_EPOCH.fetch_add(1, Ordering::AcqRel);
}
