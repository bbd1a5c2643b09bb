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
//!   `ts`/`us` (township or unit with status), `f` (each flag set), `l` (the owning leader).
//! - `n/<case_no>`: the case a number names.
//! - `k/<kind>.<hash>/<case>`: a petitioner of the case filed under a keyed hash of its ID
//!   number, name and phone, or phone (`domain::identity::Person::keys`).
//! - `o/<kind>.<hash>/<case>`: the same for open cases only (ID number, name and phone): the
//!   duplicate flag depends on open cases alone, so a petitioner with hundreds of closed cases
//!   costs nothing when one more opens.
//!
//! A listing scans at most [`SCAN_BUDGET`] index entries per page; a page that ran out of budget
//! may hold fewer items than asked and still give a `next_cursor`, so no query reads the whole
//! model.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use domain::identity::{Keys, Person};
use domain::linking::Filed;
use domain::{evolve, Case, CaseId, Event, PersonalData as _, Timestamp};
use eventlog::Stored;
use queries::cases::{Cursor, Flag};

use crate::{Projection, ProjectionError, StoreError, Tx};

pub struct Cases {
    pub keys: Keys,
}

/// Index entries a listing reads at most for one page.
pub const SCAN_BUDGET: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub case: Case,
    pub persons: Vec<Person>,
    /// The identity keys under which the case is one matter in several places (一信多投); the
    /// case is a duplicate while there is one.
    pub duplicate_under: BTreeSet<String>,
}

impl Row {
    pub fn duplicate(&self) -> bool {
        !self.duplicate_under.is_empty()
    }

    /// The keys that link the case's petitioners to other cases.
    fn link_keys(&self) -> BTreeSet<String> {
        self.persons.iter().flat_map(|p| p.link_keys()).collect()
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
        }
    }

    fn order(&self) -> String {
        order_key(micros(self.case.received_at), self.case.id)
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
        out.extend(c.leader.iter().map(|l| ("l", leader_key(&l.name))));
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

fn row_key(id: CaseId) -> String {
    format!("r/{id}")
}

fn entry_key(index: &str, value: &str, order: &str) -> String {
    format!("x/{index}/{value}/{order}")
}

/// Write `after`, moving its index entries from where `before` had them. (Counting each index
/// value's cases, to read the smallest, cost a fifth of the model's work per event; a listing
/// picks its index by how specific it is instead.)
fn put_row(tx: &mut Tx<'_>, before: Option<&Row>, after: Row) -> Result<(), StoreError> {
    let old: BTreeSet<(&str, String)> = before
        .map(|b| b.indexes())
        .unwrap_or_default()
        .into_iter()
        .collect();
    let new: BTreeSet<(&str, String)> = after.indexes().into_iter().collect();
    let (old_order, new_order) = (before.map(Row::order), after.order());
    for (index, value) in &old {
        if old_order.as_ref() != Some(&new_order) || !new.contains(&(*index, value.clone())) {
            if let Some(order) = &old_order {
                tx.remove(entry_key(index, value, order));
            }
        }
    }
    for (index, value) in &new {
        if old_order.as_ref() != Some(&new_order) || !old.contains(&(*index, value.clone())) {
            tx.put(entry_key(index, value, &new_order), ());
        }
    }
    tx.put(row_key(after.case.id), after);
    Ok(())
}

/// An open case under `o/<key>/`: who, where, and the ID number's hash of the petitioner filed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Open {
    filed: Filed,
    unit: domain::UnitCode,
}

/// File (or unfile) an open case's petitioners under `o/`, with its unit now.
fn file_open(tx: &mut Tx<'_>, row: &Row, open: bool) {
    let c = &row.case;
    for person in &row.persons {
        let filed = Filed {
            case_id: c.id,
            category: c.category,
            township: c.township.clone(),
            secret: c.accusation || c.confidential,
            person: *person,
            terminated: false,
        };
        for key in person.link_keys() {
            let k = format!("o/{key}/{}", c.id);
            if open {
                tx.put(
                    k,
                    Open {
                        filed: filed.clone(),
                        unit: c.unit.clone(),
                    },
                );
            } else {
                tx.remove(k);
            }
        }
    }
}

