//! Account administration by API (issue 19 item 5): every change the users pages make, with the
//! same checks, scope, permission and audit entry, through the same functions (`save_new`,
//! `save_update`, `perform`, `reset_twofactor_of`, `require`, `unrequire`). A temporary password
//! (a new account, a reset) is in the response once, as the page shows it once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::{FieldError, Role};
use shegong_store::admin::users;
use utoipa::ToSchema;

use crate::admin::twofactor_admin::{require, unrequire};
use crate::admin::user_actions::{Action, perform, reset_twofactor_of};
use crate::admin::user_form::{UserForm, save_new, save_update, target};
use crate::admin::users::{UserDto, dto, manager};
use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;

fn roles() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(Role::ALL.iter().map(|r| r.as_str()))
}

/// A new account: it gets a temporary password, to change at first sign-in.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"username": "zhang.wei", "display_name": "张伟", "role": "social_worker",
    "region": "430203001"}))]
pub struct NewUserBody {
    /// 3–32 letters, digits, `.`, `_` or `-` (kept in lower case).
    #[schema(min_length = 3, max_length = 32)]
    pub username: String,
    #[schema(min_length = 1, max_length = 64)]
    pub display_name: String,
    /// A role the caller may grant.
    #[schema(schema_with = roles)]
    pub role: String,
    /// The scope's region code, inside the caller's; empty for the whole country (national
    /// managers only).
    #[serde(default)]
    pub region: String,
    /// The organisation of the scope (agency managers need one), one the caller can see.
    #[serde(default)]
    pub org_id: Option<String>,
}

/// An account's name, role and scope. A change of role or scope ends its sessions.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"display_name": "张伟", "role": "social_worker", "region": "430203001"}))]
pub struct UserBody {
    #[schema(min_length = 1, max_length = 64)]
    pub display_name: String,
    /// A role the caller may grant.
    #[schema(schema_with = roles)]
    pub role: String,
    /// The scope's region code, inside the caller's; empty for the whole country (national
    /// managers only).
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub org_id: Option<String>,
}

/// An account and its temporary password, shown this once.
#[derive(Serialize, ToSchema)]
pub struct UserWithPassword {
    pub user: UserDto,
    /// To hand to the account's owner, who must change it at first sign-in. Not shown again.
    pub temporary_password: String,
}

/// A region where a second factor is required (its subtree).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region": "430203"}))]
pub struct TwofactorRegionBody {
    /// A region code inside the caller's scope; empty for the whole country.
    #[serde(default)]
    pub region: String,
}

