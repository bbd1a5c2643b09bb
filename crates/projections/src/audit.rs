//! Audit trails: every event of a case in log order, and everything one principal did across
//! cases by day. Stored without personal data (no read-model file holds it); the API puts it back
//! from the log for a reader entitled to it.
//!
//! The per-actor index is keyed by the day the event was *recorded* (policy time zone): what an
//! official did in the system on a day, whatever business time they entered; a second one by the
//! day it *occurred* (business time), so that late entry shows: a step entered today for last
//! month is in last month's trail by business date and in today's by recorded date.
//!
//! Layout (model version 4), chosen because sled's cost is per entry written:
//! - `e/<case>/<chunk>`: the case's events `64·chunk+1 ..= 64·chunk+64` (by version, which is
//!   gapless), in log order. A case's history is one read, and a rebuild writes a case's events
//!   once per batch instead of once per event.
//! - `a/<hex(actor)>/<day>/<seq / 256>`: (seq, case, version) of the events that actor recorded
//!   that day in that window of 256 log sequences; `b/<hex(actor)>/<day>/<seq / 256>` the same
//!   by the day the events occurred.
//!
//! - `m/<case>`: (seq, case, version) of the events that merged another case into this one, so
//!   the history of the case a matter was merged into shows the merge too.
//!
//! The keys depend only on the events, never on batch boundaries, so a model built live and one
//! rebuilt are byte-identical.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::{CaseId, Policy, Timestamp};
use eventlog::Stored;
use wire::audit::Actor;

pub use queries::audit::TrailDate;
use wire::audit::AuditEvent;

pub mod tree;

use crate::keys::audit as keys;
use crate::{Projection, ProjectionError, Store, StoreError, Tx};

pub struct Audit {
    pub policy: Policy,
}

/// Events per case chunk.
const CHUNK: u64 = 64;
/// Log sequences per actor index window.
const WINDOW: u64 = 256;

/// An event as the model stores it. The event itself is kept as the JSON the log holds, so the
/// write path never builds a `serde_json::Value`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Item {
    seq: u64,
    version: u64,
    #[serde(with = "domain::stamp")]
    occurred_at: Timestamp,
    #[serde(with = "domain::stamp")]
    recorded_at: Timestamp,
    actor: Actor,
    /// `{"type": …, "data": …}`, the event at the current schema version.
    event: String,
    /// Its leaf in the Merkle tree over the log (`tree`).
    leaf: u64,
    /// Its hash in the chain (`integrity::event`).
    chain: integrity::Hash,
    /// Envelope v2: `prev_hash`, `key_id`, `sig` as stored.
    sealed: Option<(Option<String>, String, String)>,
    /// 补录: `late_entry`, `on_time_by_late_entry` and `late_reason`, when entered late or with a
    /// reason.
    late: Option<(bool, bool, Option<String>)>,
}

impl Item {
    fn into_event(self, case_id: CaseId) -> AuditEvent {
        #[derive(Deserialize)]
        struct Tagged {
            #[serde(rename = "type")]
            type_: String,
            #[serde(default)]
            data: serde_json::Value,
        }
        // Written by `apply` from a typed event, so it parses; an empty trail entry otherwise.
        let Tagged { type_, data } = serde_json::from_str(&self.event).unwrap_or(Tagged {
            type_: String::new(),
            data: serde_json::Value::Null,
        });
        let (prev_hash, key_id, sig) = match self.sealed {
            Some((prev, key, sig)) => (prev, Some(key), Some(sig)),
            None => (None, None, None),
        };
        let (late_entry, on_time_by_late_entry, late_reason) = self.late.unwrap_or_default();
        let alert_id = (type_ == "AlertReviewed").then_some(case_id.0);
        AuditEvent {
            alert_id,
            case_id,
            seq: self.seq,
            version: self.version,
            type_,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            actor: self.actor,
            data,
            prev_hash,
            hash: Some(integrity::to_hex(&self.chain)),
            key_id,
            sig,
            late_entry,
            on_time_by_late_entry,
            late_reason,
            case_no: None,
        }
    }

    /// A registration's case number.
    fn case_no(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&self.event).ok()?;
        Some(v.get("data")?.get("case_no")?.as_str()?.to_owned())
    }
}

/// One actor's events of one day within one window of log sequences: (seq, case, version).
type Refs = Vec<(u64, CaseId, u64)>;

/// `e/<case>/<chunk>`: the chunk of the case's trail holding `version`.
fn chunk_key(case: CaseId, version: u64) -> String {
    keys::chunk(case, version.saturating_sub(1) / CHUNK)
}

