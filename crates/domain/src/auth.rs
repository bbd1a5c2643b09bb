//! Who may do what (docs/contract.md, "Principals").
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
    /// The unit a clerk, handler or township system acts for; none for county-wide roles.
    pub fn acting_unit(&self) -> Option<&UnitCode> {
        if acts_for_a_unit(self.role) {
            self.unit.as_ref()
        } else {
            None
        }
    }
}

/// Whether `p` acts for `unit`: a clerk, handler or system of it, or a county principal whose
/// configured unit it is (the county bureau keeping a case).
pub fn acts_for(p: &Principal, unit: &UnitCode) -> bool {
    matches!(
        p.role,
        Role::County | Role::Clerk | Role::Handler | Role::System
    ) && p.unit.as_ref() == Some(unit)
}

/// Whether a principal of `role` acts for one unit (and must name it in the configuration):
/// clerks, handlers and township systems.
pub fn acts_for_a_unit(role: Role) -> bool {
    matches!(role, Role::Clerk | Role::Handler | Role::System)
}

/// Whether `p` reads county-wide: the county bureau and auditors see what a unit never does, an
/// accusation's summary and the unit it is against, and the cases related to a case.
pub fn reads_county_wide(p: &Principal) -> bool {
    matches!(p.role, Role::County | Role::Auditor)
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
            | Action::ResolutionPlan
            | Action::Remind
            | Action::Reopen
            | Action::RequestAdjustment
            | Action::ApproveAdjustment
            | Action::RevokeAdjustment
            | Action::RequestErasure
            | Action::ApproveErasure
    )
}

/// May this principal see that the case exists at all?
pub fn can_read_case(p: &Principal, case: &Case) -> Result<(), DomainError> {
    match p.role {
        Role::County | Role::Auditor => Ok(()),
        Role::Analyst => Err(analysts_read_statistics()),
        // The accused unit never learns of an accusation (条例 30), whatever else holds.
        Role::Clerk | Role::Handler | Role::System => match p.acting_unit() {
            Some(u) if case.units.contains(u) && case.accused_unit.as_ref() != Some(u) => Ok(()),
            _ => Err(DomainError::NotFound),
        },
    }
}

/// Whether `p` may read (not act on) `case` because `merged`, a case it may read, was merged
/// into it (合并办理): the merged case's readers follow their matter to where it is handled. The
/// accused-unit rule still wins.
pub fn can_read_as_merged(p: &Principal, case: &Case, merged: &Case) -> Result<(), DomainError> {
    if merged.merged_into != Some(case.id.0) || is_accused(p, case) {
        return Err(DomainError::NotFound);
    }
    can_read_case(p, merged)
}

/// Whether `p` acts for the unit an accusation is against: it sees nothing of such a case, not
/// even in a figure.
pub fn is_accused(p: &Principal, case: &Case) -> bool {
    case.accused_unit.is_some() && p.acting_unit() == case.accused_unit.as_ref()
}

/// May this principal look cases up (by number, by search) at all? Everyone who may read a case;
/// analysts read statistics only. Which cases it finds is [`can_read_case`] for each.
pub fn can_find_cases(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Analyst => Err(analysts_read_statistics()),
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
                && p.acting_unit().is_some_and(|u| case.units.contains(u))
        }
    }
}

/// May this principal register a petition for `township`?
pub fn authorize_register(p: &Principal, township: &UnitCode) -> Result<(), DomainError> {
    match p.role {
        Role::County => Ok(()),
        Role::Clerk | Role::Handler | Role::System => match p.acting_unit() {
            Some(u) if u == township => Ok(()),
            _ => Err(DomainError::Forbidden(crate::text!(
                "a unit registers petitions only for itself",
                "只能为本单位登记信访事项"
            ))),
        },
        Role::Auditor | Role::Analyst => {
            let role = p.role;
            Err(DomainError::Forbidden(crate::text!(
                "role {role} cannot register petitions",
                "{role} 角色不能登记信访事项"
            )))
        }
    }
}

