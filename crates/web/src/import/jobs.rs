//! Checking and committing a staged sheet: inline for small sheets, as a background job with
//! progress for sheets over [`SYNC_ROWS`] rows, so that a county's roster neither freezes the
//! page nor holds a request open. The commit runs in one transaction (all rows or none, or
//! exactly the valid ones), in chunks handed to [`Importer::apply`], with one audit entry; a
//! cancelled or failed commit writes nothing. Jobs live in this process's memory
//! ([`Jobs`]); what a finished import did is kept on its batch for the result page. With several
//! instances, the running one copies its job's progress to the database about once a second
//! (`mirror`), so a poll or a cancel that reaches another instance still answers ([`find`]);
//! only the preview of a finished check stays with the instance that ran it (elsewhere the sheet
//! is checked again).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_store::admin::audit::Actor;
use shegong_store::admin::audit::Change as AuditChange;
use shegong_store::import as staging;
use shegong_store::{Conn, StoreError};

use crate::http::auth::CurrentUser;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{self, Author, Done, Entry};
use crate::import::engine::{
    Action, BoxFuture, Change, Failed, Importer, Job, Memo, Planned, PreviewRow, Rows, Sink,
};
use crate::import::mapping::Mapping;
use crate::import::sheet::Skipped;
use crate::import::stage::Staged;
use crate::ui::i18n::Tr;

/// Sheets up to this many rows are checked and committed within the request.
pub const SYNC_ROWS: usize = 2_000;
/// Rows handed to [`Importer::apply`] at a time: big enough for bulk statements and counters
/// folded per chunk, small enough to bound what one call holds and to report progress.
const COMMIT_CHUNK: usize = 5_000;
/// Invalid rows the preview lists (all are counted), and valid rows besides them.
const SHOWN_INVALID: usize = 1_000;
const SHOWN_VALID: usize = 200;

/// How many rows would be created, updated, left unchanged, or are invalid.
#[derive(Default, Clone, Copy, Serialize, Deserialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub invalid: usize,
}

impl Counts {
    /// Valid rows, unchanged ones included: committing a sheet that only confirms what is
    /// stored is allowed.
    pub fn committable(&self) -> usize {
        self.create + self.update + self.unchanged
    }
}

/// What checking a sheet found: the counts over every row and the rows the preview lists.
#[derive(Clone)]
pub struct Checked {
    pub counts: Counts,
    pub rows: Vec<PreviewRow>,
    /// Rows checked but not listed.
    pub hidden: usize,
    pub skipped: Vec<Skipped>,
    /// The mapping the rows were read with.
    pub mapping: Mapping,
    /// What the importer kept for committing the same sheet (`Importer::plan_reusing`).
    pub memo: Option<Memo>,
}

impl Checked {
    fn of(tally: Tally, skipped: Vec<Skipped>, mapping: Mapping, memo: Option<Memo>) -> Self {
        Self {
            counts: tally.counts,
            hidden: tally.total - tally.rows.len(),
            rows: tally.rows,
            skipped,
            mapping,
            memo,
        }
    }
}

/// The check's planned rows as the preview needs them, counted as they come: the counts and
/// the rows listed; the changes are dropped at once.
#[derive(Default)]
struct Tally {
    counts: Counts,
    rows: Vec<PreviewRow>,
    valid: usize,
    invalid: usize,
    total: usize,
}

impl Sink for Tally {
    fn take(&mut self, planned: Vec<Planned>) -> BoxFuture<'_, WebResult<()>> {
        for p in planned {
            self.total += 1;
            let (counts, valid, invalid) = (&mut self.counts, &mut self.valid, &mut self.invalid);
            let shown = match p.row.action {
                Action::Create => bump(&mut counts.create, valid, SHOWN_VALID),
                Action::Update => bump(&mut counts.update, valid, SHOWN_VALID),
                Action::Unchanged => bump(&mut counts.unchanged, valid, SHOWN_VALID),
                Action::Invalid => bump(&mut counts.invalid, invalid, SHOWN_INVALID),
            };
            if shown {
                self.rows.push(p.row);
            }
        }
        Box::pin(async { Ok(()) })
    }
}

/// Count a row; whether it is listed.
fn bump(count: &mut usize, listed: &mut usize, most: usize) -> bool {
    *count += 1;
    *listed += 1;
    *listed <= most
}

