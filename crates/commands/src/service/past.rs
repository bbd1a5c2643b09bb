//! What a case's petitioners' other cases told at a past point of the log (a read as of it),
//! computed from the log itself: the identity index names the candidates, each is read as of
//! the point, and the rules of `domain::linking` judge them as the cases model judged them then.
//! One hop for the case and one for each of its petitioners' cases, instead of the cases model
//! rebuilt up to the point (up to a snapshot interval of the whole log replayed).
//!
//! The index files cases under their petitioners as they are now. A case whose petitioners were
//! corrected after the point may have been under other keys then: the caller passes those cases
//! (`moved`, from the cases model), and they are read as candidates too. A case erased since
//! has no petitioners to read any more, as in a model rebuilt from the log today.

use std::collections::{BTreeSet, HashMap};

use futures::{StreamExt as _, TryStreamExt as _};

use domain::identity::{link_keys, Person};
use domain::linking::Member;
use domain::{Case, CaseId, Category, Principal};

use super::CaseService;
use crate::CommandError;

/// Reads in flight at once.
const PARALLEL: usize = 8;

/// What the other cases of a case's petitioners told at a past point.
#[derive(Debug, Clone, PartialEq)]
pub struct PastLinks {
    /// 一信多投, as the duplicate flag was then.
    pub duplicate: bool,
    /// The other cases of its petitioners the viewer may see (as they were then, with their
    /// own duplicate flag), newest received first, at most `queries`' `MAX_RELATED`.
    pub related: Vec<(Case, bool)>,
}

/// A case as of the point, with its petitioners as keyed hashes.
struct Known {
    case: Case,
    persons: Vec<Person>,
}

impl Known {
    /// The petitioner filed under `key` (the last of them: an entry per case and key holds one).
    fn under(&self, key: &str) -> Option<&Person> {
        self.persons
            .iter()
            .rev()
            .find(|p| p.link_keys().iter().any(|k| k == key))
    }
}

/// The cases read so far as of `seq`, and the candidates under each key asked.
struct Past<'a> {
    service: &'a CaseService,
    seq: u64,
    moved: &'a [CaseId],
    cases: HashMap<CaseId, Option<Known>>,
    keys: HashMap<String, Vec<CaseId>>,
}

impl<'a> Past<'a> {
    /// Read the candidates under `keys` (those not read yet) as of the point.
    async fn load(&mut self, keys: BTreeSet<String>) -> Result<(), CommandError> {
        let todo: Vec<String> = keys
            .into_iter()
            .filter(|k| !self.keys.contains_key(k))
            .collect();
        let identities = &self.service.identities;
        let filed: Vec<(String, Vec<CaseId>)> = futures::stream::iter(todo)
            .map(|key| async move {
                let ids = identities.get(&key).await?;
                Ok::<_, CommandError>((key, ids.into_iter().map(|f| f.case_id).collect()))
            })
            .buffered(PARALLEL)
            .try_collect()
            .await?;
        let mut ids: BTreeSet<CaseId> = self.moved.iter().copied().collect();
        for (key, under) in filed {
            ids.extend(under.iter().copied());
            self.keys.insert(key, under);
        }
        let ids: Vec<CaseId> = ids
            .into_iter()
            .filter(|id| !self.cases.contains_key(id))
            .collect();
        let (service, seq) = (self.service, self.seq);
        let read: Vec<(CaseId, Option<Known>)> = futures::stream::iter(ids)
            .map(|id| async move {
                let known = service.read_at(id, seq).await?.map(|l| Known {
                    persons: service.persons(&l.case.petitioners),
                    case: l.case,
                });
                Ok::<_, CommandError>((id, known))
            })
            .buffered(PARALLEL)
            .try_collect()
            .await?;
        self.cases.extend(read);
        Ok(())
    }

    /// The cases read as of the point that may be under `key`.
    fn candidates(&self, key: &str) -> impl Iterator<Item = &Known> {
        let under = self.keys.get(key).into_iter().flatten();
        let ids: BTreeSet<&CaseId> = under.chain(self.moved).collect();
        ids.into_iter()
            .filter_map(|id| self.cases.get(id).and_then(Option::as_ref))
    }

    /// The open cases on `category` under `key` then (the cases model's `o/` entries).
    fn members(&self, key: &str, category: Category) -> Vec<Member> {
        self.candidates(key)
            .filter(|k| k.case.status.is_open() && k.case.category == category)
            .filter_map(|k| {
                let person = k.under(key)?;
                Some(Member {
                    case_id: k.case.id,
                    unit: k.case.unit.clone(),
                    township: k.case.township.clone(),
                    secret: k.case.accusation || k.case.confidential,
                    id: person.id,
                })
            })
            .collect()
    }

    /// Whether `known` was one matter in several places then (its keys loaded).
    fn duplicate(&self, known: &Known) -> bool {
        link_keys(&known.persons).iter().any(|key| {
            let members = self.members(key, known.case.category);
            let flags = domain::linking::duplicates_in(&members);
            members
                .iter()
                .zip(flags)
                .any(|(m, duplicate)| duplicate && m.case_id == known.case.id)
        })
    }

    /// The other cases of `known`'s petitioners then, of any status (its keys loaded).
    fn related(&self, known: &Known) -> BTreeSet<CaseId> {
        let mut out = BTreeSet::new();
        for person in &known.persons {
            for key in person.link_keys() {
                for other in self.candidates(&key) {
                    let same = other.under(&key).is_some_and(|p| p.same_as(person));
                    if same && other.case.id != known.case.id {
                        out.insert(other.case.id);
                    }
                }
            }
        }
        out
    }
}

impl CaseService {
    /// What the other cases of `case`'s petitioners told once the log held `seq` (`case` as it
    /// was then): its duplicate flag, and with a `viewer` the related cases it may see (at most
    /// `limit`). `moved` are the cases whose petitioners were corrected after `seq`.
    pub async fn links_at(
        &self,
        case: &Case,
        seq: u64,
        moved: &[CaseId],
        viewer: Option<(&Principal, usize)>,
    ) -> Result<PastLinks, CommandError> {
        let me = Known {
            persons: self.persons(&case.petitioners),
            case: case.clone(),
        };
        // The case as given is the case as of the point: it is not read again.
        let given = Known {
            persons: me.persons.clone(),
            case: case.clone(),
        };
        let mut past = Past {
            service: self,
            seq,
            moved,
            cases: HashMap::from([(case.id, Some(given))]),
            keys: HashMap::new(),
        };
        past.load(link_keys(&me.persons)).await?;
        let duplicate = past.duplicate(&me);
        let Some((viewer, limit)) = viewer else {
            return Ok(PastLinks {
                duplicate,
                related: Vec::new(),
            });
        };
        let mut related: Vec<&Known> = past
            .related(&me)
            .iter()
            .filter_map(|id| past.cases.get(id).and_then(Option::as_ref))
            .filter(|k| domain::auth::can_read_case(viewer, &k.case).is_ok())
            .collect();
        related.sort_by_key(|k| {
            std::cmp::Reverse((k.case.received_at.timestamp_micros(), k.case.id.0))
        });
        related.truncate(limit);
        let ids: Vec<CaseId> = related.iter().map(|k| k.case.id).collect();
        let keys: BTreeSet<String> = related.iter().flat_map(|k| link_keys(&k.persons)).collect();
        past.load(keys).await?;
        let related = ids
            .iter()
            .filter_map(|id| past.cases.get(id).and_then(Option::as_ref))
            .map(|k| (k.case.clone(), past.duplicate(k)))
            .collect();
        Ok(PastLinks { duplicate, related })
    }
}
