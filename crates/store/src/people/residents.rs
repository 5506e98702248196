//! People served (一人一档): residents with sealed identity, contact and address data, households,
//! time-boxed category memberships, risk tiers with history, duplicate detection and merging,
//! visit rules and the visit schedule kept on each resident so due lists are index reads.
//!
//! Visibility: a resident belongs to the region they live in (a township or village in scope).
//! Protected files (children under 14, or flagged for abuse or violence) are further limited to
//! the assigned worker, the worker and supervisor of any of their cases, and accounts holding the
//! explicit `sees_protected` grant — enforced here, in every read.

use chrono::{Months, NaiveDate};
use serde::Serialize;
use shegong_domain::people::{self, RiskTier, VisitMethod, VisitRule};
use shegong_domain::{FieldError, RegionCode, RegionLevel, Scope};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::{
    Millis, Page, PageRequest, StoreError, StoreResult, network::stations, new_id,
    statistics::counters,
};

/// Column names bound into the seals.
pub const ID_FIELD: &str = "residents.id_number";
pub const PHONE_FIELD: &str = "residents.phone";
pub const ADDRESS_FIELD: &str = "residents.address";
pub const GUARDIAN_PHONE_FIELD: &str = "residents.guardian_phone";

/// `AND <a people record is in scope>`: the one place people, case and service reads (and any
/// later area keyed by a station: contracts, volunteers, tickets) apply a scope. The region range
/// on `region_col`; and, when the scope names an organisation, the record's station (`station_col`)
/// must be operated by it — an agency sees the people its own stations serve, not its neighbours'
/// in the same county, and a record without a station is outside every organisation's scope.
/// `indexed: false` writes the region as a prefix test the planner cannot use (newest-first walks
/// over a wide scope, see `Sql::region_prefix_unindexed`).
pub(crate) fn in_scope(
    q: &mut Sql,
    scope: &Scope,
    region_col: &str,
    station_col: &str,
    indexed: bool,
) {
    q.push(" AND ");
    if indexed {
        q.region_range(region_col, scope);
    } else {
        q.region_prefix_unindexed(region_col, scope);
    }
    if let Some(org) = scope.org {
        q.push(&format!(
            " AND {station_col} IN (SELECT os.id FROM stations os WHERE os.operator_org_id = "
        ))
        .bind(org.to_string())
        .push(")");
    }
}

/// Who is reading: their data scope, account and grant, and today's date (the injected clock),
/// which decides who counts as a child.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub scope: Scope,
    pub user_id: String,
    pub sees_protected: bool,
    pub today: NaiveDate,
}

impl Viewer {
    /// Born after this date: under 14 today.
    fn child_cutoff(&self) -> String {
        let months = Months::new(people::PROTECTED_CHILD_AGE * 12);
        self.today
            .checked_sub_months(months)
            .unwrap_or(self.today)
            .to_string()
    }

    /// `AND <resident r is visible>`: the scope, and the protection rule.
    pub(crate) fn restrict(&self, q: &mut Sql, alias: &str) {
        in_scope(
            q,
            &self.scope,
            &format!("{alias}.region_code"),
            &format!("{alias}.station_id"),
            true,
        );
        self.protect(q, alias, None);
    }

