//! State that several `shegong serve` processes on one database must share (issue 20 item 5):
//! periodic jobs claimed once per round, sign-in and check-in throttles, one-time secrets shown
//! after a redirect, and the progress of background imports. Each used to live in a process's
//! memory; behind a load balancer the next request may reach another instance.

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::{Millis, StoreResult, new_id};

/// Claim this round of the periodic job `name` when its last round is at least `every` old;
/// `true` when this caller runs it. Call it inside the round's own transaction: the claim and the
/// work commit together, and a second instance waits on the row and then finds it claimed.
pub async fn claim_job(
    conn: &mut AnyConnection,
    name: &str,
    every: Millis,
    now: Millis,
) -> StoreResult<bool> {
    Sql::new("INSERT INTO job_runs (name, last_at) VALUES (")
        .bind(name)
        .push(", 0) ON CONFLICT (name) DO NOTHING")
        .execute(conn)
        .await?;
    let claimed = Sql::new("UPDATE job_runs SET last_at = ")
        .bind(now)
        .push(" WHERE name = ")
        .bind(name)
        .push(" AND last_at <= ")
        .bind(now - every)
        .execute(conn)
        .await?;
    Ok(claimed == 1)
}

/// The digest a name with no account is counted under.
fn name_hash(name: &str) -> String {
    hex::encode(Sha256::digest(format!("shegong login throttle\0{name}")))
}

/// Count a failed sign-in under `name` (a name with no account), locking it for `lock_for` after
/// `max_failures` in a row as a real account would be; returns when it is locked until (0 or a
/// past time when it is not).
pub async fn unknown_login_failure(
    conn: &mut AnyConnection,
    name: &str,
    max_failures: i64,
    lock_for: Millis,
    now: Millis,
) -> StoreResult<Millis> {
    let h = name_hash(name);
    Sql::new("INSERT INTO login_throttle (name_hash, failures, locked_until, updated_at) VALUES (")
        .bind(h.as_str())
        .push(", 1, 0, ")
        .bind(now)
        .push(") ON CONFLICT (name_hash) DO UPDATE SET failures = CASE WHEN login_throttle.locked_until > ")
        .bind(now)
        .push(" THEN login_throttle.failures ELSE login_throttle.failures + 1 END, updated_at = ")
        .bind(now)
        .execute(conn)
        .await?;
    Sql::new("UPDATE login_throttle SET failures = 0, locked_until = ")
        .bind(now + lock_for)
        .push(" WHERE name_hash = ")
        .bind(h.as_str())
        .push(" AND locked_until <= ")
        .bind(now)
        .push(" AND failures >= ")
        .bind(max_failures)
        .execute(conn)
        .await?;
    Sql::new("SELECT locked_until FROM login_throttle WHERE name_hash = ")
        .bind(h.as_str())
        .fetch_i64(conn)
        .await
}

/// Whether the check-in code of `activity` still takes attempts: fewer than `max` failures in
/// the `window` before `now`.
pub async fn checkin_open(
    conn: &mut AnyConnection,
    activity: &str,
    max: i64,
    window: Millis,
    now: Millis,
) -> StoreResult<bool> {
    let n = Sql::new("SELECT COUNT(*) FROM checkin_failures WHERE activity_id = ")
        .bind(activity)
        .push(" AND at > ")
        .bind(now - window)
        .fetch_i64(conn)
        .await?;
    Ok(n < max)
}

