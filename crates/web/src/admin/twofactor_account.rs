//! The own account's second factor (`/account/twofactor`): status, enrolment and turning it
//! off (refused while the account must have one).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::admin::twofactor::{self as store};
use shegong_store::{admin::sessions, admin::users};

use crate::admin::twofactor::{CodeForm, back_to_login};
use crate::admin::twofactor_enrol::{
    check_code, confirm_enrolment, enrol_page, enrolment_secret, keys_open, otpauth_uri,
    qr_response, recovery_page,
};
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

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