    /// `AND <not restricted, or the viewer works on resident r>`. `r` may be NULL (a record
    /// about no one in particular); `also` marks further records restricted (sensitive notes).
    pub(crate) fn protect(&self, q: &mut Sql, r: &str, also: Option<&str>) {
        if self.sees_protected {
            return;
        }
        let also = also.map(|a| format!(" OR {a}")).unwrap_or_default();
        q.push(&format!(" AND (NOT (COALESCE({r}.protected, 0) = 1 OR COALESCE({r}.birth_date, '0000') > "))
            .bind(self.child_cutoff())
            .push(&format!("{also}) OR {r}.worker_user_id = "))
            .bind(self.user_id.clone())
            .push(&format!(" OR EXISTS (SELECT 1 FROM cases pc WHERE pc.resident_id = {r}.id AND (pc.worker_user_id = "))
            .bind(self.user_id.clone())
            .push(" OR pc.supervisor_user_id = ")
            .bind(self.user_id.clone())
            .push(")))");
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Resident {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub name: String,
    pub id_type: Option<String>,
    #[serde(skip)]
    pub id_number_sealed: Option<String>,
    pub sex: Option<String>,
    pub birth_date: String,
    pub ethnicity: String,
    #[serde(skip)]
    pub address_sealed: Option<String>,
    #[serde(skip)]
    pub phone_sealed: Option<String>,
    pub household_id: Option<String>,
    pub relation: Option<String>,
    pub guardian_name: String,
    #[serde(skip)]
    pub guardian_phone_sealed: Option<String>,
    pub risk_tier: String,
    pub legal_basis: String,
    pub consent_on: Option<String>,
    pub protected: i64,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub worker_user_id: Option<String>,
    pub worker_name: Option<String>,
    pub status: String,
    pub merged_into: Option<String>,
    pub last_visit_on: Option<String>,
    pub visit_interval_days: i64,
    pub next_visit_due: String,
    pub registered_on: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Resident {
    pub fn tier(&self) -> RiskTier {
        RiskTier::parse(&self.risk_tier).expect("tiers are checked by the schema")
    }

    pub fn birth(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.birth_date, "%Y-%m-%d").ok()
    }

    /// A child under 14 or a flagged file: the protection rule applies.
    pub fn is_protected(&self, today: NaiveDate) -> bool {
        self.protected == 1
            || self
                .birth()
                .is_some_and(|b| people::age_on(b, today) < people::PROTECTED_CHILD_AGE)
    }
}

const SELECT: &str = "SELECT r.id, r.region_code, g.path_names AS region_path, r.name, r.id_type, r.id_number_sealed, \
     r.sex, r.birth_date, r.ethnicity, r.address_sealed, r.phone_sealed, r.household_id, r.relation, r.guardian_name, \
     r.guardian_phone_sealed, r.risk_tier, r.legal_basis, r.consent_on, r.protected, r.station_id, s.name AS station_name, \
     r.worker_user_id, u.display_name AS worker_name, r.status, r.merged_into, r.last_visit_on, r.visit_interval_days, \
     r.next_visit_due, r.registered_on, r.created_at, r.updated_at \
     FROM residents r JOIN regions g ON g.code = r.region_code LEFT JOIN stations s ON s.id = r.station_id \
     LEFT JOIN users u ON u.id = r.worker_user_id WHERE 1 = 1";

/// A resident's fields, parsed (identity values already validated and normalised).
#[derive(Debug, Clone, Default)]
pub struct ResidentInput {
    pub region: Option<RegionCode>,
    pub name: String,
    pub id_type: Option<String>,
    pub id_number: Option<String>,
    pub sex: Option<String>,
    pub birth_date: String,
    pub ethnicity: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub guardian_name: String,
    pub guardian_phone: Option<String>,
    pub risk_tier: String,
    pub legal_basis: String,
    pub consent_on: Option<String>,
    pub protected: bool,
    pub station_id: Option<String>,
    pub worker_user_id: Option<String>,
    pub registered_on: String,
}

/// A record that may be the same person as the one being entered.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub birth_date: String,
    pub region_path: String,
    /// Whether the viewer may open it. When not, `name`, `birth_date` and `region_path` are
    /// empty (a protected child's or another agency's client is not described to strangers)
    /// and `ask` says whom to ask instead.
    pub visible: bool,
    /// `same_id`, `same_birth_date` or `same_region`.
    pub reason: &'static str,
    pub ask: Option<AskAbout>,
}

/// Whom to ask about a possible duplicate in a file the viewer cannot open: the responsible
/// station (name and phone), or when the file has none the county's civil-affairs office.
#[derive(Debug, Clone, Serialize)]
pub struct AskAbout {
    pub station_name: Option<String>,
    pub station_phone: Option<String>,
    /// The county (district) whose civil-affairs office answers for the file, as a path.
    pub office: Option<String>,
}

/// Whom to ask about a file: its station, or the civil-affairs office of its county.
async fn ask_about(
    conn: &mut AnyConnection,
    station_id: Option<&str>,
    region_code: &str,
) -> StoreResult<AskAbout> {
    if let Some(sid) = station_id {
        let st: Option<(String, String)> = Sql::new("SELECT name, phone FROM stations WHERE id = ")
            .bind(sid)
            .fetch_optional(conn)
            .await?;
        if let Some((name, phone)) = st {
            return Ok(AskAbout {
                station_name: Some(name),
                station_phone: Some(phone).filter(|p| !p.is_empty()),
                office: None,
            });
        }
    }
    // The county, not the township: naming the township would say where the person lives.
    let county: String = region_code.chars().take(6).collect();
    let path: Option<(String,)> = Sql::new("SELECT path_names FROM regions WHERE code = ")
        .bind(county)
        .fetch_optional(conn)
        .await?;
    Ok(AskAbout {
        station_name: None,
        station_phone: None,
        office: path.map(|(p,)| shegong_domain::network::region::display_path(p.split('/'))),
    })
}

/// The checked home region: a township or village within scope.
async fn home_region(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ResidentInput,
) -> StoreResult<String> {
    let region = input
        .region
        .as_ref()
        .ok_or(FieldError::new("region", "form.required"))?;
    if !scope.contains_region(region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    if !matches!(region.level(), RegionLevel::Township | RegionLevel::Village) {
        return Err(FieldError::new("region", "resident.region_level").into());
    }
    let known = Sql::new("SELECT COUNT(*) FROM regions WHERE code = ")
        .bind(region.as_str())
        .fetch_i64(conn)
        .await?;
    if known == 0 {
        return Err(FieldError::new("region", "region.unknown").into());
    }
    Ok(region.to_string())
}

async fn check_links(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ResidentInput,
    region: &str,
) -> StoreResult<()> {
    // An organisation sees only the files of its own stations: a file it creates names one,
    // or it could not read what it just saved.
    if scope.org.is_some() && input.station_id.is_none() {
        return Err(FieldError::new("station", "resident.station_required_org").into());
    }
    if let Some(sid) = &input.station_id {
        // `stations::get` applies the organisation too: another agency's station is unknown.
        let st = stations::get(conn, scope, sid)
            .await
            .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
        if !region.starts_with(&st.region_code) && !st.region_code.starts_with(region) {
            return Err(FieldError::new("station", "resident.station_elsewhere").into());
        }
    }
    if let Some(uid) = &input.worker_user_id {
        check_worker(conn, scope, uid, "worker").await?;
    }
    Ok(())
}

/// `AND <account u works in or above scope>`: its region lies within scope or contains it; for a
/// scope naming an organisation, only that organisation's accounts.
fn worker_in_reach(q: &mut Sql, scope: &Scope) {
    q.push(" AND (");
    q.region_range("u.region_code", scope);
    q.push(" OR ")
        .bind(scope.prefix().to_string())
        .push(" LIKE u.region_code || '%')");
    if let Some(org) = scope.org {
        q.push(" AND u.org_id = ").bind(org.to_string());
    }
}

/// A worker or supervisor account: a business account working in or above `scope`.
pub(crate) async fn check_worker(
    conn: &mut AnyConnection,
    scope: &Scope,
    uid: &str,
    field: &'static str,
) -> StoreResult<()> {
    let mut q = Sql::new(
        "SELECT COUNT(*) FROM users u WHERE u.disabled = 0 AND u.role IN ('social_worker','supervisor','agency_manager','civil_affairs_admin') AND u.id = ",
    );
    q.bind(uid);
    worker_in_reach(&mut q, scope);
    if q.fetch_i64(conn).await? == 0 {
        return Err(FieldError::new(field, "resident.worker_unknown").into());
    }
    Ok(())
}

fn seal(keys: &KeyRing, field: &str, v: &Option<String>) -> Option<String> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| keys.seal(field, s))
}

/// Exact duplicate: another record with this identity number (anywhere, whatever the scope).
async fn id_owner(
    conn: &mut AnyConnection,
    hash: &str,
    except: Option<&str>,
) -> StoreResult<Option<String>> {
    let mut q = Sql::new("SELECT id FROM residents WHERE id_number_hash = ");
    q.bind(hash);
    if let Some(e) = except {
        q.push(" AND id <> ").bind(e);
    }
    q.fetch_optional::<(String,)>(conn)
        .await
        .map(|o| o.map(|(id,)| id))
}

/// Whether a file with this identity number exists (anywhere, in any status).
pub async fn id_on_file(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    number: &str,
) -> StoreResult<bool> {
    Ok(id_owner(conn, &keys.lookup_hash(ID_FIELD, number), None)
        .await?
        .is_some())
}

