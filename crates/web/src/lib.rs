//! Shegong's web application: sessions and auth, HTML pages (askama + htmx), the JSON API under
//! `/api/v1` with its OpenAPI document, Excel export, and embedded assets.
//!
//! `App::build(config)` opens the database (migrating it and loading the region tree), binds the
//! listeners (port 0 in tests) and returns the application; `App::run(shutdown)` serves until the
//! shutdown future completes. The binary and every test start the same application.

pub mod account;
pub mod api;
pub mod assets;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod casework;
pub mod config;
pub mod construction;
pub mod coverage;
pub mod csrf;
pub mod demo;
mod demo_network;
mod demo_people;
pub mod error;
pub mod excel;
pub mod forms;
pub mod home;
pub mod i18n;
pub mod import;
pub mod imports;
pub mod indicators;
pub mod input;
pub mod inspections;
pub mod list;
pub mod metrics;
pub mod ops;
pub mod orgs;
pub mod regions;
pub mod render;
pub mod residents;
pub mod sheet;
pub mod staff;
pub mod state;
pub mod stations;
pub mod statistics;
pub mod system;
pub mod twofactor;
pub mod users;
pub mod write;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use shegong_store::server_lock::ServerLock;
use shegong_store::{Db, DbOptions, audit as store_audit, regions as store_regions, sessions};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use state::{AppState, Clock, system_clock};

