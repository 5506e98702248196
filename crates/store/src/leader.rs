//! One leader among the `shegong serve` processes of a database, per background task: the
//! process whose dedicated connection holds a session-level PostgreSQL advisory lock. The lock
//! lives as long as that connection: when the leader's process dies (or its connection breaks)
//! the server releases it, and the next instance to try takes over, within one round of its loop.
//!
//! SQLite: one server per database file (`server_lock`), so that server always leads.

use sqlx::{AnyConnection, Connection};

use crate::{Backend, Db, StoreResult};

/// What is led; each has its own lock key, so the tasks may lead from different instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Folding the statistics deltas into the counters.
    Fold,
    /// The notifier: looking at to-do queues and delivering the outbox.
    Notify,
}

impl Task {
    /// The advisory lock key ("SG" and a task number, clear of `server_lock`'s key).
    pub fn key(self) -> i64 {
        0x5347_0000_0000_0000
            + match self {
                Task::Fold => 1,
                Task::Notify => 2,
            }
    }
}

/// This process's claim to lead one task.
pub struct Leadership {
    db: Db,
    task: Task,
    /// The connection holding the lock, while this process leads (PostgreSQL).
    held: Option<AnyConnection>,
}

impl Leadership {
    pub fn new(db: Db, task: Task) -> Self {
        Self {
            db,
            task,
            held: None,
        }
    }

    /// Keep the lead, or take it when no one holds it; `true` when this process leads now.
    /// Call it before each round of the task's work. A lead whose connection no longer answers
    /// is given up (its server-side lock goes with the connection).
    pub async fn hold(&mut self) -> StoreResult<bool> {
        if self.db.backend() == Backend::Sqlite {
            return Ok(true);
        }
        if let Some(conn) = self.held.as_mut() {
            if conn.ping().await.is_ok() {
                return Ok(true);
            }
            tracing::warn!(task = ?self.task, "lost the lead: its connection broke");
            self.held = None;
        }
        let mut conn = self.db.dedicated().await?;
        let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(self.task.key())
            .fetch_one(&mut conn)
            .await?;
        if got {
            tracing::info!(task = ?self.task, "this instance leads");
            self.held = Some(conn);
        } else {
            let _ = conn.close().await;
        }
        Ok(got)
    }

    /// Whether this process led at its last `hold`.
    pub fn leads(&self) -> bool {
        self.db.backend() == Backend::Sqlite || self.held.is_some()
    }

    /// The connection that holds the lock (PostgreSQL, while leading): work done on it is done
    /// only while the lock is held.
    pub fn conn(&mut self) -> Option<&mut AnyConnection> {
        self.held.as_mut()
    }

    /// Give up the lead (shutting down): the next instance takes over at once.
    pub async fn release(&mut self) {
        if let Some(conn) = self.held.take() {
            let _ = conn.close().await;
        }
    }
}
