//! The per-unit feed as a sink: every event of a case to each unit that is or was accountable for
//! it, on `xf.feed.<unit>.<case_id>` in the `XF_FEED` stream, so a township's system learns of
//! work sent to it even after an outage.
//!
//! It keeps the cases' accountable units in a store of its own (`Units`). Per batch it publishes
//! (all messages of the batch, then all acknowledgements) and then commits the checkpoint; after a
//! crash in between, the republished messages carry the same `Nats-Msg-Id` (`<seq>-<unit>`) and
//! the stream drops them. Each message carries the event's case version: only a publish that
//! failed and was retried can arrive after a later event of its case.

use std::path::Path;

use eventlog::{inbox, Connection, EventLog, Stored};

use crate::apply::SinkError;
use crate::store::{Store, StoreError};
use crate::{fold_case, Projection, ProjectionError, Tx};

/// The feed's store as a read model: the cases' units, as `domain::Case` records.
pub struct Units;

impl Projection for Units {
    fn name(&self) -> &'static str {
        "feed"
    }

    /// The layout of the stored cases (postcard, positional: see `domain::Case`); 2: with
    /// `leader_reception`; 3: with `first_petition` and `merged_into`; 4: with transfers and
    /// `bounced`; 5: with supervision and leader; 6: with reply, follow-up, the accused unit
    /// and the first receipt; 7: with attachments; 8: the reply's unit; 9: with adjustments;
    /// 10: with erasures.
    fn version(&self) -> u32 {
        10
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        fold_case(tx, event).map(drop)
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
            let Some((_, case)) = fold_case(&mut tx, ev)? else {
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
                    eventlog::subjects::feed(unit, case.id),
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
