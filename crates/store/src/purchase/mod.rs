//! Government purchase of services: the catalogue, contracts with their lines, budget lines,
//! stations and payment plans, and the instalments' life. The rules are the domain's
//! (`shegong_domain::purchase`); this module stores what they accept and reads it back through
//! them, so a stored plan, term or state is always one the domain would have allowed.
//!
//! Visible to a scope: contracts whose purchaser region lies inside it; a scope naming an
//! organisation sees the contracts that organisation provides (an agency's manager) or has an
//! evaluation of assigned to it (an evaluator), wherever the purchaser is. Outside that, a
//! contract does not exist (`NotFound`).

pub mod catalogue;
pub mod contracts;
pub mod deliverables;
pub mod evaluations;
pub mod execution;
pub mod indicator_trees;
pub mod instalments;
pub mod projects;
pub mod public;
pub mod summary;

use serde::Serialize;
use serde::de::DeserializeOwned;
use shegong_domain::Scope;

use crate::sql::Sql;
use crate::{StoreError, StoreResult};

/// `select` (aliasing contracts as `c`) restricted to the contracts `scope` may see.
fn visible_contracts(select: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    match scope.org {
        Some(org) => {
            let org = org.to_string();
            q.push("(c.provider_org_id = ")
                .bind(org.clone())
                .push(" OR EXISTS (SELECT 1 FROM evaluations ev WHERE ev.contract_id = c.id")
                .push(" AND ev.evaluator_org_id = ")
                .bind(org)
                .push("))")
        }
        None => q.region_range("c.region_code", scope),
    };
    q
}

/// Rules kept as data are stored as JSON text.
fn to_json(value: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))
}

/// Stored JSON read back through the domain type's checks; a row that does not read is a
/// database error, never a user's.
fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))
}

/// A stored value the domain refuses (a code or rule changed under the data).
fn stored<T>(r: Result<T, shegong_domain::FieldError>) -> StoreResult<T> {
    r.map_err(|e| {
        StoreError::Db(sqlx::Error::Decode(
            format!("stored {}: {}", e.field, e.code).into(),
        ))
    })
}
