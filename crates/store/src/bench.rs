//! What `shegong bench` measures against: the dashboard's figures by a grouped scan of the raw
//! tables (what a dashboard without counters would do), the database's own single-row durable
//! commit rate, and a count to check an import through the pages wrote every row.

use shegong_domain::Scope;
use sqlx::AnyConnection;

use crate::StoreResult;
use crate::sql::Sql;

/// The dashboard's main figures for `scope` by grouped scans of the raw tables: service records
/// served from `from_day` to `to_day` by month and kind, those from `from_day` on per sub-region
/// (codes of `child_len` characters), and active residents by risk tier. Returns the rows read.
pub async fn dashboard_by_scan(
    conn: &mut AnyConnection,
    scope: &Scope,
    child_len: i64,
    from_day: &str,
    to_day: &str,
) -> StoreResult<usize> {
    let mut months = Sql::new(
        "SELECT SUBSTR(served_on, 1, 7), kind, COUNT(*), CAST(SUM(person_times) AS BIGINT) FROM services WHERE ",
    );
    months
        .region_range("region_code", scope)
        .push(" AND served_on >= ")
        .bind(from_day)
        .push(" AND served_on <= ")
        .bind(to_day)
        .push(" GROUP BY SUBSTR(served_on, 1, 7), kind");
    let months = months
        .fetch_all::<(String, String, i64, Option<i64>)>(conn)
        .await?;
    // The length is cast: PostgreSQL has no SUBSTR(text, int, bigint). Grouped by position, as
    // the two placeholders of one expression would not match.
    let mut regions = Sql::new("SELECT SUBSTR(region_code, 1, CAST(");
    regions
        .bind(child_len)
        .push(" AS INTEGER)), COUNT(*) FROM services WHERE ")
        .region_range("region_code", scope)
        .push(" AND served_on >= ")
        .bind(from_day)
        .push(" GROUP BY 1");
    let regions = regions.fetch_all::<(String, i64)>(conn).await?;
    let mut tiers =
        Sql::new("SELECT risk_tier, COUNT(*) FROM residents WHERE status = 'active' AND ");
    tiers
        .region_range("region_code", scope)
        .push(" GROUP BY risk_tier");
    let tiers = tiers.fetch_all::<(String, i64)>(conn).await?;
    Ok(months.len() + regions.len() + tiers.len())
}

/// A table of its own for the raw commit-rate probe (the bench's database is a throw-away one).
pub async fn create_commit_probe(conn: &mut AnyConnection) -> StoreResult<()> {
    Sql::new("CREATE TABLE bench_commit (id TEXT PRIMARY KEY, v BIGINT NOT NULL)")
        .execute(conn)
        .await?;
    Ok(())
}

/// One row into the probe table (the caller commits it alone).
pub async fn insert_commit_probe(conn: &mut AnyConnection, id: &str, v: i64) -> StoreResult<()> {
    Sql::new("INSERT INTO bench_commit (id, v) VALUES (")
        .bind(id)
        .push(", ")
        .bind(v)
        .push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// Residents whose record was created by `created_by` (a username or a generator's name).
pub async fn count_residents_created_by(
    conn: &mut AnyConnection,
    created_by: &str,
) -> StoreResult<i64> {
    Sql::new("SELECT COUNT(*) FROM residents WHERE created_by = ")
        .bind(created_by)
        .fetch_i64(conn)
        .await
}

/// Where [`copy_residents`] writes: the residents table itself, with every index it has, or
/// [`create_bare_residents`]'s copy with its two unique indexes only.
#[derive(Debug, Clone, Copy)]
pub enum CopyInto {
    Residents,
    Bare,
}

impl CopyInto {
    fn table(self) -> &'static str {
        match self {
            CopyInto::Residents => "residents",
            CopyInto::Bare => "bench_residents_bare",
        }
    }

    /// Marks the copies' ids and hashes apart from the originals' and from the other table's
    /// copies (the bare table starts as a copy of residents, earlier copies included).
    fn tag(self, chunk: i64) -> String {
        match self {
            CopyInto::Residents => format!("r{chunk:06}-"),
            CopyInto::Bare => format!("b{chunk:06}-"),
        }
    }
}

/// The residents table's rows without its secondary indexes: only the id and the identity-number
/// hash stay unique (the two indexes no write of a resident can do without).
pub async fn create_bare_residents(conn: &mut AnyConnection) -> StoreResult<()> {
    for sql in [
        "CREATE TABLE bench_residents_bare AS SELECT * FROM residents",
        "CREATE UNIQUE INDEX bench_residents_bare_id ON bench_residents_bare (id)",
        "CREATE UNIQUE INDEX bench_residents_bare_hash ON bench_residents_bare (id_number_hash)",
    ] {
        Sql::new(sql).execute(conn).await?;
    }
    Ok(())
}

/// The engine's own rate for rows of the import's shape: the `chunk`-th slice of `rows` residents
/// on file (by id) copied into `into` within the database (`INSERT … SELECT`: nothing crosses to
/// the client), under new ids that sort after every existing one (as new UUIDv7 ids do) and new
/// identity hashes, with the same names, birth dates and regions, so every index is written
/// where an import's rows would land. No checks, sealing, counters or statement building: the
/// most an import could reach. The caller commits each chunk alone (durably, as an import does).
pub async fn copy_residents(
    conn: &mut AnyConnection,
    into: CopyInto,
    chunk: i64,
    rows: i64,
) -> StoreResult<u64> {
    let mut q = Sql::new("INSERT INTO ");
    q.push(into.table()).push(
        " (id, region_code, name, name_key, id_type, id_number_sealed, id_number_hash, sex, birth_date, \
         ethnicity, address_sealed, phone_sealed, guardian_name, guardian_phone_sealed, risk_tier, legal_basis, \
         consent_on, protected, station_id, worker_user_id, status, visit_interval_days, next_visit_due, \
         registered_on, created_by, created_at, updated_at) \
         SELECT 'zz' || src.tag || src.id, src.region_code, src.name, src.name_key, src.id_type, src.id_number_sealed, \
           src.id_number_hash || src.tag, src.sex, src.birth_date, src.ethnicity, src.address_sealed, src.phone_sealed, \
           src.guardian_name, src.guardian_phone_sealed, src.risk_tier, src.legal_basis, src.consent_on, src.protected, \
           src.station_id, src.worker_user_id, src.status, src.visit_interval_days, src.next_visit_due, \
           src.registered_on, 'engine_copy', src.created_at, src.updated_at \
         FROM (SELECT ",
    );
    q.push("CAST(")
        .bind(into.tag(chunk))
        .push(" AS TEXT) AS tag, r.* FROM residents r WHERE r.id < 'zz' ORDER BY r.id LIMIT ")
        .bind(rows)
        .push(" OFFSET ")
        .bind(chunk * rows)
        .push(") src");
    q.execute(conn).await
}
