//! Stations (社工站): the registry, its status and operator history, funding by source and
//! year, and the services each station offers. Scoped by the station's region; a scope naming
//! an organisation sees the stations that organisation operates.

use serde::Serialize;
use shegong_domain::network::station::{FundingSource, Mode, Room, Status, Tier, rooms_to_string};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope::scoped_from;
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreResult, new_id, statistics::counters};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Station {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    #[sqlx(try_from = "String")]
    pub tier: Tier,
    pub name: String,
    pub address: String,
    pub lng_e6: Option<i64>,
    pub lat_e6: Option<i64>,
    pub host_premises: String,
    #[sqlx(try_from = "String")]
    pub mode: Mode,
    pub operator_org_id: Option<String>,
    pub operator_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub status_since: String,
    pub area_m2: i64,
    pub rooms: String,
    pub staff_count: i64,
    pub certified_count: i64,
    pub phone: String,
    pub open_hours: String,
    pub readiness_pct: i64,
    pub completion_confirmed_at: Option<i64>,
    pub completion_confirmed_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Station {
    pub fn display_path(&self) -> String {
        shegong_domain::network::region::display_path(self.region_path.split('/'))
    }
}

const SELECT: &str = "SELECT s.id, s.region_code, r.path_names AS region_path, s.tier, s.name, s.address, \
     s.lng_e6, s.lat_e6, s.host_premises, s.mode, s.operator_org_id, o.name AS operator_name, s.status, \
     s.status_since, s.area_m2, s.rooms, s.staff_count, s.certified_count, s.phone, s.open_hours, \
     s.readiness_pct, s.completion_confirmed_at, s.completion_confirmed_by, s.created_at, s.updated_at \
     FROM stations s JOIN regions r ON r.code = s.region_code \
     LEFT JOIN organizations o ON o.id = s.operator_org_id";

/// Everything a station form or import row sets, parsed.
#[derive(Debug, Clone)]
pub struct StationInput {
    pub tier: Tier,
    pub region: RegionCode,
    pub name: String,
    pub address: String,
    pub lng_e6: Option<i64>,
    pub lat_e6: Option<i64>,
    pub host_premises: String,
    pub mode: Mode,
    pub operator_org_id: Option<String>,
    pub status: Status,
    /// `YYYY-MM-DD`: since when the station has had this status.
    pub status_since: String,
    pub area_m2: i64,
    pub rooms: Vec<Room>,
    pub staff_count: i64,
    pub certified_count: i64,
    pub phone: String,
    pub open_hours: String,
}

/// Checks that need the database: region in scope and of the tier's level, operator visible.
async fn check(conn: &mut AnyConnection, scope: &Scope, input: &StationInput) -> StoreResult<()> {
    let name_len = input.name.trim().chars().count();
    if name_len == 0 || name_len > 100 {
        return Err(FieldError::new("name", "station.name_invalid").into());
    }
    if !scope.contains_region(input.region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    input.tier.check_region(&input.region)?;
    let exists = Sql::new("SELECT COUNT(*) FROM regions WHERE code = ")
        .bind(input.region.as_str())
        .fetch_i64(conn)
        .await?;
    if exists == 0 {
        return Err(FieldError::new("region", "region.unknown").into());
    }
    if input.certified_count > input.staff_count {
        return Err(FieldError::new("certified_count", "station.certified_exceeds_staff").into());
    }
    match (&input.operator_org_id, input.mode) {
        (None, Mode::Purchase) => {
            return Err(FieldError::new("operator", "station.operator_required").into());
        }
        (Some(org), _) => {
            let exists = Sql::new("SELECT COUNT(*) FROM organizations WHERE id = ")
                .bind(org)
                .fetch_i64(conn)
                .await?;
            // An agency manager's stations stay with their own agency.
            if exists == 0 || scope.org.is_some_and(|o| o.to_string() != *org) {
                return Err(FieldError::new("operator", "org.unknown").into());
            }
        }
        (None, Mode::Direct) if scope.org.is_some() => {
            return Err(FieldError::new("operator", "org.unknown").into());
        }
        (None, Mode::Direct) => {}
    }
    Ok(())
}

fn bind_fields(q: &mut Sql, input: &StationInput) {
    q.bind(input.region.as_str()).push(", ");
    q.bind(input.tier.as_str()).push(", ");
    q.bind(input.name.trim()).push(", ");
    q.bind(input.address.trim()).push(", ");
    q.bind(input.lng_e6).push(", ");
    q.bind(input.lat_e6).push(", ");
    q.bind(input.host_premises.trim()).push(", ");
    q.bind(input.mode.as_str()).push(", ");
    q.bind(input.operator_org_id.clone()).push(", ");
    q.bind(input.status.as_str()).push(", ");
    q.bind(input.status_since.as_str()).push(", ");
    q.bind(input.area_m2).push(", ");
    q.bind(rooms_to_string(&input.rooms)).push(", ");
    q.bind(input.staff_count).push(", ");
    q.bind(input.certified_count).push(", ");
    q.bind(input.phone.trim()).push(", ");
    q.bind(input.open_hours.trim());
}

const FIELDS: &str = "region_code, tier, name, address, lng_e6, lat_e6, host_premises, mode, operator_org_id, \
     status, status_since, area_m2, rooms, staff_count, certified_count, phone, open_hours";

#[allow(clippy::too_many_arguments)] // a private insert of one history row
async fn add_status_history(
    conn: &mut AnyConnection,
    id: &str,
    region: &str,
    status: Status,
    on: &str,
    note: &str,
    by: &str,
    now: Millis,
) -> StoreResult<()> {
    Sql::new("INSERT INTO station_status_history (id, station_id, region_code, status, on_date, note, created_by, created_at) VALUES (")
        .bind(new_id()).push(", ").bind(id).push(", ").bind(region).push(", ").bind(status.as_str()).push(", ")
        .bind(on).push(", ").bind(note).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(())
}

async fn open_operator_period(
    conn: &mut AnyConnection,
    id: &str,
    region: &str,
    org: Option<&str>,
    mode: Mode,
    from: &str,
    now: Millis,
) -> StoreResult<()> {
    Sql::new("INSERT INTO station_operators (id, station_id, region_code, org_id, mode, from_date, created_at) VALUES (")
        .bind(new_id()).push(", ").bind(id).push(", ").bind(region).push(", ").bind(org).push(", ")
        .bind(mode.as_str()).push(", ").bind(from).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// A township has one township station (`Tier::one_per_region`) while it is not closed: the
/// station already there, if another (`except`) holds the place. Read across scopes (an agency
/// may not see the township's other station, but the rule is the township's).
pub async fn holding_place(
    conn: &mut AnyConnection,
    tier: Tier,
    region: &str,
    except: Option<&str>,
) -> StoreResult<Option<(String, String)>> {
    if !tier.one_per_region() {
        return Ok(None);
    }
    let mut q = Sql::new("SELECT id, name FROM stations WHERE tier = ");
    q.bind(tier.as_str())
        .push(" AND region_code = ")
        .bind(region)
        .push(" AND status <> ")
        .bind(Status::Closed.as_str());
    if let Some(id) = except {
        q.push(" AND id <> ").bind(id);
    }
    q.push(" ORDER BY created_at LIMIT 1");
    q.fetch_optional(conn).await
}

/// The township stations holding their township (not closed) in the scope's region range, of
/// every operator: (region code, id, name). The importer checks a sheet against them.
pub async fn places_held(
    conn: &mut AnyConnection,
    scope: &Scope,
) -> StoreResult<Vec<(String, String, String)>> {
    let mut q = Sql::new("SELECT region_code, id, name FROM stations WHERE tier = ");
    q.bind(Tier::TownshipStation.as_str())
        .push(" AND status <> ")
        .bind(Status::Closed.as_str())
        .push(" AND ");
    let area = Scope {
        region: scope.region.clone(),
        org: None,
    };
    q.region_range("region_code", &area);
    q.push(" ORDER BY created_at");
    q.fetch_all(conn).await
}

async fn check_place(
    conn: &mut AnyConnection,
    input: &StationInput,
    except: Option<&str>,
) -> StoreResult<()> {
    if !input.status.holds_place() || !input.tier.one_per_region() {
        return Ok(());
    }
    if conn.backend_name() == "PostgreSQL" {
        // Two stations created at once for one township: the township's row serialises them
        // (SQLite has one writer).
        Sql::new("SELECT code FROM regions WHERE code = ")
            .bind(input.region.as_str())
            .push(" FOR UPDATE")
            .fetch_optional::<(String,)>(conn)
            .await?;
    }
    if holding_place(conn, input.tier, input.region.as_str(), except)
        .await?
        .is_some()
    {
        return Err(FieldError::new("region", "station.township_taken").into());
    }
    Ok(())
}

pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &StationInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    check(conn, scope, input).await?;
    let dup = Sql::new("SELECT COUNT(*) FROM stations WHERE region_code = ")
        .bind(input.region.as_str())
        .push(" AND name = ")
        .bind(input.name.trim())
        .fetch_i64(conn)
        .await?;
    if dup > 0 {
        return Err(FieldError::new("name", "station.name_taken").into());
    }
    check_place(conn, input, None).await?;
    let id = new_id();
    let mut q = Sql::new("INSERT INTO stations (id, ");
    q.push(FIELDS)
        .push(", readiness_pct, created_at, updated_at) VALUES (")
        .bind(&id)
        .push(", ");
    bind_fields(&mut q, input);
    q.push(", 0, ").bind(now).push(", ").bind(now).push(")");
    q.execute(conn).await?;
    add_status_history(
        conn,
        &id,
        input.region.as_str(),
        input.status,
        &input.status_since,
        "",
        by,
        now,
    )
    .await?;
    open_operator_period(
        conn,
        &id,
        input.region.as_str(),
        input.operator_org_id.as_deref(),
        input.mode,
        &input.status_since,
        now,
    )
    .await?;
    station_changed(conn, &id, input.region.as_str()).await?;
    Ok(id)
}

/// Change a station in scope. Status changes must follow the lifecycle and are kept as history;
/// a new operator or mode closes the previous operator period. Returns the station before.
pub async fn update(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    input: &StationInput,
    by: &str,
    today: &str,
    now: Millis,
) -> StoreResult<Station> {
    let before = get(conn, scope, id).await?;
    check(conn, scope, input).await?;
    if before.name != input.name.trim() || before.region_code != input.region.as_str() {
        let dup = Sql::new("SELECT COUNT(*) FROM stations WHERE region_code = ")
            .bind(input.region.as_str())
            .push(" AND name = ")
            .bind(input.name.trim())
            .push(" AND id <> ")
            .bind(id)
            .fetch_i64(conn)
            .await?;
        if dup > 0 {
            return Err(FieldError::new("name", "station.name_taken").into());
        }
    }
    check_place(conn, input, Some(id)).await?;
    let old_status = before.status;
    if old_status != input.status && !old_status.can_become(input.status) {
        return Err(FieldError::new("status", "station.status_transition").into());
    }
    // A station being built becomes operating only when the supervising administrator
    // confirms completion (`confirm_completion`), not by editing its status.
    if old_status.reports_progress() && input.status == Status::Operating {
        return Err(FieldError::new("status", "station.confirm_required").into());
    }
    let mut q = Sql::new("UPDATE stations SET (");
    q.push(FIELDS).push(", updated_at) = (");
    bind_fields(&mut q, input);
    q.push(", ").bind(now).push(") WHERE id = ").bind(id);
    q.execute(conn).await?;
    if old_status != input.status {
        add_status_history(
            conn,
            id,
            input.region.as_str(),
            input.status,
            &input.status_since,
            "",
            by,
            now,
        )
        .await?;
    }
    if before.operator_org_id != input.operator_org_id || before.mode != input.mode {
        Sql::new("UPDATE station_operators SET to_date = ")
            .bind(today)
            .push(" WHERE station_id = ")
            .bind(id)
            .push(" AND to_date IS NULL")
            .execute(conn)
            .await?;
        open_operator_period(
            conn,
            id,
            input.region.as_str(),
            input.operator_org_id.as_deref(),
            input.mode,
            today,
            now,
        )
        .await?;
    }
    if before.region_code != input.region.as_str() {
        let counted = counters::contribution(conn, &[counters::Subject::Station(id)]).await?;
        move_children(conn, id, input.region.as_str()).await?;
        station_changed(conn, id, input.region.as_str()).await?;
        counters::changed(conn, &[counters::Subject::Station(id)], counted).await?;
    }
    Ok(before)
}

/// Rows that belong to a station carry its region (for scoping and distribution): when the
/// station moves, they move with it in the same transaction, so the old area loses access.
async fn move_children(conn: &mut AnyConnection, id: &str, region: &str) -> StoreResult<()> {
    for update in [
        "UPDATE station_status_history SET region_code = ",
        "UPDATE station_operators SET region_code = ",
        "UPDATE station_funding SET region_code = ",
        "UPDATE station_services SET region_code = ",
        "UPDATE station_assessments SET region_code = ",
        "UPDATE progress_reports SET region_code = ",
        "UPDATE inspection_visits SET region_code = ",
        "UPDATE rectifications SET region_code = ",
    ] {
        Sql::new(update)
            .bind(region)
            .push(" WHERE station_id = ")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Sql::new("UPDATE attachments SET region_code = ")
        .bind(region)
        .push(" WHERE owner_kind = 'station' AND owner_id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// What follows a station's creation or move, in the same transaction: its staff take its region
/// and its readiness is recomputed against the checklist that applies there. The one place where
/// a station change reaches into other modules (they read stations through `station_scope`).
async fn station_changed(conn: &mut AnyConnection, id: &str, region: &str) -> StoreResult<()> {
    crate::workforce::staff::follow_station(conn, id, region).await?;
    crate::network::indicators::recompute_station(conn, id).await?;
    Ok(())
}

/// The supervising administrator confirms construction is complete: the station is operating.
pub async fn confirm_completion(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    by: &str,
    today: &str,
    now: Millis,
) -> StoreResult<Station> {
    let before = get(conn, scope, id).await?;
    if !before.status.reports_progress() {
        return Err(FieldError::new("status", "station.not_under_construction").into());
    }
    Sql::new("UPDATE stations SET status = 'operating', status_since = ")
        .bind(today)
        .push(", completion_confirmed_at = ")
        .bind(now)
        .push(", completion_confirmed_by = ")
        .bind(by)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    add_status_history(
        conn,
        id,
        &before.region_code,
        Status::Operating,
        today,
        "completion confirmed",
        by,
        now,
    )
    .await?;
    Ok(before)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Station> {
    let mut q = scoped_from(SELECT, scope);
    q.push(" AND s.id = ").bind(id);
    q.fetch_one(conn).await
}

/// The natural key (township + name) used for idempotent imports.
pub async fn find_by_key(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &str,
    name: &str,
) -> StoreResult<Option<Station>> {
    let mut q = scoped_from(SELECT, scope);
    q.push(" AND s.region_code = ")
        .bind(region)
        .push(" AND s.name = ")
        .bind(name.trim());
    q.fetch_optional(conn).await
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub q: Option<String>,
    pub region: Option<String>,
    pub tier: Option<String>,
    pub status: Option<String>,
    pub mode: Option<String>,
    pub operator: Option<String>,
    /// A key of `SORTS`; none is the default order (by region, then name).
    pub sort: Option<crate::Sort>,
    /// Only these stations (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders a station list offers (key, column; `DESC`: the most first).
pub const SORTS: &[(&str, &str)] = &[
    ("region", "s.region_code"),
    ("name", "s.name"),
    ("tier", "s.tier"),
    ("status", "s.status"),
    ("staff", "s.staff_count DESC"),
    ("readiness", "s.readiness_pct DESC"),
    ("updated", "s.updated_at DESC"),
];

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = scoped_from(select, scope);
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["s.name", "s.address"], text);
    }
    if let Some(region) = f.region.as_deref().filter(|s| !s.is_empty()) {
        let sub = Scope {
            region: Scope::parse_region(region).ok().flatten(),
            org: None,
        };
        q.push(" AND ");
        q.region_range("s.region_code", &sub);
    }
    for (col, v) in [
        ("s.tier", &f.tier),
        ("s.status", &f.status),
        ("s.mode", &f.mode),
        ("s.operator_org_id", &f.operator),
    ] {
        if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND ").push(col).push(" = ").bind(v);
        }
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("s.id", ids);
    }
    q
}

pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Station>> {
    let mut q = filtered(scope, f, SELECT);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "s.id")) {
        q.push(" ORDER BY s.region_code, s.name, s.id");
    }
    q.fetch_page(
        conn,
        &filtered(scope, f, "SELECT COUNT(*) FROM stations s"),
        page,
    )
    .await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StatusChange {
    pub status: String,
    pub on_date: String,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
}

pub async fn status_history(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<StatusChange>> {
    get(conn, scope, id).await?;
    Sql::new("SELECT status, on_date, note, created_by, created_at FROM station_status_history WHERE station_id = ")
        .bind(id).push(" ORDER BY on_date, created_at")
        .fetch_all(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OperatorPeriod {
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub mode: String,
    pub from_date: String,
    pub to_date: Option<String>,
}

pub async fn operator_history(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<OperatorPeriod>> {
    get(conn, scope, id).await?;
    Sql::new("SELECT p.org_id, o.name AS org_name, p.mode, p.from_date, p.to_date FROM station_operators p \
              LEFT JOIN organizations o ON o.id = p.org_id WHERE p.station_id = ")
        .bind(id).push(" ORDER BY p.from_date, p.created_at")
        .fetch_all(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Funding {
    pub year: i64,
    pub source: String,
    pub amount_fen: i64,
}

pub async fn funding(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<Funding>> {
    get(conn, scope, id).await?;
    Sql::new("SELECT year, source, amount_fen FROM station_funding WHERE station_id = ")
        .bind(id)
        .push(" ORDER BY year DESC, source")
        .fetch_all(conn)
        .await
}

/// Set (or with 0, keep at 0) a year's amount from one source. Returns the amount before.
pub async fn set_funding(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    year: i64,
    source: FundingSource,
    amount_fen: i64,
    now: Millis,
) -> StoreResult<Option<i64>> {
    let st = get(conn, scope, id).await?;
    if !(2000..=2100).contains(&year) {
        return Err(FieldError::new("year", "station.year_invalid").into());
    }
    if amount_fen < 0 {
        return Err(FieldError::new("amount", "station.amount_negative").into());
    }
    let before: Option<(i64,)> =
        Sql::new("SELECT amount_fen FROM station_funding WHERE station_id = ")
            .bind(id)
            .push(" AND year = ")
            .bind(year)
            .push(" AND source = ")
            .bind(source.as_str())
            .fetch_optional(conn)
            .await?;
    let counted = counters::contribution(conn, &[counters::Subject::Station(id)]).await?;
    Sql::new("INSERT INTO station_funding (id, station_id, region_code, year, source, amount_fen, updated_at) VALUES (")
        .bind(new_id()).push(", ").bind(id).push(", ").bind(&st.region_code).push(", ").bind(year).push(", ")
        .bind(source.as_str()).push(", ").bind(amount_fen).push(", ").bind(now)
        .push(") ON CONFLICT (station_id, year, source) DO UPDATE SET amount_fen = excluded.amount_fen, updated_at = excluded.updated_at")
        .execute(conn).await?;
    counters::changed(conn, &[counters::Subject::Station(id)], counted).await?;
    Ok(before.map(|(a,)| a))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ServiceItem {
    pub id: String,
    pub region_code: String,
    pub domain: String,
    pub name: String,
    pub sort: i64,
    pub active: i64,
}

/// Service items that apply to a region: those defined at it or any region above it.
pub async fn service_items_for(
    conn: &mut AnyConnection,
    region: &str,
) -> StoreResult<Vec<ServiceItem>> {
    Sql::new("SELECT id, region_code, domain, name, sort, active FROM service_items WHERE active = 1 AND SUBSTR(")
        .bind(region).push(", 1, LENGTH(region_code)) = region_code ORDER BY domain, sort, name")
        .fetch_all(conn).await
}

/// Service items defined inside the scope (for the catalogue page).
pub async fn service_items_defined(
    conn: &mut AnyConnection,
    scope: &Scope,
) -> StoreResult<Vec<ServiceItem>> {
    let mut q =
        Sql::new("SELECT id, region_code, domain, name, sort, active FROM service_items WHERE (");
    q.region_range("region_code", scope);
    q.push(") OR SUBSTR(")
        .bind(scope.prefix())
        .push(", 1, LENGTH(region_code)) = region_code ORDER BY region_code, domain, sort, name");
    q.fetch_all(conn).await
}

pub async fn add_service_item(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &str,
    domain: shegong_domain::network::station::ServiceDomain,
    name: &str,
    now: Millis,
) -> StoreResult<String> {
    if !scope.contains_region(region) || scope.org.is_some() {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "service.name_invalid").into());
    }
    let dup = Sql::new("SELECT COUNT(*) FROM service_items WHERE region_code = ")
        .bind(region)
        .push(" AND name = ")
        .bind(name)
        .fetch_i64(conn)
        .await?;
    if dup > 0 {
        return Err(FieldError::new("name", "service.name_taken").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO service_items (id, region_code, domain, name, sort, active, created_at) VALUES (")
        .bind(&id).push(", ").bind(region).push(", ").bind(domain.as_str()).push(", ").bind(name).push(", 0, 1, ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

/// The station's services (ids of applicable items it offers).
pub async fn services(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<String>> {
    get(conn, scope, id).await?;
    let rows: Vec<(String,)> = Sql::new("SELECT item_id FROM station_services WHERE station_id = ")
        .bind(id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(i,)| i).collect())
}

/// Replace the station's services with `items` (each must apply to the station's region).
pub async fn set_services(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    items: &[String],
) -> StoreResult<Vec<String>> {
    let st = get(conn, scope, id).await?;
    let applicable: Vec<String> = service_items_for(conn, &st.region_code)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    if items.iter().any(|i| !applicable.contains(i)) {
        return Err(FieldError::new("services", "service.not_applicable").into());
    }
    let before = services(conn, scope, id).await?;
    Sql::new("DELETE FROM station_services WHERE station_id = ")
        .bind(id)
        .execute(conn)
        .await?;
    for item in items {
        Sql::new("INSERT INTO station_services (station_id, item_id, region_code) VALUES (")
            .bind(id)
            .push(", ")
            .bind(item)
            .push(", ")
            .bind(&st.region_code)
            .push(")")
            .execute(conn)
            .await?;
    }
    Ok(before)
}

/// Which of `ids` are run by a social work agency under purchase of services (mode `purchase`),
/// as they are run now: the 五社 view's social organisations. Only ids given come back, so a
/// caller passing ids it may see learns nothing more.
pub async fn run_by_agencies(conn: &mut AnyConnection, ids: &[String]) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let mut q = Sql::new("SELECT id FROM stations WHERE mode = 'purchase' AND id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(id.as_str());
        }
        q.push(")");
        let rows: Vec<(String,)> = q.fetch_all(conn).await?;
        out.extend(rows.into_iter().map(|(id,)| id));
    }
    Ok(out)
}
