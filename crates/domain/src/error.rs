use crate::text::Text;
use crate::values::Status;

/// Why a command was refused. Each variant maps to one machine code of the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input is well-formed JSON but breaks a rule (`validation`, 422).
    #[error("{0}")]
    Validation(Text),
    /// The case's status does not allow the step (`invalid_transition`, 422).
    #[error("cannot {action} a case in status {status}")]
    InvalidTransition {
        action: &'static str,
        status: Status,
    },
    /// A petitioner's window has closed (`deadline_passed`, 422).
    #[error("{0}")]
    DeadlinePassed(Text),
    /// Accepting a repeat of a terminated matter without new facts (`terminated_matter`, 422).
    #[error("{0}")]
    TerminatedMatter(Text),
    /// Giving a case to the unit its accusation is against (`accused_unit`, 422).
    #[error("{0}")]
    AccusedUnit(Text),
    /// Closing after a dissatisfied follow-up that no reply answered, without a note
    /// (`note_required`, 422).
    #[error("{0}")]
    NoteRequired(Text),
    /// A late entry (补录) without `late_reason` while the policy requires one
    /// (`late_reason_required`, 422).
    #[error("{0}")]
    LateReasonRequired(Text),
    /// Known principal, not allowed (`forbidden`, 403).
    #[error("{0}")]
    Forbidden(Text),
    /// No such case, or one the principal may not know of (`not_found`, 404).
    #[error("case not found")]
    NotFound,
}

impl DomainError {
    /// The message for people, in both languages.
    pub fn text(&self) -> Text {
        match self {
            DomainError::Validation(t)
            | DomainError::DeadlinePassed(t)
            | DomainError::TerminatedMatter(t)
            | DomainError::AccusedUnit(t)
            | DomainError::NoteRequired(t)
            | DomainError::LateReasonRequired(t)
            | DomainError::Forbidden(t) => t.clone(),
            DomainError::InvalidTransition { action, status } => {
                let step = crate::Action::parse(action).map_or(*action, |a| a.name_zh());
                Text::new(
                    self.to_string(),
                    format!("状态为“{}”的案件不能{step}", status.name_zh()),
                )
            }
            DomainError::NotFound => Text::new(self.to_string(), "案件不存在"),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Validation(_) => "validation",
            DomainError::InvalidTransition { .. } => "invalid_transition",
            DomainError::DeadlinePassed(_) => "deadline_passed",
            DomainError::TerminatedMatter(_) => "terminated_matter",
            DomainError::AccusedUnit(_) => "accused_unit",
            DomainError::NoteRequired(_) => "note_required",
            DomainError::LateReasonRequired(_) => "late_reason_required",
            DomainError::Forbidden(_) => "forbidden",
            DomainError::NotFound => "not_found",
        }
    }
}
