//! Counters that never hand out a number twice: a JetStream key-value bucket whose keys are
//! advanced by compare-and-set on their revision, so concurrent writers in any process (and a
//! cluster's leader change) each get a number of their own. Case numbers are drawn from it.
//!
//! A process leases numbers: when registrations arrive faster than [`QUIET_RATE`] a second, one
//! compare-and-set takes a block of them (about a tenth of the last second's draws, at most
//! [`MAX_LEASE`]) and the next draws are served from memory without a round trip. A quiet county
//! draws one at a time, so a restart skips no number; a busy one skips at most the rest of a
//! block, as a failed registration always could.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};
use bytes::Bytes;

use crate::error::LogError;
use crate::port::{nats::NatsBucket, Bucket};
use crate::subjects::CASE_NUMBERS_BUCKET;

/// Draws a second below which numbers are taken one at a time.
pub const QUIET_RATE: u32 = 10;
/// The largest block of numbers one compare-and-set leases.
pub const MAX_LEASE: u64 = 64;

#[derive(Clone)]
pub struct Counters {
    kv: Bucket,
    series: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<Lease>>>>>,
}

/// What this process holds of one series: the numbers leased and not yet given, and how fast
/// it has been drawing.
struct Lease {
    next: u64,
    /// One past the last leased number.
    end: u64,
    window: Instant,
    drawn: u32,
    drawn_before: u32,
}

impl Lease {
    fn new() -> Self {
        Lease {
            next: 0,
            end: 0,
            window: Instant::now(),
            drawn: 0,
            drawn_before: 0,
        }
    }

    /// Count a draw; returns how many numbers the next lease should take.
    fn pace(&mut self) -> u64 {
        let now = Instant::now();
        let since = now.duration_since(self.window);
        if since >= Duration::from_secs(1) {
            self.drawn_before = if since >= Duration::from_secs(2) {
                0
            } else {
                self.drawn
            };
            self.drawn = 0;
            self.window = now;
        }
        self.drawn += 1;
        let rate = self.drawn.max(self.drawn_before);
        if rate <= QUIET_RATE {
            1
        } else {
            u64::from(rate / QUIET_RATE).clamp(1, MAX_LEASE)
        }
    }
}

impl Counters {
    pub async fn open(nats: &crate::Connection, replicas: usize) -> Result<Self, LogError> {
        let js = nats.jetstream();
        let kv = NatsBucket::open(
            js,
            kv::Config {
                bucket: CASE_NUMBERS_BUCKET.into(),
                description: "Xinfang case number series: the last number given, per series".into(),
                history: 1,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            },
            "opening the case number bucket",
        )
        .await?;
        Ok(Counters::on(Arc::new(kv)))
    }

    /// The series in `bucket` (in memory, for unit tests).
    pub fn on(bucket: Bucket) -> Self {
        Counters {
            kv: bucket,
            series: Arc::default(),
        }
    }

    /// The next number of `series` (1, 2, …). A number may be skipped (a caller that fails after
    /// drawing it, the rest of a lease when the process stops), never given twice.
    pub async fn next(&self, series: &str) -> Result<u64, LogError> {
        let lease = {
            let mut all = self.series.lock().unwrap_or_else(|p| p.into_inner());
            all.entry(series.to_owned())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Lease::new())))
                .clone()
        };
        // Draws of one series wait for one lease instead of racing each other's compare-and-set.
        let mut lease = lease.lock().await;
        let size = lease.pace();
        if lease.next >= lease.end {
            let last = self.lease(series, size).await?;
            lease.next = last + 1 - size;
            lease.end = last + 1;
        }
        let n = lease.next;
        lease.next += 1;
        Ok(n)
    }

    /// Advance `series` by `size`; returns the last number of the block taken.
    async fn lease(&self, series: &str, size: u64) -> Result<u64, LogError> {
        loop {
            let entry = self.kv.entry(series, "reading a counter").await?;
            let last = match entry.as_ref().and_then(|e| e.value.as_ref()) {
                Some(value) => std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or(LogError::Unreadable {
                        what: "case number counter",
                    })?,
                _ => 0,
            };
            let next = last + size;
            let value = Bytes::from(next.to_string());
            let written = match &entry {
                None => self.kv.create(series, value, "creating a counter").await?,
                Some(e) => {
                    self.kv
                        .update(series, value, e.revision, "advancing a counter")
                        .await?
                }
            };
            if written {
                return Ok(next);
            }
        }
    }
}