/// What a finished import did, kept on its batch.
#[derive(Default, Clone, Copy, Serialize, Deserialize)]
pub struct Written {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Invalid rows not imported.
    pub skipped: usize,
}

/// Why a commit wrote nothing.
pub enum Refused {
    /// "All or nothing" with this many invalid rows.
    Invalid(usize),
    /// A row failed while being written (the data changed since it was checked).
    Row(usize, FieldError),
    Cancelled,
    /// Another commit of the same sheet came first.
    AlreadyDone,
}

impl Refused {
    pub fn message(&self, t: &Tr) -> String {
        match self {
            Refused::Invalid(n) => t.fmt("import.refused_all", &[("n", &n.to_string())]),
            Refused::Row(row, e) => t.fmt(
                "import.row_failed",
                &[("row", &row.to_string()), ("message", t.get(e.code))],
            ),
            Refused::Cancelled => t.get("import.job.cancelled").to_owned(),
            Refused::AlreadyDone => t.get("import.already_done").to_owned(),
        }
    }
}

/// Who runs an import and on what, owned so that it can move into a background task.
#[derive(Clone)]
pub struct Run {
    pub state: AppState,
    pub user: CurrentUser,
    pub actor: Actor,
    pub t: Tr,
    pub imp: &'static dyn Importer,
    pub batch: String,
}

impl Run {
    fn job(&self) -> Job<'_> {
        Job {
            state: &self.state,
            user: &self.user,
            t: &self.t,
            now: self.state.now(),
        }
    }

    /// Plan every row against the database as it is now (reusing what `earlier` kept where the
    /// importer proves it still holds), handing the planned rows to `sink`.
    async fn plan(
        &self,
        rows: Rows,
        earlier: Option<Memo>,
        sink: &mut dyn Sink,
    ) -> WebResult<Option<Memo>> {
        let job = self.job();
        let started = Instant::now();
        let mut conn = self.state.db.read_bulk().await?;
        let memo = self
            .imp
            .plan_into(&job, &mut conn, rows, earlier, sink)
            .await?;
        tracing::debug!(
            kind = self.imp.kind(),
            plan_ms = started.elapsed().as_millis(),
            "import: sheet planned"
        );
        Ok(memo)
    }

    /// Check the staged sheet: what committing it would do.
    pub async fn check(&self, staged: Staged) -> WebResult<Checked> {
        let schema = self.imp.schema();
        let skipped = staged.mapping.skipped(schema, &staged.raw);
        let mapping = staged.mapping.clone();
        let mut tally = Tally::default();
        let memo = self
            .plan(staged.into_rows(schema), None, &mut tally)
            .await?;
        Ok(Checked::of(tally, skipped, mapping, memo))
    }

    /// Commit the staged sheet: the valid rows, or (`all`) every row only if all are valid.
    /// The rows are planned again against the database as it is now; `checked` is what the
    /// preview's check kept, which the importer reuses where it proves it still holds.
    ///
    /// The valid rows are planned and written chunk by chunk inside the commit's transaction
    /// (planning reads on its own connection, which does not see the transaction's writes, so
    /// every row is checked against the register as it was before the commit, as when the
    /// whole sheet was planned first); `all` plans the whole sheet first, since one invalid row
    /// anywhere means nothing is written.
    pub async fn commit(
        &self,
        staged: Staged,
        all: bool,
        progress: Option<Arc<Progress>>,
        checked: Option<Memo>,
    ) -> WebResult<Result<Written, Refused>> {
        let staged_facts = (staged.filename.clone(), staged.sha256.clone());
        let rows = staged.into_rows(self.imp.schema());
        let source = if all {
            let started = Instant::now();
            let mut planned = Vec::new();
            self.plan(rows, checked, &mut planned).await?;
            tracing::debug!(
                kind = self.imp.kind(),
                rows = planned.len(),
                plan_ms = started.elapsed().as_millis(),
                "import commit: planned"
            );
            let invalid = planned.iter().filter(|p| p.change.is_none()).count();
            if invalid > 0 {
                return Ok(Err(Refused::Invalid(invalid)));
            }
            Source::Planned(planned)
        } else {
            Source::Rows(rows, checked)
        };
        let run = self.clone();
        let failed: Arc<Mutex<Option<Refused>>> = Arc::default();
        let broken: Arc<Mutex<Option<WebError>>> = Arc::default();
        let (failure, planning) = (failed.clone(), broken.clone());
        let entry = Entry::new(self.imp.audit_entity(), "import");
        let outcome = write::write_by(
            &self.state.db,
            Author::Operator(&self.actor),
            self.state.now(),
            entry,
            move |tx| {
                Box::pin(async move {
                    let job = run.job();
                    if !staging::claim(tx, &run.user.user.id, &run.batch).await? {
                        return refuse(&failure, Refused::AlreadyDone);
                    }
                    let mut writer = Writer {
                        run: &run,
                        job: &job,
                        progress: progress.as_deref(),
                        failure: &failure,
                        written: Written::default(),
                        pending: Vec::new(),
                    };
                    writer.write_all(tx, source, &planning).await?;
                    let written = writer.written;
                    let result = serde_json::to_string(&written).unwrap_or_default();
                    staging::finish(tx, &run.user.user.id, &run.batch, &result).await?;
                    Ok((Some(audited(staged_facts, &run.batch, &written)), written))
                })
            },
        )
        .await;
        if let Some(e) = broken.lock().ok().and_then(|mut b| b.take()) {
            return Err(e);
        }
        match outcome? {
            Ok(written) => Ok(Ok(written)),
            Err(e) => {
                let taken = failed.lock().map(|mut f| f.take()).unwrap_or(None);
                Ok(Err(taken.unwrap_or(Refused::Row(0, e))))
            }
        }
    }
}

