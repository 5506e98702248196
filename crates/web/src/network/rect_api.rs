//! Rectifications (整改) by API, as the rectification page has them: the scoped list with its
//! filters, one rectification with its history and evidence, moving it along its flow, and
//! evidence (整改佐证材料) uploaded from the page (multipart) or the API (Base64 in JSON). Each
//! write is the page's own (`advance_rect`, `add_evidence`): same checks, scope and audit.

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_store::PageRequest;
use shegong_store::admin::audit::Change;
use shegong_store::network::attachments::{self, Attachment, Listed};
use shegong_store::network::inspections::{self, Rect, RectFilter};
use utoipa::{IntoParams, ToSchema};

use super::attachments::{read_upload, refusal};
use super::inspections::{advance_rect, rect_page};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write};
use crate::ui::forms::{Check, today};
use crate::ui::list::rfc3339;

/// Attach `bytes` named `filename` to rectification `id` as evidence, audited as an upload (the
/// writing permission; the rectification in scope, neither closed nor voided). The one write the
/// page and the API share.
async fn add_evidence(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    filename: String,
    bytes: Vec<u8>,
) -> WebResult<Result<Attachment, FieldError>> {
    let (files, now, rid) = (state.files.clone(), state.now(), id.to_owned());
    write(
        state,
        ctx,
        Entry::new("attachment", "upload"),
        move |conn, scope, by| -> WorkWith<'_, Attachment> {
            Box::pin(async move {
                let (r, a) = inspections::add_evidence(
                    conn,
                    &files,
                    &scope,
                    &rid,
                    (&filename, &bytes),
                    &by,
                    now,
                )
                .await?;
                let done = Done {
                    changes: vec![
                        Change::new("rectification", None::<String>, Some(&r.id)),
                        Change::new("filename", None::<String>, Some(&a.filename)),
                        Change::new("sha256", None::<String>, Some(&a.sha256)),
                    ],
                    entity_id: a.id.clone(),
                    region: Some(r.region_code),
                };
                Ok((done, a))
            })
        },
    )
    .await
}

/// The rectification page's evidence form (multipart: `file`). A refused file shows the page
/// again (422) naming the field and the file; nothing is stored.
pub async fn upload_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Multipart,
) -> WebResult<Response> {
    crate::http::write::writer(&ctx)?;
    let t = ctx.tr();
    let up = match read_upload(form).await {
        Ok(up) => up,
        Err((e, file)) => {
            return rect_page(&state, &ctx, &id, None, Some(refusal(&t, &e, &file))).await;
        }
    };
    let name = up.name.clone();
    match add_evidence(&state, &ctx, &id, up.name, up.bytes).await? {
        Ok(_) => Ok(Redirect::to(&format!(
            "/inspections/rectifications/{id}?notice=notice.uploaded"
        ))
        .into_response()),
        Err(e) => rect_page(&state, &ctx, &id, None, Some(refusal(&t, &e, &name))).await,
    }
}

// ---------------------------------------------------------------------------------------------
// API

