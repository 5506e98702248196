//! Two-factor sign-in (TOTP, RFC 6238): enrolment, verification at login, recovery codes, reset.

use axum::Router;

use crate::AppState;

/// The two-factor pages and API operations, merged into the application's router.
pub fn routes() -> Router<AppState> {
    Router::new()
}
