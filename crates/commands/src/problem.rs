//! One table maps every refusal to a status and a machine code (RFC 9457 problem+json), shared by
//! the HTTP API and the outcomes of township inbox messages.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::{DomainError, Lang, Text};
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
        Problem::for_status_in(status, &Text::new(detail, detail), Lang::En)
    }

    /// The same in `lang`.
    pub fn for_status_in(status: u16, detail: &Text, lang: Lang) -> Problem {
        let code = match status {
            400 | 414 | 431 => "validation",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            408 => "request_timeout",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            422 => "validation",
            429 => "too_many_requests",
            503 => "unavailable",
            507 => "insufficient_storage",
            400..=499 => "validation",
            _ => "internal",
        };
        let title = if status == 400 {
            title(code, 400, lang)
        } else {
            title(code, 0, lang)
        };
        Problem {
            type_: format!("https://xinfang.dev/problems/{code}"),
            title: title.into(),
            status,
            detail: detail.in_lang(lang).to_owned(),
            code: code.into(),
        }
    }
}

/// The title of a problem with `code` (and, for `validation`, its status: 400 is a malformed
/// request, 422 a rule broken), in `lang`.
fn title(code: &str, status: u16, lang: Lang) -> &'static str {
    let (en, zh) = match (code, status) {
        ("validation", 400) => ("Malformed request", "请求格式错误"),
        ("validation", _) => ("Invalid request", "请求不符合规则"),
        ("invalid_transition", _) => ("Step not allowed in this status", "当前状态不允许此操作"),
        ("deadline_passed", _) => ("Deadline passed", "期限已过"),
        ("terminated_matter", _) => ("Repeats a terminated matter", "重复已终结的信访事项"),
        ("accused_unit", _) => ("The accusation is against this unit", "检举控告针对该单位"),
        ("forbidden", _) => ("Forbidden", "无权操作"),
        ("not_found", _) => ("Not found", "未找到"),
        ("version_conflict", _) => ("Version conflict", "版本冲突"),
        ("idempotency_mismatch", _) => ("Idempotency key reused", "幂等键已用于其他请求"),
        ("unauthorized", _) => ("Unauthorized", "未认证"),
        ("method_not_allowed", _) => ("Method not allowed", "不支持此请求方法"),
        ("request_timeout", _) => ("Request timeout", "请求超时"),
        ("payload_too_large", _) => ("Payload too large", "请求内容过大"),
        ("unsupported_media_type", _) => ("Unsupported media type", "不支持的文件类型"),
        ("too_many_requests", _) => ("Too many requests", "请求过于频繁"),
        ("insufficient_storage", _) => ("Insufficient storage", "存储空间不足"),
        ("unavailable", _) => ("Service unavailable", "服务暂时不可用"),
        _ => ("Internal error", "内部错误"),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// Why a request was not done: one table gives each its status, machine code and title, for HTTP
/// (`api`) and for the outcomes of township messages (`inbox`) alike.
pub enum Failure {
    BadRequest(Text),
    Domain(DomainError),
    VersionConflict {
        expected: u64,
        current: u64,
    },
    IdempotencyMismatch,
    Unauthorized(Text),
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge(Text),
    UnsupportedMediaType(Text),
    /// Retry after the given seconds.
    TooManyRequests(Text, u64),
    InsufficientStorage(Text),
    /// Retry after the given seconds; the detail is technical (which service, which sequence).
    Unavailable(String, u64),
    /// Logged, never shown.
    Internal(String),
}

impl Failure {
    fn parts(&self) -> (u16, &'static str) {
        use Failure::*;
        match self {
            BadRequest(_) => (400, "validation"),
            Domain(e) => match e {
                DomainError::Forbidden(_) => (403, "forbidden"),
                DomainError::NotFound => (404, "not_found"),
                e => (422, e.code()),
            },
            VersionConflict { .. } => (409, "version_conflict"),
            IdempotencyMismatch => (422, "idempotency_mismatch"),
            Unauthorized(_) => (401, "unauthorized"),
            NotFound => (404, "not_found"),
            MethodNotAllowed => (405, "method_not_allowed"),
            PayloadTooLarge(_) => (413, "payload_too_large"),
            UnsupportedMediaType(_) => (415, "unsupported_media_type"),
            TooManyRequests(..) => (429, "too_many_requests"),
            InsufficientStorage(_) => (507, "insufficient_storage"),
            Unavailable(..) => (503, "unavailable"),
            Internal(_) => (500, "internal"),
        }
    }

    /// The detail for people, in both languages.
    pub fn detail(&self) -> Text {
        use Failure::*;
        match self {
            BadRequest(d)
            | Unauthorized(d)
            | PayloadTooLarge(d)
            | UnsupportedMediaType(d)
            | TooManyRequests(d, _)
            | InsufficientStorage(d) => d.clone(),
            Unavailable(d, _) => Text::new(
                d.clone(),
                format!("服务暂时不可用，请稍后重试（{d}）"),
            ),
            // One text for a case that does not exist and one the caller may not see, so the
            // answer is no oracle of another unit's cases.
            Domain(DomainError::NotFound) | NotFound => {
                Text::new("no such resource", "没有这个资源（或您无权查看）")
            }
            Domain(e) => e.text(),
            VersionConflict { expected, current } => domain::text!(
                "If-Match was version {expected}, the case is at version {current}; nothing was appended",
                "If-Match 为版本 {expected}，案件已是版本 {current}；未做任何更改"
            ),
            IdempotencyMismatch => Text::new(
                "this Idempotency-Key was already used with a different request",
                "此 Idempotency-Key 已用于另一个不同的请求",
            ),
            MethodNotAllowed => Text::new(
                "method not allowed on this resource",
                "此资源不支持该请求方法",
            ),
            // Never echo internals to the caller; they are logged where handled.
            Internal(_) => Text::new(
                "internal error; it has been logged",
                "内部错误，已记录日志",
            ),
        }
    }

    /// The problem in English (township outcomes; HTTP without a preference).
    pub fn problem(&self) -> Problem {
        self.problem_in(Lang::En)
    }

    /// The problem with `title` and `detail` in `lang`; `code` is the same in every language.
    pub fn problem_in(&self, lang: Lang) -> Problem {
        let (status, code) = self.parts();
        Problem {
            type_: format!("https://xinfang.dev/problems/{code}"),
            title: title(code, status, lang).into(),
            status,
            detail: self.detail().in_lang(lang).to_owned(),
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
            CommandError::StorageLow => Failure::InsufficientStorage(Text::new(
                "free disk space is below the configured minimum; nothing was stored",
                "磁盘剩余空间低于设定的下限，未保存任何内容",
            )),
            CommandError::Log(LogError::Full { .. }) => Failure::InsufficientStorage(Text::new(
                "the event store is full; nothing was stored",
                "事件存储已满，未保存任何内容",
            )),
            CommandError::Log(
                e @ (LogError::Unavailable { .. } | LogError::Unknown | LogError::Conflict),
            ) => Failure::Unavailable(e.to_string(), 2),
            e @ (CommandError::Log(_) | CommandError::Internal(_)) => {
                Failure::Internal(e.to_string())
            }
        }
    }
}
