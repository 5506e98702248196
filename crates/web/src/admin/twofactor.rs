//! Two-factor sign-in (TOTP, RFC 6238): enrolment, verification at login, recovery codes, reset.
//!
//! A sign-in that passes the password but needs a second factor gets no session: it gets a
//! short-lived "pending" cookie (`sg_2fa`, stored hashed in `twofactor_pending`) that only the
//! second-step pages accept, so every other page still sees an anonymous visitor. Enrolled
//! accounts give a code (or a recovery code); accounts that must have a second factor and have
//! none enrol first. The session starts only after that. API tokens are unaffected.
//!
//! Who must: administrators (`store::twofactor::role_requires`: system, security and audit
//! officers and civil-affairs administrators) always; any account in a region whose subtree a
//! security administrator marked "two-factor required" (`/admin/twofactor`).

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rand::RngCore;
use serde::Deserialize;
use shegong_domain::{Role, Scope};
use shegong_store::admin::audit::{self, Change, Event, Outcome};
use shegong_store::admin::twofactor::{self as store, Purpose};
use shegong_store::{admin::sessions, admin::users, network::regions};

use crate::admin::account::{NoticeQuery, open_session};
use crate::http::auth::{Ctx, CurrentUser, cookie, set_cookie};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

/// The cookie of a sign-in waiting for its second step.
pub const PENDING_COOKIE: &str = "sg_2fa";
/// How long the second step may take after the password.
const PENDING_TTL: i64 = 10 * 60_000;
/// TOTP parameters (RFC 6238 defaults every authenticator app understands).
const DIGITS: u8 = 6;
const STEP_SECS: u64 = 30;
const RECOVERY_CODES: usize = 10;

/// The two-factor pages and API operations, merged into the application's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/twofactor", get(verify_form).post(verify))
        .route(
            "/login/twofactor/enrol",
            get(login_enrol_form).post(login_enrol),
        )
        .route("/login/twofactor/qr.svg", get(login_qr))
        .route("/login/twofactor/cancel", post(cancel))
        .route("/account/twofactor", get(account_page).post(account_enrol))
        .route("/account/twofactor/qr.svg", get(account_qr))
        .route("/account/twofactor/disable", post(account_disable))
        .route("/admin/twofactor", get(admin_page).post(admin_require))
        .route("/admin/twofactor/remove", post(admin_unrequire))
        .route(
            "/admin/users/{id}/reset-twofactor",
            post(crate::admin::users::reset_twofactor),
        )
}

// ---------------------------------------------------------------------------------------------
// TOTP

/// A new 160-bit secret (RFC 4226 recommends 160), base32 as authenticator apps take it.
fn new_secret() -> String {
    let mut b = [0u8; 20];
    rand::rng().fill_bytes(&mut b);
    totp_rs::Secret::from(b).to_base32()
}

fn totp(secret_b32: &str) -> WebResult<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32)
        .map_err(|e| WebError::Internal(anyhow::anyhow!("stored TOTP secret: {e:?}")))?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECS)
        .with_skew(1)
        .build()
        .map_err(|e| WebError::Internal(anyhow::anyhow!("TOTP: {e:?}")))
}

/// The step (30-second counter) a code matches within ±1 step of now, if any.
fn check_code(secret_b32: &str, code: &str, now_millis: i64) -> WebResult<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let secs = u64::try_from(now_millis / 1000).unwrap_or(0);
    Ok(totp(secret_b32)?
        .check(&code, secs)
        .and_then(|s| i64::try_from(s).ok()))
}

/// Whether what was typed looks like an authenticator code (else it is taken as a recovery code).
fn looks_like_totp(code: &str) -> bool {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Percent-encoding for the otpauth URI (RFC 3986 unreserved characters pass).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `otpauth://` URI an authenticator app reads from the QR code.
fn otpauth_uri(t: &Tr, username: &str, secret_b32: &str) -> String {
    let issuer = t.get("app.name");
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        pct(issuer),
        pct(username),
        pct(issuer)
    )
}

