//! The stores the command path writes, opened together.

use eventlog::{Counters, EventLog, Identities};

use crate::IdempotencyStore;

/// The stores the command path writes: the log and its companions on JetStream.
pub struct Stores {
    pub log: EventLog,
    pub idem: IdempotencyStore,
    /// Case number series: a registration draws the next number of its township and year.
    pub numbers: Counters,
    /// The identity index: a registration is filed under its petitioners' keyed hashes.
    pub identities: Identities,
    /// Evidence, named by the SHA-256 of its bytes.
    pub attachments: eventlog::Attachments,
    /// The cases' data keys: personal data is sealed under them before it is appended.
    pub vault: eventlog::Vault,
    /// The register of erasures requested (erasure id → case).
    pub erasures: eventlog::Erasures,
}
