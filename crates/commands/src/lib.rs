//! The command path, shared by HTTP and the township inbox: load the case, run the pure
//! `domain::decide`, append the one event with the case's expected sequence, retry what may be
//! retried, and keep the idempotency protocol. Also the error codes and problem objects both
//! doors answer with, so a refusal reads the same over HTTP and on NATS.
//!
//! It owns the in-memory case cache, the per-case locks, the retry budget and the clock. It must
//! never decide a rule itself (that is `domain`), never spell a NATS subject or header (that is
//! `eventlog::subjects`) and never know HTTP.

mod error;
pub mod idempotency;

pub mod problem;
mod request;
mod service;
mod stores;

pub use error::{CommandError, Remedy};
pub use idempotency::{Committed, IdempotencyStore};
pub use service::{
    AlertReview, CaseService, CommandRequest, Executed, Loaded, PastLinks, RecordedCommand,
    Reviewed,
};
pub use stores::{MemoryStores, Stores};
