//! Where a second factor is required (`/admin/twofactor`, security administrators): regions
//! whose accounts must enrol, and the enrolment status shown on the users list.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::{Permission, Role, Scope};
use shegong_store::admin::audit::Change;
use shegong_store::admin::twofactor::{self as store};
use shegong_store::{admin::users, network::regions};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, MaybeWork, write_or_skip};
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;

struct RequirementRow {
    code: String,
    label: String,
    set_at: String,
}

#[derive(Template)]
#[template(path = "admin/twofactor_admin.html")]
struct AdminPage {
    t: Tr,
    base: Base,
    rows: Vec<RequirementRow>,
    region: String,
    error: Option<String>,
}

fn security_admin(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    if u.role() != Role::SecurityAdmin {
        return Err(WebError::Forbidden);
    }
    Ok(u)
}

async fn admin_view(
    state: &AppState,
    ctx: &Ctx,
    region: String,
    error: Option<String>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = security_admin(ctx)?;
    let t = ctx.tr();
    let scope = u.scope();
    let rows = {
        let mut c = state.db.read().await?;
        let all = store::required_regions(&mut c).await?;
        let codes: Vec<&str> = all.iter().map(|r| r.region_code.as_str()).collect();
        let names = regions::display_paths(&mut c, &codes).await?;
        all.iter()
            .filter(|r| scope.contains_region(&r.region_code))
            .map(|r| RequirementRow {
                code: r.region_code.clone(),
                label: if r.region_code.is_empty() {
                    t.get("scope.national").to_owned()
                } else {
                    names
                        .get(&r.region_code)
                        .cloned()
                        .unwrap_or_else(|| r.region_code.clone())
                },
                set_at: t.datetime(r.set_at),
            })
            .collect()
    };
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &AdminPage {
            t,
            base: Base::new(
                ctx,
                t.get("twofactor.admin_title"),
                vec![
                    Crumb::link(t.get("menu.users"), "/admin/users"),
                    Crumb::here(t.get("twofactor.admin_title")),
                ],
            )
            .with_notice(&t, notice),
            rows,
            region,
            error,
        },
    ))
}

pub async fn admin_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let region = security_admin(&ctx)?.user.region_code.clone();
    admin_view(&state, &ctx, region, None, q.notice.as_deref()).await
}

#[derive(Deserialize)]
pub struct RegionForm {
    #[serde(default)]
    region: String,
}

/// The region of a form, checked: a known region inside the administrator's scope. The error
/// names the field.
async fn region_of(
    state: &AppState,
    u: &CurrentUser,
    raw: &str,
) -> WebResult<Result<String, &'static str>> {
    let code = match Scope::parse_region(raw) {
        Ok(Some(c)) => c.as_str().to_owned(),
        Ok(None) => String::new(),
        Err(_) => return Ok(Err("twofactor.region_invalid")),
    };
    let scope = u.scope();
    if !scope.contains_region(&code) {
        return Ok(Err("twofactor.region_outside"));
    }
    if !code.is_empty() {
        let mut c = state.db.read().await?;
        match regions::get(&mut c, &scope, &code).await {
            Ok(_) => {}
            Err(shegong_store::StoreError::NotFound) => return Ok(Err("twofactor.region_invalid")),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Ok(code))
}

/// Require a second factor for every account in a region's subtree; accounts there that have
/// not enrolled are signed out and enrol at their next sign-in. Audited.
pub async fn admin_require(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RegionForm>,
) -> WebResult<Response> {
    let t = ctx.tr();
    if let Err(key) = require(&state, &ctx, &f.region).await? {
        return admin_view(
            &state,
            &ctx,
            f.region.clone(),
            Some(t.get(key).to_owned()),
            None,
        )
        .await;
    }
    Ok(Redirect::to("/admin/twofactor?notice=notice.saved").into_response())
}

/// Check the region and require a second factor there (the page's and the API's one path);
/// `Ok(Err(key))` for a region that is unknown or outside the administrator's scope.
pub(super) async fn require(
    state: &AppState,
    ctx: &Ctx,
    raw: &str,
) -> WebResult<Result<(), &'static str>> {
    let u = security_admin(ctx)?;
    let code = match region_of(state, u, raw).await? {
        Ok(c) => c,
        Err(key) => return Ok(Err(key)),
    };
    let (set_by, now) = (u.user.id.clone(), state.now());
    write_or_skip(
        state,
        ctx,
        Entry::new("region", "twofactor_require").requiring(Permission::ManageUsers),
        move |conn, _, _| -> MaybeWork<'_, ()> {
            Box::pin(async move {
                // Already required: nothing to change.
                let done = store::require_region(conn, &code, &set_by, now)
                    .await?
                    .map(|ended| Done {
                        entity_id: code.clone(),
                        region: Some(code.clone()),
                        changes: vec![
                            Change::new("twofactor_required", Some(false), Some(true)),
                            Change::new("sessions_ended", None::<i64>, Some(ended as i64)),
                        ],
                    });
                Ok((done, ()))
            })
        },
    )
    .await?
    .map_err(|e| WebError::Invalid(vec![e]))?;
    Ok(Ok(()))
}

pub async fn admin_unrequire(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RegionForm>,
) -> WebResult<Response> {
    unrequire(&state, &ctx, &f.region).await?;
    Ok(Redirect::to("/admin/twofactor?notice=notice.saved").into_response())
}

/// No longer require a second factor in a region (the page's and the API's one path): a region
/// outside the administrator's scope is not found.
pub(super) async fn unrequire(state: &AppState, ctx: &Ctx, raw: &str) -> WebResult<()> {
    let u = security_admin(ctx)?;
    let code = match Scope::parse_region(raw) {
        Ok(Some(c)) => c.as_str().to_owned(),
        Ok(None) => String::new(),
        Err(e) => return Err(e.into()),
    };
    if !u.scope().contains_region(&code) {
        return Err(WebError::NotFound);
    }
    write_or_skip(
        state,
        ctx,
        Entry::new("region", "twofactor_unrequire").requiring(Permission::ManageUsers),
        move |conn, _, _| -> MaybeWork<'_, ()> {
            Box::pin(async move {
                // Not required: nothing to change.
                let removed = store::unrequire_region(conn, &code).await?;
                let done = removed.then(|| Done {
                    entity_id: code.clone(),
                    region: Some(code.clone()),
                    changes: vec![Change::new("twofactor_required", Some(true), Some(false))],
                });
                Ok((done, ()))
            })
        },
    )
    .await?
    .map_err(|e| WebError::Invalid(vec![e]))?;
    Ok(())
}

/// For the user page: whether the account has a second factor and whether it must.
pub(crate) async fn status_of(state: &AppState, u: &users::User) -> WebResult<(bool, bool)> {
    let mut c = state.db.read().await?;
    let enrolled = store::is_enrolled(&mut c, &u.id).await?;
    let required = store::required_for(
        &mut c,
        state.config.twofactor_for_administrators,
        u.role(),
        &u.region_code,
    )
    .await?;
    Ok((enrolled, required))
}

/// A label for a user page ("enrolled", "required, not enrolled", …).
pub(crate) fn status_label(t: &Tr, enrolled: bool, required: bool) -> String {
    t.get(match (enrolled, required) {
        (true, _) => "twofactor.status_enrolled",
        (false, true) => "twofactor.status_required",
        (false, false) => "twofactor.status_off",
    })
    .to_owned()
}
