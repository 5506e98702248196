//! Hour records (志愿服务时数) and certificates (志愿服务记录证明).
//!
//! A sign-out writes a pending record; the organiser confirms it (公示: on notice for
//! `HOURS_PUBLICITY_DAYS`), then records it. A wrong record is corrected by a new record that
//! marks the old one corrected, or revoked with a reason — minutes, times and content are never
//! changed in place. Recorded minutes are kept on the volunteer with each change (star levels).
//! A certificate covers the recorded hours of one organising station only (谁组织谁记录，谁记录谁证明).
//!
//! Visibility: hours belong to the activity's region and organising station.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use shegong_domain::volunteers::activities::{
    self as rules, CERTIFICATE_PUBLICITY_DAYS, HourState, HourStep,
};
use shegong_domain::volunteers::attendance::DAY_CAP_MINUTES;
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::people::residents::in_scope;
use crate::sql::Sql;
use crate::statistics::counters::{self, Subject};
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

use super::activities::Activity;
use super::registry;

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HourRecord {
    pub id: String,
    pub volunteer_id: String,
    pub volunteer_no: String,
    pub volunteer_name: String,
    pub activity_id: String,
    pub activity_name: String,
    pub attendance_id: Option<String>,
    pub corrects_id: Option<String>,
    pub region_code: String,
    pub organiser_station_id: String,
    pub station_name: String,
    pub served_on: String,
    pub started_at: i64,
    pub ended_at: i64,
    pub minutes: i64,
    pub content: String,
    #[sqlx(try_from = "String")]
    pub state: HourState,
    pub publicity_until: Option<String>,
    pub reason: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

const SELECT: &str = "SELECT h.id, h.volunteer_id, v.volunteer_no, v.name AS volunteer_name, h.activity_id, \
     a.name AS activity_name, h.attendance_id, h.corrects_id, h.region_code, h.organiser_station_id, s.name AS station_name, \
     h.served_on, h.started_at, h.ended_at, h.minutes, h.content, h.state, h.publicity_until, h.reason, h.created_at, h.decided_at \
     FROM volunteer_hours h JOIN volunteers v ON v.id = h.volunteer_id JOIN volunteer_activities a ON a.id = h.activity_id \
     JOIN stations s ON s.id = h.organiser_station_id WHERE 1 = 1";

/// `AND <hour record h is in scope>`.
fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "h.region_code", "h.organiser_station_id", true);
}

/// A record to write.
pub struct NewHours<'a> {
    pub volunteer_id: &'a str,
    pub activity: &'a Activity,
    pub attendance_id: Option<&'a str>,
    pub corrects_id: Option<&'a str>,
    pub started_at: i64,
    pub ended_at: i64,
    pub minutes: i64,
    pub reason: &'a str,
}

/// Write a pending record. Returns its id.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    r: &NewHours<'_>,
    by_now: (&str, Millis),
) -> StoreResult<String> {
    let id = new_id();
    let content = if r.activity.content.is_empty() {
        r.activity.name.as_str()
    } else {
        r.activity.content.as_str()
    };
    let served_on = shegong_domain::volunteers::attendance::local_day(r.started_at).to_string();
    Sql::new("INSERT INTO volunteer_hours (id, volunteer_id, activity_id, attendance_id, corrects_id, region_code, organiser_station_id, \
              served_on, started_at, ended_at, minutes, content, state, reason, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(r.volunteer_id).push(", ").bind(r.activity.id.as_str()).push(", ")
        .bind(r.attendance_id).push(", ").bind(r.corrects_id).push(", ").bind(r.activity.region_code.as_str()).push(", ")
        .bind(r.activity.station_id.as_str()).push(", ").bind(served_on).push(", ").bind(r.started_at).push(", ")
        .bind(r.ended_at).push(", ").bind(r.minutes).push(", ").bind(content).push(", 'pending', ")
        .bind(r.reason.trim()).push(", ").bind(by_now.0).push(", ").bind(by_now.1).push(")")
        .execute(conn).await?;
    Ok(id)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<HourRecord> {
    let mut q = Sql::new(SELECT);
    q.push(" AND h.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<HourState>,
    pub volunteer_id: Option<String>,
    pub activity_id: Option<String>,
    /// Served on or after / on or before (ISO dates).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Volunteer name or number, or activity name, contains.
    pub q: Option<String>,
}

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    restrict(&mut q, scope);
    if let Some(s) = f.state {
        q.push(" AND h.state = ").bind(s.as_str());
    }
    if let Some(v) = &f.volunteer_id {
        q.push(" AND h.volunteer_id = ").bind(v.as_str());
    }
    if let Some(a) = &f.activity_id {
        q.push(" AND h.activity_id = ").bind(a.as_str());
    }
    if let Some(d) = &f.from {
        q.push(" AND h.served_on >= ").bind(d.as_str());
    }
    if let Some(d) = &f.to {
        q.push(" AND h.served_on <= ").bind(d.as_str());
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["v.name", "v.volunteer_no", "a.name"], text);
    }
    q
}

const COUNT: &str = "SELECT COUNT(*) FROM volunteer_hours h JOIN volunteers v ON v.id = h.volunteer_id \
     JOIN volunteer_activities a ON a.id = h.activity_id WHERE 1 = 1";

/// A page of the records in scope, latest service first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<HourRecord>> {
    let count = filtered(scope, f, COUNT);
    let mut q = filtered(scope, f, SELECT);
    q.push(" ORDER BY h.started_at DESC, h.id DESC");
    q.fetch_page(conn, &count, page).await
}

