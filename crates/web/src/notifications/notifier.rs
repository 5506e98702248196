//! The notifier: looks at every enabled account's to-do queue on a schedule and posts a
//! notification when a kind of work has grown since the last look (or, for those who chose it,
//! one digest a day); then delivers the outbox to the outside channels, retrying what fails.
//! Pushed text is built from the kind of work and counts only (`text`), so it can carry no
//! personal data whatever the records hold.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Timelike;
use shegong_domain::notify::{ChannelKind, QuietHours};
use shegong_store::admin::users;
use shegong_store::notify::{self, Outcome, Pending};
use shegong_store::todo::{self as store_todo, Kind};

use super::channels::{Channel, Email, Message, Recipient, Sms, Webhook};
use crate::http::auth::CurrentUser;
use crate::http::state::AppState;
use crate::ui::i18n::{Lang, Tr};
use crate::workbench::todo::who;

/// The event code of the daily digest.
pub const DIGEST: &str = "digest";
/// The digest goes out at the first look after this hour (China time).
const DIGEST_HOUR: u32 = 8;
/// Deliveries handled per round.
const BATCH: i64 = 100;

/// Every event a user can choose a channel for.
pub fn events() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    all.push(DIGEST);
    all
}

/// The outside channels the configuration sets up.
pub fn configured(state: &AppState) -> Vec<Arc<dyn Channel>> {
    let n = &state.config.notify;
    let mut out: Vec<Arc<dyn Channel>> = Vec::new();
    if let Some(c) = &n.email {
        out.push(Arc::new(Email::new(c.clone())));
    }
    if let Some(c) = &n.webhook {
        out.push(Arc::new(Webhook::new(c.clone())));
    }
    if let Some(c) = &n.sms {
        out.push(Arc::new(Sms::new(c.clone())));
    }
    out
}

/// The pushed text of one kind of work: its name and the counts, nothing from the records.
pub fn text(t: &Tr, kind: Kind, count: i64, overdue: i64) -> String {
    let key = format!("todo.kind.{}", kind.as_str());
    let label = t.get(&key);
    let (n, late) = (count.to_string(), overdue.to_string());
    if overdue > 0 {
        t.fmt(
            "notify.text_overdue",
            &[("n", &n), ("kind", label), ("late", &late)],
        )
    } else {
        t.fmt("notify.text", &[("n", &n), ("kind", label)])
    }
}

