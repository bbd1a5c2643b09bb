//! Which events of the log are facts (issue 30). The log denies deletes, so an event that should
//! not be there stays there for good: a forged event appended with stream credentials, or the
//! exact bytes of a signed event published again. Every reader judges each event the same way
//! and acts as if a rejected one were absent, instead of taking it as state or stopping on it:
//!
//! - the seal, here, as the event is read: its hash must be that of its content and its
//!   signature one of the county's keys made within the key's validity; an unsealed event is
//!   admitted only before the log's first sealed one (the genesis rule, docs/events.md);
//! - the order, by whoever folds the case ([`follows`]): an event must carry the version after
//!   the case's last admitted one, so a replayed event (an old version) or one that skips a
//!   version is not applied.
//!
//! `xinfang verify` and the notary still report every such event at its sequence; this only
//! keeps them out of state.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::envelope::Envelope;
use integrity::{KeySet, Opened};

use wire::Rejection;

/// An event to judge, as read from the log.
pub struct Judged<'a> {
    pub seq: u64,
    pub subject: &'a str,
    pub envelope: &'a Envelope,
    /// The services' mark, from the message's headers.
    pub mark: Option<&'a str>,
    /// Its stored bytes opened (`integrity::open`, which hashes them: once per event read).
    pub opened: &'a Opened,
}

/// Judges the seal of each event read from the log with the county's public keys.
pub struct Admission {
    keys: KeySet,
    /// The services' own mark on what they append (`integrity::event::event_mac`): an event that
    /// carries it rightly needs no signature check.
    mac: Option<integrity::event::MacKey>,
    /// The sequence of the first sealed event seen or known (`u64::MAX`: none yet).
    genesis: AtomicU64,
}

impl Admission {
    /// With `first_signed`, the log's first sealed sequence where a checkpoint tells it; else
    /// it is learnt from the first sealed event read.
    pub fn new(keys: KeySet, first_signed: Option<u64>) -> Admission {
        Admission {
            keys,
            mac: None,
            genesis: AtomicU64::new(first_signed.unwrap_or(u64::MAX)),
        }
    }

    /// With the services' mark key: what this process appends carries the mark, and what it
    /// reads with a right mark is taken as sealed without checking its signature.
    pub fn with_mark(mut self, key: integrity::event::MacKey) -> Self {
        self.mac = Some(key);
        self
    }

    /// The mark for the event `raw` appended on `subject`, if this process holds the key.
    pub fn mark(&self, subject: &str, raw: &[u8]) -> Option<String> {
        let key = self.mac.as_ref()?;
        Some(integrity::event::event_mac(
            key,
            subject,
            &integrity::open(raw).hash(),
        ))
    }

    /// With the log's first sealed sequence from the last checkpoint of `checkpoints` that `keys`
    /// verify (looking back at most 16), learnt from the log itself when there is none.
    pub async fn open(
        keys: KeySet,
        checkpoints: &crate::Checkpoints,
    ) -> Result<Admission, crate::LogError> {
        let first_signed = checkpoints
            .last_trusted(|cp| cp.verify(&keys).is_ok(), 16)
            .await?
            .and_then(|(_, cp)| cp.first_signed_seq);
        Ok(Admission::new(keys, first_signed))
    }

    /// Why the event at `seq` (its stored bytes and decoded envelope, published on `subject`)
    /// is not a fact, or `None` when its seal holds.
    pub fn judge(&self, seq: u64, subject: &str, raw: &[u8], env: &Envelope) -> Option<Rejection> {
        let opened = integrity::open(raw);
        let one = Judged {
            seq,
            subject,
            envelope: env,
            mark: None,
            opened: &opened,
        };
        self.judge_all(&[one])[0]
    }

