//! The catalogue (项目目录): one edition per region and year, items filed by service field with
//! the purchasers' cost shares. A scope sees the editions of its own regions and of the regions
//! above it (a county buys from its city's catalogue), but changes only those inside it.
//!
//! An item's status moves only as `ItemStatus` allows, and every move is kept
//! (`catalogue_item_history`) so the catalogue shows who included or removed an item and why.

use std::collections::HashMap;

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
    /// Every status the item took, oldest first (filled by `editions` and `get_item`).
    pub history: Vec<StatusChange>,
}

/// One step of an item's life as kept.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    pub seq: i64,
    /// `None` for the proposal.
    pub from: Option<ItemStatus>,
    pub to: ItemStatus,
    pub reason: Option<RemovalReason>,
    pub note: String,
    /// The username of whoever made the change.
    pub by: String,
    pub at: Millis,
}

/// A status change asked for: the removal reason goes with `Removed` and nothing else.
#[derive(Debug, Clone)]
pub struct ItemStep {
    pub to: ItemStatus,
    pub reason: Option<RemovalReason>,
    pub note: String,
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
        history: Vec::new(),
    })
}

type HistoryRow = (
    String,
    i64,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    i64,
);

const HISTORY_SELECT: &str = "SELECT h.item_id, h.seq, h.from_status, h.to_status, h.reason, \
     h.note, h.changed_by, h.changed_at FROM catalogue_item_history h ";

/// History rows by item id, each item's oldest first.
fn decode_history(rows: Vec<HistoryRow>) -> StoreResult<HashMap<String, Vec<StatusChange>>> {
    let mut out: HashMap<String, Vec<StatusChange>> = HashMap::new();
    for (item, seq, from, to, reason, note, by, at) in rows {
        out.entry(item).or_default().push(StatusChange {
            seq,
            from: from.map(|f| stored(ItemStatus::parse(&f))).transpose()?,
            to: stored(ItemStatus::parse(&to))?,
            reason: reason
                .map(|r| stored(RemovalReason::parse(&r)))
                .transpose()?,
            note,
            by,
            at,
        });
    }
    Ok(out)
}

