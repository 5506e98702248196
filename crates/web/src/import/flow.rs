//! The upload → preview → commit flow every registry's import shares, the way offices really
//! send lists: download a template (with dropdowns), upload a sheet, see a preview that lists
//! every bad row and cell with the reason, then commit the valid rows only, or nothing unless
//! all are valid. The sheet is parsed once, at upload, and staged; preview and commit plan its
//! rows against the database as it is then. One audit entry per import.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::import as staging;

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::import::engine::{Action, Importer, Job, Planned, PreviewRow};
use crate::import::stage::{self, Staged};
use crate::ui::forms::FormData;
use crate::ui::i18n::{Lang, Tr};

type Imp = &'static dyn Importer;

fn importer(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    Ok(u)
}

/// How many rows would be created, updated, left unchanged, or are invalid.
#[derive(Default)]
struct Counts {
    create: usize,
    update: usize,
    unchanged: usize,
    invalid: usize,
}

impl Counts {
    fn of(rows: &[PreviewRow]) -> Self {
        let mut c = Counts::default();
        for r in rows {
            *match r.action {
                Action::Create => &mut c.create,
                Action::Update => &mut c.update,
                Action::Unchanged => &mut c.unchanged,
                Action::Invalid => &mut c.invalid,
            } += 1;
        }
        c
    }
}

#[derive(Template)]
#[template(path = "import/import.html")]
struct ImportPage {
    t: Tr,
    base: Base,
    list_path: &'static str,
    batch: Option<String>,
    filename: String,
    rows: Vec<PreviewRow>,
    counts: Counts,
    warning: Option<String>,
    error: Option<String>,
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

    /// Valid rows, unchanged ones included: committing a sheet that only confirms what is stored
    /// is allowed by either button.
    fn committable(&self) -> usize {
        self.counts.create + self.counts.update + self.counts.unchanged
    }

    fn action_class(&self, a: &Action) -> &'static str {
        match a {
            Action::Create => "tag-ok",
            Action::Update => "tag-warn",
            Action::Unchanged => "tag-muted",
            Action::Invalid => "tag-bad",
        }
    }
}

/// What the import page shows besides the upload form.
struct View {
    batch: Option<String>,
    filename: String,
    rows: Vec<PreviewRow>,
    warning: Option<String>,
    error: Option<String>,
    status: StatusCode,
}

impl View {
    fn empty() -> Self {
        Self {
            batch: None,
            filename: String::new(),
            rows: Vec::new(),
            warning: None,
            error: None,
            status: StatusCode::OK,
        }
    }

    /// Only a message above the form.
    fn refused(filename: String, error: String, status: StatusCode) -> Self {
        Self {
            filename,
            error: Some(error),
            status,
            ..Self::empty()
        }
    }

    /// The staged sheet's preview.
    fn preview(batch: &str, staged: &Staged, t: &Tr, planned: Vec<Planned>) -> Self {
        Self {
            batch: Some(batch.to_owned()),
            filename: staged.filename.clone(),
            rows: planned.into_iter().map(|p| p.row).collect(),
            warning: staged.parsed.warning(t),
            ..Self::empty()
        }
    }

    fn gone(t: &Tr) -> Self {
        Self::refused(
            String::new(),
            t.get("import.already_done").to_owned(),
            StatusCode::GONE,
        )
    }
}

fn render(ctx: &Ctx, imp: Imp, view: View) -> Response {
    let t = ctx.tr();
    let title = t.get("import.title");
    let list_path = imp.list_path();
    page(
        view.status,
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
            counts: Counts::of(&view.rows),
            rows: view.rows,
            warning: view.warning,
            error: view.error,
        },
    )
}

async fn form(ctx: Ctx, imp: Imp) -> WebResult<Response> {
    importer(&ctx)?;
    Ok(render(&ctx, imp, View::empty()))
}

/// The template: the importer's columns, with dropdowns from the database; written off the
/// async runtime.
async fn template(state: AppState, ctx: Ctx, imp: Imp) -> WebResult<Response> {
    let u = importer(&ctx)?;
    let t = ctx.tr();
    let job = Job {
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
    let bytes = tokio::task::spawn_blocking(move || {
        crate::import::template::template(schema, chinese, &lists)
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

async fn read_file(mut form: Multipart) -> WebResult<(String, Vec<u8>)> {
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| FieldError::new("file", "attachment.too_large"))?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("import.xlsx").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| FieldError::new("file", "attachment.too_large"))?
                .to_vec();
            return Ok((name, bytes));
        }
    }
    Err(FieldError::new("file", "attachment.empty").into())
}

