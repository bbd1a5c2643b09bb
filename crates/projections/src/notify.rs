//! Notices to petitioners as a sink: for each step a petitioner is told of (`notice::kind_of`),
//! one SMS per petitioner with a phone, sealed to the county's SMS gateway and published on
//! `XF_NOTIFY` (`eventlog::notices`), which the gateway alone reads.
//!
//! Its store keeps, per case, what the notices need and nothing in plain: the case number, the
//! petitioners' fields sealed as the log holds them (under the case's data key, opened through the
//! vault only when a notice is written, so an erased case's are unreadable), and the stream
//! sequences of the notices it published (so an erasure erases those still waiting). Per batch
//! it folds, publishes the notices together, then commits the checkpoint; after a crash in
//! between, the same notices go out again with the same ids (`<event id>-<n>`), which the stream
//! drops. A first start on a log that has history folds it without publishing: notices begin
//! with the events after that.

use std::collections::btree_map::{BTreeMap, Entry};
use std::path::Path;

use serde::{Deserialize, Serialize};

use domain::{CaseId, Event};
use eventlog::notices::{Notices, Outgoing, NOTICE_MAX_AGE};
use eventlog::{EventLog, Stored, Vault};

use crate::apply::SinkError;
use crate::store::{Store, StoreError};
use crate::{Projection, ProjectionError, Tx};

pub mod notice;

pub use notice::Wording;
use wire::notice::{Notice, NoticeKind as Kind, SealedNotice};

/// What a case's notices need (`keys::notify::case`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipients {
    /// The case's last version taken as a fact.
    pub version: u64,
    pub case_no: String,
    /// The events that stated the petitioners (the registration, then each correction), with
    /// their personal fields sealed as in the log: (event id, sealed). Emptied by an erasure.
    pub sealed: Vec<(uuid::Uuid, cipher::Sealed)>,
    /// Notices published for the case that the stream may still hold: (sequence, published at,
    /// Unix seconds); older than the stream keeps a notice, they are dropped from here too.
    pub published: Vec<(u64, i64)>,
}

/// The notices' store as a read model: each case's [`Recipients`].
pub struct Recipient;

/// The recipients of the case of `event` after it; `None` when the event is not a fact.
fn fold(tx: &mut Tx<'_>, event: &Stored) -> Result<Option<Recipients>, ProjectionError> {
    let env = &event.envelope;
    let key = crate::keys::notify::case(env.case_id);
    let version = |r: &Recipients| r.version;
    let Some(mut after) = crate::case_record(tx, event, &key, version, |e| Recipients {
        version: 0,
        case_no: e.case_no.clone(),
        sealed: Vec::new(),
        published: Vec::new(),
    })?
    else {
        return Ok(None);
    };
    after.version = env.version;
    match (&env.event, &env.personal) {
        (Event::CaseRegistered(_) | Event::RegistrationCorrected(_), Some(sealed)) => {
            after.sealed.push((env.event_id, sealed.clone()));
        }
        (Event::PersonalDataErased(_), _) => after.sealed.clear(),
        _ => {}
    }
    tx.put(key, after.clone());
    Ok(Some(after))
}

impl Projection for Recipient {
    fn name(&self) -> &'static str {
        "notify"
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        fold(tx, event).map(drop)
    }
}

/// The petitioners' phones, from the sealed fields (the latest that state petitioners win).
fn phones(
    key: &cipher::DataKey,
    case: CaseId,
    sealed: &[(uuid::Uuid, cipher::Sealed)],
) -> Result<Vec<String>, eventlog::LogError> {
    let mut latest = None;
    for (event, s) in sealed {
        let mut fields = Vault::open_fields(key, case, *event, s)?;
        if let Some(p) = fields
            .remove("petitioners")
            .or_else(|| fields.remove("after.petitioners"))
            .filter(|p| !p.is_null())
        {
            latest = Some(p);
        }
    }
    let petitioners: Vec<domain::command::Petitioner> = match latest {
        Some(p) => serde_json::from_value(p).map_err(|_| eventlog::LogError::Unreadable {
            what: "sealed petitioners",
        })?,
        None => Vec::new(),
    };
    Ok(petitioners
        .into_iter()
        .filter_map(|p| p.phone)
        .filter(|p| !p.trim().is_empty())
        .collect())
}

pub struct NotifySink {
    notices: Notices,
    vault: Vault,
    gateway: cipher::GatewayKey,
    wording: Wording,
    store: Store,
}

/// A step that calls for notices: the case's recipients as of the step.
struct Due<'a> {
    event: &'a Stored,
    kind: Kind,
    recipients: Recipients,
}

