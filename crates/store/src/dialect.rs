//! The few places where SQLite and PostgreSQL differ. Everything else is shared SQL.

use crate::Backend;

/// Row lock for read-modify-write of a single row. SQLite has one writer connection, which
/// already serialises writers.
pub fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

/// Case-insensitive LIKE.
pub fn ilike(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "LIKE",
        Backend::Postgres => "ILIKE",
    }
}
