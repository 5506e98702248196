//! Volunteer activities (志愿服务活动) organised by a station: publishing (a risky activity only
//! with its insurance reference), sign-up within the quota (minors with consent), and attendance
//! — signed in on arrival and out on leaving, by the organiser or by the volunteer scanning the
//! activity's QR code — with the sign-in rules of `volunteers::attendance`. Each sign-out writes
//! a pending hour record (see `hours`).
//!
//! Visibility: an activity belongs to its station's region; out of scope is "not found". The
//! volunteers signed up must be visible to the caller too.

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::volunteers::activities::{
    self as rules, ActivityShape, ActivityStatus, SignInMethod,
};
use shegong_domain::volunteers::attendance::{self, MAX_SIGN_INS_PER_DAY, Session, local_day};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope;
use crate::people::residents::in_scope;
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

use super::{hours, registry, teams};

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

/// A sign-in this long before the start is still accepted (arriving early to set up).
pub const EARLY_SIGN_IN_MILLIS: i64 = 60 * 60_000;
/// Clocks differ: a time this far ahead of the server's is still "now".
const CLOCK_SLACK_MILLIS: i64 = 5 * 60_000;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Activity {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: String,
    pub station_name: String,
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    pub name: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub address: String,
    pub recipients: String,
    pub content: String,
    pub requirements: String,
    pub quota: i64,
    pub signed_up: i64,
    pub risky: i64,
    pub insurance_ref: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ActivityStatus,
    #[serde(skip)]
    pub qr_token: String,
    /// The community service record written for residents it served.
    pub service_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT a.id, a.region_code, g.path_names AS region_path, a.station_id, s.name AS station_name, \
     a.team_id, t.name AS team_name, a.name, a.starts_at, a.ends_at, a.address, a.recipients, a.content, a.requirements, \
     a.quota, a.signed_up, a.risky, a.insurance_ref, a.status, a.qr_token, a.service_id, a.created_at, a.updated_at \
     FROM volunteer_activities a JOIN regions g ON g.code = a.region_code JOIN stations s ON s.id = a.station_id \
     LEFT JOIN volunteer_teams t ON t.id = a.team_id WHERE 1 = 1";

/// An activity's fields as typed (times in UTC epoch milliseconds).
#[derive(Debug, Clone)]
pub struct ActivityInput {
    pub station_id: String,
    pub team_id: Option<String>,
    pub name: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub address: String,
    pub recipients: String,
    pub content: String,
    pub requirements: String,
    pub quota: i64,
    pub risky: bool,
    pub insurance_ref: Option<String>,
}

impl ActivityInput {
    pub fn shape(&self) -> ActivityShape<'_> {
        ActivityShape {
            name: &self.name,
            address: &self.address,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            quota: self.quota,
        }
    }
}

/// `AND <activity a is in scope>`.
fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "a.region_code", "a.station_id", true);
}