/// Every route of the application, with its middleware.
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/lang/{code}", get(ops::set_lang))
        .route("/account", get(account::account))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/account/tokens", post(account::add_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/regions", get(regions::page_root))
        .route("/regions/{code}", get(regions::page_region))
        .route("/admin/users", get(users::list_page).post(users::create))
        .route("/admin/users/new", get(users::new_form))
        .route("/admin/users/export.xlsx", get(users::export))
        .route(
            "/admin/users/{id}",
            get(users::edit_form).post(users::update),
        )
        .route("/admin/users/{id}/disable", post(users::disable))
        .route("/admin/users/{id}/enable", post(users::enable))
        .route("/admin/users/{id}/unlock", post(users::unlock))
        .route(
            "/admin/users/{id}/grant-protected",
            post(users::grant_protected),
        )
        .route(
            "/admin/users/{id}/revoke-protected",
            post(users::revoke_protected),
        )
        .route(
            "/admin/users/{id}/reset-password",
            post(users::reset_password),
        )
        .route("/audit", get(audit::list_page))
        .route("/audit/verify", get(audit::verify_page))
        .route("/audit/export.xlsx", get(audit::export))
        .route("/admin/system", get(system::page_system))
        .route("/api/docs", get(api::docs_page))
        .route("/stations", get(stations::list_page).post(stations::create))
        .route("/stations/new", get(stations::new_form))
        .route("/stations/export.xlsx", get(stations::export))
        .route(
            "/stations/{id}",
            get(stations::detail_page).post(stations::update),
        )
        .route("/stations/{id}/edit", get(stations::edit_form))
        .route("/stations/{id}/funding", post(stations::set_funding))
        .route("/stations/{id}/services", post(stations::set_services))
        .route("/stations/{id}/assess", post(stations::assess))
        .route("/stations/{id}/progress", post(stations::report_progress))
        .route("/stations/{id}/confirm", post(stations::confirm))
        .route(
            "/stations/{id}/attachments",
            post(attachments::upload_station),
        )
        .route("/attachments/{id}", get(attachments::download))
        .route("/orgs", get(orgs::list_page).post(orgs::create))
        .route("/orgs/new", get(orgs::new_form))
        .route("/orgs/export.xlsx", get(orgs::export))
        .route("/orgs/{id}", get(orgs::edit_form).post(orgs::update))
        .route("/coverage", get(coverage::page_root))
        .route("/coverage/{code}", get(coverage::page_region))
        .route("/construction", get(construction::page_construction))
        .route("/construction/targets", post(construction::set_target))
        .route("/inspections", get(inspections::page_index))
        .route("/inspections/plans", post(inspections::create_plan))
        .route("/inspections/visits", post(inspections::create_visit))
        .route("/inspections/visits/new", get(inspections::new_visit))
        .route("/inspections/visits/{id}", get(inspections::visit_page))
        .route(
            "/inspections/rectifications/{id}",
            get(inspections::rectification_page).post(inspections::advance),
        )
        .route(
            "/indicators",
            get(indicators::page_indicators).post(indicators::add_item),
        )
        .route("/indicators/services", post(indicators::add_service))
        .route("/indicators/{id}/active", post(indicators::toggle_item))
        .route("/staff", get(staff::list_page).post(staff::create))
        .route("/staff/new", get(staff::new_form))
        .route("/staff/find", post(staff::find))
        .route("/staff/export.xlsx", get(staff::export))
        .route("/staff/{id}", get(staff::detail_page).post(staff::update))
        .route("/staff/{id}/edit", get(staff::edit_form))
        .route("/staff/{id}/reveal", post(staff::reveal))
        .route("/staff/{id}/certificates", post(staff::add_certificate))
        .route("/staff/{id}/trainings", post(staff::add_training))
        .route("/supervision", get(staff::supervision_page))
        .route("/supervision/pairs", post(staff::add_pair))
        .route("/supervision/pairs/{id}/sessions", post(staff::add_session))
        .route("/supervision/teams", post(staff::add_team))
        .route("/supervision/teams/{id}/members", post(staff::add_member))
        .route("/workforce", get(staff::stats_root))
        .route("/workforce/rule", post(staff::set_rule))
        .route("/workforce/{code}", get(staff::stats_region))
        .route("/my", get(casework::mine))
        .route(
            "/residents",
            get(residents::list_page).post(residents::create),
        )
        .route("/residents/new", get(residents::new_form))
        .route("/residents/export.xlsx", get(residents::export))
        .route(
            "/residents/{id}",
            get(residents::detail_page).post(residents::update),
        )
        .route("/residents/{id}/edit", get(residents::edit_form))
        .route("/residents/{id}/reveal", post(residents::reveal))
        .route(
            "/residents/{id}/memberships",
            post(residents::add_membership),
        )
        .route(
            "/residents/{id}/memberships/{mid}/end",
            post(residents::end_membership),
        )
        .route("/residents/{id}/tier", post(residents::set_tier))
        .route("/residents/{id}/household", post(residents::join_household))
        .route("/residents/{id}/merge", post(residents::merge))
        .route("/residents/{id}/status", post(residents::set_status))
        .route("/residents/{id}/cases", post(casework::open))
        .route(
            "/visit-rules",
            get(residents::rules_page).post(residents::set_rule),
        )
        .route("/cases", get(casework::list_page))
        .route("/cases/{id}", get(casework::detail_page))
        .route("/cases/{id}/{step}", post(casework::step))
        .route(
            "/services",
            get(casework::services_page).post(casework::create_service),
        )
        .route("/services/new", get(casework::new_service))
        .route("/services/export.xlsx", get(casework::services_export))
        .route(
            "/services/{id}",
            get(casework::service_page).post(casework::correct_service),
        )
        .route("/services/{id}/delete", post(casework::delete_service))
        .route("/stats", get(statistics::root))
        .route("/stats/{code}", get(statistics::region))
        .route("/stats/{code}/wall", get(statistics::wall))
        .route("/stats/{code}/report.xlsx", get(statistics::monthly_report))
        .route("/stats/{code}/table/{file}", get(statistics::table_export))
        .route("/public", get(statistics::portal))
        .route("/public/services.csv", get(statistics::portal_csv));
    let api = Router::new()
        .route("/api/v1/openapi.json", get(api::openapi_json))
        .route("/api/v1/me", get(account::api_me))
        .route("/api/v1/regions", get(regions::api_search))
        .route("/api/v1/regions/{code}", get(regions::api_get))
        .route(
            "/api/v1/regions/{code}/children",
            get(regions::api_children),
        )
        .route("/api/v1/users", get(users::api_list))
        .route("/api/v1/audit", get(audit::api_list))
        .route(
            "/api/v1/stations",
            get(stations::api_list).post(stations::api_create),
        )
        .route(
            "/api/v1/stations/{id}",
            get(stations::api_get).put(stations::api_update),
        )
        .route(
            "/api/v1/stations/{id}/progress",
            get(stations::api_progress).post(stations::api_report),
        )
        .route(
            "/api/v1/organizations",
            get(orgs::api_list).post(orgs::api_create),
        )
        .route(
            "/api/v1/organizations/{id}",
            get(orgs::api_get).put(orgs::api_update),
        )
        .route(
            "/api/v1/coverage/{region_code}",
            get(coverage::api_coverage),
        )
        .route(
            "/api/v1/staff",
            get(staff::api_list).post(staff::api_create),
        )
        .route("/api/v1/staff/{id}", get(staff::api_get))
        .route("/api/v1/staff/{id}/reveal", post(staff::api_reveal))
        .route(
            "/api/v1/trainings",
            get(staff::api_trainings).post(staff::api_add_training),
        )
        .route("/api/v1/supervision", get(staff::api_supervision))
        .route(
            "/api/v1/residents",
            get(residents::api_list).post(residents::api_create),
        )
        .route("/api/v1/residents/{id}", get(residents::api_get))
        .route("/api/v1/visits/due", get(residents::api_due))
        .route(
            "/api/v1/cases",
            get(casework::api_cases).post(casework::api_open_case),
        )
        .route("/api/v1/cases/{id}", get(casework::api_case))
        .route(
            "/api/v1/services",
            get(casework::api_services).post(casework::api_record_service),
        )
        .route("/api/v1/services/{id}", get(casework::api_service))
        .route("/api/v1/stats/services", get(statistics::api_services))
        .route(
            "/api/v1/stats/services.csv",
            get(statistics::api_services_csv),
        )
        .route("/api/v1/stats/people", get(statistics::api_people))
        .route("/api/v1/stats/people.csv", get(statistics::api_people_csv))
        .route("/api/v1/stats/workforce", get(statistics::api_workforce))
        .route(
            "/api/v1/stats/workforce.csv",
            get(statistics::api_workforce_csv),
        )
        .route("/api/v1/inspections", get(inspections::api_list));
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(pages)
        .merge(imports::routes())
        .merge(twofactor::routes())
        .merge(api)
        .route("/assets/{file}", get(assets::serve))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .fallback(render::fallback)
        .layer(axum::extract::DefaultBodyLimit::max(state.config.body_limit))
        // Innermost first: the input guard and CSRF run after the context exists (so an API
        // request without credentials is refused first) and before any handler; their errors
        // are rendered by `render_errors`.
        .layer(from_fn_with_state(state.clone(), csrf::protect))
        // Size and control characters, checked before the CSRF check reads a form body.
        .layer(from_fn_with_state(state.clone(), input::guard))
        .layer(from_fn_with_state(state.clone(), render::render_errors))
        .layer(from_fn_with_state(state.clone(), auth::context))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(from_fn(input::read_small_bodies))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                    // Path only: query strings may carry search terms about people.
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(state.config.request_timeout_secs)))
                .layer(CompressionLayer::new())
                .layer(from_fn(render::security_headers)),
        )
        .with_state(state)
}

