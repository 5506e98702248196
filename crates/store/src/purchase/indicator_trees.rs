//! Indicator trees (评估指标体系) per region and version. An evaluation in a region is scored on
//! the latest version of the nearest region's own tree (the region, then its parents), else on
//! the national default shipped as data ([`default_tree::guangzhou_1000_nodes`]), stored on
//! first use. A new version never changes an evaluation already planned: it keeps its tree.
//!
//! Visible to a scope: the national default, the trees of its region's parents (the ones that
//! may apply to it) and of regions inside it; a scope naming an organisation sees the trees of
//! the evaluations it sees. Outside that, a tree does not exist (`NotFound`).

use serde::Serialize;
use shegong_domain::purchase::default_tree;
use shegong_domain::purchase::evaluation::{GradeThresholds, Points};
use shegong_domain::purchase::indicator::{IndicatorNode, IndicatorTree};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use super::{from_json, stored, to_json};
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

/// The field an error about node `id` names: `<prefix>.<id>` (`scores.core_delivery`,
/// `nodes.1.2`), interned so errors can keep `&'static str` fields. Ids come from stored or
/// checked trees, so the set is small; past a bound (or for an id no tree could hold) the
/// field is the bare prefix.
pub fn node_field(prefix: &'static str, id: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    const MAX_NAMES: usize = 4096;
    if id.is_empty() || id.len() > 64 || id.chars().any(char::is_control) {
        return prefix;
    }
    let name = format!("{prefix}.{id}");
    let Ok(mut names) = NAMES.get_or_init(Default::default).lock() else {
        return prefix;
    };
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    if names.len() >= MAX_NAMES {
        return prefix;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

/// A stored indicator tree, checked by the domain on the way out.
#[derive(Debug, Clone)]
pub struct StoredTree {
    pub id: String,
    /// '' for the national default.
    pub region_code: String,
    pub version: i64,
    pub name: String,
    pub tree: IndicatorTree,
    pub thresholds: GradeThresholds,
    /// (excellent, good, pass) in basis points of the maximum.
    pub thresholds_bp: (i64, i64, i64),
}

type TreeRow = (String, String, i64, String, String, i64, i64, i64);

const TREE_SELECT: &str = "SELECT id, region_code, version, name, nodes, excellent_bp, good_bp, \
     pass_bp FROM indicator_trees WHERE ";

/// Stored nodes, checked by the domain (a tree that no longer passes is a decode error).
fn decode_nodes(id: &str, nodes: &str) -> StoreResult<IndicatorTree> {
    let nodes: Vec<IndicatorNode> = from_json(nodes)?;
    IndicatorTree::new(nodes)
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(format!("stored tree {id}: {e}").into())))
}

fn decode_tree(row: TreeRow) -> StoreResult<StoredTree> {
    let (id, region_code, version, name, nodes, excellent, good, pass) = row;
    let tree = decode_nodes(&id, &nodes)?;
    Ok(StoredTree {
        thresholds: stored(GradeThresholds::new(excellent, good, pass))?,
        thresholds_bp: (excellent, good, pass),
        id,
        region_code,
        version,
        name,
        tree,
    })
}

/// The thresholds' basis points (the domain type keeps them private but serialises them).
fn thresholds_bp(t: GradeThresholds) -> StoreResult<(i64, i64, i64)> {
    let v = serde_json::to_value(t).map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))?;
    let bp = |k: &str| v.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
    Ok((bp("excellent_bp"), bp("good_bp"), bp("pass_bp")))
}

pub(super) async fn load_tree(conn: &mut AnyConnection, id: &str) -> StoreResult<StoredTree> {
    let row: TreeRow = Sql::new(TREE_SELECT)
        .push("id = ")
        .bind(id)
        .fetch_one(conn)
        .await?;
    decode_tree(row)
}