/// Create a draft; the region is the organising station's. Returns the id.
pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ActivityInput,
    created_by: &str,
    now: Millis,
) -> StoreResult<String> {
    if let Some(e) = rules::check_activity(&input.shape()).into_iter().next() {
        return Err(e.into());
    }
    let station = station_scope::place(conn, scope, &input.station_id)
        .await
        .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
    if let Some(tid) = &input.team_id {
        let team = teams::get(conn, scope, tid)
            .await
            .map_err(|_| FieldError::new("team", "activity.team_unknown"))?;
        if !station.region_code.starts_with(&team.region_code)
            && !team.region_code.starts_with(&station.region_code)
        {
            return refuse("team", "activity.team_elsewhere");
        }
    }
    let id = new_id();
    Sql::new("INSERT INTO volunteer_activities (id, region_code, station_id, team_id, name, starts_at, ends_at, address, \
              recipients, content, requirements, quota, risky, insurance_ref, status, qr_token, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(station.region_code.as_str()).push(", ").bind(station.id.as_str()).push(", ")
        .bind(input.team_id.clone()).push(", ").bind(input.name.trim()).push(", ").bind(input.starts_at).push(", ")
        .bind(input.ends_at).push(", ").bind(input.address.trim()).push(", ").bind(input.recipients.trim()).push(", ")
        .bind(input.content.trim()).push(", ").bind(input.requirements.trim()).push(", ").bind(input.quota).push(", ")
        .bind(i64::from(input.risky)).push(", ").bind(input.insurance_ref.clone()).push(", 'draft', ")
        .bind(crate::admin::sessions::random_token()).push(", ").bind(created_by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Activity> {
    let mut q = Sql::new(SELECT);
    q.push(" AND a.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// The activity behind a QR code (the self sign-in page: no reader, the token is the key).
pub async fn by_token(conn: &mut AnyConnection, token: &str) -> StoreResult<Activity> {
    let mut q = Sql::new(SELECT);
    q.push(" AND a.qr_token = ").bind(token);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Name or address contains.
    pub q: Option<String>,
    pub status: Option<ActivityStatus>,
    pub station_id: Option<String>,
}

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    restrict(&mut q, scope);
    if let Some(s) = f.status {
        q.push(" AND a.status = ").bind(s.as_str());
    }
    if let Some(s) = &f.station_id {
        q.push(" AND a.station_id = ").bind(s.as_str());
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["a.name", "a.address"], text);
    }
    q
}

/// A page of the activities in scope, latest start first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Activity>> {
    let count = filtered(
        scope,
        f,
        "SELECT COUNT(*) FROM volunteer_activities a WHERE 1 = 1",
    );
    let mut q = filtered(scope, f, SELECT);
    q.push(" ORDER BY a.starts_at DESC, a.id DESC");
    q.fetch_page(conn, &count, page).await
}

/// Every match, for export (capped).
pub async fn list_all(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    cap: i64,
) -> StoreResult<Vec<Activity>> {
    let mut q = filtered(scope, f, SELECT);
    q.push(" ORDER BY a.starts_at DESC, a.id DESC LIMIT ")
        .bind(cap);
    q.fetch_all(conn).await
}

/// Publish (`open`, setting the insurance reference when given), end (`close`) or `cancel`.
/// Returns the activity as it was.
pub async fn step(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    step: &str,
    insurance_ref: Option<&str>,
    now: Millis,
) -> StoreResult<Activity> {
    let a = get(conn, scope, id).await?;
    let insurance = insurance_ref
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| a.insurance_ref.clone());
    let (from, to): (&[&str], ActivityStatus) = match step {
        "open" => {
            rules::check_open(a.status, a.risky == 1, insurance.as_deref(), a.ends_at, now)?;
            (&["draft"], ActivityStatus::Open)
        }
        "close" if a.status == ActivityStatus::Open => (&["open"], ActivityStatus::Closed),
        "cancel" if matches!(a.status, ActivityStatus::Draft | ActivityStatus::Open) => {
            (&["draft", "open"], ActivityStatus::Cancelled)
        }
        "close" | "cancel" => return refuse("step", "activity.step_not_allowed"),
        _ => return refuse("step", "activity.step_unknown"),
    };
    if to == ActivityStatus::Cancelled && attended(conn, id).await? > 0 {
        return refuse("step", "activity.has_attendance");
    }
    let mut q = Sql::new("UPDATE volunteer_activities SET status = ");
    q.bind(to.as_str())
        .push(", insurance_ref = ")
        .bind(insurance)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND status IN (");
    for (i, s) in from.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(*s);
    }
    q.push(")");
    if q.execute(conn).await? == 0 {
        return refuse("step", "activity.step_not_allowed");
    }
    Ok(a)
}

/// Link the service record written for the residents the activity served: once, and only for
/// an activity that has taken place (open or ended). Returns the activity as it was.
pub async fn link_service(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    service_id: &str,
) -> StoreResult<Activity> {
    let a = get(conn, scope, id).await?;
    if !matches!(a.status, ActivityStatus::Open | ActivityStatus::Closed) {
        return refuse("activity", "activity.not_open");
    }
    let n = Sql::new("UPDATE volunteer_activities SET service_id = ")
        .bind(service_id)
        .push(" WHERE service_id IS NULL AND id = ")
        .bind(id)
        .execute(conn)
        .await?;
    if n == 0 {
        return refuse("activity", "activity.service_already");
    }
    Ok(a)
}

async fn attended(conn: &mut AnyConnection, activity_id: &str) -> StoreResult<i64> {
    Sql::new("SELECT COUNT(*) FROM volunteer_attendance WHERE activity_id = ")
        .bind(activity_id)
        .fetch_i64(conn)
        .await
}

/// Sign a volunteer up (or back up after withdrawing), within the quota. Returns the activity.
pub async fn sign_up(
    conn: &mut AnyConnection,
    scope: &Scope,
    activity_id: &str,
    volunteer_id: &str,
    guardian_consent: bool,
    by_now: (&str, Millis),
) -> StoreResult<Activity> {
    let a = get(conn, scope, activity_id).await?;
    let v = registry::get(conn, scope, volunteer_id)
        .await
        .map_err(|_| FieldError::new("volunteer_id", "team.volunteer_unknown"))?;
    if v.status != shegong_domain::volunteers::VolunteerStatus::Active {
        return refuse("volunteer_id", "signup.volunteer_inactive");
    }
    let mut existing = Sql::new("SELECT status FROM volunteer_signups WHERE activity_id = ");
    existing
        .bind(activity_id)
        .push(" AND volunteer_id = ")
        .bind(volunteer_id);
    let before: Option<(String,)> = existing.fetch_optional(conn).await?;
    if before.as_ref().is_some_and(|(s,)| s == "signed_up") {
        return refuse("volunteer_id", "signup.already");
    }
    let birth = NaiveDate::parse_from_str(&v.birth_date, "%Y-%m-%d")
        .map_err(|_| FieldError::new("volunteer_id", "signup.volunteer_inactive"))?;
    rules::check_sign_up(
        a.status,
        a.signed_up >= a.quota,
        birth,
        local_day(a.starts_at),
        guardian_consent,
        v.accompanied == 1,
    )?;
    // The quota holds under concurrent sign-ups: the count moves only while below it.
    let taken = Sql::new("UPDATE volunteer_activities SET signed_up = signed_up + 1 WHERE id = ")
        .bind(activity_id)
        .push(" AND signed_up < quota AND status = 'open'")
        .execute(conn)
        .await?;
    if taken == 0 {
        return refuse("activity", "activity.full");
    }
    let w = if before.is_some() {
        let mut w =
            Sql::new("UPDATE volunteer_signups SET status = 'signed_up', guardian_consent = ");
        w.bind(i64::from(guardian_consent))
            .push(", created_by = ")
            .bind(by_now.0)
            .push(", created_at = ")
            .bind(by_now.1)
            .push(" WHERE activity_id = ");
        w.bind(activity_id)
            .push(" AND volunteer_id = ")
            .bind(volunteer_id);
        w
    } else {
        let mut w = Sql::new(
            "INSERT INTO volunteer_signups (activity_id, volunteer_id, guardian_consent, status, created_by, created_at) VALUES (",
        );
        w.bind(activity_id).push(", ").bind(volunteer_id).push(", ");
        w.bind(i64::from(guardian_consent))
            .push(", 'signed_up', ")
            .bind(by_now.0)
            .push(", ")
            .bind(by_now.1)
            .push(")");
        w
    };
    w.execute(conn).await?;
    Ok(a)
}

/// Withdraw a sign-up (before any attendance at the activity). Returns the activity.
pub async fn withdraw(
    conn: &mut AnyConnection,
    scope: &Scope,
    activity_id: &str,
    volunteer_id: &str,
) -> StoreResult<Activity> {
    let a = get(conn, scope, activity_id).await?;
    let mut came = Sql::new("SELECT COUNT(*) FROM volunteer_attendance WHERE activity_id = ");
    came.bind(activity_id)
        .push(" AND volunteer_id = ")
        .bind(volunteer_id);
    if came.fetch_i64(conn).await? > 0 {
        return refuse("volunteer_id", "signup.attended");
    }
    let n = Sql::new("UPDATE volunteer_signups SET status = 'withdrawn' WHERE activity_id = ")
        .bind(activity_id)
        .push(" AND volunteer_id = ")
        .bind(volunteer_id)
        .push(" AND status = 'signed_up'")
        .execute(conn)
        .await?;
    if n == 0 {
        return refuse("volunteer_id", "signup.not_signed_up");
    }
    Sql::new("UPDATE volunteer_activities SET signed_up = signed_up - 1 WHERE id = ")
        .bind(activity_id)
        .execute(conn)
        .await?;
    Ok(a)
}

/// A sign-up as the activity page shows it, with the person's sessions here.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SignUp {
    pub volunteer_id: String,
    pub volunteer_no: String,
    pub name: String,
    pub guardian_consent: i64,
    pub status: String,
    pub created_at: i64,
    /// The sign-in of a session still open here.
    pub open_since: Option<i64>,
    pub sessions: i64,
    pub minutes: i64,
}

