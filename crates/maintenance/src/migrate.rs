//! `xinfang migrate` (docs/operations.md, "Migrating a log written before sealing"): seal, once,
//! the personal data of a log written before sealing existed, under a signed statement.
//!
//! 1. Refuse while any service reads the log, and refuse a log that does not verify (a
//!    migration must not launder a tampered log into one that verifies).
//! 2. Scan it: each case's accusation flag, erasure and evidence; count the events that hold
//!    personal data in plain. None: the log is left as it is.
//! 3. Write the log rewritten into `XF_EVENTS_MIGRATION`, every event at its sequence and with
//!    its stream time (`Xf-Stored-At`): an event holding personal data in plain gets it sealed
//!    under its case's data key (dropped, for a case already erased), and so do the later
//!    events of its case whose `prev_hash` moves with it; a signed one is signed again, with
//!    `migrated_at` the time its key must be valid at. Every other event keeps its bytes.
//! 4. Append the signed migration statement to `XF_CHECKPOINTS`: a checkpoint of the new log
//!    naming the old log's root, which step 1 verified.
//! 5. Replace `XF_EVENTS` with the staged log (deleted with its files, then written back at the
//!    same sequences) and check the root; delete the staging stream. A crash from step 4 on is
//!    resumed by running it again; before step 4 the staging stream is simply dropped.
//! 6. The companions: feed messages carrying personal data are published again without it and
//!    the originals erased; answered inbox messages are erased; plain evidence objects are sealed
//!    per case and erased.

use std::collections::HashMap;

use eventlog::rewrite::{self, SeqWriter};
use eventlog::{subjects, Checkpoints, EventLog, LogConfig, LogError, Vault};
use integrity::merkle::leaf;
use integrity::{Checkpoint, Frontier, Hash, KeySet, Migrated};
use serde::Serialize;
use serde_json::Value;

/// What a migration reads, rewrites and signs with: the log on NATS, the cases' data keys, the
/// evidence store, and the county's signing key.
pub struct Stores<'a> {
    pub log: &'a EventLog,
    pub vault: &'a Vault,
    pub attachments: &'a eventlog::Attachments,
    pub signer: &'a integrity::Signer,
    /// The time the migration is stamped with (`migrated_at`, the statement's).
    pub now: domain::Timestamp,
}

mod companions;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("{0} consumers read the log: stop every Xinfang service (api, ingestor, feed, projectors) and run it again")]
    Busy(usize),
    #[error("the log does not verify ({0}); migrating it would hide that. `xinfang verify --config` names every finding")]
    DoesNotVerify(String),
    #[error("{0}")]
    Inconsistent(String),
}

/// What a migration did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Migration {
    /// Events in the log.
    pub events: u64,
    /// Events whose personal data was sealed (or dropped, for an erased case).
    pub sealed_events: u64,
    /// Those and the later events of their cases, written anew.
    pub rewritten_events: u64,
    /// An interrupted migration was finished first.
    pub resumed: bool,
    /// Feed messages published again without personal data (the originals erased).
    pub feed_messages: u64,
    /// Answered inbox messages erased.
    pub inbox_messages_erased: u64,
    /// Plain evidence objects sealed per case and erased.
    pub attachments_sealed: u64,
}

/// What the scan of the log found about one case.
#[derive(Default)]
struct CaseInfo {
    accusation: bool,
    erased: bool,
    attachments: Vec<String>,
}

/// Each case's chain while the log is rewritten.
#[derive(Default)]
struct Chain {
    last: Option<Hash>,
    moved: bool,
}

fn bad(what: impl Into<String>) -> MigrateError {
    MigrateError::Inconsistent(what.into())
}

/// Whether an event (as stored, JSON) holds personal data in plain: no `personal`, and a field
/// sealing would take with something in it.
fn holds_plain(event: &Value, accusation: bool) -> bool {
    if event.get("personal").is_some() {
        return false;
    }
    let Some(data) = event.get("data") else {
        return false;
    };
    let mut data = data.clone();
    let taken =
        domain::personal::take_fields(&mut data, &domain::personal::sealed_paths(accusation));
    taken.values().any(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    })
}

