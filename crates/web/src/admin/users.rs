//! Account management: a scoped list with filters and Excel export, create, edit role and scope,
//! disable/enable, unlock and reset password; `GET /api/v1/users`. A manager acts only on
//! accounts inside their own scope and grants only roles their own role allows.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::{FieldError, Permission, Role, Scope, admin::password};
use shegong_store::admin::audit::{self, Actor, Change, Event};
use shegong_store::admin::users::{self, Filter, NewUser, Sort, User};
use shegong_store::sql::Sql;
use shegong_store::{Db, PageRequest, admin::sessions, network::orgs};
use utoipa::{IntoParams, ToSchema};

use crate::admin::account::hash_password;
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page, scope_label};
use crate::http::state::AppState;
use crate::ui::excel::{self, Cell};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, pager, rfc3339};

/// What creating an account needs, from a form or the command line.
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    /// `None`: generate a temporary password.
    pub password: Option<String>,
    /// Must change at first login.
    pub temporary: bool,
    pub is_demo: bool,
}

/// Create an account with its audit entry. Returns (id, the password in clear, shown once).
pub async fn create_user(
    db: &Db,
    policy: &password::PasswordPolicy,
    actor: &Actor,
    input: CreateUser,
    now: i64,
) -> WebResult<(String, String)> {
    let clear = match input.password {
        Some(p) => {
            policy.check(&p, &input.username)?;
            p
        }
        None => password::temporary(),
    };
    let hash = hash_password(clear.clone()).await?;
    let mut tx = db.begin().await?;
    let id = users::create(
        &mut tx,
        &NewUser {
            username: input.username.clone(),
            display_name: input.display_name.clone(),
            role: input.role,
            scope: input.scope.clone(),
            password_hash: hash,
            must_change_password: input.temporary,
            is_demo: input.is_demo,
        },
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        db.backend(),
        actor,
        Event::new("create", "user", Some(id.clone()))
            .region(input.scope.prefix())
            .changes(vec![
                Change::new(
                    "username",
                    None::<String>,
                    Some(input.username.trim().to_ascii_lowercase()),
                ),
                Change::new("display_name", None::<String>, Some(&input.display_name)),
                Change::new("role", None::<String>, Some(input.role.as_str())),
                Change::new("region", None::<String>, Some(input.scope.region_key())),
                Change::new(
                    "org",
                    None::<String>,
                    input.scope.org.map(|o| o.to_string()),
                ),
                Change::redacted("password"),
            ]),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((id, clear))
}

/// How long a temporary password waits to be shown after create or reset.
const ONE_TIME_TTL_MILLIS: i64 = 10 * 60_000;

/// Temporary passwords between the POST that made them and the page that shows them once
/// (Post/Redirect/Get: a reload must not re-submit the form, and the password must never travel
/// in a URL). Keyed by (the manager's session hash, the target account's id); an entry expires
/// after ten minutes and is removed when shown. The map lives in the process and not in
/// `AppState`, because this module cannot change the shared state: a restart (or, with several
/// instances, a redirect answered by another one) loses a pending password, which is acceptable
/// for a one-time secret: the manager resets the password again.
static ONE_TIME: LazyLock<Mutex<OneTime>> = LazyLock::new(Default::default);

/// (session hash, account id) → (secret, expires at, epoch millis).
type OneTime = HashMap<(String, String), (String, i64)>;

fn one_time() -> std::sync::MutexGuard<'static, OneTime> {
    // A panic while holding the lock leaves a usable map: entries are whole or absent.
    ONE_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keep `secret` for this manager's session to show on the account's page.
fn keep_secret(session: &str, user_id: &str, secret: String, now: i64) {
    let mut map = one_time();
    map.retain(|_, (_, expires)| *expires > now);
    map.insert(
        (session.to_owned(), user_id.to_owned()),
        (secret, now + ONE_TIME_TTL_MILLIS),
    );
}

/// The secret kept for this session and account, removed as it is read; `None` once expired.
fn take_secret(session: &str, user_id: &str, now: i64) -> Option<String> {
    let mut map = one_time();
    map.remove(&(session.to_owned(), user_id.to_owned()))
        .filter(|(_, expires)| *expires > now)
        .map(|(secret, _)| secret)
}

fn manager(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::ManageUsers)?;
    Ok(u)
}

