//! The envelope around every stored event, and its codec. The JSON is a permanent contract
//! (docs/events.md); readers upcast old schema versions, nothing stored is ever rewritten.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use domain::{CaseId, Event, Timestamp, UnitCode};

use ::wire::audit::Actor;

// Its `Deserialize` is in `wire` (one pass; a derived `flatten` buffered every field).
/// One stored event with its metadata. `type` and `data` come from [`Event`].
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
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
    /// 补录: the step is dated more than `late_entry_hours` (policy in force) before it reached
    /// the system (absent, false, otherwise and in events before issue 33).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late_entry: bool,
    /// 补录: a late entry on time by its business date, recorded after its deadline (absent,
    /// false, otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_time_by_late_entry: bool,
    /// 补录: the reason the body gave for entering the step late (absent when none was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_reason: Option<String>,
    #[serde(flatten)]
    pub event: Event,
}

impl Envelope {
    /// How the event was recorded, as `domain::evolve` counts it.
    pub fn entry(&self) -> domain::case::Entry {
        domain::case::Entry {
            late: self.late_entry,
            on_time_by_late_entry: self.on_time_by_late_entry,
        }
    }
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
    // Fast path, one pass: an event at the current schema version decodes straight into the
    // struct. Anything else (another version, none, bytes that do not fit) goes the slow way,
    // which also says why it fails.
    if let Ok(env) = serde_json::from_slice::<Envelope>(bytes) {
        if env.schema_version == Event::SCHEMA_VERSION {
            return Ok(env);
        }
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

mod wire {
    //! `Deserialize` for [`Envelope`] in one pass: the envelope's fields, `type`, and `data` kept
    //! raw, then `data` read as the event `type` names. A derived `#[serde(flatten)]` buffered
    //! every field of every event before reading it again, and the stored JSON's sorted keys put
    //! `data` before `type`, which made the adjacently tagged event buffer `data` too.

    use std::borrow::Cow;

    use serde::de::{self, DeserializeSeed, MapAccess};
    use serde::{Deserialize, Deserializer};
    use serde_json::value::RawValue;
    use uuid::Uuid;

    use super::{Actor, Envelope};
    use domain::{CaseId, Event, Timestamp, UnitCode};

    #[derive(Deserialize)]
    struct Wire<'a> {
        event_id: Uuid,
        case_id: CaseId,
        township: UnitCode,
        schema_version: u32,
        version: u64,
        occurred_at: Timestamp,
        recorded_at: Timestamp,
        actor: Actor,
        command_id: Uuid,
        correlation_id: Uuid,
        causation_id: Option<Uuid>,
        #[serde(default)]
        request_hash: Option<String>,
        #[serde(default)]
        prev_hash: Option<String>,
        #[serde(default)]
        key_id: Option<String>,
        #[serde(default)]
        hash: Option<String>,
        #[serde(default)]
        sig: Option<String>,
        #[serde(default)]
        personal: Option<cipher::Sealed>,
        #[serde(default)]
        migrated_at: Option<Timestamp>,
        #[serde(default)]
        late_entry: bool,
        #[serde(default)]
        on_time_by_late_entry: bool,
        #[serde(default)]
        late_reason: Option<String>,
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
        #[serde(default)]
        data: Option<Box<RawValue>>,
    }

    /// `{"type": kind, "data": data}` in that order, as [`Event`]'s adjacent tagging reads
    /// without buffering.
    struct Tagged<'a> {
        kind: &'a str,
        data: Option<&'a RawValue>,
        at: u8,
    }

    impl<'de> MapAccess<'de> for Tagged<'de> {
        type Error = serde_json::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, Self::Error> {
            let key = match (self.at, self.data) {
                (0, _) => "type",
                (1, Some(_)) => "data",
                _ => return Ok(None),
            };
            seed.deserialize(de::value::BorrowedStrDeserializer::<Self::Error>::new(key))
                .map(Some)
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, Self::Error> {
            self.at += 1;
            match (self.at, self.data) {
                (1, _) => seed.deserialize(de::value::BorrowedStrDeserializer::<Self::Error>::new(
                    self.kind,
                )),
                (_, Some(data)) => seed.deserialize(data),
                (_, None) => Err(de::Error::custom("an event without data")),
            }
        }
    }