    /// [`judge`](Self::judge) for many events at once, their signatures checked in one batch.
    pub fn judge_all(&self, events: &[Judged<'_>]) -> Vec<Option<Rejection>> {
        let mut verdicts = vec![None; events.len()];
        let mut signed = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let Judged {
                seq,
                subject,
                envelope: env,
                mark,
                opened,
            } = e;
            let case = crate::subjects::case_of_subject(subject).and_then(domain::CaseId::parse);
            if case != Some(env.case_id) {
                verdicts[i] = Some(Rejection::Misfiled);
                continue;
            }
            match opened {
                Opened::Sealed {
                    content,
                    claimed,
                    sig,
                } if content == claimed => {
                    let marked = self.mac.as_ref().zip(*mark).is_some_and(|(key, mark)| {
                        integrity::event::event_mac_ok(key, subject, claimed, mark)
                    });
                    if marked {
                        self.genesis.fetch_min(*seq, Ordering::Relaxed);
                    } else {
                        signed.push((i, *seq, *claimed, sig.as_str()));
                    }
                }
                Opened::Sealed { .. } => verdicts[i] = Some(Rejection::Forged),
                Opened::Legacy { .. } => {
                    let genesis = self.genesis.load(Ordering::Relaxed);
                    verdicts[i] = (*seq > genesis).then_some(Rejection::Unsigned);
                }
            }
        }
        let checks: Vec<_> = signed
            .iter()
            .map(|(i, _, hash, sig)| {
                let env = events[*i].envelope;
                let key = env.key_id.as_deref().unwrap_or("");
                (key, hash, *sig, env.migrated_at.unwrap_or(env.recorded_at))
            })
            .collect();
        let valid = self.keys.verify_all(&checks);
        for ((i, seq, ..), valid) in signed.iter().zip(valid) {
            if valid {
                self.genesis.fetch_min(*seq, Ordering::Relaxed);
            } else {
                verdicts[*i] = Some(Rejection::Forged);
            }
        }
        // An unsealed event after a sealed one of this same batch.
        let genesis = self.genesis.load(Ordering::Relaxed);
        for (i, e) in events.iter().enumerate() {
            if verdicts[i].is_none() && e.seq > genesis && !e.opened.is_sealed() {
                verdicts[i] = Some(Rejection::Unsigned);
            }
        }
        verdicts
    }
}

impl Admission {
    /// Whether bytes that do not decode were sealed by the county all the same (then they are
    /// an event this build cannot read, a bug or an upgrade to finish, and the reader stops);
    /// bytes nobody sealed are not a fact.
    pub fn genuine(&self, raw: &[u8]) -> bool {
        match integrity::open(raw) {
            Opened::Sealed {
                content,
                claimed,
                sig,
            } => content == claimed && self.keys.signed_by_any(&claimed, &sig),
            Opened::Legacy { .. } => false,
        }
    }
}

/// What stands for a message of the log that is not an event at all, so that every reader
/// passes over it at its sequence like any other rejected one (the tree of the log still has
/// its leaf, `Stored::chain_hash` of its bytes). Its version is 0, which follows no case's
/// version, so no fold takes it even unchecked.
pub fn placeholder(subject: &str) -> Envelope {
    let epoch = chrono::DateTime::UNIX_EPOCH.fixed_offset();
    let case_id = crate::subjects::case_of_subject(subject)
        .and_then(domain::CaseId::parse)
        .unwrap_or(domain::CaseId(uuid::Uuid::nil()));
    let township = subject
        .split('.')
        .nth(2)
        .and_then(|t| domain::UnitCode::parse(t).ok())
        .or_else(|| domain::UnitCode::parse("unknown").ok())
        .expect("a valid unit code");
    Envelope {
        late_entry: false,
        late_reason: None,
        on_time_by_late_entry: false,
        event_id: uuid::Uuid::nil(),
        case_id,
        township,
        schema_version: 0,
        version: 0,
        occurred_at: epoch,
        recorded_at: epoch,
        actor: ::wire::audit::Actor {
            id: domain::PrincipalId(String::new()),
            role: domain::Role::System,
            unit: None,
        },
        command_id: uuid::Uuid::nil(),
        correlation_id: uuid::Uuid::nil(),
        causation_id: None,
        request_hash: None,
        prev_hash: None,
        key_id: None,
        hash: None,
        sig: None,
        personal: None,
        migrated_at: None,
        event: domain::Event::CaseClosed(domain::event::CaseClosed { note: None }),
    }
}

/// Whether an event of `version` follows a case whose last admitted event has `last` (`None`:
/// the case has none yet).
pub fn follows(last: Option<u64>, version: u64) -> bool {
    version == last.unwrap_or(0) + 1
}
