//! The county's case event log on NATS JetStream, and the command path on top of it.
//!
//! Knows subjects, headers, the envelope and its codec (with upcasting), optimistic appends with
//! `Nats-Expected-Last-Subject-Sequence`, durable idempotency, and reading a case back. It is the
//! only crate that knows how events are laid out in NATS. It must never know HTTP, and it never
//! deletes or rewrites a stored event.

pub mod cases;
pub mod envelope;
pub mod idempotency;
pub mod inbox;
pub mod log;

pub use cases::{CaseService, CommandError, Loaded, Outcome, Request};
pub use envelope::{Actor, Envelope};
pub use idempotency::{Committed, IdempotencyStore};
pub use log::{EventLog, LogConfig, LogError, Stored};