/// What a commit writes: rows planned already, or rows to plan as they are written.
enum Source {
    Planned(Vec<Planned>),
    Rows(Rows, Option<Memo>),
}

/// The audit entry of a commit.
fn audited((file, sha256): (String, String), batch: &str, written: &Written) -> Done {
    Done {
        entity_id: batch.to_owned(),
        region: None,
        changes: vec![
            AuditChange::new("file", None::<String>, Some(&file)),
            AuditChange::new("sha256", None::<String>, Some(&sha256)),
            AuditChange::new("created", None::<String>, Some(written.created)),
            AuditChange::new("updated", None::<String>, Some(written.updated)),
            AuditChange::new("unchanged", None::<String>, Some(written.unchanged)),
            AuditChange::new("skipped_invalid", None::<String>, Some(written.skipped)),
        ],
    }
}

/// Planned rows written inside the commit's transaction, [`COMMIT_CHUNK`] changes at a time.
struct Writer<'a> {
    run: &'a Run,
    job: &'a Job<'a>,
    progress: Option<&'a Progress>,
    failure: &'a Mutex<Option<Refused>>,
    written: Written,
    pending: Changes,
}

impl Writer<'_> {
    /// Write what `source` plans. Rows still to plan are planned on a read connection while
    /// the chunks planned before them are written; a planning error is put in `broken` (and
    /// the transaction rolled back).
    async fn write_all(
        &mut self,
        tx: &mut Conn,
        source: Source,
        broken: &Mutex<Option<WebError>>,
    ) -> Result<(), StoreError> {
        let (rows, earlier) = match source {
            Source::Planned(planned) => {
                self.take(tx, planned).await?;
                return self.flush(tx).await;
            }
            Source::Rows(rows, earlier) => (rows, earlier),
        };
        if let Some(p) = self.progress {
            p.set_phase(Phase::Writing);
        }
        let (send, mut receive) = tokio::sync::mpsc::channel::<Vec<Planned>>(2);
        let run = self.run;
        let planner = async move {
            let mut sink = send;
            run.plan(rows, earlier, &mut sink).await
        };
        let writing = async move {
            while let Some(planned) = receive.recv().await {
                self.take(tx, planned).await?;
            }
            self.flush(tx).await
        };
        let (planned, written) = tokio::join!(planner, writing);
        // A writer that stopped closes the channel: the planner's error is then only that.
        written?;
        if let Err(e) = planned {
            if let Ok(mut slot) = broken.lock() {
                *slot = Some(e);
            }
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Count the planned rows and write their changes in full chunks.
    async fn take(&mut self, tx: &mut Conn, planned: Vec<Planned>) -> Result<(), StoreError> {
        let (written, changes) = to_write(planned);
        self.written.created += written.created;
        self.written.updated += written.updated;
        self.written.unchanged += written.unchanged;
        self.written.skipped += written.skipped;
        self.pending.extend(changes);
        while self.pending.len() >= COMMIT_CHUNK {
            let rest = self.pending.split_off(COMMIT_CHUNK);
            let chunk = std::mem::replace(&mut self.pending, rest);
            self.write(tx, chunk).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, tx: &mut Conn) -> Result<(), StoreError> {
        let chunk = std::mem::take(&mut self.pending);
        if chunk.is_empty() {
            return Ok(());
        }
        self.write(tx, chunk).await
    }

    async fn write(&mut self, tx: &mut Conn, chunk: Changes) -> Result<(), StoreError> {
        if self.progress.is_some_and(|p| p.cancelled()) {
            return refuse(self.failure, Refused::Cancelled);
        }
        let n = chunk.len();
        let started = Instant::now();
        match self.run.imp.apply(self.job, tx, chunk).await {
            Ok(()) => {}
            Err(Failed {
                row,
                error: StoreError::Invalid(e),
            }) => return refuse(self.failure, Refused::Row(row, e)),
            Err(Failed { error, .. }) => return Err(error),
        }
        tracing::debug!(
            rows = n,
            write_ms = started.elapsed().as_millis(),
            "import commit: chunk written"
        );
        if let Some(p) = self.progress {
            p.set_phase(Phase::Writing);
            p.written.fetch_add(n, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Planned rows sent on to the commit's writer.
impl Sink for tokio::sync::mpsc::Sender<Vec<Planned>> {
    fn take(&mut self, planned: Vec<Planned>) -> BoxFuture<'_, WebResult<()>> {
        Box::pin(async move {
            self.send(planned)
                .await
                .map_err(|_| WebError::Internal(anyhow::anyhow!("the import's writer stopped")))
        })
    }
}

/// Changes to apply, by row number.
type Changes = Vec<(usize, Box<dyn Change>)>;

/// What the planned rows will write: the counts, and the changes to apply.
fn to_write(planned: Vec<Planned>) -> (Written, Changes) {
    let mut written = Written::default();
    let mut changes = Vec::new();
    for p in planned {
        match (p.row.action, p.change) {
            (Action::Unchanged, Some(_)) => written.unchanged += 1,
            (Action::Create, Some(change)) => {
                written.created += 1;
                changes.push((p.row.number, change));
            }
            (_, Some(change)) => {
                written.updated += 1;
                changes.push((p.row.number, change));
            }
            (_, None) => written.skipped += 1,
        }
    }
    (written, changes)
}

/// Keep why the commit stopped and roll it back.
fn refuse<T>(slot: &Mutex<Option<Refused>>, why: Refused) -> Result<T, StoreError> {
    if let Ok(mut s) = slot.lock() {
        *s = Some(why);
    }
    Err(StoreError::Invalid(FieldError::new(
        "file",
        "import.job.stopped",
    )))
}

/// Where a background import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Checking,
    Ready,
    Writing,
    Done,
    Failed,
}

/// How long a finished job's outcome stays in memory.
const KEEP_FINISHED: Duration = Duration::from_secs(3600);

/// What a background import has done so far, and what it came to.
pub struct Progress {
    /// Data rows read from the sheet.
    pub read: usize,
    started: Instant,
    phase: Mutex<Phase>,
    checked: AtomicUsize,
    written: AtomicUsize,
    cancel: AtomicBool,
    outcome: Mutex<Option<Outcome>>,
}

/// How a background job ended.
#[derive(Clone)]
pub enum Outcome {
    Checked(Arc<Checked>),
    Committed(Written),
    Refused(String),
    /// An internal error (logged); the user may try again.
    Broken,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Checking => "checking",
            Phase::Ready => "ready",
            Phase::Writing => "writing",
            Phase::Done => "done",
            Phase::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Phase {
        match s {
            "checking" => Phase::Checking,
            "ready" => Phase::Ready,
            "writing" => Phase::Writing,
            "done" => Phase::Done,
            _ => Phase::Failed,
        }
    }
}

/// How often a running job's progress is copied to the database.
const MIRROR_EVERY: Duration = Duration::from_secs(1);
/// A job whose copy is older than this is taken to have died with its instance.
const MIRROR_STALE_MILLIS: i64 = 15_000;

impl Progress {
    /// The copy kept in the database.
    fn row(&self, now: i64) -> shegong_store::shared::ImportProgress {
        shegong_store::shared::ImportProgress {
            phase: self.phase().as_str().to_owned(),
            total: self.read as i64,
            checked: self.checked.load(Ordering::Relaxed) as i64,
            written: self.written.load(Ordering::Relaxed) as i64,
            cancel: i64::from(self.cancelled()),
            updated_at: now,
        }
    }

    /// A job running on another instance, as its last copy says.
    fn remote(row: &shegong_store::shared::ImportProgress) -> Self {
        let p = Self::new(
            usize::try_from(row.total).unwrap_or(0),
            Phase::parse(&row.phase),
        );
        p.checked
            .store(usize::try_from(row.checked).unwrap_or(0), Ordering::Relaxed);
        p.written
            .store(usize::try_from(row.written).unwrap_or(0), Ordering::Relaxed);
        p
    }

    fn new(read: usize, phase: Phase) -> Self {
        Self {
            read,
            started: Instant::now(),
            phase: Mutex::new(phase),
            checked: AtomicUsize::new(0),
            written: AtomicUsize::new(0),
            cancel: AtomicBool::new(false),
            outcome: Mutex::new(None),
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase.lock().map_or(Phase::Failed, |p| *p)
    }

    pub fn running(&self) -> bool {
        matches!(self.phase(), Phase::Checking | Phase::Writing)
    }

    fn set_phase(&self, phase: Phase) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase;
        }
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome.lock().ok().and_then(|o| o.clone())
    }

    fn end(&self, outcome: Outcome, phase: Phase) {
        if let Ok(mut o) = self.outcome.lock() {
            *o = Some(outcome);
        }
        self.set_phase(phase);
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The progress as the page polls it.
    pub fn report(&self) -> serde_json::Value {
        serde_json::json!({
            "phase": self.phase(),
            "read": self.read,
            "checked": self.checked.load(Ordering::Relaxed),
            "written": self.written.load(Ordering::Relaxed),
            "total": self.read,
        })
    }
}

tokio::task_local! {
    /// The job a planning task reports to; [`Planned::new`] ticks it once per row.
    static CHECKING: Arc<Progress>;
}

/// One more row planned, if a background job is checking.
pub fn tick() {
    let _ = CHECKING.try_with(|p| p.checked.fetch_add(1, Ordering::Relaxed));
}

/// The background imports of this process, by batch.
#[derive(Default)]
pub struct Jobs {
    by_batch: Mutex<HashMap<String, Arc<Progress>>>,
}

impl Jobs {
    pub fn get(&self, batch: &str) -> Option<Arc<Progress>> {
        self.by_batch.lock().ok()?.get(batch).cloned()
    }

    fn put(&self, batch: &str, progress: Arc<Progress>) {
        if let Ok(mut jobs) = self.by_batch.lock() {
            // Finished jobs are kept for a while for their pages (a result is also kept on its
            // batch); running ones always.
            jobs.retain(|_, p| p.running() || p.started.elapsed() < KEEP_FINISHED);
            jobs.insert(batch.to_owned(), progress);
        }
    }

    pub fn cancel(&self, batch: &str) {
        if let Some(p) = self.get(batch) {
            p.cancel.store(true, Ordering::Relaxed);
        }
    }
}

/// Copy `p`'s progress to the database until the job ends (and once after), and pass on a
/// cancellation asked through another instance.
/// SQLite has one server per database file: nothing to copy (and its one writer is the
/// import's for the whole commit).
fn mirror(state: AppState, batch: String, p: Arc<Progress>) {
    if !shared_instances(&state) {
        return;
    }
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let running = p.running();
            let result = async {
                let mut tx = state.db.begin().await?;
                let row = p.row(state.now());
                if first {
                    shegong_store::shared::reset_progress(&mut tx, &batch, &row).await?;
                } else {
                    shegong_store::shared::put_progress(&mut tx, &batch, &row).await?;
                }
                let asked = shegong_store::shared::progress(&mut tx, &batch).await?;
                tx.commit().await?;
                Ok::<_, StoreError>(asked.is_some_and(|r| r.cancel != 0))
            }
            .await;
            match result {
                Ok(true) => p.cancel.store(true, Ordering::Relaxed),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "import progress not copied"),
            }
            first = false;
            if !running {
                return;
            }
            tokio::time::sleep(MIRROR_EVERY).await;
        }
    });
}

