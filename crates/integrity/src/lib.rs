//! Tamper evidence for the case log (issue 15; docs/events.md, "Envelope v2"; ARCHITECTURE.md,
//! "The proof"). Owns the canonical encoding an event's hash is taken over, the sealed form of a
//! stored event (`event`), the signing and public keys with their ids and validity (`keys`), the
//! Merkle tree over all events in the manner of RFC 6962 (`merkle`), the signed statements:
//! checkpoints and a case's head (`statement`), and verifying a log (`verify`) and an exported
//! case bundle (`bundle`), each finding naming the sequence and what is wrong.
//!
//! Pure: it never does I/O (no NATS, no files, no clock); callers hand it bytes and times. It
//! must never trust a key it finds inside what it verifies: the keys come from its caller.

pub mod bundle;
pub mod canonical;
pub mod config;
pub mod event;
pub mod keys;
pub mod merkle;
pub mod statement;
pub mod verify;

pub use event::{open, Opened};
pub use keys::{KeyError, KeySet, PublicKey, Signer};
pub use merkle::{Frontier, Hash};
pub use statement::{CaseHead, Checkpoint, Migrated};
pub use verify::{Finding, LogVerifier, Report};

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// A hash as the envelope and the statements spell it: lower-case hex.
pub fn to_hex(h: &Hash) -> String {
    hex::encode(h)
}

/// A hash spelled in hex, or `None`.
pub fn from_hex(s: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}
