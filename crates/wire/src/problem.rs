//! `application/problem+json` (RFC 9457): every error of the API, and the `error` of a township
//! inbox message's outcome.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The machine code of a problem: the same in every language, what a client branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    Validation,
    InvalidTransition,
    DeadlinePassed,
    VersionConflict,
    NotFound,
    TerminatedMatter,
    AccusedUnit,
    NoteRequired,
    LateReasonRequired,
    Unauthorized,
    Forbidden,
    IdempotencyMismatch,
    NotIssued,
    Unavailable,
    PayloadTooLarge,
    MethodNotAllowed,
    RequestTimeout,
    UnsupportedMediaType,
    TooManyRequests,
    InsufficientStorage,
    Internal,
}

impl ProblemCode {
    pub const ALL: [ProblemCode; 21] = [
        ProblemCode::Validation,
        ProblemCode::InvalidTransition,
        ProblemCode::DeadlinePassed,
        ProblemCode::VersionConflict,
        ProblemCode::NotFound,
        ProblemCode::TerminatedMatter,
        ProblemCode::AccusedUnit,
        ProblemCode::NoteRequired,
        ProblemCode::LateReasonRequired,
        ProblemCode::Unauthorized,
        ProblemCode::Forbidden,
        ProblemCode::IdempotencyMismatch,
        ProblemCode::NotIssued,
        ProblemCode::Unavailable,
        ProblemCode::PayloadTooLarge,
        ProblemCode::MethodNotAllowed,
        ProblemCode::RequestTimeout,
        ProblemCode::UnsupportedMediaType,
        ProblemCode::TooManyRequests,
        ProblemCode::InsufficientStorage,
        ProblemCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::Validation => "validation",
            ProblemCode::InvalidTransition => "invalid_transition",
            ProblemCode::DeadlinePassed => "deadline_passed",
            ProblemCode::VersionConflict => "version_conflict",
            ProblemCode::NotFound => "not_found",
            ProblemCode::TerminatedMatter => "terminated_matter",
            ProblemCode::AccusedUnit => "accused_unit",
            ProblemCode::NoteRequired => "note_required",
            ProblemCode::LateReasonRequired => "late_reason_required",
            ProblemCode::Unauthorized => "unauthorized",
            ProblemCode::Forbidden => "forbidden",
            ProblemCode::IdempotencyMismatch => "idempotency_mismatch",
            ProblemCode::NotIssued => "not_issued",
            ProblemCode::Unavailable => "unavailable",
            ProblemCode::PayloadTooLarge => "payload_too_large",
            ProblemCode::MethodNotAllowed => "method_not_allowed",
            ProblemCode::RequestTimeout => "request_timeout",
            ProblemCode::UnsupportedMediaType => "unsupported_media_type",
            ProblemCode::TooManyRequests => "too_many_requests",
            ProblemCode::InsufficientStorage => "insufficient_storage",
            ProblemCode::Internal => "internal",
        }
    }

    /// The code of a refusal of the rules (`domain::DomainError`).
    pub fn of(e: &domain::DomainError) -> ProblemCode {
        use domain::DomainError as E;
        match e {
            E::Validation(_) => ProblemCode::Validation,
            E::InvalidTransition { .. } => ProblemCode::InvalidTransition,
            E::DeadlinePassed(_) => ProblemCode::DeadlinePassed,
            E::TerminatedMatter(_) => ProblemCode::TerminatedMatter,
            E::AccusedUnit(_) => ProblemCode::AccusedUnit,
            E::NoteRequired(_) => ProblemCode::NoteRequired,
            E::LateReasonRequired(_) => ProblemCode::LateReasonRequired,
            E::Forbidden(_) => ProblemCode::Forbidden,
            E::NotFound => ProblemCode::NotFound,
        }
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `application/problem+json` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: ProblemCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each code is written as its name, and `as_str` says the same.
    #[test]
    fn codes_are_written_as_their_names() {
        for code in ProblemCode::ALL {
            let json = serde_json::to_value(code).expect("json");
            assert_eq!(json, serde_json::Value::from(code.as_str()));
            assert_eq!(
                serde_json::from_value::<ProblemCode>(json).expect("back"),
                code
            );
        }
    }

    /// The domain's refusals keep the codes they had as strings.
    #[test]
    fn domain_refusals_keep_their_codes() {
        let e = domain::DomainError::NotFound;
        assert_eq!(ProblemCode::of(&e).as_str(), e.code());
    }
}
