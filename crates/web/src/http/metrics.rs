//! Prometheus metrics, served on their own listener so the public port never exposes them.
//! A handful of counters and one histogram need no metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::http::state::AppState;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// (method, route, status) → count
    requests: BTreeMap<(String, String, u16), u64>,
    /// route → (bucket counts, sum, count)
    durations: BTreeMap<String, ([u64; BUCKETS.len()], f64, u64)>,
}

impl Metrics {
    /// The figures. A panic while they were held leaves them merely approximate: keep counting.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut m = self.lock();
        *m.requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let d = m.durations.entry(route.to_owned()).or_default();
        for (n, b) in d.0.iter_mut().zip(BUCKETS) {
            if secs <= b {
                *n += 1;
            }
        }
        d.1 += secs;
        d.2 += 1;
    }

    pub fn render(&self, state: &AppState) -> String {
        let m = self.lock();
        let mut out = String::new();
        out.push_str("# HELP shegong_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE shegong_http_requests_total counter\n");
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "shegong_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP shegong_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE shegong_http_request_duration_seconds histogram\n");
        for (route, (buckets, sum, count)) in &m.durations {
            for (n, b) in buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "shegong_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "shegong_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "shegong_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "shegong_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        let (size, idle) = state.db.pool_stats();
        out.push_str("# TYPE shegong_db_connections gauge\n");
        let _ = writeln!(out, "shegong_db_connections{{state=\"open\"}} {size}");
        let _ = writeln!(out, "shegong_db_connections{{state=\"idle\"}} {idle}");
        out.push_str("# TYPE shegong_uptime_seconds gauge\n");
        let _ = writeln!(
            out,
            "shegong_uptime_seconds {}",
            (state.now() - state.started_at) / 1000
        );
        out
    }
}

/// Count and time every request by its route template (never the raw path: no ids in labels).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}

pub async fn endpoint(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(&state),
    )
}