/// Record a status the item took (its `seq`th).
async fn record(
    conn: &mut AnyConnection,
    item_id: &str,
    from: Option<ItemStatus>,
    step: &ItemStep,
    by: &str,
    now: Millis,
) -> StoreResult<()> {
    let seq =
        Sql::new("SELECT COALESCE(MAX(seq), 0) + 1 FROM catalogue_item_history WHERE item_id = ")
            .bind(item_id)
            .fetch_i64(conn)
            .await?;
    Sql::new("INSERT INTO catalogue_item_history (id, item_id, seq, from_status, to_status, reason, note, changed_by, changed_at) VALUES (")
        .bind(new_id()).push(", ").bind(item_id).push(", ").bind(seq).push(", ")
        .bind(from.map(|f| f.as_str())).push(", ").bind(step.to.as_str()).push(", ")
        .bind(step.reason.map(|r| r.as_str())).push(", ").bind(step.note.trim()).push(", ")
        .bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// An item of an edition the scope sees.
pub async fn get_item(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Item> {
    let mut q = Sql::new(ITEM_SELECT);
    in_or_above(&mut q, "i.region_code", scope);
    q.push(" AND i.id = ").bind(id);
    let mut item = decode_item(q.fetch_one(conn).await?)?;
    let rows = Sql::new(HISTORY_SELECT)
        .push("WHERE h.item_id = ")
        .bind(id)
        .push(" ORDER BY h.seq")
        .fetch_all(conn)
        .await?;
    item.history = decode_history(rows)?.remove(id).unwrap_or_default();
    Ok(item)
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
        let rows = Sql::new(HISTORY_SELECT)
            .push("JOIN catalogue_items i ON i.id = h.item_id WHERE i.edition_id = ")
            .bind(id.as_str())
            .push(" ORDER BY h.item_id, h.seq")
            .fetch_all(conn)
            .await?;
        let mut history = decode_history(rows)?;
        let mut decoded = Vec::with_capacity(items.len());
        for row in items {
            let mut item = decode_item(row)?;
            item.history = history.remove(&item.id).unwrap_or_default();
            decoded.push(item);
        }
        out.push(Edition {
            items: decoded,
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

/// Publish an edition of a region inside the scope (a scope naming an organisation publishes
/// nothing): from then on the public portal shows its included and purchasing items. An edition
/// is published once; refused on `status` when it already is. Returns the edition's region
/// code and title.
pub async fn publish_edition(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    now: Millis,
) -> StoreResult<(String, String)> {
    let mut q = Sql::new("SELECT region_code, title, status FROM catalogue_editions e WHERE ");
    in_or_above(&mut q, "e.region_code", scope);
    q.push(" AND e.id = ").bind(id);
    let (region, title, status): (String, String, String) = q.fetch_one(conn).await?;
    if scope.org.is_some() || !scope.contains_region(&region) {
        return Err(FieldError::new("region", "purchase.region_out_of_scope").into());
    }
    // Guarded by the status: a concurrent publication makes this one a refusal.
    let moved = Sql::new("UPDATE catalogue_editions SET status = 'published', updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND status = 'draft'")
        .execute(conn)
        .await?;
    if status != "draft" || moved != 1 {
        return Err(FieldError::new("status", "purchase.edition_already_published").into());
    }
    Ok((region, title))
}

/// Add a proposed item to the edition of its region and year (made now if there is none).
/// Catalogues are the civil-affairs authority's: the region must lie in a scope naming no
/// organisation. Returns (item id, edition id).
pub async fn create_item(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ItemInput,
    by: &str,
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
    let proposal = ItemStep {
        to: ItemStatus::Proposed,
        reason: None,
        note: String::new(),
    };
    record(conn, &id, None, &proposal, by, now).await?;
    Ok((id, edition))
}

/// The status `step` leads to from `from`, errors named after the request's fields (`to`,
/// `reason`): the step must be one `ItemStatus` allows, and a removal needs a reason that fits
/// the state (`ItemStatus::remove`).
fn next_status(from: ItemStatus, step: &ItemStep) -> Result<ItemStatus, FieldError> {
    let named = |e: FieldError| {
        let field = if e.field == "removal_reason" {
            "reason"
        } else {
            "to"
        };
        FieldError::new(field, e.code)
    };
    from.go(step.to).map_err(named)?;
    match (step.to, step.reason) {
        (ItemStatus::Removed, Some(reason)) => from.remove(reason).map_err(named),
        (ItemStatus::Removed, None) => Err(FieldError::new(
            "reason",
            "purchase.removal_reason_required",
        )),
        (_, Some(_)) => Err(FieldError::new(
            "reason",
            "purchase.removal_reason_not_applicable",
        )),
        (to, None) => Ok(to),
    }
}

/// Move an item of a region inside the scope (a scope naming an organisation changes nothing)
/// to the status `step` asks for, keeping the step in its history. Returns the item before.
pub async fn move_item(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    step: &ItemStep,
    by: &str,
    now: Millis,
) -> StoreResult<Item> {
    let before = get_item(conn, scope, id).await?;
    if scope.org.is_some() || !scope.contains_region(&before.region_code) {
        return Err(FieldError::new("region", "purchase.region_out_of_scope").into());
    }
    if step.note.trim().chars().count() > 500 {
        return Err(FieldError::new("note", "purchase.text_invalid").into());
    }
    let to = next_status(before.status, step)?;
    // Guarded by the status read: a concurrent move makes this one a refusal, not a skip.
    let moved = Sql::new("UPDATE catalogue_items SET status = ")
        .bind(to.as_str())
        .push(", removal_reason = ")
        .bind(step.reason.map(|r| r.as_str()))
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND status = ")
        .bind(before.status.as_str())
        .execute(conn)
        .await?;
    if moved != 1 {
        return Err(FieldError::new("to", "purchase.item_transition_invalid").into());
    }
    record(conn, id, Some(before.status), step, by, now).await?;
    Ok(before)
}

/// What an import may change on an item already in its edition: its field, description and
/// cost shares (the name and edition are how it is found; the status moves by `move_item`).
#[derive(Debug, Clone)]
pub struct ItemEdit {
    pub field: ServiceField,
    pub description: String,
    pub cost_shares: CostShares,
}

/// Change an item of a region inside the scope (a scope naming an organisation changes
/// nothing). Returns the item before.
pub async fn update_item(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    edit: &ItemEdit,
    now: Millis,
) -> StoreResult<Item> {
    let before = get_item(conn, scope, id).await?;
    if scope.org.is_some() || !scope.contains_region(&before.region_code) {
        return Err(FieldError::new("region", "purchase.region_out_of_scope").into());
    }
    if edit.description.trim().chars().count() > 2000 {
        return Err(FieldError::new("description", "purchase.text_invalid").into());
    }
    Sql::new("UPDATE catalogue_items SET field = ")
        .bind(edit.field.as_str())
        .push(", description = ")
        .bind(edit.description.trim())
        .push(", cost_shares = ")
        .bind(to_json(&edit.cost_shares.shares())?)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

/// The items of `region`'s edition of `year`, if the region lies inside the scope, by name: for
/// an import to find again what it wrote before.
pub async fn items_of_edition(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &str,
    year: i64,
) -> StoreResult<Vec<Item>> {
    let mut q = Sql::new(ITEM_SELECT);
    q.region_range("i.region_code", scope);
    q.push(" AND i.region_code = ")
        .bind(region)
        .push(" AND i.edition_id IN (SELECT e.id FROM catalogue_editions e WHERE e.region_code = ")
        .bind(region)
        .push(" AND e.year = ")
        .bind(year)
        .push(") ORDER BY i.name, i.id");
    let rows: Vec<ItemRow> = q.fetch_all(conn).await?;
    rows.into_iter().map(decode_item).collect()
}
