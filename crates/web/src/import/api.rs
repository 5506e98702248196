//! The spreadsheet import of every registry as API operations: upload → (mapping) → preview →
//! commit, the same steps, checks, limits and audit as the import pages (`flow`). `{registry}` is
//! the registry's list path without its slash: `stations`, `orgs`, `staff`, `residents`, ….

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::render::field_problem;
use crate::http::state::AppState;
use crate::import::engine::{Action, Importer};
use crate::import::flow::{Commit, Stage, commit_batch, importer, mapping_view, receive, stage_of};
use crate::import::jobs::{Checked, Written};
use crate::import::mapping::Mapping;
use crate::import::schema::Kind;
use crate::import::stage;
use crate::ui::forms::Check;

type Imp = &'static dyn Importer;

/// The importer of `{registry}`.
fn registry(name: &str) -> WebResult<Imp> {
    crate::AREAS
        .iter()
        .flat_map(|area| area.importers.iter().copied())
        .find(|imp| imp.list_path().trim_start_matches('/') == name)
        .ok_or(WebError::NotFound)
}

/// A sheet to import, its content in Base64.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"filename": "站点清单.csv",
    "content_base64": "56uZ54K55ZCN56ewLOaJgOWcqOS5oemVh++8iOihl+mBk++8iQrlu7rorr7ooZfpgZPnpL7lt6Xnq5ks5bu66K6+6KGX6YGTCg=="}))]
pub struct UploadBody {
    /// The file's name as shown in the audit log.
    #[schema(max_length = 255)]
    pub filename: String,
    /// The sheet (xlsx, xls, ods or csv), Base64-encoded (standard alphabet), within the
    /// server's import limits once decoded.
    pub content_base64: String,
}

/// One column of the sheet and the field it is imported as.
#[derive(Serialize, ToSchema)]
pub struct ImportColumnDto {
    /// 0-based position.
    pub index: usize,
    /// "A", "B", … as Excel names it.
    pub letter: String,
    pub header: String,
    /// The field it is imported as; `null`: not imported.
    pub field: Option<String>,
}