/// The digest's text: each kind of work with its count.
pub fn digest_text(t: &Tr, counts: &[(Kind, i64, i64)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .map(|(k, n, _)| {
            let key = format!("todo.kind.{}", k.as_str());
            t.fmt(
                "notify.digest_part",
                &[("kind", t.get(&key)), ("n", &n.to_string())],
            )
        })
        .collect();
    t.fmt(
        "notify.digest",
        &[("parts", &parts.join(t.get("notify.digest_separator")))],
    )
}

/// China time of an instant: the day (`YYYY-MM-DD`) and the time of day.
fn china(now: i64) -> (String, chrono::NaiveTime) {
    let local = chrono::DateTime::from_timestamp_millis(now.saturating_add(8 * 3_600_000))
        .unwrap_or_default()
        .naive_utc();
    (local.date().to_string(), local.time())
}

/// One look at every enabled account's queue. Returns how many notifications were posted.
pub async fn scan(state: &AppState) -> anyhow::Result<usize> {
    let now = state.now();
    let (day, time) = china(now);
    let t = Tr::new(Lang::Zh);
    let on: Vec<ChannelKind> = configured(state).iter().map(|c| c.kind()).collect();
    let ids = {
        let mut c = state.db.read().await?;
        notify::active_users(&mut c).await?
    };
    let mut posted = 0;
    for id in ids {
        let mut c = state.db.read().await?;
        let user = users::auth::by_id(&mut c, &id).await?;
        let u = CurrentUser {
            user,
            session_hash: None,
            csrf_token: None,
        };
        let counts = store_todo::counts(&mut c, &who(state, &u)).await?;
        let marks = notify::marks(&mut c, &id).await?;
        let settings = notify::settings(&mut c, &state.keys, &id).await?;
        drop(c);
        let channels_for = |event: &str| -> Vec<ChannelKind> {
            settings
                .choices
                .iter()
                .filter(|(e, _)| e == event)
                .filter_map(|(_, ch)| ChannelKind::parse(ch).ok())
                .filter(|ch| on.contains(ch))
                .collect()
        };
        let mut tx = state.db.begin().await?;
        if settings.digest {
            let last_day = marks.get(DIGEST).map(|(_, d)| d.as_str()).unwrap_or("");
            if last_day != day && time.hour() >= DIGEST_HOUR && !counts.is_empty() {
                let text = digest_text(&t, &counts);
                notify::post(
                    &mut tx,
                    &id,
                    DIGEST,
                    &text,
                    "/todo",
                    &channels_for(DIGEST),
                    now,
                )
                .await?;
                notify::set_mark(&mut tx, &id, DIGEST, counts.len() as i64, &day).await?;
                posted += 1;
            }
        }
        let now_counts: HashMap<&str, (i64, i64)> = counts
            .iter()
            .map(|(k, n, late)| (k.as_str(), (*n, *late)))
            .collect();
        for (kind, n, late) in &counts {
            let before = marks.get(kind.as_str()).map_or(0, |(n, _)| *n);
            if *n > before && !settings.digest {
                let text = text(&t, *kind, *n, *late);
                let channels = channels_for(kind.as_str());
                notify::post(&mut tx, &id, kind.as_str(), &text, "/todo", &channels, now).await?;
                posted += 1;
            }
            if *n != before {
                notify::set_mark(&mut tx, &id, kind.as_str(), *n, "").await?;
            }
        }
        // Kinds that emptied: start again from nothing, so the next item speaks again.
        for (event, (n, _)) in &marks {
            if event != DIGEST && *n != 0 && !now_counts.contains_key(event.as_str()) {
                notify::set_mark(&mut tx, &id, event, 0, "").await?;
            }
        }
        tx.commit().await?;
    }
    Ok(posted)
}

/// Deliver what is due in the outbox through `channels`. Returns (sent, failed attempts).
pub async fn deliver(
    state: &AppState,
    channels: &[Arc<dyn Channel>],
) -> anyhow::Result<(usize, usize)> {
    let now = state.now();
    let due = {
        let mut c = state.db.read().await?;
        notify::due(&mut c, now, BATCH).await?
    };
    let (mut sent, mut failed) = (0, 0);
    for p in due {
        let outcome = attempt(state, channels, &p, now).await;
        match &outcome {
            Outcome::Sent => sent += 1,
            Outcome::Failed(e) => {
                failed += 1;
                tracing::warn!(channel = %p.channel, outbox = %p.id, error = %e, "notification delivery failed");
            }
            Outcome::Deferred(_) => {}
        }
        let mut tx = state.db.begin().await?;
        notify::record(&mut tx, &p, &outcome, now).await?;
        tx.commit().await?;
    }
    Ok((sent, failed))
}

async fn attempt(
    state: &AppState,
    channels: &[Arc<dyn Channel>],
    p: &Pending,
    now: i64,
) -> Outcome {
    let quiet = QuietHours::parse(
        p.quiet_from.as_deref().unwrap_or(""),
        p.quiet_to.as_deref().unwrap_or(""),
    )
    .ok()
    .flatten();
    if let Some(q) = quiet {
        let left = q.minutes_left(china(now).1);
        if left > 0 {
            return Outcome::Deferred(now + left * 60_000);
        }
    }
    let Some(channel) = channels.iter().find(|c| c.kind().as_str() == p.channel) else {
        return Outcome::Failed("channel not configured".into());
    };
    let open = |field, sealed: &Option<String>| {
        sealed
            .as_deref()
            .and_then(|s| state.keys.open(field, s).ok())
    };
    let to = Recipient {
        username: p.username.clone(),
        email: open(notify::EMAIL_FIELD, &p.email_sealed),
        mobile: open(notify::MOBILE_FIELD, &p.mobile_sealed),
    };
    let m = Message {
        id: p.notification_id.clone(),
        event: p.event.clone(),
        text: p.text.clone(),
        link: format!(
            "{}{}",
            state.config.notify.base_url.trim_end_matches('/'),
            p.link
        ),
    };
    match channel.send(&to, &m).await {
        Ok(()) => Outcome::Sent,
        Err(e) => Outcome::Failed(e),
    }
}

/// The server's loop: deliver every 30 seconds, look at the queues every `scan_minutes`.
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let minutes = state.config.notify.scan_minutes;
    if minutes == 0 {
        return;
    }
    let channels = configured(&state);
    let mut last_scan: Option<std::time::Instant> = None;
    // One notifier among several instances: two would post and send everything twice.
    let mut lead = shegong_store::leader::Leadership::new(
        state.db.clone(),
        shegong_store::leader::Task::Notify,
    );
    loop {
        let leads = lead.hold().await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "taking the notifier lead failed");
            false
        });
        if !leads {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(30)) => continue,
                _ = stop.changed() => return,
            }
        }
        if last_scan.is_none_or(|t| t.elapsed() >= Duration::from_secs(minutes * 60)) {
            last_scan = Some(std::time::Instant::now());
            if let Err(e) = scan(&state).await {
                tracing::error!(error = %e, "notification scan failed");
            }
        }
        if let Err(e) = deliver(&state, &channels).await {
            tracing::error!(error = %e, "notification delivery failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = stop.changed() => {
                lead.release().await;
                return;
            }
        }
    }
}
