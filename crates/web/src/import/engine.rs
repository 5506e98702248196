//! What a registry's import is: the [`Importer`] trait (its columns, per-row planning against the
//! database, and the [`Change`] each valid row applies), and the preview rows and cell messages
//! planning produces. The generic upload → preview → commit flow in `import::flow` drives it.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use shegong_domain::{FieldError, Scope};
use shegong_store::{Conn, Millis, StoreError, StoreResult};

use crate::http::auth::CurrentUser;
use crate::http::error::WebResult;
use crate::http::state::AppState;
use crate::import::schema::{CellError, Row, Schema};
use crate::import::template::Guide;
use crate::ui::forms::today;
use crate::ui::i18n::Tr;

/// A boxed future, so importers can be listed as `&dyn Importer`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A sheet's rows as they are read, one at a time (see `Mapping::into_rows`).
pub type Rows = Box<dyn Iterator<Item = Row> + Send>;

/// Template dropdowns from the database: (column key, values).
pub type Lists = Vec<(&'static str, Vec<String>)>;

/// One registry's spreadsheet import. Each area lists its importers in its `AREA`; the import
/// routes (`{list_path}/import…`) are built from those lists.
pub trait Importer: Sync {
    /// The staging kind, e.g. "stations".
    fn kind(&self) -> &'static str;
    /// The registry's list page, e.g. "/stations": the import pages live under it.
    fn list_path(&self) -> &'static str;
    /// The message key of the registry's name in the breadcrumb, e.g. "menu.stations".
    fn title_key(&self) -> &'static str;
    /// The audit entity of the import entry, e.g. "station".
    fn audit_entity(&self) -> &'static str;
    /// The columns and their header synonyms.
    fn schema(&self) -> &'static Schema;

    /// Fields whose values the preview never shows as they are (identity numbers, phones,
    /// home addresses): the mapping table masks their samples.
    fn masked_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// Notes and example rows the template's instructions add for this registry.
    fn guide(&self) -> Guide {
        Guide::default()
    }

    /// Template dropdowns filled from the database.
    fn lists<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
    ) -> BoxFuture<'a, WebResult<Lists>> {
        let _ = (job, conn);
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Resolve and check every row against the database, deciding what committing it would do.
    fn plan<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Vec<Row>,
    ) -> BoxFuture<'a, WebResult<Vec<Planned>>>;

    /// [`Importer::plan`], and what of it a later planning of the same sheet may reuse; given
    /// what an earlier planning kept, reuse it where the importer can prove it still holds.
    /// By default nothing is kept.
    fn plan_reusing<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Vec<Row>,
        earlier: Option<Memo>,
    ) -> BoxFuture<'a, WebResult<(Vec<Planned>, Option<Memo>)>> {
        let _ = earlier;
        Box::pin(async move { Ok((self.plan(job, conn, rows).await?, None)) })
    }

    /// [`Importer::plan_reusing`] on rows as they are read, handing the planned rows to `sink`
    /// as they are decided (a chunk at a time where the importer plans in chunks, so that
    /// neither the check nor the commit holds every row, or every row's change, at once). By
    /// default all at once, at the end.
    fn plan_into<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Rows,
        earlier: Option<Memo>,
        sink: &'a mut dyn Sink,
    ) -> BoxFuture<'a, WebResult<Option<Memo>>> {
        Box::pin(async move {
            let rows = rows.collect();
            let (planned, memo) = self.plan_reusing(job, conn, rows, earlier).await?;
            sink.take(planned).await?;
            Ok(memo)
        })
    }

    /// Write a chunk of valid rows' changes (row number, change) inside the commit's
    /// transaction: one by one, unless the registry writes them in bulk (it takes its own
    /// changes back with [`Change::into_any`]). On failure, the row that failed.
    fn apply<'a>(
        &'a self,
        job: &'a Job<'a>,
        tx: &'a mut Conn,
        changes: Vec<(usize, Box<dyn Change>)>,
    ) -> BoxFuture<'a, Result<(), Failed>> {
        Box::pin(async move {
            for (row, change) in changes {
                change
                    .apply(job, tx)
                    .await
                    .map_err(|error| Failed { row, error })?;
            }
            Ok(())
        })
    }
}

