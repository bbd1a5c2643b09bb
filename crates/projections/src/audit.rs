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
use eventlog::{Actor, Stored};

pub use queries::audit::AuditEvent;

pub mod tree;

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
        AuditEvent {
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
        }
    }
}

/// One actor's events of one day within one window of log sequences: (seq, case, version).
type Refs = Vec<(u64, CaseId, u64)>;

/// `e/<case>/<chunk>`: the chunk of the case's trail holding `version`.
fn chunk_key(case: CaseId, version: u64) -> String {
    format!("e/{case}/{:010}", version.saturating_sub(1) / CHUNK)
}

/// Which day an actor's trail is filed under: recorded (`a/`) or occurred (`b/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailDate {
    Recorded,
    Occurred,
}

fn trail_prefix(actor: &str, date: TrailDate) -> String {
    match date {
        TrailDate::Recorded => actor_prefix(actor),
        TrailDate::Occurred => format!("b/{}/", hex::encode(actor)),
    }
}

fn actor_prefix(actor: &str) -> String {
    // Principal ids are free text; hex keeps one id's keys from being a prefix of another's.
    format!("a/{}/", hex::encode(actor))
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
    /// Merkle tree over the log (`tree`).
    fn version(&self) -> u32 {
        8
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        let seq = event.seq;
        let day = self.policy.local_date(e.recorded_at);
        let chain = event.chain_hash();
        // A replayed event (never from the runner) is not pushed below either.
        let leaf = tree::append(tx, seq, &chain)?.unwrap_or_default();
        let sealed = match (&e.key_id, &e.sig) {
            (Some(key), Some(sig)) => Some((e.prev_hash.clone(), key.clone(), sig.clone())),
            _ => None,
        };
        let item = Item {
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
        // The runner never hands an event twice; the checks keep a replay from duplicating one.
        tx.update(chunk_key(e.case_id, e.version), |items: &mut Vec<Item>| {
            if items.last().is_none_or(|last| last.seq < seq) {
                items.push(item);
            }
        })?;
        if let domain::Event::CaseMerged(m) = &e.event {
            tx.update(format!("m/{}", m.into), |refs: &mut Refs| {
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

/// A case's events in log order, with the events that merged other cases into it (those carry
/// the merged case's id).
pub fn case_history(store: &Store, case: CaseId) -> Result<Vec<AuditEvent>, StoreError> {
    let mut events: Vec<AuditEvent> = store
        .scan::<Vec<Item>>(&format!("e/{case}/"))?
        .into_iter()
        .flat_map(|(_, items)| items)
        .map(|item| item.into_event(case))
        .collect();
    let merges = store.get::<Refs>(&format!("m/{case}"))?.unwrap_or_default();
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
    for (_, items) in store.scan::<Vec<Item>>(&format!("e/{case}/"))? {
        for item in items {
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
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::event::{CaseClosed, CaseSupervised};
    use domain::{Event, PrincipalId, Role, UnitCode};
    use eventlog::Envelope;

    const REC: TrailDate = TrailDate::Recorded;

    fn ts(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s).expect("timestamp")
    }

    /// Event `version` of `case`, at log sequence `seq`, by `actor`, recorded at `at`.
    fn stored(case: CaseId, version: u64, seq: u64, actor: &str, at: &str) -> Stored {
        let unit = UnitCode::parse("gaoqiao").expect("unit");
        let event = if version.is_multiple_of(2) {
            Event::CaseSupervised(CaseSupervised {
                unit: unit.clone(),
                note: format!("note {version}"),
                due_at: None,
            })
        } else {
            Event::CaseClosed(CaseClosed {
                note: Some(format!("v{version}")),
            })
        };
        Stored::unsigned(
            seq,
            eventlog::subjects::case_subject(&unit, case),
            Envelope {
                event_id: uuid::Uuid::now_v7(),
                case_id: case,
                township: unit,
                schema_version: Event::SCHEMA_VERSION,
                version,
                occurred_at: ts(at),
                recorded_at: ts(at),
                actor: Actor {
                    id: PrincipalId(actor.into()),
                    role: Role::County,
                    unit: None,
                },
                command_id: uuid::Uuid::now_v7(),
                correlation_id: uuid::Uuid::now_v7(),
                causation_id: None,
                request_hash: None,
                prev_hash: None,
                key_id: None,
                hash: None,
                sig: None,
                personal: None,
                migrated_at: None,
                event,
            },
        )
    }

    /// 150 events of one case (three chunks) interleaved with 150 of another, by two actors,
    /// across two days and several index windows; applied in uneven batches.
    fn log() -> (CaseId, CaseId, Vec<Stored>) {
        let (a, b) = (CaseId(uuid::Uuid::now_v7()), CaseId(uuid::Uuid::now_v7()));
        let mut events = Vec::new();
        for v in 1..=150u64 {
            let day = if v <= 100 { "2026-03-01" } else { "2026-03-02" };
            let at = format!("{day}T10:00:00+08:00");
            events.push(stored(a, v, 2 * v - 1, "zhang", &at));
            events.push(stored(
                b,
                v,
                2 * v,
                if v % 3 == 0 { "zhang" } else { "li" },
                &at,
            ));
        }
        (a, b, events)
    }

    fn build(events: &[Stored], batch: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open_current(dir.path()).expect("open");
        let audit = Audit {
            policy: Policy::default(),
        };
        for chunk in events.chunks(batch) {
            crate::runner::apply_batch(&audit, &store, chunk).expect("apply");
        }
        (dir, store)
    }

    #[test]
    fn a_case_trail_spans_chunks_in_log_order() {
        let (a, b, events) = log();
        let (_dir, store) = build(&events, 37);
        for case in [a, b] {
            let trail = case_history(&store, case).expect("history");
            let versions: Vec<u64> = trail.iter().map(|e| e.version).collect();
            assert_eq!(
                versions,
                (1..=150).collect::<Vec<_>>(),
                "every event once, in order"
            );
            assert!(trail.iter().all(|e| e.case_id == case));
            assert_eq!(trail[1].type_, "CaseSupervised");
            assert_eq!(trail[1].data["note"], "note 2");
            assert_eq!(trail[2].type_, "CaseClosed");
            let original = events
                .iter()
                .find(|s| s.envelope.case_id == case && s.envelope.version == 3)
                .expect("event");
            assert_eq!(
                trail[2],
                AuditEvent::from_stored(original),
                "as the log has it"
            );
        }
    }

    #[test]
    fn an_actor_trail_is_filtered_by_day_and_complete_across_windows() {
        let (a, b, events) = log();
        let (_dir, store) = build(&events, 1000);
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
        let zhang = actor_events(&store, "zhang", (day("2026-03-01"), day("2026-03-01")), REC)
            .expect("zhang");
        let expected: Vec<u64> = events
            .iter()
            .filter(|s| s.envelope.actor.id.0 == "zhang" && s.envelope.version <= 100)
            .map(|s| s.seq)
            .collect();
        assert_eq!(zhang.iter().map(|e| e.seq).collect::<Vec<_>>(), expected);
        assert!(zhang.iter().any(|e| e.case_id == a) && zhang.iter().any(|e| e.case_id == b));
        let li_both =
            actor_events(&store, "li", (day("2026-03-01"), day("2026-03-02")), REC).expect("li");
        assert_eq!(li_both.len(), 100, "two thirds of case b's 150 events");
        assert!(
            actor_events(&store, "zhan", (day("2026-01-01"), day("2026-12-31")), REC)
                .expect("prefix")
                .is_empty()
        );
    }

    #[test]
    fn the_model_does_not_depend_on_batch_boundaries_or_replays() {
        let (_, _, events) = log();
        let (_d1, one_by_one) = build(&events, 1);
        let (_d2, large) = build(&events, 10_000);
        assert_eq!(
            one_by_one.digest().expect("digest"),
            large.digest().expect("digest")
        );
        // The same events again (a checkpoint lost) change nothing.
        let audit = Audit {
            policy: Policy::default(),
        };
        let mut tx = large.tx();
        for ev in &events[..10] {
            audit.apply(&mut tx, ev).expect("apply");
        }
        large.commit(tx, events.len() as u64).expect("commit");
        assert_eq!(
            one_by_one.digest().expect("digest"),
            large.digest().expect("digest")
        );
    }

    /// Late entry shows: a step entered on 3 March for 1 February is in February's trail by
    /// business date and in March's by recorded date, and in no other.
    #[test]
    fn an_actor_trail_by_business_date_shows_late_entry() {
        let case = CaseId(uuid::Uuid::now_v7());
        let mut late = stored(case, 1, 1, "wang", "2026-03-03T10:00:00+08:00");
        late.envelope.occurred_at = ts("2026-02-01T10:00:00+08:00");
        let on_time = stored(case, 2, 2, "wang", "2026-03-03T11:00:00+08:00");
        let (_dir, store) = build(&[late, on_time], 1);
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
        let seqs = |from: &str, to: &str, date| -> Vec<u64> {
            actor_events(&store, "wang", (day(from), day(to)), date)
                .expect("trail")
                .iter()
                .map(|e| e.seq)
                .collect()
        };
        let occ = TrailDate::Occurred;
        assert_eq!(seqs("2026-02-01", "2026-02-01", occ), [1]);
        assert_eq!(seqs("2026-02-01", "2026-02-01", REC), Vec::<u64>::new());
        assert_eq!(seqs("2026-03-03", "2026-03-03", occ), [2]);
        assert_eq!(seqs("2026-03-03", "2026-03-03", REC), [1, 2]);
        assert_eq!(seqs("2026-01-01", "2026-12-31", occ), [1, 2], "each once");
    }
}