/// Every match, for export (capped), in service order.
pub async fn list_all(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    cap: i64,
) -> StoreResult<Vec<HourRecord>> {
    let mut q = filtered(scope, f, SELECT);
    q.push(" ORDER BY h.started_at, h.id LIMIT ").bind(cap);
    q.fetch_all(conn).await
}

/// A step asked for: the step, its reason, and for a correction the right minutes.
#[derive(Debug, Clone)]
pub struct StepInput {
    pub step: HourStep,
    /// Days a confirmed record stays on notice (the region's rule; 0: none).
    pub publicity_days: u64,
    pub reason: String,
    pub minutes: Option<i64>,
}

/// What a step did: the record before, its new state, and a correction's new record.
#[derive(Debug, Clone)]
pub struct Stepped {
    pub before: HourRecord,
    pub after: HourState,
    pub replacement: Option<String>,
}

/// Whether a live time-bank EARN was made from the record (it must be reversed first).
async fn earned_on(conn: &mut AnyConnection, id: &str) -> StoreResult<bool> {
    let n = Sql::new(
        "SELECT COUNT(*) FROM timebank_entries e WHERE e.source_kind = 'volunteer_hours' AND e.source_id = ",
    )
    .bind(id)
    .push(" AND NOT EXISTS (SELECT 1 FROM timebank_entries r WHERE r.reverses_id = e.id)")
    .fetch_i64(conn)
    .await?;
    Ok(n > 0)
}

/// Move a record one step on `today`. Refused steps name their field; the state changes only
/// from the state read (a concurrent step loses).
pub async fn step(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    input: &StepInput,
    by_now: (&str, Millis),
    today: NaiveDate,
) -> StoreResult<Stepped> {
    let before = get(conn, scope, id).await?;
    let until = before
        .publicity_until
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let after = rules::next_state(before.state, input.step, until, today, &input.reason)?;
    let correcting = input.step == HourStep::Correct;
    let new_minutes = match input.minutes {
        Some(m) if (1..=DAY_CAP_MINUTES).contains(&m) => Some(m),
        Some(_) => return refuse("minutes", "hours.minutes_range"),
        None if correcting => return refuse("minutes", "form.required"),
        None => None,
    };
    if new_minutes == Some(before.minutes) {
        return refuse("minutes", "hours.correction_same");
    }
    if matches!(after, HourState::Revoked | HourState::Corrected) && earned_on(conn, id).await? {
        return refuse("step", "hours.earned");
    }
    let subject = [Subject::Volunteer(&before.volunteer_id)];
    let counted = counters::contribution(conn, &subject).await?;
    let publicity = (after == HourState::Public)
        .then(|| rules::notice_until(today, input.publicity_days).to_string());
    let mut q = Sql::new("UPDATE volunteer_hours SET state = ");
    q.bind(after.as_str())
        .push(", publicity_until = COALESCE(")
        .bind(publicity)
        .push(", publicity_until), reason = ")
        .bind(input.reason.trim())
        .push(", decided_by = ")
        .bind(by_now.0)
        .push(", decided_at = ")
        .bind(by_now.1)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(before.state.as_str());
    if q.execute(conn).await? == 0 {
        return refuse("step", "hours.step_not_allowed");
    }
    let delta = match (before.state, after) {
        (_, HourState::Recorded) => before.minutes,
        (HourState::Recorded, _) => -before.minutes,
        _ => 0,
    };
    if delta != 0 {
        Sql::new("UPDATE volunteers SET recorded_minutes = recorded_minutes + ")
            .bind(delta)
            .push(" WHERE id = ")
            .bind(before.volunteer_id.as_str())
            .execute(conn)
            .await?;
    }
    let replacement = match new_minutes.filter(|_| correcting) {
        Some(minutes) => Some(replace(conn, scope, &before, minutes, input, by_now).await?),
        None => None,
    };
    counters::changed(conn, &subject, counted).await?;
    Ok(Stepped {
        before,
        after,
        replacement,
    })
}

