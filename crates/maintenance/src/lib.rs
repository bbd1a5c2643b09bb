//! Keeping the county's log: the notary (`notary`), which takes in every event, checks its seal
//! and appends signed checkpoints of the Merkle tree over the log, and verifies a whole log; and
//! the one migration (`migrate`) that seals the personal data of a log written before sealing,
//! under a signed statement.
//!
//! Both work on the log as a whole, beside the command path rather than in it: the notary runs
//! with the ingestor (it signs, so it runs where the signing key is), the migration is a
//! one-off tool. Neither decides a case (that is `domain` and `commands`); they must never
//! change what an event says, only seal what a migration must, and never know HTTP.

pub mod migrate;
pub mod notary;
