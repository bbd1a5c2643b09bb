//! Why a command was not applied.

use domain::DomainError;
use eventlog::LogError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("the case is at version {current}, not {expected}")]
    VersionConflict { expected: u64, current: u64 },
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    /// The log did not do it, with its kind intact: `Unavailable` and `Unknown` after the retry
    /// budget is spent, `Full`, or damage (`Corrupt`, `Refused`, …).
    #[error(transparent)]
    Log(#[from] LogError),
    /// Free disk space is below the watermark: refused at once, nothing sent to the log.
    #[error("free disk space is below the minimum; nothing was stored")]
    StorageLow,
    /// A broken invariant of the command path itself (a bug or a damaged record).
    #[error("{0}")]
    Internal(String),
}

/// What a caller can do about a command error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// The request itself must change (a rule, a version, a key).
    Change,
    /// Nothing was stored; the same request may succeed later.
    RetryLater,
    /// Nothing was stored for lack of space; it may succeed once space is freed.
    WaitForSpace,
    /// A bug or damage; retrying will not help.
    Report,
}

impl CommandError {
    pub fn remedy(&self) -> Remedy {
        match self {
            CommandError::Domain(_)
            | CommandError::VersionConflict { .. }
            | CommandError::IdempotencyMismatch => Remedy::Change,
            CommandError::Log(LogError::Full { .. }) | CommandError::StorageLow => {
                Remedy::WaitForSpace
            }
            CommandError::Log(
                LogError::Unavailable { .. } | LogError::Unknown | LogError::Conflict,
            ) => Remedy::RetryLater,
            CommandError::Log(_) | CommandError::Internal(_) => Remedy::Report,
        }
    }

    /// The machine code the refusal is answered with (`commands::problem`), for metrics.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Domain(e) => e.code(),
            CommandError::VersionConflict { .. } => "version_conflict",
            CommandError::IdempotencyMismatch => "idempotency_mismatch",
            _ => match self.remedy() {
                Remedy::RetryLater => "unavailable",
                Remedy::WaitForSpace => "insufficient_storage",
                Remedy::Change | Remedy::Report => "internal",
            },
        }
    }

    /// Whether the command path retries it within its budget (nothing was stored, or whether it
    /// was is found by re-reading the case).
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, CommandError::Log(e) if e.is_transient() || matches!(e, LogError::Unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nats() -> eventlog::Cause {
        "no responders".into()
    }

    /// Issue 11: a log error keeps its kind up to the answer; a conflict or an unknown outcome is
    /// no longer folded into "unavailable" text, and a full store is not an internal error.
    #[test]
    fn each_log_error_keeps_its_remedy_and_code() {
        let cases = [
            (LogError::Conflict, Remedy::RetryLater, "unavailable"),
            (LogError::Unknown, Remedy::RetryLater, "unavailable"),
            (
                LogError::unavailable("appending", nats()),
                Remedy::RetryLater,
                "unavailable",
            ),
            (
                LogError::Full { source: nats() },
                Remedy::WaitForSpace,
                "insufficient_storage",
            ),
            (
                LogError::Refused { source: nats() },
                Remedy::Report,
                "internal",
            ),
            (LogError::Empty, Remedy::Report, "internal"),
        ];
        for (log, remedy, code) in cases {
            let e = CommandError::from(log);
            assert_eq!(e.remedy(), remedy, "{e}");
            assert_eq!(e.code(), code, "{e}");
            assert!(matches!(e, CommandError::Log(_)), "the kind is kept: {e:?}");
        }
        assert!(CommandError::from(LogError::Unknown).is_transient());
        assert!(!CommandError::from(LogError::Full { source: nats() }).is_transient());
        assert_eq!(CommandError::StorageLow.remedy(), Remedy::WaitForSpace);
        // The source error is still reachable.
        let e = LogError::unavailable("appending", nats());
        assert_eq!(
            std::error::Error::source(&e).map(|s| s.to_string()),
            Some("no responders".into())
        );
    }
}
