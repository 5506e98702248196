//! Staff records whose identity number and mobile are stored only sealed (with a keyed hash for
//! exact lookup and duplicate detection), station assignments with history, certificates,
//! staffing rules and the workforce statistics.
//!
//! Scope: a staff record belongs to the region of its station (or the work region given when it
//! has none); a scope naming an organisation sees its own employees.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::people::identity::{IdType, Sex};
use shegong_domain::workforce::{CertLevel, Education, Employment, Sector, StaffRole, StaffStatus};
use shegong_domain::{FieldError, RegionCode, RegionLevel, Scope};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::{Sql, region_prefix};
use crate::workforce::{DateColumn, OptionalDateColumn};
use crate::{
    Millis, Page, PageRequest, StoreResult, network::station_scope, new_id, statistics::counters,
};

/// Column names bound into the seal (a sealed value cannot be moved to another column).
pub const ID_FIELD: &str = "staff.id_number";
pub const MOBILE_FIELD: &str = "staff.mobile";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Staff {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub name: String,
    pub id_type: String,
    #[serde(skip)]
    pub id_number_sealed: String,
    pub sex: Option<String>,
    #[sqlx(try_from = "OptionalDateColumn")]
    pub birth_date: Option<NaiveDate>,
    #[serde(skip)]
    pub mobile_sealed: Option<String>,
    pub education: String,
    pub major: String,
    pub employer_org_id: Option<String>,
    pub employer_name: Option<String>,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub role: StaffRole,
    #[sqlx(try_from = "String")]
    pub employment_mode: Employment,
    pub sector: String,
    #[sqlx(try_from = "String")]
    pub status: StaffStatus,
    #[sqlx(try_from = "DateColumn")]
    pub joined_on: NaiveDate,
    #[sqlx(try_from = "OptionalDateColumn")]
    pub left_on: Option<NaiveDate>,
    pub left_reason: String,
    /// Highest certificate level held, if any.
    pub cert_level: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT p.id, p.region_code, r.path_names AS region_path, p.name, p.id_type, p.id_number_sealed, \
     p.sex, p.birth_date, p.mobile_sealed, p.education, p.major, p.employer_org_id, o.name AS employer_name, \
     p.station_id, s.name AS station_name, p.role, p.employment_mode, p.sector, p.status, p.joined_on, p.left_on, \
     p.left_reason, (SELECT MAX(CASE c.level WHEN 'senior' THEN 'senior' WHEN 'intermediate' THEN 'intermediate' ELSE 'assistant' END) \
       FROM certificates c WHERE c.staff_id = p.id) AS cert_level, p.created_at, p.updated_at \
     FROM staff p JOIN regions r ON r.code = p.region_code LEFT JOIN organizations o ON o.id = p.employer_org_id \
     LEFT JOIN stations s ON s.id = p.station_id";

/// `select` (aliasing staff as `p`) restricted to the scope.
pub(super) fn scoped_from(select: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    q.region_range("p.region_code", scope);
    if let Some(org) = scope.org {
        q.push(" AND p.employer_org_id = ").bind(org.to_string());
    }
    q
}

/// A staff record's fields, parsed: codes as their domain types and dates as dates, so no
/// unchecked code or date string reaches the table (identity values already validated and
/// normalised).
#[derive(Debug, Clone)]
pub struct StaffInput {
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub mobile: Option<String>,
    pub education: Education,
    pub major: String,
    pub employer_org_id: Option<String>,
    pub station_id: Option<String>,
    /// The work region when there is no station.
    pub region: Option<RegionCode>,
    pub role: StaffRole,
    pub employment_mode: Employment,
    pub sector: Sector,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub left_reason: String,
}

/// A date as both schemas store it (TEXT 'YYYY-MM-DD').
pub fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl StaffInput {
    /// A leaving date means the member has left.
    pub fn status(&self) -> StaffStatus {
        if self.left_on.is_some() {
            StaffStatus::Left
        } else {
            StaffStatus::Active
        }
    }
}

/// Where the record belongs: its station's region, else the given work region (in scope).
async fn home_region(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &StaffInput,
) -> StoreResult<String> {
    if let Some(sid) = &input.station_id {
        let st = station_scope::place(conn, scope, sid)
            .await
            .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
        return Ok(st.region_code);
    }
    match &input.region {
        Some(r) if scope.contains_region(r.as_str()) => Ok(r.to_string()),
        Some(_) => Err(FieldError::new("region", "station.region_out_of_scope").into()),
        None => Err(FieldError::new("region", "form.required").into()),
    }
}

async fn check(conn: &mut AnyConnection, scope: &Scope, input: &StaffInput) -> StoreResult<()> {
    match (&input.employer_org_id, scope.org) {
        (Some(org), Some(own)) if *org != own.to_string() => {
            return Err(FieldError::new("employer", "org.unknown").into());
        }
        (None, Some(_)) => return Err(FieldError::new("employer", "form.required").into()),
        (Some(org), _) => {
            let n = Sql::new("SELECT COUNT(*) FROM organizations WHERE id = ")
                .bind(org)
                .fetch_i64(conn)
                .await?;
            if n == 0 {
                return Err(FieldError::new("employer", "org.unknown").into());
            }
        }
        (None, None) => {}
    }
    Ok(())
}

/// Whether an identity number (by its lookup hash) is already registered, anywhere: the
/// number is unique nationally, so the answer cannot be limited to the caller's scope.
pub async fn id_hash_exists(
    conn: &mut AnyConnection,
    hash: &str,
    except: Option<&str>,
) -> StoreResult<bool> {
    let mut q = Sql::new("SELECT COUNT(*) FROM staff WHERE id_number_hash = ");
    q.bind(hash);
    if let Some(id) = except {
        q.push(" AND id <> ").bind(id);
    }
    Ok(q.fetch_i64(conn).await? > 0)
}

pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    keys: &KeyRing,
    input: &StaffInput,
    now: Millis,
) -> StoreResult<String> {
    check(conn, scope, input).await?;
    let region = home_region(conn, scope, input).await?;
    let hash = keys.lookup_hash(ID_FIELD, &input.id_number);
    if id_hash_exists(conn, &hash, None).await? {
        return Err(FieldError::new("id_number", "staff.id_taken").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO staff (id, region_code, name, id_type, id_number_sealed, id_number_hash, sex, birth_date, mobile_sealed, mobile_hash, \
              education, major, employer_org_id, station_id, role, employment_mode, sector, status, joined_on, left_on, left_reason, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(&region).push(", ").bind(input.name.trim()).push(", ").bind(input.id_type.as_str()).push(", ")
        .bind(keys.seal(ID_FIELD, &input.id_number)).push(", ").bind(&hash).push(", ").bind(input.sex.map(Sex::as_str)).push(", ")
        .bind(input.birth_date.map(date_text)).push(", ").bind(input.mobile.as_deref().map(|m| keys.seal(MOBILE_FIELD, m))).push(", ")
        .bind(input.mobile.as_deref().map(|m| keys.lookup_hash(MOBILE_FIELD, m))).push(", ").bind(input.education.as_str()).push(", ")
        .bind(input.major.trim()).push(", ").bind(input.employer_org_id.clone()).push(", ").bind(input.station_id.clone()).push(", ")
        .bind(input.role.as_str()).push(", ").bind(input.employment_mode.as_str()).push(", ").bind(input.sector.as_str()).push(", ")
        .bind(input.status().as_str()).push(", ").bind(date_text(input.joined_on)).push(", ")
        .bind(input.left_on.map(date_text)).push(", ").bind(input.left_reason.trim()).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    open_assignment(
        conn,
        &id,
        input.station_id.as_deref(),
        &region,
        input.role,
        &date_text(input.joined_on),
        now,
    )
    .await?;
    if let Some(sid) = &input.station_id {
        recount_station(conn, sid).await?;
    }
    let nothing = counters::Changes::default();
    counters::changed(conn, &[counters::Subject::Staff(&id)], nothing).await?;
    Ok(id)
}

async fn open_assignment(
    conn: &mut AnyConnection,
    staff: &str,
    station: Option<&str>,
    region: &str,
    role: StaffRole,
    from: &str,
    now: Millis,
) -> StoreResult<()> {
    Sql::new("INSERT INTO staff_assignments (id, staff_id, station_id, region_code, role, from_date, created_at) VALUES (")
        .bind(new_id()).push(", ").bind(staff).push(", ").bind(station).push(", ").bind(region).push(", ").bind(role.as_str()).push(", ").bind(from).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(())
}

/// Change a staff record; a new station or role closes the previous assignment. Returns it before.
pub async fn update(
    conn: &mut AnyConnection,
    scope: &Scope,
    keys: &KeyRing,
    id: &str,
    input: &StaffInput,
    today: &str,
    now: Millis,
) -> StoreResult<Staff> {
    let before = get(conn, scope, id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Staff(id)]).await?;
    check(conn, scope, input).await?;
    let region = home_region(conn, scope, input).await?;
    let hash = keys.lookup_hash(ID_FIELD, &input.id_number);
    if id_hash_exists(conn, &hash, Some(id)).await? {
        return Err(FieldError::new("id_number", "staff.id_taken").into());
    }
    Sql::new("UPDATE staff SET (region_code, name, id_type, id_number_sealed, id_number_hash, sex, birth_date, mobile_sealed, mobile_hash, \
              education, major, employer_org_id, station_id, role, employment_mode, sector, status, joined_on, left_on, left_reason, updated_at) = (")
        .bind(&region).push(", ").bind(input.name.trim()).push(", ").bind(input.id_type.as_str()).push(", ")
        .bind(keys.seal(ID_FIELD, &input.id_number)).push(", ").bind(&hash).push(", ").bind(input.sex.map(Sex::as_str)).push(", ")
        .bind(input.birth_date.map(date_text)).push(", ").bind(input.mobile.as_deref().map(|m| keys.seal(MOBILE_FIELD, m))).push(", ")
        .bind(input.mobile.as_deref().map(|m| keys.lookup_hash(MOBILE_FIELD, m))).push(", ").bind(input.education.as_str()).push(", ")
        .bind(input.major.trim()).push(", ").bind(input.employer_org_id.clone()).push(", ").bind(input.station_id.clone()).push(", ")
        .bind(input.role.as_str()).push(", ").bind(input.employment_mode.as_str()).push(", ").bind(input.sector.as_str()).push(", ")
        .bind(input.status().as_str()).push(", ").bind(date_text(input.joined_on)).push(", ")
        .bind(input.left_on.map(date_text)).push(", ").bind(input.left_reason.trim()).push(", ").bind(now).push(") WHERE id = ").bind(id)
        .execute(conn).await?;
    if before.station_id != input.station_id
        || before.role != input.role
        || (before.status == StaffStatus::Active && input.status() == StaffStatus::Left)
    {
        let end = input
            .left_on
            .map(date_text)
            .unwrap_or_else(|| today.to_owned());
        Sql::new("UPDATE staff_assignments SET to_date = ")
            .bind(&end)
            .push(" WHERE staff_id = ")
            .bind(id)
            .push(" AND to_date IS NULL")
            .execute(conn)
            .await?;
        if input.left_on.is_none() {
            open_assignment(
                conn,
                id,
                input.station_id.as_deref(),
                &region,
                input.role,
                today,
                now,
            )
            .await?;
        }
    }
    for sid in [before.station_id.as_deref(), input.station_id.as_deref()]
        .into_iter()
        .flatten()
    {
        recount_station(conn, sid).await?;
    }
    counters::changed(conn, &[counters::Subject::Staff(id)], counted).await?;
    Ok(before)
}

/// Staff of a station that moved go with it (and supervision pairs follow their supervisor).
pub(crate) async fn follow_station(
    conn: &mut AnyConnection,
    station_id: &str,
    region: &str,
) -> StoreResult<()> {
    Sql::new("UPDATE staff SET region_code = ")
        .bind(region)
        .push(" WHERE station_id = ")
        .bind(station_id)
        .execute(conn)
        .await?;
    Sql::new("UPDATE supervision_pairs SET region_code = ")
        .bind(region)
        .push(" WHERE supervisor_id IN (SELECT id FROM staff WHERE station_id = ")
        .bind(station_id)
        .push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// Keep the station's headcounts equal to its active staff records (once it has any).
pub async fn recount_station(conn: &mut AnyConnection, station_id: &str) -> StoreResult<()> {
    let (staff, certified): (i64, i64) = Sql::new(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM certificates c WHERE c.staff_id = p.id) THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM staff p WHERE p.status = 'active' AND p.station_id = ",
    )
    .bind(station_id)
    .fetch_one(conn)
    .await?;
    Sql::new("UPDATE stations SET staff_count = ")
        .bind(staff)
        .push(", certified_count = ")
        .bind(certified)
        .push(" WHERE id = ")
        .bind(station_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Staff> {
    let mut q = scoped_from(SELECT, scope);
    q.push(" AND p.id = ").bind(id);
    q.fetch_one(conn).await
}

/// Exact match by identity number within the scope (via the keyed hash: the number itself is
/// never compared or stored in clear).
pub async fn find_by_id_number(
    conn: &mut AnyConnection,
    scope: &Scope,
    keys: &KeyRing,
    id_number: &str,
) -> StoreResult<Option<Staff>> {
    let mut q = scoped_from(SELECT, scope);
    q.push(" AND p.id_number_hash = ")
        .bind(keys.lookup_hash(ID_FIELD, id_number));
    q.fetch_optional(conn).await
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub q: Option<String>,
    pub region: Option<String>,
    pub station: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
    pub certified: Option<bool>,
    pub employer: Option<String>,
    /// A key of `SORTS`; none is the default order (by region, then name).
    pub sort: Option<crate::Sort>,
    /// Only these people (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders a staff list offers (key, column; `DESC`: the latest first).
pub const SORTS: &[(&str, &str)] = &[
    ("region", "p.region_code"),
    ("name", "p.name"),
    ("role", "p.role"),
    ("status", "p.status"),
    ("joined", "p.joined_on DESC"),
    ("updated", "p.updated_at DESC"),
];

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = scoped_from(select, scope);
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["p.name"], text);
    }
    if let Some(region) = f.region.as_deref().filter(|s| !s.is_empty()) {
        let sub = Scope {
            region: Scope::parse_region(region).ok().flatten(),
            org: None,
        };
        q.push(" AND ");
        q.region_range("p.region_code", &sub);
    }
    for (col, v) in [
        ("p.station_id", &f.station),
        ("p.role", &f.role),
        ("p.status", &f.status),
        ("p.employer_org_id", &f.employer),
    ] {
        if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND ").push(col).push(" = ").bind(v);
        }
    }
    match f.certified {
        Some(true) => {
            q.push(" AND EXISTS (SELECT 1 FROM certificates c WHERE c.staff_id = p.id)");
        }
        Some(false) => {
            q.push(" AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.staff_id = p.id)");
        }
        None => {}
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("p.id", ids);
    }
    q
}

pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Staff>> {
    let mut q = filtered(scope, f, SELECT);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "p.id")) {
        q.push(" ORDER BY p.region_code, p.name, p.id");
    }
    q.fetch_page(
        conn,
        &filtered(scope, f, "SELECT COUNT(*) FROM staff p"),
        page,
    )
    .await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Assignment {
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub role: StaffRole,
    #[sqlx(try_from = "DateColumn")]
    pub from_date: NaiveDate,
    #[sqlx(try_from = "OptionalDateColumn")]
    pub to_date: Option<NaiveDate>,
}

