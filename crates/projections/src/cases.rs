//! Finding cases: every case as a summary, indexed for listing newest first under the filters
//! clerks use, its number, and its petitioners as keyed hashes (never a plain identifier), with
//! the duplicate flag (一信多投) kept current as cases open, move and close.
//!
//! Layout (model version 2):
//! - `r/<case>`: the case without personal data, its petitioners' keyed hashes and the keys under
//!   which it is a duplicate.
//! - `x/<index>/<value>/<order>`: the case under each index it belongs to, `<order>` sorting
//!   newest received first ([`order_key`]). Indexes: `a` (all), `t` (registering township),
//!   `u` (accountable unit), `v` (every unit that held it: what a unit may see), `s` (status),
//!   `ts`/`us` (township or unit with status), `f` (each flag set), `l` (the owning leader),
//!   `br` (an open case by its place among its petitioners' cases of its category, from 2:
//!   积案 by repeats).
//! - `n/<case_no>`: the case a number names.
//! - `k/<kind>.<hash>/<case>`: a petitioner of the case filed under a keyed hash of its ID
//!   number, name and phone, or phone (`domain::identity::Person::keys`), with the day the
//!   alerts count the case on ([`Filing`]): a petitioner's cases of a matter for
//!   `repeat_petitioner`.
//! - `o/<kind>.<hash>/<case>`: the same for open cases only (ID number, name and phone): the
//!   duplicate flag depends on open cases alone, so a petitioner with hundreds of closed cases
//!   costs nothing when one more opens.
//!
//! - `d/<scope>/<due order>`: every open case by its current deadline, soonest first, cases
//!   without one (replied, awaiting closure) last ([`due_order`]); scopes `a` (all), `u.<unit>`
//!   (the accountable unit: its work queue), `t.<township>`. Work queues and the workbench.
//! - `c/<scope>/<day>`: how many open cases of a scope fall due on a (UTC) day, or `none`: the
//!   queue counts read these and the entries of at most two days, never the whole queue.
//!
//! - `al/…`: the alerts (苗头预警, [`alerts`]): the cases each township and category counts by
//!   day, its petitioners' cases, the spells and every id ever raised.
//!
//! A listing scans at most [`SCAN_BUDGET`] index entries per page; a page that ran out of budget
//! may hold fewer items than asked and still give a `next_cursor`, so no query reads the whole
//! model.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use domain::identity::{name_key, Digest, Keys, Person};
use domain::linking::Filed;
use domain::{evolve, Case, CaseId, Event, PersonalData as _, Timestamp};
use eventlog::Stored;
use queries::cases::{Cursor, Flag};

use crate::keys::cases::{self as keys, entry as entry_key, moved as moved_key, row as row_key};
use crate::{Projection, ProjectionError, StoreError, Tx};

pub struct Cases {
    pub keys: Keys,
    /// The alerts' rules (苗头预警): a model built under one policy is rebuilt for another.
    pub policy: domain::Policy,
    /// The data keys: the petitioners of a registration are sealed in the log.
    pub vault: Option<eventlog::Vault>,
}

/// Index entries a listing reads at most for one page.
pub const SCAN_BUDGET: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub case: Case,
    pub persons: Vec<Person>,
    /// The petitioners' names alone, as keyed hashes (`Keys::name`): found by name, linked by
    /// nothing.
    pub names: Vec<Digest>,
    /// The identity keys under which the case is one matter in several places (一信多投); the
    /// case is a duplicate while there is one.
    pub duplicate_under: BTreeSet<String>,
}

/// A petitioner's case as filed under one of its keys (`k/…`): what search and links read,
/// and the day the alerts count the case on (`alerts::counted_day`; `None` for a merged case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filing {
    pub filed: Filed,
    pub counted: Option<chrono::NaiveDate>,
}

impl Row {
    pub fn duplicate(&self) -> bool {
        !self.duplicate_under.is_empty()
    }

    /// The keys that link the case's petitioners to other cases.
    fn link_keys(&self) -> BTreeSet<String> {
        domain::identity::link_keys(&self.persons)
    }

