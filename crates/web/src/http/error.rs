//! Errors of the web layer. A handler returns `WebError`; the `render_errors` middleware turns
//! it into an HTML page or a JSON problem body in the request's language, and audits permission
//! denials, so handlers never format errors themselves.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shegong_domain::FieldError;
use shegong_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("CSRF check failed")]
    Csrf,
    #[error("password change required")]
    PasswordChangeRequired,
    /// The request body is over the configured limit.
    #[error("request body too large")]
    TooLarge,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request collides with one still in progress: 409 with this message key as its code.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The server has no room for the request now (every slot of a bounded kind of work is
    /// taken): 503 with this message key as its code; the same request may be sent again later.
    #[error("busy: {0}")]
    Busy(&'static str),
    /// Not an error: the request is answered by a 303 to this address (a list page asked for a
    /// page past its last one goes to the last page).
    #[error("see other")]
    SeeOther(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type WebResult<T> = Result<T, WebError>;

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Invalid(f) => WebError::Invalid(vec![f]),
            StoreError::Db(e) => WebError::Internal(e.into()),
        }
    }
}

impl From<shegong_store::SqlxError> for WebError {
    fn from(e: shegong_store::SqlxError) -> Self {
        StoreError::from(e).into()
    }
}

impl From<FieldError> for WebError {
    fn from(f: FieldError) -> Self {
        WebError::Invalid(vec![f])
    }
}

/// What the renderer needs to know, carried in the response extensions.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    /// Stable machine code, also the message key: `error.not_found`, `password.too_short`, …
    pub code: &'static str,
    pub fields: Vec<FieldError>,
}

impl WebError {
    pub fn info(&self) -> ErrorInfo {
        let (status, code) = match self {
            WebError::Unauthenticated => (StatusCode::UNAUTHORIZED, "error.unauthenticated"),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "error.forbidden"),
            WebError::NotFound => (StatusCode::NOT_FOUND, "error.not_found"),
            WebError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "error.invalid"),
            WebError::Csrf => (StatusCode::FORBIDDEN, "error.csrf"),
            WebError::PasswordChangeRequired => {
                (StatusCode::FORBIDDEN, "error.password_change_required")
            }
            WebError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "error.too_large"),
            WebError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "error.method_not_allowed")
            }
            WebError::Conflict(code) => (StatusCode::CONFLICT, *code),
            WebError::Busy(code) => (StatusCode::SERVICE_UNAVAILABLE, *code),
            WebError::SeeOther(_) => (StatusCode::SEE_OTHER, "error.see_other"),
            WebError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "error.internal"),
        };
        ErrorInfo {
            status,
            code,
            fields: match self {
                WebError::Invalid(f) => f.clone(),
                _ => vec![],
            },
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::SeeOther(to) = &self {
            return axum::response::Redirect::to(to).into_response();
        }
        if let WebError::Internal(e) = &self {
            // The cause chain goes to the log; the user sees a plain message and the request id.
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        let info = self.info();
        let mut res = info.status.into_response();
        res.extensions_mut().insert(info);
        res
    }
}
