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
