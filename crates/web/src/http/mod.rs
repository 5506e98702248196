//! What every request goes through: the signed-in context and sessions, CSRF and input checks,
//! repeat-safe API writes, errors, rendering of the page shell, metrics, embedded assets, health checks, the audited
//! write helper and the OpenAPI document.

pub mod api;
pub mod area;
pub mod assets;
pub mod auth;
pub mod credentials;
pub mod csrf;
pub mod error;
pub mod input;
pub mod metrics;
pub mod ops;
pub mod render;
pub mod replay;
pub mod replica;
pub mod state;
pub mod write;
