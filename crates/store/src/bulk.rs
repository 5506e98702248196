//! Loading generated data in bulk (`shegong demo generate`, `shegong bench`): whether a database
//! is still empty, the townships to fill, and multi-row inserts of residents and service records.
//! The inserts bypass the per-record paths (no audit entry, no counters, no visit schedule), as a
//! migration would; the caller rebuilds the statistics counters afterwards.

use shegong_domain::Scope;
use sqlx::AnyConnection;

use crate::StoreResult;
use crate::crypto::KeyRing;
use crate::people::residents::ID_FIELD;
use crate::sql::Sql;

/// Rows per statement: about 10,000 parameters at most (binding is linear, see `Sql`).
const RESIDENT_ROWS: usize = 400;
const SERVICE_ROWS: usize = 400;

/// Refresh the planner's statistics after a bulk load, as autovacuum (PostgreSQL) or `PRAGMA
/// optimize` would in time: without them PostgreSQL plans the duplicate look-ups and the
/// counters' fold against an empty table's estimates. On PostgreSQL also `VACUUM`: until the
/// loaded pages are marked all-visible, an index-only scan (the lists' pages and counts) visits
/// the table for every entry it reads. `VACUUM` cannot run in a transaction: it runs on a
/// connection of its own.
pub async fn analyze(db: &crate::Db) -> StoreResult<()> {
    if db.backend() == crate::Backend::Postgres {
        let mut conn = db.dedicated().await?;
        Sql::new("VACUUM (ANALYZE)").execute(&mut conn).await?;
        return Ok(());
    }
    let mut tx = db.begin().await?;
    Sql::new("ANALYZE").execute(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the database holds any station (a generator fills only an empty database).
pub async fn has_stations(conn: &mut AnyConnection) -> StoreResult<bool> {
    Ok(Sql::new("SELECT COUNT(*) FROM stations")
        .fetch_i64(conn)
        .await?
        > 0)
}

/// The townships in `scope` as (code, name), in code order.
pub async fn townships(
    conn: &mut AnyConnection,
    scope: &Scope,
) -> StoreResult<Vec<(String, String)>> {
    let mut q = Sql::new("SELECT code, name FROM regions WHERE level = 'township' AND ");
    q.region_range("code", scope).push(" ORDER BY code");
    q.fetch_all(conn).await
}

/// An active resident with one category membership, identity number in clear (sealed here).
pub struct NewResident<'a> {
    pub id: String,
    pub region_code: String,
    pub name: String,
    pub id_number: String,
    pub sex: &'a str,
    pub birth_date: String,
    pub ethnicity: &'a str,
    pub risk_tier: &'a str,
    pub legal_basis: &'a str,
    pub station_id: String,
    pub visit_interval_days: i64,
    pub next_visit_due: String,
    pub registered_on: &'a str,
    pub created_by: &'a str,
    pub created_at: i64,
    pub membership_id: String,
    pub category: &'a str,
    pub membership_source: &'a str,
    /// When the membership row was written.
    pub membership_created_at: i64,
}

/// Insert residents and their memberships, a statement per `RESIDENT_ROWS`.
pub async fn insert_residents(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    rows: &[NewResident<'_>],
) -> StoreResult<()> {
    for batch in rows.chunks(RESIDENT_ROWS) {
        residents_statement(keys, batch).execute(&mut *conn).await?;
        memberships_statement(batch).execute(&mut *conn).await?;
        let names: Vec<(&str, &str, &str)> = batch
            .iter()
            .map(|r| (r.id.as_str(), r.region_code.as_str(), r.name.as_str()))
            .collect();
        crate::people::name_chars::insert(conn, &names).await?;
    }
    Ok(())
}

fn residents_statement(keys: &KeyRing, batch: &[NewResident<'_>]) -> Sql {
    let mut q = Sql::new(
        "INSERT INTO residents (id, region_code, name, name_key, id_type, id_number_sealed, id_number_hash, sex, birth_date, ethnicity, \
         risk_tier, legal_basis, station_id, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES ",
    );
    for (i, r) in batch.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" })
            .bind(r.id.as_str())
            .push(", ")
            .bind(r.region_code.as_str())
            .push(", ")
            .bind(r.name.as_str())
            .push(", ")
            .bind(shegong_domain::people::name_key(&r.name))
            .push(", 'resident_id', ")
            .bind(keys.seal(ID_FIELD, &r.id_number))
            .push(", ")
            .bind(keys.lookup_hash(ID_FIELD, &r.id_number))
            .push(", ")
            .bind(r.sex)
            .push(", ")
            .bind(r.birth_date.as_str())
            .push(", ")
            .bind(r.ethnicity)
            .push(", ")
            .bind(r.risk_tier)
            .push(", ")
            .bind(r.legal_basis)
            .push(", ")
            .bind(r.station_id.as_str())
            .push(", 'active', ")
            .bind(r.visit_interval_days)
            .push(", ")
            .bind(r.next_visit_due.as_str())
            .push(", ")
            .bind(r.registered_on)
            .push(", ")
            .bind(r.created_by)
            .push(", ")
            .bind(r.created_at)
            .push(", ")
            .bind(r.created_at)
            .push(")");
    }
    q
}

fn memberships_statement(batch: &[NewResident<'_>]) -> Sql {
    let mut m = Sql::new(
        "INSERT INTO resident_memberships (id, resident_id, region_code, category, source, valid_from, created_by, created_at) VALUES ",
    );
    for (i, r) in batch.iter().enumerate() {
        m.push(if i == 0 { "(" } else { ", (" })
            .bind(r.membership_id.as_str())
            .push(", ")
            .bind(r.id.as_str())
            .push(", ")
            .bind(r.region_code.as_str())
            .push(", ")
            .bind(r.category)
            .push(", ")
            .bind(r.membership_source)
            .push(", ")
            .bind(r.registered_on)
            .push(", ")
            .bind(r.created_by)
            .push(", ")
            .bind(r.membership_created_at)
            .push(")");
    }
    m
}

/// A service record for one resident.
pub struct NewService<'a> {
    pub id: String,
    pub region_code: String,
    pub station_id: String,
    pub kind: &'a str,
    pub domain: &'a str,
    pub resident_id: String,
    pub served_on: String,
    pub duration_minutes: i64,
    pub person_times: i64,
    pub method: Option<&'a str>,
    pub value_fen: i64,
    pub workers: &'a str,
    pub created_by: &'a str,
    pub created_at: i64,
}

/// Insert service records, a statement per `SERVICE_ROWS`.
pub async fn insert_services(conn: &mut AnyConnection, rows: &[NewService<'_>]) -> StoreResult<()> {
    for batch in rows.chunks(SERVICE_ROWS) {
        let mut q = Sql::new(
            "INSERT INTO services (id, region_code, station_id, kind, domain, resident_id, served_on, duration_minutes, person_times, method, value_fen, workers, created_by, created_at) VALUES ",
        );
        for (i, s) in batch.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(s.id.as_str())
                .push(", ")
                .bind(s.region_code.as_str())
                .push(", ")
                .bind(s.station_id.as_str())
                .push(", ")
                .bind(s.kind)
                .push(", ")
                .bind(s.domain)
                .push(", ")
                .bind(s.resident_id.as_str())
                .push(", ")
                .bind(s.served_on.as_str())
                .push(", ")
                .bind(s.duration_minutes)
                .push(", ")
                .bind(s.person_times)
                .push(", ")
                .bind(s.method)
                .push(", ")
                .bind(s.value_fen)
                .push(", ")
                .bind(s.workers)
                .push(", ")
                .bind(s.created_by)
                .push(", ")
                .bind(s.created_at)
                .push(")");
        }
        q.execute(conn).await?;
    }
    Ok(())
}
