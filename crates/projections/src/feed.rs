//! The per-unit feed as a sink: every event of a case to each unit that is or was accountable for
//! it, on `xf.feed.<unit>.<case_id>` in the `XF_FEED` stream, so a township's system learns of
//! work sent to it even after an outage.
//!
//! It keeps each case's route in a store of its own (`Units`): the units that have been
//! accountable for it, whether it is an accusation, its last version; a record of the feed's
//! own, not a `domain::Case`, so a change to the case touches no feed layout. Per batch it publishes
//! (all messages of the batch, then all acknowledgements) and then commits the checkpoint; after a
//! crash in between, the republished messages carry the same `Nats-Msg-Id` (`<seq>-<unit>`) and
//! the stream drops them. Each message carries the event's case version: only a publish that
//! failed and was retried can arrive after a later event of its case.

use std::path::Path;

use serde::{Deserialize, Serialize};

use domain::UnitCode;
use eventlog::{inbox, Connection, EventLog, Stored};

use crate::apply::SinkError;
use crate::store::{Store, StoreError};
use crate::{Projection, ProjectionError, Tx};

/// The feed's store as a read model: each case's [`Route`].
pub struct Units;

/// Where the events of a case go, as the feed keeps it (`keys::feed::route`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The case's last version taken as a fact.
    pub version: u64,
    /// 检举控告: its summary goes into no feed (条例 30).
    pub accusation: bool,
    /// Every unit that has been accountable for the case, in order of first accountability
    /// (`Event::accountable_unit`, the rule `domain::Case::units` follows).
    pub units: Vec<UnitCode>,
}

/// The route of the case of `event` after it; `None` when the event is not a fact (the route
/// stays as it was).
fn route(tx: &mut Tx<'_>, event: &Stored) -> Result<Option<Route>, ProjectionError> {
    let env = &event.envelope;
    let key = crate::keys::feed::route(env.case_id);
    let version = |r: &Route| r.version;
    let Some(mut after) = crate::case_record(tx, event, &key, version, |e| Route {
        version: 0,
        accusation: e.accusation,
        units: Vec::new(),
    })?
    else {
        return Ok(None);
    };
    after.version = env.version;
    if let Some(unit) = env.event.accountable_unit() {
        if !after.units.contains(unit) {
            after.units.push(unit.clone());
        }
    }
    tx.put(key, after.clone());
    Ok(Some(after))
}

impl Projection for Units {
    fn name(&self) -> &'static str {
        "feed"
    }

    /// The layout of the store. 1 to 10: the cases as `domain::Case` records (each change of
    /// the case a new layout); 11: each case's [`Route`] alone.
    fn version(&self) -> u32 {
        11
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        route(tx, event).map(drop)
    }
}

pub struct FeedSink {
    nats: Connection,
    store: Store,
}

