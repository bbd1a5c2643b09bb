//! Signed statements: a checkpoint of the whole log and the head of one case. Each is signed
//! over the SHA-256 of its canonical JSON without `sig` (`canonical`), by a key of the command
//! path; `at` is when it was made, and the key must have been valid then.

use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, KeySet, Time};
use crate::merkle::Frontier;
use crate::{canonical, sha256, Hash, Signer};

/// The notary's statement about the log: the root of the Merkle tree over its first `tree_size`
/// events (the last at `last_seq`), which events in it did not verify when it took them in, and
/// the frontier to go on from. Written to `XF_CHECKPOINTS` at least every N events or T seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The stream the tree is over (`XF_EVENTS`).
    pub stream: String,
    pub tree_size: u64,
    pub last_seq: u64,
    /// Hex.
    pub root: String,
    pub at: Time,
    /// The first sequence that was signed (envelope v2): every event from it on must be.
    pub first_signed_seq: Option<u64>,
    /// Sequences since the previous checkpoint whose hash or signature did not verify when the
    /// notary took them in (a writer without the signing key). Normally empty.
    pub invalid: Vec<u64>,
    pub frontier: Frontier,
    /// Set on the statement `xinfang migrate` writes when it rewrote the log (sealing the
    /// personal data of events written before that was done): the checkpoints before it are of
    /// the log as it was, this one and those after it of the log as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated: Option<Migrated>,
    pub key_id: String,
    #[serde(default)]
    pub sig: String,
}

/// What a migration rewrote, and the log it rewrote: the root of the Merkle tree over the old
/// log, which `xinfang migrate` verified against every checkpoint before it rewrote anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migrated {
    /// The old log's size, last sequence and root (hex).
    pub from_tree_size: u64,
    pub from_last_seq: u64,
    pub from_root: String,
    /// Events whose personal data was sealed (or dropped, for a case already erased).
    pub sealed_events: u64,
    /// Events rewritten: those, and the later events of their cases (their `prev_hash` moved).
    pub rewritten_events: u64,
}

/// The system's statement of a case's last event when it was exported, so that a bundle cut
/// short fails to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseHead {
    pub case_id: String,
    /// The case's version (its number of events).
    pub version: u64,
    pub last_seq: u64,
    /// Hex hash of the case's last event.
    pub last_hash: String,
    pub at: Time,
    pub key_id: String,
    #[serde(default)]
    pub sig: String,
}

/// What a statement is signed over.
fn digest<T: Serialize>(statement: &T) -> Result<Hash, KeyError> {
    let mut v = serde_json::to_value(statement).map_err(|e| KeyError::Malformed(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("sig");
    }
    Ok(sha256(&canonical::to_vec(&v)))
}

macro_rules! signed {
    ($t:ty) => {
        impl $t {
            /// Sign with `signer` (sets `key_id` and `sig`).
            pub fn sign(mut self, signer: &Signer) -> Self {
                self.key_id = signer.key_id().to_owned();
                self.sig.clear();
                // A statement of plain fields always serializes.
                if let Ok(h) = digest(&self) {
                    self.sig = signer.sign(&h);
                }
                self
            }

            /// Whether the signature verifies with `keys` at `at`.
            pub fn verify(&self, keys: &KeySet) -> Result<(), KeyError> {
                keys.verify(&self.key_id, &digest(self)?, &self.sig, self.at)
            }
        }
    };
}

signed!(Checkpoint);
signed!(CaseHead);

impl Checkpoint {
    pub fn root_hash(&self) -> Option<Hash> {
        crate::from_hex(&self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PublicKey;

    #[test]
    fn a_statement_verifies_until_any_field_or_the_key_changes() {
        let signer = Signer::from_seed([3; 32]);
        let keys =
            KeySet::new(vec![PublicKey::new(&signer.public_key(), None, None)]).expect("keys");
        let head = CaseHead {
            case_id: "c".into(),
            version: 3,
            last_seq: 9,
            last_hash: "ab".into(),
            at: chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00+08:00").expect("t"),
            key_id: String::new(),
            sig: String::new(),
        }
        .sign(&signer);
        assert_eq!(head.verify(&keys), Ok(()));
        let mut cut = head.clone();
        cut.version = 2;
        assert!(cut.verify(&keys).is_err());
        let resigned = head.clone().sign(&Signer::from_seed([4; 32]));
        assert!(matches!(
            resigned.verify(&keys),
            Err(KeyError::UnknownKey(_))
        ));
    }
}