/// One event rewritten, or `None` when it keeps its bytes; `chain` follows its case.
fn rewrite_event(
    mut event: Value,
    stored: &[u8],
    sealing: Option<(bool, Option<&cipher::DataKey>)>,
    chain: &mut Chain,
    signer: &integrity::Signer,
    now: &str,
) -> Result<Option<(Vec<u8>, Hash)>, MigrateError> {
    let opened = integrity::open(stored);
    if sealing.is_none() && !(opened.is_sealed() && chain.moved) {
        chain.last = Some(opened.hash());
        return Ok(None);
    }
    let o = event
        .as_object_mut()
        .ok_or_else(|| bad("a stored event is not a JSON object"))?;
    o.remove("hash");
    o.remove("sig");
    if let Some((accusation, key)) = sealing {
        let paths = domain::personal::sealed_paths(accusation);
        let taken = o
            .get_mut("data")
            .map(|d| domain::personal::take_fields(d, &paths))
            .unwrap_or_default();
        if let Some(key) = key {
            let id = |name: &str| {
                o.get(name)
                    .and_then(Value::as_str)
                    .and_then(|s| uuid::Uuid::parse_str(s).ok())
            };
            let (Some(case), Some(event_id)) = (id("case_id"), id("event_id")) else {
                return Err(bad("a stored event without case_id or event_id"));
            };
            let plain = serde_json::to_vec(&taken).map_err(|e| bad(e.to_string()))?;
            let sealed = Vault::seal_fields(key, domain::CaseId(case), event_id, &plain);
            o.insert(
                "personal".into(),
                serde_json::to_value(sealed).map_err(|e| bad(e.to_string()))?,
            );
        }
    }
    o.insert("migrated_at".into(), Value::String(now.into()));
    let (bytes, hash) = if opened.is_sealed() {
        if let Some(prev) = o.get_mut("prev_hash") {
            let last = chain
                .last
                .ok_or_else(|| bad("a case's event names a previous one it does not have"))?;
            *prev = Value::String(integrity::to_hex(&last));
        }
        o.insert("key_id".into(), Value::String(signer.key_id().into()));
        let sealed = integrity::event::seal(&integrity::canonical::to_vec(&event), signer);
        (sealed.bytes, sealed.hash)
    } else {
        let bytes = serde_json::to_vec(&event).map_err(|e| bad(e.to_string()))?;
        let hash = integrity::sha256(&bytes);
        (bytes, hash)
    };
    chain.last = Some(hash);
    chain.moved = true;
    Ok(Some((bytes, hash)))
}

/// Read a whole stream into `f`, in order.
async fn each(
    nats: &eventlog::Connection,
    stream: &str,
    mut f: impl FnMut(rewrite::Raw) -> Result<(), MigrateError>,
) -> Result<(), MigrateError> {
    let mut rx = rewrite::read_stream(nats, stream).await?;
    while let Some(raw) = rx.recv().await {
        f(raw?)?;
    }
    Ok(())
}

fn parse(raw: &rewrite::Raw) -> Result<Value, MigrateError> {
    serde_json::from_slice(&raw.payload).map_err(|e| bad(format!("seq {}: {e}", raw.seq)))
}

/// Each case's accusation flag, erasure and evidence, and how many events hold plain data.
async fn scan(
    nats: &eventlog::Connection,
) -> Result<(HashMap<String, CaseInfo>, u64), MigrateError> {
    let mut cases: HashMap<String, CaseInfo> = HashMap::new();
    let mut plain = 0;
    each(nats, subjects::EVENTS_STREAM, |raw| {
        let v = parse(&raw)?;
        let case = v["case_id"].as_str().unwrap_or_default().to_owned();
        let info = cases.entry(case).or_default();
        let data = &v["data"];
        match v["type"].as_str().unwrap_or_default() {
            "CaseRegistered" => info.accusation |= data["accusation"] == Value::Bool(true),
            "RegistrationCorrected" => {
                info.accusation |= data["after"]["accusation"] == Value::Bool(true)
            }
            "PersonalDataErased" => info.erased = true,
            "AttachmentAdded" => info
                .attachments
                .extend(data["sha256"].as_str().map(str::to_owned)),
            _ => {}
        }
        plain += u64::from(holds_plain(&v, info.accusation));
        Ok(())
    })
    .await?;
    Ok((cases, plain))
}