    impl<'de> Deserialize<'de> for Envelope {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let w = Wire::deserialize(d)?;
            let event = Event::deserialize(de::value::MapAccessDeserializer::new(Tagged {
                kind: &w.kind,
                data: w.data.as_deref(),
                at: 0,
            }))
            .map_err(de::Error::custom)?;
            Ok(Envelope {
                late_entry: w.late_entry,
                late_reason: w.late_reason,
                on_time_by_late_entry: w.on_time_by_late_entry,
                event_id: w.event_id,
                case_id: w.case_id,
                township: w.township,
                schema_version: w.schema_version,
                version: w.version,
                occurred_at: w.occurred_at,
                recorded_at: w.recorded_at,
                actor: w.actor,
                command_id: w.command_id,
                correlation_id: w.correlation_id,
                causation_id: w.causation_id,
                request_hash: w.request_hash,
                prev_hash: w.prev_hash,
                key_id: w.key_id,
                hash: w.hash,
                sig: w.sig,
                personal: w.personal,
                migrated_at: w.migrated_at,
                event,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event type of the golden files, in an envelope, as the services store it (canonical
    /// JSON: sorted keys, so `data` comes before `type`) and as plain serde writes it.
    fn stored() -> Vec<(String, Envelope, Vec<Vec<u8>>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/tests/golden");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("the golden files") {
            let path = entry.expect("an entry").path();
            let event: Event =
                serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("an event");
            let township = UnitCode::parse("gaoqiao").expect("a unit code");
            let subject = crate::subjects::case_subject(&township, CaseId(Uuid::now_v7()));
            let mut env = crate::admission::placeholder(&subject);
            env.schema_version = Event::SCHEMA_VERSION;
            env.version = 3;
            env.causation_id = Some(Uuid::now_v7());
            env.key_id = Some("k1".into());
            // 补录's fields, so the one-pass reader is held to them too.
            env.late_entry = true;
            env.on_time_by_late_entry = true;
            env.late_reason = Some("历史数据导入".into());
            env.event = event;
            let value = serde_json::to_value(&env).expect("value");
            let forms = vec![
                integrity::canonical::to_vec(&value),
                encode(&env).expect("encode"),
            ];
            out.push((path.display().to_string(), env, forms));
        }
        assert!(out.len() > 20, "every event type has a golden file");
        out
    }

    #[test]
    fn every_event_type_decodes_to_what_was_stored_in_either_key_order() {
        for (name, env, forms) in stored() {
            for bytes in forms {
                assert_eq!(decode(&bytes).expect(&name), env, "{name}");
            }
        }
    }

    #[test]
    fn an_envelope_reads_from_a_json_value_and_a_newer_schema_is_refused() {
        for (name, env, forms) in stored() {
            let mut value: serde_json::Value = serde_json::from_slice(&forms[0]).expect("json");
            // What the upcasting path does: read the envelope from a JSON value.
            value["a_field_of_later_versions"] = true.into();
            let read: Envelope = serde_json::from_value(value.clone()).expect(&name);
            assert_eq!(read, env, "{name}");
            value["schema_version"] = 99.into();
            let newer = serde_json::to_vec(&value).expect("bytes");
            assert!(
                matches!(decode(&newer), Err(CodecError::TooNew { version: 99, .. })),
                "{name}"
            );
        }
    }

    #[test]
    fn an_unknown_type_or_missing_data_is_an_error_not_a_default() {
        let (_, _, forms) = stored().remove(0);
        let mut value: serde_json::Value = serde_json::from_slice(&forms[0]).expect("json");
        value["type"] = "CaseTeleported".into();
        assert!(decode(&serde_json::to_vec(&value).expect("bytes")).is_err());
        value.as_object_mut().expect("object").remove("type");
        assert!(decode(&serde_json::to_vec(&value).expect("bytes")).is_err());
    }
}
