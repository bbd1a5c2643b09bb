//! The data keys of cases (crypto-shredding; docs/ARCHITECTURE.md, "Personal data at rest"):
//! each case's key, wrapped by the key-encryption key (`cipher::Keyring`, held in the
//! configuration, never in NATS), is one message on `xf.keys.<case>` in the stream `XF_KEYS`.
//! Erasing a case's personal data erases that message (JetStream's message delete overwrites the
//! stored record; a KV delete or purge would keep its bytes), after which the case's sealed
//! fields, wherever the log was copied, no longer open. Rotating the KEK rewraps every key and
//! erases the old wrappings, so an earlier backup of this stream is useless once the old KEK is
//! destroyed.
//!
//! The sealed form of an event: the fields of `data` that `domain::personal::sealed_paths` names
//! are taken out and sealed, as one JSON object, in the envelope's `personal`; their context is
//! the case and the event id, so a sealed value cannot be moved to another event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_nats::jetstream::{self, stream};
use cipher::{DataKey, Keyring, Sealed, Wrapped};
use domain::CaseId;

use crate::envelope::Envelope;
use crate::error::LogError;
use crate::port::{nats::NatsMessages, Messages};
use crate::subjects::{all_data_keys, data_key, KEYS_STREAM};

/// Most unwrapped keys a process keeps (a key and its id take about 100 bytes).
const CACHE: usize = 50_000;
/// Data keys read at once by [`Vault::keys`].
pub const KEYS_AT_ONCE: usize = 32;

/// The data keys of every case: created once, read, erased, rewrapped.
#[derive(Clone)]
pub struct Vault {
    ring: Arc<Keyring>,
    /// Keys are stored, read and erased through the port (JetStream, or memory in unit tests).
    messages: Messages,
    /// Rotation reads the whole stream with a consumer: JetStream only.
    stream: Option<stream::Stream>,
    cache: Arc<Mutex<HashMap<CaseId, DataKey>>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({})", self.ring.current().id())
    }
}

/// What a rotation of the KEK did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rotation {
    /// Keys rewrapped with the current KEK (their old wrapping erased).
    pub rewrapped: u64,
    /// Keys already under the current KEK.
    pub current: u64,
}

fn context(case: CaseId, event: uuid::Uuid) -> String {
    format!("xinfang personal v1\n{case}\n{event}")
}

