//! Two-factor sign-in (TOTP, RFC 6238): the second step of signing in, with a code, a recovery
//! code, or enrolment first when a second factor is required and missing.
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
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_store::Conn;
use shegong_store::admin::audit::{self, Change, Event, Outcome};
use shegong_store::admin::twofactor::{self as store, Purpose};
use shegong_store::{admin::sessions, admin::users};

use crate::admin::account::open_session;
use crate::admin::twofactor_enrol::{
    check_code, confirm_enrolment, enrol_page, enrolment_secret, keys_open, looks_like_totp,
    otpauth_uri, qr_response, recovery_page,
};
use crate::http::auth::{Ctx, cookie, set_cookie};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, page};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

/// The cookie of a sign-in waiting for its second step.
pub const PENDING_COOKIE: &str = "sg_2fa";

/// How long the second step may take after the password.
const PENDING_TTL: i64 = 10 * 60_000;

#[derive(Template)]
#[template(path = "admin/twofactor_verify.html")]
struct VerifyPage {
    t: Tr,
    base: Base,
    error: Option<String>,
    /// Locked out: no form, only the way back to the sign-in page.
    locked: bool,
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

pub(super) fn back_to_login() -> Response {
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
    pub code: String,
}

/// The second step: an authenticator code (each step accepted once) or a recovery code (each
/// once). Wrong codes count towards the account's lockout like wrong passwords.
/// The verify page for a locked account, ending the pending sign-in.
fn locked_page(state: &AppState, ctx: &Ctx, minutes: i64) -> WebResult<Response> {
    let t = ctx.tr();
    let mut res = verify_page(
        ctx,
        StatusCode::UNAUTHORIZED,
        Some(t.fmt("login.locked", &[("minutes", &minutes.to_string())])),
        true,
    );
    res.headers_mut()
        .append(header::SET_COOKIE, pending_cookie(state, "", Some(0))?);
    Ok(res)
}

/// Check a TOTP code or a recovery code, using it up when right: (accepted, method, the reason
/// for the audit entry when refused).
async fn check_second_factor(
    state: &AppState,
    tx: &mut Conn,
    user_id: &str,
    enrolment: &store::Enrolment,
    code: &str,
    now: i64,
) -> WebResult<(bool, &'static str, &'static str)> {
    if looks_like_totp(code) {
        let secret = keys_open(state, &enrolment.secret_sealed)?;
        return Ok(match check_code(&secret, code, now)? {
            Some(step) if store::use_step(tx, user_id, step).await? => (true, "totp", ""),
            Some(_) => (false, "totp", "replayed_code"),
            None => (false, "totp", "bad_code"),
        });
    }
    Ok(if store::use_recovery(tx, user_id, code, now).await? {
        (true, "recovery_code", "")
    } else {
        (false, "recovery_code", "bad_recovery_code")
    })
}

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
        return locked_page(&state, &ctx, minutes);
    }
    let enrolment = {
        let mut c = state.db.read().await?;
        store::get(&mut c, &user.id).await?
    };
    let Some(enrolment) = enrolment.filter(|e| e.is_confirmed()) else {
        // Reset meanwhile: start over.
        return Ok(back_to_login());
    };
    let mut tx = state.db.begin().await?;
    let (accepted, method, reason) =
        check_second_factor(&state, &mut tx, &user.id, &enrolment, f.code.trim(), now).await?;
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
        return locked_page(&state, &ctx, state.config.lockout.minutes);
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