async fn account(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<UserDto> {
    let u = manager(ctx)?;
    let mut c = state.db.read().await?;
    Ok(dto(users::get(&mut c, &u.scope(), id).await?, state.now()))
}

/// Create an account with a temporary password (returned once).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserBody,
    responses((status = 201, body = UserWithPassword), (status = 403, description = "Not an account manager"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<NewUserBody>,
) -> WebResult<Response> {
    let form = UserForm {
        username: b.username,
        display_name: b.display_name,
        role: b.role,
        region: b.region,
        org: b.org_id.unwrap_or_default(),
    };
    let (id, temporary_password) = save_new(&state, &ctx, &form)
        .await?
        .map_err(WebError::Invalid)?;
    let user = account(&state, &ctx, &id).await?;
    let body = UserWithPassword {
        user,
        temporary_password,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Change an account's name, role and scope (not one's own role or scope).
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserBody,
    responses((status = 200, body = UserDto), (status = 403, description = "Not an account manager, or an account of a role the caller may not grant"),
        (status = 404, description = "Unknown or outside the caller's scope"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<UserBody>,
) -> WebResult<Json<UserDto>> {
    let u = manager(&ctx)?;
    let x = target(&state, u, &id).await?;
    let form = UserForm {
        username: x.username.clone(),
        display_name: b.display_name,
        role: b.role,
        region: b.region,
        org: b.org_id.unwrap_or_default(),
    };
    save_update(&state, &ctx, &x, &form)
        .await?
        .map_err(WebError::Invalid)?;
    Ok(Json(account(&state, &ctx, &id).await?))
}

async fn act(state: &AppState, ctx: &Ctx, id: &str, action: Action) -> WebResult<Json<UserDto>> {
    perform(state, ctx, id, action).await?;
    Ok(Json(account(state, ctx, id).await?))
}

macro_rules! user_action {
    ($name:ident, $action:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "users", params(("id" = String, Path)),
            responses((status = 200, body = UserDto),
                (status = 403, description = "Not an account manager, or an account of a role the caller may not grant"),
                (status = 404, description = "Unknown or outside the caller's scope"),
                (status = 422, description = "Not possible for this account (`user`: one's own; `role`: not a business role)")))]
        pub async fn $name(
            State(state): State<AppState>,
            ctx: Ctx,
            Path(id): Path<String>,
        ) -> WebResult<Json<UserDto>> {
            act(&state, &ctx, &id, $action).await
        }
    };
}

user_action!(
    api_disable,
    Action::Disable,
    "/api/v1/users/{id}/disable",
    "Disable an account (its sessions end)."
);
user_action!(
    api_enable,
    Action::Enable,
    "/api/v1/users/{id}/enable",
    "Enable a disabled account."
);
user_action!(
    api_unlock,
    Action::Unlock,
    "/api/v1/users/{id}/unlock",
    "Unlock an account locked after failed sign-ins."
);
user_action!(
    api_grant_protected,
    Action::GrantProtected,
    "/api/v1/users/{id}/grant-protected",
    "Let a business account open protected files (children under 14, abuse and violence) it does not work on."
);
user_action!(
    api_revoke_protected,
    Action::RevokeProtected,
    "/api/v1/users/{id}/revoke-protected",
    "Take back the grant to open protected files."
);

/// Reset an account's password to a temporary one (returned once); its sessions and API
/// tokens end.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserWithPassword),
        (status = 403, description = "Not an account manager, or an account of a role the caller may not grant"),
        (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<UserWithPassword>> {
    let clear = perform(&state, &ctx, &id, Action::ResetPassword).await?;
    let temporary_password = clear.ok_or(WebError::Internal(anyhow::anyhow!(
        "a password reset returns the password"
    )))?;
    Ok(Json(UserWithPassword {
        user: account(&state, &ctx, &id).await?,
        temporary_password,
    }))
}

/// Remove an account's second factor (security administrators; not their own): its sessions
/// end and, where a second factor is required, it enrols again at its next sign-in.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-twofactor", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserDto), (status = 403, description = "Not a security administrator"),
        (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "`user`: one's own account")))]
pub async fn api_reset_twofactor(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<UserDto>> {
    reset_twofactor_of(&state, &ctx, &id).await?;
    Ok(Json(account(&state, &ctx, &id).await?))
}

/// Require a second factor for every account in a region's subtree (security administrators);
/// accounts there that have not enrolled are signed out. Nothing changes when already required.
#[utoipa::path(post, path = "/api/v1/twofactor/required-regions", tag = "users", request_body = TwofactorRegionBody,
    responses((status = 204, description = "Required"), (status = 403, description = "Not a security administrator"),
        (status = 422, description = "`region`: unknown or outside the caller's scope")))]
pub async fn api_require_twofactor(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<TwofactorRegionBody>,
) -> WebResult<StatusCode> {
    require(&state, &ctx, &b.region)
        .await?
        .map_err(|key| WebError::Invalid(vec![FieldError::new("region", key)]))?;
    Ok(StatusCode::NO_CONTENT)
}

/// No longer require a second factor in a region (security administrators). Nothing changes
/// when it was not required.
#[utoipa::path(post, path = "/api/v1/twofactor/required-regions/remove", tag = "users", request_body = TwofactorRegionBody,
    responses((status = 204, description = "No longer required"), (status = 403, description = "Not a security administrator"),
        (status = 404, description = "Outside the caller's scope"), (status = 422, description = "`region`: not a region code")))]
pub async fn api_unrequire_twofactor(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<TwofactorRegionBody>,
) -> WebResult<StatusCode> {
    unrequire(&state, &ctx, &b.region).await?;
    Ok(StatusCode::NO_CONTENT)
}
