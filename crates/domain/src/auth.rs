//! Who may do what (api-contract.md, the "who" column of the command table, and the read rules).
//! Existence of another township's case must not leak, so a unit that never held a case gets
//! `NotFound`, not `Forbidden`.

use crate::case::Case;
use crate::command::Action;
use crate::error::DomainError;
use crate::ids::{PrincipalId, UnitCode};
use crate::values::Role;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Principal {
    pub id: PrincipalId,
    pub role: Role,
    /// The unit a clerk, handler or system acts for; none for county-wide roles.
    pub unit: Option<UnitCode>,
}

impl Principal {
    fn unit_role(&self) -> Option<&UnitCode> {
        match self.role {
            Role::Clerk | Role::Handler | Role::System => self.unit.as_ref(),
            _ => None,
        }
    }
}

fn county_only(action: Action) -> bool {
    matches!(
        action,
        Action::Assign | Action::Supervise | Action::DecideReview | Action::DecideRereview
    )
}

/// May this principal see that the case exists at all?
pub fn can_read_case(p: &Principal, case: &Case) -> Result<(), DomainError> {
    match p.role {
        Role::County | Role::Auditor => Ok(()),
        Role::Analyst => Err(DomainError::Forbidden(
            "analysts read statistics, not individual cases".into(),
        )),
        Role::Clerk | Role::Handler | Role::System => match p.unit_role() {
            Some(u) if case.units.contains(u) => Ok(()),
            _ => Err(DomainError::NotFound),
        },
    }
}

/// May this principal see the petitioners' personal data of this case?
pub fn can_see_personal_data(p: &Principal, case: &Case) -> bool {
    match p.role {
        Role::County | Role::Auditor => true,
        Role::Analyst => false,
        Role::Clerk | Role::Handler | Role::System => {
            !(case.accusation || case.confidential)
                && p.unit_role().is_some_and(|u| case.units.contains(u))
        }
    }
}

/// May this principal register a petition for `township`?
pub fn authorize_register(p: &Principal, township: &UnitCode) -> Result<(), DomainError> {
    match p.role {
        Role::County => Ok(()),
        Role::Clerk | Role::Handler | Role::System => match p.unit_role() {
            Some(u) if u == township => Ok(()),
            _ => Err(DomainError::Forbidden(format!(
                "{} may register petitions only for its own unit",
                p.id
            ))),
        },
        Role::Auditor | Role::Analyst => Err(DomainError::Forbidden(format!(
            "role {} cannot register petitions",
            p.role
        ))),
    }
}

/// May this principal take `action` on this existing case?
pub fn authorize_command(p: &Principal, action: Action, case: &Case) -> Result<(), DomainError> {
    match p.role {
        Role::County => Ok(()),
        Role::Auditor | Role::Analyst => Err(DomainError::Forbidden(format!(
            "role {} cannot change cases",
            p.role
        ))),
        Role::Clerk | Role::Handler | Role::System => {
            can_read_case(p, case)?;
            if county_only(action) {
                return Err(DomainError::Forbidden(format!(
                    "only the county may {}",
                    action.as_str()
                )));
            }
            if p.unit_role() != Some(&case.unit) {
                return Err(DomainError::Forbidden(format!(
                    "only the accountable unit ({}) or the county may {}",
                    case.unit,
                    action.as_str()
                )));
            }
            Ok(())
        }
    }
}
