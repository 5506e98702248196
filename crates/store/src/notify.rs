//! Notifications (issue 17 item 2): the inbox every notification lands in, the outbox rows that
//! carry it to outside channels with retries, each user's choices, and what the notifier last
//! found per user and event. Delivery itself (SMTP, webhook, SMS) is the web layer's; this module
//! only records what to send, what was sent and what failed.

use serde::Serialize;
use shegong_domain::FieldError;
use shegong_domain::notify::{self as domain, ChannelKind, QuietHours};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

pub const EMAIL_FIELD: &str = "notification_settings.email";
pub const MOBILE_FIELD: &str = "notification_settings.mobile";

/// One notification in a user's inbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: String,
    pub event: String,
    pub text: String,
    pub link: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Post a notification to `user`'s inbox, and to each outside channel in `channels` through the
/// outbox (delivered later; nothing here waits on a channel).
pub async fn post(
    conn: &mut AnyConnection,
    user: &str,
    event: &str,
    text: &str,
    link: &str,
    channels: &[ChannelKind],
    now: Millis,
) -> StoreResult<String> {
    let id = new_id();
    Sql::new("INSERT INTO notifications (id, user_id, event, text, link, created_at) VALUES (")
        .bind(id.clone())
        .push(", ")
        .bind(user)
        .push(", ")
        .bind(event)
        .push(", ")
        .bind(text)
        .push(", ")
        .bind(link)
        .push(", ")
        .bind(now)
        .push(")")
        .execute(conn)
        .await?;
    for c in channels {
        Sql::new("INSERT INTO notification_outbox (id, notification_id, user_id, channel, state, next_at) VALUES (")
            .bind(new_id())
            .push(", ")
            .bind(id.clone())
            .push(", ")
            .bind(user)
            .push(", ")
            .bind(c.as_str())
            .push(", 'pending', ")
            .bind(now)
            .push(")")
            .execute(conn)
            .await?;
    }
    Ok(id)
}

/// A page of `user`'s inbox, newest first; only the unread ones when `unread`.
pub async fn inbox(
    conn: &mut AnyConnection,
    user: &str,
    unread: bool,
    page: PageRequest,
) -> StoreResult<Page<Notification>> {
    let filtered = |select: &'static str| {
        let mut q = Sql::new(select);
        q.push(" FROM notifications WHERE user_id = ").bind(user);
        if unread {
            q.push(" AND read_at IS NULL");
        }
        q
    };
    let count = filtered("SELECT COUNT(*)");
    let mut q = filtered("SELECT id, event, text, link, created_at, read_at");
    q.push(" ORDER BY created_at DESC, id DESC");
    q.fetch_page(conn, &count, page).await
}

pub async fn unread_count(conn: &mut AnyConnection, user: &str) -> StoreResult<i64> {
    Sql::new("SELECT COUNT(*) FROM notifications WHERE read_at IS NULL AND user_id = ")
        .bind(user)
        .fetch_i64(conn)
        .await
}

/// Mark one of `user`'s notifications read (again is fine); someone else's is not found.
pub async fn mark_read(
    conn: &mut AnyConnection,
    user: &str,
    id: &str,
    now: Millis,
) -> StoreResult<Notification> {
    let found: Notification = Sql::new(
        "SELECT id, event, text, link, created_at, read_at FROM notifications WHERE id = ",
    )
    .bind(id)
    .push(" AND user_id = ")
    .bind(user)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Sql::new("UPDATE notifications SET read_at = ")
        .bind(now)
        .push(" WHERE read_at IS NULL AND id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(found)
}

/// Mark all of `user`'s notifications read; how many were unread.
pub async fn mark_all_read(conn: &mut AnyConnection, user: &str, now: Millis) -> StoreResult<u64> {
    Sql::new("UPDATE notifications SET read_at = ")
        .bind(now)
        .push(" WHERE read_at IS NULL AND user_id = ")
        .bind(user)
        .execute(conn)
        .await
}

/// A user's choices, as stored (addresses still sealed).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
struct SettingsRow {
    email_sealed: Option<String>,
    mobile_sealed: Option<String>,
    digest: i64,
    quiet_from: String,
    quiet_to: String,
}

/// A user's choices: addresses for the outside channels, digest, quiet hours, and which events go
/// out on which channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub digest: bool,
    /// `HH:MM`, or empty for none.
    pub quiet_from: String,
    pub quiet_to: String,
    /// (event, channel) pairs.
    pub choices: Vec<(String, String)>,
}