    fn flag(&self, flag: Flag) -> bool {
        let c = &self.case;
        match flag {
            Flag::Collective => c.flags.collective,
            Flag::CrossLevel => c.flags.cross_level,
            Flag::Repeat => c.flags.repeat,
            Flag::Duplicate => self.duplicate(),
            Flag::LeaderReception => c.leader_reception,
            Flag::FirstPetition => c.first_petition,
            Flag::Bounced => c.bounced,
            Flag::Supervised => c.supervisions > 0,
            Flag::Leader => c.leader.is_some(),
            // Indexed while they may come to hold (the listing asks the clock).
            Flag::Unacknowledged => {
                c.status.is_open() && c.acknowledged.is_none() && c.acknowledge_due_at.is_some()
            }
            Flag::Escalated => c.status.is_open() && c.due_at().is_some(),
            Flag::LateEntry => c.late_entries > 0,
            // Listed from the open cases received long enough ago and the index `br` (by the
            // clock, `backlog::sources`), not from `f`.
            Flag::Backlog => false,
        }
    }

    /// Whether `flag` holds now: by the clock for the flags that depend on it.
    fn flag_at(&self, flag: Flag, clock: Clock) -> bool {
        clock
            .flag(flag, &self.case)
            .unwrap_or_else(|| self.flag(flag))
    }

    fn order(&self) -> String {
        order_key(micros(self.case.received_at), self.case.id)
    }

    /// The work-queue scopes of an open case; none for a closed one.
    fn scopes(&self) -> Vec<String> {
        let c = &self.case;
        if !c.status.is_open() {
            return Vec::new();
        }
        vec![
            "a".to_owned(),
            format!("u.{}", c.unit),
            format!("t.{}", c.township),
        ]
    }

    fn due(&self) -> Option<Timestamp> {
        self.case.due_at()
    }

    /// Every key the case has outside its row: listing index entries and queue entries.
    fn entries(&self) -> BTreeSet<String> {
        let order = self.order();
        let mut out: BTreeSet<String> = self
            .indexes()
            .into_iter()
            .map(|(index, value)| entry_key(index, &value, &order))
            .collect();
        let due = due_order(self.due(), self.case.id);
        out.extend(self.scopes().iter().map(|s| keys::queued(s, &due)));
        out
    }

    /// `(index, value)` of every index the case is under.
    fn indexes(&self) -> Vec<(&'static str, String)> {
        let c = &self.case;
        let mut out = vec![
            ("a", String::new()),
            ("t", c.township.to_string()),
            ("u", c.unit.to_string()),
            ("s", c.status.to_string()),
            ("ts", format!("{}.{}", c.township, c.status)),
            ("us", format!("{}.{}", c.unit, c.status)),
        ];
        out.extend(c.units.iter().map(|u| ("v", u.to_string())));
        out.extend(queries::cases::serial_of(&c.case_no).map(|s| ("n", s.to_owned())));
        out.extend(c.leader.iter().map(|l| ("l", leader_key(&l.name))));
        if c.status.is_open() && c.repeat_rank >= 2 {
            out.push(("br", backlog::rank_value(c.repeat_rank)));
        }
        out.extend(
            Flag::ALL
                .into_iter()
                .filter(|f| self.flag(*f))
                .map(|f| ("f", f.as_str().to_owned())),
        );
        out
    }
}

fn micros(t: Timestamp) -> i64 {
    t.timestamp_micros()
}

/// Sorts newest received first, then by case id (descending): both inverted, as fixed-width hex.
pub fn order_key(received_micros: i64, id: CaseId) -> String {
    format!(
        "{:016x}{:032x}",
        !((received_micros as u64) ^ (1 << 63)),
        !id.0.as_u128()
    )
}

/// Sorts soonest deadline first (by the second), cases without one last, then by case id.
pub fn due_order(due: Option<Timestamp>, id: CaseId) -> String {
    format!("{:016x}{:032x}", due_key(due), id.0.as_u128())
}

/// A deadline as the first part of [`due_order`].
pub(crate) fn due_key(due: Option<Timestamp>) -> u64 {
    due.map_or(u64::MAX, |d| (d.timestamp() as u64) ^ (1 << 63))
}

/// The (UTC) day a deadline falls on, as a counter key part; `none` without one.
fn due_day(due: Option<Timestamp>) -> String {
    due.map_or_else(|| "none".to_owned(), |d| d.naive_utc().date().to_string())
}

fn cursor_of(order: &str) -> Option<Cursor> {
    let time = u64::from_str_radix(order.get(..16)?, 16).ok()?;
    let id = u128::from_str_radix(order.get(16..48)?, 16).ok()?;
    Some(Cursor {
        received_micros: ((!time) ^ (1 << 63)) as i64,
        case_id: CaseId(uuid::Uuid::from_u128(!id)),
    })
}

