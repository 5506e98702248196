//! Self sign-in by QR code (`/checkin/{token}`, no login): the organiser shows the activity's
//! code; a volunteer signed up for it scans it, types their volunteer number and the last four
//! digits of their mobile, and signs in on arrival or out on leaving — at the server's time, under
//! the same attendance rules as the organiser's sign-in. The token is a 256-bit secret of the
//! activity, valid only while it is open; every sign-in is audited under the volunteer number.
//! Anyone at the activity holds the token, so wrong numbers and digits are counted per activity:
//! past `MAX_FAILURES` in `WINDOW_MILLIS` the code refuses everyone for the rest of the window
//! (the organiser can still sign people in), which keeps a guess at the four digits of some
//! volunteer's mobile below a few percent a day.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use shegong_domain::volunteers::activities::{ActivityStatus, SignInMethod};
use shegong_domain::{FieldError, Scope};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::volunteers::activities::{self as act, Activity, Mark};
use shegong_store::volunteers::registry::MOBILE_FIELD;

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, page};
use crate::http::state::AppState;
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, local_time};

#[derive(Template)]
#[template(path = "volunteers/checkin.html")]
struct CheckinPage {
    t: Tr,
    base: Base,
    a: Activity,
    when: String,
    f: FormData,
    error: Option<String>,
    done: Option<String>,
}

async fn open_activity(state: &AppState, token: &str) -> WebResult<Activity> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::NotFound);
    }
    let mut c = state.db.read().await?;
    let a = act::by_token(&mut c, token).await?;
    if a.status != ActivityStatus::Open {
        return Err(WebError::NotFound);
    }
    Ok(a)
}

fn render(
    ctx: &Ctx,
    a: Activity,
    f: FormData,
    error: Option<FieldError>,
    done: Option<String>,
) -> Response {
    let t = ctx.tr();
    let error = error.map(|e| FormErrors::new(t, vec![e]).others(&[]).join(" "));
    page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &CheckinPage {
            base: Base::new(ctx, t.get("checkin.title"), vec![]),
            when: format!("{} – {}", local_time(a.starts_at), local_time(a.ends_at)),
            a,
            f,
            error,
            done,
            t,
        },
    )
}

pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> WebResult<Response> {
    let a = open_activity(&state, &token).await?;
    Ok(render(&ctx, a, FormData::default(), None, None))
}

/// Failed sign-ins counted per activity before the code refuses everyone.
pub const MAX_FAILURES: usize = 20;
/// How long a failure counts.
pub const WINDOW_MILLIS: i64 = 15 * 60_000;
/// Whether the activity's code still takes attempts (failures are counted in the database, so
/// every instance refuses alike).
async fn open_for_attempts(state: &AppState, activity: &str, now: i64) -> WebResult<bool> {
    let mut c = state.db.read().await?;
    Ok(shegong_store::shared::checkin_open(
        &mut c,
        activity,
        MAX_FAILURES as i64,
        WINDOW_MILLIS,
        now,
    )
    .await?)
}

/// One failed attempt at the activity's code.
async fn failed_attempt(state: &AppState, activity: &str, now: i64) -> WebResult<()> {
    let mut tx = state.db.begin().await?;
    shegong_store::shared::checkin_failed(&mut tx, activity, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The last four digits of the sealed mobile match what was typed.
fn mobile_matches(state: &AppState, sealed: Option<&str>, typed: &str) -> bool {
    let Some(m) = sealed.and_then(|s| state.keys.open(MOBILE_FIELD, s).ok()) else {
        return false;
    };
    let digits: String = m.chars().filter(char::is_ascii_digit).collect();
    typed.len() == 4 && digits.ends_with(typed)
}

async fn mark(state: &AppState, ctx: &Ctx, a: &Activity, f: &FormData) -> WebResult<String> {
    let no = f.get("volunteer_no").trim();
    let tail = f.get("mobile_tail").trim();
    if no.is_empty() || no.len() > 32 {
        return Err(FieldError::new("volunteer_no", "form.required").into());
    }
    let now = state.now();
    if !open_for_attempts(state, &a.id, now).await? {
        return Err(FieldError::new("volunteer_no", "checkin.too_many_attempts").into());
    }
    let found = {
        let mut c = state.db.read().await?;
        act::volunteer_by_no(&mut c, &a.id, no).await
    };
    let (vid, sealed) = match found {
        Ok(v) => v,
        Err(e) => {
            failed_attempt(state, &a.id, now).await?;
            return Err(e.into());
        }
    };
    if !mobile_matches(state, sealed.as_deref(), tail) {
        failed_attempt(state, &a.id, now).await?;
        return Err(FieldError::new("mobile_tail", "checkin.mobile_mismatch").into());
    }
    let out = f.has("out", "1");
    let m = Mark {
        activity_id: &a.id,
        volunteer_id: &vid,
        at: now,
        method: SignInMethod::Qr,
    };
    let by = format!("qr:{no}");
    let mut tx = state.db.begin().await?;
    let scope = Scope::national();
    let mut changes = vec![Change::new(
        "volunteer_id",
        None::<String>,
        Some(vid.clone()),
    )];
    let done = if out {
        let r = act::sign_out(&mut tx, &scope, &m, (&by, now)).await?;
        changes.push(Change::new("minutes", None::<String>, Some(r.minutes)));
        "checkin.signed_out"
    } else {
        act::sign_in(&mut tx, &scope, &m, (&by, now)).await?;
        "checkin.signed_in"
    };
    let mut actor = ctx.actor();
    actor.username = by.clone();
    audit::record(
        &mut tx,
        state.db.backend(),
        &actor,
        Event::new(
            if out { "sign_out" } else { "sign_in" },
            "volunteer_activity",
            Some(a.id.clone()),
        )
        .region(a.region_code.clone())
        .changes(changes),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(format!("{} {}", ctx.tr().get(done), local_time(now)))
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let a = open_activity(&state, &token).await?;
    match mark(&state, &ctx, &a, &f).await {
        Ok(done) => Ok(render(&ctx, a, FormData::default(), None, Some(done))),
        Err(WebError::Invalid(e)) => Ok(render(&ctx, a, f, e.into_iter().next(), None)),
        Err(e) => Err(e),
    }
}
