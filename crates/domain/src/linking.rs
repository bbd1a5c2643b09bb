//! Recognising a returning petitioner (docs/rules.md, "Finding and linking"): which other cases of the
//! same petitioner count for a case's flags, and the flags they give.
//!
//! - **repeat** (重复访): an earlier case of the same petitioner on the same category exists;
//! - **first petition** (初信初访): no earlier case of the petitioner exists at all;
//! - **duplicate** (一信多投): the case is open and a case of the same petitioner on the same
//!   category is open in another unit. Both cases carry it, so the county sees the matter wherever
//!   it looks, and it goes when one of them is merged or done;
//! - **cross-level** (越级访): the matter reached a level above the township (the county registers
//!   it at its own office, naming the township of the matter) and the petitioner has no earlier
//!   case of the matter (its township and category) at township level.
//!
//! An accusation or confidential case gives no hint across townships: it counts for another case
//! only when both were registered by the same township ([`counts_for`]).

use serde::{Deserialize, Serialize};

use crate::identity::Person;
use crate::ids::{CaseId, UnitCode};
use crate::values::{Category, Level, Status};

/// Another case of (one of) a case's petitioners, as the linking rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub case_id: CaseId,
    pub category: Category,
    /// The registering township.
    pub township: UnitCode,
    /// Accusation or confidential.
    pub secret: bool,
    /// The unit accountable now and the status, where known (not at registration).
    pub unit: Option<UnitCode>,
    pub status: Option<Status>,
    /// The level the case reached, where known (not for index entries filed before issue 14).
    pub level: Option<Level>,
    /// The petitioner it was found under (the command path lists an earlier case once for each
    /// of the case's petitioners it has; `None` where not known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
}

/// One petitioner of a case, filed under an index key (the identity index and the cases model).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filed {
    pub case_id: CaseId,
    pub category: Category,
    pub township: UnitCode,
    pub secret: bool,
    pub person: Person,
    /// In the identity index: the case may have been terminated (终结). Written before the
    /// terminating event is appended, so a case without it is certainly not terminated; one
    /// with it is checked in the log.
    #[serde(default)]
    pub terminated: bool,
    /// The level the case reached (`None` in entries filed before issue 14).
    #[serde(default)]
    pub level: Option<Level>,
}

impl Peer {
    /// A case as a peer of another, with its current unit and status.
    pub fn of(case: &crate::Case) -> Peer {
        Peer {
            case_id: case.id,
            category: case.category,
            township: case.township.clone(),
            secret: case.accusation || case.confidential,
            unit: Some(case.unit.clone()),
            status: Some(case.status),
            level: Some(case.level_reached),
            person: None,
        }
    }
}

impl Filed {
    pub fn peer(&self) -> Peer {
        Peer {
            case_id: self.case_id,
            category: self.category,
            township: self.township.clone(),
            secret: self.secret,
            unit: None,
            status: None,
            level: self.level,
            person: Some(self.person),
        }
    }
}

/// Whether `peer` may count for a case registered by `township`: a secret case only within its
/// own township.
pub fn counts_for(township: &UnitCode, peer: &Peer) -> bool {
    !peer.secret || &peer.township == township
}

/// `(repeat, first_petition)` of a registration by `township` on `category`, given the earlier
/// cases of its petitioners.
pub fn registration_flags(
    township: &UnitCode,
    category: Category,
    earlier: &[Peer],
) -> (bool, bool) {
    let counted: Vec<&Peer> = earlier.iter().filter(|p| counts_for(township, p)).collect();
    let repeat = counted.iter().any(|p| p.category == category);
    (repeat, counted.is_empty())
}