impl FeedSink {
    /// Open the feed stream and the feed's store under `dir`. A store written with another layout
    /// is replaced by a rebuild up to its checkpoint: the cases are folded again without
    /// publishing anything, and the new generation becomes live only when complete (interrupted,
    /// the next start does it again).
    pub async fn open(
        nats: Connection,
        replicas: usize,
        dir: &Path,
        log: &EventLog,
    ) -> Result<FeedSink, ProjectionError> {
        inbox::open_feed(&nats, replicas)
            .await
            .map_err(|e| ProjectionError::Log(format!("opening the feed stream: {e}")))?;
        let old = Store::open_current(dir)?;
        let checkpoint = old.checkpoint()?;
        let store = if checkpoint == 0 || old.model_version()? == Units.version() {
            old
        } else {
            tracing::warn!(
                checkpoint,
                "feed store written with another layout; folding the cases again"
            );
            drop(old);
            crate::rebuild::rebuild_upto(&Units, dir, log, checkpoint, |_, _| {}).await?;
            Store::open_current(dir)?
        };
        tracing::info!(checkpoint = store.checkpoint()?, "feed starting");
        Ok(FeedSink { nats, store })
    }

    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        self.store.checkpoint()
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        self.store.flush().await
    }

    pub async fn write(&mut self, events: &[Stored]) -> Result<u64, SinkError> {
        let checkpoint = self.store.checkpoint()?;
        let mut tx = self.store.tx();
        tx.set_model_version(Units.version());
        let mut last = checkpoint;
        let mut outgoing = Vec::new();
        for ev in events.iter().filter(|e| e.seq > checkpoint) {
            last = ev.seq;
            // An event that is not a fact goes to no township.
            let Some(case) = route(&mut tx, ev)? else {
                continue;
            };
            let mut event = queries::audit::event_of(ev);
            // No personal data in any feed: a township fetches its cases' contact data over
            // HTTP where it is entitled to (its events are sealed in the log anyway).
            queries::audit::redact_personal_data(&mut event);
            // An accusation's summary never goes into any feed (条例 30): it may name people.
            if case.accusation {
                queries::audit::redact_summary(&mut event);
            }
            let body = serde_json::to_vec(&event).map_err(|e| {
                SinkError::Publish(eventlog::LogError::Encode {
                    what: "a feed message",
                    source: e.into(),
                })
            })?;
            for unit in &case.units {
                outgoing.push((
                    eventlog::subjects::feed(unit, ev.envelope.case_id),
                    format!("{}-{unit}", ev.seq),
                    body.clone(),
                ));
            }
        }
        // The batch's messages go out together (awaiting each acknowledgement in turn held the
        // feed to one round trip per message, so it fell behind under load and the log's messages
        // piled up in its memory); the checkpoint follows their acknowledgements.
        inbox::publish_all(&self.nats, outgoing).await?;
        if last > checkpoint {
            self.store.commit(tx, last)?;
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use domain::command::{AcceptCase, AssignCase, Command, TransferCase};
    use domain::Channel;

    use super::{Route, Units};
    use crate::testing::{build, register, ts, unit, Log};

    /// The feed's route of a case is what the case itself says: its units in order, whether it
    /// is an accusation, its version, after acceptance, assignment, transfers back and forth.
    #[test]
    fn a_route_follows_the_units_the_case_follows() {
        let t = "2026-03-02T09:00:00+08:00";
        let mut log = Log::new();
        let plain = log.run(None, register("gaoqiao", Channel::Letter, 1, t), t);
        let mut accusation = register("dongcheng", Channel::Visit, 1, t);
        if let Command::Register(r) = &mut accusation {
            r.accusation = true;
        }
        let accused = log.run(None, accusation, t);
        let accept = Command::Accept(AcceptCase {
            late_reason: None,
            new_facts: None,
            occurred_at: Some(ts(t)),
        });
        log.run(Some(plain), accept, t);
        let assign = |u: &str| {
            Command::Assign(AssignCase {
                late_reason: None,
                unit: unit(u),
                due_date: None,
                note: None,
                occurred_at: Some(ts(t)),
            })
        };
        let transfer = |u: &str| {
            Command::Transfer(TransferCase {
                late_reason: None,
                unit: unit(u),
                reason: "属地".into(),
                occurred_at: Some(ts(t)),
            })
        };
        log.run(Some(plain), assign("land_bureau"), t);
        log.run(Some(plain), transfer("dongcheng"), t);
        log.run(Some(plain), transfer("land_bureau"), t);
        let (_dir, store) = build(&Units, &log.events, 2);
        for id in [plain, accused] {
            let case = log.case(id);
            let route: Route = store
                .get(&crate::keys::feed::route(id))
                .expect("read")
                .expect("a route");
            assert_eq!(
                route,
                Route {
                    version: case.version,
                    accusation: case.accusation,
                    units: case.units.clone(),
                }
            );
        }
        assert_eq!(
            log.case(plain).units.len(),
            3,
            "gaoqiao, land_bureau, dongcheng"
        );
    }
}
