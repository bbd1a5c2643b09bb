//! 研判: a review of an alert, appended on the alert's own subject
//! (`xf.events.<township>.<alert_id>`), chained and signed like a case's event: its `version`
//! counts the alert's reviews, its `prev_hash` is the last review's. No case is read or changed.
//!
//! The round trips: an `Idempotency-Key` claims its key first (one write, as for a case's
//! command), then the alert's reviews are read (its subject, a few events) and the review is
//! appended with the subject's last sequence expected; another writer first, or an unknown
//! outcome, reads them again (the review may be there, found by its command id).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use uuid::Uuid;

use domain::{CaseId, Event, Principal, UnitCode};
use eventlog::log::case_subject;
use eventlog::{Envelope, LogError, Stored};
use wire::audit::Actor;

use super::CaseService;
use crate::idempotency::{command_id_for, request_hash, Committed, Record};
use crate::CommandError;

/// The action a review's idempotency key is bound to (with the alert and the body).
const ACTION: &str = "review-alert";
/// Rounds lost to other writers before a review gives up (each one means a review landed).
const MAX_ROUNDS: u32 = 64;

/// A review to append on alert `alert_id` of `township`, decided as `event`
/// (`domain::decide::review_alert`).
pub struct AlertReview<'a> {
    pub principal: &'a Principal,
    pub alert_id: Uuid,
    pub township: UnitCode,
    pub event: Event,
    pub correlation_id: Uuid,
    /// The request's `Idempotency-Key` and body.
    pub idempotency: Option<(String, serde_json::Value)>,
}

/// Where a review is in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reviewed {
    pub seq: u64,
    /// The alert's reviews up to this one.
    pub version: u64,
    /// An earlier request with the same key stored it.
    pub replayed: bool,
}

impl CaseService {
    /// Append review `r`, waiting out the log's unavailability like a case's command.
    pub async fn review_alert(&self, r: AlertReview<'_>) -> Result<Reviewed, CommandError> {
        if self.storage_low.load(Ordering::Relaxed) {
            return Err(CommandError::StorageLow);
        }
        let id = CaseId(r.alert_id);
        let keyed = r.idempotency.as_ref().map(|(key, body)| {
            (
                command_id_for(&r.principal.id.0, key),
                request_hash(ACTION, Some(id), body),
            )
        });
        let (command_id, hash) = match &keyed {
            Some((command_id, hash)) => (*command_id, Some(hash.as_str())),
            None => (Uuid::now_v7(), None),
        };
        if let Some(hash) = hash {
            self.claim(command_id, id, hash).await?;
        }
        // Reviews of one alert are serialized in this process, as a case's commands are.
        let slot = self.slot(id);
        let _held = slot.lock().await;
        let subject = case_subject(&r.township, id);
        let give_up = Instant::now() + self.retry_for;
        let mut backoff = Duration::from_millis(20);
        let mut rounds = 0;
        loop {
            match self.review_round(&r, &subject, command_id, hash).await {
                Ok(Some(done)) => {
                    if let Some(hash) = hash {
                        let result = Committed {
                            case_id: id,
                            version: done.version,
                            seq: done.seq,
                        };
                        let record = Record::Done {
                            request_hash: hash.to_owned(),
                            result,
                        };
                        self.idem.complete(command_id, &record).await?;
                    }
                    return Ok(done);
                }
                Ok(None) if rounds < MAX_ROUNDS => rounds += 1,
                Ok(None) => {
                    return Err(CommandError::Internal(format!(
                        "alert {id}: {MAX_ROUNDS} reviews landed first"
                    )))
                }
                Err(e) if e.is_transient() && Instant::now() + backoff <= give_up => {
                    tracing::warn!(alert_id = %id, error = %e, "event log unavailable, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Claim an idempotency key for this review: a key used for another request (another body,
    /// another alert) is refused; the same request goes on (its review, if stored, is found on
    /// the alert's subject).
    async fn claim(&self, command_id: Uuid, id: CaseId, hash: &str) -> Result<(), CommandError> {
        let pending = Record::Pending {
            request_hash: hash.to_owned(),
            case_id: id,
        };
        if self.idem.reserve(command_id, &pending).await? {
            return Ok(());
        }
        match self.idem.get(command_id).await? {
            Some(rec) if rec.request_hash() != hash => Err(CommandError::IdempotencyMismatch),
            _ => Ok(()),
        }
    }

    /// Read the alert's reviews and append this one after the last; `None`: another writer was
    /// first (read again).
    async fn review_round(
        &self,
        r: &AlertReview<'_>,
        subject: &str,
        command_id: Uuid,
        hash: Option<&str>,
    ) -> Result<Option<Reviewed>, CommandError> {
        let events = self.log.read_subject(subject, 1, u64::MAX).await?;
        if let Some(mine) = events
            .iter()
            .find(|s| s.admitted() && s.envelope.command_id == command_id)
        {
            return Ok(Some(Reviewed {
                seq: mine.seq,
                version: mine.envelope.version,
                replayed: true,
            }));
        }
        let last = last_review(&events);
        let now = self.now();
        let mut envelope = Envelope {
            event_id: Uuid::now_v7(),
            case_id: CaseId(r.alert_id),
            township: r.township.clone(),
            schema_version: Event::SCHEMA_VERSION,
            version: last.map_or(1, |l| l.envelope.version + 1),
            occurred_at: now,
            recorded_at: now,
            actor: Actor::from(r.principal),
            command_id,
            correlation_id: r.correlation_id,
            causation_id: None,
            request_hash: hash.map(str::to_owned),
            prev_hash: last.map(|l| integrity::to_hex(&l.chain_hash())),
            key_id: None,
            hash: None,
            sig: None,
            personal: None,
            migrated_at: None,
            late_entry: false,
            on_time_by_late_entry: false,
            late_reason: None,
            event: r.event.clone(),
        };
        let (bytes, _) = eventlog::envelope::seal(&mut envelope, &self.signer).map_err(|e| {
            CommandError::Log(LogError::Encode {
                what: "an event",
                source: e.into(),
            })
        })?;
        let expected = events.last().map_or(0, |s| s.seq);
        match self
            .log
            .append_bytes(subject, expected, &envelope, bytes)
            .await
        {
            Ok((seq, false)) => Ok(Some(Reviewed {
                seq,
                version: envelope.version,
                replayed: false,
            })),
            // The stream holds this command id already: this review, unless the key named
            // another alert within the duplicate window.
            Ok((seq, true)) => {
                let stored = self.log.get(seq).await?;
                if stored.envelope.case_id != envelope.case_id {
                    return Err(CommandError::IdempotencyMismatch);
                }
                Ok(Some(Reviewed {
                    seq,
                    version: stored.envelope.version,
                    replayed: true,
                }))
            }
            Err(LogError::Conflict) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The last review of an alert's events taken as a fact (issue 30): its seal held and it follows
/// the one before.
fn last_review(events: &[Stored]) -> Option<&Stored> {
    let mut last: Option<&Stored> = None;
    for s in events {
        let follows =
            eventlog::admission::follows(last.map(|l| l.envelope.version), s.envelope.version);
        if s.admitted() && follows && s.envelope.event.is_alert() {
            last = Some(s);
        }
    }
    last
}