/// 积案: a registration's place among the cases of the same category of one of its petitioners
/// (1: the first), given the earlier cases found under each petitioner: the most of any one
/// petitioner, counted up to [`crate::policy::MAX_BACKLOG_REPEATS`]. Peers without a petitioner
/// count as one petitioner's.
pub fn repeat_rank(township: &UnitCode, category: Category, earlier: &[Peer]) -> u32 {
    let mut by_person: std::collections::HashMap<
        Option<Person>,
        std::collections::HashSet<CaseId>,
    > = std::collections::HashMap::new();
    for p in earlier
        .iter()
        .filter(|p| p.category == category && counts_for(township, p))
    {
        by_person.entry(p.person).or_default().insert(p.case_id);
    }
    let most = by_person
        .values()
        .map(|cases| cases.len())
        .max()
        .unwrap_or(0);
    u32::try_from(most)
        .unwrap_or(u32::MAX)
        .saturating_add(1)
        .min(crate::policy::MAX_BACKLOG_REPEATS)
}

/// Whether a case of `township` on `category` that reached `level` is cross-level (越级访): above
/// the township, not the continuation of a case it names (`related`), and without an earlier case
/// of the petitioner on the matter at township level.
pub fn cross_level(
    (township, category, level): (&UnitCode, Category, Level),
    related: bool,
    earlier: &[Peer],
) -> bool {
    level > Level::Township
        && !related
        && !earlier.iter().any(|p| {
            counts_for(township, p)
                && &p.township == township
                && p.category == category
                && p.level == Some(Level::Township)
        })
}

/// Whether a case (registered by `township`, on `category`, now with `unit` in `status`) is one
/// matter sent to several places: open, with an open case of the same category elsewhere.
pub fn duplicate(
    township: &UnitCode,
    category: Category,
    unit: &UnitCode,
    status: Status,
    peers: &[Peer],
) -> bool {
    status.is_open()
        && peers.iter().any(|p| {
            counts_for(township, p)
                && p.category == category
                && p.status.is_some_and(Status::is_open)
                && p.unit.as_ref().is_some_and(|u| u != unit)
        })
}

/// The earlier terminated matter a case repeats, if any (条例 35: accepted again only with new
/// facts).
pub fn terminated_matter<'a>(
    township: &UnitCode,
    category: Category,
    peers: &'a [Peer],
) -> Option<&'a Peer> {
    peers.iter().find(|p| {
        counts_for(township, p) && p.category == category && p.status == Some(Status::Terminated)
    })
}

/// An open case filed under one identity key, as [`duplicates_in`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub case_id: CaseId,
    pub unit: UnitCode,
    pub township: UnitCode,
    pub secret: bool,
    /// The ID number's hash of the petitioner filed, if any: under a name-and-phone key, two
    /// different ID numbers are two people.
    pub id: Option<crate::identity::Digest>,
}

/// [`duplicate`] for every member of a group of open cases of one category filed under one
/// identity key, at once: whether another member that is the same person, counts for it
/// ([`counts_for`]) and is in another unit exists. Linear in the group (a person with hundreds
/// of open cases costs hundreds of steps, not their square).
pub fn duplicates_in(members: &[Member]) -> Vec<bool> {
    use std::collections::BTreeMap;
    type Units<'a> = BTreeMap<&'a UnitCode, usize>;
    #[derive(Default)]
    struct Class<'a> {
        public: Units<'a>,
        secret: BTreeMap<&'a UnitCode, Units<'a>>,
    }
    let mut classes: BTreeMap<Option<crate::identity::Digest>, Class<'_>> = BTreeMap::new();
    for m in members {
        let class = classes.entry(m.id).or_default();
        let units = if m.secret {
            class.secret.entry(&m.township).or_default()
        } else {
            &mut class.public
        };
        *units.entry(&m.unit).or_default() += 1;
    }
    let elsewhere = |units: &Units<'_>, mine: &UnitCode| units.keys().take(2).any(|u| *u != mine);
    members
        .iter()
        .map(|m| {
            let same_person = |id: &Option<crate::identity::Digest>| {
                m.id.is_none() || id.is_none() || *id == m.id
            };
            classes
                .iter()
                .filter(|(id, _)| same_person(id))
                .any(|(_, c)| {
                    elsewhere(&c.public, &m.unit)
                        || c.secret
                            .get(&m.township)
                            .is_some_and(|u| elsewhere(u, &m.unit))
                })
        })
        .collect()
}
