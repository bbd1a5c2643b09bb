//! One round of the command path, in named steps: load the case, answer a command it records
//! already, check `If-Match`, decide, prepare (what a decided event needs outside its case: a
//! registration's number, filing and data key; a correction's refiling; a termination's mark),
//! seal and persist. `Ok(None)` from a round: the case moved on; the caller runs another.
//!
//! The round trips of a command (docs/ARCHITECTURE.md, "The command path"): an unkeyed command
//! on a case this process holds is one append; a registration under a new id is one round of
//! independent writes made concurrently (its filing under each petitioner key, a lease of numbers
//! when the one held is used up, its data key) and then its append.

use uuid::Uuid;

use domain::command::RegisterCase;
use domain::{decide, evolve, CaseId, Command, Ctx, DomainError, Event, Timestamp};
use eventlog::log::case_subject;
use eventlog::{Envelope, LogError, Stored};
use wire::audit::Actor;

use super::{CaseService, CommandRequest, Executed, Loaded, RecordedCommand};
use crate::idempotency::Committed;
use crate::CommandError;

/// The command a round carries out, and who it is.
pub(super) struct Round<'r, 'a> {
    pub req: &'r CommandRequest<'a>,
    pub case_id: CaseId,
    pub command_id: Uuid,
    pub hash: Option<&'r str>,
    /// The case id was made for this request just now: no case has it, so nothing is read.
    pub minted: bool,
    /// How long an unavailable log is waited out (zero: not at all).
    pub retry_for: std::time::Duration,
}

/// What a registration drew before its append, kept across its retries: its number and the
/// earlier cases of its petitioners.
pub(super) struct Prepared {
    serial: u64,
    peers: Vec<domain::linking::Peer>,
}

/// What a command's rounds keep from one to the next.
pub(super) struct Progress<'g> {
    /// The case as this process last saw it (the per-case cache, under its lock).
    pub guard: &'g mut Option<Loaded>,
    /// Whether `guard` was read from the log during this command (a cached state may be stale:
    /// it is trusted for deciding, since the expected sequence catches staleness, but read again
    /// before a refusal or a version conflict is answered).
    pub fresh: bool,
    pub prepared: Option<Prepared>,
}

/// An event ready for the log.
struct Sealed {
    subject: String,
    expected: u64,
    envelope: Envelope,
    bytes: Vec<u8>,
    /// The event as decided, with its personal data, when the log's copy has it sealed.
    plain: Option<Event>,
    chain_hash: integrity::Hash,
    occurred_at: Timestamp,
}

impl CaseService {
    pub(super) async fn attempt(
        &self,
        r: &Round<'_, '_>,
        p: &mut Progress<'_>,
    ) -> Result<Option<Executed>, CommandError> {
        self.check_related(r).await?;
        self.load(r, p).await?;
        if let Some(done) = recorded(r, p) {
            return self.answer_twin(done, r.hash).await.map(Some);
        }
        if !self.version_holds(r, p).await? {
            return Ok(None);
        }
        let now = self.now();
        let Some(event) = self.decide_on(r, p, now).await? else {
            return Ok(None);
        };
        let event = self.prepare(r, p, event, now).await?;
        let sealed = self.seal(r, p, event, now).await?;
        self.persist(r, p, sealed).await
    }

    /// A registration may name only a case the caller may see: the same answer for a case that
    /// does not exist and one of another township, so nothing leaks.
    async fn check_related(&self, r: &Round<'_, '_>) -> Result<(), CommandError> {
        let Command::Register(RegisterCase {
            related_case_id: Some(related),
            ..
        }) = &r.req.command
        else {
            return Ok(());
        };
        let (found, _) = self.refresh(*related, None).await?;
        if found.is_none_or(|l| domain::auth::can_read_case(r.req.principal, &l.case).is_err()) {
            return Err(DomainError::Validation(domain::text!(
                "related_case_id {related} names no case you can see",
                "related_case_id：{related} 不是您可查看的案件"
            ))
            .into());
        }
        Ok(())
    }