/// Whether other instances may serve the same database (PostgreSQL).
fn shared_instances(state: &AppState) -> bool {
    state.db.backend() == shegong_store::Backend::Postgres
}

/// The job on `batch`: this instance's, else one running on another instance (a snapshot of its
/// last copy; without its outcome).
pub async fn find(state: &AppState, batch: &str) -> WebResult<Option<Arc<Progress>>> {
    if let Some(p) = state.imports.get(batch) {
        return Ok(Some(p));
    }
    if !shared_instances(state) {
        return Ok(None);
    }
    let mut c = state.db.read().await?;
    let row = shegong_store::shared::progress(&mut c, batch).await?;
    Ok(row
        .filter(|r| {
            matches!(Phase::parse(&r.phase), Phase::Checking | Phase::Writing)
                && state.now() - r.updated_at < MIRROR_STALE_MILLIS
        })
        .map(|r| Arc::new(Progress::remote(&r))))
}

/// Whether a job runs on `batch` on any instance.
pub async fn running(state: &AppState, batch: &str) -> WebResult<bool> {
    Ok(find(state, batch).await?.is_some_and(|p| p.running()))
}

/// Stop the job on `batch`, on whichever instance runs it.
pub async fn cancel(state: &AppState, batch: &str) -> WebResult<()> {
    state.imports.cancel(batch);
    if !shared_instances(state) {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    shegong_store::shared::request_cancel(&mut tx, batch).await?;
    tx.commit().await?;
    Ok(())
}

/// Check the staged sheet in the background (the page polls the progress).
pub fn start_check(run: Run, staged: Staged) -> Arc<Progress> {
    let progress = Arc::new(Progress::new(staged.raw.rows.len(), Phase::Checking));
    run.state.imports.put(&run.batch, progress.clone());
    mirror(run.state.clone(), run.batch.clone(), progress.clone());
    let p = progress.clone();
    tokio::spawn(CHECKING.scope(progress.clone(), async move {
        match run.check(staged).await {
            Ok(checked) => p.end(Outcome::Checked(Arc::new(checked)), Phase::Ready),
            Err(e) => {
                tracing::error!(error = ?e, "import check failed");
                p.end(Outcome::Broken, Phase::Failed);
            }
        }
    }));
    progress
}

/// Commit the staged sheet in the background.
pub fn start_commit(run: Run, staged: Staged, all: bool) -> Arc<Progress> {
    // What the preview's check of this sheet (read with the same mapping) kept.
    let checked = run
        .state
        .imports
        .get(&run.batch)
        .and_then(|p| match p.outcome() {
            Some(Outcome::Checked(c)) if c.mapping == staged.mapping => c.memo.clone(),
            _ => None,
        });
    let progress = Arc::new(Progress::new(staged.raw.rows.len(), Phase::Checking));
    run.state.imports.put(&run.batch, progress.clone());
    mirror(run.state.clone(), run.batch.clone(), progress.clone());
    let p = progress.clone();
    tokio::spawn(CHECKING.scope(progress.clone(), async move {
        match run.commit(staged, all, Some(p.clone()), checked).await {
            Ok(Ok(written)) => p.end(Outcome::Committed(written), Phase::Done),
            Ok(Err(refused)) => p.end(Outcome::Refused(refused.message(&run.t)), Phase::Failed),
            Err(e) => {
                tracing::error!(error = ?e, "import commit failed");
                p.end(Outcome::Broken, Phase::Failed);
            }
        }
    }));
    progress
}

/// What a finished import did, from its batch.
pub async fn result(run: &Run) -> WebResult<Option<Written>> {
    let mut c = run.state.db.read().await?;
    match staging::staged_shown(&mut c, &run.user.user.id, run.imp.kind(), &run.batch).await {
        Ok(b) => Ok(b.result.and_then(|r| serde_json::from_str(&r).ok())),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(WebError::from(e)),
    }
}
