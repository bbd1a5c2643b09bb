//! Failures answered over HTTP: the one table of statuses and codes is `commands::problem`, shared
//! with the township inbox; here it becomes a response with problem+json and the headers HTTP
//! adds (`Retry-After`, `WWW-Authenticate`).

use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use commands::problem::Failure;
use commands::CommandError;
use domain::DomainError;
use queries::QueryError;

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

/// Why a body could not be read: larger than `limit` (413), or broken (400, its text without
/// values).
pub(crate) fn body_failure(r: BytesRejection, limit: usize) -> Failure {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure::PayloadTooLarge(domain::text!(
            "request body is larger than {limit} bytes",
            "请求内容超过 {limit} 字节"
        ))
    } else {
        let why = domain::command::redact(&r.body_text());
        Failure::BadRequest(domain::text!(
            "the request body could not be read: {why}",
            "无法读取请求内容：{why}"
        ))
    }
}

pub(crate) fn query_failure(e: QueryError) -> Failure {
    match e {
        QueryError::NoAnswer { .. } | QueryError::Unavailable(_) => {
            Failure::Unavailable(e.to_string(), 1)
        }
        QueryError::BadRequest(d) => Failure::BadRequest(domain::Text::new(
            format!("the read model could not read the query: {d}"),
            format!("读模型无法解析查询：{d}"),
        )),
        QueryError::Internal(d) => Failure::Internal(d),
        QueryError::Busy(_) => Failure::TooManyRequests(
            domain::text!(
                "as many past points as the system builds at once are being built; retry shortly",
                "正在生成的历史时点视图已达上限，请稍后重试"
            ),
            2,
        ),
    }
}
