//! HTTP tests: the real router driven with `oneshot`, on SQLite and PostgreSQL (`app_test!`).

// Integration tests fail by panicking: helpers unwrap, expect and index like the tests they serve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod accounts;
mod activities;
mod api;
mod api_parity;
mod api_retries;
mod charity;
mod community;
mod construction;
mod contact;
mod csv_export;
mod deliverables;
mod emergency;
mod english;
mod evaluations;
mod execution;
mod fixtures;
mod fuzz;
mod hardening;
mod hotline;
mod import_api;
mod import_messy;
mod import_purchase;
mod import_residents;
mod import_volunteers;
mod indicator_trees;
mod indicators;
mod inspections;
mod list_tools;
mod maps;
mod matching;
mod network_api;
mod notifications;
mod offline_app;
mod people;
mod people_api;
mod people_scope;
mod projects;
mod public_purchase;
mod purchase;
mod rectifications;
mod replica;
mod reports;
mod security;
mod staff;
mod stations;
mod stats;
mod tables;
mod timebank;
mod todo;
mod twofactor;
mod uploads;
mod users_api;
mod users_audit;
mod visit_earn;
mod visit_evidence;
mod volunteers;
mod walkthrough;
mod workbench;
mod write_path;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use shegong_domain::{Role, Scope};
use shegong_store::admin::audit::Actor;
use shegong_store::testing::TestDb;
use shegong_web::admin::users::{CreateUser, create_user};
use shegong_web::http::write::Author;
use shegong_web::{AppState, Config};
use tower::ServiceExt;

pub const PASSWORD: &str = "Test-Pass-2026";

pub struct TestApp {
    pub db: TestDb,
    pub state: AppState,
    router: Router,
    /// Added to the real clock: tests move time forward.
    offset: Arc<AtomicI64>,
}

impl TestApp {
    pub async fn new(db: TestDb) -> Self {
        // Administrators' second factor is tested in `twofactor.rs` (with `Config::default()`);
        // elsewhere a password signs in, as before.
        let config = Config {
            twofactor_for_administrators: false,
            ..Config::default()
        };
        Self::with_config(db, config).await
    }

    pub async fn with_config(db: TestDb, mut config: Config) -> Self {
        config.database_url = db.url.clone();
        config.attachments_dir = std::env::temp_dir()
            .join(format!("shegong-test-files-{}", uuid::Uuid::now_v7()))
            .display()
            .to_string();
        let offset = Arc::new(AtomicI64::new(0));
        let o = offset.clone();
        let clock: shegong_web::Clock =
            Arc::new(move || shegong_store::now_millis() + o.load(Ordering::SeqCst));
        let keys = shegong_store::crypto::KeyRing::from_spec(
            &shegong_store::crypto::KeyRing::generate_spec(
                shegong_store::crypto::Algorithm::Aes256Gcm,
            ),
        )
        .unwrap();
        let state = AppState::new(db.db.clone(), config, clock, keys);
        let router = shegong_web::router(state.clone());
        Self {
            db,
            state,
            router,
            offset,
        }
    }

    pub fn advance_minutes(&self, m: i64) {
        self.offset.fetch_add(m * 60_000, Ordering::SeqCst);
    }

    /// Create an account directly (permanent password unless `temporary`).
    pub async fn user(&self, username: &str, role: Role, region: &str, temporary: bool) -> String {
        let (id, _) = create_user(
            &self.state.db,
            &self.state.config.password,
            Author::Operator(&Actor::system("test")),
            CreateUser {
                username: username.into(),
                display_name: format!("{username} name"),
                role,
                scope: Scope {
                    region: Scope::parse_region(region).unwrap(),
                    org: None,
                },
                password: Some(PASSWORD.into()),
                temporary,
                is_demo: false,
            },
            self.state.now(),
        )
        .await
        .unwrap();
        id
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    /// A signed-in client for a new account with this role and scope.
    pub async fn login_as(&self, role: Role, region: &str) -> Client {
        let name = format!(
            "{}_{}",
            role.as_str().replace('_', ""),
            region.to_lowercase()
        );
        self.user(&name, role, region, false).await;
        let mut c = self.client();
        let res = c.login(&name, PASSWORD).await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "login of {name} failed: {}",
            res.text
        );
        c
    }
}

