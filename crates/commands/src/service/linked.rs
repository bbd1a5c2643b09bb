//! The command path's view of a petitioner's other cases: filing a registration in the identity
//! index before it is appended, and reading the other cases of a case's petitioners from the index
//! and the log (for the rules of `domain::linking`, and for the case view's related cases).

use std::collections::BTreeSet;

use futures::{StreamExt as _, TryStreamExt as _};

use domain::command::RegisterCase;
use domain::identity::{link_keys, Person};
use domain::linking::{Filed, Peer};
use domain::{Case, CaseId, Principal};

use super::CaseService;
use crate::CommandError;

/// Index operations in flight at once for one case (a joint letter has many petitioners).
const PARALLEL: usize = 8;

/// What the identity index files of a case: its petitioners (hashes) with its matter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filing {
    pub persons: Vec<Person>,
    pub category: domain::Category,
    pub township: domain::UnitCode,
    pub secret: bool,
    pub level: domain::Level,
}

impl CaseService {
    /// The petitioners of a case as the county recognises them (hashes only).
    pub fn persons(&self, petitioners: &[domain::command::Petitioner]) -> Vec<Person> {
        let mut persons: Vec<Person> = petitioners
            .iter()
            .map(|p| self.keys.petitioner(p))
            .filter(Person::is_known)
            .collect();
        persons.dedup();
        persons
    }

    /// The cases the identity index files under the keys of `petitioners` as the same
    /// petitioner, that `keep` keeps, once each, in the index's order.
    async fn filed_as(
        &self,
        petitioners: &[domain::command::Petitioner],
        keep: impl Fn(&Filed) -> bool + Copy,
    ) -> Result<Vec<Filed>, CommandError> {
        let mut work = Vec::new();
        for person in self.persons(petitioners) {
            for key in person.link_keys() {
                work.push((key, person));
            }
        }
        let filed: Vec<Vec<Filed>> = futures::stream::iter(work)
            .map(|(key, person)| async move {
                let all = self.identities.get(&key).await?;
                Ok::<_, CommandError>(
                    all.into_iter()
                        .filter(|e| keep(e) && e.person.same_as(&person))
                        .collect(),
                )
            })
            .buffered(PARALLEL)
            .try_collect()
            .await?;
        let mut seen = BTreeSet::new();
        Ok(filed
            .into_iter()
            .flatten()
            .filter(|f| seen.insert(f.case_id.0))
            .collect())
    }

    /// What a registration of `petitioners` on `category` by `township` would find now, without
    /// filing it (`POST /v1/cases/check`): the earlier cases of the same petitioners as the
    /// identity index has them (every case, whoever may see it), and the latest of them on the
    /// category as the log has them, the two lists a registration is judged on.
    pub async fn earlier_cases(
        &self,
        petitioners: &[domain::command::Petitioner],
        category: domain::Category,
    ) -> Result<(Vec<Peer>, Vec<Peer>), CommandError> {
        let earlier: Vec<Peer> = self
            .filed_as(petitioners, |_| true)
            .await?
            .iter()
            .map(Filed::peer)
            .collect();
        let current = self.current_peers(&earlier, category).await;
        Ok((earlier, current))
    }

    /// File a registration (to become `case_id`) under its petitioners' keys and return the
    /// earlier cases of the same petitioners. Filing again (a retry) changes nothing.
    pub(super) async fn file_registration(
        &self,
        case_id: CaseId,
        r: &RegisterCase,
    ) -> Result<Vec<Peer>, CommandError> {
        let filing = Filing {
            persons: self.persons(&r.petitioners),
            category: r.category,
            township: r.township.clone(),
            secret: r.accusation || r.confidential,
            level: r.level_reached,
        };
        self.file(case_id, &filing, false).await
    }

    /// File a corrected registration (更正 of its petitioners, category or township) under its
    /// petitioners' keys now, in the place it had where it stays under a key, take it from the
    /// keys of petitioners it no longer has, and return the cases filed before it. Done before
    /// the correction is appended, as a registration is filed before it is; a retry changes
    /// nothing more.
    /// `None` when the correction leaves what the index files as it was.
    pub(super) async fn refile_correction(
        &self,
        case: &Case,
        correction: &domain::Event,
        now: domain::Timestamp,
    ) -> Result<Option<Vec<Peer>>, CommandError> {
        let after = domain::evolve(
            Some(case.clone()),
            case.id,
            correction,
            now,
            Default::default(),
        )
        .map_err(|e| CommandError::Internal(e.to_string()))?;
        let (old, new) = (self.filing(case), self.filing(&after));
        if old == new {
            return Ok(None);
        }
        self.refile(&old, &new, case.id).await.map(Some)
    }

