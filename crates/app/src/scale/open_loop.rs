//! An open-loop HTTP load generator: request `i` is due at `start + i / rate` and is sent then,
//! whether or not earlier ones have been answered (each in a task of its own, over a bounded
//! pool of keep-alive HTTP/1 connections), and its latency is counted from that scheduled
//! instant. A server that stalls therefore shows in every request due during the stall (waiting
//! for a connection counts), not just in the one that was in flight (coordinated omission).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;

/// A request no answer arrives to within this long counts as an error.
const TIMEOUT: Duration = Duration::from_secs(30);

/// One request of the schedule.
#[derive(Debug, Clone)]
pub struct Req {
    /// What the report groups it under, e.g. `GET /api/v1/residents`.
    pub endpoint: &'static str,
    pub method: &'static str,
    pub path: String,
    pub token: Arc<str>,
    /// A JSON body.
    pub body: Option<String>,
}

/// What one endpoint's requests did.
#[derive(Debug, Default)]
pub struct Endpoint {
    /// Latency from the scheduled instant, of every answered request (errors included).
    pub latencies: Vec<Duration>,
    /// Non-2xx answers, transport errors and timeouts.
    pub errors: u64,
    /// Successful (2xx) answers.
    pub ok: u64,
    /// Requests without an answer (timeout, transport error): the server may have done them.
    pub unanswered: u64,
    /// The first error, to say what went wrong.
    pub first_error: Option<String>,
}

/// The run's results.
#[derive(Debug, Default)]
pub struct Results {
    pub endpoints: BTreeMap<&'static str, Endpoint>,
    /// Requests scheduled.
    pub scheduled: u64,
    /// From the first scheduled instant to the last answer.
    pub elapsed: Duration,
    /// How late the generator itself launched its latest request (its own lag, already inside
    /// the latencies since they count from the schedule).
    pub max_launch_lag: Duration,
}

impl Results {
    /// Every latency of every endpoint.
    pub fn all_latencies(&self) -> Vec<Duration> {
        self.endpoints
            .values()
            .flat_map(|e| e.latencies.iter().copied())
            .collect()
    }

    pub fn errors(&self) -> u64 {
        self.endpoints.values().map(|e| e.errors).sum()
    }
}

