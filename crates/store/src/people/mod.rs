//! People served: residents and households, duplicates, visit rules, cases, service records.

pub mod cases;
pub mod contact;
pub mod duplicates;
pub mod evidence;
pub mod households;
pub mod idempotency;
pub mod name_chars;
pub mod register_bulk;
pub mod residents;
pub mod services;
pub mod visit_rules;
