//! Rendering shared by every page: the shell (`Base`: top bar, menu, breadcrumbs), the error
//! pages and JSON problem bodies, and security headers.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;
use shegong_store::admin::audit::{self, Event, Outcome};

use crate::http::area::MenuSection;
use crate::http::assets;
use crate::http::auth::Ctx;
use crate::http::error::{ErrorInfo, WebError};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

pub struct MenuItem {
    pub label: String,
    pub href: &'static str,
    pub active: bool,
}

pub struct MenuGroup {
    pub title: String,
    pub items: Vec<MenuItem>,
}

pub struct Crumb {
    pub label: String,
    pub href: Option<String>,
}

impl Crumb {
    pub fn link(label: impl Into<String>, href: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            href: Some(href.into()),
        }
    }

    pub fn here(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            href: None,
        }
    }
}

pub struct UserBar {
    pub display_name: String,
    pub username: String,
    pub role: String,
    pub scope: String,
}

/// What the layout needs; every page struct carries one as `base` and its translator as `t`.
pub struct Base {
    pub title: String,
    pub user: Option<UserBar>,
    pub menu: Vec<MenuGroup>,
    pub crumbs: Vec<Crumb>,
    pub csrf: String,
    /// The current path.
    pub path: String,
    /// The current path and query, URL-encoded for a `next=` parameter: the language switch
    /// comes back to exactly this page (`/lang/en?next=…`). `set_lang` accepts local paths only.
    pub lang_next: String,
    pub notice: Option<String>,
    pub css: &'static str,
    pub js: &'static str,
}

/// The left menu: every area's sections, by rank (built once).
static MENU: std::sync::LazyLock<Vec<&'static MenuSection>> = std::sync::LazyLock::new(|| {
    let mut sections: Vec<&'static MenuSection> =
        crate::AREAS.iter().flat_map(|a| a.menu.iter()).collect();
    sections.sort_by_key(|s| s.rank);
    sections
});

impl Base {
    pub fn new(ctx: &Ctx, title: impl Into<String>, crumbs: Vec<Crumb>) -> Self {
        let t = ctx.tr();
        let user = ctx.user.as_ref();
        let menu = match user {
            None => vec![],
            Some(u) => MENU
                .iter()
                .map(|section| MenuGroup {
                    title: t.get(section.group).to_owned(),
                    items: section
                        .entries
                        .iter()
                        .filter(|(_, _, p)| p.is_none_or(|p| u.can(p)))
                        .map(|(key, href, _)| MenuItem {
                            label: t.get(key).to_owned(),
                            href,
                            active: if *href == "/" {
                                ctx.path == "/"
                            } else {
                                ctx.path.starts_with(href)
                            },
                        })
                        .collect(),
                })
                .filter(|g| !g.items.is_empty())
                .collect(),
        };
        Self {
            title: title.into(),
            user: user.map(|u| UserBar {
                display_name: u.user.display_name.clone(),
                username: u.user.username.clone(),
                role: t.role(&u.user.role),
                scope: scope_label(&t, u.user.region_path.as_deref(), &u.user.region_code),
            }),
            menu,
            crumbs,
            csrf: ctx.csrf.clone(),
            path: ctx.path.clone(),
            lang_next: urlencode(&ctx.path_and_query()),
            notice: None,
            css: assets::url("app.css"),
            js: assets::url("app.js"),
        }
    }

    /// Make the language switch come back to `target` (a local path with its query) instead of
    /// the current request's, e.g. the sign-in form after a failed POST.
    pub fn with_lang_next(mut self, target: &str) -> Self {
        self.lang_next = urlencode(target);
        self
    }

    /// Show a confirmation from a `?notice=` key after a redirect (only `notice.*` keys).
    pub fn with_notice(mut self, t: &Tr, key: Option<&str>) -> Self {
        self.notice = key
            .filter(|k| {
                k.starts_with("notice.")
                    && k.bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
            })
            .map(|k| t.get(k).to_owned());
        self
    }
}

/// "湖南省 / 株洲市" for a region path, "全国" for the whole country.
pub fn scope_label(t: &Tr, path_names: Option<&str>, code: &str) -> String {
    match path_names {
        Some(p) if !code.is_empty() => shegong_domain::network::region::display_path(p.split('/')),
        _ if code.is_empty() => t.get("scope.national").to_owned(),
        _ => code.to_owned(),
    }
}