/// Parse the upload once and stage what was read; the preview is its own page.
async fn upload(state: AppState, ctx: Ctx, imp: Imp, form: Multipart) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let (filename, bytes) = match read_file(form).await {
        Ok(f) => f,
        Err(WebError::Invalid(e)) => {
            let code = e.first().map_or("attachment.empty", |e| e.code);
            let status = if code == "attachment.too_large" {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let view = View::refused(String::new(), t.get(code).to_owned(), status);
            return Ok(render(&ctx, imp, view));
        }
        Err(e) => return Err(e),
    };
    let schema = imp.schema();
    let stored = match stage::parse(schema, bytes, &state.config.import).await {
        Ok(stored) => stored,
        Err(e) => {
            let view = View::refused(filename, e.message(schema, &t), e.status());
            return Ok(render(&ctx, imp, view));
        }
    };
    let batch = stage::put(&state, &u, imp, &filename, &stored).await?;
    // Post/Redirect/Get: reloading the preview does not upload again.
    Ok(Redirect::to(&format!("{}/import/{batch}", imp.list_path())).into_response())
}

/// Plan the staged rows against the database as it is now.
async fn plan(job: &Job<'_>, imp: Imp, staged: &Staged) -> WebResult<Vec<Planned>> {
    let mut conn = job.state.db.read().await?;
    imp.plan(job, &mut conn, staged.parsed.rows.clone()).await
}

/// The preview of a staged sheet.
async fn preview(state: AppState, ctx: Ctx, imp: Imp, batch: String) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let Some(staged) = stage::get(&state, &u, imp, &batch).await? else {
        return Ok(render(&ctx, imp, View::gone(&t)));
    };
    let job = Job {
        state: &state,
        user: &u,
        t: &t,
        now: state.now(),
    };
    let planned = plan(&job, imp, &staged).await?;
    Ok(render(
        &ctx,
        imp,
        View::preview(&batch, &staged, &t, planned),
    ))
}

/// Rows written by a commit.
#[derive(Default)]
struct Written {
    created: usize,
    updated: usize,
    unchanged: usize,
}

/// Apply the staged sheet: `valid` commits the valid rows; `all` commits only if every row is
/// valid.
async fn commit(
    state: AppState,
    ctx: Ctx,
    imp: Imp,
    batch: String,
    f: FormData,
) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let Some(staged) = stage::get(&state, &u, imp, &batch).await? else {
        return Ok(render(&ctx, imp, View::gone(&t)));
    };
    let job = Job {
        state: &state,
        user: &u,
        t: &t,
        now: state.now(),
    };
    let planned = plan(&job, imp, &staged).await?;
    let invalid = planned
        .iter()
        .filter(|p| p.row.action == Action::Invalid)
        .count();
    if f.get("mode") == "all" && invalid > 0 {
        let message = t.fmt("import.refused_all", &[("n", &invalid.to_string())]);
        let mut view = View::preview(&batch, &staged, &t, planned);
        view.error = Some(message);
        view.status = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(render(&ctx, imp, view));
    }
    let mut tx = state.db.begin().await?;
    let mut written = Written::default();
    for p in &planned {
        let Some(change) = &p.change else { continue };
        if p.row.action == Action::Unchanged {
            written.unchanged += 1;
            continue;
        }
        match change.apply(&job, &mut tx).await {
            Ok(()) if p.row.action == Action::Create => written.created += 1,
            Ok(()) => written.updated += 1,
            // Rows were checked just now; a failure here means the data changed underneath:
            // nothing is written (the transaction is dropped) and the user sees why.
            Err(shegong_store::StoreError::Invalid(e)) => {
                drop(tx);
                let message = t.fmt(
                    "import.row_failed",
                    &[
                        ("row", &p.row.number.to_string()),
                        ("message", t.get(e.code)),
                    ],
                );
                let mut view = View::preview(&batch, &staged, &t, planned);
                view.error = Some(message);
                view.status = StatusCode::CONFLICT;
                return Ok(render(&ctx, imp, view));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let event = Event::new("import", imp.audit_entity(), Some(batch.clone())).changes(vec![
        Change::new("file", None::<String>, Some(&staged.filename)),
        Change::new("sha256", None::<String>, Some(&staged.sha256)),
        Change::new("created", None::<String>, Some(written.created)),
        Change::new("updated", None::<String>, Some(written.updated)),
        Change::new("unchanged", None::<String>, Some(written.unchanged)),
        Change::new("skipped_invalid", None::<String>, Some(invalid)),
    ]);
    audit::record(&mut tx, state.db.backend(), &ctx.actor(), event, job.now).await?;
    staging::discard(&mut tx, &u.user.id, &batch).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "{}?created={}&updated={}&unchanged={}&skipped={invalid}",
        imp.list_path(),
        written.created,
        written.updated,
        written.unchanged,
    ))
    .into_response())
}

/// The import routes of every area's importers under their list path: form and upload,
/// template, preview and commit.
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
                            commit(state, ctx, imp, batch, f)
                        },
                    ),
                )
        })
}