/// The application, bound and ready to serve.
pub struct App {
    state: AppState,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    /// Demo accounts created at this start (to print), empty otherwise.
    pub demo_seeded: bool,
    /// Held while the application lives: offline commands that rewrite the database refuse.
    _lock: ServerLock,
}

/// The key ring of `config`, checked against the keys that sealed this database. A database that
/// holds sealed values never gets a fresh ring: without the original one those values are lost,
/// and serving them as blanks would hide it.
async fn open_key_ring(db: &Db, config: &Config) -> anyhow::Result<shegong_store::crypto::KeyRing> {
    use shegong_store::keycheck::{self, KeyCheck};
    let key_file = std::path::Path::new(&config.crypto.key_file);
    let restore_hint = format!(
        "restore the key file from your backup to {} (setting crypto.key_file; see docs/operations.md, \"Keys\"), then start again",
        key_file.display()
    );
    if !key_file.exists() && keycheck::needs_existing_ring(db).await? {
        anyhow::bail!(
            "cannot start: the database holds sealed data but the key ring {} does not exist; {restore_hint}",
            key_file.display()
        );
    }
    let (keys, created) = shegong_store::crypto::load_or_create(key_file, config.crypto.algorithm)?;
    if created {
        tracing::warn!(path = %key_file.display(), "created a new data key ring: back this file up apart from the database");
    }
    match keycheck::check_and_record(db, &keys).await? {
        KeyCheck::Ok => Ok(keys),
        KeyCheck::Missing(ids) => anyhow::bail!(
            "cannot start: the database was sealed with key(s) {} that the key ring {} lacks or holds with other material; {restore_hint}",
            ids.join(", "),
            key_file.display()
        ),
        KeyCheck::Unreadable => anyhow::bail!(
            "cannot start: the key ring {} cannot open the sealed data in this database; {restore_hint}",
            key_file.display()
        ),
    }
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        Self::build_with_clock(config, system_clock()).await
    }

    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<App> {
        config.validate().map_err(anyhow::Error::msg)?;
        // Before opening: a restore in progress holds the database, and so does another server
        // on the same SQLite file.
        let lock = ServerLock::serving(&config.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot start: {e}"))?;
        let db = Db::open(&DbOptions::new(&config.database_url)).await?;
        let loaded = store_regions::load_embedded(&db).await?;
        if loaded > 0 {
            tracing::info!(
                regions = loaded,
                "loaded the embedded region tree (NBS 2023)"
            );
        }
        {
            let mut tx = db.begin().await?;
            shegong_store::indicators::seed_defaults(&mut tx, shegong_store::now_millis()).await?;
            tx.commit().await?;
        }
        // The audit chain's hash follows the key family: SM3 with SM4 keys (国密), else SHA-256.
        shegong_store::audit::use_hash_algorithm(&db, config.crypto.algorithm.into(), clock())
            .await?;
        // A database from before the statistics existed: count what is there once.
        if let Some(n) = shegong_store::stats::build_if_missing(&db).await? {
            tracing::info!(
                counters = n,
                "built the statistics counters from existing records"
            );
        }
        let listener = TcpListener::bind(&config.bind).await?;
        let metrics_listener = match config.metrics_bind.as_str() {
            "" => None,
            addr => Some(TcpListener::bind(addr).await?),
        };
        let keys = open_key_ring(&db, &config).await?;
        let state = AppState::new(db, config, clock, keys);
        let demo_seeded = if state.config.demo {
            demo::seed(&state)
                .await
                .map_err(|e| anyhow::anyhow!("demo seed: {e:?}"))?
        } else {
            false
        };
        Ok(App {
            state,
            listener,
            metrics_listener,
            demo_seeded,
            _lock: lock,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until `shutdown` completes, then finish in-flight requests and close the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let housekeeping = tokio::spawn(housekeeping(self.state.clone(), rx.clone()));
        let folding = tokio::spawn(fold_statistics(self.state.clone(), rx.clone()));
        if let Some(l) = self.metrics_listener {
            let metrics = Router::new()
                .route("/metrics", get(metrics::endpoint))
                .with_state(self.state.clone());
            let mut rx = rx.clone();
            tokio::spawn(async move {
                let _ = axum::serve(l, metrics)
                    .with_graceful_shutdown(async move {
                        let _ = rx.changed().await;
                    })
                    .await;
            });
        }
        let app = router(self.state.clone());
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = tx.send(true);
        })
        .await?;
        housekeeping.abort();
        folding.abort();
        let _ = shegong_store::stats::fold(&self.state.db).await;
        self.state.db.close().await;
        Ok(())
    }
}

/// Every two seconds: fold the statistics deltas written by PostgreSQL transactions into the
/// counters (readers add pending deltas, so this bounds their number, not the figures' freshness).
async fn fold_statistics(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    if state.db.backend() != shegong_store::Backend::Postgres {
        return;
    }
    loop {
        if let Err(e) = shegong_store::stats::fold(&state.db).await {
            tracing::error!(error = %e, "folding statistics failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Hourly: end idle sessions; apply audit retention.
async fn housekeeping(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let now = state.now();
        let result = async {
            let mut tx = state.db.begin().await?;
            sessions::purge_idle(&mut tx, state.config.session_idle_millis(), now).await?;
            let cutoff = now - state.config.audit.retention_days * 86_400_000;
            let removed = store_audit::purge_before(&mut tx, state.db.backend(), cutoff).await?;
            tx.commit().await?;
            if removed > 0 {
                tracing::info!(removed, "audit retention applied");
            }
            Ok::<_, shegong_store::StoreError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "housekeeping failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
    }
}
