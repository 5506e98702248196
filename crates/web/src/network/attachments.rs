//! Uploading and downloading attachments. Uploads are multipart (the CSRF token rides in the
//! query string), checked for size and type by their content; downloads go through the owner's
//! scope, never through a static directory.

use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::FieldError;
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::network::attachments::{self, Attachment, NewAttachment};
use shegong_store::network::stations;

use super::station_page::detail_with;
use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};

/// An upload form's kind, file name and bytes.
pub(crate) struct Upload {
    pub kind: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The kind and file of an upload form. A refusal comes with the file's name when it was read
/// that far, so the page can say which file was not taken.
pub(crate) async fn read_upload(mut form: Multipart) -> Result<Upload, (FieldError, String)> {
    let mut up = Upload {
        kind: String::from("other"),
        name: String::new(),
        bytes: Vec::new(),
    };
    let too_large = |name: &str| {
        (
            FieldError::new("file", "attachment.too_large"),
            name.to_owned(),
        )
    };
    while let Some(field) = form.next_field().await.map_err(|_| too_large(&up.name))? {
        match field.name() {
            Some("kind") => up.kind = field.text().await.unwrap_or_default(),
            Some("file") => {
                up.name = field.file_name().unwrap_or("file").to_owned();
                up.bytes = read_bounded(field)
                    .await
                    .ok_or_else(|| too_large(&up.name))?;
            }
            _ => {}
        }
    }
    if let Err(e) = check_kind(&up.kind) {
        return Err((e, up.name));
    }
    Ok(up)
}

/// A file field's bytes, read no further than one byte past `attachments::MAX_BYTES` (what the
/// store then refuses as too large): an oversized file is never held whole. `None` when the
/// body breaks off.
pub(crate) async fn read_bounded(
    mut field: axum::extract::multipart::Field<'_>,
) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        let room = (attachments::MAX_BYTES + 1).saturating_sub(bytes.len());
        bytes.extend_from_slice(chunk.get(..room.min(chunk.len()))?);
        if bytes.len() > attachments::MAX_BYTES {
            break;
        }
    }
    Some(bytes)
}

/// "文件“x.exe”未上传：只接受 …": a refused upload by field and file name (shortened), for the
/// page the form is on.
pub(crate) fn refusal(t: &crate::ui::i18n::Tr, e: &FieldError, file: &str) -> String {
    let file: String = file.chars().filter(|c| !c.is_control()).take(80).collect();
    t.fmt(
        "attachment.refused",
        &[
            ("field", t.get(&format!("field.{}", e.field))),
            ("file", &file),
            ("message", t.get(e.code)),
        ],
    )
}

/// Upload a file to a station. A refused file shows the station page again (422) with the
/// message naming the field and the file, not a bare error page.
pub async fn upload_station(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Multipart,
) -> WebResult<Response> {
    writer(&ctx)?;
    let t = ctx.tr();
    let up = match read_upload(form).await {
        Ok(up) => up,
        Err((e, file)) => {
            return detail_with(&state, &ctx, &id, None, Some(refusal(&t, &e, &file))).await;
        }
    };
    let name = up.name.clone();
    let result = save_station_file(&state, &ctx, &id, up).await;
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/stations/{id}?notice=notice.uploaded")).into_response())
        }
        Err(WebError::Invalid(fields)) if !fields.is_empty() => {
            let message = fields
                .iter()
                .map(|e| refusal(&t, e, &name))
                .collect::<Vec<_>>()
                .join(" ");
            detail_with(&state, &ctx, &id, None, Some(message)).await
        }
        Err(e) => Err(e),
    }
}

/// Check a kind of station file (`photo`, `rule`, `evidence` or `other`).
pub(crate) fn check_kind(kind: &str) -> Result<(), FieldError> {
    if matches!(kind, "photo" | "rule" | "evidence" | "other") {
        Ok(())
    } else {
        Err(FieldError::new("kind", "attachment.kind_unknown"))
    }
}

