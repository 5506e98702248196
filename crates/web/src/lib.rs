//! Shegong's web application: sessions and auth, HTML pages (askama), the JSON API under
//! `/api/v1` with its OpenAPI document, Excel export, and embedded assets. The code is grouped by
//! capability area (`AREAS`); `http/`, `ui/` and `import/` are shared by all of them.
//!
//! `App::build(config)` opens the database (migrating it and loading the region tree), binds the
//! listeners (port 0 in tests) and returns the application; `App::run(shutdown)` serves until the
//! shutdown future completes. The binary and every test start the same application.

pub mod admin;
pub mod charity;
pub mod community;
pub mod config;
pub mod emergency;
pub mod hotline;
pub mod http;
pub mod import;
pub mod matching;
pub mod network;
pub mod notifications;
pub mod people;
pub mod purchase;
pub mod reports;
pub mod statistics;
pub mod timebank;
pub mod ui;
pub mod volunteers;
pub mod workbench;
pub mod workforce;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use shegong_store::server_lock::ServerLock;
use shegong_store::{
    Db, DbOptions, admin::audit as store_audit, admin::sessions, network::regions as store_regions,
};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use http::state::{AppState, Clock, system_clock};
use http::{api, assets, auth, csrf, input, metrics, ops, render, replay, replica};

/// The capability areas, in menu order. A new area is one more line here.
pub const AREAS: &[http::area::Area] = &[
    workbench::AREA,
    notifications::AREA,
    statistics::AREA,
    reports::AREA,
    network::AREA,
    people::AREA,
    volunteers::AREA,
    workforce::AREA,
    purchase::AREA,
    purchase::evaluations::AREA,
    timebank::AREA,
    charity::AREA,
    community::AREA,
    matching::AREA,
    emergency::AREA,
    hotline::AREA,
    admin::AREA,
    import::AREA,
];

