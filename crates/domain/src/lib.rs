//! Shegong's domain: pure types and rules. No I/O, no SQL, no HTTP.
//!
//! Values that cross the boundary from users (region codes, role names, passwords) are parsed
//! into types here once, so the layers above never handle an unchecked string.

#[macro_use]
mod codes;
pub mod admin;
pub mod calendar;
pub mod charity;
pub mod community;
pub mod emergency;
pub mod hotline;
pub mod matching;
pub mod money;
pub mod network;
pub mod notify;
pub mod people;
pub mod purchase;
pub mod reports;
pub mod scope;
pub mod text;
pub mod timebank;
pub mod volunteers;
pub mod workforce;

pub use admin::role::{Permission, Role};
pub use network::region::{RegionCode, RegionKind, RegionLevel};
pub use scope::Scope;

/// A field-level validation failure. `field` names the input field; `code` is a stable
/// machine-readable message key that the web layer translates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {code}")]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str) -> Self {
        Self { field, code }
    }
}
