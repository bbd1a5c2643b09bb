//! One table maps every refusal to a status and a machine code (RFC 9457 problem+json), shared by
//! the HTTP API and the outcomes of township inbox messages.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::DomainError;
use eventlog::LogError;

use crate::CommandError;

/// `application/problem+json` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Machine code: validation, invalid_transition, deadline_passed, version_conflict, not_found,
    /// terminated_matter, accused_unit, unauthorized, forbidden, idempotency_mismatch, unavailable, payload_too_large,
    /// method_not_allowed, request_timeout, unsupported_media_type, too_many_requests,
    /// insufficient_storage, internal.
    pub code: String,
}

impl Problem {
    /// The problem for a status answered outside the handlers (a rejection of the framework, a
    /// malformed request hyper answered, a connection over the limit, a caught panic).
    pub fn for_status(status: u16, detail: &str) -> Problem {
        let (code, title) = match status {
            400 | 414 | 431 => ("validation", "Malformed request"),
            401 => ("unauthorized", "Unauthorized"),
            403 => ("forbidden", "Forbidden"),
            404 => ("not_found", "Not found"),
            405 => ("method_not_allowed", "Method not allowed"),
            408 => ("request_timeout", "CommandRequest timeout"),
            413 => ("payload_too_large", "Payload too large"),
            415 => ("unsupported_media_type", "Unsupported media type"),
            422 => ("validation", "Invalid request"),
            429 => ("too_many_requests", "Too many requests"),
            503 => ("unavailable", "Service unavailable"),
            507 => ("insufficient_storage", "Insufficient storage"),
            400..=499 => ("validation", "Bad request"),
            _ => ("internal", "Internal error"),
        };
        Problem {
            type_: format!("https://xinfang.dev/problems/{code}"),
            title: title.into(),
            status,
            detail: detail.into(),
            code: code.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// Why a request was not done: one table gives each its status, machine code and title, for HTTP
/// (`api`) and for the outcomes of township messages (`inbox`) alike.
pub enum Failure {
    BadRequest(String),
    Domain(DomainError),
    VersionConflict {
        expected: u64,
        current: u64,
    },
    IdempotencyMismatch,
    Unauthorized(String),
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge(String),
    /// Retry after the given seconds.
    TooManyRequests(String, u64),
    InsufficientStorage(String),
    /// Retry after the given seconds.
    Unavailable(String, u64),
    Internal(String),
}

impl Failure {
    fn parts(&self) -> (u16, &'static str, &'static str) {
        use Failure::*;
        match self {
            BadRequest(_) => (400, "validation", "Malformed request"),
            Domain(e) => match e {
                DomainError::Validation(_) => (422, "validation", "Invalid request"),
                DomainError::InvalidTransition { .. } => {
                    (422, "invalid_transition", "Step not allowed in this status")
                }
                DomainError::DeadlinePassed(_) => (422, "deadline_passed", "Deadline passed"),
                DomainError::TerminatedMatter(_) => {
                    (422, "terminated_matter", "Repeats a terminated matter")
                }
                DomainError::AccusedUnit(_) => {
                    (422, "accused_unit", "The accusation is against this unit")
                }
                DomainError::Forbidden(_) => (403, "forbidden", "Forbidden"),
                DomainError::NotFound => (404, "not_found", "Not found"),
            },
            VersionConflict { .. } => (409, "version_conflict", "Version conflict"),
            IdempotencyMismatch => (422, "idempotency_mismatch", "Idempotency key reused"),
            Unauthorized(_) => (401, "unauthorized", "Unauthorized"),
            NotFound => (404, "not_found", "Not found"),
            MethodNotAllowed => (405, "method_not_allowed", "Method not allowed"),
            PayloadTooLarge(_) => (413, "payload_too_large", "Payload too large"),
            TooManyRequests(..) => (429, "too_many_requests", "Too many requests"),
            InsufficientStorage(_) => (507, "insufficient_storage", "Insufficient storage"),
            Unavailable(..) => (503, "unavailable", "Service unavailable"),
            Internal(_) => (500, "internal", "Internal error"),
        }
    }

    fn detail(&self) -> String {
        use Failure::*;
        match self {
            BadRequest(d)
            | Unauthorized(d)
            | PayloadTooLarge(d)
            | TooManyRequests(d, _)
            | InsufficientStorage(d)
            | Unavailable(d, _) => d.clone(),
            // One text for a case that does not exist and one the caller may not see, so the
            // answer is no oracle of another unit's cases.
            Domain(DomainError::NotFound) | NotFound => "no such resource".into(),
            Domain(e) => e.to_string(),
            VersionConflict { expected, current } => {
                format!("If-Match was version {expected}, the case is at version {current}; nothing was appended")
            }
            IdempotencyMismatch => {
                "this Idempotency-Key was already used with a different request".into()
            }
            MethodNotAllowed => "method not allowed on this resource".into(),
            // Never echo internals to the caller; they are logged where handled.
            Internal(_) => "internal error; it has been logged".into(),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        Problem {
            type_: format!("https://xinfang.dev/problems/{code}"),
            title: title.into(),
            status,
            detail: self.detail(),
            code: code.into(),
        }
    }
}

impl From<DomainError> for Failure {
    fn from(e: DomainError) -> Self {
        Failure::Domain(e)
    }
}

impl From<CommandError> for Failure {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Domain(d) => Failure::Domain(d),
            CommandError::VersionConflict { expected, current } => {
                Failure::VersionConflict { expected, current }
            }
            CommandError::IdempotencyMismatch => Failure::IdempotencyMismatch,
            CommandError::StorageLow => Failure::InsufficientStorage(
                "free disk space is below the configured minimum; nothing was stored".into(),
            ),
            CommandError::Log(LogError::Full { .. }) => {
                Failure::InsufficientStorage("the event store is full; nothing was stored".into())
            }
            CommandError::Log(
                e @ (LogError::Unavailable { .. } | LogError::Unknown | LogError::Conflict),
            ) => Failure::Unavailable(e.to_string(), 2),
            e @ (CommandError::Log(_) | CommandError::Internal(_)) => {
                Failure::Internal(e.to_string())
            }
        }
    }
}
