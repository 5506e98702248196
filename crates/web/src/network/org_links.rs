//! Links between organisations (`/orgs/{id}/links`, `/api/v1/organizations/{id}/links`): an
//! organisation tied to a provider (same legal person, parent and subsidiary, shared managers)
//! may not evaluate that provider's contracts. The other organisation is named by its USCC (or
//! its id in the API), since it may be registered anywhere.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_domain::network::org::LinkKind;
use shegong_store::admin::audit::Change;
use shegong_store::network::org_links::{self, OrgLink};
use shegong_store::network::orgs::{self, Org};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, rfc3339};

/// Link `org` to `other` (an id) with audit.
pub async fn link(
    state: &AppState,
    ctx: &Ctx,
    org: &str,
    other: &str,
    kind: LinkKind,
    note: String,
) -> WebResult<()> {
    writer(ctx)?;
    let (org, other, now) = (org.to_owned(), other.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("org_link", "create"),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let link = org_links::NewLink {
                    other: &other,
                    kind,
                    note: &note,
                };
                org_links::link(conn, &scope, &org, &link, &by, now).await?;
                let region = orgs::get(conn, &scope, &org).await?.region_code;
                let done = Done {
                    entity_id: org,
                    region: Some(region),
                    changes: vec![
                        Change::new("linked_org_id", None::<String>, Some(other)),
                        Change::new("kind", None::<String>, Some(kind)),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Remove the link between `org` and `other` with audit.
pub async fn unlink(state: &AppState, ctx: &Ctx, org: &str, other: &str) -> WebResult<()> {
    writer(ctx)?;
    let (org, other) = (org.to_owned(), other.to_owned());
    write_or_invalid(
        state,
        ctx,
        Entry::new("org_link", "delete"),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let was = org_links::unlink(conn, &scope, &org, &other).await?;
                let region = orgs::get(conn, &scope, &org).await?.region_code;
                let done = Done {
                    entity_id: org,
                    region: Some(region),
                    changes: vec![
                        Change::new("linked_org_id", Some(other), None::<String>),
                        Change::new("kind", Some(was.kind), None::<String>),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// The other organisation from what was typed: an id (API) or a USCC.
async fn other_org(state: &AppState, id: &str, uscc: &str) -> WebResult<String> {
    if !id.trim().is_empty() {
        return Ok(id.trim().to_owned());
    }
    if uscc.trim().is_empty() {
        return Err(FieldError::new("linked_uscc", "org.link_unknown").into());
    }
    let mut c = state.db.read().await?;
    org_links::find_by_uscc(&mut c, uscc)
        .await?
        .map(|(id, _)| id)
        .ok_or_else(|| FieldError::new("linked_uscc", "org.link_unknown").into())
}

fn kind(text: &str) -> Result<LinkKind, FieldError> {
    LinkKind::parse(if text.trim().is_empty() {
        "other"
    } else {
        text
    })
}

#[derive(Template)]
#[template(path = "network/orgs/links.html")]
struct LinksPage {
    t: Tr,
    base: Base,
    org: Org,
    links: Vec<OrgLink>,
    kinds: Vec<(String, String)>,
    f: FormData,
    errors: FormErrors,
}

async fn links_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    f: FormData,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (org, links) = {
        let mut c = state.db.read().await?;
        let org = orgs::get(&mut c, &u.scope(), id).await?;
        let links = org_links::links_of(&mut c, &u.scope(), id).await?;
        (org, links)
    };
    let title = format!("{} · {}", org.name, t.get("org.links"));
    let status = form_status(&errors);
    Ok(page(
        status,
        &LinksPage {
            t,
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.orgs"), "/orgs"),
                    Crumb::link(org.name.clone(), format!("/orgs/{id}")),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            kinds: LinkKind::ALL
                .iter()
                .map(|k| {
                    (
                        k.to_string(),
                        t.get(&format!("org.link_kind.{k}")).to_owned(),
                    )
                })
                .collect(),
            org,
            links,
            f,
            errors: FormErrors::new(t, errors),
        },
    ))
}

pub async fn page_links(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    links_page(
        &state,
        &ctx,
        &id,
        FormData::new(vec![]),
        vec![],
        q.notice.as_deref(),
    )
    .await
}

pub async fn page_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = async {
        let other = other_org(&state, "", f.get("linked_uscc")).await?;
        link(
            &state,
            &ctx,
            &id,
            &other,
            kind(f.get("kind"))?,
            f.get("note").to_owned(),
        )
        .await
    }
    .await;
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/orgs/{id}/links?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => links_page(&state, &ctx, &id, f, errors, None).await,
        Err(e) => Err(e),
    }
}

pub async fn page_unlink(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, other)): Path<(String, String)>,
) -> WebResult<Response> {
    unlink(&state, &ctx, &id, &other).await?;
    Ok(Redirect::to(&format!("/orgs/{id}/links?notice=notice.saved")).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct OrgLinkDto {
    /// The other organisation.
    pub org_id: String,
    pub name: String,
    pub uscc: Option<String>,
    /// `same_legal_person`, `parent_subsidiary`, `shared_management` or `other`.
    pub kind: String,
    pub note: String,
    pub created_at: String,
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<Vec<OrgLinkDto>> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(org_links::links_of(&mut c, &u.scope(), id)
        .await?
        .into_iter()
        .map(|l| OrgLinkDto {
            org_id: l.org_id,
            name: l.name,
            uscc: l.uscc,
            kind: l.kind.to_string(),
            note: l.note,
            created_at: rfc3339(l.created_at),
        })
        .collect())
}

/// The organisations this one is linked to; an evaluator organisation linked to a provider
/// may not evaluate the provider's contracts.
#[utoipa::path(get, path = "/api/v1/organizations/{id}/links", tag = "organizations", params(("id" = String, Path)),
    responses((status = 200, body = Vec<OrgLinkDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_links(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<OrgLinkDto>>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"linked_org_id": "0190f1c2-0000-7000-8000-000000000001", "kind": "same_legal_person", "note": "同一法定代表人"}))]
pub struct LinkBody {
    /// The other organisation's id …
    #[serde(default)]
    pub linked_org_id: String,
    /// … or its Unified Social Credit Code.
    #[serde(default)]
    pub linked_uscc: String,
    /// `same_legal_person`, `parent_subsidiary`, `shared_management` or `other` (default).
    #[serde(default)]
    #[schema(schema_with = crate::http::api::code::org_link_kind)]
    pub kind: String,
    #[serde(default)]
    pub note: String,
}

/// Link this organisation (registered in the caller's scope) to another.
#[utoipa::path(post, path = "/api/v1/organizations/{id}/links", tag = "organizations", params(("id" = String, Path)),
    request_body = LinkBody,
    responses((status = 201, body = Vec<OrgLinkDto>), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Unknown other organisation, itself, or already linked")))]
pub async fn api_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<LinkBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let other = other_org(&state, &body.linked_org_id, &body.linked_uscc).await?;
    link(&state, &ctx, &id, &other, kind(&body.kind)?, body.note).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

/// Remove the link between two organisations.
#[utoipa::path(delete, path = "/api/v1/organizations/{id}/links/{other}", tag = "organizations",
    params(("id" = String, Path), ("other" = String, Path)),
    responses((status = 200, body = Vec<OrgLinkDto>), (status = 404, description = "No such link in the caller's scope")))]
pub async fn api_unlink(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, other)): Path<(String, String)>,
) -> WebResult<Json<Vec<OrgLinkDto>>> {
    unlink(&state, &ctx, &id, &other).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}
