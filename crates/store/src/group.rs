//! Group commit: concurrent writes share one transaction and one durable commit.
//!
//! A write takes its turn at the writer (one at a time, as SQLite allows anyway and as the
//! audit chain's head row makes PostgreSQL do), runs inside the open batch transaction — behind a
//! savepoint unless it opened the batch — and then either commits the batch (nobody is queued
//! behind it, or the batch is full) or leaves it open for the next queued write and waits for
//! that commit. A write is acknowledged only after the commit that holds it, so durability is
//! what it was; what is shared is the commit's fsync and the writer's queue.
//!
//! A write that fails (or finds nothing to write) is undone alone: its savepoint is rolled back,
//! or, when it opened the batch, the whole transaction (nothing else is in it yet). A write whose
//! caller goes away mid-way leaves a mark; the next turn undoes it first.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use sqlx::{Any, AnyConnection, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::{Db, StoreError, StoreResult};

/// What a write's work decided: keep its changes, or undo them (nothing to write after all).
pub enum Outcome<T> {
    Commit(T),
    Rollback(T),
}

/// A write's work on the batch's connection.
pub type Unit<'c, T> = Pin<Box<dyn Future<Output = StoreResult<Outcome<T>>> + Send + 'c>>;

/// Writes per transaction at most: a long queue still commits every so often.
const MAX_BATCH: usize = 64;

/// The commit's result as the writes waiting on it see it.
type Committed = Option<Result<(), Arc<str>>>;

/// The writer's queue and the batch open on it. Cloning shares both.
#[derive(Clone, Default, Debug)]
pub struct Group {
    batch: Arc<Mutex<Batch>>,
    /// Writes waiting for their turn: the batch stays open for them.
    queued: Arc<AtomicUsize>,
    /// Writes kept and commits made, since start (what the bench reports as writes per commit).
    kept: Arc<AtomicU64>,
    commits: Arc<AtomicU64>,
}

#[derive(Default)]
struct Batch {
    tx: Option<Transaction<'static, Any>>,
    /// Writes in `tx` waiting for its commit.
    members: usize,
    done: Option<watch::Sender<Committed>>,
    /// A write's changes its caller abandoned mid-way, to undo before the next turn.
    dirty: Option<Dirty>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("open", &self.tx.is_some())
            .field("members", &self.members)
            .finish()
    }
}

#[derive(Clone, Copy)]
enum Dirty {
    /// Behind the savepoint `grp`.
    Savepoint,
    /// The write opened the transaction: all of it.
    Whole,
}

const SAVEPOINT: &str = "SAVEPOINT grp";
const ROLLBACK: &str = "ROLLBACK TO SAVEPOINT grp";
const RELEASE: &str = "RELEASE SAVEPOINT grp";

impl Group {
    /// Run `unit` as one write of the next batch; returns once its batch is committed (or at
    /// once when the write was undone).
    pub async fn run<T, F>(&self, db: &Db, unit: F) -> StoreResult<T>
    where
        F: for<'c> FnOnce(&'c mut AnyConnection) -> Unit<'c, T>,
    {
        let mut turn = self.turn().await;
        turn.undo_abandoned().await;
        let first = turn.batch().tx.is_none();
        if first {
            turn.batch().tx = Some(db.begin().await?);
        } else if let Err(e) = turn.conn()?.execute(SAVEPOINT).await {
            return Err(turn.lose(e));
        }
        turn.batch().dirty = Some(if first {
            Dirty::Whole
        } else {
            Dirty::Savepoint
        });
        let result = unit(turn.conn()?).await;
        let kept = match result {
            Ok(Outcome::Commit(v)) => {
                // PostgreSQL refuses the release when the work swallowed a failed statement:
                // the transaction is aborted, and with it the batch.
                if !first && let Err(e) = turn.conn()?.execute(RELEASE).await {
                    return Err(turn.lose(e));
                }
                turn.batch().members += 1;
                self.kept.fetch_add(1, Ordering::Relaxed);
                Ok(v)
            }
            Ok(Outcome::Rollback(v)) => Err(Ok(v)),
            Err(e) => Err(Err(e)),
        };
        match kept {
            Ok(v) => {
                turn.batch().dirty = None;
                turn.finish().await?;
                Ok(v)
            }
            Err(undone) => {
                let how = if first {
                    Dirty::Whole
                } else {
                    Dirty::Savepoint
                };
                // The mark stays until the undo is done: a caller gone mid-undo leaves it to
                // the next turn.
                turn.undo(how).await;
                turn.batch().dirty = None;
                turn.finish().await?;
                undone
            }
        }
    }

    /// (writes kept, commits made) since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.kept.load(Ordering::Relaxed),
            self.commits.load(Ordering::Relaxed),
        )
    }

    async fn turn(&self) -> Turn {
        let ticket = Ticket::new(self.clone());
        let guard = self.batch.clone().lock_owned().await;
        ticket.taken();
        Turn {
            guard: Some(guard),
            group: self.clone(),
        }
    }

    /// Commit what is open when nobody is queued (a queued write went away before its turn, or
    /// a write was abandoned mid-way with others waiting on the batch).
    async fn flush(self) {
        let mut turn = Turn {
            guard: Some(self.batch.clone().lock_owned().await),
            group: self,
        };
        turn.undo_abandoned().await;
        // An error here reaches the waiting writes through `done`.
        let _ = turn.finish().await;
    }
}

