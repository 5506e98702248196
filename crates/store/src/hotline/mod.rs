//! Hotlines (热线) and their duty roster; tickets are in `tickets`.
//!
//! A line belongs to a station and is filed under the station's region: visible to the scopes
//! containing it (and, for an organisation's scope, to the operator of the station). Outside
//! that, a line, its roster and its tickets do not exist (`NotFound`).

pub mod tickets;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use shegong_domain::hotline::{self as hl, HotlineKind};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope;
use crate::people::residents::{check_worker, in_scope};
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

pub(crate) fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

/// A station in scope, or a refusal naming `station`.
pub(crate) async fn station_for(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<station_scope::StationPlace> {
    match station_scope::place(conn, scope, id).await {
        Err(StoreError::NotFound) => refuse("station", "staff.station_unknown"),
        other => other,
    }
}

#[derive(Debug, Clone)]
pub struct HotlineInput {
    pub station_id: String,
    pub number: String,
    pub name: String,
    pub kind: HotlineKind,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Hotline {
    pub id: String,
    pub region_code: String,
    pub station_id: String,
    pub station_name: Option<String>,
    pub number: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: HotlineKind,
    pub active: i64,
    pub duty_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT h.id, h.region_code, h.station_id, s.name AS station_name, h.number, h.name, h.kind, h.active, \
     (SELECT COUNT(*) FROM hotline_duty d WHERE d.hotline_id = h.id) AS duty_count, h.created_at, h.updated_at \
     FROM hotlines h LEFT JOIN stations s ON s.id = h.station_id WHERE 1 = 1";

fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "h.region_code", "h.station_id", true);
}

async fn check(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &HotlineInput,
    except: Option<&str>,
) -> StoreResult<String> {
    hl::check_number(&input.number)?;
    if input.name.chars().count() > 100 {
        return refuse("name", "form.too_long");
    }
    let station = station_for(conn, scope, &input.station_id).await?;
    let mut q = Sql::new("SELECT COUNT(*) FROM hotlines WHERE station_id = ");
    q.bind(&station.id)
        .push(" AND number = ")
        .bind(input.number.trim());
    if let Some(e) = except {
        q.push(" AND id <> ").bind(e);
    }
    if q.fetch_i64(conn).await? > 0 {
        return refuse("number", "hotline.number_taken");
    }
    Ok(station.region_code)
}

/// Add a line to a station in scope. Returns its id.
pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &HotlineInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let region = check(conn, scope, input, None).await?;
    let id = new_id();
    Sql::new("INSERT INTO hotlines (id, region_code, station_id, number, name, kind, active, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(region).push(", ").bind(input.station_id.trim()).push(", ").bind(input.number.trim()).push(", ")
        .bind(input.name.trim()).push(", ").bind(input.kind.as_str()).push(", ").bind(i64::from(input.active)).push(", ")
        .bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

/// Change a line (number, name, kind, station, active). Returns it as it was.
pub async fn update(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    input: &HotlineInput,
    now: Millis,
) -> StoreResult<Hotline> {
    let before = get(conn, scope, id).await?;
    let region = check(conn, scope, input, Some(id)).await?;
    Sql::new("UPDATE hotlines SET region_code = ")
        .bind(region)
        .push(", station_id = ")
        .bind(input.station_id.trim())
        .push(", number = ")
        .bind(input.number.trim())
        .push(", name = ")
        .bind(input.name.trim())
        .push(", kind = ")
        .bind(input.kind.as_str())
        .push(", active = ")
        .bind(i64::from(input.active))
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Hotline> {
    let mut q = Sql::new(SELECT);
    restrict(&mut q, scope);
    q.push(" AND h.id = ").bind(id);
    q.fetch_one(conn).await
}

/// Lines in scope, by number; `q` matches the number or name.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    text: Option<&str>,
    page: PageRequest,
) -> StoreResult<Page<Hotline>> {
    let mut q = Sql::new(SELECT);
    let mut count = Sql::new("SELECT COUNT(*) FROM hotlines h WHERE 1 = 1");
    for s in [&mut q, &mut count] {
        restrict(s, scope);
        if let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) {
            s.contains_any(&["h.number", "h.name"], t);
        }
    }
    q.push(" ORDER BY h.number, h.id");
    q.fetch_page(conn, &count, page).await
}

#[derive(Debug, Clone)]
pub struct DutyInput {
    pub user_id: String,
    /// 1 Monday … 7 Sunday, every week; or `on_date` once.
    pub weekday: Option<i64>,
    pub on_date: Option<String>,
    pub starts: String,
    pub ends: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Duty {
    pub id: String,
    pub hotline_id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub weekday: Option<i64>,
    pub on_date: Option<String>,
    pub starts: String,
    pub ends: String,
}

impl Duty {
    /// Whether this shift covers the (China time) day and "HH:MM".
    pub fn covers(&self, day: NaiveDate, hm: &str) -> bool {
        let on_day = |d: NaiveDate| {
            self.on_date.as_deref() == Some(d.to_string().as_str())
                || self.weekday == Some(i64::from(d.weekday().number_from_monday()))
        };
        if self.starts.as_str() < self.ends.as_str() {
            on_day(day) && self.starts.as_str() <= hm && hm < self.ends.as_str()
        } else {
            // Past midnight: the evening of its day, or the early hours of the next.
            (on_day(day) && self.starts.as_str() <= hm)
                || (day.pred_opt().is_some_and(on_day) && hm < self.ends.as_str())
        }
    }
}

/// Put a worker of the line's reach on its roster.
pub async fn add_duty(
    conn: &mut AnyConnection,
    scope: &Scope,
    hotline: &str,
    input: &DutyInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let line = get(conn, scope, hotline).await?;
    check_worker(conn, scope, &input.user_id, "user_id").await?;
    match (&input.weekday, &input.on_date) {
        (Some(w), None) if (1..=7).contains(w) => {}
        (None, Some(d)) if NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() => {}
        (Some(_), None) => return refuse("weekday", "hotline.weekday_invalid"),
        (None, Some(_)) => return refuse("on_date", "form.date_invalid"),
        _ => return refuse("weekday", "hotline.duty_when"),
    }
    hl::check_shift(&input.starts, &input.ends)?;
    let id = new_id();
    Sql::new("INSERT INTO hotline_duty (id, hotline_id, region_code, user_id, weekday, on_date, starts, ends, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(&line.id).push(", ").bind(&line.region_code).push(", ").bind(input.user_id.trim()).push(", ")
        .bind(input.weekday).push(", ").bind(input.on_date.clone()).push(", ").bind(input.starts.trim()).push(", ")
        .bind(input.ends.trim()).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

/// Take a shift off the roster. Returns it.
pub async fn remove_duty(
    conn: &mut AnyConnection,
    scope: &Scope,
    hotline: &str,
    duty: &str,
) -> StoreResult<Duty> {
    let d = roster(conn, scope, hotline)
        .await?
        .into_iter()
        .find(|d| d.id == duty)
        .ok_or(StoreError::NotFound)?;
    Sql::new("DELETE FROM hotline_duty WHERE id = ")
        .bind(duty)
        .execute(conn)
        .await?;
    Ok(d)
}

/// The line's roster: weekly shifts by weekday, then dated ones.
pub async fn roster(
    conn: &mut AnyConnection,
    scope: &Scope,
    hotline: &str,
) -> StoreResult<Vec<Duty>> {
    let line = get(conn, scope, hotline).await?;
    Sql::new("SELECT d.id, d.hotline_id, d.user_id, u.display_name AS user_name, d.weekday, d.on_date, d.starts, d.ends \
              FROM hotline_duty d LEFT JOIN users u ON u.id = d.user_id WHERE d.hotline_id = ")
        .bind(line.id)
        .push(" ORDER BY d.on_date, d.weekday, d.starts, d.id")
        .fetch_all(conn)
        .await
}

/// Who is on duty at `at`.
pub async fn on_duty(
    conn: &mut AnyConnection,
    scope: &Scope,
    hotline: &str,
    at: Millis,
) -> StoreResult<Vec<Duty>> {
    let day = hl::local_day(at);
    let hm = chrono::DateTime::from_timestamp_millis(at + 8 * 3_600_000)
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default();
    Ok(roster(conn, scope, hotline)
        .await?
        .into_iter()
        .filter(|d| d.covers(day, &hm))
        .collect())
}