/// Records that are probably the same person: the same identity number, or a similar name
/// (same characters, pinyin or one character apart) with the same birth date or the same home
/// region. Looks across the whole country (a person moves); `visible` says what the viewer may open.
pub async fn likely_duplicates(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    input: &ResidentInput,
    except: Option<&str>,
) -> StoreResult<Vec<Candidate>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        name: String,
        birth_date: String,
        region_code: String,
        region_path: String,
        id_number_hash: Option<String>,
        station_id: Option<String>,
    }
    let hash = input
        .id_number
        .as_deref()
        .map(|n| keys.lookup_hash(ID_FIELD, n));
    let region = input
        .region
        .as_ref()
        .map(|r| r.to_string())
        .unwrap_or_default();
    // Each branch reads one index: the same pinyin key, the same birth date, the same home region
    // with the same first character (the one-character-apart rule keeps the surname), the same
    // identity number. Each is small even among millions of files.
    let first: String = people::normalized_name(&input.name)
        .chars()
        .take(1)
        .collect();
    // The status test is wrapped so that no status-led index (the list's) competes with the branch's
    // own: without table statistics SQLite would otherwise walk every active file per branch.
    let select = "SELECT r.id, r.name, r.birth_date, r.region_code, g.path_names AS region_path, r.id_number_hash, r.station_id, r.created_at \
        FROM residents r JOIN regions g ON g.code = r.region_code WHERE COALESCE(r.status, '') = 'active' AND ";
    let mut q = Sql::new(
        "SELECT id, name, birth_date, region_code, region_path, id_number_hash, station_id FROM (",
    );
    q.push(select)
        .push("r.name_key = ")
        .bind(people::name_key(&input.name));
    q.push(" UNION ")
        .push(select)
        .push("r.birth_date = ")
        .bind(input.birth_date.clone());
    q.push(" UNION ")
        .push(select)
        .push("r.region_code = ")
        .bind(region.clone())
        .push(" AND r.name LIKE ")
        .bind(format!("{first}%"));
    if let Some(h) = &hash {
        q.push(" UNION ")
            .push(select)
            .push("r.id_number_hash = ")
            .bind(h.clone());
    }
    q.push(") t ORDER BY created_at LIMIT 2000");
    let rows: Vec<Row> = q.fetch_all(conn).await?;
    let mut out = Vec::new();
    for r in rows {
        if Some(r.id.as_str()) == except {
            continue;
        }
        let reason = if hash.is_some() && r.id_number_hash == hash {
            "same_id"
        } else if !people::names_alike(&r.name, &input.name) {
            continue;
        } else if r.birth_date == input.birth_date {
            "same_birth_date"
        } else if r.region_code == region {
            "same_region"
        } else {
            continue;
        };
        let visible = get(conn, viewer, &r.id).await.is_ok();
        out.push(if visible {
            Candidate {
                id: r.id,
                name: r.name,
                birth_date: r.birth_date,
                region_path: shegong_domain::network::region::display_path(
                    r.region_path.split('/'),
                ),
                visible,
                reason,
                ask: None,
            }
        } else {
            Candidate {
                ask: Some(ask_about(conn, r.station_id.as_deref(), &r.region_code).await?),
                id: r.id,
                name: String::new(),
                birth_date: String::new(),
                region_path: String::new(),
                visible,
                reason,
            }
        });
        if out.len() >= 20 {
            break;
        }
    }
    out.sort_by_key(|c| c.reason != "same_id");
    Ok(out)
}

