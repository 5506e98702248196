//! Signing in and out, the forced and periodic password change, one's own account page and API
//! tokens, and `GET /api/v1/me`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use shegong_domain::{FieldError, Permission, Role, admin::password};
use shegong_store::admin::audit::{self, Change, Event, Outcome};
use shegong_store::admin::tokens::{self, Token};
use shegong_store::{admin::sessions, admin::twofactor, admin::users};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, SESSION_COOKIE, set_cookie};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page, scope_label, urlencode};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;

/// A stand-in hash verified when the username is unknown, so both paths cost the same time.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password::hash("dummy-password-for-timing"));

pub(crate) async fn verify_password(pw: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .unwrap_or(false)
}

pub async fn hash_password(pw: String) -> WebResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| WebError::Internal(e.into()))
}

/// Only local paths: never redirect to another site after login.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    crate::http::render::local_path(next)
}

/// The sign-in page that leads on to `next`: where its language switch comes back to.
fn login_href(next: &str) -> String {
    if next == "/" {
        "/login".to_owned()
    } else {
        format!("/login?next={}", urlencode(next))
    }
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    t: Tr,
    base: Base,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.user.is_some() {
        return Redirect::to("/").into_response();
    }
    let t = ctx.tr();
    let next = safe_next(q.next.as_deref());
    page(
        StatusCode::OK,
        &LoginPage {
            t,
            base: Base::new(&ctx, t.get("login.title"), vec![]).with_lang_next(&login_href(&next)),
            username: String::new(),
            next,
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Who a sign-in attempt claims to be, for its audit entries.
struct Attempt<'a> {
    username: &'a str,
    user_id: Option<&'a str>,
    /// The account's scope region ('' when unknown): where its entries are filed.
    region: &'a str,
}

impl Attempt<'_> {
    async fn audit(
        &self,
        state: &AppState,
        ctx: &Ctx,
        action: &str,
        outcome: Outcome,
        reason: Option<&str>,
    ) -> WebResult<()> {
        let mut actor = ctx.actor();
        actor.username = self.username.chars().take(64).collect();
        actor.user_id = self.user_id.map(str::to_owned);
        actor.region_code = self.region.to_owned();
        let mut event =
            Event::new(action, "session", self.user_id.map(str::to_owned)).outcome(outcome);
        if let Some(r) = reason {
            event = event.changes(vec![Change::new("reason", None::<String>, Some(r))]);
        }
        let mut tx = state.db.begin().await?;
        audit::record(&mut tx, state.db.backend(), &actor, event, state.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A wrong password for a known account: counted and audited; `true` when it locked the
    /// account.
    async fn bad_password(
        &self,
        state: &AppState,
        ctx: &Ctx,
        user_id: &str,
        now: i64,
    ) -> WebResult<bool> {
        let mut tx = state.db.begin().await?;
        let locked = users::auth::record_failure(
            &mut tx,
            user_id,
            state.config.lockout.max_failures,
            state.config.lockout.minutes * 60_000,
            now,
        )
        .await?;
        tx.commit().await?;
        self.audit(state, ctx, "login", Outcome::Failure, Some("bad_password"))
            .await?;
        if locked.is_some() {
            self.audit(state, ctx, "lockout", Outcome::Success, None)
                .await?;
        }
        Ok(locked.is_some())
    }
}

/// Count a failed sign-in under a name with no account, locked as a real account would be (so
/// the lockout message does not tell which names exist); when the name is locked until. Kept in
/// the database: every instance counts the same failures.
async fn unknown_login_failure(state: &AppState, username: &str, now: i64) -> WebResult<i64> {
    let mut tx = state.db.begin().await?;
    let until = shegong_store::shared::unknown_login_failure(
        &mut tx,
        username,
        state.config.lockout.max_failures,
        state.config.lockout.minutes * 60_000,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(until)
}

/// The second step a sign-in needs after its password: enrolled accounts give a code; accounts
/// that must have a second factor and have none enrol first. Neither gets a session until then
/// (see `twofactor.rs`).
async fn second_step(
    state: &AppState,
    user_id: &str,
    region: &str,
) -> WebResult<Option<twofactor::Purpose>> {
    let mut conn = state.db.read().await?;
    if twofactor::is_enrolled(&mut conn, user_id).await? {
        return Ok(Some(twofactor::Purpose::Verify));
    }
    let role = users::auth::by_id(&mut conn, user_id).await?.role();
    let required = twofactor::required_for(
        &mut conn,
        state.config.twofactor_for_administrators,
        role,
        region,
    )
    .await?;
    Ok(required.then_some(twofactor::Purpose::Enrol))
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<LoginForm>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let now = state.now();
    let username = f.username.trim().to_ascii_lowercase();
    let fail = |msg: String| {
        let next = safe_next(f.next.as_deref());
        page(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                t,
                base: Base::new(&ctx, t.get("login.title"), vec![])
                    .with_lang_next(&login_href(&next)),
                username: username.clone(),
                next,
                error: Some(msg),
            },
        )
    };
    let creds = {
        let mut c = state.db.read().await?;
        users::auth::credentials(&mut c, &username).await?
    };
    let Some(c) = creds else {
        verify_password(f.password.clone(), DUMMY_HASH.clone()).await;
        let locked_until = unknown_login_failure(&state, &username, now).await?;
        Attempt {
            username: &username,
            user_id: None,
            region: "",
        }
        .audit(
            &state,
            &ctx,
            "login",
            Outcome::Failure,
            Some("unknown_user"),
        )
        .await?;
        if locked_until > now {
            let minutes = ((locked_until - now) + 59_999) / 60_000;
            return Ok(fail(
                t.fmt("login.locked", &[("minutes", &minutes.to_string())]),
            ));
        }
        return Ok(fail(t.get("login.failed").to_owned()));
    };
    let known = Attempt {
        username: &username,
        user_id: Some(&c.id),
        region: &c.region_code,
    };
    let lockout_minutes = state.config.lockout.minutes;
    if let Some(until) = c.locked_until.filter(|u| *u > now) {
        known
            .audit(&state, &ctx, "login", Outcome::Denied, Some("locked"))
            .await?;
        let minutes = ((until - now) + 59_999) / 60_000;
        return Ok(fail(
            t.fmt("login.locked", &[("minutes", &minutes.to_string())]),
        ));
    }
    if !verify_password(f.password.clone(), c.password_hash.clone()).await
        || (c.is_demo != 0 && !state.config.demo)
    {
        let locked = known.bad_password(&state, &ctx, &c.id, now).await?;
        if locked {
            return Ok(fail(t.fmt(
                "login.locked",
                &[("minutes", &lockout_minutes.to_string())],
            )));
        }
        return Ok(fail(t.get("login.failed").to_owned()));
    }
    if c.disabled != 0 {
        known
            .audit(&state, &ctx, "login", Outcome::Denied, Some("disabled"))
            .await?;
        return Ok(fail(t.get("login.disabled").to_owned()));
    }
    let next = safe_next(f.next.as_deref());
    if let Some(purpose) = second_step(&state, &c.id, &c.region_code).await? {
        return crate::admin::twofactor::start_pending(
            &state,
            &ctx,
            &c.id,
            &username,
            &c.region_code,
            purpose,
            &next,
        )
        .await;
    }
    let cookie = open_session(&state, &ctx, &c, None).await?;
    let mut res = Redirect::to(&next).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

/// Start a session for an account whose credentials (and second factor, when it has one) were
/// accepted: reset its failure count, expire an old password, audit the sign-in. Returns the
/// `Set-Cookie` header value of the session.
pub(crate) async fn open_session(
    state: &AppState,
    ctx: &Ctx,
    c: &users::auth::Credentials,
    second_factor: Option<&str>,
) -> WebResult<header::HeaderValue> {
    let now = state.now();
    let user_agent = None::<&str>;
    let mut tx = state.db.begin().await?;
    users::auth::record_success(&mut tx, &c.id, ctx.ip.as_deref(), now).await?;
    let max_age = state.config.password.max_age_days;
    if max_age > 0 && now - c.password_changed_at > max_age * 86_400_000 {
        users::auth::force_change(&mut tx, &c.id).await?;
    }
    let (token, _session) =
        sessions::create(&mut tx, &c.id, ctx.ip.as_deref(), user_agent, now).await?;
    let mut actor = ctx.actor();
    actor.user_id = Some(c.id.clone());
    actor.username = c.username.clone();
    actor.region_code = c.region_code.clone();
    let mut event = Event::new("login", "session", Some(c.id.clone()));
    if let Some(method) = second_factor {
        event = event.changes(vec![Change::new(
            "second_factor",
            None::<String>,
            Some(method),
        )]);
    }
    audit::record(&mut tx, state.db.backend(), &actor, event, now).await?;
    tx.commit().await?;
    set_cookie(state, SESSION_COOKIE, &token, None)
        .parse()
        .map_err(|e| WebError::Internal(anyhow::anyhow!("session cookie: {e}")))
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    if let Some(u) = &ctx.user {
        let mut tx = state.db.begin().await?;
        if let Some(h) = &u.session_hash {
            sessions::delete(&mut tx, h).await?;
        }
        audit::record(
            &mut tx,
            state.db.backend(),
            &ctx.actor(),
            Event::new("logout", "session", Some(u.user.id.clone())),
            state.now(),
        )
        .await?;
        tx.commit().await?;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", Some(0))
            .parse()
            .map_err(|e| WebError::Internal(anyhow::anyhow!("cookie: {e}")))?,
    );
    Ok(res)
}

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    t: Tr,
    base: Base,
    forced: bool,
    errors: Vec<FieldError>,
    policy_hint: String,
}

impl PasswordPage {
    fn error_for(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| self.t.get(e.code).to_owned())
    }
}

fn password_page(state: &AppState, ctx: &Ctx, errors: Vec<FieldError>) -> WebResult<Response> {
    let u = ctx.user.as_ref().ok_or(WebError::Unauthenticated)?;
    let t = ctx.tr();
    let p = &state.config.password;
    let status = form_status(&errors);
    let forced = u.user.must_change_password != 0;
    // Until the password is changed nothing else is reachable: no menu and no breadcrumbs (the
    // layout then drops the sidebar column, `body.no-menu`, and the form takes the full width).
    let crumbs = if forced {
        vec![]
    } else {
        vec![
            Crumb::link(t.get("menu.account"), "/account"),
            Crumb::here(t.get("password.title")),
        ]
    };
    let mut base = Base::new(ctx, t.get("password.title"), crumbs);
    if forced {
        base.menu.clear();
    }
    Ok(page(
        status,
        &PasswordPage {
            t,
            base,
            forced,
            errors,
            policy_hint: t.fmt(
                "password.policy",
                &[
                    ("min", &p.min_length.to_string()),
                    ("classes", &p.min_classes.to_string()),
                ],
            ),
        },
    ))
}

pub async fn password_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    password_page(&state, &ctx, vec![])
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PasswordForm>,
) -> WebResult<Response> {
    let u = ctx.user.as_ref().ok_or(WebError::Unauthenticated)?;
    // A page action: an API token (which skips CSRF) cannot change the password.
    let Some(session) = u.session_hash.clone() else {
        return Err(WebError::Forbidden);
    };
    let mut errors = Vec::new();
    let current_hash = {
        let mut c = state.db.read().await?;
        users::auth::password_hash(&mut c, &u.user.id).await?
    };
    if !verify_password(f.current.clone(), current_hash).await {
        // Guessing the current password counts towards the lockout like a failed sign-in.
        let now = state.now();
        let mut tx = state.db.begin().await?;
        let locked = users::auth::record_failure(
            &mut tx,
            &u.user.id,
            state.config.lockout.max_failures,
            state.config.lockout.minutes * 60_000,
            now,
        )
        .await?;
        let mut event = Event::new("password_change", "user", Some(u.user.id.clone()))
            .region(u.user.region_code.clone())
            .outcome(Outcome::Failure);
        event = event.changes(vec![Change::new(
            "reason",
            None::<String>,
            Some("current_wrong"),
        )]);
        audit::record(&mut tx, state.db.backend(), &ctx.actor(), event, now).await?;
        if locked.is_some() {
            sessions::delete_for_user(&mut tx, &u.user.id).await?;
            audit::record(
                &mut tx,
                state.db.backend(),
                &ctx.actor(),
                Event::new("lockout", "session", Some(u.user.id.clone()))
                    .region(u.user.region_code.clone()),
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(Redirect::to("/login").into_response());
        }
        tx.commit().await?;
        errors.push(FieldError::new("current", "password.current_wrong"));
    }
    if let Err(e) = state.config.password.check(&f.new, &u.user.username) {
        errors.push(FieldError::new("new", e.code));
    } else if f.new == f.current {
        errors.push(FieldError::new("new", "password.same_as_old"));
    }
    if f.new != f.confirm {
        errors.push(FieldError::new("confirm", "password.mismatch"));
    }
    if !errors.is_empty() {
        return password_page(&state, &ctx, errors);
    }
    let hash = hash_password(f.new).await?;
    let mut tx = state.db.begin().await?;
    users::auth::change_own_password(&mut tx, &u.user.id, &hash, state.now()).await?;
    // Whoever else was signed in with the old password is signed out.
    sessions::delete_others(&mut tx, &u.user.id, &session).await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("password_change", "user", Some(u.user.id.clone()))
            .region(u.user.region_code.clone())
            .changes(vec![Change::redacted("password")]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/?notice=notice.password_changed").into_response())
}

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage {
    t: Tr,
    base: Base,
    username: String,
    display_name: String,
    role: String,
    scope: String,
    org: String,
    last_login: String,
    last_login_ip: String,
    password_changed: String,
    tokens: Vec<Token>,
    new_secret: Option<String>,
    token_error: Option<String>,
}

async fn account_page(
    state: &AppState,
    ctx: &Ctx,
    new_secret: Option<String>,
    token_error: Option<String>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    let t = ctx.tr();
    let tokens = {
        let mut c = state.db.read().await?;
        tokens::list_for_user(&mut c, &u.user.id).await?
    };
    let status = if token_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &AccountPage {
            t,
            base: Base::new(
                ctx,
                t.get("menu.account"),
                vec![Crumb::here(t.get("menu.account"))],
            )
            .with_notice(&t, notice),
            username: u.user.username.clone(),
            display_name: u.user.display_name.clone(),
            role: t.role(&u.user.role),
            scope: scope_label(&t, u.user.region_path.as_deref(), &u.user.region_code),
            org: u.user.org_name.clone().unwrap_or_else(|| "—".into()),
            last_login: t.opt_datetime(u.user.last_login_at),
            last_login_ip: u.user.last_login_ip.clone().unwrap_or_else(|| "—".into()),
            password_changed: t.datetime(u.user.password_changed_at),
            tokens,
            new_secret,
            token_error,
        },
    ))
}

pub async fn account(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    account_page(&state, &ctx, None, None, q.notice.as_deref()).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

/// Create an API token for a user, audited. Shared by the account page and the CLI.
pub async fn create_token(
    state_db: &shegong_store::Db,
    actor: &audit::Actor,
    user: &users::User,
    name: &str,
    now: i64,
) -> WebResult<(Token, String)> {
    let mut tx = state_db.begin().await?;
    let (token, secret) = tokens::create(&mut tx, &user.id, name, now).await?;
    audit::record(
        &mut tx,
        state_db.backend(),
        actor,
        Event::new("create", "api_token", Some(token.id.clone()))
            .region(user.region_code.clone())
            .changes(vec![
                Change::new("name", None::<String>, Some(&token.name)),
                Change::new("user", None::<String>, Some(&user.username)),
            ]),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

pub async fn add_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<TokenForm>,
) -> WebResult<Response> {
    let u = ctx.user()?.clone();
    // Tokens are made on the account page, not with another token.
    if u.session_hash.is_none() {
        return Err(WebError::Forbidden);
    }
    match create_token(&state.db, &ctx.actor(), &u.user, &f.name, state.now()).await {
        Ok((_, secret)) => account_page(&state, &ctx, Some(secret), None, None).await,
        Err(WebError::Invalid(fields)) => {
            let msg = fields.first().map(|f| ctx.tr().get(f.code).to_owned());
            account_page(&state, &ctx, None, msg, None).await
        }
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    let mut tx = state.db.begin().await?;
    let token = tokens::revoke(&mut tx, &u.user.id, &id, state.now()).await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("revoke", "api_token", Some(token.id.clone())).changes(vec![Change::new(
            "name",
            Some(&token.name),
            None::<String>,
        )]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/account?notice=notice.token_revoked").into_response())
}

/// The signed-in account, as API clients see it.
#[derive(Serialize, ToSchema)]
pub struct MeDto {
    pub id: String,
    pub username: String,
    /// Display name.
    pub name: String,
    /// One of `system_admin`, `security_admin`, `auditor`, `civil_affairs_admin`,
    /// `agency_manager`, `social_worker`, `supervisor`, `evaluator`.
    pub role: String,
    /// Scope region code; empty for the whole country.
    pub region_code: String,
    pub region_path: Vec<String>,
    pub org_id: Option<String>,
    pub permissions: Vec<String>,
    pub must_change_password: bool,
}

pub fn permission_names(role: Role) -> Vec<String> {
    [
        (Permission::ManageSystem, "manage_system"),
        (Permission::ManageUsers, "manage_users"),
        (Permission::ReadAudit, "read_audit"),
        (Permission::ReadData, "read_data"),
        (Permission::WriteData, "write_data"),
        (Permission::Export, "export"),
        (Permission::Supervise, "supervise"),
        (Permission::RevealSensitive, "reveal_sensitive"),
    ]
    .into_iter()
    .filter(|(p, _)| role.has(*p))
    .map(|(_, n)| n.to_owned())
    .collect()
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = MeDto), (status = 401, description = "Not signed in")))]
pub async fn api_me(ctx: Ctx) -> WebResult<Json<MeDto>> {
    let u = ctx.user.as_ref().ok_or(WebError::Unauthenticated)?;
    Ok(Json(MeDto {
        id: u.user.id.clone(),
        username: u.user.username.clone(),
        name: u.user.display_name.clone(),
        role: u.user.role.clone(),
        region_code: u.user.region_code.clone(),
        region_path: u
            .user
            .region_path
            .as_deref()
            .map(|p| p.split('/').map(str::to_owned).collect())
            .unwrap_or_default(),
        org_id: u.user.org_id.clone(),
        permissions: permission_names(u.role()),
        must_change_password: u.user.must_change_password != 0,
    }))
}
