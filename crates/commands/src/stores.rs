//! The stores the command path writes, opened together: on JetStream in services, in memory
//! (`eventlog::port::memory`) for unit tests of the command path.

use std::sync::Arc;

use eventlog::port::memory::{MemoryBucket, MemoryMessages, MemoryObjects};
use eventlog::{Attachments, Claims, Counters, Erasures, EventLog, Identities, Vault};

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
    pub attachments: Attachments,
    /// The cases' data keys: personal data is sealed under them before it is appended.
    pub vault: Vault,
    /// The register of erasures requested (erasure id → case).
    pub erasures: Erasures,
}

/// The stores in memory, as handles a test shares between command services ("two processes")
/// and injects faults through.
#[derive(Clone, Default)]
pub struct MemoryStores {
    pub events: MemoryMessages,
    pub keys: MemoryMessages,
    pub claims: MemoryBucket,
    pub numbers: MemoryBucket,
    pub identities: MemoryBucket,
    pub erasures: MemoryBucket,
    pub objects: MemoryObjects,
}

impl MemoryStores {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores over these (each call's stores share them; data keys wrapped with `ring`).
    pub fn stores(&self, ring: cipher::Keyring) -> Stores {
        Stores {
            log: EventLog::on(Arc::new(self.events.clone())),
            idem: IdempotencyStore::on(Claims::on(Arc::new(self.claims.clone()))),
            numbers: Counters::on(Arc::new(self.numbers.clone())),
            identities: Identities::on(Arc::new(self.identities.clone())),
            attachments: Attachments::on(Arc::new(self.objects.clone())),
            vault: Vault::on(Arc::new(self.keys.clone()), ring),
            erasures: Erasures::on(Arc::new(self.erasures.clone())),
        }
    }
}
