//! One table maps every error to an HTTP status and a machine code (RFC 9457 problem+json).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use domain::DomainError;
use eventlog::CommandError;

/// `application/problem+json` body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Machine code: validation, invalid_transition, deadline_passed, version_conflict, not_found,
    /// unauthorized, forbidden, idempotency_mismatch, unavailable, payload_too_large,
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
            408 => ("request_timeout", "Request timeout"),
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
pub enum ApiError {
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
    InsufficientStorage(String),
    /// Retry after the given seconds.
    Unavailable(String, u64),
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            BadRequest(_) => (StatusCode::BAD_REQUEST, "validation", "Malformed request"),
            Domain(e) => match e {
                DomainError::Validation(_) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid request",
                ),
                DomainError::InvalidTransition { .. } => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_transition",
                    "Step not allowed in this status",
                ),
                DomainError::DeadlinePassed(_) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "deadline_passed",
                    "Deadline passed",
                ),
                DomainError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
                DomainError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            },
            VersionConflict { .. } => {
                (StatusCode::CONFLICT, "version_conflict", "Version conflict")
            }
            IdempotencyMismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_mismatch",
                "Idempotency key reused",
            ),
            Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
            ),
            PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            InsufficientStorage(_) => (
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                "Insufficient storage",
            ),
            Unavailable(..) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    fn detail(&self) -> String {
        use ApiError::*;
        match self {
            BadRequest(d)
            | Unauthorized(d)
            | PayloadTooLarge(d)
            | InsufficientStorage(d)
            | Unavailable(d, _) => d.clone(),
            Domain(e) => e.to_string(),
            VersionConflict { expected, current } => {
                format!("If-Match was version {expected}, the case is at version {current}; nothing was appended")
            }
            IdempotencyMismatch => {
                "this Idempotency-Key was already used with a different request".into()
            }
            NotFound => "no such resource".into(),
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
            status: status.as_u16(),
            detail: self.detail(),
            code: code.into(),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Domain(d) => ApiError::Domain(d),
            CommandError::VersionConflict { expected, current } => {
                ApiError::VersionConflict { expected, current }
            }
            CommandError::IdempotencyMismatch => ApiError::IdempotencyMismatch,
            CommandError::Unavailable(why) => ApiError::Unavailable(why, 2),
            CommandError::InsufficientStorage(why) => ApiError::InsufficientStorage(why),
            CommandError::Internal(why) => ApiError::Internal(why),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(why) = &self {
            tracing::error!(%why, "internal error");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::InsufficientStorage(_) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(60u32));
            }
            ApiError::Unavailable(_, secs) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            ApiError::Unauthorized(_) => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        resp
    }
}