    async fn refile(
        &self,
        before: &Filing,
        after: &Filing,
        case_id: CaseId,
    ) -> Result<Vec<Peer>, CommandError> {
        let peers = self.file(case_id, after, true).await?;
        let kept = link_keys(&after.persons);
        let gone: BTreeSet<String> = link_keys(&before.persons)
            .into_iter()
            .filter(|k| !kept.contains(k))
            .collect();
        futures::stream::iter(gone)
            .map(|key| async move { self.identities.unfile(&key, case_id).await })
            .buffered(PARALLEL)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(peers)
    }

    /// Take every petitioner of `case` out of the identity index (its personal data is erased).
    pub(super) async fn unfile(&self, case: &Case) -> Result<(), CommandError> {
        let keys = link_keys(&self.filing(case).persons);
        futures::stream::iter(keys)
            .map(|key| async move { self.identities.unfile(&key, case.id).await })
            .buffered(PARALLEL)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// What the identity index files of a case.
    fn filing(&self, case: &Case) -> Filing {
        Filing {
            persons: self.persons(&case.petitioners),
            category: case.category,
            township: case.township.clone(),
            secret: case.accusation || case.confidential,
            level: case.level_reached,
        }
    }

    async fn file(
        &self,
        case_id: CaseId,
        filing: &Filing,
        replace: bool,
    ) -> Result<Vec<Peer>, CommandError> {
        let mut work = Vec::new();
        for person in &filing.persons {
            let filed = Filed {
                case_id,
                category: filing.category,
                township: filing.township.clone(),
                secret: filing.secret,
                person: *person,
                terminated: false,
                level: Some(filing.level),
            };
            for key in person.link_keys() {
                work.push((key, filed.clone()));
            }
        }
        let before: Vec<Vec<Peer>> = futures::stream::iter(work)
            .map(|(key, filed)| async move {
                let earlier = if replace {
                    self.identities.refile(&key, &filed, true).await?
                } else {
                    self.identities.file(&key, &filed).await?
                };
                Ok::<_, CommandError>(
                    earlier
                        .into_iter()
                        .filter(|e| e.case_id != case_id && e.person.same_as(&filed.person))
                        .map(|e| Peer {
                            // Found under this petitioner of the case (its place among their
                            // cases, `domain::linking::repeat_rank`).
                            person: Some(filed.person),
                            ..e.peer()
                        })
                        .collect::<Vec<Peer>>(),
                )
            })
            .buffered(PARALLEL)
            .try_collect()
            .await?;
        // Once for each petitioner an earlier case has (under an ID number and under name and
        // phone it is found twice for one).
        let mut seen = std::collections::HashSet::new();
        Ok(before
            .into_iter()
            .flatten()
            .filter(|p| seen.insert((p.case_id.0, p.person)))
            .collect())
    }

    /// The cases of the petitioners' matter (the case's category) that may have been terminated,
    /// as the log has them now: the identity index marks a case before its terminating event is
    /// appended, so an unmarked case is certainly not terminated, and a marked one is read.
    /// Read without the per-case locks: a command on one case may read another while a command
    /// on that one reads the first.
    pub(super) async fn terminated_peers(&self, case: &Case) -> Result<Vec<Peer>, CommandError> {
        let ids: Vec<CaseId> = self
            .filed_as(&case.petitioners, |e| {
                e.terminated && e.category == case.category && e.case_id != case.id
            })
            .await?
            .iter()
            .map(|f| f.case_id)
            .collect();
        let cases: Vec<Option<Case>> = futures::stream::iter(ids)
            .map(|id| async move {
                Ok::<_, CommandError>(self.refresh(id, None).await?.0.map(|l| l.case))
            })
            .buffered(PARALLEL)
            .try_collect()
            .await?;
        Ok(cases.iter().flatten().map(Peer::of).collect())
    }

    /// The latest (at most 20) of a registration's earlier cases on `category` as the log has them
    /// now. Best effort: the registration is already stored, so a log that does not answer gives
    /// none rather than an error.
    pub(super) async fn current_peers(
        &self,
        earlier: &[Peer],
        category: domain::Category,
    ) -> Vec<Peer> {
        let mut seen = BTreeSet::new();
        let ids: Vec<CaseId> = earlier
            .iter()
            .rev()
            .filter(|p| p.category == category && seen.insert(p.case_id.0))
            .take(20)
            .map(|p| p.case_id)
            .collect();
        let read: Result<Vec<Option<Case>>, CommandError> = futures::stream::iter(ids)
            .map(|id| async move { Ok(self.refresh(id, None).await?.0.map(|l| l.case)) })
            .buffered(PARALLEL)
            .try_collect()
            .await;
        match read {
            Ok(cases) => cases.iter().flatten().map(Peer::of).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "the earlier cases of a registration could not be read");
                Vec::new()
            }
        }
    }

    /// Before a case's terminating event is appended: mark it in the identity index.
    pub(super) async fn mark_terminated(&self, case: &Case) -> Result<(), CommandError> {
        let keys = link_keys(&self.persons(&case.petitioners));
        futures::stream::iter(keys)
            .map(|key| async move { self.identities.mark_terminated(&key, case.id).await })
            .buffered(PARALLEL)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// The case `id` as the log has it, if `principal` may see it (a merge's target).
    pub(super) async fn visible(
        &self,
        principal: &Principal,
        id: CaseId,
    ) -> Result<Option<Case>, CommandError> {
        let (found, _) = self.refresh(id, None).await?;
        Ok(found
            .map(|l| l.case)
            .filter(|c| domain::auth::can_read_case(principal, c).is_ok()))
    }

    /// Rebuild the identity index from the log as it is now: empty it, then file every
    /// registration and mark every termination in log order, under the keys of the identity key
    /// in force. Writers should be stopped meanwhile (docs/operations.md, "Secrets"). Returns the
    /// registrations filed.
    pub async fn reindex_identities(&self) -> Result<u64, CommandError> {
        let last = self.log.last_seq().await?;
        self.identities.clear().await?;
        if last == 0 {
            return Ok(0);
        }
        // Each case's filing, for its corrections and its termination later in the log.
        let mut filings: std::collections::HashMap<CaseId, Filing> = Default::default();
        let mut events = self.log.follow(1).await?;
        let mut filed = 0;
        while let Some(stored) = events.next().await {
            let mut stored = stored?;
            if !stored.admitted() {
                continue;
            }
            // Petitioners are sealed in the log; an erased case's stay shut (and unfiled).
            self.vault
                .open_envelope(&mut stored.envelope, false)
                .await?;
            let e = &stored.envelope;
            match &e.event {
                domain::Event::PersonalDataErased(_) => {
                    if let Some(f) = filings.remove(&e.case_id) {
                        let gone = Filing {
                            persons: Vec::new(),
                            ..f.clone()
                        };
                        self.refile(&f, &gone, e.case_id).await?;
                    }
                }
                domain::Event::CaseRegistered(r) => {
                    let reg = RegisterCase {
                        late_reason: None,
                        township: r.township.clone(),
                        channel: r.channel,
                        received_at: r.received_at,
                        headcount: r.headcount,
                        level_reached: r.level_reached,
                        category: r.category,
                        summary: String::new(),
                        petitioners: r.petitioners.clone(),
                        related_case_id: None,
                        accusation: r.accusation,
                        confidential: r.confidential,
                        leader_reception: r.leader_reception,
                        accused_unit: r.accused_unit.clone(),
                    };
                    self.file_registration(e.case_id, &reg).await?;
                    filings.insert(
                        e.case_id,
                        Filing {
                            persons: self.persons(&reg.petitioners),
                            category: reg.category,
                            township: reg.township.clone(),
                            secret: reg.accusation || reg.confidential,
                            level: reg.level_reached,
                        },
                    );
                    filed += 1;
                }
                domain::Event::RegistrationCorrected(c) => {
                    if let Some(before) = filings.get(&e.case_id).cloned() {
                        let a = &c.after;
                        let after = Filing {
                            persons: match &a.petitioners {
                                Some(p) => self.persons(p),
                                None => before.persons.clone(),
                            },
                            category: a.category.unwrap_or(before.category),
                            township: a.township.clone().unwrap_or(before.township.clone()),
                            secret: before.secret,
                            level: a.level_reached.unwrap_or(before.level),
                        };
                        if after != before {
                            self.refile(&before, &after, e.case_id).await?;
                            filings.insert(e.case_id, after);
                        }
                    }
                }
                domain::Event::ReviewDecided(d) if d.level >= 2 => {
                    let keys: BTreeSet<String> = filings
                        .get(&e.case_id)
                        .map(|f| link_keys(&f.persons))
                        .unwrap_or_default();
                    for key in &keys {
                        self.identities.mark_terminated(key, e.case_id).await?;
                    }
                }
                _ => {}
            }
            if stored.seq >= last {
                break;
            }
        }
        Ok(filed)
    }

    /// A case's query code for the petitioner (docs/contract.md, "HTTP").
    pub fn query_code(&self, case: CaseId, seq: u32) -> String {
        self.keys.query_code(case, seq)
    }

    /// Whether `code` is the query code of `case`.
    pub fn query_code_matches(&self, case: CaseId, seq: u32, code: &str) -> bool {
        self.keys.query_code_matches(case, seq, code)
    }

    /// The keyed hashes of a petitioner as a search gives it.
    pub fn person(
        &self,
        name: Option<&str>,
        id_number: Option<&str>,
        phone: Option<&str>,
    ) -> Person {
        self.keys.person(name, id_number, phone)
    }

    /// The keyed hash of a name alone, as a search by name gives it.
    pub fn name_digest(&self, name: &str) -> Option<domain::identity::Digest> {
        self.keys.name(name)
    }
}
