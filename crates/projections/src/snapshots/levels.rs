//! Levels: snapshots that stack the `layers` snapshots of one size before their point into one
//! file, so that a view reads few files however long the log.
//!
//! A level of size k at a point P (a multiple of `every × layers^k`) holds what the events from
//! P − `every × layers^k` to P changed: the snapshots of the size below that cover the stretch,
//! stacked (`store::stacked`: each key as the newest left it). A removal is kept only where the
//! model held the key at the level's start, so a key made and removed within the stretch
//! leaves no trace. A level is a merge of files in key order: it reads no events and holds no
//! more than a few entries in memory at once.

use super::{apply_err, chain, write_file, Snap, Snapshots};
use crate::store::{stacked, Store};
use crate::ProjectionError;

impl Snapshots {
    /// The length of the stretch a level of size `k` covers (`k` 0: a delta); `None` past
    /// what a sequence can hold.
    fn span(&self, k: u32) -> Option<u64> {
        self.layers.checked_pow(k)?.checked_mul(self.every)
    }

    /// The stretches of the levels due at `point`, smallest first.
    fn levels_at(&self, point: u64) -> impl Iterator<Item = u64> + '_ {
        (1..)
            .map_while(move |k| self.span(k))
            .take_while(move |span| point.is_multiple_of(*span))
    }

    /// Build every level due by `applied` that is missing, oldest and smallest first (a level
    /// stacks those of the size below); one whose stretch is not yet covered (a delta being
    /// written) waits for a later call. Returns how many were built.
    pub async fn build_levels(&self, applied: u64) -> Result<usize, ProjectionError> {
        let mut built = 0;
        let mut point = self.every;
        while point <= applied {
            for span in self.levels_at(point).collect::<Vec<_>>() {
                let floor = point - span;
                let all = self.list();
                // A level there, or a full snapshot (one from earlier versions), reaches as far.
                if all
                    .iter()
                    .any(|s| s.to == point && s.from.unwrap_or(0) <= floor)
                {
                    continue;
                }
                if self.build_level(&all, floor, point).await? {
                    built += 1;
                }
            }
            point += self.every;
        }
        Ok(built)
    }

    /// Write the level from `floor` to `point` from the snapshots between them; `false` if a
    /// link is missing.
    async fn build_level(
        &self,
        all: &[Snap],
        floor: u64,
        point: u64,
    ) -> Result<bool, ProjectionError> {
        let Some(parts) = chain::between(all, floor, point) else {
            return Ok(false);
        };
        let started = std::time::Instant::now();
        let parts = parts
            .iter()
            .map(|s| self.snapshot(*s))
            .collect::<Result<Vec<_>, _>>()?;
        // The model at the level's start, to leave out removals of keys it did not hold.
        let below = match floor {
            0 => Vec::new(),
            _ => match chain::between(all, 0, floor) {
                Some(below) => below,
                None => return Ok(false),
            },
        };
        let below = below
            .iter()
            .map(|s| self.snapshot(*s))
            .collect::<Result<Vec<_>, _>>()?;
        let below = Store::layered(self.empty.clone(), below);
        let snap = Snap {
            to: point,
            from: Some(floor),
        };
        let (tmp, done) = (self.tmp(snap), self.path(snap));
        let count = parts.len();
        // Merged (and synced) off the runtime's threads, which answer queries meanwhile.
        let entries = tokio::task::spawn_blocking(move || {
            let entries = stacked(&parts).filter(|entry| match entry {
                // A removal the model's files cannot say it needs is kept: it hides nothing.
                Ok((key, None)) => below.holds(key).unwrap_or(true),
                _ => true,
            });
            write_file(&tmp, &done, entries)
        })
        .await
        .map_err(|e| apply_err(point, e))??;
        tracing::info!(
            model = self.projection.name(),
            seq = point,
            from = floor,
            stacked = count,
            entries,
            secs = started.elapsed().as_secs_f64(),
            "snapshot level written"
        );
        Ok(true)
    }
}
