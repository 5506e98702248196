//! The catalogue (项目目录): one edition per region and year, items filed by service field with
//! the purchasers' cost shares. A scope sees the editions of its own regions and of the regions
//! above it (a county buys from its city's catalogue).

use serde::Serialize;
use shegong_domain::purchase::catalogue::{
    CostShare, CostShares, ItemStatus, RemovalReason, ServiceField,
};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use super::{from_json, stored, to_json};
use crate::sql::Sql;
use crate::{Millis, StoreResult, new_id};

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    pub edition_id: String,
    pub region_code: String,
    pub field: ServiceField,
    pub name: String,
    pub description: String,
    pub status: ItemStatus,
    pub removal_reason: Option<RemovalReason>,
    pub cost_shares: CostShares,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edition {
    pub id: String,
    pub region_code: String,
    pub region_path: Option<String>,
    pub year: i64,
    pub title: String,
    /// `draft` or `published`.
    pub status: String,
    pub items: Vec<Item>,
}

/// A new item, parsed; its edition (region and year) is made on first use.
#[derive(Debug, Clone)]
pub struct ItemInput {
    pub region: RegionCode,
    pub year: i64,
    /// The edition's title when it is new ("2025年度政府购买社会工作服务项目目录").
    pub edition_title: String,
    pub field: ServiceField,
    pub name: String,
    pub description: String,
    pub cost_shares: CostShares,
}

/// `column` (a region code) inside the scope or above its region.
fn in_or_above(q: &mut Sql, column: &'static str, scope: &Scope) {
    q.push("((");
    q.region_range(column, scope);
    if scope.prefix().is_empty() {
        q.push("))");
    } else {
        // A region above the scope's is a prefix of its code.
        q.push(") OR ")
            .bind(scope.prefix().to_owned())
            .push(" LIKE ")
            .push(column)
            .push(" || '%')");
    }
}

type ItemRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
);

const ITEM_SELECT: &str = "SELECT i.id, i.edition_id, i.region_code, i.field, i.name, \
     i.description, i.status, i.removal_reason, i.cost_shares FROM catalogue_items i WHERE ";

fn decode_item(row: ItemRow) -> StoreResult<Item> {
    let (id, edition_id, region_code, field, name, description, status, reason, shares) = row;
    let shares: Vec<CostShare> = from_json(&shares)?;
    Ok(Item {
        id,
        edition_id,
        region_code,
        field: stored(ServiceField::parse(&field))?,
        name,
        description,
        status: stored(ItemStatus::parse(&status))?,
        removal_reason: reason
            .map(|r| stored(RemovalReason::parse(&r)))
            .transpose()?,
        cost_shares: stored(CostShares::new(shares))?,
    })
}

/// An item of an edition the scope sees.
pub async fn get_item(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Item> {
    let mut q = Sql::new(ITEM_SELECT);
    in_or_above(&mut q, "i.region_code", scope);
    q.push(" AND i.id = ").bind(id);
    decode_item(q.fetch_one(conn).await?)
}

/// The editions the scope sees, newest year first, with their items by field and name.
pub async fn editions(
    conn: &mut AnyConnection,
    scope: &Scope,
    year: Option<i64>,
) -> StoreResult<Vec<Edition>> {
    let mut q = Sql::new(
        "SELECT e.id, e.region_code, r.path_names, e.year, e.title, e.status \
         FROM catalogue_editions e LEFT JOIN regions r ON r.code = e.region_code WHERE ",
    );
    in_or_above(&mut q, "e.region_code", scope);
    if let Some(y) = year {
        q.push(" AND e.year = ").bind(y);
    }
    q.push(" ORDER BY e.year DESC, e.region_code");
    let rows: Vec<(String, String, Option<String>, i64, String, String)> =
        q.fetch_all(conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, region_code, region_path, year, title, status) in rows {
        let items: Vec<ItemRow> = Sql::new(ITEM_SELECT)
            .push("i.edition_id = ")
            .bind(id.as_str())
            .push(" ORDER BY i.field, i.name, i.id")
            .fetch_all(conn)
            .await?;
        out.push(Edition {
            items: items
                .into_iter()
                .map(decode_item)
                .collect::<StoreResult<_>>()?,
            id,
            region_code,
            region_path,
            year,
            title,
            status,
        });
    }
    Ok(out)
}

/// Add a proposed item to the edition of its region and year (made now if there is none).
/// Catalogues are the civil-affairs authority's: the region must lie in a scope naming no
/// organisation. Returns (item id, edition id).
pub async fn create_item(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ItemInput,
    now: Millis,
) -> StoreResult<(String, String)> {
    if scope.org.is_some() || !scope.contains_region(input.region.as_str()) {
        return Err(FieldError::new("region", "purchase.region_out_of_scope").into());
    }
    if !(2000..=2100).contains(&input.year) {
        return Err(FieldError::new("year", "purchase.year_invalid").into());
    }
    let name_len = input.name.trim().chars().count();
    if name_len == 0 || name_len > 100 {
        return Err(FieldError::new("name", "purchase.text_invalid").into());
    }
    let existing: Option<(String,)> =
        Sql::new("SELECT id FROM catalogue_editions WHERE region_code = ")
            .bind(input.region.as_str())
            .push(" AND year = ")
            .bind(input.year)
            .fetch_optional(conn)
            .await?;
    let edition = match existing {
        Some((id,)) => id,
        None => {
            let title = Some(input.edition_title.trim())
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{} {}", input.year, input.region.as_str()));
            let id = new_id();
            Sql::new("INSERT INTO catalogue_editions (id, region_code, year, title, status, created_at, updated_at) VALUES (")
                .bind(&id).push(", ").bind(input.region.as_str()).push(", ").bind(input.year).push(", ")
                .bind(title).push(", 'draft', ").bind(now).push(", ").bind(now).push(")")
                .execute(conn)
                .await?;
            id
        }
    };
    let id = new_id();
    Sql::new("INSERT INTO catalogue_items (id, edition_id, region_code, field, name, description, status, removal_reason, cost_shares, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(edition.as_str()).push(", ").bind(input.region.as_str()).push(", ")
        .bind(input.field.as_str()).push(", ").bind(input.name.trim()).push(", ")
        .bind(input.description.trim()).push(", ").bind(ItemStatus::Proposed.as_str())
        .push(", NULL, ").bind(to_json(&input.cost_shares.shares())?).push(", ")
        .bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok((id, edition))
}