/// Register a resident. An identity number already on file is refused (`resident.id_taken`);
/// likely duplicates are the caller's to show before calling this.
pub async fn create(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    input: &ResidentInput,
    created_by: &str,
    now: Millis,
) -> StoreResult<String> {
    let region = home_region(conn, &viewer.scope, input).await?;
    check_links(conn, &viewer.scope, input, &region).await?;
    let hash = input
        .id_number
        .as_deref()
        .map(|n| keys.lookup_hash(ID_FIELD, n));
    if let Some(h) = &hash
        && id_owner(conn, h, None).await?.is_some()
    {
        return Err(FieldError::new("id_number", "resident.id_taken").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, id_type, id_number_sealed, id_number_hash, sex, birth_date, \
              ethnicity, address_sealed, phone_sealed, guardian_name, guardian_phone_sealed, risk_tier, legal_basis, consent_on, protected, \
              station_id, worker_user_id, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(&region).push(", ").bind(input.name.trim()).push(", ").bind(people::name_key(&input.name)).push(", ")
        .bind(input.id_type.clone()).push(", ").bind(seal(keys, ID_FIELD, &input.id_number)).push(", ").bind(hash).push(", ")
        .bind(input.sex.clone()).push(", ").bind(&input.birth_date).push(", ").bind(input.ethnicity.trim()).push(", ")
        .bind(seal(keys, ADDRESS_FIELD, &input.address)).push(", ").bind(seal(keys, PHONE_FIELD, &input.phone)).push(", ")
        .bind(input.guardian_name.trim()).push(", ").bind(seal(keys, GUARDIAN_PHONE_FIELD, &input.guardian_phone)).push(", ")
        .bind(&input.risk_tier).push(", ").bind(&input.legal_basis).push(", ").bind(input.consent_on.clone()).push(", ")
        .bind(i64::from(input.protected)).push(", ").bind(input.station_id.clone()).push(", ").bind(input.worker_user_id.clone()).push(", 'active', 0, ")
        .bind(&input.registered_on).push(", ").bind(&input.registered_on).push(", ").bind(created_by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    record_tier(conn, &id, &region, &input.risk_tier, "", created_by, now).await?;
    refresh_schedule(conn, &id).await?;
    counters::changed(
        conn,
        &[counters::Subject::Resident(&id)],
        counters::Changes::default(),
    )
    .await?;
    Ok(id)
}

/// Change a resident's file. Returns the record as it was. A new risk tier is added to the
/// history and the visit schedule follows it.
pub async fn update(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    input: &ResidentInput,
    changed_by: &str,
    now: Millis,
) -> StoreResult<Resident> {
    let before = get(conn, viewer, id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Resident(id)]).await?;
    let region = home_region(conn, &viewer.scope, input).await?;
    check_links(conn, &viewer.scope, input, &region).await?;
    let mut q = Sql::new("UPDATE residents SET region_code = ");
    q.bind(&region)
        .push(", name = ")
        .bind(input.name.trim())
        .push(", name_key = ")
        .bind(people::name_key(&input.name))
        .push(", sex = ")
        .bind(input.sex.clone())
        .push(", birth_date = ")
        .bind(&input.birth_date)
        .push(", ethnicity = ")
        .bind(input.ethnicity.trim())
        .push(", guardian_name = ")
        .bind(input.guardian_name.trim())
        .push(", risk_tier = ")
        .bind(&input.risk_tier)
        .push(", legal_basis = ")
        .bind(&input.legal_basis)
        .push(", consent_on = ")
        .bind(input.consent_on.clone())
        .push(", protected = ")
        .bind(i64::from(input.protected))
        .push(", station_id = ")
        .bind(input.station_id.clone())
        .push(", worker_user_id = ")
        .bind(input.worker_user_id.clone())
        .push(", updated_at = ")
        .bind(now);
    // Sealed values are replaced only when a new one is given: the form never shows them.
    if let Some(n) = input.id_number.as_deref().filter(|s| !s.is_empty()) {
        let hash = keys.lookup_hash(ID_FIELD, n);
        if id_owner(conn, &hash, Some(id)).await?.is_some() {
            return Err(FieldError::new("id_number", "resident.id_taken").into());
        }
        q.push(", id_type = ")
            .bind(input.id_type.clone())
            .push(", id_number_sealed = ")
            .bind(keys.seal(ID_FIELD, n))
            .push(", id_number_hash = ")
            .bind(hash);
    }
    for (col, field, v) in [
        ("address_sealed", ADDRESS_FIELD, &input.address),
        ("phone_sealed", PHONE_FIELD, &input.phone),
        (
            "guardian_phone_sealed",
            GUARDIAN_PHONE_FIELD,
            &input.guardian_phone,
        ),
    ] {
        if let Some(s) = seal(keys, field, v) {
            q.push(&format!(", {col} = ")).bind(s);
        }
    }
    q.push(" WHERE id = ").bind(id);
    q.execute(conn).await?;
    if before.risk_tier != input.risk_tier {
        record_tier(conn, id, &region, &input.risk_tier, "", changed_by, now).await?;
    }
    refresh_schedule(conn, id).await?;
    counters::changed(conn, &[counters::Subject::Resident(id)], counted).await?;
    Ok(before)
}

/// Change only the risk tier, with the reason for the history.
pub async fn set_tier(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
    tier: RiskTier,
    reason: &str,
    changed_by: &str,
    now: Millis,
) -> StoreResult<Resident> {
    let before = get(conn, viewer, id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Resident(id)]).await?;
    if before.risk_tier == tier.as_str() {
        return Ok(before);
    }
    Sql::new("UPDATE residents SET risk_tier = ")
        .bind(tier.as_str())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    record_tier(
        conn,
        id,
        &before.region_code,
        tier.as_str(),
        reason,
        changed_by,
        now,
    )
    .await?;
    refresh_schedule(conn, id).await?;
    counters::changed(conn, &[counters::Subject::Resident(id)], counted).await?;
    Ok(before)
}

async fn record_tier(
    conn: &mut AnyConnection,
    id: &str,
    region: &str,
    tier: &str,
    reason: &str,
    by: &str,
    now: Millis,
) -> StoreResult<()> {
    Sql::new("INSERT INTO risk_history (id, resident_id, region_code, tier, reason, changed_by, changed_at) VALUES (")
        .bind(new_id()).push(", ").bind(id).push(", ").bind(region).push(", ").bind(tier).push(", ").bind(reason.trim())
        .push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, viewer: &Viewer, id: &str) -> StoreResult<Resident> {
    let mut q = Sql::new(SELECT);
    q.push(" AND r.id = ").bind(id);
    viewer.restrict(&mut q, "r");
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Name contains.
    pub q: Option<String>,
    pub region: Option<RegionCode>,
    /// Holds this category today.
    pub category: Option<String>,
    pub tier: Option<String>,
    /// `active` (default), `merged`, `moved_out`, `deceased` or `all`.
    pub status: Option<String>,
    /// Assigned to this account.
    pub worker: Option<String>,
    /// A visit is due on or before this date (`YYYY-MM-DD`).
    pub due_by: Option<String>,
}

/// Walk the newest-first index rather than the region range (see `Sql::region_prefix_unindexed`)?
/// For listing a wide scope in creation order, yes; counts and narrow scopes use the range.
fn walk_recent(viewer: &Viewer, f: &Filter, listing: bool) -> bool {
    listing && f.due_by.is_none() && viewer.scope.prefix().len() <= 4
}

fn filtered(viewer: &Viewer, f: &Filter, select: &str, listing: bool) -> Sql {
    let mut q = Sql::new(select);
    if walk_recent(viewer, f, listing) {
        in_scope(
            &mut q,
            &viewer.scope,
            "r.region_code",
            "r.station_id",
            false,
        );
        viewer.protect(&mut q, "r", None);
    } else {
        viewer.restrict(&mut q, "r");
    }
    match f.status.as_deref() {
        Some("all") => {}
        Some(s) => {
            q.push(" AND r.status = ").bind(s.to_string());
        }
        None => {
            q.push(" AND r.status = 'active'");
        }
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["r.name"], text);
    }
    if let Some(r) = &f.region {
        q.push(" AND ");
        q.region_range("r.region_code", &Scope::region(r.clone()));
    }
    if let Some(c) = &f.category {
        q.push(" AND EXISTS (SELECT 1 FROM resident_memberships m WHERE m.resident_id = r.id AND m.category = ")
            .bind(c.clone())
            .push(" AND m.valid_from <= ")
            .bind(viewer.today.to_string())
            .push(" AND (m.valid_to IS NULL OR m.valid_to >= ")
            .bind(viewer.today.to_string())
            .push("))");
    }
    if let Some(t) = &f.tier {
        q.push(" AND r.risk_tier = ").bind(t.clone());
    }
    if let Some(w) = &f.worker {
        q.push(" AND r.worker_user_id = ").bind(w.clone());
    }
    if let Some(d) = &f.due_by {
        q.push(" AND r.next_visit_due <= ").bind(d.clone());
    }
    q
}

