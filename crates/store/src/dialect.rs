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

/// The statement that makes migrating instances take turns, as a transaction's first statement.
/// PostgreSQL: a transaction-scoped advisory lock on "SHEGMIG" in ASCII (`server_lock` holds
/// "SHEGONG" shared for a server's lifetime, so migrating must not use that key). SQLite: a write,
/// which takes the write lock (waiting up to the busy timeout) before anything is read, so the
/// check that follows sees the last commit.
pub fn migration_lock(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "SELECT pg_advisory_xact_lock(23441885453175111)",
        Backend::Sqlite => "UPDATE schema_migrations SET version = version WHERE version < 0",
    }
}
