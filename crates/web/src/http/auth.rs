//! Who is asking: resolves the session cookie or bearer token of every request into a `Ctx`
//! (language, request id, client address, the signed-in user, the CSRF token) that handlers
//! extract. Login, logout and password changes live in `account.rs`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use cookie::{Cookie, SameSite};
use shegong_domain::{Permission, Role, Scope};
use shegong_store::admin::audit::Actor;
use shegong_store::admin::sessions::Session;
use shegong_store::admin::users::User;
use shegong_store::{admin::sessions, admin::tokens, admin::users};

use crate::http::credentials::Resolved;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::i18n::{Lang, Tr};

pub const SESSION_COOKIE: &str = "sg_session";
/// Before login there is no session: the login form's CSRF token is a cookie of its own.
pub const PRE_SESSION_COOKIE: &str = "sg_csrf";

/// API paths open without credentials: the API's own documentation, and what the public portal
/// publishes (documented with an empty security requirement).
const PUBLIC_API: &[&str] = &[
    "/api/v1/openapi.json",
    "/api/docs",
    "/api/v1/public/purchase",
];

/// The value of cookie `name` in the request headers (the first one of that name).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when configured.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: Option<i64>) -> String {
    let mut c = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies);
    if let Some(age) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(age));
    }
    c.to_string()
}

/// The signed-in user, if they may read business data (every area's pages and API reads).
pub fn reader(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::ReadData)?;
    Ok(u)
}

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// The session's hash; `None` when the request came with an API token.
    pub session_hash: Option<String>,
    /// The session's CSRF token; `None` for API tokens (no cookie, so no CSRF).
    pub csrf_token: Option<String>,
}

impl CurrentUser {
    pub fn role(&self) -> Role {
        self.user.role()
    }

    pub fn scope(&self) -> Scope {
        self.user.scope()
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role().has(p)
    }

    pub fn require(&self, p: Permission) -> WebResult<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }
}

/// Per-request context, built once by the `context` middleware.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user: Option<CurrentUser>,
    /// The token a form or script request must echo (session's, or the pre-session cookie's).
    pub csrf: String,
    /// Whether the pre-session CSRF cookie must be set on the response.
    pub new_pre_session: bool,
    pub path: String,
    /// The raw query string (without `?`; empty when none), kept for links back to this page.
    pub query: String,
    pub is_api: bool,
    /// The page this request came from, when it is a page of this site (path and query from
    /// the Referer header): where an error page links back to.
    pub referer: Option<String>,
}

impl Ctx {
    pub fn tr(&self) -> Tr {
        Tr::new(self.lang)
    }

    /// The signed-in user, or 401; and 403 while a temporary password awaits its change.
    pub fn user(&self) -> WebResult<&CurrentUser> {
        let u = self.user.as_ref().ok_or(WebError::Unauthenticated)?;
        if u.user.must_change_password != 0 {
            return Err(WebError::PasswordChangeRequired);
        }
        Ok(u)
    }

    /// The path with its query string, e.g. `/login?next=%2Fregions`: where "come back here"
    /// links (language switch, sign-in) should lead.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The audit actor for writes made by this request.
    pub fn actor(&self) -> Actor {
        match &self.user {
            Some(u) => Actor {
                user_id: Some(u.user.id.clone()),
                username: u.user.username.clone(),
                region_code: u.user.region_code.clone(),
                request_id: self.request_id.clone(),
                ip: self.ip.clone(),
            },
            None => Actor {
                user_id: None,
                username: "-".into(),
                region_code: String::new(),
                request_id: self.request_id.clone(),
                ip: self.ip.clone(),
            },
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| WebError::Internal(anyhow::anyhow!("context middleware missing")))
    }
}

fn client_ip(state: &AppState, req: &Request) -> Option<String> {
    if state.config.trust_proxy
        && let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
    {
        return Some(first.trim().to_owned());
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

async fn resolve_user(state: &AppState, headers: &HeaderMap) -> WebResult<Option<CurrentUser>> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return by_token(state, bearer.trim()).await.map(Some);
    }
    match cookie(headers, SESSION_COOKIE) {
        Some(token) => by_session(state, &token).await,
        None => Ok(None),
    }
}