/// Roles this manager may give, in display order.
fn grantable(u: &CurrentUser) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| u.role().can_grant(*r))
        .collect()
}

/// Parse and check role + scope from a form against what the manager may grant.
fn parse_access(
    u: &CurrentUser,
    role: &str,
    region: &str,
    org: &str,
) -> Result<(Role, Scope), Vec<FieldError>> {
    let mut errors = Vec::new();
    let role = if role.trim().is_empty() {
        errors.push(FieldError::new("role", "form.required"));
        None
    } else {
        Role::parse(role).map_err(|e| errors.push(e)).ok()
    };
    if let Some(r) = role
        && !u.role().can_grant(r)
    {
        errors.push(FieldError::new("role", "user.role_not_grantable"));
    }
    let mine = u.scope();
    // An empty region means the whole country, which only a national manager may grant: for
    // anyone else it is a field left empty.
    let parsed_region = if region.trim().is_empty() && mine.region.is_some() {
        errors.push(FieldError::new("region", "form.required"));
        Err(())
    } else {
        Scope::parse_region(region).map_err(|e| errors.push(e))
    };
    let region_parsed = parsed_region.is_ok();
    let region = parsed_region.ok().flatten();
    let org = match org.trim() {
        "" => None,
        s => s
            .parse()
            .map_err(|_| errors.push(FieldError::new("org", "org.unknown")))
            .ok(),
    };
    let scope = Scope { region, org };
    // The scope must lie inside the manager's; an org-bound manager keeps the org.
    let region_only = Scope {
        region: mine.region.clone(),
        org: None,
    };
    if region_parsed && !region_only.covers(&scope) {
        errors.push(FieldError::new("region", "user.region_out_of_scope"));
    }
    if let Some(o) = mine.org
        && scope.org != Some(o)
    {
        errors.push(FieldError::new("org", "user.org_out_of_scope"));
    }
    match (role, errors.is_empty()) {
        (Some(r), true) => Ok((r, scope)),
        _ => Err(errors),
    }
}

