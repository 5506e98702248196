//! Reads from a PostgreSQL streaming replica (`read_replica_url`): the reads of GET requests —
//! dashboards, lists, exports, record pages — go to the replica, writes and everything around them
//! to the primary. Read-your-writes: every write request (POST, PUT, PATCH, DELETE) sets a cookie
//! that keeps the same browser's (or cookie-keeping API client's) reads on the primary for
//! `read_your_writes_secs`, so the page after a write shows it whatever the replica's lag.
//!
//! The session look-up runs before this layer and so always reads the primary (a session made a
//! moment ago is found); reads in tasks a handler spawns stay on the primary, except a streamed
//! export's pages (`ui::excel::Export::stream`), which follow the request.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use shegong_store::Db;

use crate::http::auth::{cookie, set_cookie};
use crate::http::state::AppState;

/// Until when (epoch milliseconds) this client's reads stay on the primary.
pub const RECENT_WRITE_COOKIE: &str = "sg_rw";

pub async fn route(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.db.has_replica() {
        return next.run(req).await;
    }
    let now = state.now();
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let wrote_lately = cookie(req.headers(), RECENT_WRITE_COOKIE)
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|until| until > now);
        if wrote_lately {
            return next.run(req).await;
        }
        return Db::on_replica(next.run(req)).await;
    }
    let mut res = next.run(req).await;
    let secs = i64::try_from(state.config.read_your_writes_secs).unwrap_or(i64::MAX / 2000);
    let until = (now + secs * 1000).to_string();
    if let Ok(v) = set_cookie(&state, RECENT_WRITE_COOKIE, &until, Some(secs)).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