/// A field no column gives, with the value chosen for all rows.
#[derive(Serialize, ToSchema)]
pub struct ImportUnsetDto {
    pub field: String,
    pub label: String,
    pub required: bool,
    /// The codes one value for all rows may take (empty: the field takes none).
    pub choices: Vec<String>,
    /// The code chosen for all rows, if any.
    pub value: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportCellDto {
    /// The column's label.
    pub column: String,
    /// What of the cell the preview may show (identity numbers masked).
    pub value: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportRowDto {
    /// The line in the sheet.
    pub line: usize,
    pub label: String,
    /// `create`, `update`, `unchanged` or `invalid`.
    pub action: String,
    pub errors: Vec<ImportCellDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportSkippedDto {
    pub line: usize,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportCountsDto {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub invalid: usize,
}

#[derive(Serialize, ToSchema)]
pub struct ImportWrittenDto {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Invalid rows not imported.
    pub skipped: usize,
}

#[derive(Serialize, ToSchema)]
pub struct ImportProgressDto {
    pub read: u64,
    pub checked: u64,
    pub written: u64,
    pub total: u64,
}

/// A staged import: where it is and what it would do.
#[derive(Serialize, ToSchema)]
pub struct ImportDto {
    pub batch: String,
    pub registry: String,
    pub filename: String,
    /// `checking` or `writing` (a background job: ask again), `ready` (previewed: commit it),
    /// `done` (imported), `failed`.
    pub phase: String,
    pub progress: Option<ImportProgressDto>,
    pub columns: Vec<ImportColumnDto>,
    pub unset: Vec<ImportUnsetDto>,
    pub counts: Option<ImportCountsDto>,
    /// The rows listed (every invalid one first, at most 1,200).
    pub rows: Vec<ImportRowDto>,
    /// Rows checked but not listed.
    pub hidden_rows: usize,
    /// Lines set aside (titles, blanks, totals, repeats), with the reason; at most 500 listed.
    pub skipped: Vec<ImportSkippedDto>,
    pub skipped_count: usize,
    pub written: Option<ImportWrittenDto>,
    /// Why the last commit wrote nothing, or why the job failed.
    pub error: Option<String>,
}

fn written_dto(w: &Written) -> ImportWrittenDto {
    ImportWrittenDto {
        created: w.created,
        updated: w.updated,
        unchanged: w.unchanged,
        skipped: w.skipped,
    }
}

fn action(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Unchanged => "unchanged",
        Action::Invalid => "invalid",
    }
}

fn dto(ctx: &Ctx, imp: Imp, batch: &str, stage: Stage) -> WebResult<ImportDto> {
    let t = ctx.tr();
    let mut out = ImportDto {
        batch: batch.to_owned(),
        registry: imp.list_path().trim_start_matches('/').to_owned(),
        filename: String::new(),
        phase: String::new(),
        progress: None,
        columns: Vec::new(),
        unset: Vec::new(),
        counts: None,
        rows: Vec::new(),
        hidden_rows: 0,
        skipped: Vec::new(),
        skipped_count: 0,
        written: None,
        error: None,
    };
    let (staged, phase) = match stage {
        Stage::Gone => return Err(WebError::NotFound),
        Stage::Done(w) => {
            out.phase = "done".into();
            out.written = Some(written_dto(&w));
            return Ok(out);
        }
        Stage::Running {
            staged,
            progress,
            error,
        } => {
            let r = progress.report();
            let n = |k: &str| r.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
            out.progress = Some(ImportProgressDto {
                read: n("read"),
                checked: n("checked"),
                written: n("written"),
                total: n("total"),
            });
            out.error = error;
            let phase = serde_json::to_value(progress.phase())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            (staged, phase)
        }
        Stage::Broken(staged) => {
            out.error = Some(t.get("import.job.broken").to_owned());
            (staged, "failed".to_owned())
        }
        Stage::Checked {
            staged,
            checked,
            error,
        } => {
            preview(&mut out, &checked, &t);
            out.error = error;
            (staged, "ready".to_owned())
        }
    };
    out.phase = phase;
    out.filename = staged.filename.clone();
    let (columns, unset, _) = mapping_view(imp.schema(), imp.masked_fields(), &staged, &t);
    out.columns = columns
        .into_iter()
        .map(|c| ImportColumnDto {
            index: c.index,
            letter: c.letter,
            header: c.header,
            field: Some(c.field).filter(|f| !f.is_empty()),
        })
        .collect();
    out.unset = unset
        .into_iter()
        .map(|u| ImportUnsetDto {
            field: u.key.to_owned(),
            label: u.label.to_owned(),
            required: u.required,
            choices: u
                .choices
                .iter()
                .map(|(code, _)| (*code).to_owned())
                .collect(),
            value: Some(u.chosen).filter(|c| !c.is_empty()),
        })
        .collect();
    Ok(out)
}

fn preview(out: &mut ImportDto, c: &Checked, t: &crate::ui::i18n::Tr) {
    out.counts = Some(ImportCountsDto {
        create: c.counts.create,
        update: c.counts.update,
        unchanged: c.counts.unchanged,
        invalid: c.counts.invalid,
    });
    out.rows = c
        .rows
        .iter()
        .map(|r| ImportRowDto {
            line: r.number,
            label: r.label.clone(),
            action: action(r.action).to_owned(),
            errors: r
                .errors
                .iter()
                .map(|e| ImportCellDto {
                    column: e.column.clone(),
                    value: e.raw.clone(),
                    message: e.message.clone(),
                })
                .collect(),
        })
        .collect();
    out.hidden_rows = c.hidden;
    out.skipped_count = c.skipped.len();
    out.skipped = crate::import::flow::skipped_view(&c.skipped, t)
        .into_iter()
        .map(|(line, reason)| ImportSkippedDto { line, reason })
        .collect();
}

async fn load(state: &AppState, ctx: &Ctx, imp: Imp, batch: &str) -> WebResult<ImportDto> {
    let u = importer(ctx)?.clone();
    let stage = stage_of(state, ctx, &u, imp, batch).await?;
    dto(ctx, imp, batch, stage)
}

/// Upload a sheet to a registry's import, as its import page does: read once within the
/// server's import limits (a refusal is audited with the file's name and why), its columns
/// matched to the registry's fields (or the mapping remembered for the same headers), then
/// checked. Answers the staged import (small sheets already previewed; big ones `checking`
/// in the background: ask `GET` again). Nothing is written before the commit.
#[utoipa::path(post, path = "/api/v1/imports/{registry}", tag = "imports",
    params(("registry" = String, Path, description = "stations, orgs, staff, residents, volunteers, volunteer-teams, contracts, catalogue, …")),
    request_body = UploadBody,
    responses((status = 201, body = ImportDto),
        (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "No such registry"),
        (status = 413, description = "The file is over an import limit (the message names it and what was found)"),
        (status = 422, description = "Not Base64 (`content_base64`), no name (`filename`), or not a sheet that can be read (`file`)")))]
pub async fn api_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Json(b): Json<UploadBody>,
) -> WebResult<Response> {
    let imp = registry(&name)?;
    let u = importer(&ctx)?.clone();
    let mut c = Check::default();
    let filename = c.text("filename", b.filename.trim(), 255);
    let max = usize::try_from(state.config.import.max_file_bytes).unwrap_or(usize::MAX);
    if b.content_base64.trim().is_empty() {
        c.fail("file", "attachment.empty");
    }
    let bytes = c.base64_file(&b.content_base64, max);
    c.finish().map_err(WebError::Invalid)?;
    let batch = match receive(&state, &ctx, &u, imp, &filename, bytes).await? {
        Ok(batch) => batch,
        Err(refused) => {
            return Ok(field_problem(
                &ctx,
                refused.status,
                "file",
                refused.code,
                refused.message,
            ));
        }
    };
    let out = load(&state, &ctx, imp, &batch).await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// A staged import of the caller's: its mapping, its preview (every invalid row with its
/// reasons, every line set aside), the progress of its background job, or what it wrote.
#[utoipa::path(get, path = "/api/v1/imports/{registry}/{batch}", tag = "imports",
    params(("registry" = String, Path), ("batch" = String, Path)),
    responses((status = 200, body = ImportDto),
        (status = 404, description = "No such registry, or no such batch of the caller's")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((name, batch)): Path<(String, String)>,
) -> WebResult<Json<ImportDto>> {
    let imp = registry(&name)?;
    Ok(Json(load(&state, &ctx, imp, &batch).await?))
}

/// A new mapping: for each column of the sheet by position, the field it is imported as.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"columns": ["name", null], "defaults": {}}))]
pub struct MappingBody {
    /// One entry per column of the sheet (`null`: not imported); a field taken twice keeps its
    /// first column.
    pub columns: Vec<Option<String>>,
    /// For a choice field no column gives: one code for every row.
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
}

/// Change how the sheet's columns are read, as the preview's mapping table does; remembered
/// for the next sheet with the same headers from the caller's organisation. Answers the import
/// checked again with it.
#[utoipa::path(put, path = "/api/v1/imports/{registry}/{batch}/mapping", tag = "imports",
    params(("registry" = String, Path), ("batch" = String, Path)),
    request_body = MappingBody,
    responses((status = 200, body = ImportDto),
        (status = 404, description = "No such registry, or no such batch of the caller's"),
        (status = 409, description = "The import is being checked or written"),
        (status = 422, description = "More entries than the sheet has columns, or a field the registry does not have (`columns`); a value for all rows of a field that takes none, or not one of its codes (`defaults`)")))]