/// The root and size of the Merkle tree over a stream's events.
async fn tree_of(nats: &eventlog::Connection, stream: &str) -> Result<Frontier, MigrateError> {
    let mut tree = Frontier::default();
    each(nats, stream, |raw| {
        tree.push(leaf(raw.seq, &integrity::open(&raw.payload).hash()));
        Ok(())
    })
    .await?;
    Ok(tree)
}

/// Run the migration (see the module's steps).
pub async fn migrate(
    cases: &Stores<'_>,
    keys: &KeySet,
    checkpoints: &Checkpoints,
    log_config: &LogConfig,
) -> Result<Migration, MigrateError> {
    let nats = cases.log.connection()?.clone();
    let mut tries = 0;
    while let Some(n @ 1..) = rewrite::live_consumers(&nats, subjects::EVENTS_STREAM).await? {
        tries += 1;
        if tries > 5 {
            return Err(MigrateError::Busy(n));
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let mut done = Migration::default();
    if rewrite::consumers_of(&nats, subjects::MIGRATION_STREAM)
        .await?
        .is_some()
    {
        match staged_statement(&nats, checkpoints, keys).await? {
            Some(cp) => {
                tracing::info!("finishing the migration an earlier run started");
                swap(&nats, log_config, &cp).await?;
                done.resumed = true;
            }
            None => {
                rewrite::delete_stream(&nats, subjects::MIGRATION_STREAM).await?;
            }
        }
    }
    let report = crate::notary::verify_log(cases.log, checkpoints, keys, false, |d, t| {
        tracing::info!(done = d, of = t, "verifying before migrating")
    })
    .await?;
    if let Some(f) = report.findings.first() {
        let seq = f.seq.map_or("-".to_owned(), |s| s.to_string());
        let first = format!(
            "{} findings, the first at seq {seq}: {}: {}",
            report.findings.len(),
            f.code,
            f.detail
        );
        return Err(MigrateError::DoesNotVerify(first));
    }
    done.events = report.events;
    let (scanned, plain) = scan(&nats).await?;
    tracing::info!(events = report.events, plain, "scanned the log");
    if plain > 0 {
        let cp = stage(cases, &nats, &scanned, checkpoints, log_config, &mut done).await?;
        swap(&nats, log_config, &cp).await?;
    }
    done.feed_messages = companions::feed(&nats, &scanned).await?;
    for (stream, first, answered) in rewrite::answered_inbox_messages(&nats).await? {
        for seq in first.max(1)..=answered {
            done.inbox_messages_erased +=
                u64::from(rewrite::erase_message(&nats, &stream, seq).await?);
        }
    }
    done.attachments_sealed = companions::evidence(cases, &scanned).await?;
    Ok(done)
}

/// Steps 3 and 4: the log rewritten into the staging stream, and the signed statement.
async fn stage(
    cases: &Stores<'_>,
    nats: &eventlog::Connection,
    scanned: &HashMap<String, CaseInfo>,
    checkpoints: &Checkpoints,
    log_config: &LogConfig,
    done: &mut Migration,
) -> Result<Checkpoint, MigrateError> {
    rewrite::create_staging(nats, log_config.replicas).await?;
    let now = cases.now;
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    let mut writer = SeqWriter::new(nats, subjects::MIGRATION_STREAM);
    let (mut old, mut new) = (Frontier::default(), Frontier::default());
    let mut chains: HashMap<String, Chain> = HashMap::new();
    let (mut first_signed, mut last) = (None, 0);
    let none = CaseInfo::default();
    let mut rx = rewrite::read_stream(nats, subjects::EVENTS_STREAM).await?;
    while let Some(raw) = rx.recv().await {
        let raw = raw?;
        let event = parse(&raw)?;
        let case = event["case_id"].as_str().unwrap_or_default().to_owned();
        let info = scanned.get(&case).unwrap_or(&none);
        let key = match holds_plain(&event, info.accusation) {
            false => None,
            true if info.erased => Some(None),
            true => {
                let id = domain::CaseId::parse(&case)
                    .ok_or_else(|| bad(format!("seq {}: no case id", raw.seq)))?;
                Some(Some(cases.vault.key_or_create(id).await?))
            }
        };
        let sealing = key.as_ref().map(|k| (info.accusation, k.as_ref()));
        let original = integrity::open(&raw.payload).hash();
        old.push(leaf(raw.seq, &original));
        let chain = chains.entry(case).or_default();
        let (bytes, hash) =
            match rewrite_event(event, &raw.payload, sealing, chain, cases.signer, &stamp)? {
                Some((bytes, hash)) => {
                    done.rewritten_events += 1;
                    done.sealed_events += u64::from(sealing.is_some());
                    (bytes::Bytes::from(bytes), hash)
                }
                None => (raw.payload.clone(), original),
            };
        if integrity::open(&bytes).is_sealed() {
            first_signed.get_or_insert(raw.seq);
        }
        new.push(leaf(raw.seq, &hash));
        last = raw.seq;
        let subject = subjects::migration_subject(&raw.subject);
        writer
            .write(raw.seq, subject, &raw.headers, raw.stored_at, bytes)
            .await?;
    }
    if writer.finish().await? != last {
        return Err(bad("the staged log does not end where the log does"));
    }
    let cp = Checkpoint {
        stream: subjects::EVENTS_STREAM.into(),
        tree_size: new.size,
        last_seq: last,
        root: integrity::to_hex(&new.root()),
        at: now,
        first_signed_seq: first_signed,
        invalid: vec![],
        frontier: new.clone(),
        migrated: Some(Migrated {
            from_tree_size: old.size,
            from_last_seq: last,
            from_root: integrity::to_hex(&old.root()),
            sealed_events: done.sealed_events,
            rewritten_events: done.rewritten_events,
        }),
        key_id: String::new(),
        sig: String::new(),
    }
    .sign(cases.signer);
    checkpoints
        .append(&cp, checkpoints.last_seq().await?)
        .await?;
    tracing::info!(root = %cp.root, from_root = ?cp.migrated.as_ref().map(|m| &m.from_root), "migration statement signed");
    Ok(cp)
}

/// The last checkpoint, when it is a migration statement the staged log matches (a run
/// interrupted after step 4).
async fn staged_statement(
    nats: &eventlog::Connection,
    checkpoints: &Checkpoints,
    keys: &KeySet,
) -> Result<Option<Checkpoint>, MigrateError> {
    let last = checkpoints
        .all()
        .await?
        .into_iter()
        .rev()
        .find_map(|(_, cp)| cp.ok());
    let Some(cp) = last.filter(|cp| cp.migrated.is_some() && cp.verify(keys).is_ok()) else {
        return Ok(None);
    };
    let staged = tree_of(nats, subjects::MIGRATION_STREAM).await?;
    Ok((staged.size == cp.tree_size && integrity::to_hex(&staged.root()) == cp.root).then_some(cp))
}

/// Step 5: `XF_EVENTS` replaced by the staged log, checked against the statement.
async fn swap(
    nats: &eventlog::Connection,
    log_config: &LogConfig,
    cp: &Checkpoint,
) -> Result<(), MigrateError> {
    rewrite::delete_stream(nats, subjects::EVENTS_STREAM).await?;
    EventLog::open(nats, log_config).await?;
    let mut writer = SeqWriter::new(nats, subjects::EVENTS_STREAM);
    let mut tree = Frontier::default();
    let mut rx = rewrite::read_stream(nats, subjects::MIGRATION_STREAM).await?;
    while let Some(raw) = rx.recv().await {
        let raw = raw?;
        let subject = subjects::unmigrated_subject(&raw.subject)
            .ok_or_else(|| bad(format!("staged seq {} is on {}", raw.seq, raw.subject)))?
            .to_owned();
        tree.push(leaf(raw.seq, &integrity::open(&raw.payload).hash()));
        writer
            .write(raw.seq, subject, &raw.headers, raw.stored_at, raw.payload)
            .await?;
    }
    writer.finish().await?;
    if tree.size != cp.tree_size || integrity::to_hex(&tree.root()) != cp.root {
        return Err(bad(format!(
            "the log written back has root {} over {} events, the statement {} over {}: run migrate again",
            integrity::to_hex(&tree.root()),
            tree.size,
            cp.root,
            cp.tree_size
        )));
    }
    rewrite::delete_stream(nats, subjects::MIGRATION_STREAM).await?;
    tracing::info!(
        events = tree.size,
        "the log is replaced by its migrated form"
    );
    Ok(())
}