pub async fn list(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Resident>> {
    let order = if f.due_by.is_some() {
        " ORDER BY r.next_visit_due, r.id"
    } else {
        " ORDER BY r.created_at DESC, r.id DESC"
    };
    let mut count = filtered(
        viewer,
        f,
        "SELECT COUNT(*) FROM (SELECT 1 FROM residents r WHERE 1 = 1",
        false,
    );
    count.push(&format!(" LIMIT {}) t", crate::LIST_COUNT_CAP + 1));
    let mut q = filtered(viewer, f, SELECT, true);
    q.push(order);
    q.fetch_page(conn, &count, page).await
}

/// Every match, for export (capped).
pub async fn list_all(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    f: &Filter,
    cap: i64,
) -> StoreResult<Vec<Resident>> {
    let mut q = filtered(viewer, f, SELECT, false);
    q.push(" ORDER BY r.region_code, r.name, r.id LIMIT ")
        .bind(cap);
    q.fetch_all(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Membership {
    pub id: String,
    pub resident_id: String,
    pub category: String,
    pub disability_category: Option<String>,
    pub disability_grade: Option<String>,
    pub source: String,
    pub evidence: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub verified_by: String,
    pub created_at: i64,
}

impl Membership {
    pub fn active_on(&self, day: &str) -> bool {
        self.valid_from.as_str() <= day && self.valid_to.as_deref().is_none_or(|t| t >= day)
    }
}

#[derive(Debug, Clone)]
pub struct MembershipInput {
    pub category: String,
    pub disability_category: Option<String>,
    pub disability_grade: Option<String>,
    pub source: String,
    pub evidence: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub verified_by: String,
}

/// Memberships of the residents given (for list pages: one query for a page of rows).
pub async fn memberships_of(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> StoreResult<Vec<Membership>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Sql::new(
        "SELECT id, resident_id, category, disability_category, disability_grade, source, evidence, valid_from, valid_to, \
        verified_by, created_at FROM resident_memberships WHERE resident_id IN (",
    );
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(id.to_string());
    }
    q.push(") ORDER BY valid_from DESC, created_at DESC");
    q.fetch_all(conn).await
}

pub async fn add_membership(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    resident_id: &str,
    m: &MembershipInput,
    created_by: &str,
    now: Millis,
) -> StoreResult<String> {
    let r = get(conn, viewer, resident_id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Resident(resident_id)]).await?;
    let known = Sql::new("SELECT COUNT(*) FROM resident_categories WHERE code = ")
        .bind(m.category.clone())
        .push(" AND (region_code = '' OR ")
        .bind(r.region_code.clone())
        .push(" LIKE region_code || '%')")
        .fetch_i64(conn)
        .await?;
    if known == 0 {
        return Err(FieldError::new("category", "resident.category_unknown").into());
    }
    let disability = matches!(m.category.as_str(), "disabled" | "severely_disabled");
    if disability != (m.disability_category.is_some() && m.disability_grade.is_some()) {
        return Err(FieldError::new(
            "disability_category",
            if disability {
                "resident.disability_required"
            } else {
                "resident.disability_only"
            },
        )
        .into());
    }
    if m.valid_to
        .as_deref()
        .is_some_and(|t| t < m.valid_from.as_str())
    {
        return Err(FieldError::new("valid_to", "form.date_order").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO resident_memberships (id, resident_id, region_code, category, disability_category, disability_grade, source, evidence, \
              valid_from, valid_to, verified_by, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(resident_id).push(", ").bind(&r.region_code).push(", ").bind(m.category.clone()).push(", ")
        .bind(m.disability_category.clone()).push(", ").bind(m.disability_grade.clone()).push(", ").bind(m.source.trim()).push(", ")
        .bind(m.evidence.trim()).push(", ").bind(m.valid_from.clone()).push(", ").bind(m.valid_to.clone()).push(", ")
        .bind(m.verified_by.trim()).push(", ").bind(created_by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    refresh_schedule(conn, resident_id).await?;
    counters::changed(conn, &[counters::Subject::Resident(resident_id)], counted).await?;
    Ok(id)
}

/// End a membership on `on` (it stays in the file as history).
pub async fn end_membership(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    resident_id: &str,
    membership_id: &str,
    on: &str,
) -> StoreResult<Membership> {
    get(conn, viewer, resident_id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Resident(resident_id)]).await?;
    let m = memberships_of(conn, &[resident_id])
        .await?
        .into_iter()
        .find(|m| m.id == membership_id)
        .ok_or(StoreError::NotFound)?;
    if on < m.valid_from.as_str() {
        return Err(FieldError::new("valid_to", "form.date_order").into());
    }
    Sql::new("UPDATE resident_memberships SET valid_to = ")
        .bind(on)
        .push(" WHERE id = ")
        .bind(membership_id)
        .execute(conn)
        .await?;
    refresh_schedule(conn, resident_id).await?;
    counters::changed(conn, &[counters::Subject::Resident(resident_id)], counted).await?;
    Ok(m)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Category {
    pub code: String,
    pub region_code: String,
    pub grp: String,
    pub name_zh: String,
    pub name_en: String,
    pub default_tier: String,
}

/// The catalogue available in `scope`: national entries and local extensions of its regions.
pub async fn categories(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Category>> {
    let mut q = Sql::new(
        "SELECT code, region_code, grp, name_zh, name_en, default_tier FROM resident_categories WHERE region_code = '' OR ",
    );
    q.bind(scope.prefix().to_string())
        .push(" LIKE region_code || '%' OR ");
    q.region_range("region_code", scope);
    q.push(" ORDER BY sort, code");
    q.fetch_all(conn).await
}

/// Add a local category to the catalogue of `region`.
pub async fn add_category(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    c: &Category,
) -> StoreResult<()> {
    if !scope.contains_region(region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    let code = people::parse_category_code(&c.code)?;
    if c.name_zh.trim().is_empty() {
        return Err(FieldError::new("name_zh", "form.required").into());
    }
    RiskTier::parse(&c.default_tier)?;
    let exists = Sql::new("SELECT COUNT(*) FROM resident_categories WHERE code = ")
        .bind(code.clone())
        .fetch_i64(conn)
        .await?;
    if exists > 0 {
        return Err(FieldError::new("code", "resident.category_taken").into());
    }
    Sql::new("INSERT INTO resident_categories (code, region_code, grp, name_zh, name_en, default_tier, sort) VALUES (")
        .bind(code).push(", ").bind(region.as_str()).push(", ").bind(c.grp.clone()).push(", ").bind(c.name_zh.trim()).push(", ")
        .bind(c.name_en.trim()).push(", ").bind(c.default_tier.clone()).push(", 1000)")
        .execute(conn).await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TierChange {
    pub tier: String,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: i64,
}

pub async fn tier_history(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
) -> StoreResult<Vec<TierChange>> {
    get(conn, viewer, id).await?;
    Sql::new("SELECT tier, reason, changed_by, changed_at FROM risk_history WHERE resident_id = ")
        .bind(id)
        .push(" ORDER BY changed_at DESC, id")
        .fetch_all(conn)
        .await
}

/// The other members of the resident's household that the viewer may see.
pub async fn household(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
) -> StoreResult<Vec<Resident>> {
    let r = get(conn, viewer, id).await?;
    let Some(h) = r.household_id else {
        return Ok(vec![]);
    };
    let mut q = Sql::new(SELECT);
    q.push(" AND r.household_id = ")
        .bind(h)
        .push(" AND r.id <> ")
        .bind(id)
        .push(" AND r.status = 'active'");
    viewer.restrict(&mut q, "r");
    q.push(" ORDER BY r.relation, r.birth_date");
    q.fetch_all(conn).await
}

/// Put `id` in the household of `other` with `relation` (to the head); `other` becomes the
/// head of a new household when it has none.
pub async fn join_household(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
    other: &str,
    relation: people::Relation,
    now: Millis,
) -> StoreResult<Resident> {
    let before = get(conn, viewer, id).await?;
    let head = get(conn, viewer, other)
        .await
        .map_err(|_| FieldError::new("other", "resident.unknown"))?;
    if head.id == before.id {
        return Err(FieldError::new("other", "resident.same_person").into());
    }
    let household = match head.household_id {
        Some(h) => h,
        None => {
            let h = new_id();
            Sql::new("INSERT INTO households (id, region_code, created_at) VALUES (")
                .bind(&h)
                .push(", ")
                .bind(&head.region_code)
                .push(", ")
                .bind(now)
                .push(")")
                .execute(conn)
                .await?;
            Sql::new("UPDATE residents SET household_id = ")
                .bind(&h)
                .push(", relation = '02', updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(other)
                .execute(conn)
                .await?;
            h
        }
    };
    Sql::new("UPDATE residents SET household_id = ")
        .bind(household)
        .push(", relation = ")
        .bind(relation.as_str())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

/// Merge `drop` into `keep`: memberships, tier history, cases, services and attendance move
/// over, an identity number moves when `keep` has none, and `drop` stays as a `merged` record
/// pointing at `keep`. Nothing is deleted.
pub async fn merge(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keep: &str,
    drop: &str,
    now: Millis,
) -> StoreResult<(Resident, Resident)> {
    let k = get(conn, viewer, keep).await?;
    let d = get(conn, viewer, drop)
        .await
        .map_err(|_| FieldError::new("other", "resident.unknown"))?;
    if k.id == d.id || d.status != "active" {
        return Err(FieldError::new("other", "resident.same_person").into());
    }
    let counted = counters::contribution(
        conn,
        &[
            counters::Subject::Resident(keep),
            counters::Subject::Resident(drop),
        ],
    )
    .await?;
    for table in ["resident_memberships", "risk_history", "cases", "services"] {
        Sql::new(&format!("UPDATE {table} SET resident_id = "))
            .bind(keep)
            .push(" WHERE resident_id = ")
            .bind(drop)
            .execute(conn)
            .await?;
    }
    Sql::new("UPDATE service_participants SET resident_id = ").bind(keep).push(" WHERE resident_id = ").bind(drop)
        .push(" AND NOT EXISTS (SELECT 1 FROM service_participants x WHERE x.service_id = service_participants.service_id AND x.resident_id = ").bind(keep).push(")")
        .execute(conn).await?;
    Sql::new("DELETE FROM service_participants WHERE resident_id = ")
        .bind(drop)
        .execute(conn)
        .await?;
    if k.id_number_sealed.is_none() && d.id_number_sealed.is_some() {
        let hash: (Option<String>,) = Sql::new("SELECT id_number_hash FROM residents WHERE id = ")
            .bind(drop)
            .fetch_one(conn)
            .await?;
        Sql::new("UPDATE residents SET id_number_hash = NULL WHERE id = ")
            .bind(drop)
            .execute(conn)
            .await?;
        Sql::new("UPDATE residents SET id_type = ")
            .bind(d.id_type.clone())
            .push(", id_number_sealed = ")
            .bind(d.id_number_sealed.clone())
            .push(", id_number_hash = ")
            .bind(hash.0)
            .push(" WHERE id = ")
            .bind(keep)
            .execute(conn)
            .await?;
    }
    let last = [k.last_visit_on.clone(), d.last_visit_on.clone()]
        .into_iter()
        .flatten()
        .max();
    Sql::new("UPDATE residents SET last_visit_on = ")
        .bind(last)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(keep)
        .execute(conn)
        .await?;
    Sql::new("UPDATE residents SET status = 'merged', merged_into = ")
        .bind(keep)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(drop)
        .execute(conn)
        .await?;
    refresh_schedule(conn, keep).await?;
    counters::changed(
        conn,
        &[
            counters::Subject::Resident(keep),
            counters::Subject::Resident(drop),
        ],
        counted,
    )
    .await?;
    Ok((k, d))
}

/// Mark a resident as moved out or deceased (or active again).
pub async fn set_status(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
    status: &str,
    now: Millis,
) -> StoreResult<Resident> {
    let before = get(conn, viewer, id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Resident(id)]).await?;
    if !matches!(status, "active" | "moved_out" | "deceased") || before.status == "merged" {
        return Err(FieldError::new("status", "resident.status_unknown").into());
    }
    Sql::new("UPDATE residents SET status = ")
        .bind(status)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    counters::changed(conn, &[counters::Subject::Resident(id)], counted).await?;
    Ok(before)
}

// ---- visit rules and the schedule ----

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: String,
    region_code: String,
    tier: String,
    category: String,
    interval_days: i64,
    methods: String,
    updated_by: String,
    updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub region_code: String,
    pub tier: String,
    pub category: String,
    pub interval_days: i64,
    pub methods: Vec<String>,
    pub updated_by: String,
    pub updated_at: i64,
}

impl From<RuleRow> for Rule {
    fn from(r: RuleRow) -> Self {
        Rule {
            id: r.id,
            region_code: r.region_code,
            tier: r.tier,
            category: r.category,
            interval_days: r.interval_days,
            methods: r
                .methods
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

impl Rule {
    fn domain(&self) -> Option<VisitRule> {
        Some(VisitRule {
            region_code: self.region_code.clone(),
            tier: RiskTier::parse(&self.tier).ok()?,
            category: Some(self.category.clone()).filter(|c| !c.is_empty()),
            interval_days: self.interval_days,
            methods: self
                .methods
                .iter()
                .filter_map(|m| VisitMethod::parse(m).ok())
                .collect(),
        })
    }
}

const RULE_COLUMNS: &str = "SELECT id, region_code, tier, category, interval_days, methods, updated_by, updated_at FROM visit_rules";

/// The rules that apply in `region`: its own and its ancestors', most specific region first.
pub async fn rules_for(conn: &mut AnyConnection, region: &str) -> StoreResult<Vec<Rule>> {
    let mut q = Sql::new(RULE_COLUMNS);
    q.push(" WHERE region_code = ''");
    if let Ok(code) = RegionCode::parse(region) {
        for c in code.lineage() {
            q.push(" OR region_code = ").bind(c.to_string());
        }
    }
    q.push(" ORDER BY LENGTH(region_code) DESC, tier, category");
    let rows: Vec<RuleRow> = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(Rule::from).collect())
}

/// Rules defined in `scope` (its own region, above it and below it).
pub async fn rules_in(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Rule>> {
    let mut rules = rules_for(conn, scope.prefix()).await?;
    let mut q = Sql::new(RULE_COLUMNS);
    q.push(" WHERE region_code <> ")
        .bind(scope.prefix().to_string())
        .push(" AND ");
    q.region_range("region_code", scope);
    q.push(" AND region_code <> '' ORDER BY region_code, tier, category");
    let rows: Vec<RuleRow> = q.fetch_all(conn).await?;
    rules.extend(rows.into_iter().map(Rule::from));
    Ok(rules)
}

/// Set (insert or replace) the rule for `region` × `tier` × `category`; re-schedules the
/// residents it may affect.
#[allow(clippy::too_many_arguments)]
pub async fn set_rule(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    tier: RiskTier,
    category: &str,
    interval_days: i64,
    methods: &[VisitMethod],
    by: &str,
    now: Millis,
) -> StoreResult<Option<Rule>> {
    if !scope.contains_region(region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    if !(1..=366).contains(&interval_days) {
        return Err(FieldError::new("interval_days", "visit.interval_range").into());
    }
    if methods.is_empty() {
        return Err(FieldError::new("methods", "form.required").into());
    }
    let methods = methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let before = rules_for(conn, region.as_str())
        .await?
        .into_iter()
        .find(|r| {
            r.region_code == region.as_str() && r.tier == tier.as_str() && r.category == category
        });
    Sql::new("DELETE FROM visit_rules WHERE region_code = ")
        .bind(region.as_str())
        .push(" AND tier = ")
        .bind(tier.as_str())
        .push(" AND category = ")
        .bind(category)
        .execute(conn)
        .await?;
    Sql::new("INSERT INTO visit_rules (id, region_code, tier, category, interval_days, methods, updated_by, updated_at) VALUES (")
        .bind(new_id()).push(", ").bind(region.as_str()).push(", ").bind(tier.as_str()).push(", ").bind(category).push(", ")
        .bind(interval_days).push(", ").bind(methods).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    // (Status wrapped, as in `likely_duplicates`: the region's index, not the list's.)
    let mut q = Sql::new(
        "SELECT id FROM residents r WHERE COALESCE(r.status, '') = 'active' AND r.risk_tier = ",
    );
    q.bind(tier.as_str()).push(" AND ");
    q.region_range("r.region_code", &Scope::region(region.clone()));
    let ids: Vec<(String,)> = q.fetch_all(conn).await?;
    for (id,) in ids {
        reschedule(conn, &id).await?;
    }
    Ok(before)
}

/// `refresh_schedule` for a write that does not otherwise change the resident (a visit, a
/// rule): the counters follow the new due date and last visit in the same transaction.
pub async fn reschedule(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    let counted = counters::contribution(conn, &[counters::Subject::Resident(id)]).await?;
    refresh_schedule(conn, id).await?;
    counters::changed(conn, &[counters::Subject::Resident(id)], counted).await
}

/// Recompute a resident's visit interval and next due date from the rules, their tier and
/// current categories, and their last visit. Called by every write that can change them, inside
/// its own before-and-after of the resident's counters (or through `reschedule`).
async fn refresh_schedule(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    #[derive(sqlx::FromRow)]
    struct S {
        region_code: String,
        risk_tier: String,
        registered_on: String,
        last_visit_on: Option<String>,
    }
    let s: S = Sql::new(
        "SELECT region_code, risk_tier, registered_on, last_visit_on FROM residents WHERE id = ",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    let tier = RiskTier::parse(&s.risk_tier).map_err(StoreError::Invalid)?;
    // Two index lookups (the person's own records, the records they took part in): as one `OR`
    // with a subquery PostgreSQL scans every service record.
    let last: Option<(Option<String>,)> = Sql::new(
        "SELECT MAX(d) FROM (SELECT MAX(served_on) AS d FROM services WHERE kind = 'visit' AND resident_id = ",
    )
    .bind(id)
    .push(" UNION ALL SELECT MAX(s.served_on) AS d FROM service_participants p JOIN services s ON s.id = p.service_id \
           WHERE s.kind = 'visit' AND p.resident_id = ")
    .bind(id)
    .push(") t")
    .fetch_optional(conn)
    .await?;
    let last_visit = last.and_then(|l| l.0).max(s.last_visit_on.clone());
    let categories: Vec<(String,)> = Sql::new("SELECT DISTINCT category FROM resident_memberships WHERE valid_to IS NULL AND resident_id = ")
        .bind(id).fetch_all(conn).await?;
    let categories: Vec<String> = categories.into_iter().map(|c| c.0).collect();
    let rules: Vec<VisitRule> = rules_for(conn, &s.region_code)
        .await?
        .iter()
        .filter_map(Rule::domain)
        .collect();
    let interval = people::applicable_rule(&rules, tier, &categories)
        .map_or(people::default_interval(tier), |r| r.interval_days);
    let date = |t: &str| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
    let registered = date(&s.registered_on).unwrap_or_default();
    let due = people::next_due(last_visit.as_deref().and_then(date), registered, interval);
    Sql::new("UPDATE residents SET last_visit_on = ")
        .bind(last_visit)
        .push(", visit_interval_days = ")
        .bind(interval)
        .push(", next_visit_due = ")
        .bind(due.to_string())
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts for the due board: overdue (due before today), due today, due within seven days.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DueCounts {
    pub overdue: i64,
    pub today: i64,
    pub week: i64,
}

pub async fn due_counts(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    worker: Option<&str>,
) -> StoreResult<DueCounts> {
    let today = viewer.today.to_string();
    let week = (viewer.today + chrono::Duration::days(7)).to_string();
    let mut q = Sql::new("SELECT COALESCE(SUM(CASE WHEN r.next_visit_due < ");
    q.bind(today.clone()).push(" THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN r.next_visit_due = ").bind(today.clone())
        .push(" THEN 1 ELSE 0 END), 0), COUNT(*) FROM residents r WHERE r.status = 'active' AND r.next_visit_due <= ").bind(week);
    if let Some(w) = worker {
        q.push(" AND r.worker_user_id = ").bind(w);
    }
    viewer.restrict(&mut q, "r");
    let (overdue, today, week): (i64, i64, i64) = q.fetch_one(conn).await?;
    Ok(DueCounts {
        overdue,
        today,
        week,
    })
}

/// The monthly visit rate for older people in special hardship (elderly categories, 特困,
/// aged 60 or more) in `month` (`YYYY-MM`): those visited at least once, and all of them.
pub async fn elderly_visit_rate(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    month: &str,
) -> StoreResult<(i64, i64)> {
    let first = format!("{month}-01");
    let last = format!("{month}-31");
    let sixty = viewer
        .today
        .checked_sub_months(Months::new(60 * 12))
        .unwrap_or(viewer.today)
        .to_string();
    let mut q = Sql::new(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM services v WHERE v.kind = 'visit' AND v.resident_id = r.id AND v.served_on >= ",
    );
    q.bind(first.clone()).push(" AND v.served_on <= ").bind(last.clone())
        .push(") THEN 1 ELSE 0 END), 0) FROM residents r WHERE r.status = 'active' AND r.birth_date <= ").bind(sixty)
        .push(" AND EXISTS (SELECT 1 FROM resident_memberships m JOIN resident_categories c ON c.code = m.category \
               WHERE m.resident_id = r.id AND (c.grp = 'elderly' OR m.category = 'tekun') AND m.valid_from <= ").bind(last)
        .push(" AND (m.valid_to IS NULL OR m.valid_to >= ").bind(first).push("))");
    viewer.restrict(&mut q, "r");
    let (all, visited): (i64, i64) = q.fetch_one(conn).await?;
    Ok((visited, all))
}

/// Who may be assigned as worker or supervisor in `scope`: (id, display name, role).
pub async fn workers(
    conn: &mut AnyConnection,
    scope: &Scope,
) -> StoreResult<Vec<(String, String, String)>> {
    let mut q = Sql::new(
        "SELECT u.id, u.display_name, u.role FROM users u WHERE u.disabled = 0 AND u.role IN ('social_worker','supervisor')",
    );
    worker_in_reach(&mut q, scope);
    q.push(" ORDER BY u.role, u.display_name LIMIT 500");
    q.fetch_all(conn).await
}

// ---- what a creator may see, and idempotent creation ----

/// Where a new file went, for a creator who may not be able to open it (a child under 14
/// registered without the protected-files grant): the scope applies, the protection rule does
/// not, and nothing about the person is returned.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Placement {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub worker_user_id: Option<String>,
    pub worker_name: Option<String>,
}

pub async fn placement(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Placement> {
    let mut q = Sql::new(
        "SELECT r.id, r.region_code, g.path_names AS region_path, r.station_id, s.name AS station_name, \
         r.worker_user_id, u.display_name AS worker_name \
         FROM residents r JOIN regions g ON g.code = r.region_code LEFT JOIN stations s ON s.id = r.station_id \
         LEFT JOIN users u ON u.id = r.worker_user_id WHERE r.id = ",
    );
    q.bind(id);
    in_scope(&mut q, scope, "r.region_code", "r.station_id", true);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// How long a creation key is remembered.
pub const IDEMPOTENCY_TTL_MS: Millis = 24 * 3600 * 1000;

/// The result of claiming a creation key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use: create the record, then `settle_key` in the same transaction.
    New,
    /// Seen before (within the expiry): the record the first request created.
    Done(String),
}

/// A key as clients send it: 1–100 visible ASCII characters (a UUID fits).
pub fn parse_key(raw: &str) -> Result<String, FieldError> {
    let k = raw.trim();
    if k.is_empty() || k.len() > 100 || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldError::new(
            "idempotency_key",
            "idempotency.key_invalid",
        ));
    }
    Ok(k.to_owned())
}

/// Claim `(user, key)` for creating an `entity` (`resident`, `case`, `service`), inside the
/// transaction that will create it. A concurrent request with the same key waits on the row
/// (PostgreSQL) or the single writer (SQLite), then sees the first one's record.
pub async fn claim_key(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    entity: &str,
    now: Millis,
) -> StoreResult<Claim> {
    Sql::new("DELETE FROM idempotency_keys WHERE user_id = ")
        .bind(user_id)
        .push(" AND expires_at < ")
        .bind(now)
        .execute(conn)
        .await?;
    let inserted = Sql::new(
        "INSERT INTO idempotency_keys (user_id, idem_key, entity, entity_id, created_at, expires_at) VALUES (",
    )
    .bind(user_id)
    .push(", ")
    .bind(key)
    .push(", ")
    .bind(entity)
    .push(", '', ")
    .bind(now)
    .push(", ")
    .bind(now + IDEMPOTENCY_TTL_MS)
    .push(") ON CONFLICT (user_id, idem_key) DO NOTHING")
    .execute(conn)
    .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let (kind, id): (String, String) =
        Sql::new("SELECT entity, entity_id FROM idempotency_keys WHERE user_id = ")
            .bind(user_id)
            .push(" AND idem_key = ")
            .bind(key)
            .fetch_one(conn)
            .await?;
    if kind != entity || id.is_empty() {
        return Err(FieldError::new("idempotency_key", "idempotency.key_reused").into());
    }
    Ok(Claim::Done(id))
}

/// Record the id created under a claimed key (same transaction as the record).
pub async fn settle_key(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    id: &str,
) -> StoreResult<()> {
    Sql::new("UPDATE idempotency_keys SET entity_id = ")
        .bind(id)
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND idem_key = ")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// A key already settled by this account for `entity` (a read before the write; `claim_key`
/// still decides inside the write's transaction).
pub async fn find_key(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    entity: &str,
    now: Millis,
) -> StoreResult<Option<String>> {
    let row: Option<(String, String)> =
        Sql::new("SELECT entity, entity_id FROM idempotency_keys WHERE user_id = ")
            .bind(user_id)
            .push(" AND idem_key = ")
            .bind(key)
            .push(" AND expires_at >= ")
            .bind(now)
            .fetch_optional(conn)
            .await?;
    match row {
        Some((kind, _)) if kind != entity => {
            Err(FieldError::new("idempotency_key", "idempotency.key_reused").into())
        }
        Some((_, id)) if !id.is_empty() => Ok(Some(id)),
        _ => Ok(None),
    }
}