pub async fn sign_ups(
    conn: &mut AnyConnection,
    scope: &Scope,
    activity_id: &str,
) -> StoreResult<Vec<SignUp>> {
    get(conn, scope, activity_id).await?;
    let mut q = Sql::new(
        "SELECT v.id AS volunteer_id, v.volunteer_no, v.name, su.guardian_consent, su.status, su.created_at, \
         (SELECT MAX(x.sign_in) FROM volunteer_attendance x WHERE x.activity_id = su.activity_id AND x.volunteer_id = v.id AND x.sign_out IS NULL) AS open_since, \
         (SELECT COUNT(*) FROM volunteer_attendance x WHERE x.activity_id = su.activity_id AND x.volunteer_id = v.id) AS sessions, \
         (SELECT CAST(COALESCE(SUM(x.minutes), 0) AS BIGINT) FROM volunteer_attendance x WHERE x.activity_id = su.activity_id AND x.volunteer_id = v.id) AS minutes \
         FROM volunteer_signups su JOIN volunteers v ON v.id = su.volunteer_id WHERE su.activity_id = ",
    );
    q.bind(activity_id);
    in_scope(&mut q, scope, "v.region_code", "v.station_id", true);
    q.push(" ORDER BY su.status, v.volunteer_no LIMIT 10000");
    q.fetch_all(conn).await
}

