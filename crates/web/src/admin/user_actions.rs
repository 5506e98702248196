//! Actions on one account from its page: disable and enable, unlock, grant or revoke access to
//! protected records, reset the password or the second factor. Each is audited.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::{FieldError, Permission, Role, Scope, admin::password};
use shegong_store::admin::audit::Change;
use shegong_store::admin::sessions;
use shegong_store::admin::users::{self, User};
use shegong_store::{Conn, StoreResult};

use crate::admin::account::hash_password;
use crate::admin::user_form::{show_once, target};
use crate::admin::users::manager;
use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};

/// An action on an account's page; its name is the audit entry's action.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Disable,
    Enable,
    Unlock,
    GrantProtected,
    RevokeProtected,
    ResetPassword,
}

impl Action {
    pub(super) const fn name(self) -> &'static str {
        match self {
            Action::Disable => "disable",
            Action::Enable => "enable",
            Action::Unlock => "unlock",
            Action::GrantProtected => "grant_protected",
            Action::RevokeProtected => "revoke_protected",
            Action::ResetPassword => "reset_password",
        }
    }
}

/// What an action does in the transaction. A reset carries the new password's hash, made before
/// the transaction opens because hashing is slow.
enum Step {
    Disabled(bool),
    SeesProtected(bool),
    Unlock,
    Password { hash: String },
}

async fn set_state(state: &AppState, ctx: &Ctx, id: &str, action: Action) -> WebResult<Response> {
    match perform(state, ctx, id, action).await? {
        Some(clear) => show_once(state, ctx, id, clear, "notice.password_reset").await,
        None => Ok(Redirect::to(&format!("/admin/users/{id}?notice=notice.saved")).into_response()),
    }
}

/// Check and apply `action` to account `id` with its audit entry (the page's and the API's one
/// path); a password reset returns the new temporary password in clear, to show once.
pub(super) async fn perform(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> WebResult<Option<String>> {
    let u = manager(ctx)?;
    let x = target(state, u, id).await?;
    if x.id == u.user.id && action != Action::ResetPassword {
        return Err(FieldError::new("user", "user.cannot_change_self").into());
    }
    if matches!(action, Action::GrantProtected | Action::RevokeProtected) && !x.role().is_business()
    {
        return Err(FieldError::new("role", "user.protected_business_only").into());
    }
    let mut clear = None;
    let step = match action {
        Action::Disable => Step::Disabled(true),
        Action::Enable => Step::Disabled(false),
        Action::Unlock => Step::Unlock,
        Action::GrantProtected => Step::SeesProtected(true),
        Action::RevokeProtected => Step::SeesProtected(false),
        Action::ResetPassword => {
            let temporary = password::temporary();
            let hash = hash_password(temporary.clone()).await?;
            clear = Some(temporary);
            Step::Password { hash }
        }
    };
    let (id_owned, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("user", action.name()).requiring(Permission::ManageUsers),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let changes = apply(conn, &scope, &x, step, now).await?;
                let done = Done {
                    entity_id: id_owned,
                    region: Some(x.region_code),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await?;
    Ok(clear)
}

/// What `step` changes on account `x`, as audit changes.
async fn apply(
    conn: &mut Conn,
    scope: &Scope,
    x: &User,
    step: Step,
    now: i64,
) -> StoreResult<Vec<Change>> {
    let id = x.id.as_str();
    Ok(match step {
        Step::Disabled(disabled) => {
            users::set_disabled(conn, scope, id, disabled, now).await?;
            if disabled {
                sessions::delete_for_user(conn, id).await?;
            }
            vec![Change::new(
                "disabled",
                Some(x.is_disabled()),
                Some(disabled),
            )]
        }
        Step::SeesProtected(grant) => {
            users::set_sees_protected(conn, scope, id, grant, now).await?;
            vec![Change::new(
                "sees_protected",
                Some(x.sees_protected == 1),
                Some(grant),
            )]
        }
        Step::Unlock => {
            users::set_disabled(conn, scope, id, x.is_disabled(), now).await?;
            vec![Change::new("locked_until", x.locked_until, None::<i64>)]
        }
        Step::Password { hash } => {
            users::set_password(conn, scope, id, &hash, true, now).await?;
            sessions::delete_for_user(conn, id).await?;
            shegong_store::admin::tokens::revoke_all(conn, id, now).await?;
            vec![Change::redacted("password")]
        }
    })
}

pub async fn disable(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, Action::Disable).await
}

pub async fn enable(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, Action::Enable).await
}

pub async fn unlock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, Action::Unlock).await
}

/// Give an account the explicit grant to open protected files (children under 14, abuse and
/// violence) it does not itself work on; or take it away. Audited like every account change.
pub async fn grant_protected(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, Action::GrantProtected).await
}

pub async fn revoke_protected(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, Action::RevokeProtected).await
}

pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    set_state(&state, &ctx, &id, Action::ResetPassword).await
}

/// Reset an account's second factor (lost phone, used-up recovery codes): a security
/// administrator's action, audited. The account's sessions end and, where a second factor is
/// required, its next sign-in goes through enrolment again.
pub async fn reset_twofactor(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    reset_twofactor_of(&state, &ctx, &id).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?notice=notice.twofactor_reset")).into_response())
}

/// Check and reset account `id`'s second factor with its audit entry (the page's and the API's
/// one path): security administrators only, never their own.
pub(super) async fn reset_twofactor_of(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<()> {
    let u = manager(ctx)?;
    if u.role() != Role::SecurityAdmin {
        return Err(WebError::Forbidden);
    }
    let x = target(state, u, id).await?;
    if x.id == u.user.id {
        return Err(FieldError::new("user", "user.cannot_change_self").into());
    }
    let account = id.to_owned();
    write_or_invalid(
        state,
        ctx,
        Entry::new("user", "twofactor_reset").requiring(Permission::ManageUsers),
        move |conn, _, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let had = shegong_store::admin::twofactor::remove(conn, &account).await?;
                sessions::delete_for_user(conn, &account).await?;
                let done = Done {
                    entity_id: account,
                    region: Some(x.region_code),
                    changes: vec![Change::new(
                        "twofactor",
                        had.then_some("totp"),
                        None::<String>,
                    )],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}