/// The QR code as an SVG image of its own (the CSP refuses inline data and style attributes),
/// never cached: it carries the secret.
fn qr_response(uri: &str) -> WebResult<Response> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| WebError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let mut res = svg.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Ten single-use recovery codes, 80 random bits each, shown as `xxxx-xxxx-xxxx-xxxx`.
fn new_recovery_codes() -> Vec<String> {
    // Lower-case letters and digits without the look-alikes 0/o, 1/l/i.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut s = String::with_capacity(19);
            for i in 0..16 {
                if i > 0 && i % 4 == 0 {
                    s.push('-');
                }
                let idx = (rng.next_u32() as usize) % ALPHABET.len();
                s.push(ALPHABET[idx] as char);
            }
            s
        })
        .collect()
}

fn keys_open(state: &AppState, sealed: &str) -> WebResult<String> {
    state
        .keys
        .open(store::SECRET_FIELD, sealed)
        .map_err(|e| WebError::Internal(anyhow::anyhow!("opening a TOTP secret: {e}")))
}

/// The enrolment in progress for an account, started when there is none (so reloading the page
/// keeps the secret the user may already have scanned). `None` when already confirmed.
async fn enrolment_secret(state: &AppState, user_id: &str) -> WebResult<Option<String>> {
    let existing = {
        let mut c = state.db.read().await?;
        store::get(&mut c, user_id).await?
    };
    match existing {
        Some(e) if e.is_confirmed() => Ok(None),
        Some(e) => Ok(Some(keys_open(state, &e.secret_sealed)?)),
        None => {
            let secret = new_secret();
            let mut tx = state.db.begin().await?;
            store::begin(
                &mut tx,
                user_id,
                &state.keys.seal(store::SECRET_FIELD, &secret),
                state.now(),
            )
            .await?;
            tx.commit().await?;
            Ok(Some(secret))
        }
    }
}

/// Confirm an enrolment with its first code. `Ok(None)` when the code is wrong; else the new
/// recovery codes (shown once). Audited.
async fn confirm_enrolment(
    state: &AppState,
    actor: &audit::Actor,
    user: &users::User,
    code: &str,
) -> WebResult<Option<Vec<String>>> {
    let Some(secret) = enrolment_secret(state, &user.id).await? else {
        return Err(WebError::NotFound);
    };
    let now = state.now();
    let Some(step) = check_code(&secret, code, now)? else {
        return Ok(None);
    };
    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| store::recovery_hash(c)).collect();
    let mut tx = state.db.begin().await?;
    if !store::confirm(&mut tx, &user.id, step, &hashes, now).await? {
        return Err(WebError::NotFound);
    }
    audit::record(
        &mut tx,
        state.db.backend(),
        actor,
        Event::new("twofactor_enrol", "user", Some(user.id.clone()))
            .region(user.region_code.clone())
            .changes(vec![Change::new("twofactor", None::<String>, Some("totp"))]),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(codes))
}

// ---------------------------------------------------------------------------------------------
// Pages

#[derive(Template)]
#[template(path = "admin/twofactor_verify.html")]
struct VerifyPage {
    t: Tr,
    base: Base,
    error: Option<String>,
    /// Locked out: no form, only the way back to the sign-in page.
    locked: bool,
}

