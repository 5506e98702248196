//! Creating and editing an account on its form: role, scope and organisation, with a temporary
//! password shown once to the manager who set it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::{FieldError, Permission, Role, Scope};
use shegong_store::admin::audit::{self, Change};
use shegong_store::admin::users::{self, User};
use shegong_store::{Conn, StoreResult, admin::sessions, network::orgs};

use crate::admin::users::{
    CreateUser, ListQuery, create_user, grantable, manager, parse_access, status_of,
};
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::{Author, Done, Entry, WorkWith, write};
use crate::ui::i18n::Tr;
use crate::ui::list::FormErrors;

/// How long a temporary password waits to be shown after create or reset.
const ONE_TIME_TTL_MILLIS: i64 = 10 * 60_000;

/// Temporary passwords between the POST that made them and the page that shows them once
/// (Post/Redirect/Get: a reload must not re-submit the form, and the password must never travel
/// in a URL). Kept sealed in the database (`shared::keep_secret`), keyed by (the manager's session
/// hash, the target account's id), so the redirect may be answered by any instance; an entry
/// expires after ten minutes and is removed when shown.
async fn keep_secret(
    state: &AppState,
    session: &str,
    user_id: &str,
    secret: &str,
    now: i64,
) -> WebResult<()> {
    let mut tx = state.db.begin().await?;
    shegong_store::shared::keep_secret(
        &mut tx,
        &state.keys,
        session,
        user_id,
        secret,
        now + ONE_TIME_TTL_MILLIS,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The secret kept for this session and account, removed as it is read; `None` once expired.
async fn take_secret(
    state: &AppState,
    session: &str,
    user_id: &str,
    now: i64,
) -> WebResult<Option<String>> {
    let mut tx = state.db.begin().await?;
    let secret =
        shegong_store::shared::take_secret(&mut tx, &state.keys, session, user_id, now).await?;
    tx.commit().await?;
    Ok(secret)
}

#[derive(Deserialize, Default)]
pub struct UserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub org: String,
}

#[derive(Template)]
#[template(path = "admin/users/form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    /// `None` when creating.
    user: Option<User>,
    form: UserForm,
    errors: FormErrors,
    roles: Vec<(String, String)>,
    orgs: Vec<(String, String)>,
    status: String,
    is_self: bool,
    /// Shown once after create or reset.
    new_password: Option<String>,
    /// Two-factor state of the account shown ("enrolled", "required, not enrolled", …).
    twofactor: String,
    /// Whether this manager may reset the account's second factor (security administrators).
    can_reset_twofactor: bool,
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    user: Option<User>,
    form: UserForm,
    errors: Vec<FieldError>,
    new_password: Option<String>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = manager(ctx)?;
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let org_scope = Scope {
        region: u.scope().region,
        org: u.scope().org,
    };
    let orgs = orgs::list(&mut c, &org_scope)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let title = match &user {
        Some(x) => x.username.clone(),
        None => t.get("user.new").to_owned(),
    };
    let status = form_status(&errors);
    let is_self = user.as_ref().is_some_and(|x| x.id == u.user.id);
    let status_text = user
        .as_ref()
        .map(|x| status_of(&t, x, state.now()).0)
        .unwrap_or_default();
    drop(c);
    let twofactor = match &user {
        Some(x) => {
            let (enrolled, required) = crate::admin::twofactor_admin::status_of(state, x).await?;
            crate::admin::twofactor_admin::status_label(&t, enrolled, required)
        }
        None => String::new(),
    };
    Ok(page(
        status,
        &FormPage {
            t,
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.users"), "/admin/users"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            user,
            form,
            errors: FormErrors::new(t, errors),
            roles: grantable(u)
                .into_iter()
                .map(|r| (r.as_str().to_owned(), t.role(r.as_str())))
                .collect(),
            orgs,
            status: status_text,
            is_self,
            new_password,
            twofactor,
            can_reset_twofactor: u.role() == Role::SecurityAdmin && !is_self,
        },
    ))
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = manager(&ctx)?;
    let form = UserForm {
        region: u.user.region_code.clone(),
        ..Default::default()
    };
    form_page(&state, &ctx, None, form, vec![], None, None).await
}