pub async fn api_mapping(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((name, batch)): Path<(String, String)>,
    Json(b): Json<MappingBody>,
) -> WebResult<Json<ImportDto>> {
    let imp = registry(&name)?;
    let u = importer(&ctx)?.clone();
    let staged = stage::get_shown(&state, &u, imp, &batch)
        .await?
        .ok_or(WebError::NotFound)?;
    if crate::import::jobs::running(&state, &batch).await? {
        return Err(WebError::Conflict("import.job.busy"));
    }
    let mapping = checked_mapping(imp, staged.raw.headers.len(), b)?;
    stage::choose(&state, &u, imp, &batch, &staged, &mapping).await?;
    Ok(Json(load(&state, &ctx, imp, &batch).await?))
}

/// The body as a mapping, refusing what the page's drop-downs cannot send.
fn checked_mapping(imp: Imp, width: usize, b: MappingBody) -> WebResult<Mapping> {
    let schema = imp.schema();
    let known = |k: &str| schema.columns.iter().any(|c| c.key == k);
    if b.columns.len() > width || b.columns.iter().flatten().any(|k| !known(k)) {
        return Err(FieldError::new("columns", "import.mapping_invalid").into());
    }
    for (key, value) in &b.defaults {
        let choices = schema
            .columns
            .iter()
            .find(|c| c.key == key)
            .and_then(|c| match c.kind {
                Kind::Choice(choices) => Some(choices),
                _ => None,
            });
        if !choices.is_some_and(|cs| cs.iter().any(|(code, _)| code == value)) {
            return Err(FieldError::new("defaults", "import.default_invalid").into());
        }
    }
    Ok(Mapping {
        columns: b.columns,
        defaults: b.defaults,
    }
    .checked(schema, width))
}

