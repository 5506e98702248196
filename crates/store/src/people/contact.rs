//! Who may read a resident's contact details (phone numbers, address) unmasked without a
//! reason: the people working on the file. Everyone else keeps masking and reveals with a
//! reason (`RevealSensitive`, audited by the web layer).
//!
//! The people working on a file are its responsible worker (`residents.worker_user_id`) and
//! the supervisor of one of the resident's open cases (not closed). The file must be visible to
//! them in the first place: the scope and the protection rule (`Viewer::restrict`) still decide
//! who may open it at all, so a protected file keeps its rules.

use serde::Serialize;
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{StoreError, StoreResult};

use super::residents::Viewer;

/// Why a viewer sees the contact details unmasked (recorded with each view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactBasis {
    /// The resident's responsible worker.
    AssignedWorker,
    /// The supervisor of one of the resident's open cases.
    CaseSupervisor,
}

impl ContactBasis {
    pub const ALL: &'static [ContactBasis] = &[Self::AssignedWorker, Self::CaseSupervisor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AssignedWorker => "assigned_worker",
            Self::CaseSupervisor => "case_supervisor",
        }
    }
}

/// Whether `viewer` works on resident `id` and so sees their contact details unmasked: the
/// basis, or `None` for everyone else. `NotFound` when the file is outside what the viewer may
/// open (scope, protection).
pub async fn contact_basis(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
) -> StoreResult<Option<ContactBasis>> {
    let mut q = Sql::new("SELECT CASE WHEN r.worker_user_id = ");
    q.bind(viewer.user_id.clone())
        .push(
            " THEN 'assigned_worker' WHEN EXISTS (SELECT 1 FROM cases oc WHERE oc.resident_id = r.id \
             AND oc.stage <> 'closed' AND oc.supervisor_user_id = ",
        )
        .bind(viewer.user_id.clone())
        .push(") THEN 'case_supervisor' ELSE '' END FROM residents r WHERE r.id = ")
        .bind(id);
    viewer.restrict(&mut q);
    let (basis,): (String,) = q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)?;
    Ok(match basis.as_str() {
        "assigned_worker" => Some(ContactBasis::AssignedWorker),
        "case_supervisor" => Some(ContactBasis::CaseSupervisor),
        _ => None,
    })
}
