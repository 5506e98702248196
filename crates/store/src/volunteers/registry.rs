//! The volunteer registry: identity sealed with the key ring and found again by its keyed hash
//! (one registration per person, wherever it was made), a volunteer number of its own, contact
//! sealed, skills and intentions, the minors' rules, and status.
//!
//! Visibility: a volunteer belongs to the township or village they serve in; a reader sees the
//! volunteers of their scope (and, for an organisation, of its stations) and nothing else —
//! anything outside is "not found".

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::volunteers::{self, Minor, VolunteerStatus};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::network::station_scope;
use crate::people::residents::{in_scope, local_region, seal};
use crate::sql::Sql;
use crate::statistics::counters::{self, Subject};
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

/// Column names bound into the seals.
pub const ID_FIELD: &str = "volunteers.id_number";
pub const MOBILE_FIELD: &str = "volunteers.mobile";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Volunteer {
    pub id: String,
    pub volunteer_no: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub name: String,
    pub id_type: String,
    #[serde(skip)]
    pub id_number_sealed: String,
    pub sex: Option<String>,
    pub birth_date: String,
    #[serde(skip)]
    pub mobile_sealed: Option<String>,
    pub skills: String,
    pub intentions: String,
    pub availability: String,
    pub guardian_name: String,
    pub guardian_consent_on: Option<String>,
    pub accompanied: i64,
    #[sqlx(try_from = "String")]
    pub status: VolunteerStatus,
    pub registered_on: String,
    /// Minutes of recorded hours (kept with each hour record's step).
    pub recorded_minutes: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Volunteer {
    pub fn skill_list(&self) -> Vec<String> {
        volunteers::split_tags(&self.skills)
    }

    pub fn intention_list(&self) -> Vec<String> {
        volunteers::split_tags(&self.intentions)
    }
}

const SELECT: &str = "SELECT v.id, v.volunteer_no, v.region_code, g.path_names AS region_path, v.station_id, \
     s.name AS station_name, v.name, v.id_type, v.id_number_sealed, v.sex, v.birth_date, v.mobile_sealed, \
     v.skills, v.intentions, v.availability, v.guardian_name, v.guardian_consent_on, v.accompanied, v.status, \
     v.registered_on, v.recorded_minutes, v.created_at, v.updated_at \
     FROM volunteers v JOIN regions g ON g.code = v.region_code LEFT JOIN stations s ON s.id = v.station_id \
     WHERE 1 = 1";

/// A volunteer's fields, parsed (identity already validated and normalised). On update a
/// `None` identity number or mobile keeps the stored one (forms never show them).
#[derive(Debug, Clone)]
pub struct VolunteerInput {
    pub region: Option<RegionCode>,
    pub station_id: Option<String>,
    pub name: String,
    pub id_type: Option<String>,
    pub id_number: Option<String>,
    pub sex: Option<String>,
    pub birth_date: String,
    pub mobile: Option<String>,
    pub skills: Vec<String>,
    pub intentions: Vec<String>,
    pub availability: String,
    pub guardian_name: String,
    pub guardian_consent_on: Option<String>,
    pub accompanied: bool,
    pub status: VolunteerStatus,
    pub registered_on: String,
}

/// The checked region: a township or village within scope that exists.
async fn home_region(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &VolunteerInput,
) -> StoreResult<String> {
    local_region(conn, scope, input.region.as_ref(), "volunteer.region_level").await
}

/// The rules a write checks against the stored world: region, host station, minors.
async fn check(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &VolunteerInput,
    today: NaiveDate,
) -> StoreResult<String> {
    let region = home_region(conn, scope, input).await?;
    // An organisation sees only its own stations' volunteers: one it registers names a station.
    if scope.org.is_some() && input.station_id.is_none() {
        return Err(FieldError::new("station", "volunteer.station_required_org").into());
    }
    if let Some(sid) = &input.station_id {
        let st = station_scope::place(conn, scope, sid)
            .await
            .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
        if !region.starts_with(&st.region_code) && !st.region_code.starts_with(&region) {
            return Err(FieldError::new("station", "volunteer.station_elsewhere").into());
        }
    }
    let birth = NaiveDate::parse_from_str(&input.birth_date, "%Y-%m-%d")
        .map_err(|_| FieldError::new("birth_date", "date.invalid"))?;
    let minor = Minor {
        guardian_name: &input.guardian_name,
        guardian_consent_on: input.guardian_consent_on.as_deref(),
        accompanied: input.accompanied,
    };
    if let Some(e) = volunteers::check_minor(birth, today, &minor)
        .into_iter()
        .next()
    {
        return Err(e.into());
    }
    Ok(region)
}

/// The volunteer (any scope) holding this identity hash, other than `except`.
async fn id_owner(
    conn: &mut AnyConnection,
    hash: &str,
    except: Option<&str>,
) -> StoreResult<Option<String>> {
    let mut q = Sql::new("SELECT id FROM volunteers WHERE id_number_hash = ");
    q.bind(hash);
    if let Some(e) = except {
        q.push(" AND id <> ").bind(e);
    }
    let row: Option<(String,)> = q.fetch_optional(conn).await?;
    Ok(row.map(|(id,)| id))
}

/// The next volunteer number of the township `region` lies in.
async fn next_number(conn: &mut AnyConnection, region: &str) -> StoreResult<String> {
    let township: String = region.chars().take(9).collect();
    let (highest,): (Option<String>,) =
        Sql::new("SELECT MAX(volunteer_no) FROM volunteers WHERE volunteer_no LIKE ")
            .bind(format!("V{township}%"))
            .fetch_one(conn)
            .await?;
    let seq = volunteers::next_seq(&township, highest.as_deref())?;
    Ok(volunteers::volunteer_no(&township, seq))
}

/// Register a volunteer. An identity number already registered (anywhere) is refused on
/// `id_number` (`volunteer.id_taken`), without saying where.
pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    keys: &KeyRing,
    input: &VolunteerInput,
    today: NaiveDate,
    created_by: &str,
    now: Millis,
) -> StoreResult<String> {
    let region = check(conn, scope, input, today).await?;
    let (Some(id_type), Some(number)) = (&input.id_type, &input.id_number) else {
        return Err(FieldError::new("id_number", "form.required").into());
    };
    let hash = keys.lookup_hash(ID_FIELD, number);
    if id_owner(conn, &hash, None).await?.is_some() {
        return Err(FieldError::new("id_number", "volunteer.id_taken").into());
    }
    let id = new_id();
    let no = next_number(conn, &region).await?;
    Sql::new("INSERT INTO volunteers (id, volunteer_no, region_code, station_id, name, id_type, id_number_sealed, id_number_hash, \
              sex, birth_date, mobile_sealed, skills, intentions, availability, guardian_name, guardian_consent_on, accompanied, \
              status, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(no).push(", ").bind(&region).push(", ").bind(input.station_id.clone()).push(", ")
        .bind(input.name.trim()).push(", ").bind(id_type.as_str()).push(", ").bind(keys.seal(ID_FIELD, number)).push(", ")
        .bind(hash).push(", ").bind(input.sex.clone()).push(", ").bind(&input.birth_date).push(", ")
        .bind(seal(keys, MOBILE_FIELD, &input.mobile)).push(", ").bind(volunteers::join_tags(&input.skills)).push(", ")
        .bind(volunteers::join_tags(&input.intentions)).push(", ").bind(input.availability.trim()).push(", ")
        .bind(input.guardian_name.trim()).push(", ").bind(input.guardian_consent_on.clone()).push(", ")
        .bind(i64::from(input.accompanied)).push(", ").bind(input.status.as_str()).push(", ").bind(&input.registered_on)
        .push(", ").bind(created_by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    counters::changed(
        conn,
        &[Subject::Volunteer(&id)],
        counters::Changes::default(),
    )
    .await?;
    Ok(id)
}

/// Change a volunteer's record; returns it as it was. The volunteer number never changes.
pub async fn update(
    conn: &mut AnyConnection,
    scope: &Scope,
    keys: &KeyRing,
    id: &str,
    input: &VolunteerInput,
    today: NaiveDate,
    now: Millis,
) -> StoreResult<Volunteer> {
    let before = get(conn, scope, id).await?;
    let region = check(conn, scope, input, today).await?;
    let counted = counters::contribution(conn, &[Subject::Volunteer(id)]).await?;
    let mut q = Sql::new("UPDATE volunteers SET region_code = ");
    q.bind(&region)
        .push(", station_id = ")
        .bind(input.station_id.clone())
        .push(", name = ")
        .bind(input.name.trim())
        .push(", sex = ")
        .bind(input.sex.clone())
        .push(", birth_date = ")
        .bind(&input.birth_date)
        .push(", skills = ")
        .bind(volunteers::join_tags(&input.skills))
        .push(", intentions = ")
        .bind(volunteers::join_tags(&input.intentions))
        .push(", availability = ")
        .bind(input.availability.trim())
        .push(", guardian_name = ")
        .bind(input.guardian_name.trim())
        .push(", guardian_consent_on = ")
        .bind(input.guardian_consent_on.clone())
        .push(", accompanied = ")
        .bind(i64::from(input.accompanied))
        .push(", status = ")
        .bind(input.status.as_str())
        .push(", updated_at = ")
        .bind(now);
    if let Some(n) = input.id_number.as_deref().filter(|s| !s.is_empty()) {
        let hash = keys.lookup_hash(ID_FIELD, n);
        if id_owner(conn, &hash, Some(id)).await?.is_some() {
            return Err(FieldError::new("id_number", "volunteer.id_taken").into());
        }
        q.push(", id_type = ")
            .bind(
                input
                    .id_type
                    .clone()
                    .unwrap_or_else(|| before.id_type.clone()),
            )
            .push(", id_number_sealed = ")
            .bind(keys.seal(ID_FIELD, n))
            .push(", id_number_hash = ")
            .bind(hash);
    }
    if let Some(m) = seal(keys, MOBILE_FIELD, &input.mobile) {
        q.push(", mobile_sealed = ").bind(m);
    }
    q.push(" WHERE id = ").bind(id);
    q.execute(conn).await?;
    counters::changed(conn, &[Subject::Volunteer(id)], counted).await?;
    Ok(before)
}

/// `AND <volunteer v is in scope>`.
fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "v.region_code", "v.station_id", true);
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Volunteer> {
    let mut q = Sql::new(SELECT);
    q.push(" AND v.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Name or volunteer number contains.
    pub q: Option<String>,
    pub region: Option<RegionCode>,
    /// `None`: every status.
    pub status: Option<VolunteerStatus>,
    /// Has this skill (as typed, contained).
    pub skill: Option<String>,
    /// A key of `SORTS`; none is the default order (newest first).
    pub sort: Option<crate::Sort>,
    /// Only these volunteers (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders a volunteer list offers (key, column; `DESC`: the latest or most first).
pub const SORTS: &[(&str, &str)] = &[
    ("no", "v.volunteer_no"),
    ("name", "v.name"),
    ("region", "v.region_code"),
    ("status", "v.status"),
    ("registered", "v.registered_on DESC"),
    ("hours", "v.recorded_minutes DESC"),
];

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    restrict(&mut q, scope);
    if let Some(s) = f.status {
        q.push(" AND v.status = ").bind(s.as_str());
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["v.name", "v.volunteer_no"], text);
    }
    if let Some(text) = f.skill.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["v.skills"], text);
    }
    if let Some(r) = &f.region {
        q.push(" AND ");
        q.region_range("v.region_code", &Scope::region(r.clone()));
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("v.id", ids);
    }
    q
}

/// A page of the volunteers in scope, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Volunteer>> {
    let mut count = filtered(
        scope,
        f,
        "SELECT COUNT(*) FROM (SELECT 1 FROM volunteers v WHERE 1 = 1",
    );
    count
        .push(" LIMIT ")
        .bind(crate::LIST_COUNT_CAP + 1)
        .push(") t");
    let mut q = filtered(scope, f, SELECT);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "v.id")) {
        q.push(" ORDER BY v.created_at DESC, v.id DESC");
    }
    q.fetch_page(conn, &count, page).await
}

/// Every match, for export (capped), by region and number.
pub async fn list_all(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    cap: i64,
) -> StoreResult<Vec<Volunteer>> {
    let mut q = filtered(scope, f, SELECT);
    q.push(" ORDER BY v.region_code, v.volunteer_no LIMIT ")
        .bind(cap);
    q.fetch_all(conn).await
}

/// The volunteer in scope with this volunteer number (what organisers type and cards show).
pub async fn by_no(conn: &mut AnyConnection, scope: &Scope, no: &str) -> StoreResult<Volunteer> {
    let mut q = Sql::new(SELECT);
    q.push(" AND v.volunteer_no = ").bind(no.trim());
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}
