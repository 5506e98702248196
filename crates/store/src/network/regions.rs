//! The administrative region tree (NBS 2023 统计用区划代码).
//!
//! Province → township ship inside the binary and load on first start; villages are imported
//! from `assets/regions/villages.csv.gz` on demand. Reads are scoped: a user sees the subtree of
//! their scope region and nothing else.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

use flate2::read::GzDecoder;
use serde::Serialize;
use shegong_domain::network::region::display_path;
use shegong_domain::{RegionCode, RegionKind, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Db, StoreError, StoreResult, dialect};

/// The edition of the embedded data.
pub const VINTAGE: i64 = 2023;
const EMBEDDED: &[u8] = include_bytes!("../../data/regions-2023.tsv.gz");
const BATCH: usize = 500;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: String,
    pub kind: String,
    pub parent_code: Option<String>,
    /// Names from the province down, '/'-separated, pseudo-prefectures included.
    pub path_names: String,
    pub child_count: i64,
    pub vintage: i64,
    pub retired_vintage: Option<i64>,
}

impl Region {
    pub fn path(&self) -> Vec<&str> {
        self.path_names.split('/').collect()
    }

    /// The path as shown to people: "湖南省 / 株洲市 / 芦淞区 / 贺家土街道".
    pub fn display_path(&self) -> String {
        display_path(self.path())
    }

    pub fn kind(&self) -> Option<RegionKind> {
        RegionKind::parse(&self.kind)
    }
}

const COLUMNS: &str =
    "code, name, level, kind, parent_code, path_names, child_count, vintage, retired_vintage";

struct NewRegion {
    code: RegionCode,
    name: String,
}