/// Hold the volunteer's row for the rest of the transaction (PostgreSQL row lock), so two
/// sign-ins of one person never pass the day's rules side by side.
async fn lock_volunteer(conn: &mut AnyConnection, volunteer_id: &str) -> StoreResult<()> {
    Sql::new("UPDATE volunteers SET updated_at = updated_at WHERE id = ")
        .bind(volunteer_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The person's sessions from a day before to a day after `at` (what the rules compare with).
async fn sessions_near(
    conn: &mut AnyConnection,
    volunteer_id: &str,
    at: i64,
) -> StoreResult<Vec<(String, i64, Option<i64>)>> {
    let day = 24 * 3_600_000;
    Sql::new("SELECT id, sign_in, sign_out FROM volunteer_attendance WHERE volunteer_id = ")
        .bind(volunteer_id)
        .push(" AND sign_in > ")
        .bind(at - 2 * day)
        .push(" AND sign_in < ")
        .bind(at + 2 * day)
        .fetch_all(conn)
        .await
}

/// What a sign-in or sign-out names.
#[derive(Debug, Clone, Copy)]
pub struct Mark<'a> {
    pub activity_id: &'a str,
    pub volunteer_id: &'a str,
    /// When (UTC epoch milliseconds): now, or the time the organiser enters.
    pub at: i64,
    pub method: SignInMethod,
}

async fn signed_up(conn: &mut AnyConnection, m: &Mark<'_>) -> StoreResult<bool> {
    let mut q = Sql::new("SELECT COUNT(*) FROM volunteer_signups WHERE activity_id = ");
    q.bind(m.activity_id)
        .push(" AND volunteer_id = ")
        .bind(m.volunteer_id)
        .push(" AND status = 'signed_up'");
    Ok(q.fetch_i64(conn).await? > 0)
}

/// Sign in: the activity open, the person signed up, the time within the activity (an hour early
/// at most) and not ahead of now; no session of theirs open or covering the time; at most three
/// sign-ins that day. Returns the attendance id.
pub async fn sign_in(
    conn: &mut AnyConnection,
    scope: &Scope,
    m: &Mark<'_>,
    by_now: (&str, Millis),
) -> StoreResult<String> {
    let a = get(conn, scope, m.activity_id).await?;
    if a.status != ActivityStatus::Open {
        return refuse("activity", "activity.not_open");
    }
    if m.at < a.starts_at - EARLY_SIGN_IN_MILLIS || m.at >= a.ends_at {
        return refuse("sign_in", "attendance.outside_activity");
    }
    if m.at > by_now.1 + CLOCK_SLACK_MILLIS {
        return refuse("sign_in", "attendance.in_future");
    }
    if !signed_up(conn, m).await? {
        return refuse("volunteer_id", "signup.not_signed_up");
    }
    lock_volunteer(conn, m.volunteer_id).await?;
    let near = sessions_near(conn, m.volunteer_id, m.at).await?;
    if near.iter().any(|(_, _, out)| out.is_none()) {
        return refuse("sign_in", "attendance.open_session");
    }
    let inside = near.iter().any(|(_, i, o)| {
        o.is_some_and(|o| {
            Session {
                sign_in: *i,
                sign_out: o,
            }
            .overlaps(&Session {
                sign_in: m.at,
                sign_out: m.at + 1,
            })
        })
    });
    if inside {
        return refuse("sign_in", "attendance.overlap");
    }
    let day = local_day(m.at);
    if near.iter().filter(|(_, i, _)| local_day(*i) == day).count() >= MAX_SIGN_INS_PER_DAY {
        return refuse("sign_in", "attendance.too_many_sign_ins");
    }
    let id = new_id();
    Sql::new("INSERT INTO volunteer_attendance (id, activity_id, volunteer_id, day, sign_in, method, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(m.activity_id).push(", ").bind(m.volunteer_id).push(", ")
        .bind(day.to_string()).push(", ").bind(m.at).push(", ").bind(m.method.as_str()).push(", ")
        .bind(by_now.0).push(", ").bind(by_now.1).push(")")
        .execute(conn).await?;
    Ok(id)
}

/// What a sign-out did.
#[derive(Debug, Clone)]
pub struct SignedOut {
    pub attendance_id: String,
    pub minutes: i64,
    /// The pending hour record written (none for a session under a minute).
    pub hours_id: Option<String>,
    pub region_code: String,
}

/// Sign out of the person's open session here: the session is checked against their others
/// (overlap, the day's cap) and its minutes become a pending hour record.
pub async fn sign_out(
    conn: &mut AnyConnection,
    scope: &Scope,
    m: &Mark<'_>,
    by_now: (&str, Millis),
) -> StoreResult<SignedOut> {
    let a = get(conn, scope, m.activity_id).await?;
    if !matches!(a.status, ActivityStatus::Open | ActivityStatus::Closed) {
        return refuse("activity", "activity.not_open");
    }
    if m.at > by_now.1 + CLOCK_SLACK_MILLIS {
        return refuse("sign_out", "attendance.in_future");
    }
    lock_volunteer(conn, m.volunteer_id).await?;
    let mut open = Sql::new("SELECT id, sign_in FROM volunteer_attendance WHERE activity_id = ");
    open.bind(m.activity_id)
        .push(" AND volunteer_id = ")
        .bind(m.volunteer_id)
        .push(" AND sign_out IS NULL");
    let Some((att_id, sign_in)): Option<(String, i64)> = open.fetch_optional(conn).await? else {
        return refuse("sign_out", "attendance.not_signed_in");
    };
    // Time after the activity's end is not service.
    let session = Session {
        sign_in,
        sign_out: m.at.min(a.ends_at),
    };
    let others: Vec<Session> = sessions_near(conn, m.volunteer_id, sign_in)
        .await?
        .into_iter()
        .filter(|(id, _, _)| *id != att_id)
        .filter_map(|(_, i, o)| {
            o.map(|o| Session {
                sign_in: i,
                sign_out: o,
            })
        })
        .collect();
    let minutes = attendance::check_session(&session, &others)?;
    Sql::new("UPDATE volunteer_attendance SET sign_out = ")
        .bind(session.sign_out)
        .push(", minutes = ")
        .bind(minutes)
        .push(" WHERE id = ")
        .bind(att_id.as_str())
        .execute(conn)
        .await?;
    let hours_id = if minutes > 0 {
        let rec = hours::NewHours {
            volunteer_id: m.volunteer_id,
            activity: &a,
            attendance_id: Some(&att_id),
            corrects_id: None,
            started_at: session.sign_in,
            ended_at: session.sign_out,
            minutes,
            reason: "",
        };
        Some(hours::insert(conn, &rec, by_now).await?)
    } else {
        None
    };
    Ok(SignedOut {
        attendance_id: att_id,
        minutes,
        hours_id,
        region_code: a.region_code,
    })
}

/// A session as the activity page lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttendanceRow {
    pub id: String,
    pub volunteer_id: String,
    pub volunteer_no: String,
    pub name: String,
    pub day: String,
    pub sign_in: i64,
    pub sign_out: Option<i64>,
    pub minutes: Option<i64>,
    pub method: String,
}

pub async fn attendance(
    conn: &mut AnyConnection,
    scope: &Scope,
    activity_id: &str,
) -> StoreResult<Vec<AttendanceRow>> {
    get(conn, scope, activity_id).await?;
    let mut q = Sql::new(
        "SELECT x.id, v.id AS volunteer_id, v.volunteer_no, v.name, x.day, x.sign_in, x.sign_out, x.minutes, x.method \
         FROM volunteer_attendance x JOIN volunteers v ON v.id = x.volunteer_id WHERE x.activity_id = ",
    );
    q.bind(activity_id);
    in_scope(&mut q, scope, "v.region_code", "v.station_id", true);
    q.push(" ORDER BY x.sign_in, x.id LIMIT 20000");
    q.fetch_all(conn).await
}

/// The volunteer a QR sign-in names: their volunteer number, signed up for the activity.
pub async fn volunteer_by_no(
    conn: &mut AnyConnection,
    activity_id: &str,
    volunteer_no: &str,
) -> StoreResult<(String, Option<String>)> {
    let mut q = Sql::new(
        "SELECT v.id, v.mobile_sealed FROM volunteers v JOIN volunteer_signups su ON su.volunteer_id = v.id \
         WHERE su.status = 'signed_up' AND su.activity_id = ",
    );
    q.bind(activity_id)
        .push(" AND v.volunteer_no = ")
        .bind(volunteer_no.trim());
    q.fetch_optional(conn)
        .await?
        .ok_or_else(|| FieldError::new("volunteer_no", "checkin.unknown").into())
}
