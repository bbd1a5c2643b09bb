//! Reading a case from the log: from scratch, or catching up a cached state.

use domain::{evolve, Case, CaseId};

use eventlog::Stored;
use wire::Rejection;

use super::{CaseService, Loaded, RecordedCommand};
use crate::CommandError;
use wire::case::RejectedEvent;

impl CaseService {
    /// The case as it is in the log now (catching up on events other processes appended).
    pub async fn read(&self, id: CaseId) -> Result<Option<Loaded>, CommandError> {
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        let current = guard.take();
        let (fresh, _) = self.refresh(id, current).await?;
        *guard = fresh.clone();
        Ok(fresh)
    }

    /// Whether the log holds any event of case `id`.
    pub async fn in_log(&self, id: CaseId) -> Result<bool, CommandError> {
        Ok(self.log.locate(id).await?.is_some())
    }

    /// Whether `id` is an alert's (its subject holds reviews, 研判), not a case's.
    pub async fn is_alert(&self, id: CaseId) -> Result<bool, CommandError> {
        let Some((subject, _)) = self.log.locate(id).await? else {
            return Ok(false);
        };
        let first = self.log.read_subject(&subject, 1, 1).await?;
        Ok(first.first().is_some_and(|s| s.envelope.event.is_alert()))
    }

    /// The event at `seq` with its personal data opened, unless its case's is `erased`.
    pub async fn event_opened(&self, seq: u64, erased: bool) -> Result<Stored, CommandError> {
        let mut stored = self.log.get(seq).await?;
        self.vault
            .open_envelope(&mut stored.envelope, erased)
            .await?;
        Ok(stored)
    }

    /// The last sequence the log stored at or before `t` (0: none).
    pub async fn last_seq_at(&self, t: chrono::DateTime<chrono::Utc>) -> Result<u64, CommandError> {
        Ok(self.log.last_seq_at(t).await?)
    }

    /// When the log stored the event at `seq` (or the next one after a gap), if any.
    pub async fn stored_at(
        &self,
        seq: u64,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, CommandError> {
        Ok(self.log.stream_time(seq).await?)
    }

    /// Every event of a case, in log order, its personal data opened (unless erased).
    pub async fn history(&self, id: CaseId) -> Result<Vec<Stored>, CommandError> {
        let mut events = self.sealed_history(id).await?;
        self.open_events(&mut events, false).await?;
        Ok(events)
    }

    /// Every event of a case, in log order, its personal data left sealed (for what needs only
    /// the steps and their dates).
    pub async fn sealed_history(&self, id: CaseId) -> Result<Vec<Stored>, CommandError> {
        match self.log.locate(id).await? {
            None => Ok(vec![]),
            Some((subject, _)) => Ok(self.log.read_subject(&subject, 1, u64::MAX).await?),
        }
    }

    /// The case as of `version` (for replaying an idempotent response).
    pub async fn case_at(&self, id: CaseId, version: u64) -> Result<Option<Case>, CommandError> {
        let events = self.history(id).await?;
        let facts = fold(None, events.iter())?.facts;
        Ok(fold(None, facts.into_iter().take(version as usize))?.case)
    }

    /// Catch up from `current` (or from scratch) to the log; returns the new events.
    pub(super) async fn refresh(
        &self,
        id: CaseId,
        current: Option<Loaded>,
    ) -> Result<(Option<Loaded>, Vec<Stored>), CommandError> {
        let (subject, from, state, mut commands, hash, mut rejected) = match current {
            Some(l) => (
                l.subject,
                l.seq + 1,
                Some(l.case),
                l.commands,
                l.hash,
                l.rejected,
            ),
            None => match self.log.locate(id).await? {
                None => return Ok((None, vec![])),
                Some((subject, _)) => (subject, 1, None, Vec::new(), [0; 32], Vec::new()),
            },
        };
        let mut events = self.log.read_subject(&subject, from, u64::MAX).await?;
        let erased = state
            .as_ref()
            .is_some_and(domain::Case::personal_data_erased);
        self.open_events(&mut events, erased).await?;
        let seq = events
            .last()
            .map(|s| s.seq)
            .unwrap_or(from.saturating_sub(1));
        let folded = fold(state, events.iter())?;
        let hash = folded.facts.last().map_or(hash, |s| s.chain_hash());
        commands.extend(folded.facts.iter().map(|s| RecordedCommand::of(s)));
        rejected.extend(folded.rejected);
        let loaded = folded.case.map(|case| Loaded {
            case,
            subject,
            seq,
            hash,
            commands,
            rejected,
        });
        Ok((loaded, events))
    }
}

impl CaseService {
    /// The case as it was once the log held sequence `seq` (its events up to it), or `None`
    /// if it did not exist yet. For reads as of a past point; the cache is not touched.
    pub async fn read_at(&self, id: CaseId, seq: u64) -> Result<Option<Loaded>, CommandError> {
        let Some((subject, _)) = self.log.locate(id).await? else {
            return Ok(None);
        };
        let mut events: Vec<Stored> = self
            .log
            .read_subject(&subject, 1, u64::MAX)
            .await?
            .into_iter()
            .take_while(|s| s.seq <= seq)
            .collect();
        self.open_events(&mut events, false).await?;
        let Some(last_seq) = events.last().map(|s| s.seq) else {
            return Ok(None);
        };
        let folded = fold(None, events.iter())?;
        let hash = folded.facts.last().map_or([0; 32], |s| s.chain_hash());
        let commands = folded
            .facts
            .iter()
            .map(|s| RecordedCommand::of(s))
            .collect();
        Ok(folded.case.map(|case| Loaded {
            case,
            subject,
            seq: last_seq,
            hash,
            commands,
            rejected: folded.rejected,
        }))
    }
}

/// A case folded from its events: the events taken as facts, and those that are not.
pub(super) struct Folded<'a> {
    pub case: Option<Case>,
    pub facts: Vec<&'a Stored>,
    pub rejected: Vec<RejectedEvent>,
}

/// Fold `events` onto `state`, taking only the facts (issue 30): an event whose seal did not
/// hold when it was read, or that does not follow the case's last admitted version (a replay,
/// a gap), is read as absent, and listed in `rejected`.
pub(super) fn fold<'a>(
    mut state: Option<Case>,
    events: impl Iterator<Item = &'a Stored>,
) -> Result<Folded<'a>, CommandError> {
    let (mut facts, mut rejected) = (Vec::new(), Vec::new());
    for s in events {
        let e = &s.envelope;
        // An alert's review (研判) is on the alert's subject: no case, whatever id is asked.
        if e.event.is_alert() {
            continue;
        }
        let reason = match s.rejected {
            Some(why) => Some(why),
            None if eventlog::admission::follows(state.as_ref().map(|c| c.version), e.version) => {
                None
            }
            None => Some(Rejection::OutOfOrder),
        };
        if let Some(reason) = reason {
            rejected.push(RejectedEvent { seq: s.seq, reason });
            continue;
        }
        state = Some(
            evolve(state, e.case_id, &e.event, e.occurred_at, e.entry()).map_err(|err| {
                CommandError::Internal(format!("case {} at seq {}: {err}", e.case_id, s.seq))
            })?,
        );
        facts.push(s);
    }
    Ok(Folded {
        case: state,
        facts,
        rejected,
    })
}