/// A place in the queue: counted while waiting, and if given up before the turn comes, the
/// batch is flushed so that nobody waits on a write that will never come.
struct Ticket {
    group: Option<Group>,
}

impl Ticket {
    fn new(group: Group) -> Self {
        group.queued.fetch_add(1, Ordering::SeqCst);
        Self { group: Some(group) }
    }

    fn taken(mut self) {
        if let Some(g) = self.group.take() {
            g.queued.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(g) = self.group.take() {
            g.queued.fetch_sub(1, Ordering::SeqCst);
            spawn_flush(g);
        }
    }
}

/// The writer, held by one write. Dropped before `finish` (the caller went away), it hands the
/// batch to a flush so that the writes waiting on it are committed.
struct Turn {
    guard: Option<OwnedMutexGuard<Batch>>,
    group: Group,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.guard.take().is_some() {
            spawn_flush(self.group.clone());
        }
    }
}

impl Turn {
    fn batch(&mut self) -> &mut Batch {
        // Present until `finish` or drop takes it.
        self.guard.as_deref_mut().unwrap_or_else(|| unreachable!())
    }

    fn conn(&mut self) -> StoreResult<&mut AnyConnection> {
        match self.batch().tx.as_mut() {
            Some(tx) => Ok(&mut **tx),
            None => Err(lost()),
        }
    }

    /// Undo what a write abandoned mid-way left behind.
    async fn undo_abandoned(&mut self) {
        if let Some(how) = self.batch().dirty {
            self.undo(how).await;
            self.batch().dirty = None;
        }
    }

    /// Undo one write: its savepoint, or the whole transaction it opened. When the savepoint
    /// cannot be rolled back the transaction is lost, and so are the writes waiting on it.
    async fn undo(&mut self, how: Dirty) {
        let Some(tx) = self.batch().tx.as_mut() else {
            return;
        };
        let undone = match how {
            Dirty::Whole => Ok(()),
            Dirty::Savepoint => match tx.execute(ROLLBACK).await {
                Ok(_) => tx.execute(RELEASE).await.map(|_| ()),
                Err(e) => Err(e),
            },
        };
        if let Err(e) = undone {
            self.lose(e);
        } else if let Dirty::Whole = how
            && let Some(tx) = self.batch().tx.take()
        {
            let _ = tx.rollback().await;
        }
    }

    /// The batch's transaction failed outside any one write's savepoint: every write in it is
    /// lost (those waiting are told), and the caller gets the error.
    fn lose(&mut self, e: sqlx::Error) -> StoreError {
        let batch = self.batch();
        batch.tx = None;
        batch.members = 0;
        batch.dirty = None;
        if let Some(done) = batch.done.take() {
            let _ = done.send(Some(Err(e.to_string().into())));
        }
        StoreError::Db(e)
    }

    /// End this turn: commit the batch unless a queued write will join it (then wait for the
    /// commit that write or a later one makes).
    async fn finish(mut self) -> StoreResult<()> {
        let Some(mut batch) = self.guard.take() else {
            return Ok(());
        };
        if batch.members == 0 {
            // Nothing kept: an open transaction here is empty (its opener was undone).
            return Ok(());
        }
        let queued = self.group.queued.load(Ordering::SeqCst);
        if queued > 0 && batch.members < MAX_BATCH {
            let mut done = batch
                .done
                .get_or_insert_with(|| watch::channel(None).0)
                .subscribe();
            drop(batch);
            return match done.wait_for(Option::is_some).await {
                Ok(r) => match r.as_ref() {
                    Some(Err(e)) => Err(commit_failed(e)),
                    _ => Ok(()),
                },
                Err(_) => Err(lost()),
            };
        }
        let tx = batch.tx.take();
        let done = batch.done.take();
        batch.members = 0;
        self.group.commits.fetch_add(1, Ordering::Relaxed);
        // The commit runs on its own task, holding the writer: a caller that goes away now
        // cannot leave the writes waiting on it without an answer.
        let commit = tokio::spawn(async move {
            let result = match tx {
                Some(tx) => tx
                    .commit()
                    .await
                    .map_err(|e| Arc::<str>::from(e.to_string())),
                None => Err(Arc::from("the batch's transaction was lost")),
            };
            if let Some(done) = done {
                let _ = done.send(Some(result.clone()));
            }
            drop(batch);
            result
        });
        match commit.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(commit_failed(&e)),
            Err(_) => Err(lost()),
        }
    }
}

/// Flush on the runtime, if there still is one (not while the process shuts down).
fn spawn_flush(group: Group) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(group.flush());
    }
}

fn commit_failed(e: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!("group commit failed: {e}")))
}

fn lost() -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(
        "the batch's transaction was lost".into(),
    ))
}
