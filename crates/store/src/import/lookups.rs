//! Look-ups for a whole sheet at once: every identity hash, station or staff id of the sheet in
//! a few queries instead of one per row. Lists longer than [`CHUNK`] are asked in chunks.

use std::collections::{HashMap, HashSet};

use shegong_domain::{RegionLevel, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Backend, StoreResult};

/// Values bound per query: SQLite's cost per parameter grows with their number (see `Sql`).
const CHUNK: usize = 300;

/// A region by which imports resolve names: (code, name, path names "省/市/县/…").
pub type RegionName = (String, String, String);

/// The regions of one level inside the scope, to resolve the names a sheet gives.
pub async fn regions(
    conn: &mut AnyConnection,
    scope: &Scope,
    level: RegionLevel,
) -> StoreResult<Vec<RegionName>> {
    let mut q = Sql::new("SELECT code, name, path_names FROM regions WHERE level = ");
    q.bind(level.as_str()).push(" AND ");
    q.region_range("code", scope);
    q.fetch_all(conn).await
}

/// `head` followed by `column IN (values…)`, chunked; rows of every chunk.
async fn in_chunks<T>(
    conn: &mut AnyConnection,
    head: impl Fn() -> Sql,
    column: &'static str,
    values: &[String],
) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut out = Vec::new();
    for chunk in values.chunks(CHUNK) {
        let mut q = head();
        q.push(" AND ").push(column).push(" IN (");
        for (i, v) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(v.as_str());
        }
        q.push(")");
        out.extend(q.fetch_all::<T>(conn).await?);
    }
    Ok(out)
}

/// Each station's funding entries of `year`: station id → amounts in fen.
pub async fn funding_of_year(
    conn: &mut AnyConnection,
    station_ids: &[String],
    year: i64,
) -> StoreResult<HashMap<String, Vec<i64>>> {
    let rows: Vec<(String, i64)> = in_chunks(
        conn,
        || {
            let mut q =
                Sql::new("SELECT station_id, amount_fen FROM station_funding WHERE year = ");
            q.bind(year);
            q
        },
        "station_id",
        station_ids,
    )
    .await?;
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for (id, fen) in rows {
        out.entry(id).or_default().push(fen);
    }
    Ok(out)
}

/// Staff records by identity hash: (hash, staff id), anywhere when `scope` is `None`, else
/// those the scope sees (as `staff::find_by_id_number`).
pub async fn staff_by_id_hash(
    conn: &mut AnyConnection,
    scope: Option<&Scope>,
    hashes: &[String],
) -> StoreResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> = in_chunks(
        conn,
        || {
            let mut q = Sql::new("SELECT p.id_number_hash, p.id FROM staff p WHERE ");
            match scope {
                Some(scope) => {
                    q.region_range("p.region_code", scope);
                    if let Some(org) = scope.org {
                        q.push(" AND p.employer_org_id = ").bind(org.to_string());
                    }
                }
                None => {
                    q.push("1 = 1");
                }
            }
            q
        },
        "p.id_number_hash",
        hashes,
    )
    .await?;
    Ok(rows.into_iter().collect())
}

/// Volunteers by identity hash: (hash, (volunteer id, region code)) — anywhere, whatever the
/// reader's scope: one registration per person, and the importer says where it is.
pub async fn volunteers_by_id_hash(
    conn: &mut AnyConnection,
    hashes: &[String],
) -> StoreResult<HashMap<String, (String, String)>> {
    let rows: Vec<(String, String, String)> = in_chunks(
        conn,
        || Sql::new("SELECT v.id_number_hash, v.id, v.region_code FROM volunteers v WHERE 1 = 1"),
        "v.id_number_hash",
        hashes,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(h, id, region)| (h, (id, region)))
        .collect())
}

/// The certificate levels each staff member holds: staff id → levels.
pub async fn certificate_levels(
    conn: &mut AnyConnection,
    staff_ids: &[String],
) -> StoreResult<HashMap<String, Vec<String>>> {
    let rows: Vec<(String, String)> = in_chunks(
        conn,
        || Sql::new("SELECT staff_id, level FROM certificates WHERE 1 = 1"),
        "staff_id",
        staff_ids,
    )
    .await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (id, level) in rows {
        out.entry(id).or_default().push(level);
    }
    Ok(out)
}

/// Which of these identity hashes a resident file already carries, whatever its scope or status.
pub async fn resident_id_hashes(
    conn: &mut AnyConnection,
    hashes: &[String],
) -> StoreResult<HashSet<String>> {
    let rows: Vec<(String,)> = in_chunks(
        conn,
        || Sql::new("SELECT id_number_hash FROM residents WHERE 1 = 1"),
        "id_number_hash",
        hashes,
    )
    .await?;
    Ok(rows.into_iter().map(|(h,)| h).collect())
}

/// Which of these credit codes, and which of these names (with their registration region),
/// organisations anywhere already carry: `orgs::create_full`'s uniqueness, for a whole sheet.
pub async fn org_keys_taken(
    conn: &mut AnyConnection,
    usccs: &[String],
    names: &[String],
) -> StoreResult<(HashSet<String>, HashSet<(String, String)>)> {
    let codes: Vec<(String,)> = in_chunks(
        conn,
        || Sql::new("SELECT uscc FROM organizations WHERE 1 = 1"),
        "uscc",
        usccs,
    )
    .await?;
    let named: Vec<(String, String)> = in_chunks(
        conn,
        || Sql::new("SELECT region_code, name FROM organizations WHERE 1 = 1"),
        "name",
        names,
    )
    .await?;
    Ok((
        codes.into_iter().map(|(c,)| c).collect(),
        named.into_iter().collect(),
    ))
}

/// The names of every region of one level, whatever the scope: so that a sheet naming a
/// region outside the importer's scope is told so rather than "not found".
pub async fn region_names_anywhere(
    conn: &mut AnyConnection,
    level: RegionLevel,
) -> StoreResult<Vec<String>> {
    let mut q = Sql::new("SELECT DISTINCT name FROM regions WHERE level = ");
    q.bind(level.as_str());
    q.fetch_all::<(String,)>(conn)
        .await
        .map(|rows| rows.into_iter().map(|(n,)| n).collect())
}

/// How many writes `residents` has had (migration 0039: every inserting, updating or deleting
/// statement on PostgreSQL, every row on SQLite, counted in the writing transaction). Two equal
/// answers mean no resident was written in between, by any code path: what was read from
/// `residents` between them is what is there now.
pub async fn resident_writes(conn: &mut AnyConnection) -> StoreResult<i64> {
    Sql::new("SELECT CAST(COALESCE(SUM(weight), 0) AS BIGINT) FROM resident_writes")
        .fetch_i64(conn)
        .await
}

/// PostgreSQL: fold the rows of `resident_writes` into one of the same total (the sum never
/// goes back, so [`resident_writes`] stays exact); SQLite keeps one row anyway.
pub async fn fold_resident_writes(conn: &mut AnyConnection, backend: Backend) -> StoreResult<()> {
    if backend == Backend::Postgres {
        Sql::new(
            "WITH gone AS (DELETE FROM resident_writes RETURNING weight) \
             INSERT INTO resident_writes (weight) SELECT COALESCE(SUM(weight), 0) FROM gone",
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}