/// Check every field of a new account at once, so the form shows all its problems together:
/// username (format, then whether it is free), display name, role, scope and organisation.
pub(super) async fn check_new(
    state: &AppState,
    u: &CurrentUser,
    f: &UserForm,
) -> WebResult<Result<(Role, Scope), Vec<FieldError>>> {
    let mut errors = Vec::new();
    let username = if f.username.trim().is_empty() {
        errors.push(FieldError::new("username", "form.required"));
        None
    } else {
        users::check_username(&f.username)
            .map_err(|e| errors.push(e))
            .ok()
    };
    if f.display_name.trim().is_empty() {
        errors.push(FieldError::new("display_name", "form.required"));
    } else if f.display_name.trim().chars().count() > 64 {
        errors.push(FieldError::new("display_name", "user.display_name_invalid"));
    }
    let access = parse_access(u, &f.role, &f.region, &f.org);
    let mut c = state.db.read().await?;
    if let Some(name) = username
        && users::username_taken(&mut c, &name).await?
    {
        errors.push(FieldError::new("username", "user.username_taken"));
    }
    match access {
        Ok((role, scope)) => match users::check_access(&mut c, role, &scope).await {
            Ok(()) if errors.is_empty() => Ok(Ok((role, scope))),
            Ok(()) => Ok(Err(errors)),
            Err(shegong_store::StoreError::Invalid(e)) => {
                errors.push(e);
                Ok(Err(errors))
            }
            Err(e) => Err(e.into()),
        },
        Err(more) => {
            errors.extend(more);
            Ok(Err(errors))
        }
    }
}

/// Check and create an account with a temporary password (the form's and the API's one path),
/// audited as `user`/`create`. Returns (id, the temporary password in clear, to show once);
/// `Ok(Err(errors))` names the fields.
pub(super) async fn save_new(
    state: &AppState,
    ctx: &Ctx,
    f: &UserForm,
) -> WebResult<Result<(String, String), Vec<FieldError>>> {
    let u = manager(ctx)?;
    let (role, scope) = match check_new(state, u, f).await? {
        Ok(v) => v,
        Err(errors) => return Ok(Err(errors)),
    };
    if let Err(errors) = org_visible(state, u, &scope).await? {
        return Ok(Err(errors));
    }
    let input = CreateUser {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        role,
        scope,
        password: None,
        temporary: true,
        is_demo: false,
    };
    match create_user(
        &state.db,
        &state.config.password,
        Author::User(ctx),
        input,
        state.now(),
    )
    .await
    {
        Ok(v) => Ok(Ok(v)),
        Err(WebError::Invalid(errors)) => Ok(Err(errors)),
        Err(e) => Err(e),
    }
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<UserForm>,
) -> WebResult<Response> {
    match save_new(&state, &ctx, &f).await? {
        Ok((id, temp)) => show_once(&state, &ctx, &id, temp, "notice.user_created").await,
        Err(errors) => form_page(&state, &ctx, None, f, errors, None, None).await,
    }
}

/// After a create or reset: keep the temporary password for this session and redirect to the
/// account's page, which shows it once (Post/Redirect/Get). Without a session (an API token)
/// there is nowhere to keep it, so the page is answered directly.
pub(super) async fn show_once(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    secret: String,
    notice: &'static str,
) -> WebResult<Response> {
    let u = manager(ctx)?;
    if let Some(session) = &u.session_hash {
        keep_secret(state, session, id, &secret, state.now()).await?;
        return Ok(Redirect::to(&format!("/admin/users/{id}?notice={notice}")).into_response());
    }
    let mut c = state.db.read().await?;
    let user = users::get(&mut c, &u.scope(), id).await?;
    drop(c);
    let form = form_of(&user);
    form_page(
        state,
        ctx,
        Some(user),
        form,
        vec![],
        Some(secret),
        Some(notice),
    )
    .await
}

/// An account's organisation must be one the manager can see (not just any existing id).
pub(super) async fn org_visible(
    state: &AppState,
    u: &CurrentUser,
    scope: &Scope,
) -> WebResult<Result<(), Vec<FieldError>>> {
    let Some(org) = scope.org else {
        return Ok(Ok(()));
    };
    let mut c = state.db.read().await?;
    match orgs::get(&mut c, &u.scope(), &org.to_string()).await {
        Ok(_) => Ok(Ok(())),
        Err(shegong_store::StoreError::NotFound) => {
            Ok(Err(vec![FieldError::new("org", "org.unknown")]))
        }
        Err(e) => Err(e.into()),
    }
}