/// Recompute the duplicate flags under each of `row`'s link keys for the open cases of its
/// category there (`domain::linking::duplicates_in`), and write `row`; other cases are written
/// only when their flag under a key changes.
fn relink(tx: &mut Tx<'_>, before: Option<&Row>, mut row: Row) -> Result<(), StoreError> {
    let me = row.case.id;
    let category = row.case.category;
    row.duplicate_under.clear();
    for key in row.link_keys() {
        let open: Vec<Open> = tx
            .scan::<Open>(&format!("o/{key}/"))?
            .into_iter()
            .map(|(_, o)| o)
            .filter(|o| o.filed.category == category)
            .collect();
        let members: Vec<domain::linking::Member> = open
            .iter()
            .map(|o| domain::linking::Member {
                case_id: o.filed.case_id,
                unit: o.unit.clone(),
                township: o.filed.township.clone(),
                secret: o.filed.secret,
                id: o.filed.person.id,
            })
            .collect();
        let flags = domain::linking::duplicates_in(&members);
        for (m, duplicate) in members.iter().zip(flags) {
            if m.case_id == me {
                if duplicate {
                    row.duplicate_under.insert(key.clone());
                }
                continue;
            }
            let Some(other) = tx.get::<Row>(&row_key(m.case_id))? else {
                continue;
            };
            if other.duplicate_under.contains(&key) != duplicate {
                let mut changed = other.clone();
                if duplicate {
                    changed.duplicate_under.insert(key.clone());
                } else {
                    changed.duplicate_under.remove(&key);
                }
                put_row(tx, Some(&other), changed)?;
            }
        }
    }
    put_row(tx, before, row)
}

impl Projection for Cases {
    fn name(&self) -> &'static str {
        "cases"
    }

    /// 2: without the counts of each index value. 3: cases with their transfers (bounces).
    /// 4: supervision and leader (index `l`).
    fn version(&self) -> u32 {
        4
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Stored) -> Result<(), ProjectionError> {
        let env = &event.envelope;
        let before: Option<Row> = tx.get(&row_key(env.case_id))?;
        let mut case = evolve(
            before.as_ref().map(|r| r.case.clone()),
            env.case_id,
            &env.event,
            env.occurred_at,
        )
        .map_err(|e| ProjectionError::Apply {
            seq: event.seq,
            why: e.to_string(),
        })?;
        let persons = match (&before, &env.event) {
            (Some(b), _) => b.persons.clone(),
            (None, Event::CaseRegistered(r)) => {
                let mut persons: Vec<Person> = r
                    .petitioners
                    .iter()
                    .map(|p| self.keys.petitioner(p))
                    .filter(|p| p.is_known() || p.phone.is_some())
                    .collect();
                persons.dedup();
                for person in &persons {
                    let filed = Filed {
                        case_id: case.id,
                        category: case.category,
                        township: case.township.clone(),
                        secret: case.accusation || case.confidential,
                        person: *person,
                        terminated: false,
                    };
                    for key in person.keys() {
                        tx.put(format!("k/{key}/{}", case.id), filed.clone());
                    }
                }
                tx.put(format!("n/{}", r.case_no), case.id);
                persons
            }
            (None, _) => Vec::new(),
        };
        case.redact_personal_data();
        let moved = before.as_ref().is_none_or(|b| {
            (b.case.status.is_open(), &b.case.unit) != (case.status.is_open(), &case.unit)
        });
        let row = Row {
            case,
            persons,
            duplicate_under: before
                .as_ref()
                .map(|b| b.duplicate_under.clone())
                .unwrap_or_default(),
        };
        if !moved {
            return Ok(put_row(tx, before.as_ref(), row)?);
        }
        // Whether this case, and the open cases of its petitioners on its category, are one
        // matter in several places changes only when a case opens, closes or moves.
        file_open(tx, &row, row.case.status.is_open());
        Ok(relink(tx, before.as_ref(), row)?)
    }
}

mod query;
#[cfg(test)]
mod tests;

pub use query::{case_by_no, links, list, search, MAX_RELATED};