    /// Read the case unless this process holds it (or its id was just made).
    async fn load(&self, r: &Round<'_, '_>, p: &mut Progress<'_>) -> Result<(), CommandError> {
        if r.minted && p.guard.is_none() {
            p.fresh = true;
        }
        if p.guard.is_none() && !p.fresh {
            *p.guard = self.refresh(r.case_id, None).await?.0;
            p.fresh = true;
        }
        Ok(())
    }

    /// Read the case's new events onto the state held; returns them.
    async fn reload(
        &self,
        r: &Round<'_, '_>,
        p: &mut Progress<'_>,
    ) -> Result<Vec<Stored>, CommandError> {
        let (loaded, new_events) = self.refresh(r.case_id, p.guard.clone()).await?;
        *p.guard = loaded;
        p.fresh = true;
        Ok(new_events)
    }

    /// `If-Match`: `false` when the cached state's version differs and was read again (decide
    /// once more); a conflict when the log's does.
    async fn version_holds(
        &self,
        r: &Round<'_, '_>,
        p: &mut Progress<'_>,
    ) -> Result<bool, CommandError> {
        let (Some(expected), Some(l)) = (r.req.if_match, p.guard.as_ref()) else {
            return Ok(true);
        };
        // A version is news only to a principal who may see the case; to anyone else the case
        // does not exist (a 409 with its version would be an existence oracle).
        domain::auth::can_read_case(r.req.principal, &l.case)?;
        if l.case.version == expected {
            return Ok(true);
        }
        if !p.fresh {
            self.reload(r, p).await?;
            return Ok(false);
        }
        Err(CommandError::VersionConflict {
            expected,
            current: l.case.version,
        })
    }

