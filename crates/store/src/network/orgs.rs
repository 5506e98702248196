//! Organisations: social work agencies, civil-affairs bureaus, township governments.
//!
//! Visible to a scope: organisations registered inside it, and those operating a station inside
//! it (an agency from another county that won the tender). A scope naming an organisation sees
//! that organisation only. Changes are for organisations registered inside the scope.

use serde::Serialize;
use shegong_domain::network::org::{OrgKind, UsccCheck, check_uscc};
use shegong_domain::network::station::Rating;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub uscc: Option<String>,
    pub uscc_warning: i64,
    pub kind: String,
    pub region_code: String,
    pub region_path: Option<String>,
    pub legal_rep: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub address: String,
    pub rating: String,
    pub status: String,
    pub station_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT o.id, o.name, o.uscc, o.uscc_warning, o.kind, o.region_code, \
     r.path_names AS region_path, o.legal_rep, o.contact_name, o.contact_phone, o.address, o.rating, \
     o.status, (SELECT COUNT(*) FROM stations s WHERE s.operator_org_id = o.id) AS station_count, \
     o.created_at, o.updated_at \
     FROM organizations o LEFT JOIN regions r ON r.code = o.region_code";

/// What an organisation record holds, parsed.
#[derive(Debug, Clone)]
pub struct OrgInput {
    pub name: String,
    pub uscc: Option<String>,
    pub kind: OrgKind,
    pub region: RegionCode,
    pub legal_rep: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub address: String,
    pub rating: Rating,
    pub active: bool,
}

/// Kept for the foundation's callers (demo, tests): the minimal fields.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: String,
    pub uscc: Option<String>,
    pub kind: OrgKind,
    pub region: RegionCode,
}

impl From<&NewOrg> for OrgInput {
    fn from(n: &NewOrg) -> Self {
        OrgInput {
            name: n.name.clone(),
            uscc: n.uscc.clone(),
            kind: n.kind,
            region: n.region.clone(),
            legal_rep: String::new(),
            contact_name: String::new(),
            contact_phone: String::new(),
            address: String::new(),
            rating: Rating::Unrated,
            active: true,
        }
    }
}

/// Normalise and check; returns (uscc, warning) or the first field error (name, phone, USCC).
fn check(input: &OrgInput) -> Result<(Option<String>, bool), FieldError> {
    let name_len = input.name.trim().chars().count();
    if name_len == 0 || name_len > 100 {
        return Err(FieldError::new("name", "org.name_invalid"));
    }
    if input.contact_phone.chars().count() > 40 {
        return Err(FieldError::new("contact_phone", "org.phone_too_long"));
    }
    let uscc = input
        .uscc
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    Ok(match uscc.map(check_uscc).transpose()? {
        None => (None, false),
        Some(UsccCheck::Valid(c)) => (Some(c), false),
        Some(UsccCheck::CheckMismatch(c)) => (Some(c), true),
    })
}

fn visible(scope: &Scope) -> Sql {
    visible_from(SELECT, scope)
}

/// `select` (aliasing organizations as `o`) restricted to what the scope may see.
fn visible_from(select: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    match scope.org {
        Some(org) => {
            q.push("o.id = ").bind(org.to_string());
        }
        None => {
            q.push("((");
            q.region_range("o.region_code", scope);
            q.push(") OR o.id IN (SELECT s.operator_org_id FROM stations s WHERE ");
            q.region_range("s.region_code", scope);
            q.push("))");
        }
    }
    q
}

/// Uniqueness is checked before writing: a violated constraint would abort a PostgreSQL
/// transaction, and an import commits many rows in one.
async fn check_unique(
    conn: &mut AnyConnection,
    id: Option<&str>,
    uscc: Option<&str>,
    region: &str,
    name: &str,
) -> StoreResult<()> {
    if let Some(u) = uscc {
        let mut q = Sql::new("SELECT COUNT(*) FROM organizations WHERE uscc = ");
        q.bind(u);
        if let Some(id) = id {
            q.push(" AND id <> ").bind(id);
        }
        if q.fetch_i64(conn).await? > 0 {
            return Err(FieldError::new("uscc", "org.uscc_taken").into());
        }
    }
    let mut q = Sql::new("SELECT COUNT(*) FROM organizations WHERE region_code = ");
    q.bind(region).push(" AND name = ").bind(name.trim());
    if let Some(id) = id {
        q.push(" AND id <> ").bind(id);
    }
    if q.fetch_i64(conn).await? > 0 {
        return Err(FieldError::new("name", "org.name_taken").into());
    }
    Ok(())
}

/// Create an organisation registered inside the scope. Returns (id, USCC warning).
pub async fn create_full(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &OrgInput,
    now: Millis,
) -> StoreResult<(String, bool)> {
    let (uscc, warn) = check(input).map_err(StoreError::Invalid)?;
    if !scope.contains_region(input.region.as_str()) || scope.org.is_some() {
        return Err(FieldError::new("region", "org.region_out_of_scope").into());
    }
    check_unique(
        conn,
        None,
        uscc.as_deref(),
        input.region.as_str(),
        &input.name,
    )
    .await?;
    let id = new_id();
    Sql::new("INSERT INTO organizations (id, name, uscc, uscc_warning, kind, region_code, legal_rep, contact_name, contact_phone, address, rating, status, created_at, updated_at) VALUES (")
        .bind(&id).push(", ")
        .bind(input.name.trim()).push(", ")
        .bind(uscc).push(", ")
        .bind(warn).push(", ")
        .bind(input.kind.as_str()).push(", ")
        .bind(input.region.as_str()).push(", ")
        .bind(input.legal_rep.trim()).push(", ")
        .bind(input.contact_name.trim()).push(", ")
        .bind(input.contact_phone.trim()).push(", ")
        .bind(input.address.trim()).push(", ")
        .bind(input.rating.as_str()).push(", ")
        .bind(if input.active { "active" } else { "inactive" }).push(", ")
        .bind(now).push(", ")
        .bind(now).push(")")
        .execute(conn)
        .await?;
    Ok((id, warn))
}