pub async fn assignments(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<Assignment>> {
    get(conn, scope, id).await?;
    Sql::new("SELECT a.station_id, s.name AS station_name, a.role, a.from_date, a.to_date FROM staff_assignments a \
              LEFT JOIN stations s ON s.id = a.station_id WHERE a.staff_id = ")
        .bind(id).push(" ORDER BY a.from_date, a.created_at").fetch_all(conn).await
}

// ---------------------------------------------------------------------------------------------
// Certificates and continuing education

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Certificate {
    pub id: String,
    pub staff_id: String,
    pub level: String,
    pub number: String,
    #[sqlx(try_from = "DateColumn")]
    pub obtained_on: NaiveDate,
    #[sqlx(try_from = "OptionalDateColumn")]
    pub registered_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy)]
pub struct NewCertificate<'a> {
    pub level: CertLevel,
    pub number: &'a str,
    pub obtained_on: NaiveDate,
    pub registered_until: Option<NaiveDate>,
}

pub async fn add_certificate(
    conn: &mut AnyConnection,
    scope: &Scope,
    staff_id: &str,
    c: &NewCertificate<'_>,
    now: Millis,
) -> StoreResult<String> {
    let NewCertificate {
        level,
        number,
        obtained_on,
        registered_until,
    } = *c;
    let p = get(conn, scope, staff_id).await?;
    if number.trim().is_empty() || number.chars().count() > 40 {
        return Err(FieldError::new("number", "form.required").into());
    }
    if registered_until.is_some_and(|r| r < obtained_on) {
        return Err(
            FieldError::new("registered_until", "certificate.until_before_obtained").into(),
        );
    }
    let dup = Sql::new("SELECT COUNT(*) FROM certificates WHERE staff_id = ")
        .bind(staff_id)
        .push(" AND level = ")
        .bind(level.as_str())
        .fetch_i64(conn)
        .await?;
    if dup > 0 {
        return Err(FieldError::new("level", "certificate.level_taken").into());
    }
    let counted = counters::contribution(conn, &[counters::Subject::Staff(staff_id)]).await?;
    let id = new_id();
    Sql::new("INSERT INTO certificates (id, staff_id, region_code, level, number, obtained_on, registered_until, created_at) VALUES (")
        .bind(&id).push(", ").bind(staff_id).push(", ").bind(&p.region_code).push(", ").bind(level.as_str()).push(", ").bind(number.trim()).push(", ")
        .bind(date_text(obtained_on)).push(", ").bind(registered_until.map(date_text)).push(", ").bind(now).push(")")
        .execute(conn).await?;
    if let Some(sid) = &p.station_id {
        recount_station(conn, sid).await?;
    }
    counters::changed(conn, &[counters::Subject::Staff(staff_id)], counted).await?;
    Ok(id)
}