/// Store a file of station `id` (page and API): the writing permission, the station in the
/// caller's scope, the file checked by its content and size; audited as `attachment`/`upload`.
pub(crate) async fn save_station_file(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    up: Upload,
) -> WebResult<attachments::Attachment> {
    writer(ctx)?;
    check_kind(&up.kind)?;
    let (files, now) = (state.files.clone(), state.now());
    let station = id.to_owned();
    write_or_invalid(
        state,
        ctx,
        Entry::new("attachment", "upload"),
        move |conn, scope, by| -> WorkWith<'_, attachments::Attachment> {
            Box::pin(async move {
                let st = stations::get(conn, &scope, &station).await?;
                let a = attachments::add(
                    conn,
                    &files,
                    NewAttachment {
                        owner_kind: "station",
                        owner_id: &station,
                        region_code: &st.region_code,
                        kind: &up.kind,
                        filename: &up.name,
                        bytes: &up.bytes,
                    },
                    &by,
                    now,
                )
                .await?;
                let done = Done {
                    changes: vec![
                        Change::new("station", None::<String>, Some(&station)),
                        Change::new("filename", None::<String>, Some(&a.filename)),
                        Change::new("sha256", None::<String>, Some(&a.sha256)),
                    ],
                    entity_id: a.id.clone(),
                    region: Some(st.region_code),
                };
                Ok((done, a))
            })
        },
    )
    .await
}

/// Download an attachment (a station's photo or document, a rectification's evidence, a visit's
/// photo or signature) within the caller's scope, audited; images open in the browser, other
/// files download. A visit's files only for those who may see the service record.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, description = "The file, with its type as recognised on upload",
            content(("image/jpeg"), ("image/png"), ("application/pdf"), ("application/zip"))),
        (status = 404, description = "Unknown attachment or outside the caller's scope")))]
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(shegong_domain::Permission::ReadData)?;
    let found = {
        let mut c = state.db.read().await?;
        attachments::get(&mut c, &u.scope(), &id).await
    };
    let a = match found {
        Ok(a) => a,
        // A service record's photo or signature: through the record (its scope and the
        // protection rule).
        Err(shegong_store::StoreError::NotFound) => {
            return crate::people::evidence::download(&state, &ctx, &id).await;
        }
        Err(e) => return Err(e.into()),
    };
    send(&state, &ctx, &a, Keep::AnHour).await
}

/// How long the browser may keep a downloaded file.
pub(crate) enum Keep {
    /// An hour (a station's documents).
    AnHour,
    /// Not at all (a visit's photos and signature: people's faces and homes).
    Never,
}

/// Send the stored file of `a`, which the caller has found `ctx` may read, after its audit
/// entry (`download` of the attachment; what it belongs to and its name). Images open in the
/// browser, other files download; either way under their uploaded name.
pub(crate) async fn send(
    state: &AppState,
    ctx: &Ctx,
    a: &Attachment,
    keep: Keep,
) -> WebResult<Response> {
    let bytes =
        state.files.get(&a.sha256).await.map_err(|e| {
            WebError::Internal(anyhow::anyhow!("attachment {} unreadable: {e}", a.id))
        })?;
    let mut tx = state.db.begin().await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("download", "attachment", Some(a.id.clone()))
            .region(a.region_code.clone())
            .changes(vec![
                Change::new(a.owner_kind.as_str(), None::<String>, Some(&a.owner_id)),
                Change::new("filename", None::<String>, Some(&a.filename)),
            ]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    let disposition = if a.content_type.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    let encoded = crate::http::render::urlencode(&a.filename).replace('+', "%20");
    let cache = match keep {
        Keep::AnHour => "private, max-age=3600",
        Keep::Never => "private, no-store",
    };
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename*=UTF-8''{encoded}"),
            ),
            (header::CACHE_CONTROL, cache.to_owned()),
        ],
        bytes,
    )
        .into_response())
}
