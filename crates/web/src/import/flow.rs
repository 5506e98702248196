//! The upload → map → preview → commit flow every registry's import shares, the way offices
//! really send lists: download a template (with dropdowns) or bring any reasonable sheet;
//! upload it; see every column of the sheet with the field it was matched to, change any match
//! and give one value for all rows of a field the sheet lacks (remembered for the next sheet
//! with the same headers); see a preview that lists every bad row and cell with the reason and
//! every line set aside; then commit the valid rows only, or nothing unless all are valid. The
//! sheet is read once, at upload, and staged; checking and committing plan its rows against the
//! database as it is then, in the background for big sheets (`import::jobs`). Every import and
//! every refused upload is audited.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use shegong_domain::people::identity::mask;
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change as AuditChange;

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{self, Done, Entry};
use crate::import::engine::{Action, Importer};
use crate::import::jobs::{self, Checked, Outcome, Phase, Progress, Refused, Run, Written};
use crate::import::mapping::{self, Mapping};
use crate::import::schema::{Kind, Schema};
use crate::import::sheet::{Skip, Skipped};
use crate::import::stage::{self, Staged};
use crate::ui::forms::FormData;
use crate::ui::i18n::{Lang, Tr};

type Imp = &'static dyn Importer;

pub(super) fn importer(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    Ok(u)
}

/// One column of the sheet in the mapping table.
pub(super) struct SheetColumn {
    pub(super) index: usize,
    /// "A", "B", … as Excel names it.
    pub(super) letter: String,
    pub(super) header: String,
    pub(super) samples: String,
    /// The field it is imported as ("" for none).
    pub(super) field: String,
}

/// A field the sheet gives no column for, with the choices one value for all rows may take.
pub(super) struct Unset {
    pub(super) key: &'static str,
    pub(super) label: &'static str,
    pub(super) required: bool,
    /// (code, label); empty when the field takes no default.
    pub(super) choices: Vec<(&'static str, &'static str)>,
    pub(super) chosen: String,
}

#[derive(Template)]
#[template(path = "import/import.html")]
struct ImportPage {
    t: Tr,
    base: Base,
    list_path: &'static str,
    batch: Option<String>,
    filename: String,
    /// (key, label) of every field, for the mapping drop-downs.
    fields: Vec<(&'static str, &'static str)>,
    columns: Vec<SheetColumn>,
    unset: Vec<Unset>,
    checked: Option<Checked>,
    /// The first lines set aside, with the reason.
    skipped: Vec<(usize, String)>,
    skipped_count: usize,
    progress: Option<ProgressView>,
    done: Option<Written>,
    warning: Option<String>,
    error: Option<String>,
}

struct ProgressView {
    phase: String,
    report_url: String,
    read: usize,
    checked: usize,
    written: usize,
    writing: bool,
}

impl ImportPage {
    fn action_label(&self, a: &Action) -> &str {
        self.t.get(match a {
            Action::Create => "import.action.create",
            Action::Update => "import.action.update",
            Action::Unchanged => "import.action.unchanged",
            Action::Invalid => "import.action.invalid",
        })
    }

    fn is_invalid(&self, a: &Action) -> bool {
        *a == Action::Invalid
    }

    fn action_class(&self, a: &Action) -> &'static str {
        match a {
            Action::Create => "tag-ok",
            Action::Update => "tag-warn",
            Action::Unchanged => "tag-muted",
            Action::Invalid => "tag-bad",
        }
    }

    fn summary(&self, w: &Written) -> String {
        summary(&self.t, w)
    }

    /// The required fields the sheet gives no value for, named.
    fn missing_required(&self) -> Option<String> {
        let labels: Vec<&str> = self
            .unset
            .iter()
            .filter(|u| u.required && u.chosen.is_empty())
            .map(|u| u.label)
            .collect();
        let columns = labels.join(self.t.get("import.separator"));
        (!labels.is_empty()).then(|| {
            self.t
                .fmt("import.missing_columns", &[("columns", &columns)])
        })
    }

    fn line(&self, n: &usize) -> String {
        self.t.fmt("import.skip.line", &[("row", &n.to_string())])
    }

    fn hidden(&self, c: &Checked) -> String {
        self.t
            .fmt("import.hidden_rows", &[("n", &c.hidden.to_string())])
    }
}