/// May this principal take `action` on this existing case?
pub fn authorize_command(p: &Principal, action: Action, case: &Case) -> Result<(), DomainError> {
    match p.role {
        // 签收 is the accountable unit's own: the county acknowledges only a case it keeps.
        Role::County if action == Action::Acknowledge && !acts_for(p, &case.unit) => {
            let unit = &case.unit;
            Err(DomainError::Forbidden(crate::text!(
                "only the accountable unit ({unit}) may acknowledge the case",
                "只有责任单位（{unit}）可以签收"
            )))
        }
        Role::County => Ok(()),
        // An auditor approves or revokes an adjustment of the figures (核减), and changes nothing
        // else; an adjustment is requested by the county.
        Role::Auditor
            if matches!(
                action,
                Action::ApproveAdjustment | Action::RevokeAdjustment | Action::ApproveErasure
            ) =>
        {
            Ok(())
        }
        Role::Auditor | Role::Analyst => {
            let role = p.role;
            Err(DomainError::Forbidden(crate::text!(
                "role {role} cannot change cases",
                "{role} 角色不能办理案件"
            )))
        }
        Role::Clerk | Role::Handler | Role::System => {
            can_read_case(p, case)?;
            if matches!(action, Action::Correct | Action::ReissueQueryCode) {
                // The township the case was registered for may correct it (within the window
                // `decide` checks) and give its petitioner a new query code, whoever is
                // accountable now.
                return if p.acting_unit() == Some(&case.township) {
                    Ok(())
                } else {
                    let t = &case.township;
                    let (en, zh) = (action.as_str(), action.name_zh());
                    Err(DomainError::Forbidden(crate::text!(
                        "only the county or the township the case was registered for ({t}) may {en}",
                        "只有县信访局或登记该案件的乡镇（{t}）可以{zh}"
                    )))
                };
            }
            if county_only(action) {
                let (en, zh) = (action.as_str(), action.name_zh());
                return Err(DomainError::Forbidden(crate::text!(
                    "only the county may {en}",
                    "只有县信访局可以{zh}"
                )));
            }
            if p.acting_unit() != Some(&case.unit) {
                let (unit, en, zh) = (&case.unit, action.as_str(), action.name_zh());
                return Err(DomainError::Forbidden(crate::text!(
                    "only the accountable unit ({unit}) or the county may {en}",
                    "只有责任单位（{unit}）或县信访局可以{zh}"
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
        Role::Analyst => Err(analysts_read_statistics()),
        Role::Clerk | Role::Handler | Role::System if p.acting_unit() == Some(unit) => Ok(()),
        Role::Clerk | Role::Handler | Role::System => Err(DomainError::Forbidden(crate::text!(
            "a unit sees only its own queue",
            "只能查看本单位的待办"
        ))),
    }
}

/// The scope a statistics query asks for: exactly one township, exactly one accountable unit,
/// or neither (the county).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsScope<'a> {
    pub township: Option<&'a str>,
    pub unit: Option<&'a str>,
}

/// May this principal read statistics of `scope`? Analysts, the county and auditors read all. A
/// unit's staff and system read their own unit's figures (`unit` = their own: the on-time reply
/// rate, closure and satisfaction of the cases it answers for), and a township's staff and
/// system its township's too (`township` = their own).
pub fn can_read_stats(p: &Principal, scope: StatsScope<'_>) -> Result<(), DomainError> {
    let own = p.acting_unit().map(UnitCode::as_str);
    match p.role {
        Role::Analyst | Role::County | Role::Auditor => Ok(()),
        Role::Clerk | Role::Handler | Role::System
            if own.is_some()
                && (scope.unit.is_none() || scope.unit == own)
                && (scope.township.is_none() || scope.township == own)
                && (scope.unit.is_some() || scope.township.is_some()) =>
        {
            Ok(())
        }
        _ => Err(DomainError::Forbidden(crate::text!(
            "a unit reads statistics of its own only: unit = its own, or township = its own",
            "各单位只能查看本单位的统计：unit 或 township 须为本单位"
        ))),
    }
}

/// May this principal read an official's trail (everything one principal did)?
pub fn can_read_trail(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Auditor | Role::County => Ok(()),
        _ => Err(DomainError::Forbidden(crate::text!(
            "only auditors and the county read an official's trail",
            "只有审计人员和县信访局可以查看工作人员的操作记录"
        ))),
    }
}

/// May this principal verify the log's proof of a case and export its bundle? Auditors and the
/// county.
pub fn can_verify(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Auditor | Role::County => Ok(()),
        _ => Err(DomainError::Forbidden(crate::text!(
            "only auditors and the county verify cases and export their bundles",
            "只有审计人员和县信访局可以校验案件记录并导出证明包"
        ))),
    }
}

/// May this principal handle adjustments of the figures (核减): list them, approve or revoke one?
/// The county and auditors; who may request one is [`authorize_command`].
pub fn can_handle_adjustments(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Auditor | Role::County => Ok(()),
        _ => Err(DomainError::Forbidden(crate::text!(
            "only the county and auditors handle adjustments of the figures",
            "只有县信访局和审计人员可以办理核减"
        ))),
    }
}

/// May this principal handle erasures of personal data (个人信息删除): list them, approve one?
/// The county and auditors; who may request one is [`authorize_command`].
pub fn can_handle_erasures(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Auditor | Role::County => Ok(()),
        _ => Err(DomainError::Forbidden(crate::text!(
            "only the county and auditors handle erasures of personal data",
            "只有县信访局和审计人员可以办理个人信息删除"
        ))),
    }
}