/// A leader's name in an index key (free text: hex keeps it one key segment).
pub(crate) fn leader_key(name: &str) -> String {
    hex::encode(name.trim())
}

/// Write `after`, moving its index and queue entries and its counts from where `before` had them.
/// (Counting each index value's cases, to read the smallest, cost a fifth of the model's work per
/// event; a listing picks its index by how specific it is instead.)
fn put_row(tx: &mut Tx<'_>, before: Option<&Row>, after: Row) -> Result<(), StoreError> {
    let old = before.map(Row::entries).unwrap_or_default();
    let new = after.entries();
    for key in old.difference(&new) {
        tx.remove(key.clone());
    }
    for key in new.difference(&old) {
        tx.put(key.clone(), ());
    }
    // Most events move no counter: the strings are made only when one may move.
    let moved = before.is_none_or(|b| queue::counted_as(b) != queue::counted_as(&after));
    let (old, new) = if moved {
        (
            before.map(queue::counters).unwrap_or_default(),
            queue::counters(&after),
        )
    } else {
        Default::default()
    };
    for (key, delta) in old
        .difference(&new)
        .map(|k| (k, -1))
        .chain(new.difference(&old).map(|k| (k, 1)))
    {
        let n: i64 = tx.get(key)?.unwrap_or(0);
        if n + delta == 0 {
            tx.remove(key.clone());
        } else {
            tx.put(key.clone(), n + delta);
        }
    }
    tx.put(row_key(after.case.id), after);
    Ok(())
}

