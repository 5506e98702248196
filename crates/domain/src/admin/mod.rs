//! Accounts: roles, what they may do, and passwords.

pub mod password;
pub mod role;
