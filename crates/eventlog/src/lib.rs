//! The JetStream adapter: the county's case event log and its companion streams on NATS.
//!
//! Owns every name on NATS (`subjects`: streams, subjects, consumers, headers, township
//! permissions), the envelope and its codec (with upcasting), optimistic appends with
//! `Nats-Expected-Last-Subject-Sequence`, reading and following the log, the township streams and
//! the idempotency claims bucket, and typed errors that say what is safe next. It decides nothing
//! (that is `domain` and `commands`), must never know HTTP, and never deletes or rewrites a stored
//! event, but for the one migration that seals a log written before sealing (`rewrite`).

pub mod admission;
pub mod attachments;
pub mod checkpoints;
pub mod claims;
mod connect;
pub mod counters;
pub mod envelope;
pub mod erasures;
pub mod error;
mod export;
pub mod identities;
pub mod inbox;
pub mod log;
pub mod notices;
pub mod port;
pub mod rewrite;
pub mod rpc;
pub mod sessions;
pub mod subjects;
pub mod vault;

pub use admission::Admission;
pub use attachments::Attachments;
pub use checkpoints::Checkpoints;
pub use claims::Claims;
pub use connect::{connect, Connection};
pub use counters::Counters;
pub use envelope::Envelope;
pub use erasures::Erasures;
pub use error::{Cause, LogError};
pub use identities::Identities;
pub use log::{EventLog, LogConfig, Stored};
pub use sessions::Sessions;
pub use vault::Vault;
