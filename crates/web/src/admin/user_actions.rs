//! Actions on one account from its page: disable and enable, unlock, grant or revoke access to
//! protected records, reset the password or the second factor. Each is audited.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::{FieldError, Role, admin::password};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::admin::sessions;
use shegong_store::admin::users;

use crate::admin::account::hash_password;
use crate::admin::user_form::{show_once, target};
use crate::admin::users::manager;
use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;

async fn set_state(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &'static str,
) -> WebResult<Response> {
    let u = manager(ctx)?;
    let x = target(state, u, id).await?;
    if x.id == u.user.id && action != "reset_password" {
        return Err(FieldError::new("user", "user.cannot_change_self").into());
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let mut temp = None;
    let changes = match action {
        "disable" | "enable" => {
            let disabled = action == "disable";
            users::set_disabled(&mut tx, &u.scope(), id, disabled, now).await?;
            if disabled {
                sessions::delete_for_user(&mut tx, id).await?;
            }
            vec![Change::new(
                "disabled",
                Some(x.is_disabled()),
                Some(disabled),
            )]
        }
        "grant_protected" | "revoke_protected" => {
            let grant = action == "grant_protected";
            if !x.role().is_business() {
                return Err(FieldError::new("role", "user.protected_business_only").into());
            }
            users::set_sees_protected(&mut tx, &u.scope(), id, grant, now).await?;
            vec![Change::new(
                "sees_protected",
                Some(x.sees_protected == 1),
                Some(grant),
            )]
        }
        "unlock" => {
            users::set_disabled(&mut tx, &u.scope(), id, x.is_disabled(), now).await?;
            vec![Change::new("locked_until", x.locked_until, None::<i64>)]
        }
        _ => {
            let clear = password::temporary();
            let hash = hash_password(clear.clone()).await?;
            users::set_password(&mut tx, &u.scope(), id, &hash, true, now).await?;
            sessions::delete_for_user(&mut tx, id).await?;
            shegong_store::admin::tokens::revoke_all(&mut tx, id, now).await?;
            temp = Some(clear);
            vec![Change::redacted("password")]
        }
    };
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new(action, "user", Some(id.to_owned()))
            .region(x.region_code.clone())
            .changes(changes),
        now,
    )
    .await?;
    tx.commit().await?;
    match temp {
        Some(clear) => show_once(state, ctx, id, clear, "notice.password_reset").await,
        None => Ok(Redirect::to(&format!("/admin/users/{id}?notice=notice.saved")).into_response()),
    }
}

pub async fn disable(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, "disable").await
}

pub async fn enable(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, "enable").await
}

pub async fn unlock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, "unlock").await
}

/// Give an account the explicit grant to open protected files (children under 14, abuse and
/// violence) it does not itself work on; or take it away. Audited like every account change.
pub async fn grant_protected(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, "grant_protected").await
}

pub async fn revoke_protected(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, "revoke_protected").await
}

pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, "reset_password").await
}

/// Reset an account's second factor (lost phone, used-up recovery codes): a security
/// administrator's action, audited. The account's sessions end and, where a second factor is
/// required, its next sign-in goes through enrolment again.
pub async fn reset_twofactor(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = manager(&ctx)?;
    if u.role() != Role::SecurityAdmin {
        return Err(WebError::Forbidden);
    }
    let x = target(&state, u, &id).await?;
    if x.id == u.user.id {
        return Err(FieldError::new("user", "user.cannot_change_self").into());
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let had = shegong_store::admin::twofactor::remove(&mut tx, &id).await?;
    sessions::delete_for_user(&mut tx, &id).await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("twofactor_reset", "user", Some(id.clone()))
            .region(x.region_code.clone())
            .changes(vec![Change::new(
                "twofactor",
                had.then_some("totp"),
                None::<String>,
            )]),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?notice=notice.twofactor_reset")).into_response())
}
