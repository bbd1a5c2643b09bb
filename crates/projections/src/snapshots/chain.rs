//! Which snapshots a view reads: the fewest files that lead from the empty model (or a point)
//! up to a snapshot point, each a delta over the point the one below it ends at.

use std::collections::HashMap;

use super::Snap;

/// The snapshots a view at `n` reads, oldest first: the fewest that lead from the empty model
/// to the last point at or before `n` that they reach. A point whose links are missing is
/// passed over for the one before it.
pub fn chain(all: &[Snap], n: u64) -> Vec<Snap> {
    let paths = paths(all, 0);
    let mut tops: Vec<u64> = all.iter().map(|s| s.to).filter(|to| *to <= n).collect();
    tops.sort_unstable();
    tops.dedup();
    tops.into_iter()
        .rev()
        .find_map(|top| paths.get(&top).cloned())
        .unwrap_or_default()
}

/// The fewest snapshots that lead from `floor` up to `top`, oldest first, each a delta over
/// a point at or above `floor` (a full snapshot counts as a delta over 0): `None` if a link is
/// missing.
pub fn between(all: &[Snap], floor: u64, top: u64) -> Option<Vec<Snap>> {
    paths(all, floor).remove(&top)
}

/// For every point reachable from `floor`, the fewest snapshots that reach it. A full snapshot
/// is preferred to a delta over the empty model at the same point (it names no removals).
fn paths(all: &[Snap], floor: u64) -> HashMap<u64, Vec<Snap>> {
    let mut sorted: Vec<Snap> = all
        .iter()
        .copied()
        .filter(|s| s.from.unwrap_or(0) >= floor && s.to > floor)
        .collect();
    // By point, and at a point the full snapshot first, then the longest stretch.
    sorted.sort_unstable_by_key(|s| (s.to, s.from.is_some(), s.from));
    let mut best: HashMap<u64, Vec<Snap>> = HashMap::new();
    for snap in sorted {
        let from = snap.from.unwrap_or(0);
        let below = match from == floor {
            true => Some(Vec::new()),
            false => best.get(&from).cloned(),
        };
        let Some(mut path) = below else { continue };
        path.push(snap);
        let shorter = best.get(&snap.to).is_none_or(|p| path.len() < p.len());
        if shorter {
            best.insert(snap.to, path);
        }
    }
    best
}