/// The account behind an API token (401 when unknown, revoked, or its account disabled or
/// locked). Read at most every `credentials::FRESH`; its use recorded at most once a minute.
async fn by_token(state: &AppState, secret: &str) -> WebResult<CurrentUser> {
    let now = state.now();
    let key = format!("t{}", sessions::hash_token(secret));
    let (id, last_used, user) = match state.credentials.get(&key) {
        Some(Resolved::Token {
            id,
            last_used,
            user,
        }) => (id, last_used, user),
        _ => {
            let (epoch, read_at) = (state.credentials.epoch(), Instant::now());
            let mut conn = state.db.read().await?;
            let (id, user_id, last_used) = match tokens::authenticate(&mut conn, secret).await {
                Ok(found) => found,
                Err(shegong_store::StoreError::NotFound) => return Err(WebError::Unauthenticated),
                Err(e) => return Err(e.into()),
            };
            let user = users::auth::by_id(&mut conn, &user_id).await?;
            drop(conn);
            let resolved = Resolved::Token {
                id: id.clone(),
                last_used,
                user: user.clone(),
            };
            state.credentials.put(key.clone(), epoch, read_at, resolved);
            (id, last_used, user)
        }
    };
    if last_used.is_none_or(|t| now - t > 60_000) {
        let mut tx = state.db.begin().await?;
        tokens::touch(&mut tx, &id, now).await?;
        tx.commit().await?;
        let resolved = Resolved::Token {
            id,
            last_used: Some(now),
            user: user.clone(),
        };
        state.credentials.touched(&key, resolved);
    }
    if user.is_disabled() || user.is_locked(now) {
        return Err(WebError::Unauthenticated);
    }
    Ok(CurrentUser {
        user,
        session_hash: None,
        csrf_token: None,
    })
}

/// The account behind a session cookie; none when the session is unknown, idle too long or its
/// account disabled. Read at most every `credentials::FRESH`; its activity recorded at most
/// once a minute.
async fn by_session(state: &AppState, token: &str) -> WebResult<Option<CurrentUser>> {
    let now = state.now();
    let idle = state.config.session_idle_millis();
    let key = format!("s{}", sessions::hash_token(token));
    let (session, user) = match state.credentials.get(&key) {
        Some(Resolved::Session { session, user }) => (session, user),
        _ => {
            let (epoch, read_at) = (state.credentials.epoch(), Instant::now());
            let mut conn = state.db.read().await?;
            let Some(session) = sessions::lookup(&mut conn, token, idle, now).await? else {
                return Ok(None);
            };
            let user = users::auth::by_id(&mut conn, &session.user_id).await?;
            drop(conn);
            let resolved = Resolved::Session {
                session: session.clone(),
                user: user.clone(),
            };
            state.credentials.put(key.clone(), epoch, read_at, resolved);
            (session, user)
        }
    };
    // Checked again for a remembered session: idleness counts from its last recorded activity.
    if user.is_disabled() || now - session.last_seen_at > idle {
        return Ok(None);
    }
    let session = if now - session.last_seen_at > 60_000 {
        let mut tx = state.db.begin().await?;
        sessions::touch(&mut tx, &session.id_hash, now).await?;
        tx.commit().await?;
        let session = Session {
            last_seen_at: now,
            ..session
        };
        let resolved = Resolved::Session {
            session: session.clone(),
            user: user.clone(),
        };
        state.credentials.touched(&key, resolved);
        session
    } else {
        session
    };
    Ok(Some(CurrentUser {
        user,
        session_hash: Some(session.id_hash),
        csrf_token: Some(session.csrf_token),
    }))
}

/// The Referer's path and query when it names a page of this host (`Host` header), else none.
fn same_site_referer(headers: &axum::http::HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("https://")
        .or_else(|| referer.strip_prefix("http://"))?;
    let path = rest.strip_prefix(host)?;
    let path = path.split('#').next().unwrap_or_default();
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 2000
        && !path.chars().any(|c| c.is_control() || c == '\\');
    safe.then(|| path.to_owned())
}

/// Build the request's `Ctx`. A bad bearer token is a 401 here; a stale cookie is just no user.
pub async fn context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let is_api = path.starts_with("/api/");
    let lang = if is_api {
        // API clients choose by Accept-Language only.
        let mut h = headers.clone();
        h.remove(header::COOKIE);
        Lang::from_headers(&h)
    } else {
        Lang::from_headers(&headers)
    };
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip = client_ip(&state, &req);
    let mut ctx = Ctx {
        lang,
        request_id,
        ip,
        user: None,
        csrf: String::new(),
        new_pre_session: false,
        referer: same_site_referer(&headers),
        path,
        query,
        is_api,
    };
    match resolve_user(&state, &headers).await {
        Ok(user) => ctx.user = user,
        Err(e) => return crate::http::render::error_response(&state, &ctx, e),
    }
    // Authentication first: an API request without valid credentials learns nothing else —
    // not whether its body, query or CSRF token would have passed.
    if ctx.is_api && ctx.user.is_none() && !PUBLIC_API.contains(&ctx.path.as_str()) {
        return crate::http::render::error_response(&state, &ctx, WebError::Unauthenticated);
    }
    let session_csrf = ctx.user.as_ref().and_then(|u| u.csrf_token.clone());
    ctx.csrf = match (session_csrf, cookie(&headers, PRE_SESSION_COOKIE)) {
        (Some(token), _) => token,
        (None, Some(pre)) if pre.len() == 64 && pre.bytes().all(|b| b.is_ascii_hexdigit()) => pre,
        _ => {
            ctx.new_pre_session = true;
            sessions::random_token()
        }
    };
    req.extensions_mut().insert(ctx.clone());
    let mut res = next.run(req).await;
    if ctx.new_pre_session
        && !ctx.is_api
        && let Ok(v) = set_cookie(&state, PRE_SESSION_COOKIE, &ctx.csrf, None).parse()
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