pub struct Client {
    router: Router,
    pub cookies: BTreeMap<String, String>,
    /// Extra headers sent with every request.
    pub headers: Vec<(String, String)>,
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub text: String,
}

impl Res {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn html(&self) -> scraper::Html {
        scraper::Html::parse_document(&self.text)
    }

    /// Texts of all elements matching a CSS selector.
    pub fn select(&self, css: &str) -> Vec<String> {
        let sel = scraper::Selector::parse(css).unwrap();
        self.html()
            .select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl Client {
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(&str, String)>,
        extra: &[(&str, &str)],
    ) -> Res {
        let body = body.map(|(ct, b)| (ct.to_owned(), b.into_bytes()));
        self.send_bytes(method, path, body, extra).await
    }

    pub async fn send_bytes(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        extra: &[(&str, &str)],
    ) -> Res {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header(header::COOKIE, cookie);
        }
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some((ct, b)) => {
                req = req.header(header::CONTENT_TYPE, ct);
                Body::from(b)
            }
            None => Body::empty(),
        };
        let res = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        for v in res.headers().get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap();
            let (kv, attrs) = s.split_once(';').unwrap_or((s, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") || val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = to_bytes(res.into_body(), 50 * 1024 * 1024)
            .await
            .unwrap()
            .to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Res {
            status,
            headers,
            bytes,
            text,
        }
    }

    pub async fn get(&mut self, path: &str) -> Res {
        self.send(Method::GET, path, None, &[]).await
    }

    /// The CSRF token the current page would carry (fetching a page to read it).
    pub async fn csrf(&mut self) -> String {
        let res = self.get("/login").await;
        let token = res
            .html()
            .select(&scraper::Selector::parse("input[name=_csrf]").unwrap())
            .next()
            .and_then(|e| e.value().attr("value").map(str::to_owned));
        match token {
            Some(t) => t,
            None => {
                // Signed in: /login redirects; the account page carries the session token.
                let res = self.get("/account/password").await;
                let sel = scraper::Selector::parse("input[name=_csrf]").unwrap();
                res.html()
                    .select(&sel)
                    .next()
                    .and_then(|e| e.value().attr("value"))
                    .expect("csrf field")
                    .to_owned()
            }
        }
    }

    /// POST a form with the right CSRF token.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Res {
        let token = self.csrf().await;
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        pairs.push(("_csrf", &token));
        let body = serde_urlencoded::to_string(&pairs).unwrap();
        self.send(
            Method::POST,
            path,
            Some(("application/x-www-form-urlencoded", body)),
            &[],
        )
        .await
    }

    /// Upload one file as multipart form data (the CSRF token in the query, as the pages do).
    pub async fn upload(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file_field: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Res {
        let token = self.csrf().await;
        let boundary = "----shegongtestboundary";
        let mut body = Vec::new();
        let mut fields = fields.to_vec();
        fields.insert(0, ("_csrf", token.as_str()));
        for (k, v) in &fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send_bytes(
            Method::POST,
            path,
            Some((format!("multipart/form-data; boundary={boundary}"), body)),
            &[],
        )
        .await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Res {
        self.post_form("/login", &[("username", username), ("password", password)])
            .await
    }
}

/// One test body, run against a SQLite and a PostgreSQL database.
#[macro_export]
macro_rules! app_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::TestApp::new(shegong_store::testing::sqlite().await).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $app = $crate::TestApp::new(shegong_store::testing::postgres().await).await;
                $body
            }
        }
    };
}

/// Every cell of the first sheet, tab-separated.
pub fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .expect("a workbook");
    let range = wb
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("\t")
}