/// One failed check-in at `activity`.
pub async fn checkin_failed(
    conn: &mut AnyConnection,
    activity: &str,
    now: Millis,
) -> StoreResult<()> {
    Sql::new("INSERT INTO checkin_failures (id, activity_id, at) VALUES (")
        .bind(new_id())
        .push(", ")
        .bind(activity)
        .push(", ")
        .bind(now)
        .push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// The sealing field of one-time secrets.
pub const SECRET_FIELD: &str = "one_time_secrets.secret";

/// Keep `secret` (sealed) for the session `session_hash` to be shown once on `user_id`'s page,
/// until `expires_at`; replaces one kept before for the same pair.
pub async fn keep_secret(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    session_hash: &str,
    user_id: &str,
    secret: &str,
    expires_at: Millis,
) -> StoreResult<()> {
    Sql::new("DELETE FROM one_time_secrets WHERE session_hash = ")
        .bind(session_hash)
        .push(" AND user_id = ")
        .bind(user_id)
        .execute(conn)
        .await?;
    Sql::new("INSERT INTO one_time_secrets (id, session_hash, user_id, secret_sealed, expires_at) VALUES (")
        .bind(new_id())
        .push(", ")
        .bind(session_hash)
        .push(", ")
        .bind(user_id)
        .push(", ")
        .bind(keys.seal(SECRET_FIELD, secret))
        .push(", ")
        .bind(expires_at)
        .push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// The secret kept for this session and account, removed as it is read; `None` once expired (or
/// when another request took it first).
pub async fn take_secret(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    session_hash: &str,
    user_id: &str,
    now: Millis,
) -> StoreResult<Option<String>> {
    let row: Option<(String, String, i64)> = Sql::new(
        "SELECT id, secret_sealed, expires_at FROM one_time_secrets WHERE session_hash = ",
    )
    .bind(session_hash)
    .push(" AND user_id = ")
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    let Some((id, sealed, expires_at)) = row else {
        return Ok(None);
    };
    // Whoever deletes the row shows it: two reads at once show it once.
    let taken = Sql::new("DELETE FROM one_time_secrets WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    if taken != 1 || expires_at <= now {
        return Ok(None);
    }
    Ok(keys.open(SECRET_FIELD, &sealed).ok())
}

/// A background import's progress as its page polls it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportProgress {
    pub phase: String,
    pub total: i64,
    pub checked: i64,
    pub written: i64,
    pub cancel: i64,
    pub updated_at: Millis,
}

/// Record where the import of `batch` is (the instance running it, about once a second).
pub async fn put_progress(
    conn: &mut AnyConnection,
    batch: &str,
    p: &ImportProgress,
) -> StoreResult<()> {
    Sql::new("INSERT INTO import_progress (batch, phase, total, checked, written, cancel, updated_at) VALUES (")
        .bind(batch)
        .push(", ")
        .bind(p.phase.as_str())
        .push(", ")
        .bind(p.total)
        .push(", ")
        .bind(p.checked)
        .push(", ")
        .bind(p.written)
        .push(", 0, ")
        .bind(p.updated_at)
        .push(") ON CONFLICT (batch) DO UPDATE SET phase = EXCLUDED.phase, total = EXCLUDED.total, \
               checked = EXCLUDED.checked, written = EXCLUDED.written, updated_at = EXCLUDED.updated_at")
        .execute(conn)
        .await?;
    Ok(())
}

/// Start a new job on `batch`: its progress from nothing, a cancellation asked of an earlier job
/// forgotten.
pub async fn reset_progress(
    conn: &mut AnyConnection,
    batch: &str,
    p: &ImportProgress,
) -> StoreResult<()> {
    Sql::new("DELETE FROM import_progress WHERE batch = ")
        .bind(batch)
        .execute(conn)
        .await?;
    put_progress(conn, batch, p).await
}

/// The last recorded progress of `batch`'s import, on whichever instance runs it.
pub async fn progress(
    conn: &mut AnyConnection,
    batch: &str,
) -> StoreResult<Option<ImportProgress>> {
    Sql::new(
        "SELECT phase, total, checked, written, cancel, updated_at FROM import_progress WHERE batch = ",
    )
    .bind(batch)
    .fetch_optional(conn)
    .await
}

/// Ask the instance running `batch`'s import to stop (it looks about once a second).
pub async fn request_cancel(conn: &mut AnyConnection, batch: &str) -> StoreResult<()> {
    Sql::new("UPDATE import_progress SET cancel = 1 WHERE batch = ")
        .bind(batch)
        .execute(conn)
        .await?;
    Ok(())
}

/// How long throttle rows and finished progress are kept (a day: longer than any lockout or
/// window, and than any page that polls).
const KEEP: Millis = 24 * 3600 * 1000;

/// Remove what no longer counts: expired secrets, throttles and failures past every window,
/// progress of imports long finished. Returns the rows removed.
pub async fn purge(conn: &mut AnyConnection, now: Millis) -> StoreResult<u64> {
    let mut n = Sql::new("DELETE FROM one_time_secrets WHERE expires_at <= ")
        .bind(now)
        .execute(conn)
        .await?;
    n += Sql::new("DELETE FROM login_throttle WHERE updated_at < ")
        .bind(now - KEEP)
        .push(" AND locked_until < ")
        .bind(now)
        .execute(conn)
        .await?;
    n += Sql::new("DELETE FROM checkin_failures WHERE at < ")
        .bind(now - KEEP)
        .execute(conn)
        .await?;
    n += Sql::new("DELETE FROM import_progress WHERE updated_at < ")
        .bind(now - KEEP)
        .execute(conn)
        .await?;
    Ok(n)
}
