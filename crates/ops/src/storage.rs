//! Free space under the data dir (docs/operations.md, "A full disk").
//!
//! On ENOSPC nats-server disables JetStream and does not recover by itself, and sled's flusher
//! fails for good, so the disk must never fill. Every service watches the free space under the
//! data dir once a second: below `[data] min_free_mb`, commands are refused at once with 507
//! `insufficient_storage` and projectors pause; when space returns everything continues by
//! itself. The managed nats-server's `max_file_store` is the backstop below that
//! ([`max_file_store`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Bytes available to an unprivileged writer on the filesystem holding `path`.
pub fn available(path: &Path) -> std::io::Result<u64> {
    let s = nix::sys::statvfs::statvfs(path).map_err(std::io::Error::from)?;
    Ok(s.blocks_available() as u64 * s.fragment_size() as u64)
}

/// Watch the free space under `dir` and keep `low` set while it is below `min_free` bytes. The
/// first reading is taken before this returns.
pub fn watch(dir: PathBuf, min_free: u64, low: Arc<AtomicBool>) {
    let check = move |low: &AtomicBool| match available(&existing_ancestor(&dir)) {
        Ok(free) => {
            let now_low = free < min_free;
            let was_low = low.swap(now_low, Ordering::Relaxed);
            if now_low && !was_low {
                tracing::error!(dir = %dir.display(), free_mb = free >> 20, min_free_mb = min_free >> 20, "free disk space is below the minimum; writes are refused until space returns");
            } else if was_low && !now_low {
                tracing::info!(dir = %dir.display(), free_mb = free >> 20, "free disk space is back above the minimum; writes continue");
            }
        }
        Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot read free disk space"),
    };
    check(&low);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            check(&low);
        }
    });
}

/// The managed nats-server's `max_file_store`: what its store holds now plus what is free,
/// less half the minimum, so that JetStream refuses writes (`insufficient resources`, answered
/// 507) before the disk is full even if the watermark is passed between two readings.
pub fn max_file_store(store_dir: &Path, min_free: u64) -> std::io::Result<u64> {
    let probe = existing_ancestor(store_dir);
    let free = available(&probe)?;
    let used = dir_size(store_dir);
    Ok((used + free.saturating_sub(min_free / 2)).max(used + (64 << 20)))
}

fn existing_ancestor(p: &Path) -> PathBuf {
    let mut p = p.to_path_buf();
    while !p.exists() {
        if !p.pop() {
            return PathBuf::from(".");
        }
    }
    p
}

/// Bytes of the files under `p`, recursively (0 for what cannot be read).
pub fn dir_size(p: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