impl NotifySink {
    /// Open the notices stream and the store under `dir`. A first start folds the log up to its
    /// end without publishing; a store of another layout is folded again up to its checkpoint.
    pub async fn open(
        notices: Notices,
        vault: Vault,
        gateway: cipher::GatewayKey,
        wording: Wording,
        dir: &Path,
        log: &EventLog,
    ) -> Result<NotifySink, ProjectionError> {
        let old = Store::open_current(dir)?;
        let checkpoint = old.checkpoint()?;
        let upto = if checkpoint == 0 {
            log.last_seq()
                .await
                .map_err(|e| ProjectionError::Log(e.to_string()))?
        } else if old.model_version()? != Recipient.version() {
            checkpoint
        } else {
            0
        };
        let store = if upto == 0 {
            old
        } else {
            tracing::info!(
                upto,
                "notices: folding the log so far without sending anything"
            );
            drop(old);
            crate::rebuild::rebuild_upto(&Recipient, dir, log, upto, |_, _| {}).await?;
            Store::open_current(dir)?
        };
        tracing::info!(checkpoint = store.checkpoint()?, "notices starting");
        Ok(NotifySink {
            notices,
            vault,
            gateway,
            wording,
            store,
        })
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
        tx.set_model_version(Recipient.version());
        let (mut last, mut due, mut erased) = (checkpoint, Vec::new(), Vec::new());
        for ev in events.iter().filter(|e| e.seq > checkpoint) {
            last = ev.seq;
            let Some(recipients) = fold(&mut tx, ev)? else {
                continue;
            };
            let env = &ev.envelope;
            if matches!(env.event, Event::PersonalDataErased(_)) {
                erased.push(env.case_id);
            } else if let Some(kind) = notice::kind_of(&env.event) {
                if !recipients.sealed.is_empty()
                    && notice::is_news(env.occurred_at, env.recorded_at)
                {
                    due.push(Due {
                        event: ev,
                        kind,
                        recipients,
                    });
                }
            }
        }
        let (outgoing, cases) = self.compose(&due).await?;
        let seqs = self.notices.publish(outgoing).await?;
        let now = chrono::Utc::now().timestamp();
        let mut touched: BTreeMap<CaseId, Recipients> = BTreeMap::new();
        for (case, seq) in cases.into_iter().zip(seqs) {
            let r = match touched.entry(case) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => match tx.get(&crate::keys::notify::case(case))? {
                    Some(r) => v.insert(r),
                    None => continue,
                },
            };
            r.published
                .retain(|(_, at)| now - at < NOTICE_MAX_AGE.as_secs() as i64);
            r.published.push((seq, now));
        }
        for (case, r) in touched {
            tx.put(crate::keys::notify::case(case), r);
        }
        // After publishing: a notice of this batch for a case erased later in it goes too.
        for case in erased {
            let key = crate::keys::notify::case(case);
            let Some(mut r) = tx.get::<Recipients>(&key)? else {
                continue;
            };
            let seqs: Vec<u64> = r.published.iter().map(|(s, _)| *s).collect();
            let gone = self.notices.erase(&seqs).await?;
            tracing::info!(case_id = %case, erased = gone, "an erased case's pending notices erased");
            r.published.clear();
            tx.put(key, r);
        }
        if last > checkpoint {
            self.store.commit(tx, last)?;
        }
        Ok(last)
    }

    /// The notices of `due`, with the case of each: the petitioners opened with their case's
    /// key (read for the batch at once), each phone's text sealed to the gateway.
    async fn compose(&self, due: &[Due<'_>]) -> Result<(Vec<Outgoing>, Vec<CaseId>), SinkError> {
        let (mut outgoing, mut cases) = (Vec::new(), Vec::new());
        if due.is_empty() {
            return Ok((outgoing, cases));
        }
        let seq = due[0].event.seq;
        let keys = self
            .vault
            .keys(due.iter().map(|d| d.event.envelope.case_id))
            .await
            .map_err(|e| {
                SinkError::Unavailable(ProjectionError::Unavailable {
                    seq,
                    why: e.to_string(),
                })
            })?;
        for d in due {
            let env = &d.event.envelope;
            // No key: the case was erased meanwhile, and nobody is told anything.
            let Some(key) = keys.get(&env.case_id).and_then(Option::as_ref) else {
                continue;
            };
            let phones = phones(key, env.case_id, &d.recipients.sealed).map_err(|e| {
                SinkError::Apply(ProjectionError::Apply {
                    seq: d.event.seq,
                    why: e.to_string(),
                })
            })?;
            let case_no = &d.recipients.case_no;
            let Some(text) = self
                .wording
                .text(env.case_id, case_no, &env.event, env.occurred_at)
            else {
                continue;
            };
            for (n, to) in phones.iter().enumerate() {
                let notice_id = format!("{}-{}", env.event_id, n + 1);
                let plain = serde_json::to_vec(&SealedNotice {
                    to: to.clone(),
                    text: text.clone(),
                })
                .unwrap_or_default();
                let body = Notice {
                    notice_id: notice_id.clone(),
                    case_no: case_no.clone(),
                    kind: d.kind,
                    sealed: self.gateway.seal(&plain),
                };
                let body = serde_json::to_vec(&body).map_err(|e| {
                    SinkError::Publish(eventlog::LogError::Encode {
                        what: "a notice",
                        source: e.into(),
                    })
                })?;
                outgoing.push(Outgoing { notice_id, body });
                cases.push(env.case_id);
            }
        }
        Ok((outgoing, cases))
    }
}