#[derive(Deserialize, IntoParams, Default)]
pub struct RectQuery {
    /// `open` (open or submitted, as the inspections page lists them), `overdue`, `submitted`,
    /// `verified` or `closed`; these leave out rectifications of voided inspections. None: all.
    #[param(schema_with = filter_statuses)]
    pub status: Option<String>,
    /// Only those whose deadline is before this day (`YYYY-MM-DD`).
    #[param(format = Date)]
    pub due_before: Option<String>,
    /// Only those in this region (a region code within the caller's scope).
    pub region: Option<String>,
    /// Only this station's.
    pub station: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A rectification as the API lists it.
#[derive(Serialize, ToSchema)]
pub struct RectDto {
    pub id: String,
    /// The inspection (visit) that required it.
    pub inspection_id: String,
    pub station_id: String,
    pub station_name: String,
    pub region_code: String,
    pub description: String,
    /// The responsible person or unit.
    pub owner: String,
    /// `YYYY-MM-DD`
    pub deadline: String,
    /// `open`, `submitted`, `verified` or `closed`.
    pub status: String,
    pub overdue: bool,
    /// What the responsible unit reported.
    pub response: String,
    /// The verifier's account name and display name.
    pub verified_by: Option<String>,
    pub verifier_name: Option<String>,
    /// Its inspection was voided: it is no longer followed.
    pub voided: bool,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct RectPage {
    pub items: Vec<RectDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// One step of a rectification.
#[derive(Serialize, ToSchema)]
pub struct RectStepDto {
    pub from_status: String,
    pub to_status: String,
    pub note: String,
    /// The actor's account name and display name.
    pub by: String,
    pub by_name: Option<String>,
    pub at: String,
}

/// An evidence file.
#[derive(Serialize, ToSchema)]
pub struct EvidenceDto {
    pub id: String,
    pub filename: String,
    /// As recognised from the content: `image/jpeg`, `image/png`, `application/pdf` or
    /// `application/zip` (DOCX, XLSX).
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// The uploader's account name and display name.
    pub uploaded_by: String,
    pub uploader_name: Option<String>,
    pub uploaded_at: String,
    /// Where to download it (`GET`, scoped and audited).
    pub download: String,
}

/// A rectification with its history and evidence.
#[derive(Serialize, ToSchema)]
pub struct RectDetail {
    #[serde(flatten)]
    pub rectification: RectDto,
    pub history: Vec<RectStepDto>,
    pub evidence: Vec<EvidenceDto>,
}

fn rect_dto(r: Rect, today_s: &str) -> RectDto {
    RectDto {
        overdue: r.is_overdue(today_s),
        voided: r.voided_at.is_some(),
        updated_at: rfc3339(r.updated_at),
        id: r.id,
        inspection_id: r.visit_id,
        station_id: r.station_id,
        station_name: r.station_name,
        region_code: r.region_code,
        description: r.description,
        owner: r.owner,
        deadline: r.deadline,
        status: r.status,
        response: r.response,
        verified_by: r.verified_by,
        verifier_name: r.verifier_name,
    }
}

fn evidence_dto(a: Attachment, uploader_name: Option<String>) -> EvidenceDto {
    EvidenceDto {
        download: format!("/api/v1/attachments/{}", a.id),
        uploaded_at: rfc3339(a.created_at),
        uploaded_by: a.created_by,
        uploader_name,
        id: a.id,
        filename: a.filename,
        content_type: a.content_type,
        size: a.size,
        sha256: a.sha256,
    }
}

/// The list's filters checked, each refusal naming its parameter.
fn filter(q: &RectQuery) -> WebResult<RectFilter> {
    let mut c = Check::default();
    let status = q.status.clone().filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !["open", "overdue", "submitted", "verified", "closed"].contains(&s.as_str())
    {
        c.fail("status", "rectification.status_unknown");
    }
    let due_before = q
        .due_before
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|d| c.date("due_before", d));
    if let Some(r) = q.region.as_deref().filter(|s| !s.is_empty()) {
        c.region("region", r);
    }
    c.finish().map_err(WebError::Invalid)?;
    Ok(RectFilter {
        station_id: q.station.clone().filter(|s| !s.is_empty()),
        state: status,
        region: q.region.clone(),
        due_before,
        sort: None,
    })
}

/// Rectifications within the caller's scope, earliest deadline first.
#[utoipa::path(get, path = "/api/v1/rectifications", tag = "stations", params(RectQuery),
    responses((status = 200, body = RectPage), (status = 401, description = "Not signed in"),
        (status = 422, description = "A filter that is not valid (`status`, `due_before`, `region`)")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RectQuery>,
) -> WebResult<Json<RectPage>> {
    let u = reader(&ctx)?;
    let f = filter(&q)?;
    let today_s = today(state.now());
    let mut c = state.db.read().await?;
    let p = inspections::rectifications(
        &mut c,
        &u.scope(),
        &f,
        &today_s,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(RectPage {
        items: p.items.into_iter().map(|r| rect_dto(r, &today_s)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// A rectification with its history (who moved it, by name, when, with what note) and its
/// evidence.
#[utoipa::path(get, path = "/api/v1/rectifications/{id}", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, body = RectDetail),
        (status = 404, description = "Unknown rectification or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<RectDetail>> {
    let u = reader(&ctx)?;
    let scope = u.scope();
    let today_s = today(state.now());
    let mut c = state.db.read().await?;
    let r = inspections::rectification(&mut c, &scope, &id).await?;
    let history = inspections::rectification_history(&mut c, &scope, &id)
        .await?
        .into_iter()
        .map(|e| RectStepDto {
            from_status: e.from_status,
            to_status: e.to_status,
            note: e.note,
            by: e.by_user,
            by_name: e.by_name,
            at: rfc3339(e.at),
        })
        .collect();
    let evidence = inspections::evidence(&mut c, &scope, &id)
        .await?
        .into_iter()
        .map(|Listed { a, uploader_name }| evidence_dto(a, uploader_name))
        .collect();
    Ok(Json(RectDetail {
        rectification: rect_dto(r, &today_s),
        history,
        evidence,
    }))
}

/// A step of a rectification's flow.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"status": "submitted", "response": "已补齐服务台账"}))]
pub struct AdvanceBody {
    /// The status to move to: `submitted` (the station reports it done; needs a response),
    /// `verified`, `open` (returned) or `closed`.
    #[schema(schema_with = rect_statuses)]
    pub status: String,
    /// What was done (required to submit), at most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub response: String,
}

fn filter_statuses() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(["open", "overdue", "submitted", "verified", "closed"])
}

fn rect_statuses() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(["open", "submitted", "verified", "closed"])
}

/// Move a rectification along its flow as its page does: open → submitted (the station side,
/// writing permission) → verified → closed, or submitted → open (returned); the supervising
/// permission for all but submitting. Audited; returns the rectification.
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/advance", tag = "stations", params(("id" = String, Path)),
    request_body = AdvanceBody,
    responses((status = 200, body = RectDetail),
        (status = 403, description = "Not permitted to make this step"),
        (status = 404, description = "Unknown rectification or outside the caller's scope"),
        (status = 422, description = "A step the flow does not allow or of a voided inspection (`status`), no response to a submission (`response`)")))]
pub async fn api_advance(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<AdvanceBody>,
) -> WebResult<Json<RectDetail>> {
    if let Some(e) = advance_rect(&state, &ctx, &id, &b.status, &b.response).await? {
        return Err(e.into());
    }
    api_get(State(state), ctx, Path(id)).await
}

/// An evidence file, its content in Base64.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"filename": "整改后.png", "content_base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}))]
pub struct EvidenceBody {
    /// The file's name as shown (its path is dropped), at most 120 characters kept.
    #[schema(max_length = 255)]
    pub filename: String,
    /// The file, Base64-encoded (standard alphabet): JPG, PNG, PDF, DOCX or XLSX, recognised by
    /// its content, at most 10 MB once decoded.
    pub content_base64: String,
}

/// Add evidence (整改佐证材料) to a rectification, as its page does: the writing permission, the
/// rectification in the caller's scope and neither closed nor voided; the file checked by its
/// content and size before anything is stored. Audited; returns the evidence file.
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/evidence", tag = "stations", params(("id" = String, Path)),
    request_body = EvidenceBody,
    responses((status = 201, body = EvidenceDto),
        (status = 403, description = "Not permitted to change data"),
        (status = 404, description = "Unknown rectification or outside the caller's scope"),
        (status = 413, description = "The request is over the server's body limit"),
        (status = 422, description = "Not Base64 (`content_base64`), no name (`filename`), empty, over 10 MB, of a type not accepted, or the rectification closed or voided (`file`)")))]
pub async fn api_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<EvidenceBody>,
) -> WebResult<Response> {
    let uploader = crate::http::write::writer(&ctx)?.user.display_name.clone();
    let mut c = Check::default();
    let filename = c.text("filename", b.filename.trim(), 255);
    let bytes = c.base64_file(&b.content_base64, attachments::MAX_BYTES);
    c.finish().map_err(WebError::Invalid)?;
    let a = add_evidence(&state, &ctx, &id, filename, bytes)
        .await?
        .map_err(|e| WebError::Invalid(vec![e]))?;
    Ok((StatusCode::CREATED, Json(evidence_dto(a, Some(uploader)))).into_response())
}
