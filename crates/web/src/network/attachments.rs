//! Uploading and downloading attachments. Uploads are multipart (the CSRF token rides in the
//! query string), checked for size and type by their content; downloads go through the owner's
//! scope, never through a static directory.

use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::FieldError;
use shegong_store::admin::audit::Change;
use shegong_store::network::attachments::{self, NewAttachment};
use shegong_store::network::stations;

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};

/// The kind and file of an upload form.
async fn read_upload(mut form: Multipart) -> WebResult<(String, String, Vec<u8>)> {
    let (mut kind, mut name, mut bytes) = (String::from("other"), String::new(), Vec::new());
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| FieldError::new("file", "attachment.too_large"))?
    {
        match field.name() {
            Some("kind") => kind = field.text().await.unwrap_or_default(),
            Some("file") => {
                name = field.file_name().unwrap_or("file").to_owned();
                bytes = field
                    .bytes()
                    .await
                    .map_err(|_| FieldError::new("file", "attachment.too_large"))?
                    .to_vec();
            }
            _ => {}
        }
    }
    if !matches!(kind.as_str(), "photo" | "rule" | "evidence" | "other") {
        return Err(FieldError::new("kind", "attachment.kind_unknown").into());
    }
    Ok((kind, name, bytes))
}

pub async fn upload_station(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Multipart,
) -> WebResult<Response> {
    writer(&ctx)?;
    let (kind, name, bytes) = read_upload(form).await?;
    let (files, now) = (state.files.clone(), state.now());
    let station = id.clone();
    write_or_invalid(
        &state,
        &ctx,
        Entry::new("attachment", "upload"),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let st = stations::get(conn, &scope, &station).await?;
                let a = attachments::add(
                    conn,
                    &files,
                    NewAttachment {
                        owner_kind: "station",
                        owner_id: &station,
                        region_code: &st.region_code,
                        kind: &kind,
                        filename: &name,
                        bytes: &bytes,
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
                    entity_id: a.id,
                    region: Some(st.region_code),
                };
                Ok((done, ()))
            })
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/stations/{id}?notice=notice.uploaded")).into_response())
}

pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(shegong_domain::Permission::ReadData)?;
    let a = {
        let mut c = state.db.read().await?;
        attachments::get(&mut c, &u.scope(), &id).await?
    };
    let bytes =
        state.files.get(&a.sha256).await.map_err(|e| {
            WebError::Internal(anyhow::anyhow!("attachment {} unreadable: {e}", a.id))
        })?;
    let disposition = if a.content_type.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    let encoded = crate::http::render::urlencode(&a.filename).replace('+', "%20");
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename*=UTF-8''{encoded}"),
            ),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
