//! Accounts and their sessions, API tokens and second factors; the audit log; the home page's
//! overview of a scope.

pub mod audit;
pub mod overview;
pub mod sessions;
pub mod tokens;
pub mod twofactor;
pub mod users;