/// The prefix of an actor's trail by the day it is filed under: recorded (`a/`) or occurred
/// (`b/`).
fn trail_prefix(actor: &str, date: TrailDate) -> String {
    match date {
        TrailDate::Recorded => actor_prefix(actor),
        TrailDate::Occurred => keys::occurred_by(actor),
    }
}

fn actor_prefix(actor: &str) -> String {
    keys::recorded_by(actor)
}

impl Projection for Audit {
    fn name(&self) -> &'static str {
        "audit"
    }

    /// 2: the actor index held the key of the case entry, not a second copy of the event.
    /// 4: a case's events in chunks of 64, the actor index in windows of 256 sequences (postcard).
    /// 5: the index of case numbers (`n/<case_no>`). 6: without it (the cases model has it), with
    /// the merges into a case (`m/<case>`), events without personal data. 7: the actor index by
    /// business date too (`b/`). 8: each event's chain hash, signature and leaf, and the
    /// Merkle tree over the log (`tree`). 9: events that are not facts (issue 30) kept apart
    /// (`q/<case>/<seq>`), in no history or trail, and a case's events in order only. 10:
    /// events with their late entry (补录).
    fn version(&self) -> u32 {
        10
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        let seq = event.seq;
        let day = self.policy.local_date(e.recorded_at);
        let chain = event.chain_hash();
        // A replayed event (never from the runner) is not pushed below either.
        let leaf = tree::append(tx, seq, &chain)?.unwrap_or_default();
        // Every event is a leaf of the tree over the log (the proofs cover the log as it is),
        // but one that is not a fact is in no case's history nor anyone's trail.
        // The sequence of the case's event of `version` in the model, if it has one.
        let held = |tx: &mut Tx<'_>, version: u64| -> Result<Option<u64>, ProjectionError> {
            let found = tx.read(
                &chunk_key(e.case_id, version),
                |items: Option<&Vec<Item>>| {
                    items.and_then(|items| {
                        items.iter().find(|i| i.version == version).map(|i| i.seq)
                    })
                },
            )?;
            Ok(found)
        };
        let this = held(tx, e.version)?;
        if this == Some(seq) {
            // The same event again (a view replaying over a snapshot that holds it).
            return Ok(());
        }
        let in_order = this.is_none()
            && (e.version == 1 || e.version > 1 && held(tx, e.version - 1)?.is_some());
        let last = match (in_order, e.version) {
            (true, 1) => None,
            (true, v) => Some(v - 1),
            (false, v) => Some(v),
        };
        let admitted = crate::admitted(tx, event, last);
        let sealed = match (&e.key_id, &e.sig) {
            (Some(key), Some(sig)) => Some((e.prev_hash.clone(), key.clone(), sig.clone())),
            _ => None,
        };
        let late = (e.late_entry || e.late_reason.is_some())
            .then(|| (e.late_entry, e.on_time_by_late_entry, e.late_reason.clone()));
        let item = Item {
            late,
            leaf,
            chain,
            sealed,
            seq,
            version: e.version,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            actor: e.actor.clone(),
            event: if domain::personal::holds_personal_data(&e.event) {
                // Without the personal fields, as views for those not entitled leave them out.
                let mut v = serde_json::to_value(&e.event).unwrap_or_default();
                if let Some(data) = v.get_mut("data") {
                    domain::personal::redact_event_json(data);
                }
                serde_json::to_string(&v)
            } else {
                serde_json::to_string(&e.event)
            }
            .map_err(|err| ProjectionError::Apply {
                seq,
                why: err.to_string(),
            })?,
        };
        if !admitted {
            // Kept apart, for the case's proofs only: `verify` shows it at its place in the log.
            tx.put(keys::refused(e.case_id, seq), item);
            return Ok(());
        }
        // The runner never hands an event twice; the checks keep a replay from duplicating one.
        tx.update(chunk_key(e.case_id, e.version), |items: &mut Vec<Item>| {
            if items.last().is_none_or(|last| last.seq < seq) {
                items.push(item);
            }
        })?;
        if let domain::Event::CaseMerged(m) = &e.event {
            tx.update(keys::merged_into(CaseId(m.into)), |refs: &mut Refs| {
                if refs.last().is_none_or(|last| last.0 < seq) {
                    refs.push((seq, e.case_id, e.version));
                }
            })?;
        }
        let occurred = self.policy.local_date(e.occurred_at);
        for (date, day) in [(TrailDate::Recorded, day), (TrailDate::Occurred, occurred)] {
            let window = format!(
                "{}{day}/{:020}",
                trail_prefix(&e.actor.id.0, date),
                seq / WINDOW
            );
            tx.update(window, |refs: &mut Refs| {
                if refs.last().is_none_or(|last| last.0 < seq) {
                    refs.push((seq, e.case_id, e.version));
                }
            })?;
        }
        Ok(())
    }
}

