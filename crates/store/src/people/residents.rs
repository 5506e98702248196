//! People served (一人一档): residents with sealed identity, contact and address data, risk tiers
//! with history, status, and who may be assigned to them. Category memberships and households,
//! duplicates and merging, visit rules and the schedule, and repeat-safe creation keys have their
//! own files beside this one.
//!
//! Visibility: a resident belongs to the region they live in (a township or village in scope).
//! Protected files (children under 14, or flagged for abuse or violence) are further limited to
//! the assigned worker, the worker and supervisor of any of their cases, and accounts holding the
//! explicit `sees_protected` grant — enforced here, in every read.

use chrono::{Months, NaiveDate};
use serde::Serialize;
use shegong_domain::people::{self, ResidentStatus, RiskTier};
use shegong_domain::{FieldError, RegionCode, RegionLevel, Scope};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::{
    Millis, Page, PageRequest, StoreError, StoreResult, network::station_scope, new_id,
    statistics::counters,
};

use super::duplicates::id_owner;
use super::name_chars;
use super::visit_rules::refresh_schedule;

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
    region_col: &'static str,
    station_col: &'static str,
    indexed: bool,
) {
    q.push(" AND ");
    if indexed {
        q.region_range(region_col, scope);
    } else {
        q.region_prefix_unindexed(region_col, scope);
    }
    if let Some(org) = scope.org {
        q.push(" AND ")
            .push(station_col)
            .push(" IN (SELECT os.id FROM stations os WHERE os.operator_org_id = ")
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

    /// `AND <resident r is visible>`: the scope, and the protection rule. The query names the
    /// residents table `r`.
    pub(crate) fn restrict(&self, q: &mut Sql) {
        in_scope(q, &self.scope, "r.region_code", "r.station_id", true);
        self.protect(q, "r", None);
    }

    /// `AND <not restricted, or the viewer works on resident r>`. `r` may be NULL (a record
    /// about no one in particular); `also` marks further records restricted (sensitive notes).
    pub(crate) fn protect(&self, q: &mut Sql, r: &'static str, also: Option<&'static str>) {
        if self.sees_protected {
            return;
        }
        q.push(" AND (NOT (COALESCE(")
            .push(r)
            .push(".protected, 0) = 1 OR COALESCE(")
            .push(r)
            .push(".birth_date, '0000') > ")
            .bind(self.child_cutoff());
        if let Some(also) = also {
            q.push(" OR ").push(also);
        }
        q.push(") OR ")
            .push(r)
            .push(".worker_user_id = ")
            .bind(self.user_id.clone())
            .push(" OR EXISTS (SELECT 1 FROM cases pc WHERE pc.resident_id = ")
            .push(r)
            .push(".id AND (pc.worker_user_id = ")
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
    #[sqlx(try_from = "String")]
    pub risk_tier: RiskTier,
    pub legal_basis: String,
    pub consent_on: Option<String>,
    pub protected: i64,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub worker_user_id: Option<String>,
    pub worker_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ResidentStatus,
    pub merged_into: Option<String>,
    pub last_visit_on: Option<String>,
    pub visit_interval_days: i64,
    pub next_visit_due: String,
    pub registered_on: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Resident {
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

pub(super) const SELECT: &str = "SELECT r.id, r.region_code, g.path_names AS region_path, r.name, r.id_type, r.id_number_sealed, \
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

/// The checked home region: a township or village within scope.
async fn home_region(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ResidentInput,
) -> StoreResult<String> {
    local_region(conn, scope, input.region.as_ref(), "resident.region_level").await
}

/// Where a person on file lives (a resident, a volunteer): a known township or village within
/// scope, refused on `region` — `level_code` when it is a larger region.
pub(crate) async fn local_region(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: Option<&RegionCode>,
    level_code: &'static str,
) -> StoreResult<String> {
    let region = region.ok_or(FieldError::new("region", "form.required"))?;
    if !scope.contains_region(region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    if !matches!(region.level(), RegionLevel::Township | RegionLevel::Village) {
        return Err(FieldError::new("region", level_code).into());
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

/// Whom a matter (an issue, a need) is about, for [`matter_region`].
pub(crate) enum Whose<'a> {
    Person(&'a str),
    Household(&'a str),
    Community(Option<&'a RegionCode>),
}

/// Where a matter belongs: the file's region for a person, a member's for a household (both as
/// the viewer may open them; otherwise refused naming the field with the code given), else the community (township or village) given in scope.
pub(crate) async fn matter_region(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    whose: Whose<'_>,
    (resident_unknown, household_unknown): (&'static str, &'static str),
) -> StoreResult<String> {
    match whose {
        Whose::Person(id) => match get(conn, viewer, id).await {
            Ok(r) => Ok(r.region_code),
            Err(StoreError::NotFound) => {
                Err(FieldError::new("resident_id", resident_unknown).into())
            }
            Err(e) => Err(e),
        },
        Whose::Household(id) => {
            // A household is seen through its members the reader may open.
            let mut q = Sql::new("SELECT r.region_code FROM residents r WHERE r.household_id = ");
            q.bind(id);
            viewer.restrict(&mut q);
            q.push(" LIMIT 1");
            let found: Option<(String,)> = q.fetch_optional(conn).await?;
            found
                .map(|(r,)| r)
                .ok_or_else(|| FieldError::new("household_id", household_unknown).into())
        }
        Whose::Community(region) => {
            local_region(conn, &viewer.scope, region, "issue.region_level").await
        }
    }
}

pub(crate) async fn check_links(
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
        // The station's scope applies the organisation too: another agency's station is unknown.
        let st = station_scope::place(conn, scope, sid)
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

pub(crate) fn seal(keys: &KeyRing, field: &str, v: &Option<String>) -> Option<String> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| keys.seal(field, s))
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
        .execute(&mut *conn).await?;
    name_chars::insert(conn, &[(&id, &region, input.name.trim())]).await?;
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
    for (set, field, v) in [
        (", address_sealed = ", ADDRESS_FIELD, &input.address),
        (", phone_sealed = ", PHONE_FIELD, &input.phone),
        (
            ", guardian_phone_sealed = ",
            GUARDIAN_PHONE_FIELD,
            &input.guardian_phone,
        ),
    ] {
        if let Some(s) = seal(keys, field, v) {
            q.push(set).bind(s);
        }
    }
    q.push(" WHERE id = ").bind(id);
    q.execute(&mut *conn).await?;
    name_chars::replace(
        conn,
        id,
        (before.region_code.as_str(), &before.name),
        (&region, &input.name),
    )
    .await?;
    if before.risk_tier.as_str() != input.risk_tier {
        record_tier(conn, id, &region, &input.risk_tier, "", changed_by, now).await?;
    }
    refresh_schedule(conn, id).await?;
    counters::changed(conn, &[counters::Subject::Resident(id)], counted).await?;
    Ok(before)
}

/// The most rows one batch action takes (a page of the largest size, with room).
pub const BATCH_MAX: usize = 200;

/// Check a batch selection: 1..=`BATCH_MAX` distinct ids, each visible to `viewer`; any other
/// (unknown, or outside the viewer's scope) refuses the whole batch on `ids`.
pub async fn batch(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    ids: &[String],
) -> StoreResult<Vec<Resident>> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.trim().to_string()).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() || ids.len() > BATCH_MAX || ids.iter().any(|s| s.is_empty() || s.len() > 64) {
        return Err(FieldError::new("ids", "batch.invalid").into());
    }
    let mut found = Vec::with_capacity(ids.len());
    for id in &ids {
        match get(conn, viewer, id).await {
            Ok(r) => found.push(r),
            Err(StoreError::NotFound) => {
                return Err(FieldError::new("ids", "batch.out_of_scope").into());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// Assign one responsible worker to a batch of residents (all or none). Returns each resident
/// as it was, for the audit.
pub async fn assign_worker(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    ids: &[String],
    worker_user_id: &str,
    now: Millis,
) -> StoreResult<Vec<Resident>> {
    let before = batch(conn, viewer, ids).await?;
    check_worker(conn, &viewer.scope, worker_user_id, "worker").await?;
    for r in &before {
        Sql::new("UPDATE residents SET worker_user_id = ")
            .bind(worker_user_id)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(r.id.as_str())
            .execute(conn)
            .await?;
    }
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
    if before.risk_tier == tier {
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
    viewer.restrict(&mut q);
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
    /// Only these residents (a batch selection).
    pub ids: Option<Vec<String>>,
    /// A key of `SORTS`; none is the default order.
    pub sort: Option<crate::Sort>,
}

/// The orders a resident list offers (key, column); each is served by an index on `status`
/// and the column (migration 0043).
pub const SORTS: &[(&str, &str)] = &[
    ("name", "r.name"),
    ("birth_date", "r.birth_date"),
    ("region", "r.region_code"),
    ("tier", "r.risk_tier"),
    ("next_due", "r.next_visit_due"),
    ("created", "r.created_at"),
];

/// Walk the newest-first index rather than the region range (see `Sql::region_prefix_unindexed`)?
/// For listing a wide scope in creation order, yes; counts and narrow scopes use the range.
fn walk_recent(viewer: &Viewer, f: &Filter, listing: bool) -> bool {
    listing && f.due_by.is_none() && f.sort.is_none() && viewer.scope.prefix().len() <= 4
}

/// How a read tests "name contains" (`Filter::q`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByName {
    /// `r.id IN` the files holding the text's key (`name_chars::key`), then the name test: the
    /// read starts from the key's rows, a few thousand files at most. `array` (PostgreSQL):
    /// written `r.id = ANY(ARRAY(…))`, which PostgreSQL reads once and then looks the files up
    /// by id whatever its statistics say; as a semi-join, on tables not yet analyzed, it read
    /// the key's rows once for each file of the region (seconds for a few thousand files).
    Key { array: bool },
    /// The key's rows are already the statement's `FROM` (the count): the name test only.
    Joined,
    /// The name test alone, on every file the read walks: for a page of a key so common that
    /// the newest-first walk meets a page of matches within a few hundred files (more files
    /// hold it than the count's cap), where starting from the key's rows would read them all.
    Walk,
}

/// The `Key` read for the connection's database.
fn by_key(conn: &AnyConnection) -> ByName {
    ByName::Key {
        array: conn.backend_name() == "PostgreSQL",
    }
}

fn filtered(
    viewer: &Viewer,
    f: &Filter,
    select: &'static str,
    listing: bool,
    by_name: ByName,
) -> Sql {
    let unindexed = walk_recent(viewer, f, listing);
    narrowed(Sql::new(select), viewer, f, unindexed, by_name)
}

/// The region filter, when it lies within the viewer's scope: it replaces the scope's region.
fn inner_region<'a>(viewer: &Viewer, f: &'a Filter) -> Option<&'a RegionCode> {
    f.region
        .as_ref()
        .filter(|r| viewer.scope.contains_region(r.as_str()))
}

/// ` AND <the key's rows' region>`: the filter's region within the scope, else the scope's; a
/// range of their primary key.
fn name_rows_in_region(q: &mut Sql, viewer: &Viewer, f: &Filter) {
    if let Some(r) = inner_region(viewer, f).or(viewer.scope.region.as_ref()) {
        q.push(" AND ");
        q.region_range("nc.region_code", &Scope::region(r.clone()));
    }
}

/// The name search's text and its key, when the filter has a text.
fn name_search(f: &Filter) -> Option<(&str, Option<String>)> {
    let text = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    Some((text, name_chars::key(text)))
}

/// `q` (ending in a `WHERE` clause) narrowed to the viewer's scope and the filter; `unindexed`:
/// the scope as a prefix no index answers (`Sql::region_prefix_unindexed`).
fn narrowed(mut q: Sql, viewer: &Viewer, f: &Filter, unindexed: bool, by_name: ByName) -> Sql {
    // A region filter inside the scope replaces the scope's region: one range, the narrower.
    // Given both nested ranges on one column, SQLite read the scope's (a province) and tested
    // the filter's on each file.
    let inner = inner_region(viewer, f);
    match inner {
        Some(r) => {
            let scope = Scope {
                region: Some(r.clone()),
                org: viewer.scope.org,
            };
            in_scope(&mut q, &scope, "r.region_code", "r.station_id", true);
        }
        None => in_scope(
            &mut q,
            &viewer.scope,
            "r.region_code",
            "r.station_id",
            !unindexed,
        ),
    }
    viewer.protect(&mut q, "r", None);
    match f.status.as_deref() {
        Some("all") => {}
        Some(s) => {
            q.push(" AND r.status = ").bind(s.to_string());
        }
        None => {
            q.push(" AND r.status = 'active'");
        }
    }
    if let Some((text, key)) = name_search(f) {
        if let (Some(key), ByName::Key { array }) = (key, by_name) {
            q.push(if array {
                " AND r.id = ANY(ARRAY(SELECT nc.resident_id FROM resident_name_chars nc WHERE nc.ch = "
            } else {
                " AND r.id IN (SELECT nc.resident_id FROM resident_name_chars nc WHERE nc.ch = "
            })
            .bind(key);
            name_rows_in_region(&mut q, viewer, f);
            q.push(if array { "))" } else { ")" });
        }
        q.contains_any(&["r.name"], text);
    }
    if let Some(r) = f.region.as_ref().filter(|_| inner.is_none()) {
        q.push(" AND ");
        q.region_range("r.region_code", &Scope::region(r.clone()));
    }
    if let Some(c) = &f.category {
        // `LIMIT 1`: SQLite 3.51 turns a plain `EXISTS` into a join, and then `OFFSET` skips
        // a file once per membership: page 2 of a file holding two repeated page 1's last
        // row. PostgreSQL drops a constant `LIMIT` in `EXISTS` and plans the same semi-join.
        q.push(" AND EXISTS (SELECT 1 FROM resident_memberships m WHERE ");
        held_today(&mut q, "m", c, viewer);
        q.push(" AND m.resident_id = r.id LIMIT 1)");
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
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("r.id", ids);
    }
    q
}

/// `<alias>.category = c AND <alias> is valid today`: a membership held today.
fn held_today(q: &mut Sql, alias: &'static str, c: &str, viewer: &Viewer) {
    let today = viewer.today.to_string();
    q.push(alias)
        .push(".category = ")
        .bind(c.to_owned())
        .push(" AND ")
        .push(alias)
        .push(".valid_from <= ")
        .bind(today.clone())
        .push(" AND (")
        .push(alias)
        .push(".valid_to IS NULL OR ")
        .push(alias)
        .push(".valid_to >= ")
        .bind(today)
        .push(")");
}

/// Whether the files a list reads span a province or more (the filter's region within the
/// scope, else the scope's).
fn province_wide(viewer: &Viewer, f: &Filter) -> bool {
    inner_region(viewer, f)
        .map_or(viewer.scope.prefix(), RegionCode::as_str)
        .len()
        <= 2
}

/// The list's count, open for its `LIMIT`: `SELECT COUNT(*) FROM (SELECT 1 …`. Over a province
/// or wider, a category filter is counted from the category's memberships
/// (`resident_memberships_held`, in resident order, so `DISTINCT` — a member may hold two —
/// streams on both engines), each file read by id: testing every file of a province for a
/// category one file in six holds read 60,000 files and as many memberships to find the cap's
/// 10,001. Same files as the list's `EXISTS` (a test compares). Below a province the region's
/// files are fewer than the category's memberships province-wide (a county: 7,000 files against
/// 167,000 low-income memberships, 92 against 34 ms on PostgreSQL): each file of the region is
/// tested for the category, as the list does.
fn capped_count(viewer: &Viewer, f: &Filter, key_read: ByName) -> Sql {
    let Some(c) = f.category.as_ref().filter(|_| province_wide(viewer, f)) else {
        // A name search counts the key's rows whose file, read by id in a subquery of its own
        // (which neither engine turns into a join, so no statistics can make it read a region
        // for each row), passes the filter.
        if let Some((_, Some(key))) = name_search(f) {
            let mut q = Sql::new(
                "SELECT COUNT(*) FROM (SELECT 1 FROM resident_name_chars nc WHERE nc.ch = ",
            );
            q.bind(key);
            name_rows_in_region(&mut q, viewer, f);
            q.push(" AND 1 = (SELECT 1 FROM residents r WHERE r.id = nc.resident_id");
            let mut q = narrowed(q, viewer, f, false, ByName::Joined);
            q.push(")");
            return q;
        }
        return filtered(
            viewer,
            f,
            "SELECT COUNT(*) FROM (SELECT 1 FROM residents r WHERE 1 = 1",
            false,
            key_read,
        );
    };
    let mut q = Sql::new(
        "SELECT COUNT(*) FROM (SELECT DISTINCT m.resident_id FROM resident_memberships m JOIN residents r ON r.id = m.resident_id WHERE ",
    );
    held_today(&mut q, "m", c, viewer);
    let rest = Filter {
        category: None,
        ..f.clone()
    };
    narrowed(q, viewer, &rest, false, key_read)
}

pub async fn list(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Resident>> {
    // Visits due: by due date, then as `residents_due` holds them (region), so a page sorts only
    // the rows of one date and region. Many files share a due date (a province's earliest held
    // 69,000): sorting a date's rows by id read them all, 0.4-2 s on PostgreSQL and 18 s on a
    // cold SQLite file, against about 1 ms.
    let order = if f.due_by.is_some() {
        " ORDER BY r.next_visit_due, r.region_code, r.id"
    } else {
        " ORDER BY r.created_at DESC, r.id DESC"
    };
    let mut count = capped_count(viewer, f, by_key(conn));
    count
        .push(" LIMIT ")
        .bind(crate::LIST_COUNT_CAP + 1)
        .push(") t");
    let total = count.plan_each_run().fetch_i64(conn).await?;
    let by_name = if total > crate::LIST_COUNT_CAP {
        ByName::Walk
    } else {
        by_key(conn)
    };
    let mut q = filtered(viewer, f, SELECT, true, by_name);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "r.id")) {
        q.push(order);
    }
    q.fetch_page_counted(conn, total, page).await
}

/// How many files matching the filter, in the viewer's scope, the protection rule hides from
/// them (exact): what the list leaves out while the dashboard counts everyone in the region.
/// Zero for a viewer who sees protected files.
///
/// Counted from the restricted files alone (flagged, or a child's), found through their own
/// indexes (`residents_protected`, `residents_sort_birth`), less those the viewer works on: the same
/// number as every match less the matches the viewer sees, which counted all files of the scope
/// twice (10^6 in a province) on every page of the list.
///
/// `capped`: the list's count for the same filter stopped at its cap. A name search then tests
/// the restricted files' names instead of looking up each file holding the key (tens of
/// thousands in a province: 345 against 214 ms on PostgreSQL for 王, where a whole name's 500
/// files took 7 against 175 ms).
pub async fn hidden_protected(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    f: &Filter,
    capped: bool,
) -> StoreResult<i64> {
    if viewer.sees_protected {
        return Ok(0);
    }
    let everyone = Viewer {
        sees_protected: true,
        ..viewer.clone()
    };
    // Two disjoint counts, flagged files and unflagged children, each read from its own index
    // alone (migration 0064: `residents_protected` over the scope's range, `residents_sort_birth`
    // from the cutoff on), with planner statistics that know the scope's size (SQLite's STAT4,
    // PostgreSQL's custom plans).
    let by_name = if capped { ByName::Walk } else { by_key(conn) };
    let mut q = Sql::new("SELECT (SELECT COUNT(*) FROM residents r WHERE r.protected = 1");
    q = narrowed(q, &everyone, f, false, by_name);
    not_working_on(&mut q, viewer);
    q.push(") + (SELECT COUNT(*) FROM residents r WHERE r.protected <> 1 AND r.birth_date > ")
        .bind(viewer.child_cutoff());
    q = narrowed(q, &everyone, f, false, by_name);
    not_working_on(&mut q, viewer);
    q.push(")");
    q.plan_each_run().fetch_i64(conn).await
}

/// `AND <the viewer is not resident r's worker, nor the worker or supervisor of a case of
/// theirs>`: of the restricted files, the ones the viewer may not open (`Viewer::protect`).
fn not_working_on(q: &mut Sql, viewer: &Viewer) {
    q.push(" AND (r.worker_user_id IS NULL OR r.worker_user_id <> ")
        .bind(viewer.user_id.clone())
        .push(") AND NOT EXISTS (SELECT 1 FROM cases pc WHERE pc.resident_id = r.id AND (pc.worker_user_id = ")
        .bind(viewer.user_id.clone())
        .push(" OR pc.supervisor_user_id = ")
        .bind(viewer.user_id.clone())
        .push("))");
}

/// Every match for an export (up to `cap`), by region and name, as ids: the export reads the
/// files a page at a time (`page_of`), so it never holds them all.
pub async fn list_ids(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    f: &Filter,
    cap: i64,
) -> StoreResult<Vec<String>> {
    let mut q = filtered(
        viewer,
        f,
        "SELECT r.id FROM residents r WHERE 1 = 1",
        false,
        by_key(conn),
    );
    q.push(" ORDER BY r.region_code, r.name, r.id LIMIT ")
        .bind(cap);
    let ids: Vec<(String,)> = q.plan_each_run().fetch_all(conn).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// The files of `ids` (a page of `list_ids`) in the list's order. The filter chose them; the
/// scope and the protection rule are tested again, written so that no index competes with the
/// ids' primary key (SQLite walked the list's status index, every active file, for each page).
pub async fn page_of(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    ids: &[String],
) -> StoreResult<Vec<Resident>> {
    let mut q = Sql::new(SELECT);
    in_scope(
        &mut q,
        &viewer.scope,
        "r.region_code",
        "r.station_id",
        false,
    );
    viewer.protect(&mut q, "r", None);
    q.push(" AND ");
    q.in_list("r.id", ids);
    q.push(" ORDER BY r.region_code, r.name, r.id");
    q.fetch_all(conn).await
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

/// Mark a resident as moved out or deceased (or active again). A merge is `duplicates::merge`'s
/// and final.
pub async fn set_status(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
    status: ResidentStatus,
    now: Millis,
) -> StoreResult<Resident> {
    let before = get(conn, viewer, id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Resident(id)]).await?;
    if status == ResidentStatus::Merged || before.status == ResidentStatus::Merged {
        return Err(FieldError::new("status", "resident.status_unknown").into());
    }
    Sql::new("UPDATE residents SET status = ")
        .bind(status.as_str())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    counters::changed(conn, &[counters::Subject::Resident(id)], counted).await?;
    Ok(before)
}

/// An account a picker offers as worker or supervisor, with what tells two of the same name
/// apart: the username and the region the account works in.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Assignable {
    pub id: String,
    pub display_name: String,
    pub username: String,
    pub role: String,
    pub region_name: String,
}

/// Who may be assigned as worker or supervisor in `scope`.
pub async fn workers(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Assignable>> {
    let mut q = Sql::new(
        "SELECT u.id, u.display_name, u.username, u.role, COALESCE(g.name, '') AS region_name \
         FROM users u LEFT JOIN regions g ON g.code = u.region_code \
         WHERE u.disabled = 0 AND u.role IN ('social_worker','supervisor')",
    );
    worker_in_reach(&mut q, scope);
    q.push(" ORDER BY u.role, u.display_name, u.username LIMIT 500");
    q.fetch_all(conn).await
}

// ---- what a creator may see ----

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
