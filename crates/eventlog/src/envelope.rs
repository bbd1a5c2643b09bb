//! The envelope around every stored event, and its codec. The JSON is a permanent contract
//! (docs/events.md); readers upcast old schema versions, nothing stored is ever rewritten.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use domain::{CaseId, Event, Principal, PrincipalId, Role, Timestamp, UnitCode};

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub id: PrincipalId,
    pub role: Role,
    pub unit: Option<UnitCode>,
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Actor {
            id: p.id.clone(),
            role: p.role,
            unit: p.unit.clone(),
        }
    }
}

/// One stored event with its metadata. `type` and `data` come from [`Event`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Envelope {
    /// UUID v7 of this event.
    #[schema(value_type = String, format = Uuid)]
    pub event_id: Uuid,
    pub case_id: CaseId,
    /// The township where the case was registered (also a token of the subject).
    pub township: UnitCode,
    /// Schema version of `data` for this `type`.
    pub schema_version: u32,
    /// The case's version after this event: 1 for the registration, then +1 per event.
    pub version: u64,
    /// Business time: when it happened.
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    /// System time: when the server recorded it.
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
    pub actor: Actor,
    /// The command this event decided. Also the `Nats-Msg-Id`, so a re-sent command is deduplicated
    /// by the stream; for a command with an `Idempotency-Key` it is derived from the key.
    #[schema(value_type = String, format = Uuid)]
    pub command_id: Uuid,
    /// Groups everything one request or one inbox message caused.
    #[schema(value_type = String, format = Uuid)]
    pub correlation_id: Uuid,
    /// The event or message that caused this command, when there is one.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub causation_id: Option<Uuid>,
    /// SHA-256 (hex) of the request, for a command sent with an idempotency key (an
    /// `Idempotency-Key`, or a township's record id): a retry with the same key and another
    /// request is refused. Absent otherwise, and in events written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_hash: Option<String>,
    /// Envelope v2 (docs/events.md): the hash (hex) of the case's previous event; absent on a
    /// case's first event and on events written before v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// Envelope v2: the id of the key `sig` was made with (`GET /v1/audit/public-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Envelope v2: SHA-256 (hex) of the envelope without `hash` and `sig` in canonical form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Envelope v2: Ed25519 signature (base64) of `hash` by the command path's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    /// Envelope v2: the personal fields of `data` (docs/events.md, "Sealed personal data"),
    /// sealed under the case's data key; absent when the event has none, and in events written
    /// before sealing (until `xinfang migrate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub personal: Option<cipher::Sealed>,
    /// Set on an event `xinfang migrate` rewrote (to seal personal data stored before sealing
    /// existed, or because an earlier event of its case was): when; a signed event was signed
    /// then, and its key must have been valid at that time rather than at `recorded_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub migrated_at: Option<Timestamp>,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("stored event is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("stored event {event_type} has schema version {version}, newer than this build reads")]
    TooNew { event_type: String, version: u64 },
}

/// The stored form of an event. An error here is a bug, and it stops the append: an empty
/// default would be an unreadable message in a stream that nothing may ever rewrite.
pub fn encode(env: &Envelope) -> Result<Vec<u8>, CodecError> {
    Ok(serde_json::to_vec(env)?)
}

/// Seal an envelope v2 for the log: set its key id, hash and signature (`prev_hash` is the
/// caller's), and return the bytes to store (its canonical JSON with `hash` and `sig` last,
/// `integrity::event`) and the hash.
pub fn seal(
    env: &mut Envelope,
    signer: &integrity::Signer,
) -> Result<(Vec<u8>, integrity::Hash), CodecError> {
    env.key_id = Some(signer.key_id().to_owned());
    env.hash = None;
    env.sig = None;
    let content = integrity::canonical::to_vec(&serde_json::to_value(&*env)?);
    let sealed = integrity::event::seal(&content, signer);
    env.hash = Some(integrity::to_hex(&sealed.hash));
    env.sig = Some(sealed.sig);
    Ok((sealed.bytes, sealed.hash))
}

/// Decode a stored event, upcasting older schema versions to the current one.
pub fn decode(bytes: &[u8]) -> Result<Envelope, CodecError> {
    // Fast path: an event at the current schema version decodes straight into the struct.
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(default)]
        schema_version: Option<u64>,
    }
    let peek: Peek = serde_json::from_slice(bytes)?;
    if peek.schema_version == Some(u64::from(Event::SCHEMA_VERSION)) {
        return Ok(serde_json::from_slice(bytes)?);
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes)?;
    let version = value
        .get("schema_version")
        .and_then(|v| v.as_u64())
        .unwrap_or(1);
    if version > u64::from(Event::SCHEMA_VERSION) {
        let event_type = value
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("?")
            .to_owned();
        return Err(CodecError::TooNew {
            event_type,
            version,
        });
    }
    upcast(&mut value, version);
    Ok(serde_json::from_value(value)?)
}

/// Bring an event stored at `version` to the current schema. Every schema version so far is 1, so
/// there is nothing to do yet; a v2 of some event adds its transformation here, keyed by type and
/// version, with a golden file for each version it reads.
fn upcast(value: &mut serde_json::Value, version: u64) {
    if version < u64::from(Event::SCHEMA_VERSION) {
        if let Some(obj) = value.as_object_mut() {
            obj.insert("schema_version".into(), Event::SCHEMA_VERSION.into());
        }
    }
}