/// The cases merged into `case`, oldest merge first.
pub fn merged_into(store: &Store, case: CaseId) -> Result<Vec<CaseId>, StoreError> {
    let merges = store
        .get::<Refs>(&keys::merged_into(case))?
        .unwrap_or_default();
    Ok(merges.into_iter().map(|(_, merged, _)| merged).collect())
}

/// A case's events in log order, with the events that merged other cases into it (those carry
/// the merged case's id).
pub fn case_history(store: &Store, case: CaseId) -> Result<Vec<AuditEvent>, StoreError> {
    let mut events: Vec<AuditEvent> = store
        .scan::<Vec<Item>>(&keys::chunks(case))?
        .into_iter()
        .flat_map(|(_, items)| items)
        .map(|item| item.into_event(case))
        .collect();
    let merges = store
        .get::<Refs>(&keys::merged_into(case))?
        .unwrap_or_default();
    for (seq, merged, version) in merges {
        let items = store
            .get::<Vec<Item>>(&chunk_key(merged, version))?
            .unwrap_or_default();
        if let Some(item) = items.into_iter().find(|i| i.seq == seq) {
            events.push(item.into_event(merged));
        }
    }
    events.sort_by_key(|e| e.seq);
    Ok(events)
}

/// Where each of a case's own events is in the log, with its audit path in the tree of the first
/// `tree_size` events (for those it covers), in log order.
pub fn positions(
    store: &Store,
    case: CaseId,
    tree_size: u64,
) -> Result<Vec<integrity::bundle::Position>, StoreError> {
    let tree_size = tree_size.min(tree::size(store)?);
    let mut out = Vec::new();
    let rejected = store.scan::<Item>(&keys::refused_of(case))?;
    let items = store
        .scan::<Vec<Item>>(&keys::chunks(case))?
        .into_iter()
        .flat_map(|(_, items)| items)
        .chain(rejected.into_iter().map(|(_, item)| item));
    for item in items {
        {
            let covered = item.leaf < tree_size;
            out.push(integrity::bundle::Position {
                seq: item.seq,
                hash: integrity::to_hex(&item.chain),
                leaf_index: covered.then_some(item.leaf),
                path: if covered {
                    tree::proof(store, item.leaf, tree_size)?
                } else {
                    Vec::new()
                },
            });
        }
    }
    out.sort_by_key(|p| p.seq);
    Ok(out)
}

/// Events of `actor` recorded (or, by `date`, occurred) on days `from..=to`, in log order.
pub fn actor_events(
    store: &Store,
    actor: &str,
    (from, to): (NaiveDate, NaiveDate),
    date: TrailDate,
) -> Result<Vec<AuditEvent>, StoreError> {
    let p = trail_prefix(actor, date);
    let mut refs: Refs = store
        .range::<Refs>(&format!("{p}{from}"), &format!("{p}{to}/\u{10FFFF}"))?
        .into_iter()
        .flat_map(|(_, refs)| refs)
        .collect();
    refs.sort_by_key(|r| r.0);
    // An actor's events cluster in few cases: read each chunk once.
    let mut chunks: HashMap<String, Vec<Item>> = HashMap::new();
    let mut events = Vec::with_capacity(refs.len());
    for (seq, case, version) in refs {
        let key = chunk_key(case, version);
        if !chunks.contains_key(&key) {
            let items = store.get::<Vec<Item>>(&key)?.unwrap_or_default();
            chunks.insert(key.clone(), items);
        }
        let found = chunks
            .get(&key)
            .and_then(|items| items.iter().find(|i| i.seq == seq));
        if let Some(item) = found {
            events.push(item.clone().into_event(case));
        }
    }
    // Each case by its number (its registration, version 1, in its first chunk), read once.
    let mut numbers: HashMap<CaseId, Option<String>> = HashMap::new();
    for e in &mut events {
        if let std::collections::hash_map::Entry::Vacant(slot) = numbers.entry(e.case_id) {
            let key = chunk_key(e.case_id, 1);
            let first = match chunks.get(&key) {
                Some(items) => items
                    .iter()
                    .find(|i| i.version == 1)
                    .and_then(Item::case_no),
                None => store
                    .get::<Vec<Item>>(&key)?
                    .unwrap_or_default()
                    .iter()
                    .find(|i| i.version == 1)
                    .and_then(Item::case_no),
            };
            slot.insert(first);
        }
        e.case_no = numbers.get(&e.case_id).cloned().flatten();
    }
    Ok(events)
}

#[cfg(test)]
mod tests;