/// The corrected record: same person, activity and start, the right minutes, pending again.
async fn replace(
    conn: &mut AnyConnection,
    scope: &Scope,
    old: &HourRecord,
    minutes: i64,
    input: &StepInput,
    by_now: (&str, Millis),
) -> StoreResult<String> {
    let activity = super::activities::get(conn, scope, &old.activity_id).await?;
    let rec = NewHours {
        volunteer_id: &old.volunteer_id,
        activity: &activity,
        attendance_id: None,
        corrects_id: Some(&old.id),
        started_at: old.started_at,
        ended_at: old.started_at + minutes * 60_000,
        minutes,
        reason: &input.reason,
    };
    insert(conn, &rec, by_now).await
}

/// The recorded minutes of a volunteer with one organising station in a period (what a
/// certificate from that station may state), and the activities behind them.
async fn certifiable(
    conn: &mut AnyConnection,
    volunteer_id: &str,
    station_id: &str,
    period: (&str, &str),
) -> StoreResult<(i64, Vec<String>)> {
    let rows: Vec<(String, i64)> = Sql::new(
        "SELECT a.name, CAST(SUM(h.minutes) AS BIGINT) FROM volunteer_hours h JOIN volunteer_activities a ON a.id = h.activity_id \
         WHERE h.state = 'recorded' AND h.volunteer_id = ",
    )
    .bind(volunteer_id)
    .push(" AND h.organiser_station_id = ")
    .bind(station_id)
    .push(" AND h.served_on >= ")
    .bind(period.0)
    .push(" AND h.served_on <= ")
    .bind(period.1)
    .push(" GROUP BY a.name ORDER BY a.name")
    .fetch_all(conn)
    .await?;
    let total = rows.iter().map(|(_, m)| *m).sum();
    Ok((total, rows.into_iter().map(|(n, _)| n).collect()))
}

/// The first and last day of the hours a station recorded for a volunteer.
async fn recorded_span(
    conn: &mut AnyConnection,
    volunteer_id: &str,
    station_id: &str,
) -> StoreResult<(String, String)> {
    let span: (Option<String>, Option<String>) = Sql::new(
        "SELECT MIN(served_on), MAX(served_on) FROM volunteer_hours WHERE state = 'recorded' AND volunteer_id = ",
    )
    .bind(volunteer_id)
    .push(" AND organiser_station_id = ")
    .bind(station_id)
    .fetch_one(conn)
    .await?;
    match span {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => refuse("station", "vcert.no_hours"),
    }
}

/// What the issuer fills in.
#[derive(Debug, Clone)]
pub struct CertificateInput {
    pub volunteer_id: String,
    pub station_id: String,
    pub person_in_charge: String,
    pub handler: String,
    pub contact: String,
    /// The period served (dates); `None`: every hour the station recorded for the volunteer.
    pub period: Option<(String, String)>,
}