/// May this principal read the county's workbench (every unit's open cases)? A unit reads its
/// own queue instead.
pub fn can_read_workbench(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::County | Role::Auditor => Ok(()),
        _ => Err(DomainError::Forbidden(crate::text!(
            "the workbench is the county's and the auditors'; a unit reads its own queue",
            "工作台仅供县信访局和审计人员使用；各单位查看本单位待办"
        ))),
    }
}

/// 苗头预警: whose alerts `p` reads, asking for `township` (`None`: not given). The county and
/// auditors read every township's (`Ok(None)`); a township's principals their own township's
/// (`Ok(Some(own))`, the default; another township is 403); departments and analysts none.
/// `is_township` tells whether a unit is a township.
pub fn alerts_reader(
    p: &Principal,
    township: Option<&UnitCode>,
    is_township: impl Fn(&UnitCode) -> bool,
) -> Result<Option<UnitCode>, DomainError> {
    match (p.role, p.acting_unit()) {
        (Role::County | Role::Auditor, _) => Ok(None),
        (Role::Clerk | Role::Handler | Role::System, Some(own))
            if is_township(own) && township.is_none_or(|t| t == own) =>
        {
            Ok(Some(own.clone()))
        }
        (Role::Clerk | Role::Handler | Role::System, Some(own)) if is_township(own) => {
            Err(DomainError::Forbidden(crate::text!(
                "a township reads its own alerts only",
                "乡镇只能查看本乡镇的预警"
            )))
        }
        _ => Err(DomainError::Forbidden(crate::text!(
            "alerts are the county's, the auditors' and each township's own",
            "预警仅供县信访局、审计人员和各乡镇（本乡镇）查看"
        ))),
    }
}

/// May this principal review an alert (研判)? The county alone.
pub fn can_review_alerts(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::County => Ok(()),
        _ => Err(DomainError::Forbidden(crate::text!(
            "only the county reviews alerts",
            "只有县信访局可以研判预警"
        ))),
    }
}

/// May this principal export the cases of a period (without personal data)?
pub fn can_export_cases(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Analyst | Role::County | Role::Auditor => Ok(()),
        _ => Err(DomainError::Forbidden(crate::text!(
            "only analysts, the county and auditors export cases",
            "只有统计分析人员、县信访局和审计人员可以导出案件"
        ))),
    }
}

/// May this principal store evidence before attaching it? Those who handle cases.
pub fn can_store_evidence(p: &Principal) -> Result<(), DomainError> {
    match p.role {
        Role::Clerk | Role::Handler | Role::System | Role::County => Ok(()),
        _ => Err(DomainError::Forbidden(crate::text!(
            "only those who handle cases store evidence",
            "只有办理案件的人员可以提交证据材料"
        ))),
    }
}

fn analysts_read_statistics() -> DomainError {
    DomainError::Forbidden(crate::text!(
        "analysts read statistics, not individual cases or queues",
        "统计分析人员只能查看统计，不能查看具体案件或待办"
    ))
}