#[derive(Template)]
#[template(path = "admin/twofactor_enrol.html")]
struct EnrolPage {
    t: Tr,
    base: Base,
    /// Where the confirmation form posts.
    action: &'static str,
    qr: &'static str,
    secret: String,
    /// The secret in groups of four, for typing it in by hand.
    secret_grouped: String,
    required: bool,
    /// During sign-in (offers "cancel" instead of "back").
    signing_in: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/twofactor_recovery.html")]
struct RecoveryPage {
    t: Tr,
    base: Base,
    codes: Vec<String>,
    next: String,
}

#[derive(Template)]
#[template(path = "admin/twofactor_account.html")]
struct AccountPage {
    t: Tr,
    base: Base,
    enrolled_at: String,
    recovery_left: i64,
    required: bool,
    error: Option<String>,
}

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

fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn pending_cookie(state: &AppState, token: &str, max_age: Option<i64>) -> WebResult<HeaderValue> {
    set_cookie(state, PENDING_COOKIE, token, max_age)
        .parse()
        .map_err(|e| WebError::Internal(anyhow::anyhow!("cookie: {e}")))
}

/// After a correct password: remember the sign-in and send it to its second step.
pub(crate) async fn start_pending(
    state: &AppState,
    ctx: &Ctx,
    user_id: &str,
    username: &str,
    region: &str,
    purpose: Purpose,
    next: &str,
) -> WebResult<Response> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let token = store::pending_create(&mut tx, user_id, purpose, next, PENDING_TTL, now).await?;
    let mut actor = ctx.actor();
    actor.user_id = Some(user_id.to_owned());
    actor.username = username.to_owned();
    actor.region_code = region.to_owned();
    audit::record(
        &mut tx,
        state.db.backend(),
        &actor,
        Event::new("login_password", "session", Some(user_id.to_owned())).changes(vec![
            Change::new("second_step", None::<String>, Some(purpose.as_str())),
        ]),
        now,
    )
    .await?;
    tx.commit().await?;
    let to = match purpose {
        Purpose::Verify => "/login/twofactor",
        Purpose::Enrol => "/login/twofactor/enrol",
    };
    let mut res = Redirect::to(to).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, pending_cookie(state, &token, None)?);
    Ok(res)
}

/// The sign-in waiting for its second step, with its account; `None` sends the visitor back
/// to the sign-in page.
async fn pending(
    state: &AppState,
    ctx: &Ctx,
    headers: &axum::http::HeaderMap,
) -> WebResult<Option<(store::Pending, users::User)>> {
    if ctx.user.is_some() {
        return Ok(None);
    }
    let Some(token) = cookie(headers, PENDING_COOKIE) else {
        return Ok(None);
    };
    let mut c = state.db.read().await?;
    let Some(p) = store::pending_lookup(&mut c, &token, PENDING_TTL, state.now()).await? else {
        return Ok(None);
    };
    let user = users::auth::by_id(&mut c, &p.user_id).await?;
    if user.is_disabled() {
        return Ok(None);
    }
    Ok(Some((p, user)))
}

fn back_to_login() -> Response {
    Redirect::to("/login").into_response()
}

/// Finish a sign-in whose second step passed: drop the pending entry and its cookie, open the
/// session. The response is `then` with both cookies set.
async fn finish(
    state: &AppState,
    ctx: &Ctx,
    p: &store::Pending,
    user: &users::User,
    method: &str,
    mut then: Response,
) -> WebResult<Response> {
    {
        let mut tx = state.db.begin().await?;
        store::pending_delete(&mut tx, &p.id_hash).await?;
        tx.commit().await?;
    }
    let creds = {
        let mut c = state.db.read().await?;
        users::auth::credentials(&mut c, &user.username)
            .await?
            .ok_or(WebError::NotFound)?
    };
    let session = open_session(state, ctx, &creds, Some(method)).await?;
    let h = then.headers_mut();
    h.append(header::SET_COOKIE, session);
    h.append(header::SET_COOKIE, pending_cookie(state, "", Some(0))?);
    Ok(then)
}

fn verify_page(ctx: &Ctx, status: StatusCode, error: Option<String>, locked: bool) -> Response {
    let t = ctx.tr();
    page(
        status,
        &VerifyPage {
            t,
            base: Base::new(ctx, t.get("twofactor.verify_title"), vec![]),
            error,
            locked,
        },
    )
}