/// Insert regions whose parents exist or come earlier in `rows`, computing level, kind, path
/// and child counts. Existing codes are left as they are (re-import is idempotent).
async fn insert_regions(db: &Db, rows: Vec<NewRegion>) -> StoreResult<usize> {
    let mut tx = db.begin().await?;
    // Path names of parents: from this batch or from the table.
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    let mut parent_codes: Vec<String> = rows
        .iter()
        .filter_map(|r| r.code.parent().map(|p| p.to_string()))
        .collect();
    parent_codes.sort();
    parent_codes.dedup();
    for chunk in parent_codes.chunks(BATCH) {
        let mut q = Sql::new("SELECT code, path_names FROM regions WHERE code IN (");
        for (i, c) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(c);
        }
        q.push(")");
        for (code, path) in q.fetch_all::<(String, String)>(&mut tx).await? {
            paths.insert(code, path);
        }
    }
    let mut inserted = 0;
    let mut children: BTreeMap<String, i64> = BTreeMap::new();
    for chunk in rows.chunks(BATCH) {
        let mut q = Sql::new("INSERT INTO regions (");
        q.push(COLUMNS).push(") VALUES ");
        let mut first = true;
        for r in chunk {
            let parent = r.code.parent().map(|p| p.to_string());
            let path = match &parent {
                None => r.name.clone(),
                Some(p) => match paths.get(p) {
                    Some(pp) => format!("{pp}/{}", r.name),
                    None => {
                        return Err(StoreError::Invalid(shegong_domain::FieldError::new(
                            "code",
                            "region.parent_missing",
                        )));
                    }
                },
            };
            paths.insert(r.code.to_string(), path.clone());
            if let Some(p) = &parent {
                *children.entry(p.clone()).or_default() += 1;
            }
            if !first {
                q.push(", ");
            }
            first = false;
            q.push("(")
                .bind(r.code.as_str())
                .push(", ")
                .bind(r.name.as_str())
                .push(", ")
                .bind(r.code.level().as_str())
                .push(", ")
                .bind(RegionKind::derive(&r.code, &r.name).as_str())
                .push(", ")
                .bind(parent)
                .push(", ")
                .bind(path)
                .push(", 0, ")
                .bind(VINTAGE)
                .push(", NULL)");
        }
        q.push(" ON CONFLICT (code) DO NOTHING");
        inserted += q.execute(&mut tx).await? as usize;
    }
    // Child counts are recounted for the touched parents, so re-imports stay exact.
    let parents: Vec<String> = children.into_keys().collect();
    for p in parents {
        Sql::new("UPDATE regions SET child_count = (SELECT COUNT(*) FROM regions c WHERE c.parent_code = ")
            .bind(&p)
            .push(") WHERE code = ")
            .bind(&p)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Load the embedded province → township tree if the table is empty. Returns rows inserted.
pub async fn load_embedded(db: &Db) -> StoreResult<usize> {
    let mut conn = db.read().await?;
    let n = Sql::new("SELECT COUNT(*) FROM regions")
        .fetch_i64(&mut conn)
        .await?;
    drop(conn);
    if n > 0 {
        return Ok(0);
    }
    let mut text = String::new();
    GzDecoder::new(EMBEDDED)
        .read_to_string(&mut text)
        .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
    let rows = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(c, n)| {
            Ok(NewRegion {
                code: RegionCode::parse(c)?,
                name: n.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let n = insert_regions(db, rows).await?;
    Sql::new("INSERT INTO app_meta (key, value) VALUES ('regions_vintage', ")
        .bind(VINTAGE.to_string())
        .push(") ON CONFLICT (key) DO NOTHING")
        .execute(&mut *db.begin().await?)
        .await?;
    Ok(n)
}

/// Import villages from the NBS CSV (gzip or plain): `code,name,streetCode,...`, header first.
/// Idempotent: codes already present are skipped. Returns (read, inserted).
pub async fn import_villages(db: &Db, input: impl Read) -> StoreResult<(usize, usize)> {
    let mut reader: Box<dyn BufRead> = {
        let mut buf = BufReader::new(input);
        let gz = buf
            .fill_buf()
            .map(|b| b.starts_with(&[0x1f, 0x8b]))
            .unwrap_or(false);
        if gz {
            Box::new(BufReader::new(GzDecoder::new(buf)))
        } else {
            Box::new(buf)
        }
    };
    let mut line = String::new();
    let (mut read, mut inserted) = (0, 0);
    let mut batch = Vec::with_capacity(20_000);
    let mut line_no = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let mut fields = line.trim_end().splitn(3, ',');
        let (Some(code), Some(name)) = (fields.next(), fields.next()) else {
            continue;
        };
        if line_no == 1 && code == "code" {
            continue;
        }
        let code = RegionCode::parse(code)?;
        if code.level() != shegong_domain::RegionLevel::Village {
            return Err(StoreError::Invalid(shegong_domain::FieldError::new(
                "code",
                "region.not_a_village",
            )));
        }
        batch.push(NewRegion {
            code,
            name: name.trim().trim_matches('"').to_owned(),
        });
        read += 1;
        if batch.len() == batch.capacity() {
            inserted += insert_regions(db, std::mem::take(&mut batch)).await?;
            batch.reserve(20_000);
        }
    }
    if !batch.is_empty() {
        inserted += insert_regions(db, batch).await?;
    }
    Ok((read, inserted))
}

/// A region inside the scope, or NotFound.
pub async fn get(conn: &mut AnyConnection, scope: &Scope, code: &str) -> StoreResult<Region> {
    if !scope.contains_region(code) {
        return Err(StoreError::NotFound);
    }
    Sql::new("SELECT ")
        .push(COLUMNS)
        .push(" FROM regions WHERE code = ")
        .bind(code)
        .fetch_one(conn)
        .await
}

/// The regions along the path to `code` (root first) that lie inside the scope.
pub async fn lineage(
    conn: &mut AnyConnection,
    scope: &Scope,
    code: &RegionCode,
) -> StoreResult<Vec<Region>> {
    let mut q = Sql::new("SELECT ");
    q.push(COLUMNS).push(" FROM regions WHERE code IN (");
    let codes: Vec<_> = code
        .lineage()
        .into_iter()
        .filter(|c| scope.contains_region(c.as_str()))
        .collect();
    if codes.is_empty() {
        return Ok(vec![]);
    }
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(c.as_str());
    }
    q.push(") ORDER BY code");
    q.fetch_all(conn).await
}

/// Children of a region in scope; `None` lists the top of the user's scope (provinces for a
/// national user, else the scope region itself).
pub async fn children(
    conn: &mut AnyConnection,
    scope: &Scope,
    code: Option<&str>,
) -> StoreResult<Vec<Region>> {
    let mut q = Sql::new("SELECT ");
    q.push(COLUMNS).push(" FROM regions WHERE ");
    match (code, &scope.region) {
        (Some(code), _) => {
            get(conn, scope, code).await?;
            q.push("parent_code = ").bind(code);
        }
        (None, None) => {
            q.push("parent_code IS NULL");
        }
        (None, Some(r)) => {
            q.push("code = ").bind(r.as_str());
        }
    }
    q.push(" ORDER BY code");
    q.fetch_all(conn).await
}

/// Regions in scope whose name contains `q`, townships first by level then code.
pub async fn search(
    conn: &mut AnyConnection,
    scope: &Scope,
    backend: crate::Backend,
    text: &str,
    limit: i64,
) -> StoreResult<Vec<Region>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(vec![]);
    }
    let pattern = format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut q = Sql::new("SELECT ");
    q.push(COLUMNS).push(" FROM regions WHERE ");
    q.region_range("code", scope);
    q.push(" AND name ")
        .push(dialect::ilike(backend))
        .push(" ")
        .bind(pattern)
        .push(" ESCAPE '\\' ORDER BY LENGTH(code), code LIMIT ")
        .bind(limit.clamp(1, 200));
    q.fetch_all(conn).await
}

/// Display paths for a set of codes (for lists that show a region column), unscoped because
/// the caller already holds rows that are in scope and only needs their names.
pub async fn display_paths(
    conn: &mut AnyConnection,
    codes: &[&str],
) -> StoreResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut codes: Vec<&str> = codes.iter().copied().filter(|c| !c.is_empty()).collect();
    codes.sort_unstable();
    codes.dedup();
    for chunk in codes.chunks(BATCH) {
        let mut q = Sql::new("SELECT code, path_names FROM regions WHERE code IN (");
        for (i, c) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(*c);
        }
        q.push(")");
        for (code, path) in q.fetch_all::<(String, String)>(conn).await? {
            out.insert(code, display_path(path.split('/')));
        }
    }
    Ok(out)
}

/// Counts per level (for `regions` status output and tests).
pub async fn count_by_level(conn: &mut AnyConnection) -> StoreResult<Vec<(String, i64)>> {
    Sql::new("SELECT level, COUNT(*) FROM regions GROUP BY level ORDER BY MIN(LENGTH(code))")
        .fetch_all(conn)
        .await
}