/// Issue a certificate of the hours the station recorded for the volunteer in the period.
/// Returns its id.
pub async fn issue(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &CertificateInput,
    by_now: (&str, Millis),
    today: NaiveDate,
) -> StoreResult<String> {
    registry::get(conn, scope, &input.volunteer_id).await?;
    let station = crate::network::station_scope::place(conn, scope, &input.station_id)
        .await
        .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
    let (from, to) = match &input.period {
        Some((from, to)) if to < from => return refuse("period_to", "vcert.period_order"),
        Some(p) => p.clone(),
        None => recorded_span(conn, &input.volunteer_id, &station.id).await?,
    };
    let (minutes, names) =
        certifiable(conn, &input.volunteer_id, &station.id, (&from, &to)).await?;
    if minutes <= 0 {
        return refuse("station", "vcert.no_hours");
    }
    let (issuer,): (String,) = Sql::new("SELECT name FROM stations WHERE id = ")
        .bind(station.id.as_str())
        .fetch_one(conn)
        .await?;
    let year = today.year();
    let seq = Sql::new("SELECT COUNT(*) FROM volunteer_certificates WHERE region_code = ")
        .bind(station.region_code.as_str())
        .push(" AND issued_on >= ")
        .bind(format!("{year}-01-01"))
        .fetch_i64(conn)
        .await?
        + 1;
    let content: String = names.join("、").chars().take(1000).collect();
    let id = new_id();
    Sql::new("INSERT INTO volunteer_certificates (id, cert_no, volunteer_id, station_id, region_code, issuer_name, person_in_charge, \
              handler, contact, period_from, period_to, minutes, activities, content, issued_on, publicity_until, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(rules::certificate_no(&station.region_code, year, seq)).push(", ")
        .bind(input.volunteer_id.as_str()).push(", ").bind(station.id.as_str()).push(", ").bind(station.region_code.as_str()).push(", ")
        .bind(issuer).push(", ").bind(input.person_in_charge.trim()).push(", ").bind(input.handler.trim()).push(", ")
        .bind(input.contact.trim()).push(", ").bind(from).push(", ").bind(to).push(", ")
        .bind(minutes).push(", ").bind(i64::try_from(names.len()).unwrap_or(i64::MAX)).push(", ").bind(content).push(", ")
        .bind(today.to_string()).push(", ").bind(rules::notice_until(today, CERTIFICATE_PUBLICITY_DAYS).to_string()).push(", ")
        .bind(by_now.0).push(", ").bind(by_now.1).push(")")
        .execute(conn).await?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Certificate {
    pub id: String,
    pub cert_no: String,
    pub volunteer_id: String,
    pub station_id: String,
    pub region_code: String,
    pub issuer_name: String,
    pub person_in_charge: String,
    pub handler: String,
    pub contact: String,
    pub period_from: String,
    pub period_to: String,
    pub minutes: i64,
    pub activities: i64,
    pub content: String,
    pub issued_on: String,
    pub publicity_until: String,
    pub created_at: i64,
}

const CERT_SELECT: &str = "SELECT c.id, c.cert_no, c.volunteer_id, c.station_id, c.region_code, c.issuer_name, \
     c.person_in_charge, c.handler, c.contact, c.period_from, c.period_to, c.minutes, c.activities, c.content, c.issued_on, \
     c.publicity_until, c.created_at FROM volunteer_certificates c WHERE 1 = 1";

pub async fn certificate(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Certificate> {
    let mut q = Sql::new(CERT_SELECT);
    q.push(" AND c.id = ").bind(id);
    in_scope(&mut q, scope, "c.region_code", "c.station_id", true);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// The certificates of a volunteer in scope, newest first.
pub async fn certificates(
    conn: &mut AnyConnection,
    scope: &Scope,
    volunteer_id: &str,
) -> StoreResult<Vec<Certificate>> {
    let mut q = Sql::new(CERT_SELECT);
    q.push(" AND c.volunteer_id = ").bind(volunteer_id);
    in_scope(&mut q, scope, "c.region_code", "c.station_id", true);
    q.push(" ORDER BY c.created_at DESC LIMIT 500");
    q.fetch_all(conn).await
}

/// Recorded minutes of a volunteer (kept on the volunteer with every step).
pub async fn recorded_minutes(conn: &mut AnyConnection, volunteer_id: &str) -> StoreResult<i64> {
    Sql::new("SELECT recorded_minutes FROM volunteers WHERE id = ")
        .bind(volunteer_id)
        .fetch_i64(conn)
        .await
}

/// The recorded minutes kept on each volunteer against a fresh sum of their recorded hours:
/// the differences, as text (empty when they agree).
pub async fn verify(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
    let rows: Vec<(String, i64, i64)> = Sql::new(
        "SELECT v.volunteer_no, v.recorded_minutes, CAST(COALESCE((SELECT SUM(h.minutes) FROM volunteer_hours h \
         WHERE h.volunteer_id = v.id AND h.state = 'recorded'), 0) AS BIGINT) FROM volunteers v",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, kept, sum)| kept != sum)
        .map(|(no, kept, sum)| format!("volunteer {no}: recorded_minutes {kept}, hours say {sum}"))
        .collect())
}