pub async fn certificates(
    conn: &mut AnyConnection,
    scope: &Scope,
    staff_id: &str,
) -> StoreResult<Vec<Certificate>> {
    get(conn, scope, staff_id).await?;
    Sql::new("SELECT id, staff_id, level, number, obtained_on, registered_until FROM certificates WHERE staff_id = ")
        .bind(staff_id).push(" ORDER BY obtained_on").fetch_all(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Expiring {
    pub staff_id: String,
    pub name: String,
    pub level: String,
    #[sqlx(try_from = "DateColumn")]
    pub registered_until: NaiveDate,
    pub station_name: Option<String>,
}

/// Registrations in scope that lapse before `until` (including already lapsed ones).
pub async fn expiring(
    conn: &mut AnyConnection,
    scope: &Scope,
    until: &str,
) -> StoreResult<Vec<Expiring>> {
    let mut q = scoped_from(
        "SELECT p.id AS staff_id, p.name, c.level, c.registered_until, s.name AS station_name FROM certificates c \
         JOIN staff p ON p.id = c.staff_id LEFT JOIN stations s ON s.id = p.station_id",
        scope,
    );
    q.push(" AND p.status = 'active' AND c.registered_until IS NOT NULL AND c.registered_until < ")
        .bind(until)
        .push(" ORDER BY c.registered_until, p.name");
    q.fetch_all(conn).await
}

// ---------------------------------------------------------------------------------------------
// Staffing rules and statistics

/// The minimum number of social workers per station in `region` (nearest rule up the tree).
pub async fn staffing_rule(conn: &mut AnyConnection, region: &str) -> StoreResult<i64> {
    let r: Option<(i64,)> = Sql::new("SELECT min_social_workers FROM staffing_rules WHERE SUBSTR(")
        .bind(region)
        .push(", 1, LENGTH(region_code)) = region_code ORDER BY LENGTH(region_code) DESC LIMIT 1")
        .fetch_optional(conn)
        .await?;
    Ok(r.map(|(n,)| n).unwrap_or(DEFAULT_MIN_SOCIAL_WORKERS))
}

pub const DEFAULT_MIN_SOCIAL_WORKERS: i64 = 2;

pub async fn set_staffing_rule(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &str,
    min: i64,
    now: Millis,
) -> StoreResult<Option<i64>> {
    if !scope.contains_region(region) || scope.org.is_some() {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    if !(0..=50).contains(&min) {
        return Err(FieldError::new("min_social_workers", "form.out_of_range").into());
    }
    let before: Option<(i64,)> =
        Sql::new("SELECT min_social_workers FROM staffing_rules WHERE region_code = ")
            .bind(region)
            .fetch_optional(conn)
            .await?;
    Sql::new("INSERT INTO staffing_rules (region_code, min_social_workers, updated_at) VALUES (").bind(region).push(", ").bind(min).push(", ").bind(now)
        .push(") ON CONFLICT (region_code) DO UPDATE SET min_social_workers = excluded.min_social_workers, updated_at = excluded.updated_at")
        .execute(conn).await?;
    Ok(before.map(|(n,)| n))
}

/// Roles that count as social workers for the staffing rule (not admin/finance or auxiliary), as
/// SQL text for `IN`.
macro_rules! social_work_roles {
    () => {
        "('station_head','frontline','supervisor')"
    };
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub code: String,
    pub name: String,
    pub stations: i64,
    pub workers: i64,
    pub certified: i64,
    pub supervisors: i64,
    pub training_tenths: i64,
    pub left_12m: i64,
    pub understaffed: i64,
}

impl Figures {
    pub fn per_station_tenths(&self) -> i64 {
        if self.stations == 0 {
            0
        } else {
            self.workers * 10 / self.stations
        }
    }
    pub fn certified_pct(&self) -> i64 {
        if self.workers == 0 {
            0
        } else {
            self.certified * 100 / self.workers
        }
    }
    pub fn supervisors_per_100(&self) -> i64 {
        if self.workers == 0 {
            0
        } else {
            self.supervisors * 100 / self.workers
        }
    }
    /// Leavers in the last 12 months over (active + leavers), percent.
    pub fn turnover_pct(&self) -> i64 {
        let base = self.workers + self.left_12m;
        if base == 0 {
            0
        } else {
            self.left_12m * 100 / base
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Understaffed {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub workers: i64,
    pub required: i64,
}

/// Figures being summed: the top region's and its children's (by code), grouped by the code
/// prefix of the `child` level.
struct Tally {
    top: Figures,
    rows: BTreeMap<String, Figures>,
    child: RegionLevel,
}

impl Tally {
    /// Add to the top figures and to those of the child region `grp`, if listed.
    fn add(&mut self, grp: &str, f: impl Fn(&mut Figures)) {
        f(&mut self.top);
        if let Some(row) = self.rows.get_mut(grp) {
            f(row);
        }
    }
}

/// Workforce figures for `code` (`None`: the whole country, for national scopes) and its
/// children, and the stations below their staffing rule.
pub async fn statistics(
    conn: &mut AnyConnection,
    scope: &Scope,
    code: Option<&str>,
    year_start: &str,
    year_ago: &str,
) -> StoreResult<(Figures, Vec<Figures>, Vec<Understaffed>)> {
    let (top_code, top_name, child) = match code {
        Some(code) => {
            let r = crate::network::regions::get(conn, scope, code).await?;
            let level = RegionCode::parse(code)?.level();
            (r.code, r.name, level.child().unwrap_or(level))
        }
        None if scope.region.is_some() => return Err(crate::StoreError::NotFound),
        None => (String::new(), String::new(), RegionLevel::Province),
    };
    let code = top_code.as_str();
    let area = Scope {
        region: RegionCode::parse(code).ok(),
        org: scope.org,
    };
    let rows = crate::network::regions::children(conn, scope, (!code.is_empty()).then_some(code))
        .await?
        .into_iter()
        .filter(|_| code.len() < 12)
        .map(|r| {
            (
                r.code.clone(),
                Figures {
                    code: r.code,
                    name: r.name,
                    ..Default::default()
                },
            )
        })
        .collect();
    let mut tally = Tally {
        top: Figures {
            code: top_code.clone(),
            name: top_name,
            ..Default::default()
        },
        rows,
        child,
    };
    count_staff(conn, &area, year_ago, &mut tally).await?;
    count_training(conn, &area, year_start, &mut tally).await?;
    let understaffed = count_stations(conn, &area, &mut tally).await?;
    Ok((tally.top, tally.rows.into_values().collect(), understaffed))
}

/// Social workers, certified ones, supervisors and leavers since `year_ago`, by child region.
async fn count_staff(
    conn: &mut AnyConnection,
    area: &Scope,
    year_ago: &str,
    tally: &mut Tally,
) -> StoreResult<()> {
    let mut q = Sql::new(region_prefix!(
        tally.child,
        "SELECT ",
        "p.region_code",
        concat!(
            ", CAST(SUM(CASE WHEN p.status = 'active' AND p.role IN ",
            social_work_roles!(),
            " THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN p.status = 'active' AND p.role IN ",
            social_work_roles!(),
            " AND EXISTS (SELECT 1 FROM certificates c WHERE c.staff_id = p.id) THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN p.status = 'active' AND p.role = 'supervisor' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN p.status = 'left' AND p.left_on >= "
        )
    ));
    q.bind(year_ago)
        .push(" THEN 1 ELSE 0 END) AS BIGINT) FROM staff p WHERE ");
    q.region_range("p.region_code", area);
    if let Some(org) = area.org {
        q.push(" AND p.employer_org_id = ").bind(org.to_string());
    }
    q.push(region_prefix!(
        tally.child,
        " GROUP BY ",
        "p.region_code",
        ""
    ));
    for (grp, workers, certified, supervisors, left) in
        q.fetch_all::<(String, i64, i64, i64, i64)>(conn).await?
    {
        tally.add(&grp, |f| {
            f.workers += workers;
            f.certified += certified;
            f.supervisors += supervisors;
            f.left_12m += left;
        });
    }
    Ok(())
}

/// Training hours since `year_start`, by child region.
async fn count_training(
    conn: &mut AnyConnection,
    area: &Scope,
    year_start: &str,
    tally: &mut Tally,
) -> StoreResult<()> {
    let mut q = Sql::new(region_prefix!(
        tally.child,
        "SELECT ",
        "p.region_code",
        ", CAST(COALESCE(SUM(t.hours_tenths), 0) AS BIGINT) FROM trainings t JOIN staff p ON p.id = t.staff_id WHERE t.held_on >= "
    ));
    q.bind(year_start).push(" AND ");
    q.region_range("p.region_code", area);
    if let Some(org) = area.org {
        q.push(" AND p.employer_org_id = ").bind(org.to_string());
    }
    q.push(region_prefix!(
        tally.child,
        " GROUP BY ",
        "p.region_code",
        ""
    ));
    for (grp, tenths) in q.fetch_all::<(String, i64)>(conn).await? {
        tally.add(&grp, |f| f.training_tenths += tenths);
    }
    Ok(())
}

/// Open stations (operating or suspended) in `area`, each with its social workers and the number
/// its staffing rule requires (the nearest rule up the tree, else the default).
async fn open_stations(conn: &mut AnyConnection, area: &Scope) -> StoreResult<Vec<Understaffed>> {
    let mut q = station_scope::scoped_from(
        concat!(
            "SELECT s.id, s.name, s.region_code, (SELECT COUNT(*) FROM staff p WHERE p.station_id = s.id AND p.status = 'active' AND p.role IN ",
            social_work_roles!(),
            ") AS workers, 0 AS required FROM stations s"
        ),
        area,
    );
    q.push(" AND s.status IN ('operating', 'suspended') ORDER BY s.region_code, s.name");
    // Rules are few: read them once and take the nearest one up the tree for each station.
    let rules: Vec<(String, i64)> =
        Sql::new("SELECT region_code, min_social_workers FROM staffing_rules")
            .fetch_all(conn)
            .await?;
    let rule_for = |region: &str| {
        rules
            .iter()
            .filter(|(r, _)| region.starts_with(r.as_str()))
            .max_by_key(|(r, _)| r.len())
            .map_or(DEFAULT_MIN_SOCIAL_WORKERS, |(_, n)| *n)
    };
    let mut stations = q.fetch_all::<Understaffed>(conn).await?;
    for s in &mut stations {
        s.required = rule_for(&s.region_code);
    }
    Ok(stations)
}

/// The open stations in scope below their staffing rule, by region and name.
pub async fn understaffed(
    conn: &mut AnyConnection,
    scope: &Scope,
) -> StoreResult<Vec<Understaffed>> {
    let mut stations = open_stations(conn, scope).await?;
    stations.retain(|s| s.workers < s.required);
    Ok(stations)
}

/// Open stations by child region, and those below their staffing rule.
async fn count_stations(
    conn: &mut AnyConnection,
    area: &Scope,
    tally: &mut Tally,
) -> StoreResult<Vec<Understaffed>> {
    let mut understaffed = Vec::new();
    for s in open_stations(conn, area).await? {
        let grp = s
            .region_code
            .get(..tally.child.code_len())
            .unwrap_or(&s.region_code)
            .to_owned();
        let short = s.workers < s.required;
        tally.add(&grp, |f| {
            f.stations += 1;
            if short {
                f.understaffed += 1;
            }
        });
        if short {
            understaffed.push(s);
        }
    }
    Ok(understaffed)
}
