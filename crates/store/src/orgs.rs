//! Organisations (the core every capability refers to: agencies run stations and employ staff).
//! Reads are scoped by the organisation's registration region, or by the organisation itself for
//! a scope that names one.

use serde::Serialize;
use shegong_domain::org::{OrgKind, UsccCheck, check_uscc};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub uscc: Option<String>,
    pub kind: String,
    pub region_code: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str =
    "SELECT id, name, uscc, kind, region_code, status, created_at, updated_at FROM organizations";

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: String,
    pub uscc: Option<String>,
    pub kind: OrgKind,
    pub region: RegionCode,
}

/// Create an organisation. Returns its id and whether the USCC failed its check character
/// (kept, with a warning: some real early codes fail it).
pub async fn create(
    conn: &mut AnyConnection,
    new: &NewOrg,
    now: Millis,
) -> StoreResult<(String, bool)> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "org.name_invalid").into());
    }
    let (uscc, warn) = match new.uscc.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => (None, false),
        Some(s) => match check_uscc(s)? {
            UsccCheck::Valid(c) => (Some(c), false),
            UsccCheck::CheckMismatch(c) => (Some(c), true),
        },
    };
    let id = new_id();
    Sql::new("INSERT INTO organizations (id, name, uscc, kind, region_code, status, created_at, updated_at) VALUES (")
        .bind(&id)
        .push(", ")
        .bind(name)
        .push(", ")
        .bind(uscc)
        .push(", ")
        .bind(new.kind.as_str())
        .push(", ")
        .bind(new.region.as_str())
        .push(", 'active', ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(")")
        .execute(conn)
        .await?;
    Ok((id, warn))
}

fn scoped(scope: &Scope) -> Sql {
    let mut q = Sql::new(SELECT);
    q.push(" WHERE ");
    match scope.org {
        Some(org) => q.push("id = ").bind(org.to_string()),
        None => q.region_range("region_code", scope),
    };
    q
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Org> {
    let mut q = scoped(scope);
    q.push(" AND id = ").bind(id);
    q.fetch_one(conn).await
}

pub async fn list(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Org>> {
    let mut q = scoped(scope);
    q.push(" ORDER BY name");
    q.fetch_all(conn).await
}