/// The `p` quantile (0–1) of `d` in milliseconds (nearest rank), 0 when empty.
pub fn quantile_ms(d: &mut [Duration], p: f64) -> f64 {
    d.sort_unstable();
    let i = ((d.len() as f64 - 1.0) * p).round().max(0.0) as usize;
    d.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The instant request `i` of a schedule at `rate` per second starting at `start` is due.
pub fn due(start: Instant, rate: f64, i: u64) -> Instant {
    start + Duration::from_secs_f64(i as f64 / rate)
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// `GET path` as `token` on a connection of its own, reading the answer as it comes without
/// keeping it (a download): its status and its length in bytes.
pub async fn download(addr: SocketAddr, token: &str, path: &str) -> anyhow::Result<(u16, u64)> {
    let mut sender = connect(addr).await?;
    sender.ready().await?;
    let req = hyper::Request::builder()
        .method("GET")
        .uri(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    let mut body = res.into_body();
    let mut length = 0;
    while let Some(frame) = body.frame().await {
        length += frame?.data_ref().map_or(0, |d| d.len() as u64);
    }
    Ok((status, length))
}

/// Keep-alive connections to one server, at most `size` in use at once; a request waits for a
/// free one (the wait is part of its latency).
struct Pool {
    addr: SocketAddr,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
    permits: tokio::sync::Semaphore,
}

impl Pool {
    async fn connect(&self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        connect(self.addr).await
    }

    fn take(&self) -> Option<SendRequest<Full<Bytes>>> {
        self.idle.lock().ok()?.pop()
    }

    fn put(&self, s: SendRequest<Full<Bytes>>) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(s);
        }
    }

    /// Send `r` and read the whole answer: its status, and the start of its body on an error.
    async fn send(&self, r: Req) -> anyhow::Result<(u16, String)> {
        let _permit = self.permits.acquire().await?;
        let mut sender = match self.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        sender.ready().await?;
        let mut b = hyper::Request::builder()
            .method(r.method)
            .uri(&r.path)
            .header("host", self.addr.to_string())
            .header("authorization", format!("Bearer {}", r.token));
        if r.body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let req = b.body(Full::new(Bytes::from(r.body.unwrap_or_default())))?;
        let res = sender.send_request(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        // Only a connection whose answer was read whole can carry the next request.
        self.put(sender);
        let text = if (200..300).contains(&status) {
            String::new()
        } else {
            String::from_utf8_lossy(&body).chars().take(200).collect()
        };
        Ok((status, text))
    }
}

/// One answered (or failed) request.
struct Outcome {
    endpoint: &'static str,
    latency: Duration,
    error: Option<String>,
    /// No answer came (timeout or transport error).
    unanswered: bool,
}

/// The schedule's shape: `rate` requests per second for `duration` over at most `connections`
/// connections to `addr`.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub addr: SocketAddr,
    pub rate: f64,
    pub duration: Duration,
    pub connections: usize,
}

/// Run the schedule; `next(i)` makes request `i`. Prints a progress line every ten seconds.
pub async fn run(s: Schedule, mut next: impl FnMut(u64) -> Req) -> anyhow::Result<Results> {
    anyhow::ensure!(s.rate > 0.0, "--rate must be above 0");
    let pool = Arc::new(Pool {
        addr: s.addr,
        idle: Mutex::new(Vec::new()),
        permits: tokio::sync::Semaphore::new(s.connections.max(1)),
    });
    let total = (s.rate * s.duration.as_secs_f64()).round() as u64;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Outcome>();
    let collector = tokio::spawn(collect(rx));
    let start = Instant::now() + Duration::from_millis(50);
    let mut max_launch_lag = Duration::ZERO;
    for i in 0..total {
        let at = due(start, s.rate, i);
        tokio::time::sleep_until(at.into()).await;
        max_launch_lag = max_launch_lag.max(at.elapsed());
        let r = next(i);
        let (pool, tx) = (pool.clone(), tx.clone());
        tokio::spawn(async move {
            let endpoint = r.endpoint;
            let answer = tokio::time::timeout(TIMEOUT, pool.send(r)).await;
            let latency = at.elapsed();
            let unanswered = !matches!(answer, Ok(Ok(_)));
            let error = match answer {
                Ok(Ok((status, _))) if (200..300).contains(&status) => None,
                Ok(Ok((status, text))) => Some(format!("HTTP {status}: {text}")),
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(_) => Some(format!("no answer within {} s", TIMEOUT.as_secs())),
            };
            let _ = tx.send(Outcome {
                endpoint,
                latency,
                error,
                unanswered,
            });
        });
    }
    drop(tx);
    let mut results = tokio::time::timeout(TIMEOUT + Duration::from_secs(5), collector)
        .await
        .context("requests still unanswered after the timeout")???;
    results.scheduled = total;
    results.elapsed = start.elapsed();
    results.max_launch_lag = max_launch_lag;
    let answered: u64 = results
        .endpoints
        .values()
        .map(|e| e.latencies.len() as u64)
        .sum();
    anyhow::ensure!(
        answered == total,
        "{answered} of {total} requests accounted for"
    );
    Ok(results)
}

/// Gather the outcomes until every request task has reported.
async fn collect(mut rx: tokio::sync::mpsc::UnboundedReceiver<Outcome>) -> anyhow::Result<Results> {
    let mut results = Results::default();
    let started = Instant::now();
    let mut next_report = Duration::from_secs(10);
    let (mut done, mut errors) = (0u64, 0u64);
    while let Some(o) = rx.recv().await {
        let e = results.endpoints.entry(o.endpoint).or_default();
        e.latencies.push(o.latency);
        match o.error {
            None => e.ok += 1,
            Some(err) => {
                e.errors += 1;
                e.unanswered += u64::from(o.unanswered);
                errors += 1;
                e.first_error.get_or_insert(err);
            }
        }
        done += 1;
        if started.elapsed() >= next_report {
            println!(
                "  … {:.0} s: {done} answered, {errors} errors",
                started.elapsed().as_secs_f64()
            );
            next_report += Duration::from_secs(10);
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn requests_are_due_on_the_schedule_and_quantiles_are_nearest_rank() {
        let t = Instant::now();
        assert_eq!(due(t, 1000.0, 0), t);
        assert_eq!(due(t, 1000.0, 1500), t + Duration::from_millis(1500));
        assert_eq!(due(t, 4.0, 3), t + Duration::from_millis(750));
        let mut d: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(quantile_ms(&mut d, 0.5), 51.0);
        assert_eq!(quantile_ms(&mut d, 0.99), 99.0);
        assert_eq!(quantile_ms(&mut d, 1.0), 100.0);
        assert_eq!(quantile_ms(&mut [], 0.5), 0.0);
    }

    /// A server that answers at once except that its first answer takes 300 ms, behind one
    /// connection: every request due during the stall waits for it, and its latency, counted
    /// from when it was due, says so. (Counted from when it was sent, as a closed loop does,
    /// only the stalled request would be slow.)
    #[tokio::test]
    async fn a_stall_shows_in_every_request_due_during_it() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let first = Arc::new(AtomicBool::new(true));
        let app = axum::Router::new().route(
            "/x",
            axum::routing::get(move || {
                let first = first.clone();
                async move {
                    if first.swap(false, Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let token: Arc<str> = Arc::from("t");
        let s = Schedule {
            addr,
            rate: 200.0,
            duration: Duration::from_millis(500),
            connections: 1,
        };
        let r = run(s, |i| Req {
            endpoint: if i.is_multiple_of(2) { "even" } else { "odd" },
            method: "GET",
            path: "/x".into(),
            token: token.clone(),
            body: None,
        })
        .await
        .unwrap();
        assert_eq!(r.scheduled, 100);
        assert_eq!(r.errors(), 0);
        assert_eq!(r.endpoints["even"].ok + r.endpoints["odd"].ok, 100);
        let mut all = r.all_latencies();
        assert!(quantile_ms(&mut all, 1.0) >= 300.0, "{all:?}");
        // The 40 requests due in the stall's first 200 ms each waited at least 100 ms.
        let slow = all
            .iter()
            .filter(|d| **d >= Duration::from_millis(100))
            .count();
        assert!(slow >= 40, "only {slow} slow: {all:?}");
    }

    #[tokio::test]
    async fn refused_and_failed_requests_are_errors_per_endpoint() {
        let app = axum::Router::new().route(
            "/x",
            axum::routing::get(|| async { (axum::http::StatusCode::CONFLICT, "busy") }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let token: Arc<str> = Arc::from("t");
        let s = Schedule {
            addr,
            rate: 100.0,
            duration: Duration::from_millis(100),
            connections: 4,
        };
        let r = run(s, |_| Req {
            endpoint: "x",
            method: "GET",
            path: "/x".into(),
            token: token.clone(),
            body: None,
        })
        .await
        .unwrap();
        assert_eq!(r.errors(), 10);
        assert_eq!(
            r.endpoints["x"].first_error.as_deref(),
            Some("HTTP 409: busy")
        );
    }
}
