//! The five-indicator checklist (场所、经费、人员、制度、服务) and station assessments.
//!
//! Items defined at a region apply to every station below it (national items apply everywhere),
//! so provinces and cities extend the checklist without copying it. Each station's readiness is
//! kept on its row, recomputed in the same transaction as any assessment or checklist change.

use serde::Serialize;
use shegong_domain::station::{Category, Evidence, readiness_pct};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::stations::{self, scoped_from};
use crate::{Millis, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Item {
    pub id: String,
    pub region_code: String,
    pub category: String,
    pub name: String,
    pub requirement: String,
    pub evidence: String,
    pub weight: i64,
    pub sort: i64,
    pub active: i64,
}

const ITEM: &str = "SELECT id, region_code, category, name, requirement, evidence, weight, sort, active FROM indicator_items";

/// Active items that apply to a station in `region`.
pub async fn items_for(conn: &mut AnyConnection, region: &str) -> StoreResult<Vec<Item>> {
    Sql::new(ITEM)
        .push(" WHERE active = 1 AND SUBSTR(")
        .bind(region)
        .push(", 1, LENGTH(region_code)) = region_code ORDER BY category, sort, name")
        .fetch_all(conn)
        .await
}

/// Items a user can see for configuration: defined in their scope or above it.
pub async fn items_visible(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Item>> {
    let mut q = Sql::new(ITEM);
    q.push(" WHERE (");
    q.region_range("region_code", scope);
    q.push(") OR SUBSTR(")
        .bind(scope.prefix())
        .push(", 1, LENGTH(region_code)) = region_code ORDER BY region_code, category, sort, name");
    q.fetch_all(conn).await
}

#[derive(Debug, Clone)]
pub struct ItemInput {
    /// Where the item is defined ('' = national).
    pub region: String,
    pub category: Category,
    pub name: String,
    pub requirement: String,
    pub evidence: Evidence,
    pub weight: i64,
}

pub async fn add_item(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ItemInput,
    now: Millis,
) -> StoreResult<String> {
    if !scope.contains_region(&input.region) || scope.org.is_some() {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "indicator.name_invalid").into());
    }
    if !(1..=100).contains(&input.weight) {
        return Err(FieldError::new("weight", "indicator.weight_invalid").into());
    }
    let dup = Sql::new("SELECT COUNT(*) FROM indicator_items WHERE region_code = ")
        .bind(&input.region)
        .push(" AND name = ")
        .bind(name)
        .fetch_i64(conn)
        .await?;
    if dup > 0 {
        return Err(FieldError::new("name", "indicator.name_taken").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO indicator_items (id, region_code, category, name, requirement, evidence, weight, sort, active, created_at) VALUES (")
        .bind(&id).push(", ").bind(&input.region).push(", ").bind(input.category.as_str()).push(", ").bind(name).push(", ")
        .bind(input.requirement.trim()).push(", ").bind(input.evidence.as_str()).push(", ").bind(input.weight)
        .push(", (SELECT COALESCE(MAX(sort), 0) + 1 FROM indicator_items), 1, ").bind(now).push(")")
        .execute(conn).await?;
    recompute_under(conn, &input.region).await?;
    Ok(id)
}

/// Switch an item defined inside the scope on or off; readiness below it is recomputed.
pub async fn set_item_active(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    active: bool,
) -> StoreResult<Item> {
    let mut q = Sql::new(ITEM);
    q.push(" WHERE id = ").bind(id).push(" AND ");
    q.region_range("region_code", scope);
    let item: Item = q.fetch_one(conn).await?;
    if scope.org.is_some() {
        return Err(crate::StoreError::NotFound);
    }
    Sql::new("UPDATE indicator_items SET active = ")
        .bind(active)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    recompute_under(conn, &item.region_code).await?;
    Ok(item)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Assessment {
    pub item_id: String,
    pub met: i64,
    pub note: String,
    pub attachment_id: Option<String>,
    pub assessed_by: String,
    pub assessed_on: String,
}

pub async fn assessments(
    conn: &mut AnyConnection,
    scope: &Scope,
    station_id: &str,
) -> StoreResult<Vec<Assessment>> {
    stations::get(conn, scope, station_id).await?;
    Sql::new("SELECT item_id, met, note, attachment_id, assessed_by, assessed_on FROM station_assessments WHERE station_id = ")
        .bind(station_id).fetch_all(conn).await
}

/// Record whether a station meets an item; returns the previous result (if any) and the new
/// readiness.
#[allow(clippy::too_many_arguments)]
pub async fn assess(
    conn: &mut AnyConnection,
    scope: &Scope,
    station_id: &str,
    item_id: &str,
    met: bool,
    note: &str,
    attachment_id: Option<&str>,
    by: &str,
    on: &str,
    now: Millis,
) -> StoreResult<(Option<bool>, i64)> {
    let st = stations::get(conn, scope, station_id).await?;
    if !items_for(conn, &st.region_code)
        .await?
        .iter()
        .any(|i| i.id == item_id)
    {
        return Err(FieldError::new("item", "indicator.not_applicable").into());
    }
    let before: Option<(i64,)> =
        Sql::new("SELECT met FROM station_assessments WHERE station_id = ")
            .bind(station_id)
            .push(" AND item_id = ")
            .bind(item_id)
            .fetch_optional(conn)
            .await?;
    Sql::new("INSERT INTO station_assessments (station_id, item_id, region_code, met, note, attachment_id, assessed_by, assessed_on, updated_at) VALUES (")
        .bind(station_id).push(", ").bind(item_id).push(", ").bind(&st.region_code).push(", ").bind(met).push(", ")
        .bind(note.trim()).push(", ").bind(attachment_id).push(", ").bind(by).push(", ").bind(on).push(", ").bind(now)
        .push(") ON CONFLICT (station_id, item_id) DO UPDATE SET met = excluded.met, note = excluded.note, \
               attachment_id = COALESCE(excluded.attachment_id, station_assessments.attachment_id), \
               assessed_by = excluded.assessed_by, assessed_on = excluded.assessed_on, updated_at = excluded.updated_at")
        .execute(conn).await?;
    let pct = recompute_station(conn, station_id).await?;
    Ok((before.map(|(m,)| m != 0), pct))
}

/// Readiness of one station from its assessments against the items that apply to it.
pub async fn compute_station(conn: &mut AnyConnection, station_id: &str) -> StoreResult<i64> {
    let (region,): (String,) = Sql::new("SELECT region_code FROM stations WHERE id = ")
        .bind(station_id)
        .fetch_one(conn)
        .await?;
    let (total, met): (i64, i64) = Sql::new(
        "SELECT CAST(COALESCE(SUM(i.weight), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN a.met = 1 THEN i.weight ELSE 0 END), 0) AS BIGINT) \
         FROM indicator_items i LEFT JOIN station_assessments a ON a.item_id = i.id AND a.station_id = ",
    )
    .bind(station_id)
    .push(" WHERE i.active = 1 AND SUBSTR(").bind(&region).push(", 1, LENGTH(i.region_code)) = i.region_code")
    .fetch_one(conn).await?;
    Ok(readiness_pct(met, total))
}

/// Recompute and store one station's readiness.
pub async fn recompute_station(conn: &mut AnyConnection, station_id: &str) -> StoreResult<i64> {
    let pct = compute_station(conn, station_id).await?;
    Sql::new("UPDATE stations SET readiness_pct = ")
        .bind(pct)
        .push(" WHERE id = ")
        .bind(station_id)
        .execute(conn)
        .await?;
    Ok(pct)
}

/// Recompute every station below `region` (after its checklist changed).
pub async fn recompute_under(conn: &mut AnyConnection, region: &str) -> StoreResult<()> {
    let scope = Scope {
        region: Scope::parse_region(region).ok().flatten(),
        org: None,
    };
    let ids: Vec<(String,)> = scoped_from("SELECT s.id FROM stations s", &scope)
        .fetch_all(conn)
        .await?;
    for (id,) in ids {
        recompute_station(conn, &id).await?;
    }
    Ok(())
}