pub async fn verify_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    match pending(&state, &ctx, &headers).await? {
        Some((p, _)) if p.purpose == Purpose::Verify => {
            Ok(verify_page(&ctx, StatusCode::OK, None, false))
        }
        Some(_) => Ok(Redirect::to("/login/twofactor/enrol").into_response()),
        None => Ok(back_to_login()),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// The second step: an authenticator code (each step accepted once) or a recovery code (each
/// once). Wrong codes count towards the account's lockout like wrong passwords.
pub async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(f): Form<CodeForm>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let Some((p, user)) = pending(&state, &ctx, &headers).await? else {
        return Ok(back_to_login());
    };
    if p.purpose != Purpose::Verify {
        return Ok(Redirect::to("/login/twofactor/enrol").into_response());
    }
    let now = state.now();
    let mut actor = ctx.actor();
    actor.user_id = Some(user.id.clone());
    actor.username = user.username.clone();
    actor.region_code = user.region_code.clone();
    if user.is_locked(now) {
        let mut tx = state.db.begin().await?;
        store::pending_delete(&mut tx, &p.id_hash).await?;
        tx.commit().await?;
        let minutes = ((user.locked_until.unwrap_or(now) - now) + 59_999) / 60_000;
        let mut res = verify_page(
            &ctx,
            StatusCode::UNAUTHORIZED,
            Some(t.fmt("login.locked", &[("minutes", &minutes.to_string())])),
            true,
        );
        res.headers_mut()
            .append(header::SET_COOKIE, pending_cookie(&state, "", Some(0))?);
        return Ok(res);
    }
    let enrolment = {
        let mut c = state.db.read().await?;
        store::get(&mut c, &user.id).await?
    };
    let Some(enrolment) = enrolment.filter(|e| e.is_confirmed()) else {
        // Reset meanwhile: start over.
        return Ok(back_to_login());
    };
    let code = f.code.trim();
    let mut tx = state.db.begin().await?;
    let (accepted, method, reason) = if looks_like_totp(code) {
        let secret = keys_open(&state, &enrolment.secret_sealed)?;
        match check_code(&secret, code, now)? {
            Some(step) if store::use_step(&mut tx, &user.id, step).await? => (true, "totp", ""),
            Some(_) => (false, "totp", "replayed_code"),
            None => (false, "totp", "bad_code"),
        }
    } else if store::use_recovery(&mut tx, &user.id, code, now).await? {
        (true, "recovery_code", "")
    } else {
        (false, "recovery_code", "bad_recovery_code")
    };
    if accepted {
        if method == "recovery_code" {
            let left = store::recovery_left(&mut tx, &user.id).await?;
            audit::record(
                &mut tx,
                state.db.backend(),
                &actor,
                Event::new("twofactor_recovery_use", "user", Some(user.id.clone()))
                    .region(user.region_code.clone())
                    .changes(vec![Change::new(
                        "recovery_codes_left",
                        None::<i64>,
                        Some(left),
                    )]),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        let then = Redirect::to(&p.next).into_response();
        return finish(&state, &ctx, &p, &user, method, then).await;
    }
    let locked = users::auth::record_failure(
        &mut tx,
        &user.id,
        state.config.lockout.max_failures,
        state.config.lockout.minutes * 60_000,
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &actor,
        Event::new("login", "session", Some(user.id.clone()))
            .outcome(Outcome::Failure)
            .changes(vec![Change::new("reason", None::<String>, Some(reason))]),
        now,
    )
    .await?;
    if locked.is_some() {
        store::pending_delete(&mut tx, &p.id_hash).await?;
        audit::record(
            &mut tx,
            state.db.backend(),
            &actor,
            Event::new("lockout", "session", Some(user.id.clone())),
            now,
        )
        .await?;
        tx.commit().await?;
        let minutes = state.config.lockout.minutes.to_string();
        let mut res = verify_page(
            &ctx,
            StatusCode::UNAUTHORIZED,
            Some(t.fmt("login.locked", &[("minutes", &minutes)])),
            true,
        );
        res.headers_mut()
            .append(header::SET_COOKIE, pending_cookie(&state, "", Some(0))?);
        return Ok(res);
    }
    tx.commit().await?;
    let key = if reason == "replayed_code" {
        "twofactor.code_used"
    } else {
        "twofactor.code_wrong"
    };
    Ok(verify_page(
        &ctx,
        StatusCode::UNAUTHORIZED,
        Some(t.get(key).to_owned()),
        false,
    ))
}

/// Abandon the second step (e.g. to sign in as someone else).
pub async fn cancel(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    if let Some(token) = cookie(&headers, PENDING_COOKIE) {
        let mut tx = state.db.begin().await?;
        store::pending_delete(&mut tx, &sessions::hash_token(&token)).await?;
        tx.commit().await?;
    }
    let mut res = back_to_login();
    res.headers_mut()
        .append(header::SET_COOKIE, pending_cookie(&state, "", Some(0))?);
    Ok(res)
}

fn enrol_page(
    ctx: &Ctx,
    base: Base,
    secret: String,
    signing_in: bool,
    required: bool,
    error: Option<String>,
) -> Response {
    let t = ctx.tr();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        status,
        &EnrolPage {
            t,
            base,
            action: if signing_in {
                "/login/twofactor/enrol"
            } else {
                "/account/twofactor"
            },
            qr: if signing_in {
                "/login/twofactor/qr.svg"
            } else {
                "/account/twofactor/qr.svg"
            },
            secret_grouped: grouped(&secret),
            secret,
            required,
            signing_in,
            error,
        },
    )
}

fn recovery_page(ctx: &Ctx, base: Base, codes: Vec<String>, next: String) -> Response {
    page(
        StatusCode::OK,
        &RecoveryPage {
            t: ctx.tr(),
            base,
            codes,
            next,
        },
    )
}

/// Forced enrolment during sign-in: nothing else is reachable until it is done.
pub async fn login_enrol_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    let Some((p, user)) = pending(&state, &ctx, &headers).await? else {
        return Ok(back_to_login());
    };
    if p.purpose != Purpose::Enrol {
        return Ok(Redirect::to("/login/twofactor").into_response());
    }
    let Some(secret) = enrolment_secret(&state, &user.id).await? else {
        return Ok(back_to_login());
    };
    let t = ctx.tr();
    let base = Base::new(&ctx, t.get("twofactor.enrol_title"), vec![]);
    Ok(enrol_page(&ctx, base, secret, true, true, None))
}

