//! Enrolling a second factor: TOTP secrets and codes (RFC 6238), the otpauth QR code, recovery
//! codes, and the enrolment and recovery-code pages shared by the sign-in and account flows.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use rand::seq::IndexedRandom;
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::admin::twofactor as store;
use shegong_store::admin::users;

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, page};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

/// TOTP parameters (RFC 6238 defaults every authenticator app understands).
const DIGITS: u8 = 6;
const STEP_SECS: u64 = 30;
const RECOVERY_CODES: usize = 10;

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
pub(super) fn check_code(secret_b32: &str, code: &str, now_millis: i64) -> WebResult<Option<i64>> {
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
pub(super) fn looks_like_totp(code: &str) -> bool {
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
pub(super) fn otpauth_uri(t: &Tr, username: &str, secret_b32: &str) -> String {
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
pub(crate) fn qr_response(uri: &str) -> WebResult<Response> {
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
                // The alphabet is a non-empty constant, so `choose` always picks one.
                s.push(ALPHABET.choose(&mut rng).map_or('a', |&b| char::from(b)));
            }
            s
        })
        .collect()
}

pub(super) fn keys_open(state: &AppState, sealed: &str) -> WebResult<String> {
    state
        .keys
        .open(store::SECRET_FIELD, sealed)
        .map_err(|e| WebError::Internal(anyhow::anyhow!("opening a TOTP secret: {e}")))
}

/// The enrolment in progress for an account, started when there is none (so reloading the page
/// keeps the secret the user may already have scanned). `None` when already confirmed.
pub(super) async fn enrolment_secret(state: &AppState, user_id: &str) -> WebResult<Option<String>> {
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
pub(super) async fn confirm_enrolment(
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

fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn enrol_page(
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

pub(super) fn recovery_page(ctx: &Ctx, base: Base, codes: Vec<String>, next: String) -> Response {
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