/// Every route of the application, with its middleware.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let areas = AREAS
        .iter()
        .fold(Router::new(), |router, area| router.merge((area.routes)()));
    areas
        .route("/lang/{code}", get(ops::set_lang))
        .route("/api/docs", get(api::docs_page))
        .route("/api/v1/openapi.json", get(api::openapi_json))
        .route("/assets/{file}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .fallback(render::fallback)
        .layer(axum::extract::DefaultBodyLimit::max(state.config.body_limit))
        // Innermost first: the input guard and CSRF run after the context exists (so an API
        // request without credentials is refused first) and before any handler; their errors
        // are rendered by `render_errors`. An API write with an Idempotency-Key is answered
        // once (`replay`), after every check a retry must pass again.
        // GET reads on the read replica when one is configured (read-your-writes by cookie).
        .layer(from_fn_with_state(state.clone(), replica::route))
        .layer(from_fn_with_state(state.clone(), replay::remember))
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
    /// Where `listener` is bound (read once: a bound socket always has one).
    addr: SocketAddr,
    metrics_listener: Option<TcpListener>,
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
        let db = Db::open(&DbOptions {
            replica_url: Some(config.read_replica_url.clone()).filter(|u| !u.is_empty()),
            caches: config.sqlite_cache,
            ..DbOptions::new(&config.database_url)
        })
        .await?;
        let loaded = store_regions::load_embedded(&db).await?;
        if loaded > 0 {
            tracing::info!(
                regions = loaded,
                "loaded the embedded region tree (NBS 2023)"
            );
        }
        {
            let mut tx = db.begin().await?;
            shegong_store::network::indicators::seed_defaults(&mut tx, shegong_store::now_millis())
                .await?;
            tx.commit().await?;
        }
        // The audit chain's hash follows the key family: SM3 with SM4 keys (国密), else SHA-256.
        shegong_store::admin::audit::use_hash_algorithm(
            &db,
            config.crypto.algorithm.into(),
            clock(),
        )
        .await?;
        // A database from before the statistics existed: count what is there once.
        if let Some(n) = shegong_store::statistics::counters::build_if_missing(&db).await? {
            tracing::info!(
                counters = n,
                "built the statistics counters from existing records"
            );
        }
        let listener = TcpListener::bind(&config.bind).await?;
        let addr = listener.local_addr()?;
        let metrics_listener = match config.metrics_bind.as_str() {
            "" => None,
            addr => Some(TcpListener::bind(addr).await?),
        };
        let keys = open_key_ring(&db, &config).await?;
        let state = AppState::new(db, config, clock, keys);
        Ok(App {
            state,
            listener,
            addr,
            metrics_listener,
            _lock: lock,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
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
        let notifying = tokio::spawn(notifications::notifier::run(self.state.clone(), rx.clone()));
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
        notifying.abort();
        let _ = shegong_store::statistics::counters::fold(&self.state.db).await;
        self.state.db.close().await;
        Ok(())
    }
}

/// Every two seconds: fold the statistics deltas written by PostgreSQL transactions into the
/// counters (readers add pending deltas, so this bounds their number, not the figures' freshness).
/// With several instances, only the fold leader folds (`leader`): the others try to take the lead
/// each round, and one of them does within two seconds of the leader's death.
async fn fold_statistics(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    use shegong_store::leader::{Leadership, Task};
    if state.db.backend() != shegong_store::Backend::Postgres {
        return;
    }
    let mut lead = Leadership::new(state.db.clone(), Task::Fold);
    loop {
        match lead.hold().await {
            Ok(true) => {
                if let Some(conn) = lead.conn()
                    && let Err(e) = shegong_store::statistics::counters::fold_on(conn).await
                {
                    tracing::error!(error = %e, "folding statistics failed");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "taking the statistics fold lead failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => {
                lead.release().await;
                return;
            }
        }
    }
}

/// How often housekeeping runs, whichever instance runs it.
const HOUSEKEEPING_EVERY_MILLIS: i64 = 3_600_000;

/// Hourly: end idle sessions; forget expired shared state (`shared::purge`); apply audit retention; fold the count of resident writes; forget
/// expired idempotency keys; refresh SQLite's planner statistics (`Db::optimize`).
/// Each instance looks every five minutes; the one that finds the round due claims it in the
/// round's transaction (`shared::claim_job`), so a round runs once among all instances.
async fn housekeeping(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let now = state.now();
        let result = async {
            let mut tx = state.db.begin().await?;
            if !shegong_store::shared::claim_job(
                &mut tx,
                "housekeeping",
                HOUSEKEEPING_EVERY_MILLIS,
                now,
            )
            .await?
            {
                return Ok(());
            }
            shegong_store::shared::purge(&mut tx, now).await?;
            sessions::purge_idle(&mut tx, state.config.session_idle_millis(), now).await?;
            let cutoff = now - state.config.audit.retention_days * 86_400_000;
            let removed = store_audit::purge_before(&mut tx, state.db.backend(), cutoff).await?;
            shegong_store::import::lookups::fold_resident_writes(&mut tx, state.db.backend())
                .await?;
            shegong_store::replay::purge(&mut tx, now).await?;
            // Each unit's statistical reports for the period just ended, as drafts to fill.
            let opened = shegong_store::reports::open_ended(
                &mut tx,
                shegong_domain::calendar::local_day(now),
                now,
            )
            .await?;
            tx.commit().await?;
            if removed > 0 {
                tracing::info!(removed, "audit retention applied");
            }
            if opened > 0 {
                tracing::info!(opened, "report drafts opened for the period just ended");
            }
            // The planner's statistics on SQLite (`Db::optimize`); after the round's commit, so
            // the writer is free.
            state.db.optimize().await?;
            Ok::<_, shegong_store::StoreError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "housekeeping failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(300)) => {}
            _ = stop.changed() => return,
        }
    }
}