/// Where [`Importer::plan_into`] hands planned rows, in row order.
pub trait Sink: Send {
    fn take(&mut self, planned: Vec<Planned>) -> BoxFuture<'_, WebResult<()>>;
}

/// Every planned row, kept.
impl Sink for Vec<Planned> {
    fn take(&mut self, planned: Vec<Planned>) -> BoxFuture<'_, WebResult<()>> {
        self.extend(planned);
        Box::pin(async { Ok(()) })
    }
}

/// What an importer's check kept for the commit of the same sheet (its own type).
pub type Memo = Arc<dyn Any + Send + Sync>;

/// A row whose change could not be written; the whole commit is rolled back.
pub struct Failed {
    pub row: usize,
    pub error: StoreError,
}

/// What one valid row writes when the import is committed.
pub trait Change: IntoAny + Send + Sync {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>>;
}

/// A boxed change back as `Any`, for a bulk [`Importer::apply`]; every change has it.
pub trait IntoAny {
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Any + Send> IntoAny for T {
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// Who imports, in which language, at what time.
pub struct Job<'a> {
    pub state: &'a AppState,
    pub user: &'a CurrentUser,
    pub t: &'a Tr,
    pub now: Millis,
}

impl Job<'_> {
    pub fn scope(&self) -> Scope {
        self.user.scope()
    }

    /// Today in China Standard Time, `YYYY-MM-DD`.
    pub fn today(&self) -> String {
        today(self.now)
    }

    /// Messages about `schema`'s cells, in the job's language.
    pub fn cells(&self, schema: &'static Schema) -> Cells<'_> {
        Cells { schema, t: self.t }
    }
}

/// A problem with one cell, as the preview shows it.
#[derive(Clone)]
pub struct CellMessage {
    pub column: String,
    pub raw: String,
    pub message: String,
}

/// What committing a row would do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Invalid,
}

#[derive(Clone)]
pub struct PreviewRow {
    pub number: usize,
    pub label: String,
    pub action: Action,
    pub errors: Vec<CellMessage>,
}

/// A row as planned: its preview, and the change to apply when it is valid.
pub struct Planned {
    pub row: PreviewRow,
    pub change: Option<Box<dyn Change>>,
}

impl Planned {
    /// A planned row; any error makes it invalid, with nothing to apply.
    pub fn new(
        number: usize,
        label: String,
        action: Action,
        errors: Vec<CellMessage>,
        change: Option<Box<dyn Change>>,
    ) -> Self {
        let valid = errors.is_empty() && change.is_some();
        crate::import::jobs::tick();
        Self {
            row: PreviewRow {
                number,
                label,
                action: if valid { action } else { Action::Invalid },
                errors,
            },
            change: change.filter(|_| valid),
        }
    }
}

/// Builds the messages of one schema's cells.
pub struct Cells<'a> {
    schema: &'static Schema,
    t: &'a Tr,
}

impl Cells<'_> {
    /// The column's header in the job's language ("" for an unknown key).
    pub fn label(&self, key: &str) -> String {
        self.schema
            .column(key)
            .map(|c| c.label(self.t.lang))
            .unwrap_or("")
            .to_owned()
    }

    /// A message about `key`'s cell; `extra` fills both `{row}` and `{candidates}`.
    pub fn say(&self, key: &str, code: &str, raw: &str, extra: &str) -> CellMessage {
        CellMessage {
            column: self.label(key),
            raw: raw.to_owned(),
            message: self.t.fmt(code, &[("row", extra), ("candidates", extra)]),
        }
    }

    /// The row's parse errors; `shown` decides what of the cell text the preview may show.
    pub fn parse_errors(
        &self,
        row: &Row,
        shown: impl Fn(&CellError) -> String,
    ) -> Vec<CellMessage> {
        row.errors
            .iter()
            .map(|e| CellMessage {
                column: self.label(e.column),
                raw: shown(e),
                message: e.message(self.schema, self.t),
            })
            .collect()
    }

    /// A form parser's field errors, under the field's own label.
    pub fn field_errors(&self, errors: Vec<FieldError>) -> impl Iterator<Item = CellMessage> + '_ {
        errors.into_iter().map(|fe| CellMessage {
            column: self.t.get(&format!("field.{}", fe.field)).to_owned(),
            raw: String::new(),
            message: self.t.get(fe.code).to_owned(),
        })
    }
}