/// Render a template into a response (500 on a template error, which tests rule out).
/// A form page's status: 200, or 422 when it is shown again with errors.
pub fn form_status<T>(errors: &[T]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

pub fn page(status: StatusCode, tpl: &impl Template) -> Response {
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => WebError::Internal(anyhow::anyhow!("template: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Tr,
    base: Base,
    status: u16,
    /// The explanation under the short heading (`base.title`).
    message: String,
    request_id: String,
    /// The page the request came from (a form rejected with this error), to go back to.
    back: Option<String>,
}

/// A short heading for an error page: by code where one needs its own (an expired form), else
/// by status. The explanation goes in the paragraph below.
fn error_title_key(status: StatusCode, code: &str) -> &'static str {
    match (status, code) {
        (_, "error.csrf") => "error.title.csrf",
        (StatusCode::NOT_FOUND, _) => "error.title.not_found",
        (StatusCode::FORBIDDEN, _) => "error.title.forbidden",
        (StatusCode::UNPROCESSABLE_ENTITY, _) => "error.title.invalid",
        (StatusCode::PAYLOAD_TOO_LARGE, _) => "error.title.too_large",
        (StatusCode::INTERNAL_SERVER_ERROR, _) => "error.title.internal",
        _ => "error.title.generic",
    }
}

#[derive(Serialize)]
pub struct Problem {
    /// Stable machine code, e.g. `not_found`, `invalid`.
    pub code: String,
    pub status: u16,
    pub title: String,
    pub errors: Vec<ProblemField>,
    pub request_id: Option<String>,
}

#[derive(Serialize)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An API problem about one field whose message carries values the message key alone cannot
/// (an upload's limit and what was found).
pub fn field_problem(
    ctx: &Ctx,
    status: StatusCode,
    field: &str,
    code: &str,
    message: String,
) -> Response {
    let kind = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "error.too_large"
    } else {
        "error.invalid"
    };
    problem(
        status,
        Problem {
            code: kind.trim_start_matches("error.").to_owned(),
            status: status.as_u16(),
            title: ctx.tr().get(kind).to_owned(),
            errors: vec![ProblemField {
                field: field.to_owned(),
                code: code.to_owned(),
                message,
            }],
            request_id: ctx.request_id.clone(),
        },
    )
}

fn problem(status: StatusCode, body: Problem) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

fn render_error(state: &AppState, ctx: &Ctx, info: &ErrorInfo) -> Response {
    let t = ctx.tr();
    if ctx.is_api {
        let body = Problem {
            code: info.code.trim_start_matches("error.").to_owned(),
            status: info.status.as_u16(),
            title: t.get(info.code).to_owned(),
            errors: info
                .fields
                .iter()
                .map(|f| ProblemField {
                    field: f.field.to_owned(),
                    code: f.code.to_owned(),
                    message: t.get(f.code).to_owned(),
                })
                .collect(),
            request_id: ctx.request_id.clone(),
        };
        return problem(info.status, body);
    }
    match info.status {
        StatusCode::UNAUTHORIZED => {
            let next = urlencode(&ctx.path_and_query());
            return Redirect::to(&format!("/login?next={next}")).into_response();
        }
        StatusCode::FORBIDDEN if info.code == "error.password_change_required" => {
            return Redirect::to("/account/password").into_response();
        }
        _ => {}
    }
    let _ = state;
    // Each rejected field by its label: "文件：文件超过 10 MB。".
    let message = if info.fields.is_empty() {
        t.get(info.code).to_owned()
    } else {
        info.fields
            .iter()
            .map(|f| {
                let label = t.try_get(&format!("field.{}", f.field)).unwrap_or(f.field);
                format!("{label}{}{}", t.get("punct.colon"), t.get(f.code))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let here = ctx.path_and_query();
    let back = ctx.referer.clone().filter(|r| *r != here);
    page(
        info.status,
        &ErrorPage {
            t,
            base: Base::new(ctx, t.get(error_title_key(info.status, info.code)), vec![]),
            status: info.status.as_u16(),
            message,
            request_id: ctx.request_id.clone().unwrap_or_default(),
            back,
        },
    )
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|v| v.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

async fn audit_denial(state: &AppState, ctx: &Ctx, method: &str) {
    let event = Event::new(
        "permission_denied",
        "route",
        Some(format!("{method} {}", ctx.path)),
    )
    .outcome(Outcome::Denied);
    let result = async {
        let mut tx = state.db.begin().await?;
        audit::record(
            &mut tx,
            state.db.backend(),
            &ctx.actor(),
            event,
            state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, shegong_store::StoreError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not audit a permission denial");
    }
}

/// Turn `WebError`s (marked by an `ErrorInfo` extension) into pages or problem bodies.
pub async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ctx = req.extensions().get::<Ctx>().cloned();
    let method = req.method().to_string();
    let res = next.run(req).await;
    let info = match res.extensions().get::<ErrorInfo>().cloned() {
        Some(info) => info,
        // The framework's own rejections (a malformed query string, form or JSON body) come as
        // English plain text: give them the same page or problem body as every other error.
        None if is_plain_rejection(&res) => ErrorInfo {
            status: res.status(),
            code: match res.status() {
                StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "error.unsupported_media",
                StatusCode::METHOD_NOT_ALLOWED => "error.method_not_allowed",
                _ => "error.bad_request",
            },
            fields: vec![],
        },
        None => return res,
    };
    let Some(ctx) = ctx else { return res };
    if info.status == StatusCode::FORBIDDEN && info.code == "error.forbidden" {
        audit_denial(&state, &ctx, &method).await;
    }
    let mut out = render_error(&state, &ctx, &info);
    // Keep cookies a handler set (e.g. a cleared session) and the methods a 405 allows.
    for v in res.headers().get_all(header::SET_COOKIE) {
        out.headers_mut().append(header::SET_COOKIE, v.clone());
    }
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

fn is_plain_rejection(res: &Response) -> bool {
    // The router's own 405 has no body at all.
    if res.status() == StatusCode::METHOD_NOT_ALLOWED {
        return true;
    }
    matches!(
        res.status(),
        StatusCode::BAD_REQUEST
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::PAYLOAD_TOO_LARGE
    ) && res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"))
}

/// For middleware that fails before a handler runs.
pub fn error_response(state: &AppState, ctx: &Ctx, err: WebError) -> Response {
    let info = err.info();
    if let WebError::Internal(e) = &err {
        tracing::error!(error = format!("{e:#}"), "internal error");
    }
    render_error(state, ctx, &info)
}

/// The unmatched route: a not-found page (or problem body).
/// Where a `next=` parameter may send the browser: a path on this site, else `/`. Browsers
/// read `/\host` as `//host` and drop tabs and line breaks inside URLs, so a backslash, any
/// whitespace or control character, or a leading `//` makes the target unsafe.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n
                    .chars()
                    .any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub async fn fallback() -> WebError {
    WebError::NotFound
}

/// CSP and friends on every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path() == "/api/docs";
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Swagger UI sets inline styles and loads its spec with fetch; nothing needs inline script.
    let csp = if docs {
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    } else {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(self)"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