    /// Decide on the state held, with what the rules need beyond the case (its petitioners'
    /// terminated matters for an acceptance, a merge's target). `None`: refused on a cached
    /// state, which was read again; decide once more.
    async fn decide_on(
        &self,
        r: &Round<'_, '_>,
        p: &mut Progress<'_>,
        now: Timestamp,
    ) -> Result<Option<Event>, CommandError> {
        let state = p.guard.as_ref().map(|l| &l.case);
        let peers = match (&r.req.command, state) {
            (Command::Accept(_), Some(case)) if case.status == domain::Status::Registered => {
                self.terminated_peers(case).await?
            }
            _ => Vec::new(),
        };
        let target = match (&r.req.command, state) {
            (Command::Merge(m), Some(_)) => self.visible(r.req.principal, m.into).await?,
            _ => None,
        };
        let ctx = self.ctx(r, now, &peers, target.as_ref());
        match decide(state, &r.req.command, &ctx) {
            Ok(event) => Ok(Some(event)),
            // Refused on a cached state: the log may have moved on (another process, or this
            // command's twin), so decide once more on the log's state before answering.
            Err(_) if !p.fresh => {
                self.reload(r, p).await?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn ctx<'c>(
        &'c self,
        r: &Round<'c, '_>,
        now: Timestamp,
        peers: &'c [domain::linking::Peer],
        target: Option<&'c domain::Case>,
    ) -> Ctx<'c> {
        Ctx {
            now,
            reached_at: r.req.reached_at,
            policy: &self.policy,
            units: &self.units,
            principal: r.req.principal,
            case_id: r.case_id,
            case_serial: None,
            peers,
            target,
        }
    }

    /// What a decided event needs outside its case, written before it is appended: a
    /// registration is filed under its petitioners and numbered (so a refused one takes no
    /// number); a correction of what the index files is filed again, and decided again with its
    /// earlier cases; a termination is marked in the index.
    async fn prepare(
        &self,
        r: &Round<'_, '_>,
        p: &mut Progress<'_>,
        event: Event,
        now: Timestamp,
    ) -> Result<Event, CommandError> {
        let state = p.guard.as_ref().map(|l| &l.case);
        let event = match (&r.req.command, state, event) {
            (Command::Correct(_), Some(case), event) => {
                match self.refile_correction(case, &event, now).await? {
                    Some(peers) => decide(state, &r.req.command, &self.ctx(r, now, &peers, None))?,
                    None => event,
                }
            }
            (Command::Register(reg), None, Event::CaseRegistered(mut e)) => {
                let drawn = match p.prepared.take() {
                    Some(drawn) => drawn,
                    None => self.draw(r, reg).await?,
                };
                domain::decide::complete_registration(
                    &mut e,
                    Some(drawn.serial),
                    &drawn.peers,
                    &self.policy,
                );
                p.prepared = Some(drawn);
                Event::CaseRegistered(e)
            }
            (Command::IssueDocument(_), Some(_), Event::DocumentIssued(e)) => {
                // Numbered in the issuing unit's series of the year; a number drawn is kept
                // across the command's rounds.
                let serial = match &p.prepared {
                    Some(drawn) => drawn.serial,
                    None => {
                        let year = chrono::Datelike::year(&self.policy.local_date(now));
                        let series = domain::decide::document_series(&e.unit, year);
                        self.numbers.next(&series).await?
                    }
                };
                p.prepared = Some(Prepared {
                    serial,
                    peers: Vec::new(),
                });
                let mut ctx = self.ctx(r, now, &[], None);
                ctx.case_serial = Some(serial);
                decide(state, &r.req.command, &ctx)?
            }
            (_, _, event) => event,
        };
        if let (Event::ReviewDecided(d), Some(case)) = (&event, state) {
            if d.level >= 2 {
                self.mark_terminated(case).await?;
            }
        }
        Ok(event)
    }

    /// A registration's writes before its append, made concurrently: filed under its
    /// petitioners (returns their earlier cases), a number drawn, and (for a new id) its data
    /// key stored.
    async fn draw(&self, r: &Round<'_, '_>, reg: &RegisterCase) -> Result<Prepared, CommandError> {
        let series = domain::decide::case_series(reg, &self.policy).0;
        let key = async {
            if r.minted {
                self.vault.key_for_new(r.case_id).await?;
            }
            Ok::<_, CommandError>(())
        };
        let number = async { Ok::<_, CommandError>(self.numbers.next(&series).await?) };
        let (peers, serial, ()) =
            tokio::try_join!(self.file_registration(r.case_id, reg), number, key)?;
        Ok(Prepared { serial, peers })
    }

    /// The event in its envelope, its personal data sealed, chained and signed.
    async fn seal(
        &self,
        r: &Round<'_, '_>,
        p: &Progress<'_>,
        event: Event,
        now: Timestamp,
    ) -> Result<Sealed, CommandError> {
        let state = p.guard.as_ref().map(|l| &l.case);
        let occurred_at = domain::decide::occurred_at(state, &r.req.command, now)?;
        let late = domain::decide::late_entry(
            state,
            &r.req.command,
            &event,
            occurred_at,
            r.req.reached_at.unwrap_or(now),
            &self.policy,
        )?;
        let (subject, expected, township) = match (p.guard.as_ref(), &event) {
            (Some(l), _) => (l.subject.clone(), l.seq, l.case.township.clone()),
            (None, Event::CaseRegistered(e)) => {
                (case_subject(&e.township, r.case_id), 0, e.township.clone())
            }
            (None, _) => return Err(DomainError::NotFound.into()),
        };
        let mut envelope = Envelope {
            event_id: Uuid::now_v7(),
            case_id: r.case_id,
            township,
            schema_version: Event::SCHEMA_VERSION,
            version: state.map_or(1, |c| c.version + 1),
            occurred_at,
            recorded_at: now,
            actor: Actor::from(r.req.principal),
            command_id: r.command_id,
            correlation_id: r.req.correlation_id,
            causation_id: r.req.causation_id,
            request_hash: r.hash.map(str::to_owned),
            prev_hash: p.guard.as_ref().map(|l| integrity::to_hex(&l.hash)),
            key_id: None,
            hash: None,
            sig: None,
            personal: None,
            migrated_at: None,
            late_entry: late.entry.late,
            on_time_by_late_entry: late.entry.on_time_by_late_entry,
            late_reason: late.reason,
            event,
        };
        let plain = self.seal_personal(state, &mut envelope).await?;
        let (bytes, chain_hash) =
            eventlog::envelope::seal(&mut envelope, &self.signer).map_err(|e| {
                CommandError::Log(LogError::Encode {
                    what: "an event",
                    source: e.into(),
                })
            })?;
        Ok(Sealed {
            subject,
            expected,
            envelope,
            bytes,
            plain,
            chain_hash,
            occurred_at,
        })
    }

    /// Append with the expected sequence, and take in what happened: stored (the case held
    /// moves on), a duplicate of this command (its result is the answer), or another writer
    /// first / an unknown outcome (read the case again: this command's event may be there).
    async fn persist(
        &self,
        r: &Round<'_, '_>,
        p: &mut Progress<'_>,
        mut sealed: Sealed,
    ) -> Result<Option<Executed>, CommandError> {
        let bytes = std::mem::take(&mut sealed.bytes);
        match self
            .log
            .append_bytes(&sealed.subject, sealed.expected, &sealed.envelope, bytes)
            .await
        {
            Ok((seq, false)) => {
                let (case, committed) = self.absorb(r, p, sealed, seq)?;
                // Only a registration draws (`prepared`): its earlier cases as they are now.
                let peers = match p.prepared.as_ref() {
                    Some(drawn) if !drawn.peers.is_empty() => {
                        self.current_peers(&drawn.peers, case.category).await
                    }
                    _ => Vec::new(),
                };
                Ok(Some(Executed {
                    committed,
                    case,
                    replayed: false,
                    peers,
                }))
            }
            Ok((seq, true)) => {
                // The stream holds this command's message id already. nats-server 2.15 checks
                // the expected sequence first, so a retry of a stored append is a conflict
                // (below) and this answer does not come (eventlog's `tests/ports.rs`); it is
                // kept for a server that checks the id first.
                let stored = self.log.get(seq).await?;
                self.reload(r, p).await?;
                self.answer_twin(RecordedCommand::of(&stored), r.hash)
                    .await
                    .map(Some)
            }
            Err(e @ (LogError::Conflict | LogError::Unknown)) => {
                let new_events = self.reload(r, p).await?;
                if let Some(mine) = new_events
                    .iter()
                    .find(|s| s.envelope.command_id == r.command_id)
                {
                    return self
                        .answer_twin(RecordedCommand::of(mine), r.hash)
                        .await
                        .map(Some);
                }
                if matches!(e, LogError::Unknown) && new_events.is_empty() {
                    // Not stored, as far as the log shows, and nothing else happened: retry
                    // within the budget like any unavailability (the same command id keeps a
                    // late landing from counting twice). Retrying at once, without a budget,
                    // hung a request for minutes on a full disk.
                    return Err(CommandError::Log(LogError::Unknown));
                }
                match r.req.if_match {
                    Some(expected) => {
                        let current = p.guard.as_ref().map_or(0, |l| l.case.version);
                        Err(CommandError::VersionConflict { expected, current })
                    }
                    None => Ok(None),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The appended event (stored at `seq`) applied to the case held.
    fn absorb(
        &self,
        r: &Round<'_, '_>,
        p: &mut Progress<'_>,
        sealed: Sealed,
        seq: u64,
    ) -> Result<(domain::Case, Committed), CommandError> {
        let Sealed {
            subject,
            mut envelope,
            plain,
            chain_hash,
            occurred_at,
            ..
        } = sealed;
        if let Some(plain) = plain {
            envelope.event = plain;
        }
        let (before, mut commands, rejected) = match p.guard.take() {
            Some(l) => (Some(l.case), l.commands, l.rejected),
            None => (None, Vec::new(), Vec::new()),
        };
        let case = evolve(
            before,
            r.case_id,
            &envelope.event,
            occurred_at,
            envelope.entry(),
        )
        .map_err(|e| CommandError::Internal(e.to_string()))?;
        let committed = Committed {
            case_id: r.case_id,
            version: case.version,
            seq,
        };
        commands.push(RecordedCommand {
            command_id: r.command_id,
            committed: committed.clone(),
            request_hash: envelope.request_hash,
        });
        *p.guard = Some(Loaded {
            case: case.clone(),
            subject,
            seq,
            hash: chain_hash,
            commands,
            rejected,
        });
        Ok((case, committed))
    }
}

/// The command as the case's events record it, if it was applied before (a retry, or a twin
/// that ran concurrently).
fn recorded(r: &Round<'_, '_>, p: &Progress<'_>) -> Option<RecordedCommand> {
    p.guard
        .as_ref()
        .and_then(|l| l.commands.iter().find(|a| a.command_id == r.command_id))
        .cloned()
}