impl Projection for Cases {
    fn name(&self) -> &'static str {
        "cases"
    }

    /// 2: without the counts of each index value. 3: cases with their transfers (bounces).
    /// 4: supervision and leader (index `l`). 5: queue entries and counts (`d/`, `c/`); cases
    /// with reply, follow-up, corrections and the accused unit. 6: cases with attachments.
    /// 7: the reply's unit. 8: cases with their adjustments (核减). 9: filed petitioners with
    /// the level their case reached (越级访). 10: no accusation's summary, petitioners dropped
    /// when erased (their events sealed). 11: the flag `leader` (领导包案) in index `f`.
    /// 12: corrections of petitioners (`p/`). 13: petitioners filed by name alone (`m.`
    /// keys) and cases by the serial of their number (index `n`). 14: cases with
    /// acknowledgements, reminders, reopenings and late entries; flags `unacknowledged`,
    /// `escalated`, `late_entry` in index `f`. 15: queue counters under each counted flag too.
    /// 16: cases with their place among their petitioners' cases and their resolution plan
    /// (积案); index `br`. 17: the alerts (苗头预警, `al/`). 18: their reviews (`al/v/`).
    /// 19: a petitioner's cases of a matter in one record (`al/p/`). 20: withdrawn (those
    /// cases read from `k/`: a scan of every case of a petitioner per registration). 21: as 19.
    /// 22: a petitioner's cases of a matter read from `k/` (which carry the day the alerts
    /// count a case on), `al/p/` kept only for a petitioner with many cases.
    fn version(&self) -> u32 {
        22
    }

    fn vault(&self) -> Option<&eventlog::Vault> {
        self.vault.as_ref()
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        let env = &event.envelope;
        if let Event::AlertReviewed(r) = &env.event {
            return alerts::review(tx, event, r);
        }
        let before: Option<Row> = tx.get(&row_key(env.case_id))?;
        if !crate::admitted(tx, event, before.as_ref().map(|r| r.case.version)) {
            return Ok(());
        }
        let mut case = evolve(
            before.as_ref().map(|r| r.case.clone()),
            env.case_id,
            &env.event,
            env.occurred_at,
            env.entry(),
        )
        .map_err(|e| ProjectionError::Apply {
            seq: event.seq,
            why: e.to_string(),
        })?;
        // The petitioners as keyed hashes: from the registration, or a correction of them.
        let (persons, names) = match (&before, &env.event) {
            // Erased: nobody finds the case by its petitioners any more.
            (_, Event::PersonalDataErased(_)) => (Vec::new(), Vec::new()),
            (_, Event::CaseRegistered(r)) => {
                tx.put(keys::case_no(&r.case_no), case.id);
                self.persons(&r.petitioners)
            }
            (Some(b), Event::RegistrationCorrected(c)) => match &c.after.petitioners {
                Some(p) => self.persons(p),
                None => (b.persons.clone(), b.names.clone()),
            },
            (Some(b), _) => (b.persons.clone(), b.names.clone()),
            (None, _) => (Vec::new(), Vec::new()),
        };
        case.redact_personal_data();
        let row = Row {
            case,
            persons,
            names,
            duplicate_under: before
                .as_ref()
                .map(|b| b.duplicate_under.clone())
                .unwrap_or_default(),
        };
        // Filed for search and links under each petitioner (again, after a correction of whom or
        // what the case is about).
        let counted = alerts::counted_day(&row, &self.policy);
        let refiled = before.as_ref().is_none_or(|b| {
            (
                &b.persons,
                &b.names,
                b.case.category,
                &b.case.township,
                alerts::counted_day(b, &self.policy),
            ) != (
                &row.persons,
                &row.names,
                row.case.category,
                &row.case.township,
                counted,
            )
        });
        if refiled {
            // Links as of a past point find a case by its petitioners of then (`moved_after`).
            if before.as_ref().is_some_and(|b| b.persons != row.persons)
                && matches!(env.event, Event::RegistrationCorrected(_))
            {
                tx.put(moved_key(event.seq), row.case.id);
            }
            if let Some(b) = &before {
                for key in b.persons.iter().flat_map(|p| p.keys()) {
                    tx.remove(keys::filed(&key, b.case.id));
                }
                for key in b.names.iter().map(name_key) {
                    tx.remove(keys::filed(&key, b.case.id));
                }
            }
            for person in &row.persons {
                for key in person.keys() {
                    tx.put(
                        keys::filed(&key, row.case.id),
                        Filing {
                            filed: filed_of(&row, person),
                            counted,
                        },
                    );
                }
            }
            // Under a name, the case as filed for nobody in particular: a name identifies no one.
            for key in row.names.iter().map(name_key) {
                tx.put(
                    keys::filed(&key, row.case.id),
                    Filing {
                        filed: filed_of(&row, &Person::default()),
                        counted,
                    },
                );
            }
        }
        alerts::apply(tx, &self.policy, before.as_ref(), &row)?;
        let moved = refiled
            || before.as_ref().is_none_or(|b| {
                (b.case.status.is_open(), &b.case.unit)
                    != (row.case.status.is_open(), &row.case.unit)
            });
        if !moved {
            return Ok(put_row(tx, before.as_ref(), row)?);
        }
        // Whether this case, and the open cases of its petitioners on its category, are one
        // matter in several places changes only when a case opens, closes, moves or is corrected.
        if let Some(b) = &before {
            duplicates::file_open(tx, b, false);
        }
        duplicates::file_open(tx, &row, row.case.status.is_open());
        Ok(duplicates::relink(tx, before.as_ref(), row)?)
    }
}

impl Cases {
    /// A case's petitioners as keyed hashes (those with an identifier or a phone), once each,
    /// and their names alone, once each.
    fn persons(&self, petitioners: &[domain::command::Petitioner]) -> (Vec<Person>, Vec<Digest>) {
        let mut persons: Vec<Person> = petitioners
            .iter()
            .map(|p| self.keys.petitioner(p))
            .filter(|p| p.is_known() || p.phone.is_some())
            .collect();
        persons.dedup();
        let names: BTreeSet<Digest> = petitioners
            .iter()
            .filter_map(|p| self.keys.name(&p.name))
            .collect();
        (persons, names.into_iter().collect())
    }
}

/// A petitioner of a case as filed under its keys.
fn filed_of(row: &Row, person: &Person) -> Filed {
    let c = &row.case;
    Filed {
        case_id: c.id,
        category: c.category,
        township: c.township.clone(),
        secret: c.accusation || c.confidential,
        person: *person,
        terminated: false,
        level: Some(c.level_reached),
    }
}

pub mod alerts;
mod backlog;
mod duplicates;
mod merge;
mod query;
pub(crate) mod queue;
mod received;
#[cfg(test)]
mod tests;

pub use alerts::{alert_by_id, alerts};
pub use query::{case_by_no, links, list, moved_after, search, Clock, MAX_RELATED};
pub use queue::counts;
pub use received::queue;