fn status_of(t: &Tr, u: &User, now: i64) -> (String, &'static str) {
    if u.is_disabled() {
        (t.get("user.status.disabled").to_owned(), "tag-muted")
    } else if u.is_locked(now) {
        (t.get("user.status.locked").to_owned(), "tag-bad")
    } else if u.must_change_password != 0 {
        (t.get("user.status.temporary").to_owned(), "tag-warn")
    } else {
        (t.get("user.status.active").to_owned(), "tag-ok")
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    /// Username or display name contains.
    pub q: Option<String>,
    pub role: Option<String>,
    /// Only accounts whose scope lies in this region's subtree.
    pub region: Option<String>,
    /// `active` or `disabled`.
    pub status: Option<String>,
    /// `username` (default), `created` or `last_login`.
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub notice: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Filter {
        Filter {
            q: self.q.clone(),
            role: self.role.as_deref().and_then(|r| Role::parse(r).ok()),
            region: self.region.clone(),
            disabled: match self.status.as_deref() {
                Some("active") => Some(false),
                Some("disabled") => Some(true),
                _ => None,
            },
            sort: Sort::parse(self.sort.as_deref().unwrap_or("")),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", self.q.clone().unwrap_or_default()),
            ("role", self.role.clone().unwrap_or_default()),
            ("region", self.region.clone().unwrap_or_default()),
            ("status", self.status.clone().unwrap_or_default()),
            ("sort", self.sort.clone().unwrap_or_default()),
        ]
    }
}

pub struct Row {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope: String,
    pub org: String,
    pub status: String,
    pub status_class: &'static str,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "admin/users/list.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    roles: Vec<(String, String)>,
    export_href: String,
    /// Security administrators also manage where a second factor is required.
    twofactor_admin: bool,
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = manager(&ctx)?;
    let t = ctx.tr();
    let now = state.now();
    let mut c = state.db.read().await?;
    let page_data = users::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    let rows = page_data
        .items
        .iter()
        .map(|x| {
            let (status, status_class) = status_of(&t, x, now);
            Row {
                id: x.id.clone(),
                username: x.username.clone(),
                display_name: x.display_name.clone(),
                role: t.role(&x.role),
                scope: scope_label(&t, x.region_path.as_deref(), &x.region_code),
                org: x.org_name.clone().unwrap_or_default(),
                status,
                status_class,
                last_login: t.opt_datetime(x.last_login_at),
            }
        })
        .collect();
    let pairs = q.pairs();
    let export_href = format!(
        "/admin/users/export.xlsx?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    );
    let title = t.get("menu.users");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            t,
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows,
            pager: pager(&t, &page_data, "/admin/users", &pairs),
            roles: Role::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), t.role(r.as_str())))
                .collect(),
            q,
            export_href,
            twofactor_admin: ctx
                .user
                .as_ref()
                .is_some_and(|u| u.role() == Role::SecurityAdmin),
        },
    ))
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = manager(&ctx)?;
    let t = ctx.tr();
    let now = state.now();
    let mut c = state.db.read().await?;
    let data = users::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest {
            page: 1,
            per_page: excel::MAX_ROWS,
        },
    )
    .await?;
    drop(c);
    let headers = [
        "user.username",
        "user.display_name",
        "user.role",
        "user.scope",
        "user.org",
        "common.status",
        "user.last_login",
        "common.created_at",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|x| {
            vec![
                x.username.as_str().into(),
                x.display_name.as_str().into(),
                t.role(&x.role).into(),
                scope_label(&t, x.region_path.as_deref(), &x.region_code).into(),
                x.org_name.clone().unwrap_or_default().into(),
                status_of(&t, x, now).0.into(),
                t.opt_datetime(x.last_login_at).into(),
                t.datetime(x.created_at).into(),
            ]
        })
        .collect();
    excel::send(&state, &ctx, "user", "menu.users", &headers, &rows, vec![]).await
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
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let is_self = user.as_ref().is_some_and(|x| x.id == u.user.id);
    let status_text = user
        .as_ref()
        .map(|x| status_of(&t, x, state.now()).0)
        .unwrap_or_default();
    drop(c);
    let twofactor = match &user {
        Some(x) => {
            let (enrolled, required) = crate::admin::twofactor::status_of(state, x).await?;
            crate::admin::twofactor::status_label(&t, enrolled, required)
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
async fn check_new(
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
    if let Some(name) = username {
        let taken = Sql::new("SELECT COUNT(*) FROM users WHERE username = ")
            .bind(name)
            .fetch_i64(&mut c)
            .await?;
        if taken > 0 {
            errors.push(FieldError::new("username", "user.username_taken"));
        }
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

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<UserForm>,
) -> WebResult<Response> {
    let u = manager(&ctx)?;
    let (role, scope) = match check_new(&state, u, &f).await? {
        Ok(v) => v,
        Err(errors) => return form_page(&state, &ctx, None, f, errors, None, None).await,
    };
    if let Err(errors) = org_visible(&state, u, &scope).await? {
        return form_page(&state, &ctx, None, f, errors, None, None).await;
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
        &ctx.actor(),
        input,
        state.now(),
    )
    .await
    {
        Ok((id, temp)) => show_once(&state, &ctx, &id, temp, "notice.user_created").await,
        Err(WebError::Invalid(errors)) => {
            form_page(&state, &ctx, None, f, errors, None, None).await
        }
        Err(e) => Err(e),
    }
}

/// After a create or reset: keep the temporary password for this session and redirect to the
/// account's page, which shows it once (Post/Redirect/Get). Without a session (an API token)
/// there is nowhere to keep it, so the page is answered directly.
async fn show_once(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    secret: String,
    notice: &'static str,
) -> WebResult<Response> {
    let u = manager(ctx)?;
    if let Some(session) = &u.session_hash {
        keep_secret(session, id, secret, state.now());
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
async fn org_visible(
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
async fn target(state: &AppState, u: &CurrentUser, id: &str) -> WebResult<User> {
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
    let secret = u
        .session_hash
        .as_deref()
        .and_then(|s| take_secret(s, &x.id, state.now()));
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

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<UserForm>,
) -> WebResult<Response> {
    let u = manager(&ctx)?;
    let x = target(&state, u, &id).await?;
    let (role, scope) = match parse_access(u, &f.role, &f.region, &f.org) {
        Ok(v) => v,
        Err(errors) => return form_page(&state, &ctx, Some(x), f, errors, None, None).await,
    };
    if let Err(errors) = org_visible(&state, u, &scope).await? {
        return form_page(&state, &ctx, Some(x), f, errors, None, None).await;
    }
    if x.id == u.user.id && (role != x.role() || scope.prefix() != x.region_code) {
        let errors = vec![FieldError::new("role", "user.cannot_change_self")];
        return form_page(&state, &ctx, Some(x), f, errors, None, None).await;
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let result =
        users::update_access(&mut tx, &u.scope(), &id, &f.display_name, role, &scope, now).await;
    let before = match result {
        Ok(b) => b,
        Err(shegong_store::StoreError::Invalid(e)) => {
            drop(tx);
            return form_page(&state, &ctx, Some(x), f, vec![e], None, None).await;
        }
        Err(e) => return Err(e.into()),
    };
    let changes = audit::diff(&[
        (
            "display_name",
            Some(before.display_name.clone()),
            Some(f.display_name.trim().to_owned()),
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
    // A change of role or scope ends the account's sessions: new rights apply from the next login.
    if before.role != role.as_str()
        || before.region_code != scope.prefix()
        || before.org_id != scope.org.map(|o| o.to_string())
    {
        sessions::delete_for_user(&mut tx, &id).await?;
    }
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("update", "user", Some(id.clone()))
            .region(scope.prefix())
            .changes(changes),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?notice=notice.saved")).into_response())
}

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

/// An account as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub username: String,
    /// Display name.
    pub name: String,
    pub role: String,
    /// Scope region code; empty for the whole country.
    pub region_code: String,
    pub region_path: Vec<String>,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    /// `active`, `disabled`, `locked` or `temporary_password`.
    pub status: String,
    pub last_login_at: Option<String>,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Accounts within the caller's scope (account managers only).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = UserPage), (status = 401, description = "Not signed in"), (status = 403, description = "Not an account manager")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<UserPage>> {
    let u = manager(&ctx)?;
    let now = state.now();
    let mut c = state.db.read().await?;
    let p = users::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(UserPage {
        items: p
            .items
            .into_iter()
            .map(|x| UserDto {
                status: if x.is_disabled() {
                    "disabled"
                } else if x.is_locked(now) {
                    "locked"
                } else if x.must_change_password != 0 {
                    "temporary_password"
                } else {
                    "active"
                }
                .to_owned(),
                last_login_at: x.last_login_at.map(rfc3339),
                created_at: rfc3339(x.created_at),
                region_path: x
                    .region_path
                    .as_deref()
                    .map(|p| p.split('/').map(str::to_owned).collect())
                    .unwrap_or_default(),
                id: x.id,
                username: x.username,
                name: x.display_name,
                role: x.role,
                region_code: x.region_code,
                org_id: x.org_id,
                org_name: x.org_name,
            })
            .collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}
