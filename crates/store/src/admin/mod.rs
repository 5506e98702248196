//! Accounts and their sessions, API tokens and second factors; the audit log.

pub mod audit;
pub mod sessions;
pub mod tokens;
pub mod twofactor;
pub mod users;