fn summary(t: &Tr, w: &Written) -> String {
    t.fmt(
        "import.summary",
        &[
            ("created", &w.created.to_string()),
            ("updated", &w.updated.to_string()),
            ("unchanged", &w.unchanged.to_string()),
            ("skipped", &w.skipped.to_string()),
        ],
    )
}

/// "A", …, "Z", "AA", … for a 0-based column.
fn letter(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// What the import page shows besides the upload form.
#[derive(Default)]
struct View {
    batch: Option<String>,
    filename: String,
    staged: Option<Staged>,
    checked: Option<Checked>,
    progress: Option<ProgressView>,
    done: Option<Written>,
    error: Option<String>,
    status: Option<StatusCode>,
}

impl View {
    /// Only a message above the form.
    fn refused(filename: String, error: String, status: StatusCode) -> Self {
        Self {
            filename,
            error: Some(error),
            status: Some(status),
            ..Self::default()
        }
    }

    fn gone(t: &Tr) -> Self {
        Self::refused(
            String::new(),
            t.get("import.already_done").to_owned(),
            StatusCode::GONE,
        )
    }

    fn of(batch: &str, staged: Staged) -> Self {
        Self {
            batch: Some(batch.to_owned()),
            filename: staged.filename.clone(),
            staged: Some(staged),
            ..Self::default()
        }
    }
}

fn render(ctx: &Ctx, imp: Imp, view: View) -> Response {
    let t = ctx.tr();
    let title = t.get("import.title");
    let list_path = imp.list_path();
    let schema = imp.schema();
    let (columns, unset, warning) = match &view.staged {
        Some(s) => mapping_view(schema, imp.masked_fields(), s, &t),
        None => (Vec::new(), Vec::new(), None),
    };
    let skipped = view
        .checked
        .as_ref()
        .map(|c| skipped_view(&c.skipped, &t))
        .unwrap_or_default();
    let skipped_count = view.checked.as_ref().map_or(0, |c| c.skipped.len());
    page(
        view.status.unwrap_or(StatusCode::OK),
        &ImportPage {
            t,
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get(imp.title_key()), list_path),
                    Crumb::here(title),
                ],
            ),
            list_path,
            batch: view.batch,
            filename: view.filename,
            fields: schema
                .columns
                .iter()
                .map(|c| (c.key, c.label(t.lang)))
                .collect(),
            columns,
            unset,
            checked: view.checked,
            skipped,
            skipped_count,
            progress: view.progress,
            done: view.done,
            warning,
            error: view.error,
        },
    )
}