/// The foundation's minimal create (national scope: demo data and tests).
pub async fn create(
    conn: &mut AnyConnection,
    new: &NewOrg,
    now: Millis,
) -> StoreResult<(String, bool)> {
    create_full(conn, &Scope::national(), &OrgInput::from(new), now).await
}

/// Change an organisation registered inside the scope (or the scope's own). Returns it before.
pub async fn update(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    input: &OrgInput,
    now: Millis,
) -> StoreResult<Org> {
    let before = get(conn, scope, id).await?;
    // Only organisations registered inside the scope can be changed, and only to stay inside it:
    // an agency operating a local station is visible here but registered (and edited) elsewhere.
    if !scope.contains_region(&before.region_code) {
        return Err(StoreError::NotFound);
    }
    if !scope.contains_region(input.region.as_str()) {
        return Err(FieldError::new("region", "org.region_out_of_scope").into());
    }
    // An organisation's own staff update its contact details; its registration (name, code,
    // kind, region), rating and status belong to the civil-affairs authority.
    let input = &if scope.org.is_some() {
        OrgInput {
            name: before.name.clone(),
            uscc: before.uscc.clone(),
            kind: OrgKind::parse(&before.kind)?,
            region: RegionCode::parse(&before.region_code)?,
            rating: Rating::parse(&before.rating)?,
            active: before.status == "active",
            ..input.clone()
        }
    } else {
        input.clone()
    };
    let (uscc, warn) = check(input).map_err(StoreError::Invalid)?;
    check_unique(
        conn,
        Some(id),
        uscc.as_deref(),
        input.region.as_str(),
        &input.name,
    )
    .await?;
    Sql::new("UPDATE organizations SET name = ")
        .bind(input.name.trim())
        .push(", uscc = ")
        .bind(uscc)
        .push(", uscc_warning = ")
        .bind(warn)
        .push(", kind = ")
        .bind(input.kind.as_str())
        .push(", region_code = ")
        .bind(input.region.as_str())
        .push(", legal_rep = ")
        .bind(input.legal_rep.trim())
        .push(", contact_name = ")
        .bind(input.contact_name.trim())
        .push(", contact_phone = ")
        .bind(input.contact_phone.trim())
        .push(", address = ")
        .bind(input.address.trim())
        .push(", rating = ")
        .bind(input.rating.as_str())
        .push(", status = ")
        .bind(if input.active { "active" } else { "inactive" })
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Org> {
    let mut q = visible(scope);
    q.push(" AND o.id = ").bind(id);
    q.fetch_one(conn).await
}

/// Would a new organisation with this code, region and name clash with one already registered
/// (anywhere: the codes are national)? Lets an import mark the row before anything is written.
pub async fn check_new(
    conn: &mut AnyConnection,
    uscc: Option<&str>,
    region: &str,
    name: &str,
) -> StoreResult<()> {
    check_unique(conn, None, uscc, region, name).await
}

/// The natural key of an import row: the USCC when given, else registration region + name.
pub async fn find_by_key(
    conn: &mut AnyConnection,
    scope: &Scope,
    uscc: Option<&str>,
    region: &str,
    name: &str,
) -> StoreResult<Option<Org>> {
    let mut q = visible(scope);
    match uscc.filter(|u| !u.is_empty()) {
        Some(u) => q.push(" AND o.uscc = ").bind(u),
        None => q
            .push(" AND o.region_code = ")
            .bind(region)
            .push(" AND o.name = ")
            .bind(name.trim()),
    };
    q.fetch_optional(conn).await
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub region: Option<String>,
    pub rating: Option<String>,
    /// A key of `SORTS`; none is the default order (by name).
    pub sort: Option<crate::Sort>,
    /// Only these organisations (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders an organisation list offers (key, column; `DESC`: the most first).
pub const SORTS: &[(&str, &str)] = &[
    ("name", "o.name"),
    ("region", "o.region_code"),
    ("kind", "o.kind"),
    ("stations", "station_count DESC"),
    ("updated", "o.updated_at DESC"),
];

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = visible_from(select, scope);
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["o.name", "o.uscc"], text);
    }
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND o.kind = ").bind(k);
    }
    if let Some(r) = f.rating.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND o.rating = ").bind(r);
    }
    if let Some(region) = f.region.as_deref().filter(|s| !s.is_empty()) {
        let sub = Scope {
            region: Scope::parse_region(region).ok().flatten(),
            org: None,
        };
        q.push(" AND ");
        q.region_range("o.region_code", &sub);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("o.id", ids);
    }
    q
}

pub async fn list_page(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Org>> {
    let mut q = filtered(scope, f, SELECT);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "o.id")) {
        q.push(" ORDER BY o.name, o.id");
    }
    q.fetch_page(
        conn,
        &filtered(scope, f, "SELECT COUNT(*) FROM organizations o"),
        page,
    )
    .await
}

/// All visible organisations by name (for pickers).
pub async fn list(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Org>> {
    let mut q = visible(scope);
    q.push(" ORDER BY o.name");
    q.fetch_all(conn).await
}