pub async fn settings(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    user: &str,
) -> StoreResult<Settings> {
    let row: SettingsRow = Sql::new(
        "SELECT email_sealed, mobile_sealed, digest, quiet_from, quiet_to FROM notification_settings WHERE user_id = ",
    )
    .bind(user)
    .fetch_optional(conn)
    .await?
    .unwrap_or_default();
    let open = |field, sealed: Option<String>| sealed.and_then(|s| keys.open(field, &s).ok());
    let choices: Vec<(String, String)> =
        Sql::new("SELECT event, channel FROM notification_choices WHERE user_id = ")
            .bind(user)
            .push(" ORDER BY event, channel")
            .fetch_all(conn)
            .await?;
    Ok(Settings {
        email: open(EMAIL_FIELD, row.email_sealed),
        mobile: open(MOBILE_FIELD, row.mobile_sealed),
        digest: row.digest == 1,
        quiet_from: row.quiet_from,
        quiet_to: row.quiet_to,
        choices,
    })
}

/// Replace a user's choices, after checking every field (nothing is written when one is wrong).
/// `events` are the event codes a user may choose.
pub async fn save_settings(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    user: &str,
    s: &Settings,
    events: &[&str],
    now: Millis,
) -> StoreResult<Settings> {
    let mut errors = Vec::new();
    let email = match s.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => domain::email(e).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    let mobile = match s.mobile.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => shegong_domain::people::identity::Mobile::parse(m)
            .map(|m| m.as_str().to_owned())
            .map_err(|_| errors.push(FieldError::new("mobile", "notify.mobile_invalid")))
            .ok(),
        None => None,
    };
    if let Err(e) = QuietHours::parse(&s.quiet_from, &s.quiet_to) {
        errors.push(e);
    }
    let mut choices = Vec::new();
    for (event, channel) in &s.choices {
        match ChannelKind::parse(channel) {
            Ok(c) if events.contains(&event.as_str()) => choices.push((event.clone(), c)),
            Ok(_) => errors.push(FieldError::new("event", "notify.event_unknown")),
            Err(e) => errors.push(e),
        }
    }
    if choices.iter().any(|(_, c)| *c == ChannelKind::Email) && email.is_none() {
        errors.push(FieldError::new("email", "notify.email_required"));
    }
    if choices.iter().any(|(_, c)| *c == ChannelKind::Sms) && mobile.is_none() {
        errors.push(FieldError::new("mobile", "notify.mobile_required"));
    }
    // The first problem, by field order of the form.
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    Sql::new("DELETE FROM notification_settings WHERE user_id = ")
        .bind(user)
        .execute(conn)
        .await?;
    Sql::new("INSERT INTO notification_settings (id, user_id, email_sealed, mobile_sealed, digest, quiet_from, quiet_to, updated_at) VALUES (")
        .bind(new_id())
        .push(", ")
        .bind(user)
        .push(", ")
        .bind(email.as_deref().map(|e| keys.seal(EMAIL_FIELD, e)))
        .push(", ")
        .bind(mobile.as_deref().map(|m| keys.seal(MOBILE_FIELD, m)))
        .push(", ")
        .bind(i64::from(s.digest))
        .push(", ")
        .bind(s.quiet_from.trim())
        .push(", ")
        .bind(s.quiet_to.trim())
        .push(", ")
        .bind(now)
        .push(")")
        .execute(conn)
        .await?;
    Sql::new("DELETE FROM notification_choices WHERE user_id = ")
        .bind(user)
        .execute(conn)
        .await?;
    choices.sort();
    choices.dedup();
    for (event, channel) in &choices {
        Sql::new("INSERT INTO notification_choices (user_id, event, channel) VALUES (")
            .bind(user)
            .push(", ")
            .bind(event.as_str())
            .push(", ")
            .bind(channel.as_str())
            .push(")")
            .execute(conn)
            .await?;
    }
    settings(conn, keys, user).await
}