impl Vault {
    pub async fn open(
        nats: &crate::Connection,
        replicas: usize,
        ring: Keyring,
    ) -> Result<Vault, LogError> {
        let js = nats.jetstream();
        let stream = js
            .get_or_create_stream(stream::Config {
                name: KEYS_STREAM.into(),
                description: Some(
                    "Xinfang data keys: each case's key wrapped by the key-encryption key; erased with the case's personal data"
                        .into(),
                ),
                subjects: vec![all_data_keys()],
                storage: stream::StorageType::File,
                num_replicas: replicas,
                allow_direct: true,
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("opening the data key stream", e))?;
        Ok(Vault {
            ring: Arc::new(ring),
            messages: Arc::new(NatsMessages::new(js.clone(), stream.clone())),
            stream: Some(stream),
            cache: Arc::default(),
        })
    }

    /// The keys in `messages` (in memory, for unit tests); rotation is `Unavailable`.
    pub fn on(messages: Messages, ring: Keyring) -> Vault {
        Vault {
            ring: Arc::new(ring),
            messages,
            stream: None,
            cache: Arc::default(),
        }
    }

    /// The id of the KEK new keys are wrapped with.
    pub fn kek_id(&self) -> &str {
        self.ring.current().id()
    }

    fn cached(&self, case: CaseId) -> Option<DataKey> {
        self.cache.lock().ok()?.get(&case).cloned()
    }

    fn remember(&self, case: CaseId, key: &DataKey) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE {
                cache.clear();
            }
            cache.insert(case, key.clone());
        }
    }

    /// The stored message of `case`'s key: its sequence and wrapping, if there is one.
    async fn stored(&self, case: CaseId) -> Result<Option<(u64, Wrapped)>, LogError> {
        let Some(m) = self.messages.last_for_subject(&data_key(case)).await? else {
            return Ok(None);
        };
        let wrapped: Wrapped =
            serde_json::from_slice(&m.payload).map_err(|_| LogError::Unreadable {
                what: "wrapped data key",
            })?;
        Ok(Some((m.seq, wrapped)))
    }

    fn unwrap(&self, case: CaseId, wrapped: &Wrapped) -> Result<DataKey, LogError> {
        self.ring.unwrap(&case.to_string(), wrapped).map_err(|e| {
            LogError::Inconsistent(format!("the data key of case {case} does not unwrap: {e}"))
        })
    }

    /// The data key of `case`; `None` when it has none (erased, or never sealed anything).
    pub async fn key(&self, case: CaseId) -> Result<Option<DataKey>, LogError> {
        if let Some(key) = self.cached(case) {
            return Ok(Some(key));
        }
        let Some((_, wrapped)) = self.stored(case).await? else {
            return Ok(None);
        };
        let key = self.unwrap(case, &wrapped)?;
        self.remember(case, &key);
        Ok(Some(key))
    }

    /// The data key of `case`, made now if it has none. Two writers making one at once agree:
    /// the first stored wins and the other reads it.
    pub async fn key_or_create(&self, case: CaseId) -> Result<DataKey, LogError> {
        match self.key(case).await? {
            Some(key) => Ok(key),
            None => self.create_key(case).await,
        }
    }

    /// The data key of a case this process has just named (a registration's new id): stored at
    /// once, one round trip, and read only if another writer stored one first.
    pub async fn key_for_new(&self, case: CaseId) -> Result<DataKey, LogError> {
        match self.cached(case) {
            Some(key) => Ok(key),
            None => self.create_key(case).await,
        }
    }

    /// Make and store a key for `case`; if another writer stored one first, take that one.
    async fn create_key(&self, case: CaseId) -> Result<DataKey, LogError> {
        let key = DataKey::generate();
        if self.store_wrapped(case, &key, 0).await? {
            self.remember(case, &key);
            return Ok(key);
        }
        self.key(case)
            .await?
            .ok_or(LogError::Unreadable { what: "data key" })
    }

    /// Store `key` wrapped by the current KEK as `case`'s, if the case's last key message is
    /// still `expected` (0: none yet). `false` when it is not.
    async fn store_wrapped(
        &self,
        case: CaseId,
        key: &DataKey,
        expected: u64,
    ) -> Result<bool, LogError> {
        let wrapped = self.ring.wrap(&case.to_string(), key);
        let body = serde_json::to_vec(&wrapped).map_err(|e| LogError::Encode {
            what: "a wrapped data key",
            source: e.into(),
        })?;
        let headers = crate::subjects::headers::append(Some(expected), None);
        match self
            .messages
            .publish(data_key(case), headers, body.into())
            .await
        {
            Ok(_) => Ok(true),
            Err(LogError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Erase every stored wrapping of `case`'s key (securely: the record is overwritten). Returns
    /// how many there were; 0 when it was erased before.
    pub async fn erase(&self, case: CaseId) -> Result<u64, LogError> {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&case);
        }
        let mut erased = 0;
        while let Some((seq, _)) = self.stored(case).await? {
            if !self.messages.erase(seq).await? {
                return Err(LogError::unavailable(
                    "erasing a data key",
                    format!("the stream did not erase sequence {seq}"),
                ));
            }
            erased += 1;
        }
        Ok(erased)
    }

    /// Rewrap every key not under the current KEK with it, erasing the old wrapping (docs/
    /// operations.md, "Rotating the key-encryption key"). A key erased meanwhile stays erased: a
    /// key is rewrapped only while its old wrapping is still the case's last message.
    pub async fn rotate(&self) -> Result<Rotation, LogError> {
        use futures::StreamExt as _;
        let mut report = Rotation::default();
        let stream = self.stream.as_ref().ok_or_else(|| {
            LogError::unavailable("rotating the KEK", "the keys in memory cannot be rotated")
        })?;
        let stored = stream
            .clone()
            .info()
            .await
            .map_err(|e| LogError::unavailable("reading the data key stream", e))?
            .state
            .messages;
        if stored == 0 {
            return Ok(report);
        }
        let consumer = stream
            .create_consumer(jetstream::consumer::pull::OrderedConfig {
                deliver_policy: jetstream::consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|e| LogError::unavailable("reading the data key stream", e))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| LogError::unavailable("reading the data key stream", e))?;
        let mut old = Vec::new();
        while let Some(m) = messages.next().await {
            let m = m.map_err(|e| LogError::unavailable("reading the data key stream", e))?;
            let info = m.info().map_err(|e| LogError::NotJetStream { source: e })?;
            let seq = info.stream_sequence;
            let wrapped: Wrapped =
                serde_json::from_slice(&m.payload).map_err(|_| LogError::Unreadable {
                    what: "wrapped data key",
                })?;
            let case = m
                .subject
                .rsplit('.')
                .next()
                .and_then(|c| c.parse::<uuid::Uuid>().ok())
                .map(CaseId)
                .ok_or(LogError::Unreadable {
                    what: "data key subject",
                })?;
            if wrapped.kek_id == self.kek_id() {
                report.current += 1;
            } else {
                old.push((case, seq, wrapped));
            }
            // Every message stored when the consumer was made has come.
            if info.pending == 0 {
                break;
            }
        }
        drop(messages);
        for (case, seq, wrapped) in old {
            let key = self.unwrap(case, &wrapped)?;
            // Not stored when erased (or rewrapped) meanwhile: nothing to keep then.
            if self.store_wrapped(case, &key, seq).await? {
                report.rewrapped += 1;
            }
            // `false`: erased meanwhile, which is what was wanted.
            self.messages.erase(seq).await?;
        }
        Ok(report)
    }

    /// Seal the personal fields of `env`'s event (the summary too for an accusation) under
    /// `key`, for the log. The event keeps no sealed field in plain; `env.personal` holds them.
    /// Does nothing to an event without personal fields.
    pub fn seal(env: &mut Envelope, key: &DataKey, accusation: bool) -> Result<(), LogError> {
        let encode = |e: serde_json::Error| LogError::Encode {
            what: "an event's personal data",
            source: e.into(),
        };
        let mut value = serde_json::to_value(&env.event).map_err(encode)?;
        let Some(data) = value.get_mut("data") else {
            return Ok(());
        };
        let taken =
            domain::personal::take_fields(data, &domain::personal::sealed_paths(accusation));
        if taken.is_empty() {
            return Ok(());
        }
        let plain = serde_json::to_vec(&taken).map_err(encode)?;
        env.personal = Some(key.seal(&context(env.case_id, env.event_id), &plain));
        env.event = serde_json::from_value(value).map_err(encode)?;
        Ok(())
    }

    /// Seal `plain` (the JSON object of an event's personal fields) for event `event` of `case`:
    /// what [`Vault::seal`] stores in `personal`, for a caller holding the event as JSON.
    pub fn seal_fields(key: &DataKey, case: CaseId, event: uuid::Uuid, plain: &[u8]) -> Sealed {
        key.seal(&context(case, event), plain)
    }

    /// Open the sealed personal fields of `env` into its event, when the case's key exists
    /// (`erased` says the case's log shows an erasure: nothing is opened then, whatever key a
    /// cache still holds). Returns whether the fields were opened.
    pub async fn open_envelope(&self, env: &mut Envelope, erased: bool) -> Result<bool, LogError> {
        let Some(sealed) = env.personal.clone() else {
            return Ok(false);
        };
        if erased {
            return Ok(false);
        }
        let Some(key) = self.key(env.case_id).await? else {
            return Ok(false);
        };
        Vault::open_with(env, &key, &sealed)?;
        Ok(true)
    }

    /// The data keys of `cases` (`None` for a case without one), read concurrently, at most
    /// [`KEYS_AT_ONCE`] at a time: a batch of events opened one key at a time waited one round
    /// trip per case (issue 31).
    pub async fn keys(
        &self,
        cases: impl IntoIterator<Item = CaseId>,
    ) -> Result<HashMap<CaseId, Option<DataKey>>, LogError> {
        use futures::{StreamExt as _, TryStreamExt as _};
        let ids: std::collections::BTreeSet<CaseId> = cases.into_iter().collect();
        futures::stream::iter(ids)
            .map(|id| async move { Ok::<_, LogError>((id, self.key(id).await?)) })
            .buffer_unordered(KEYS_AT_ONCE)
            .try_collect()
            .await
    }

    /// Open the personal data of `env` with its case's key read before ([`Vault::keys`]);
    /// `false` when it has none sealed or there is no key (erased).
    pub fn open_with_key(env: &mut Envelope, key: Option<&DataKey>) -> Result<bool, LogError> {
        let (Some(sealed), Some(key)) = (env.personal.clone(), key) else {
            return Ok(false);
        };
        Vault::open_with(env, key, &sealed)?;
        Ok(true)
    }

    /// The personal fields of event `event` of `case` as [`Vault::seal`] sealed them (an object
    /// of path → value), for a holder of the sealed value apart from its envelope.
    pub fn open_fields(
        key: &DataKey,
        case: CaseId,
        event: uuid::Uuid,
        sealed: &Sealed,
    ) -> Result<serde_json::Map<String, serde_json::Value>, LogError> {
        let plain = key.open(&context(case, event), sealed).map_err(|e| {
            LogError::Inconsistent(format!(
                "the personal data of event {event} does not open: {e}"
            ))
        })?;
        serde_json::from_slice(&plain).map_err(|_| LogError::Unreadable {
            what: "sealed personal data",
        })
    }

    fn open_with(env: &mut Envelope, key: &DataKey, sealed: &Sealed) -> Result<(), LogError> {
        let fields = Vault::open_fields(key, env.case_id, env.event_id, sealed)?;
        let decode = |e: serde_json::Error| LogError::Encode {
            what: "an event's personal data",
            source: e.into(),
        };
        let mut value = serde_json::to_value(&env.event).map_err(decode)?;
        if let Some(data) = value.get_mut("data") {
            domain::personal::put_fields(data, fields);
        }
        env.event = serde_json::from_value(value).map_err(decode)?;
        Ok(())
    }

    /// Open every event of one case (in order): nothing when its log shows an erasure.
    pub async fn open_case(&self, events: &mut [Envelope]) -> Result<(), LogError> {
        let erased = events
            .iter()
            .any(|e| matches!(e.event, domain::Event::PersonalDataErased(_)));
        for env in events.iter_mut() {
            self.open_envelope(env, erased).await?;
        }
        Ok(())
    }

    /// Seal evidence bytes of `case` (the attachment named by `sha256`).
    pub fn seal_bytes(key: &DataKey, case: CaseId, sha256: &str, bytes: &[u8]) -> Vec<u8> {
        key.seal_bytes(&format!("xinfang evidence v1\n{case}\n{sha256}"), bytes)
    }

    pub fn open_bytes(
        key: &DataKey,
        case: CaseId,
        sha256: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, LogError> {
        key.open_bytes(&format!("xinfang evidence v1\n{case}\n{sha256}"), sealed)
            .map_err(|e| LogError::Inconsistent(format!("evidence {sha256} does not open: {e}")))
    }
}
