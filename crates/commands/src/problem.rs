//! One table maps every refusal to a status and a machine code (RFC 9457 problem+json), shared by
//! the HTTP API and the outcomes of township inbox messages.

use domain::{DomainError, Lang, Text};
use eventlog::LogError;

use crate::CommandError;

use wire::{Problem, ProblemCode};

/// The problem for a status answered outside the handlers (a rejection of the framework, a
/// malformed request hyper answered, a connection over the limit, a caught panic).
pub fn for_status(status: u16, detail: &str) -> Problem {
    for_status_in(status, &Text::new(detail, detail), Lang::En)
}

/// The same in `lang`.
pub fn for_status_in(status: u16, detail: &Text, lang: Lang) -> Problem {
    use ProblemCode as C;
    let code = match status {
        400 | 414 | 431 => C::Validation,
        401 => C::Unauthorized,
        403 => C::Forbidden,
        404 => C::NotFound,
        405 => C::MethodNotAllowed,
        408 => C::RequestTimeout,
        413 => C::PayloadTooLarge,
        415 => C::UnsupportedMediaType,
        422 => C::Validation,
        429 => C::TooManyRequests,
        503 => C::Unavailable,
        507 => C::InsufficientStorage,
        400..=499 => C::Validation,
        _ => C::Internal,
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
        code,
    }
}

/// The title of a problem with `code` (and, for `validation`, its status: 400 is a malformed
/// request, 422 a rule broken), in `lang`.
fn title(code: ProblemCode, status: u16, lang: Lang) -> &'static str {
    use ProblemCode as C;
    let (en, zh) = match (code, status) {
        (C::Validation, 400) => ("Malformed request", "请求格式错误"),
        (C::Validation, _) => ("Invalid request", "请求不符合规则"),
        (C::InvalidTransition, _) => ("Step not allowed in this status", "当前状态不允许此操作"),
        (C::DeadlinePassed, _) => ("Deadline passed", "期限已过"),
        (C::TerminatedMatter, _) => ("Repeats a terminated matter", "重复已终结的信访事项"),
        (C::AccusedUnit, _) => ("The accusation is against this unit", "检举控告针对该单位"),
        (C::NoteRequired, _) => ("A note is required", "须填写办结说明"),
        (C::LateReasonRequired, _) => ("A late entry needs its reason", "补录须说明理由"),
        (C::Forbidden, _) => ("Forbidden", "无权操作"),
        (C::NotFound, _) => ("Not found", "未找到"),
        (C::VersionConflict, _) => ("Version conflict", "版本冲突"),
        (C::IdempotencyMismatch, _) => ("Idempotency key reused", "幂等键已用于其他请求"),
        (C::NotIssued, _) => ("Document not issued yet", "文书尚未出具"),
        (C::Unauthorized, _) => ("Unauthorized", "未认证"),
        (C::MethodNotAllowed, _) => ("Method not allowed", "不支持此请求方法"),
        (C::RequestTimeout, _) => ("Request timeout", "请求超时"),
        (C::PayloadTooLarge, _) => ("Payload too large", "请求内容过大"),
        (C::UnsupportedMediaType, _) => ("Unsupported media type", "不支持的文件类型"),
        (C::TooManyRequests, _) => ("Too many requests", "请求过于频繁"),
        (C::InsufficientStorage, _) => ("Insufficient storage", "存储空间不足"),
        (C::Unavailable, _) => ("Service unavailable", "服务暂时不可用"),
        (C::Internal, _) => ("Internal error", "内部错误"),
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
    /// A document not issued yet, asked by a reader who may not issue it (`not_issued`, 409).
    NotIssued(Text),
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
    fn parts(&self) -> (u16, ProblemCode) {
        use Failure::*;
        use ProblemCode as C;
        match self {
            BadRequest(_) => (400, C::Validation),
            Domain(e) => match e {
                DomainError::Forbidden(_) => (403, C::Forbidden),
                DomainError::NotFound => (404, C::NotFound),
                e => (422, ProblemCode::of(e)),
            },
            VersionConflict { .. } => (409, C::VersionConflict),
            IdempotencyMismatch => (422, C::IdempotencyMismatch),
            NotIssued(_) => (409, C::NotIssued),
            Unauthorized(_) => (401, C::Unauthorized),
            NotFound => (404, C::NotFound),
            MethodNotAllowed => (405, C::MethodNotAllowed),
            PayloadTooLarge(_) => (413, C::PayloadTooLarge),
            UnsupportedMediaType(_) => (415, C::UnsupportedMediaType),
            TooManyRequests(..) => (429, C::TooManyRequests),
            InsufficientStorage(_) => (507, C::InsufficientStorage),
            Unavailable(..) => (503, C::Unavailable),
            Internal(_) => (500, C::Internal),
        }
    }

    /// The detail for people, in both languages.
    pub fn detail(&self) -> Text {
        use Failure::*;
        match self {
            BadRequest(d)
            | NotIssued(d)
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
            code,
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
