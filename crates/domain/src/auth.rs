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
        Action::Assign
            | Action::Supervise
            | Action::DecideReview
            | Action::DecideRereview
            | Action::Merge
            | Action::AssignLeader
    )
}

/// May this principal see that the case exists at all?
pub fn can_read_case(p: &Principal, case: &Case) -> Result<(), DomainError> {
    match p.role {
        Role::County | Role::Auditor => Ok(()),
        Role::Analyst => Err(DomainError::Forbidden(
            "analysts read statistics, not individual cases".into(),
        )),
        // The accused unit never learns of an accusation (条例 30), whatever else holds.
        Role::Clerk | Role::Handler | Role::System => match p.unit_role() {
            Some(u) if case.units.contains(u) && case.accused_unit.as_ref() != Some(u) => Ok(()),
            _ => Err(DomainError::NotFound),
        },
    }
}

/// Whether `p` acts for the unit an accusation is against: it sees nothing of such a case, not
/// even in a figure.
pub fn is_accused(p: &Principal, case: &Case) -> bool {
    case.accused_unit.is_some() && p.unit_role() == case.accused_unit.as_ref()
}

/// May this principal look cases up (by number, by search) at all? Everyone who may read a case;
/// analysts read statistics only. Which cases it finds is [`can_read_case`] for each.
pub fn can_find_cases(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Analyst => Err(DomainError::Forbidden(
            "analysts read statistics, not individual cases".into(),
        )),
        _ => Ok(()),
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
            if action == Action::Correct {
                // The township the case was registered for may correct it (within the window
                // `decide` checks), whoever is accountable now.
                return if p.unit_role() == Some(&case.township) {
                    Ok(())
                } else {
                    Err(DomainError::Forbidden(format!(
                        "only the county or the township the case was registered for ({}) may correct it",
                        case.township
                    )))
                };
            }
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

/// May this principal read the work queue of `unit`? The county and auditors read every queue, a
/// unit's own staff and system its own; analysts read statistics only.
pub fn can_read_queue(p: &Principal, unit: &UnitCode) -> Result<(), DomainError> {
    match p.role {
        Role::County | Role::Auditor => Ok(()),
        Role::Analyst => Err(DomainError::Forbidden(
            "analysts read statistics, not work queues".into(),
        )),
        Role::Clerk | Role::Handler | Role::System if p.unit_role() == Some(unit) => Ok(()),
        Role::Clerk | Role::Handler | Role::System => Err(DomainError::Forbidden(
            "a unit sees only its own queue".into(),
        )),
    }
}

/// May this principal read statistics scoped to `township` (`None`: the whole county)? Analysts,
/// the county and auditors read all; a township's clerks and system only their own township;
/// handlers none.
pub fn can_read_stats(p: &Principal, township: Option<&str>) -> Result<(), DomainError> {
    match p.role {
        Role::Analyst | Role::County | Role::Auditor => Ok(()),
        Role::Clerk | Role::System
            if township.is_some() && p.unit_role().map(UnitCode::as_str) == township =>
        {
            Ok(())
        }
        Role::Clerk | Role::System => Err(DomainError::Forbidden(
            "a township reads statistics only with township = its own".into(),
        )),
        Role::Handler => Err(DomainError::Forbidden(
            "handlers do not read statistics".into(),
        )),
    }
}

/// May this principal read an official's trail (everything one principal did)?
pub fn can_read_trail(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Auditor | Role::County => Ok(()),
        _ => Err(DomainError::Forbidden(
            "only auditors and the county read an official's trail".into(),
        )),
    }
}