async fn insert_tree(
    conn: &mut AnyConnection,
    region: &str,
    name: &str,
    nodes: &[IndicatorNode],
    thresholds: GradeThresholds,
    now: Millis,
) -> StoreResult<String> {
    let version =
        Sql::new("SELECT COALESCE(MAX(version), 0) FROM indicator_trees WHERE region_code = ")
            .bind(region)
            .fetch_i64(conn)
            .await?
            + 1;
    let (e, g, p) = thresholds_bp(thresholds)?;
    let id = new_id();
    Sql::new("INSERT INTO indicator_trees (id, region_code, version, name, nodes, excellent_bp, good_bp, pass_bp, created_at) VALUES (")
        .bind(&id).push(", ").bind(region).push(", ").bind(version).push(", ").bind(name).push(", ")
        .bind(to_json(&nodes)?).push(", ").bind(e).push(", ").bind(g).push(", ").bind(p).push(", ")
        .bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

/// The tree an evaluation in `region` uses: the latest version of the nearest region's own
/// tree (the region, then its parents), else the national default, stored on first use.
pub async fn tree_for_region(
    conn: &mut AnyConnection,
    region: &str,
    now: Millis,
) -> StoreResult<StoredTree> {
    match in_effect(conn, region).await? {
        Some(tree) => Ok(tree),
        None => {
            let id = insert_default(conn, now).await?;
            load_tree(conn, &id).await
        }
    }
}

/// The tree new evaluations in `region` ('' for the whole country) would use, if any is stored.
pub async fn in_effect(conn: &mut AnyConnection, region: &str) -> StoreResult<Option<StoredTree>> {
    let mut q = Sql::new("SELECT id FROM indicator_trees WHERE region_code IN (''");
    for above in RegionCode::parse(region)
        .map(|r| r.lineage())
        .unwrap_or_default()
    {
        q.push(", ").bind(above.as_str().to_owned());
    }
    q.push(") ORDER BY LENGTH(region_code) DESC, version DESC LIMIT 1");
    match q.fetch_optional::<(String,)>(conn).await? {
        Some((id,)) => load_tree(conn, &id).await.map(Some),
        None => Ok(None),
    }
}

async fn insert_default(conn: &mut AnyConnection, now: Millis) -> StoreResult<String> {
    insert_tree(
        conn,
        "",
        "评估指标体系(广州 1000 分)",
        &default_tree::guangzhou_1000_nodes(),
        GradeThresholds::default(),
        now,
    )
    .await
}

/// A region's own tree, as it is submitted.
#[derive(Debug, Clone)]
pub struct TreeInput {
    pub region: RegionCode,
    pub name: String,
    pub nodes: Vec<IndicatorNode>,
    pub thresholds: GradeThresholds,
}

/// A region's own tree, as a new version (evaluations planned before keep theirs): checked by
/// the domain, refused on `nodes.<code>` naming the node, and only by a purchaser of that
/// region. Returns its id.
pub async fn create_tree(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &TreeInput,
    now: Millis,
) -> StoreResult<String> {
    if scope.org.is_some() || !scope.contains_region(input.region.as_str()) {
        return refuse("region", "purchase.region_out_of_scope");
    }
    let len = input.name.trim().chars().count();
    if len == 0 || len > 200 {
        return refuse("name", "purchase.text_invalid");
    }
    let tree = IndicatorTree::new(input.nodes.clone())
        .map_err(|e| FieldError::new(node_field("nodes", &e.node), e.code))?;
    insert_tree(
        conn,
        input.region.as_str(),
        input.name.trim(),
        tree.nodes(),
        input.thresholds,
        now,
    )
    .await
}

/// The national default, stored now if no evaluation has needed it yet (so lists show it).
pub async fn ensure_default(conn: &mut AnyConnection, now: Millis) -> StoreResult<()> {
    let stored = Sql::new("SELECT COUNT(*) FROM indicator_trees WHERE region_code = ''")
        .fetch_i64(conn)
        .await?;
    if stored == 0 {
        insert_default(conn, now).await?;
    }
    Ok(())
}

/// A tree as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct TreeSummary {
    pub id: String,
    /// '' for the national default.
    pub region_code: String,
    pub region_name: Option<String>,
    pub version: i64,
    pub name: String,
    pub max: Points,
    pub nodes: i64,
    /// The latest version of its region: the one new evaluations there use.
    pub current: bool,
    /// How many evaluations are scored on it.
    pub evaluations: i64,
    pub created_at: Millis,
}

/// `select` (indicator_trees as `t`) restricted to the trees `scope` sees.
fn visible(select: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE (t.region_code = ''");
    match (&scope.org, &scope.region) {
        (Some(_), _) => {
            q.push(" OR t.id IN (SELECT e.tree_id FROM evaluations e")
                .push(" JOIN contracts c ON c.id = e.contract_id WHERE ");
            super::evaluations::restrict(&mut q, scope);
            q.push(")");
        }
        (None, None) => {
            q.push(" OR 1 = 1");
        }
        (None, Some(region)) => {
            for above in region.lineage() {
                q.push(" OR t.region_code = ")
                    .bind(above.as_str().to_owned());
            }
            q.push(" OR (");
            q.region_range("t.region_code", scope);
            q.push(")");
        }
    }
    q.push(")");
    q
}

type SummaryRow = (
    String,
    String,
    Option<String>,
    i64,
    String,
    String,
    i64,
    i64,
    i64,
);

const SUMMARY: &str = "SELECT t.id, t.region_code, r.path_names, t.version, t.name, t.nodes, \
     (SELECT COUNT(*) FROM evaluations e WHERE e.tree_id = t.id), \
     (SELECT MAX(l.version) FROM indicator_trees l WHERE l.region_code = t.region_code), \
     t.created_at FROM indicator_trees t LEFT JOIN regions r ON r.code = t.region_code";

/// One page of the trees `scope` sees: the default first, then by region and newest version.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    page: PageRequest,
) -> StoreResult<Page<TreeSummary>> {
    let mut q = visible(SUMMARY, scope);
    q.push(" ORDER BY t.region_code, t.version DESC");
    let count = visible("SELECT COUNT(*) FROM indicator_trees t", scope);
    let rows: Page<SummaryRow> = q.fetch_page(conn, &count, page).await?;
    let items = rows
        .items
        .into_iter()
        .map(
            |(
                id,
                region_code,
                region_name,
                version,
                name,
                nodes,
                evaluations,
                latest,
                created_at,
            )| {
                let tree = decode_nodes(&id, &nodes)?;
                Ok(TreeSummary {
                    max: tree.max(),
                    nodes: i64::try_from(tree.nodes().len()).unwrap_or(i64::MAX),
                    current: version == latest,
                    id,
                    region_code,
                    region_name,
                    version,
                    name,
                    evaluations,
                    created_at,
                })
            },
        )
        .collect::<StoreResult<_>>()?;
    Ok(Page {
        items,
        total: rows.total,
        capped: rows.capped,
        page: rows.page,
        per_page: rows.per_page,
    })
}

/// One tree `scope` sees, with its nodes.
pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<StoredTree> {
    let mut q = visible("SELECT COUNT(*) FROM indicator_trees t", scope);
    q.push(" AND t.id = ").bind(id);
    if q.fetch_i64(conn).await? == 0 {
        return Err(StoreError::NotFound);
    }
    load_tree(conn, id).await
}