fn form_of(x: &User) -> UserForm {
    UserForm {
        username: x.username.clone(),
        display_name: x.display_name.clone(),
        role: x.role.clone(),
        region: x.region_code.clone(),
        org: x.org_id.clone().unwrap_or_default(),
    }
}

/// The target account, if the manager may act on it (in scope, and of a role they may grant).
pub(super) async fn target(state: &AppState, u: &CurrentUser, id: &str) -> WebResult<User> {
    let mut c = state.db.read().await?;
    let x = users::get(&mut c, &u.scope(), id).await?;
    if !u.role().can_grant(x.role()) {
        return Err(WebError::Forbidden);
    }
    Ok(x)
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = manager(&ctx)?;
    let x = target(&state, u, &id).await?;
    let form = form_of(&x);
    // A temporary password waiting for this manager's session is shown now, and only now.
    let secret = match u.session_hash.as_deref() {
        Some(s) => take_secret(&state, s, &x.id, state.now()).await?,
        None => None,
    };
    form_page(
        &state,
        &ctx,
        Some(x),
        form,
        vec![],
        secret,
        q.notice.as_deref(),
    )
    .await
}

/// Change an account's name, role and scope, as audit changes. A change of role or scope ends
/// the account's sessions: new rights apply from the next login.
async fn update_access(
    conn: &mut Conn,
    manager_scope: &Scope,
    id: &str,
    display_name: &str,
    role: Role,
    scope: &Scope,
    now: i64,
) -> StoreResult<Vec<Change>> {
    let before =
        users::update_access(conn, manager_scope, id, display_name, role, scope, now).await?;
    let changes = audit::diff(&[
        (
            "display_name",
            Some(before.display_name.clone()),
            Some(display_name.trim().to_owned()),
        ),
        (
            "role",
            Some(before.role.clone()),
            Some(role.as_str().to_owned()),
        ),
        (
            "region",
            Some(before.region_code.clone()),
            Some(scope.prefix().to_owned()),
        ),
        (
            "org",
            before.org_id.clone(),
            scope.org.map(|o| o.to_string()),
        ),
    ]);
    if before.role != role.as_str()
        || before.region_code != scope.prefix()
        || before.org_id != scope.org.map(|o| o.to_string())
    {
        sessions::delete_for_user(conn, id).await?;
    }
    Ok(changes)
}

/// Check and save an account's name, role and scope (the form's and the API's one path): the
/// target in the manager's scope and of a role they may grant, the access they may give, an
/// organisation they can see, no change of one's own role or scope; audited as `user`/`update`.
/// `Ok(Err(errors))` names the fields.
pub(super) async fn save_update(
    state: &AppState,
    ctx: &Ctx,
    x: &User,
    f: &UserForm,
) -> WebResult<Result<(), Vec<FieldError>>> {
    let u = manager(ctx)?;
    let (role, scope) = match parse_access(u, &f.role, &f.region, &f.org) {
        Ok(v) => v,
        Err(errors) => return Ok(Err(errors)),
    };
    if let Err(errors) = org_visible(state, u, &scope).await? {
        return Ok(Err(errors));
    }
    if x.id == u.user.id && (role != x.role() || scope.prefix() != x.region_code) {
        return Ok(Err(vec![FieldError::new(
            "role",
            "user.cannot_change_self",
        )]));
    }
    let (account, name, new_scope, now) = (
        x.id.clone(),
        f.display_name.clone(),
        scope.clone(),
        state.now(),
    );
    let written = write(
        state,
        ctx,
        Entry::new("user", "update").requiring(Permission::ManageUsers),
        move |conn, manager_scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let changes =
                    update_access(conn, &manager_scope, &account, &name, role, &new_scope, now)
                        .await?;
                let done = Done {
                    entity_id: account,
                    region: Some(new_scope.prefix().to_owned()),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await?;
    Ok(written.map_err(|e| vec![e]))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<UserForm>,
) -> WebResult<Response> {
    let u = manager(&ctx)?;
    let x = target(&state, u, &id).await?;
    if let Err(errors) = save_update(&state, &ctx, &x, &f).await? {
        return form_page(&state, &ctx, Some(x), f, errors, None, None).await;
    }
    Ok(Redirect::to(&format!("/admin/users/{id}?notice=notice.saved")).into_response())
}
