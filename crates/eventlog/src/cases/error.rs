//! Why a command was not applied.

use domain::DomainError;

use crate::log::LogError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("the case is at version {current}, not {expected}")]
    VersionConflict { expected: u64, current: u64 },
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error("{0}")]
    Unavailable(String),
    /// The disk under the event store is (nearly) full: nothing was stored.
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("{0}")]
    Internal(String),
}

impl From<LogError> for CommandError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Full(why) => CommandError::InsufficientStorage(why),
            LogError::Corrupt { .. } | LogError::Other(_) => CommandError::Internal(e.to_string()),
            _ => CommandError::Unavailable(e.to_string()),
        }
    }
}
