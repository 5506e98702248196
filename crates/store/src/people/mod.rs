//! People served: residents and households, cases, service records.

pub mod cases;
pub mod residents;
pub mod services;
