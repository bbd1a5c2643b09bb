//! The county's signing keys as the API shows them (`GET /v1/audit/public-key`): what an auditor
//! verifies events and checkpoints with.

use serde::{Deserialize, Serialize};

/// The keys events and checkpoints may be signed with: the current one and those retired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicKeys {
    pub keys: Vec<KeyView>,
}

/// One public key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyView {
    /// `ed25519:` and the first 8 bytes of the key's SHA-256, in hex (an event's `key_id`).
    pub key_id: String,
    /// Always `ed25519`.
    pub algorithm: String,
    /// The 32-byte key in base64: what `xinfang verify --public-key` takes.
    pub public_key: String,
    /// From when it signs (absent: from any time).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_from: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Until when (absent: the current key).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_to: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// `GET /v1/audit/checkpoints`: the notary's signed checkpoints of the Merkle tree over the
/// log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointList {
    pub checkpoints: Vec<CheckpointEntry>,
    /// The stream's last sequence (0: no checkpoint yet).
    pub last_seq: u64,
    /// `before` for the next (older) page; null on the last page.
    pub next_before: Option<u64>,
}

/// One message of the checkpoint stream: a checkpoint and whether its signature verifies with
/// the county's keys, or why it is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointEntry {
    /// Its sequence in the checkpoint stream (`XF_CHECKPOINTS`).
    pub seq: u64,
    /// The number of log events the tree covers.
    pub tree_size: Option<u64>,
    /// The log sequence of the tree's last event.
    pub last_seq: Option<u64>,
    /// The tree's root hash (hex).
    pub root: Option<String>,
    /// When the notary signed it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub key_id: Option<String>,
    /// Its signature verifies with a key of `GET /v1/audit/public-key` valid at `at`.
    pub verified: bool,
    /// Log sequences since the previous checkpoint whose hash or signature did not verify when
    /// the notary took them in (normally none).
    #[serde(default)]
    pub invalid: Vec<u64>,
    /// The statement `xinfang migrate` wrote when it rewrote the log.
    #[serde(default)]
    pub migrated: bool,
    /// Why it is not a checkpoint, or why its signature does not verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}
