//! Failures answered over HTTP: the one table of statuses and codes is `commands::problem`, shared
//! with the township inbox; here it becomes a response with problem+json and the headers HTTP
//! adds (`Retry-After`, `WWW-Authenticate`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use commands::problem::{Failure, Problem};
use commands::CommandError;
use domain::DomainError;

/// A failure as an HTTP answer. Handlers build a [`Failure`] and `?` turns it into this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(pub Failure);

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        ApiError(f)
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        ApiError(e.into())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError(failure) = self;
        if let Failure::Internal(why) = &failure {
            tracing::error!(%why, "internal error");
        }
        let problem = failure.problem_in(crate::lang::current());
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &failure {
            Failure::InsufficientStorage(_) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(60u32));
            }
            Failure::Unavailable(_, secs) | Failure::TooManyRequests(_, secs) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            Failure::Unauthorized(_) => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        resp
    }
}
