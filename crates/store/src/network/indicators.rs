//! The five-indicator checklist (场所、经费、人员、制度、服务) and station assessments.
//!
//! Items defined at a region apply to every station below it (national items apply everywhere),
//! so provinces and cities extend the checklist without copying it. Each station's readiness is
//! kept on its row, recomputed in the same transaction as any assessment or checklist change.

use serde::Serialize;
use shegong_domain::network::station::{Category, Evidence, readiness_pct};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope::{self, scoped_from};
use crate::sql::Sql;
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
    station_scope::place(conn, scope, station_id).await?;
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
    let st = station_scope::place(conn, scope, station_id).await?;
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

/// The national baseline checklist (场所、经费、人员、制度、服务) and service list, loaded into an
/// empty database so a new deployment starts from the common standard; regions extend it.
pub async fn seed_defaults(conn: &mut AnyConnection, now: Millis) -> StoreResult<bool> {
    let n = Sql::new("SELECT COUNT(*) FROM indicator_items")
        .fetch_i64(conn)
        .await?;
    if n > 0 {
        return Ok(false);
    }
    const ITEMS: &[(&str, &str, &str, &str, i64)] = &[
        (
            "site",
            "有固定服务场所",
            "办公、个案、小组活动场所齐备，总面积不少于 60 平方米",
            "photo",
            2,
        ),
        (
            "site",
            "门牌标识规范",
            "外挂统一名称标牌，室内功能区标识清楚",
            "photo",
            1,
        ),
        (
            "funding",
            "运营经费落实",
            "年度运营经费纳入预算或购买服务合同足额到位",
            "document",
            2,
        ),
        (
            "staff",
            "驻站社工不少于 2 名",
            "至少 2 名专职社会工作者驻站开展服务",
            "record",
            2,
        ),
        (
            "staff",
            "持证社工",
            "至少 1 名持有社会工作者职业资格证书",
            "document",
            1,
        ),
        (
            "rules",
            "制度上墙",
            "工作职责、服务流程、保密制度等公示上墙",
            "photo",
            1,
        ),
        (
            "rules",
            "台账规范",
            "走访、个案、活动、资源链接等台账齐全",
            "record",
            1,
        ),
        (
            "services",
            "服务清单公开",
            "公开本站服务清单、开放时间和联系方式",
            "photo",
            1,
        ),
        (
            "services",
            "开展常态化服务",
            "每月开展个案、小组或社区活动",
            "record",
            2,
        ),
    ];
    for (i, (category, name, requirement, evidence, weight)) in ITEMS.iter().enumerate() {
        Sql::new("INSERT INTO indicator_items (id, region_code, category, name, requirement, evidence, weight, sort, active, created_at) VALUES (")
            .bind(new_id()).push(", '', ").bind(*category).push(", ").bind(*name).push(", ").bind(*requirement).push(", ")
            .bind(*evidence).push(", ").bind(*weight).push(", ").bind(i as i64).push(", 1, ").bind(now).push(")")
            .execute(conn).await?;
    }
    const SERVICES: &[(&str, &str)] = &[
        ("social_assistance", "困难群众走访与需求评估"),
        ("social_assistance", "协助社会救助经办"),
        ("elderly", "特殊困难老年人探访关爱"),
        ("children", "困境儿童和留守儿童关爱保护"),
        ("disability", "残疾人社会融入服务"),
        ("community_governance", "社区志愿服务与居民参与"),
        ("social_affairs", "政策宣传与资源链接"),
    ];
    for (i, (domain, name)) in SERVICES.iter().enumerate() {
        Sql::new("INSERT INTO service_items (id, region_code, domain, name, sort, active, created_at) VALUES (")
            .bind(new_id()).push(", '', ").bind(*domain).push(", ").bind(*name).push(", ").bind(i as i64).push(", 1, ").bind(now).push(")")
            .execute(conn).await?;
    }
    Ok(true)
}