pub async fn login_enrol(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(f): Form<CodeForm>,
) -> WebResult<Response> {
    let Some((p, user)) = pending(&state, &ctx, &headers).await? else {
        return Ok(back_to_login());
    };
    if p.purpose != Purpose::Enrol {
        return Ok(Redirect::to("/login/twofactor").into_response());
    }
    let t = ctx.tr();
    let mut actor = ctx.actor();
    actor.user_id = Some(user.id.clone());
    actor.username = user.username.clone();
    actor.region_code = user.region_code.clone();
    match confirm_enrolment(&state, &actor, &user, &f.code).await? {
        Some(codes) => {
            let base = Base::new(&ctx, t.get("twofactor.recovery_title"), vec![]);
            let then = recovery_page(&ctx, base, codes, p.next.clone());
            finish(&state, &ctx, &p, &user, "totp_enrol", then).await
        }
        None => {
            let Some(secret) = enrolment_secret(&state, &user.id).await? else {
                return Ok(back_to_login());
            };
            let base = Base::new(&ctx, t.get("twofactor.enrol_title"), vec![]);
            Ok(enrol_page(
                &ctx,
                base,
                secret,
                true,
                true,
                Some(t.get("twofactor.code_wrong").to_owned()),
            ))
        }
    }
}

pub async fn login_qr(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    let Some((p, user)) = pending(&state, &ctx, &headers).await? else {
        return Err(WebError::NotFound);
    };
    if p.purpose != Purpose::Enrol {
        return Err(WebError::NotFound);
    }
    let secret = enrolment_secret(&state, &user.id)
        .await?
        .ok_or(WebError::NotFound)?;
    qr_response(&otpauth_uri(&ctx.tr(), &user.username, &secret))
}

