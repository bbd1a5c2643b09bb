//! 一信多投 in the cases model: the open cases of each petitioner under `o/`, and the duplicate
//! flag recomputed under a petitioner's keys when one of their cases opens, closes, moves or is
//! corrected.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use domain::linking::Filed;

use super::{filed_of, put_row, Row};
use crate::keys::cases::{self as keys, row as row_key};
use crate::{StoreError, Tx};

/// An open case under `o/<key>/`: who, where, and the ID number's hash of the petitioner filed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Open {
    filed: Filed,
    unit: domain::UnitCode,
}

/// File (or unfile) an open case's petitioners under `o/`, with its unit now.
pub(super) fn file_open(tx: &mut Tx<'_>, row: &Row, open: bool) {
    let c = &row.case;
    for person in &row.persons {
        let filed = filed_of(row, person);
        for key in person.link_keys() {
            let k = keys::open(&key, c.id);
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
pub(super) fn relink(
    tx: &mut Tx<'_>,
    before: Option<&Row>,
    mut row: Row,
) -> Result<(), StoreError> {
    let me = row.case.id;
    row.duplicate_under.clear();
    // Under the keys and category it had, too: a correction may have taken it from there.
    let mut keys: BTreeSet<(String, domain::Category)> = row
        .link_keys()
        .into_iter()
        .map(|k| (k, row.case.category))
        .collect();
    if let Some(b) = before {
        keys.extend(b.link_keys().into_iter().map(|k| (k, b.case.category)));
    }
    for (key, category) in keys {
        let open: Vec<Open> = tx
            .scan::<Open>(&keys::opens(&key))?
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