/// How to commit.
#[derive(Deserialize, ToSchema)]
pub struct CommitBody {
    /// `valid`: write the valid rows and skip the invalid ones; `all`: write nothing unless every
    /// row is valid.
    pub mode: String,
}

/// Commit a previewed import, as the preview's buttons do: the rows are checked again against
/// the register as it is now and written in one transaction per chunk of the sheet (nothing of
/// a failed or cancelled commit stays), with the import's audit entry. Small sheets answer
/// `done` with what was written; big ones `writing` (ask `GET` again).
#[utoipa::path(post, path = "/api/v1/imports/{registry}/{batch}/commit", tag = "imports",
    params(("registry" = String, Path), ("batch" = String, Path)),
    request_body = CommitBody,
    responses((status = 200, body = ImportDto),
        (status = 404, description = "No such registry, or no such batch of the caller's (or already imported)"),
        (status = 409, description = "The import is already being checked or written, or a row failed while being written (the data changed since the preview): nothing was written"),
        (status = 422, description = "`mode` not `valid` or `all`; with `all`, invalid rows (`rows`): nothing was written")))]
pub async fn api_commit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((name, batch)): Path<(String, String)>,
    Json(b): Json<CommitBody>,
) -> WebResult<Response> {
    let imp = registry(&name)?;
    let u = importer(&ctx)?.clone();
    let all = match b.mode.as_str() {
        "valid" => false,
        "all" => true,
        _ => return Err(FieldError::new("mode", "import.mode_invalid").into()),
    };
    // Found and not running, before the whole sheet is read.
    stage::get_shown(&state, &u, imp, &batch)
        .await?
        .ok_or(WebError::NotFound)?;
    if crate::import::jobs::running(&state, &batch).await? {
        return Err(WebError::Conflict("import.job.busy"));
    }
    let staged = stage::get(&state, &u, imp, &batch)
        .await?
        .ok_or(WebError::NotFound)?;
    let filename = staged.filename.clone();
    match commit_batch(&state, &ctx, &u, imp, &batch, staged, all).await? {
        Commit::Background => Ok(Json(load(&state, &ctx, imp, &batch).await?).into_response()),
        Commit::Written(w) => {
            let mut out = dto(&ctx, imp, &batch, Stage::Done(w))?;
            out.filename = filename;
            Ok(Json(out).into_response())
        }
        Commit::Refused(refused, _) => {
            let (status, field, code) = match refused {
                crate::import::jobs::Refused::Invalid(_) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rows",
                    "import.refused_all",
                ),
                _ => (StatusCode::CONFLICT, "rows", "import.row_failed"),
            };
            let message = refused.message(&ctx.tr());
            Ok(field_problem(&ctx, status, field, code, message))
        }
    }
}

/// Stop a running commit (or check) of the caller's: what it wrote is rolled back.
#[utoipa::path(post, path = "/api/v1/imports/{registry}/{batch}/cancel", tag = "imports",
    params(("registry" = String, Path), ("batch" = String, Path)),
    responses((status = 200, body = ImportDto),
        (status = 404, description = "No such registry, or no such batch of the caller's")))]
pub async fn api_cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((name, batch)): Path<(String, String)>,
) -> WebResult<Json<ImportDto>> {
    let imp = registry(&name)?;
    let u = importer(&ctx)?.clone();
    // Only the batch's owner may stop it.
    stage::get_shown(&state, &u, imp, &batch)
        .await?
        .ok_or(WebError::NotFound)?;
    crate::import::jobs::cancel(&state, &batch).await?;
    Ok(Json(load(&state, &ctx, imp, &batch).await?))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_upload, api_get, api_mapping, api_commit, api_cancel),
    tags((name = "imports", description = "Spreadsheet imports of every registry: upload, map, preview, commit"))
)]
pub struct ImportApi;