/// A signed-in session (not an API token): enrolment is a page action.
fn session_user(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    if u.session_hash.is_none() {
        return Err(WebError::Forbidden);
    }
    Ok(u)
}

async fn is_required(state: &AppState, u: &users::User) -> WebResult<bool> {
    let mut c = state.db.read().await?;
    Ok(store::required_for(
        &mut c,
        state.config.twofactor_for_administrators,
        u.role(),
        &u.region_code,
    )
    .await?)
}

fn account_crumbs(t: &Tr) -> Vec<Crumb> {
    vec![
        Crumb::link(t.get("menu.account"), "/account"),
        Crumb::here(t.get("twofactor.title")),
    ]
}

async fn account_view(state: &AppState, ctx: &Ctx, error: Option<String>) -> WebResult<Response> {
    let u = session_user(ctx)?;
    let t = ctx.tr();
    let required = is_required(state, &u.user).await?;
    let (enrolment, left) = {
        let mut c = state.db.read().await?;
        let e = store::get(&mut c, &u.user.id).await?;
        let left = store::recovery_left(&mut c, &u.user.id).await?;
        (e, left)
    };
    let base = Base::new(ctx, t.get("twofactor.title"), account_crumbs(&t));
    match enrolment.and_then(|e| e.confirmed_at) {
        Some(at) => Ok(page(
            if error.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            },
            &AccountPage {
                t,
                base,
                enrolled_at: t.datetime(at),
                recovery_left: left,
                required,
                error,
            },
        )),
        None => {
            let secret = enrolment_secret(state, &u.user.id)
                .await?
                .ok_or(WebError::NotFound)?;
            Ok(enrol_page(ctx, base, secret, false, required, error))
        }
    }
}

/// One's own second factor: its state, or enrolment when there is none.
pub async fn account_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    account_view(&state, &ctx, None).await
}

pub async fn account_enrol(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CodeForm>,
) -> WebResult<Response> {
    let u = session_user(&ctx)?;
    let t = ctx.tr();
    match confirm_enrolment(&state, &ctx.actor(), &u.user, &f.code).await? {
        Some(codes) => {
            let base = Base::new(&ctx, t.get("twofactor.recovery_title"), account_crumbs(&t));
            Ok(recovery_page(&ctx, base, codes, "/account".to_owned()))
        }
        None => account_view(&state, &ctx, Some(t.get("twofactor.code_wrong").to_owned())).await,
    }
}

pub async fn account_qr(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = session_user(&ctx)?;
    let secret = enrolment_secret(&state, &u.user.id)
        .await?
        .ok_or(WebError::NotFound)?;
    qr_response(&otpauth_uri(&ctx.tr(), &u.user.username, &secret))
}