/// The mapping table: every column of the sheet with its field and a few values; the fields no
/// column gives; the warning about columns not imported.
pub(super) fn mapping_view(
    schema: &Schema,
    masked: &[&str],
    staged: &Staged,
    t: &Tr,
) -> (Vec<SheetColumn>, Vec<Unset>, Option<String>) {
    let samples = mapping::samples(&staged.raw);
    let m = &staged.mapping;
    let width = staged.raw.headers.len().max(
        staged
            .raw
            .rows
            .iter()
            .map(|r| r.cells.len())
            .max()
            .unwrap_or(0),
    );
    let columns: Vec<SheetColumn> = (0..width)
        .map(|i| {
            let field = m.columns.get(i).cloned().flatten().unwrap_or_default();
            let shown: Vec<String> = samples
                .get(&i)
                .map(|v| {
                    v.iter()
                        .map(|s| {
                            // Long digit runs are identity numbers or phones, whatever the column.
                            let digits = s.chars().filter(char::is_ascii_digit).count();
                            if masked.contains(&field.as_str()) || digits >= 7 {
                                mask(s)
                            } else {
                                s.chars().take(20).collect()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            SheetColumn {
                index: i,
                letter: letter(i),
                header: staged.raw.headers.get(i).cloned().unwrap_or_default(),
                samples: shown.join(" · "),
                field,
            }
        })
        .collect();
    let unset = schema
        .columns
        .iter()
        .filter(|c| m.position(c.key).is_none())
        .map(|c| Unset {
            key: c.key,
            label: c.label(t.lang),
            required: c.required,
            choices: match c.kind {
                Kind::Choice(choices) => choices
                    .iter()
                    .map(|(code, labels)| (*code, labels.first().copied().unwrap_or(code)))
                    .collect(),
                _ => Vec::new(),
            },
            chosen: m.defaults.get(c.key).cloned().unwrap_or_default(),
        })
        .collect();
    let not_imported: Vec<&str> = columns
        .iter()
        .filter(|c| c.field.is_empty() && !c.header.is_empty())
        .map(|c| c.header.as_str())
        .collect();
    let warning = (!not_imported.is_empty()).then(|| {
        let headers = not_imported.join(t.get("import.separator"));
        t.fmt("import.unknown_headers", &[("headers", &headers)])
    });
    (columns, unset, warning)
}

/// Lines set aside that the page lists (all are counted).
const SHOWN_SKIPPED: usize = 500;

pub(super) fn skipped_view(skipped: &[Skipped], t: &Tr) -> Vec<(usize, String)> {
    skipped
        .iter()
        .take(SHOWN_SKIPPED)
        .map(|s| {
            let row = match s.skip {
                Skip::Repeat(first) => first.to_string(),
                _ => String::new(),
            };
            (s.number, t.fmt(s.skip.code(), &[("row", &row)]))
        })
        .collect()
}

fn progress_view(list_path: &str, batch: &str, p: &Progress, t: &Tr) -> ProgressView {
    let report = p.report();
    let n = |k: &str| {
        report
            .get(k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0) as usize
    };
    let phase = p.phase();
    ProgressView {
        phase: t
            .get(match phase {
                Phase::Checking => "import.job.checking",
                Phase::Ready => "import.job.ready",
                Phase::Writing => "import.job.writing",
                Phase::Done => "import.job.done",
                Phase::Failed => "import.job.failed",
            })
            .to_owned(),
        report_url: format!("{list_path}/import/{batch}/progress"),
        read: p.read,
        checked: n("checked"),
        written: n("written"),
        writing: phase == Phase::Writing,
    }
}

async fn form(ctx: Ctx, imp: Imp) -> WebResult<Response> {
    importer(&ctx)?;
    Ok(render(&ctx, imp, View::default()))
}

/// The template: the importer's columns, with dropdowns from the database; written off the
/// async runtime.
async fn template(state: AppState, ctx: Ctx, imp: Imp) -> WebResult<Response> {
    let u = importer(&ctx)?;
    let t = ctx.tr();
    let job = crate::import::engine::Job {
        state: &state,
        user: u,
        t: &t,
        now: state.now(),
    };
    let mut conn = state.db.read().await?;
    let lists = imp.lists(&job, &mut conn).await?;
    drop(conn);
    let schema = imp.schema();
    let chinese = t.lang == Lang::Zh;
    let guide = imp.guide();
    let bytes = tokio::task::spawn_blocking(move || {
        crate::import::template::template(schema, chinese, &lists, &guide)
    })
    .await
    .map_err(|e| WebError::Internal(e.into()))?
    .map_err(WebError::Internal)?;
    Ok(crate::ui::excel::download(
        &format!(
            "{}{}.xlsx",
            schema.name(t.lang),
            t.get("import.template_suffix")
        ),
        bytes,
    ))
}

async fn read_file(mut form: Multipart) -> Result<(String, Vec<u8>), (String, FieldError)> {
    let mut name = String::new();
    let too_large = |name: &str| {
        (
            name.to_owned(),
            FieldError::new("file", "attachment.too_large"),
        )
    };
    while let Some(field) = form.next_field().await.map_err(|_| too_large(&name))? {
        if field.name() == Some("file") {
            name = field.file_name().unwrap_or("upload.xlsx").to_owned();
            let bytes = field.bytes().await.map_err(|_| too_large(&name))?.to_vec();
            return Ok((name, bytes));
        }
    }
    Err((name, FieldError::new("file", "attachment.empty")))
}

/// A refused upload is audited too: who, which file, why.
pub(super) async fn audit_refused(
    state: &AppState,
    ctx: &Ctx,
    imp: Imp,
    filename: &str,
    reason: &'static str,
) -> WebResult<()> {
    let entry = Entry::new(imp.audit_entity(), "import_refused");
    let (file, reason) = (filename.to_owned(), reason.to_owned());
    write::write(state, ctx, entry, move |_, _, _| {
        Box::pin(async move {
            let done = Done {
                entity_id: String::new(),
                region: None,
                changes: vec![
                    AuditChange::new("file", None::<String>, Some(&file)),
                    AuditChange::new("reason", None::<String>, Some(&reason)),
                ],
            };
            Ok((done, ()))
        })
    })
    .await?
    .map_err(WebError::from)
}

/// Read the upload once and stage what was read; the preview is its own page.
async fn upload(state: AppState, ctx: Ctx, imp: Imp, form: Multipart) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let (filename, bytes) = match read_file(form).await {
        Ok(f) => f,
        Err((filename, e)) => {
            let status = if e.code == "attachment.too_large" {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            audit_refused(&state, &ctx, imp, &filename, e.code).await?;
            let view = View::refused(filename, t.get(e.code).to_owned(), status);
            return Ok(render(&ctx, imp, view));
        }
    };
    match receive(&state, &ctx, &u, imp, &filename, bytes).await? {
        // Post/Redirect/Get: reloading the preview does not upload again.
        Ok(batch) => {
            Ok(Redirect::to(&format!("{}/import/{batch}", imp.list_path())).into_response())
        }
        Err(refused) => {
            let view = View::refused(filename, refused.message, refused.status);
            Ok(render(&ctx, imp, view))
        }
    }
}

/// Why an upload was refused: the message key, the message and the status to answer with.
pub(super) struct RefusedUpload {
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
}

/// Read a sheet once and stage what was read (a refusal is audited); the batch to preview.
pub(super) async fn receive(
    state: &AppState,
    ctx: &Ctx,
    u: &CurrentUser,
    imp: Imp,
    filename: &str,
    bytes: Vec<u8>,
) -> WebResult<Result<String, RefusedUpload>> {
    let stored = match stage::parse(imp.schema(), bytes, &state.config.import).await {
        Ok(stored) => stored,
        Err(e) => {
            audit_refused(state, ctx, imp, filename, e.code()).await?;
            return Ok(Err(RefusedUpload {
                code: e.code(),
                message: e.message(&ctx.tr()),
                status: e.status(),
            }));
        }
    };
    Ok(Ok(stage::put(state, u, imp, filename, &stored).await?))
}

fn run(state: &AppState, ctx: &Ctx, u: &CurrentUser, imp: Imp, batch: &str) -> Run {
    Run {
        state: state.clone(),
        user: u.clone(),
        actor: ctx.actor(),
        t: ctx.tr(),
        imp,
        batch: batch.to_owned(),
    }
}

/// Where a staged batch is, for its page and its API operation alike.
pub(super) enum Stage {
    /// No such batch of this user's, or imported and forgotten.
    Gone,
    /// Imported: what the import did.
    Done(Written),
    /// A background job is checking or writing the sheet; `error`: why an earlier commit
    /// wrote nothing.
    Running {
        staged: Staged,
        progress: Arc<Progress>,
        error: Option<String>,
    },
    /// The background job broke (logged); not checked again by itself, since the page would
    /// reload into the same failure.
    Broken(Staged),
    Checked {
        staged: Staged,
        checked: Checked,
        error: Option<String>,
    },
}

/// The batch's stage: the outcome of its job when there is one, else its check (started in the
/// background for big sheets).
pub(super) async fn stage_of(
    state: &AppState,
    ctx: &Ctx,
    u: &CurrentUser,
    imp: Imp,
    batch: &str,
) -> WebResult<Stage> {
    let run = run(state, ctx, u, imp, batch);
    let gone = async || -> WebResult<Stage> {
        Ok(match jobs::result(&run).await? {
            Some(done) => Stage::Done(done),
            None => Stage::Gone,
        })
    };
    // What the page shows first: the whole sheet is read only when it is to be checked.
    let Some(shown) = stage::get_shown(state, u, imp, batch).await? else {
        return gone().await;
    };
    let mut error = None;
    if let Some(p) = jobs::find(state, batch).await? {
        match (p.phase(), p.outcome()) {
            (Phase::Ready, Some(Outcome::Checked(c))) if shown.mapping == c.mapping => {
                return Ok(Stage::Checked {
                    staged: shown,
                    checked: Checked::clone(&c),
                    error: None,
                });
            }
            (Phase::Checking | Phase::Writing, _) => {
                return Ok(Stage::Running {
                    staged: shown,
                    progress: p,
                    error: None,
                });
            }
            (Phase::Failed, Some(Outcome::Refused(message))) => error = Some(message),
            (Phase::Failed, _) => return Ok(Stage::Broken(shown)),
            _ => {}
        }
    }
    let Some(staged) = stage::get(state, u, imp, batch).await? else {
        return gone().await;
    };
    if staged.rows > jobs::SYNC_ROWS {
        let shown = staged.shown();
        let progress = jobs::start_check(run, staged);
        return Ok(Stage::Running {
            staged: shown,
            progress,
            error,
        });
    }
    let checked = run.check(staged.clone()).await?;
    Ok(Stage::Checked {
        staged,
        checked,
        error,
    })
}

/// The batch's page: its preview, the progress of its job, or what its import did.
async fn preview(state: AppState, ctx: Ctx, imp: Imp, batch: String) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let view = match stage_of(&state, &ctx, &u, imp, &batch).await? {
        Stage::Gone => View::gone(&t),
        Stage::Done(done) => View {
            done: Some(done),
            ..View::default()
        },
        Stage::Running {
            staged,
            progress,
            error,
        } => View {
            progress: Some(progress_view(imp.list_path(), &batch, &progress, &t)),
            error,
            ..View::of(&batch, staged)
        },
        Stage::Broken(staged) => View {
            error: Some(t.get("import.job.broken").to_owned()),
            ..View::of(&batch, staged)
        },
        Stage::Checked {
            staged,
            checked,
            error,
        } => View {
            checked: Some(checked),
            error,
            ..View::of(&batch, staged)
        },
    };
    Ok(render(&ctx, imp, view))
}

/// Where a background job reports, as JSON: `{phase, read, checked, written, total}`.
async fn progress(state: AppState, ctx: Ctx, imp: Imp, batch: String) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    // Only the batch's owner may follow it.
    let mut c = state.db.read().await?;
    if !shegong_store::import::exists(&mut c, &u.user.id, imp.kind(), &batch).await? {
        return Err(WebError::NotFound);
    }
    drop(c);
    match jobs::find(&state, &batch).await? {
        Some(p) => Ok(Json(p.report()).into_response()),
        None => Err(WebError::NotFound),
    }
}

/// The batch's form: `mode=map` keeps a mapping, `mode=cancel` stops a running commit,
/// `mode=valid` commits the valid rows, `mode=all` commits only if every row is valid.
async fn act(
    state: AppState,
    ctx: Ctx,
    imp: Imp,
    batch: String,
    f: FormData,
) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let here = format!("{}/import/{batch}", imp.list_path());
    if f.get("mode") == "cancel" {
        jobs::cancel(&state, &batch).await?;
        return Ok(Redirect::to(&here).into_response());
    }
    // The mapping needs the headers only; a commit reads the whole sheet.
    let Some(shown) = stage::get_shown(&state, &u, imp, &batch).await? else {
        return Ok(render(&ctx, imp, View::gone(&t)));
    };
    if jobs::running(&state, &batch).await? {
        return Ok(Redirect::to(&here).into_response());
    }
    if f.get("mode") == "map" {
        let mapping = Mapping::from_form(imp.schema(), shown.raw.headers.len(), &f);
        stage::choose(&state, &u, imp, &batch, &shown, &mapping).await?;
        return Ok(Redirect::to(&here).into_response());
    }
    let started = std::time::Instant::now();
    let Some(staged) = stage::get(&state, &u, imp, &batch).await? else {
        return Ok(render(&ctx, imp, View::gone(&t)));
    };
    tracing::debug!(
        rows = staged.rows,
        read_ms = started.elapsed().as_millis(),
        "import: staged sheet read back"
    );
    let all = f.get("mode") == "all";
    match commit_batch(&state, &ctx, &u, imp, &batch, staged, all).await? {
        Commit::Background => Ok(Redirect::to(&here).into_response()),
        Commit::Written(w) => Ok(Redirect::to(&format!(
            "{}?created={}&updated={}&unchanged={}&skipped={}",
            imp.list_path(),
            w.created,
            w.updated,
            w.unchanged,
            w.skipped,
        ))
        .into_response()),
        Commit::Refused(refused, staged) => {
            let run = run(&state, &ctx, &u, imp, &batch);
            let status = match refused {
                Refused::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::CONFLICT,
            };
            let mut view = View::of(&batch, Staged::clone(&staged));
            view.checked = Some(run.check(*staged).await?);
            view.error = Some(refused.message(&t));
            view.status = Some(status);
            Ok(render(&ctx, imp, view))
        }
    }
}

/// What committing a batch did.
pub(super) enum Commit {
    /// A big sheet: a background job writes it (`Stage::Running` follows it).
    Background,
    Written(Written),
    /// The sheet stays staged, as it was.
    Refused(Refused, Box<Staged>),
}

/// Commit the valid rows (`all`: only if every row is valid), in the background for big sheets.
pub(super) async fn commit_batch(
    state: &AppState,
    ctx: &Ctx,
    u: &CurrentUser,
    imp: Imp,
    batch: &str,
    staged: Staged,
    all: bool,
) -> WebResult<Commit> {
    let run = run(state, ctx, u, imp, batch);
    if staged.rows > jobs::SYNC_ROWS {
        jobs::start_commit(run, staged, all);
        return Ok(Commit::Background);
    }
    Ok(match run.commit(staged.clone(), all, None, None).await? {
        Ok(w) => Commit::Written(w),
        Err(refused) => Commit::Refused(refused, Box::new(staged)),
    })
}

/// The import routes of every area's importers under their list path: form and upload,
/// template, the batch's page and form, and its progress.
pub fn routes() -> Router<AppState> {
    crate::AREAS
        .iter()
        .flat_map(|area| area.importers.iter().copied())
        .fold(Router::new(), |router, imp| {
            let base = imp.list_path();
            router
                .route(
                    &format!("{base}/import"),
                    get(move |ctx: Ctx| form(ctx, imp)).post(
                        move |State(state): State<AppState>, ctx: Ctx, upload_form: Multipart| {
                            upload(state, ctx, imp, upload_form)
                        },
                    ),
                )
                .route(
                    &format!("{base}/import/template.xlsx"),
                    get(move |State(state): State<AppState>, ctx: Ctx| template(state, ctx, imp)),
                )
                .route(
                    &format!("{base}/import/{{batch}}"),
                    get(
                        move |State(state): State<AppState>,
                              ctx: Ctx,
                              Path(batch): Path<String>| {
                            preview(state, ctx, imp, batch)
                        },
                    )
                    .post(
                        move |State(state): State<AppState>,
                              ctx: Ctx,
                              Path(batch): Path<String>,
                              axum::Form(f): axum::Form<FormData>| {
                            act(state, ctx, imp, batch, f)
                        },
                    ),
                )
                .route(
                    &format!("{base}/import/{{batch}}/progress"),
                    get(
                        move |State(state): State<AppState>,
                              ctx: Ctx,
                              Path(batch): Path<String>| {
                            progress(state, ctx, imp, batch)
                        },
                    ),
                )
        })
}
