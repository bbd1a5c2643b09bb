//! Reads as of a past point (issue 15, item 3) on the loaded log: statistics, a queue and a
//! case at a sequence halfway between two snapshots, the first time (the view is replayed from
//! the snapshot before it) and again (the view is kept); a queue just before the next snapshot
//! (the longest replay); how long the snapshots took to catch up once the load stopped, and
//! their size on disk against the event stream's store.

use std::time::{Duration, Instant};

use super::work::get_latencies;
use super::{result, say, BenchResult, System};

/// Snapshots of the cases and stats models: (count, bytes, seconds waited for them), once every
/// one due by `last` is written (a delta at every point, a level at every `layers`-th: `up`'s
/// defaults), or after ten minutes, as far as they got.
async fn snapshots(sys: &System, (every, layers): (u64, u64), last: u64) -> (usize, u64, f64) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    let due = 2 * (last / every + last / (every * layers));
    loop {
        let mut count = 0;
        let mut bytes = 0;
        for model in ["cases", "stats"] {
            let dir = sys.data.join("projections").join(model).join("snapshots");
            let done = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".snap"))
                .count();
            count += done;
            bytes += ops::storage::dir_size(&dir);
        }
        if count as u64 >= due || Instant::now() > deadline {
            return (count, bytes, started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

pub async fn results(
    sys: &System,
    token: &str,
    (every, layers): (u64, u64),
    last: u64,
) -> anyhow::Result<Vec<BenchResult>> {
    let (count, bytes, waited) = snapshots(sys, (every, layers), last).await;
    let stream_mb = sys.stores.log.stored_bytes().await? as f64 / 1e6;
    let mut out = vec![
        result("snapshots", count as f64, "snapshots"),
        result("stream_store_mb", stream_mb, "MB"),
        result("snapshots_disk_mb", bytes as f64 / 1e6, "MB")
            .against("stream_store_mb", stream_mb)
            .target("ratio <= 0.5"),
        result("snapshots_wait_s", waited, "s"),
    ];
    // Halfway between two snapshots of the middle of the log: the replay a typical point costs.
    let at = (last / 2) / every * every + every / 2;
    let case = sys.stores.log.get(at).await?.envelope.case_id;
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Duration::days(365);
    for (name, path) in [
        (
            "asof_stats",
            format!("/v1/stats?from={year_ago}&to={today}&group_by=township&at_seq={at}"),
        ),
        (
            "asof_queue",
            format!("/v1/queues/gaoqiao?limit=100&at_seq={at}"),
        ),
        ("asof_case", format!("/v1/cases/{case}?at_seq={at}")),
        (
            "asof_case_other_point",
            format!("/v1/cases/{case}?at_seq={}", at + 1),
        ),
        (
            "asof_queue_far",
            format!("/v1/queues/gaoqiao?limit=100&at_seq={}", at + every / 2 - 1),
        ),
    ] {
        say(&format!("as of seq {at}: {name}"));
        let url = format!("{}{path}", sys.base);
        let target = if name.starts_with("asof_case") {
            "< 50"
        } else {
            "< 2000"
        };
        // A view not built in time (503) is a result, not the end of the run: the phases after
        // this one still measure (a NaN reads as failed in the table and null in the JSON).
        let first = match get_latencies(&url, token, 1).await {
            Ok(first) => first,
            Err(e) => {
                say(&format!("as of seq {at}: {name} failed: {e:#}"));
                out.push(result(&format!("{name}_first_ms"), f64::NAN, "ms").target(target));
                continue;
            }
        };
        let again = get_latencies(&url, token, 20).await?;
        let again = crate::simulate::Percentiles::of(again);
        out.push(result(&format!("{name}_first_ms"), first[0], "ms").target(target));
        out.push(result(&format!("{name}_again_p99_ms"), again.p99, "ms"));
    }
    Ok(out)
}