/// Turn one's own second factor off, with a current code; refused where it is required.
pub async fn account_disable(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CodeForm>,
) -> WebResult<Response> {
    let u = session_user(&ctx)?;
    let t = ctx.tr();
    if is_required(&state, &u.user).await? {
        return account_view(
            &state,
            &ctx,
            Some(t.get("twofactor.required_cannot_disable").to_owned()),
        )
        .await;
    }
    let enrolment = {
        let mut c = state.db.read().await?;
        store::get(&mut c, &u.user.id).await?
    };
    let Some(enrolment) = enrolment.filter(|e| e.is_confirmed()) else {
        return Ok(Redirect::to("/account/twofactor").into_response());
    };
    let now = state.now();
    let secret = keys_open(&state, &enrolment.secret_sealed)?;
    let mut tx = state.db.begin().await?;
    let ok = match check_code(&secret, &f.code, now)? {
        Some(step) => store::use_step(&mut tx, &u.user.id, step).await?,
        None => false,
    };
    if !ok {
        let locked = users::auth::record_failure(
            &mut tx,
            &u.user.id,
            state.config.lockout.max_failures,
            state.config.lockout.minutes * 60_000,
            now,
        )
        .await?;
        if locked.is_some() {
            sessions::delete_for_user(&mut tx, &u.user.id).await?;
            tx.commit().await?;
            return Ok(back_to_login());
        }
        tx.commit().await?;
        return account_view(&state, &ctx, Some(t.get("twofactor.code_wrong").to_owned())).await;
    }
    store::remove(&mut tx, &u.user.id).await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("twofactor_disable", "user", Some(u.user.id.clone()))
            .region(u.user.region_code.clone())
            .changes(vec![Change::new("twofactor", Some("totp"), None::<String>)]),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/account?notice=notice.twofactor_disabled").into_response())
}

// ---------------------------------------------------------------------------------------------
// Region requirements (security administrator)

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
    let u = security_admin(&ctx)?;
    let t = ctx.tr();
    let code = match region_of(&state, u, &f.region).await? {
        Ok(c) => c,
        Err(key) => {
            return admin_view(
                &state,
                &ctx,
                f.region.clone(),
                Some(t.get(key).to_owned()),
                None,
            )
            .await;
        }
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if let Some(ended) = store::require_region(&mut tx, &code, &u.user.id, now).await? {
        audit::record(
            &mut tx,
            state.db.backend(),
            &ctx.actor(),
            Event::new("twofactor_require", "region", Some(code.clone()))
                .region(code.clone())
                .changes(vec![
                    Change::new("twofactor_required", Some(false), Some(true)),
                    Change::new("sessions_ended", None::<i64>, Some(ended as i64)),
                ]),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/twofactor?notice=notice.saved").into_response())
}

pub async fn admin_unrequire(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RegionForm>,
) -> WebResult<Response> {
    let u = security_admin(&ctx)?;
    let code = match Scope::parse_region(&f.region) {
        Ok(Some(c)) => c.as_str().to_owned(),
        Ok(None) => String::new(),
        Err(e) => return Err(e.into()),
    };
    if !u.scope().contains_region(&code) {
        return Err(WebError::NotFound);
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if store::unrequire_region(&mut tx, &code).await? {
        audit::record(
            &mut tx,
            state.db.backend(),
            &ctx.actor(),
            Event::new("twofactor_unrequire", "region", Some(code.clone()))
                .region(code.clone())
                .changes(vec![Change::new(
                    "twofactor_required",
                    Some(true),
                    Some(false),
                )]),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/twofactor?notice=notice.saved").into_response())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1, truncated to six digits.
        let secret = totp_rs::Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(check_code(&secret, "287082", 59_000).unwrap(), Some(1));
        assert_eq!(
            check_code(&secret, "081804", 1_111_111_109_000).unwrap(),
            Some(37_037_036)
        );
        assert_eq!(check_code(&secret, "000000", 59_000).unwrap(), None);
        assert_eq!(check_code(&secret, "28708", 59_000).unwrap(), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalised() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut set: Vec<_> = codes.iter().map(|c| store::normalize_recovery(c)).collect();
        set.sort();
        set.dedup();
        assert_eq!(set.len(), 10);
        assert_eq!(
            store::recovery_hash(&codes[0].to_uppercase()),
            store::recovery_hash(&codes[0].replace('-', " "))
        );
    }

    #[test]
    fn otpauth_uri_is_percent_encoded() {
        let t = Tr::new(crate::ui::i18n::Lang::En);
        let uri = otpauth_uri(&t, "a b", "ABC");
        assert!(uri.starts_with("otpauth://totp/"));
        assert!(uri.contains(":a%20b?secret=ABC&"));
    }
}