/// What the notifier last found for a user: event → (count, day of the last digest).
pub async fn marks(
    conn: &mut AnyConnection,
    user: &str,
) -> StoreResult<std::collections::HashMap<String, (i64, String)>> {
    let rows: Vec<(String, i64, String)> =
        Sql::new("SELECT event, count, day FROM notification_marks WHERE user_id = ")
            .bind(user)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(e, n, d)| (e, (n, d))).collect())
}

pub async fn set_mark(
    conn: &mut AnyConnection,
    user: &str,
    event: &str,
    count: i64,
    day: &str,
) -> StoreResult<()> {
    Sql::new("INSERT INTO notification_marks (user_id, event, count, day) VALUES (")
        .bind(user)
        .push(", ")
        .bind(event)
        .push(", ")
        .bind(count)
        .push(", ")
        .bind(day)
        .push(") ON CONFLICT (user_id, event) DO UPDATE SET count = excluded.count, day = excluded.day")
        .execute(conn)
        .await?;
    Ok(())
}

/// A delivery waiting for its channel, with what the channel needs (addresses still sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: String,
    pub notification_id: String,
    pub user_id: String,
    pub username: String,
    pub channel: String,
    pub attempts: i64,
    pub event: String,
    pub text: String,
    pub link: String,
    pub email_sealed: Option<String>,
    pub mobile_sealed: Option<String>,
    pub quiet_from: Option<String>,
    pub quiet_to: Option<String>,
}

/// Deliveries due by `now`, oldest first, at most `limit`.
pub async fn due(conn: &mut AnyConnection, now: Millis, limit: i64) -> StoreResult<Vec<Pending>> {
    Sql::new(
        "SELECT o.id, o.notification_id, o.user_id, u.username, o.channel, o.attempts, n.event, n.text, n.link, \
         s.email_sealed, s.mobile_sealed, s.quiet_from, s.quiet_to \
         FROM notification_outbox o JOIN notifications n ON n.id = o.notification_id JOIN users u ON u.id = o.user_id \
         LEFT JOIN notification_settings s ON s.user_id = o.user_id \
         WHERE o.state = 'pending' AND o.next_at <= ",
    )
    .bind(now)
    .push(" ORDER BY o.next_at, o.id LIMIT ")
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Not now (quiet hours): try again at this time, not counted as an attempt.
    Deferred(Millis),
    /// Failed: retried on the schedule, or given up after the last attempt.
    Failed(String),
}

/// Record an attempt's outcome. Returns the row's new state.
pub async fn record(
    conn: &mut AnyConnection,
    p: &Pending,
    outcome: &Outcome,
    now: Millis,
) -> StoreResult<&'static str> {
    let mut q = Sql::new("UPDATE notification_outbox SET ");
    let state = match outcome {
        Outcome::Sent => {
            q.push("state = 'sent', attempts = attempts + 1, sent_at = ")
                .bind(now);
            "sent"
        }
        Outcome::Deferred(at) => {
            q.push("next_at = ").bind(*at);
            "pending"
        }
        Outcome::Failed(error) => {
            let attempts = p.attempts + 1;
            let error: String = error.chars().take(500).collect();
            match domain::retry_after_minutes(attempts) {
                Some(wait) => {
                    q.push("attempts = ")
                        .bind(attempts)
                        .push(", next_at = ")
                        .bind(now + wait * 60_000)
                        .push(", last_error = ")
                        .bind(error);
                    "pending"
                }
                None => {
                    q.push("state = 'failed', attempts = ")
                        .bind(attempts)
                        .push(", last_error = ")
                        .bind(error);
                    "failed"
                }
            }
        }
    };
    q.push(" WHERE state = 'pending' AND id = ")
        .bind(p.id.as_str());
    q.execute(conn).await?;
    Ok(state)
}

/// Outbox rows by channel and state (the system page's health line).
pub async fn outbox_summary(conn: &mut AnyConnection) -> StoreResult<Vec<(String, String, i64)>> {
    Sql::new("SELECT channel, state, COUNT(*) FROM notification_outbox GROUP BY channel, state ORDER BY channel, state")
        .fetch_all(conn)
        .await
}

/// Accounts the notifier looks at: enabled ones.
pub async fn active_users(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = Sql::new("SELECT id FROM users WHERE disabled = 0 ORDER BY id")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
