//! Roles and what they may do. The separation of duties follows 等保2.0 level 3: the system
//! administrator runs the system, the security administrator manages accounts, the auditor reads
//! the audit log; none of them reads business data by virtue of that role.

use serde::{Deserialize, Serialize};

use crate::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SystemAdmin,
    SecurityAdmin,
    Auditor,
    CivilAffairsAdmin,
    AgencyManager,
    SocialWorker,
    Supervisor,
    Evaluator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Operate the system: reference data, configuration, health.
    ManageSystem,
    /// Create, disable and change accounts (within scope, for the roles `can_grant` allows).
    ManageUsers,
    /// Read the audit log (within scope).
    ReadAudit,
    /// Read business records (within scope).
    ReadData,
    /// Create and change business records (within scope).
    WriteData,
    /// Export lists to Excel.
    Export,
    /// Configure and supervise the station network: checklists, targets, inspections,
    /// verifying rectifications, confirming completion.
    Supervise,
    /// See a sensitive field (identity number, mobile) in full, with a reason that is audited.
    RevealSensitive,
    /// Approve case plans and closures (MZ/T 094 supervision).
    ApproveCases,
    /// Set up supervision: pair a supervisor with a supervisee. Managers (civil-affairs and
    /// agency) and supervisors do; a social worker does not choose their own supervisor.
    ArrangeSupervision,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::Auditor,
        Role::CivilAffairsAdmin,
        Role::AgencyManager,
        Role::SocialWorker,
        Role::Supervisor,
        Role::Evaluator,
    ];

    /// The identifier used by the CLI, the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::Auditor => "auditor",
            Role::CivilAffairsAdmin => "civil_affairs_admin",
            Role::AgencyManager => "agency_manager",
            Role::SocialWorker => "social_worker",
            Role::Supervisor => "supervisor",
            Role::Evaluator => "evaluator",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or(FieldError::new("role", "role.unknown"))
    }

    pub fn has(self, p: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match self {
            SystemAdmin => matches!(p, ManageSystem),
            SecurityAdmin => matches!(p, ManageUsers),
            Auditor => matches!(p, ReadAudit | Export),
            CivilAffairsAdmin => matches!(
                p,
                ManageUsers
                    | ReadAudit
                    | ReadData
                    | WriteData
                    | Export
                    | Supervise
                    | RevealSensitive
                    | ApproveCases
                    | ArrangeSupervision
            ),
            AgencyManager => matches!(
                p,
                ReadData | WriteData | Export | RevealSensitive | ArrangeSupervision
            ),
            SocialWorker => matches!(p, ReadData | WriteData),
            Supervisor => matches!(
                p,
                ReadData | WriteData | Export | ApproveCases | ArrangeSupervision
            ),
            Evaluator => matches!(p, ReadData | Export),
        }
    }

    /// Whether a holder of `self` may give `other` to an account (always within its own scope).
    pub fn can_grant(self, other: Role) -> bool {
        match self {
            Role::SecurityAdmin => true,
            Role::CivilAffairsAdmin => other.is_business(),
            _ => false,
        }
    }

    /// Roles that work with business data, as opposed to the three system-officer roles.
    pub fn is_business(self) -> bool {
        !matches!(
            self,
            Role::SystemAdmin | Role::SecurityAdmin | Role::Auditor
        )
    }

    /// Roles whose scope must name an organisation.
    pub fn requires_org(self) -> bool {
        matches!(self, Role::AgencyManager)
    }

    /// Roles that may carry an organisation in their scope.
    pub fn allows_org(self) -> bool {
        matches!(
            self,
            Role::AgencyManager | Role::SocialWorker | Role::Supervisor | Role::Evaluator
        )
    }

    /// Civil-affairs administrators sit at a province, city, county or township, not a village.
    pub fn allows_village_scope(self) -> bool {
        !matches!(self, Role::CivilAffairsAdmin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert_eq!(Role::parse("root").unwrap_err().field, "role");
    }

    #[test]
    fn system_officers_are_separated() {
        assert!(!Role::SystemAdmin.has(Permission::ReadAudit));
        assert!(!Role::SystemAdmin.has(Permission::ManageUsers));
        assert!(!Role::SecurityAdmin.has(Permission::ReadData));
        assert!(!Role::Auditor.has(Permission::ReadData));
        assert!(Role::Auditor.has(Permission::ReadAudit));
        assert!(!Role::Evaluator.has(Permission::WriteData));
        assert!(Role::Evaluator.has(Permission::Export));
    }

    #[test]
    fn supervision_and_reveal_belong_to_administrators() {
        assert!(Role::CivilAffairsAdmin.has(Permission::Supervise));
        assert!(Role::CivilAffairsAdmin.has(Permission::RevealSensitive));
        assert!(Role::AgencyManager.has(Permission::RevealSensitive));
        assert!(!Role::AgencyManager.has(Permission::Supervise));
        assert!(!Role::Evaluator.has(Permission::RevealSensitive));
        assert!(!Role::Auditor.has(Permission::RevealSensitive));
        assert!(!Role::SystemAdmin.has(Permission::RevealSensitive));
    }

    #[test]
    fn supervision_is_arranged_by_managers_and_supervisors() {
        for r in [
            Role::CivilAffairsAdmin,
            Role::AgencyManager,
            Role::Supervisor,
        ] {
            assert!(r.has(Permission::ArrangeSupervision), "{r:?}");
        }
        for r in [
            Role::SocialWorker,
            Role::Evaluator,
            Role::SystemAdmin,
            Role::SecurityAdmin,
            Role::Auditor,
        ] {
            assert!(!r.has(Permission::ArrangeSupervision), "{r:?}");
        }
    }

    #[test]
    fn civil_affairs_admins_grant_only_business_roles() {
        assert!(Role::CivilAffairsAdmin.can_grant(Role::SocialWorker));
        assert!(!Role::CivilAffairsAdmin.can_grant(Role::Auditor));
        assert!(!Role::CivilAffairsAdmin.can_grant(Role::SecurityAdmin));
        assert!(Role::SecurityAdmin.can_grant(Role::SystemAdmin));
        assert!(!Role::SocialWorker.can_grant(Role::SocialWorker));
    }
}
