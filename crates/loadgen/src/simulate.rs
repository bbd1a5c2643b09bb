//! `xinfang simulate`: township traffic through the NATS inbox, as township systems would send it.
//!
//! Each simulated township registers petitions (the mix of [`crate::scenario`]) and, once the
//! county's outcome gives it the case id, sends the case's next step, and so on through
//! acceptance, transfer, extension, reply, follow-up, closure and review requests. A transferred
//! case continues from the receiving township's inbox. Messages go out at `--rate` per second for
//! `--duration`; the simulator then waits for the remaining outcomes and reports what was sent,
//! applied and rejected, and the outcome latency (publish to outcome received).
//!
//! It connects as the county services' user and listens to `xf.outcome.>`; record ids are
//! `sim-<run>-<n>`, so runs never collide.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use serde::Serialize;

use domain::command::Command;
use domain::{CaseId, UnitCode};
use wire::outcome::OutcomeMessage;

use crate::scenario::{plan_case, Rng};

pub struct Options {
    pub townships: Option<usize>,
    pub rate: f64,
    pub duration: Duration,
    pub json: Option<PathBuf>,
    pub seed: u64,
    /// Progress lines on stderr.
    pub progress: bool,
    /// First measure raw appends on this server (a scratch stream), for the ratio.
    pub baseline: bool,
    /// At most this many messages waiting for their outcome; sending pauses at the limit. With a
    /// high `rate` this measures throughput with a bounded queue (`xinfang bench`).
    pub max_in_flight: Option<usize>,
}

/// The flags of `xinfang simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many of the configured townships send (default: all).
    #[arg(long)]
    townships: Option<usize>,
    /// Messages per second, all townships together.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// How long to send: 30, 30s, 2m, 1h.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Also write the summary as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Seed of the generator (the same seed sends the same petitions).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First measure raw JetStream appends on the same server, and report the ratio.
    #[arg(long)]
    baseline: bool,
}

impl From<Args> for Options {
    fn from(a: Args) -> Options {
        Options {
            townships: a.townships,
            rate: a.rate,
            duration: a.duration,
            json: a.json,
            seed: a.seed,
            progress: true,
            baseline: a.baseline,
            max_in_flight: None,
        }
    }
}

/// Concurrent appenders of the raw baseline: the ingestor's workers.
pub const BASELINE_WRITERS: usize = inbox::WORKERS;

/// Parse `30`, `30s`, `2m` or `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number of seconds, or 30s, 2m, 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "ms" => n / 1000.0,
        _ => return Err(format!("{s:?}: unit must be ms, s, m or h")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("{s:?}: must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub townships: usize,
    pub target_rate: f64,
    pub seconds: f64,
    pub sent: u64,
    /// Publishes the inbox stream did not acknowledge.
    pub publish_failed: u64,
    pub applied: u64,
    pub rejected: u64,
    pub rejected_by_code: BTreeMap<String, u64>,
    /// Sent but no outcome within the wait after the run.
    pub unanswered: u64,
    pub cases_registered: u64,
    pub sent_per_s: f64,
    /// Outcomes received per second over the sending period plus the drain.
    pub answered_per_s: f64,
    pub latency_ms: Percentiles,
    /// Raw expected-sequence appends per second on the same server just before (`--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_occ_appends_per_s: Option<f64>,
    /// `answered_per_s / raw_occ_appends_per_s`; meaningful when `--rate` exceeds what the
    /// ingestor applies, so the inbox is the bottleneck.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_raw: Option<f64>,
}

#[derive(Debug, Default, Serialize, Clone, Copy)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of latencies in milliseconds, through an HDR histogram (microsecond
    /// resolution, 3 significant digits): the standard for latency percentiles, where a sorted
    /// vector's nearest-rank index was hand-rolled.
    pub fn of(v: Vec<f64>) -> Percentiles {
        let Ok(mut h) = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3) else {
            return Percentiles::default();
        };
        for ms in v {
            h.saturating_record((ms * 1000.0).round().max(1.0) as u64);
        }
        if h.is_empty() {
            return Percentiles::default();
        }
        let at = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: h.max() as f64 / 1000.0,
        }
    }
}

/// A message in flight: who sent it, when, and what follows on success.
struct Pending {
    sent: Instant,
    township: UnitCode,
    next: VecDeque<Command>,
}

/// A case whose next step may be sent.
struct Ready {
    case: CaseId,
    township: UnitCode,
    steps: VecDeque<Command>,
}

#[derive(Default)]
struct Shared {
    pending: HashMap<String, Pending>,
    ready: VecDeque<Ready>,
    latencies: Vec<f64>,
    applied: u64,
    rejected: BTreeMap<String, u64>,
    registered: u64,
}

/// Run against the county's NATS (`client`, connected as the county services) for the county's
/// `townships`.
pub async fn run_simulate(
    nats: eventlog::Connection,
    mut townships: Vec<UnitCode>,
    opts: Options,
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        !townships.is_empty(),
        "the config names no [[unit]] of kind township"
    );
    if let Some(n) = opts.townships {
        anyhow::ensure!(
            (1..=townships.len()).contains(&n),
            "--townships {n}: the config has {} townships",
            townships.len()
        );
        townships.truncate(n);
    }
    anyhow::ensure!(opts.rate > 0.0, "--rate must be positive");
    let (client, js) = (nats.client().clone(), nats.jetstream().clone());
    for t in &townships {
        let stream = eventlog::inbox::inbox_stream(t.as_str());
        js.get_stream(&stream).await.with_context(|| {
            format!("no township inbox stream {stream}; is the ingestor running (xinfang up)?")
        })?;
    }

    let raw = if opts.baseline {
        if opts.progress {
            eprintln!("simulate: measuring raw appends ({BASELINE_WRITERS} writers, 5 s)");
        }
        Some(
            crate::rawbench::raw_occ_appends(&nats, BASELINE_WRITERS, Duration::from_secs(5))
                .await?,
        )
    } else {
        None
    };
    let shared = Arc::new(Mutex::new(Shared::default()));
    let mut outcomes = client
        .subscribe(eventlog::subjects::all_outcomes())
        .await
        .context("subscribing to outcomes")?;
    client.flush().await.context("flushing")?;
    let listener = {
        let shared = shared.clone();
        tokio::spawn(async move {
            while let Some(msg) = outcomes.next().await {
                let Ok(o) = serde_json::from_slice::<OutcomeMessage>(&msg.payload) else {
                    continue;
                };
                record(&shared, o);
            }
        })
    };

    let run = uuid::Uuid::now_v7().simple().to_string();
    let run = &run[run.len() - 8..];
    let mut rng = Rng(opts.seed);
    let mut acks = futures::stream::FuturesUnordered::new();
    let mut sent = 0u64;
    let mut publish_failed = 0u64;
    let start = Instant::now();
    let mut last_progress = start;
    let departments: Vec<UnitCode> = Vec::new();
    while start.elapsed() < opts.duration {
        let due = (start.elapsed().as_secs_f64() * opts.rate) as u64;
        let cap = opts.max_in_flight.unwrap_or(usize::MAX);
        while sent < due && shared.lock().expect("lock").pending.len() < cap {
            // Progress known cases first, about as often as new ones arrive.
            let ready = {
                let mut s = shared.lock().expect("lock");
                if rng.chance(60) {
                    s.ready.pop_front()
                } else {
                    None
                }
            };
            let (township, case, command, rest) = match ready {
                Some(mut r) => match r.steps.pop_front() {
                    Some(c) => (r.township, Some(r.case), c, r.steps),
                    None => continue,
                },
                None => {
                    let now = chrono::Utc::now().fixed_offset();
                    let plan = plan_case(&mut rng, &townships, &departments, |rng| {
                        now - chrono::Duration::minutes(1 + rng.below(600) as i64)
                    });
                    let t = plan.register.township.clone();
                    // Live traffic: steps happen now, not at the plan's business times.
                    let steps = plan.steps.into_iter().map(|(_, c)| c).collect();
                    (t, None, Command::Register(plan.register), steps)
                }
            };
            let msg_id = format!("sim-{run}-{sent}");
            let mut body = command.body();
            if let (Some(id), Some(obj)) = (case, body.as_object_mut()) {
                obj.insert("case_id".into(), id.to_string().into());
            }
            let subject = eventlog::subjects::inbox(township.as_str(), command.action().as_str());
            // A transfer hands the case to another township: it continues from there.
            let after = match &command {
                Command::Transfer(t) => t.unit.clone(),
                _ => township.clone(),
            };
            shared.lock().expect("lock").pending.insert(
                msg_id.clone(),
                Pending {
                    sent: Instant::now(),
                    township: after,
                    next: rest,
                },
            );
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(eventlog::subjects::headers::MSG_ID, msg_id.as_str());
            match js
                .publish_with_headers(subject, headers, body.to_string().into())
                .await
            {
                Ok(ack) => acks.push(std::future::IntoFuture::into_future(ack)),
                Err(_) => publish_failed += 1,
            }
            sent += 1;
            // Keep the acknowledgements moving without waiting for them.
            while acks.len() > 4096 {
                if let Some(Err(_)) = acks.next().await {
                    publish_failed += 1;
                }
            }
        }
        while let Some(Some(r)) = futures::FutureExt::now_or_never(acks.next()) {
            if r.is_err() {
                publish_failed += 1;
            }
        }
        if opts.progress && last_progress.elapsed() >= Duration::from_secs(2) {
            last_progress = Instant::now();
            let s = shared.lock().expect("lock");
            eprintln!(
                "simulate: {:>5.1}s sent {sent} applied {} rejected {} waiting {}",
                start.elapsed().as_secs_f64(),
                s.applied,
                s.rejected.values().sum::<u64>(),
                s.pending.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let sending = start.elapsed();
    while let Some(r) = acks.next().await {
        if r.is_err() {
            publish_failed += 1;
        }
    }
    // Wait for the outstanding outcomes (bounded).
    let drain_limit = Instant::now() + Duration::from_secs(30);
    while !shared.lock().expect("lock").pending.is_empty() && Instant::now() < drain_limit {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed();
    listener.abort();

    let s = shared.lock().expect("lock");
    let rejected: u64 = s.rejected.values().sum();
    let answered_per_s = (s.applied + rejected) as f64 / elapsed.as_secs_f64();
    let report = Report {
        townships: townships.len(),
        target_rate: opts.rate,
        seconds: sending.as_secs_f64(),
        sent,
        publish_failed,
        applied: s.applied,
        rejected,
        rejected_by_code: s.rejected.clone(),
        unanswered: s.pending.len() as u64,
        cases_registered: s.registered,
        sent_per_s: sent as f64 / sending.as_secs_f64(),
        answered_per_s,
        latency_ms: Percentiles::of(s.latencies.clone()),
        raw_occ_appends_per_s: raw,
        ratio_to_raw: raw.map(|r| answered_per_s / r),
    };
    if let Some(path) = &opts.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report)
}

/// An outcome arrived: note the latency, and queue the case's next step if it was applied.
fn record(shared: &Mutex<Shared>, o: OutcomeMessage) {
    let mut s = shared.lock().expect("lock");
    let Some(p) = s.pending.remove(&o.msg_id) else {
        return; // another run's, or another sender's
    };
    s.latencies.push(p.sent.elapsed().as_secs_f64() * 1000.0);
    if o.status == wire::outcome::OutcomeStatus::Applied {
        s.applied += 1;
        if o.version == Some(1) {
            s.registered += 1;
        }
        if let (Some(case), false) = (o.case_id, p.next.is_empty()) {
            s.ready.push_back(Ready {
                case,
                township: p.township,
                steps: p.next,
            });
        }
    } else {
        let code = o
            .error
            .as_ref()
            .map_or("unknown", |e| e.code.as_str())
            .to_owned();
        *s.rejected.entry(code).or_default() += 1;
    }
}

impl Report {
    /// The summary `xinfang simulate` prints.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let codes: Vec<String> = self
            .rejected_by_code
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        let l = &self.latency_ms;
        out.push_str(&format!(
            "townships          {}\n\
             sent               {} in {:.1} s ({:.0}/s, target {:.0}/s)\n\
             publish failed     {}\n\
             applied            {}\n\
             rejected           {}{}\n\
             unanswered         {}\n\
             cases registered   {}\n\
             answered           {:.0}/s\n\
             outcome latency    p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms\n{}",
            self.townships,
            self.sent,
            self.seconds,
            self.sent_per_s,
            self.target_rate,
            self.publish_failed,
            self.applied,
            self.rejected,
            if codes.is_empty() {
                String::new()
            } else {
                format!(" ({})", codes.join(", "))
            },
            self.unanswered,
            self.cases_registered,
            self.answered_per_s,
            l.p50,
            l.p90,
            l.p99,
            l.max,
            match (self.raw_occ_appends_per_s, self.ratio_to_raw) {
                (Some(raw), Some(ratio)) => format!(
                    "raw OCC appends    {raw:.0}/s ({BASELINE_WRITERS} writers); answered/raw {ratio:.3}\n"
                ),
                _ => String::new(),
            },
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_percentiles() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3 days").is_err());
        // Within the histogram's three significant digits of the exact ranks.
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        let near = |got: f64, want: f64| (got - want).abs() <= want * 0.001;
        assert!(near(p.p50, 50.0), "{p:?}");
        assert!(near(p.p90, 90.0), "{p:?}");
        assert!(near(p.p99, 99.0), "{p:?}");
        assert!(near(p.max, 100.0), "{p:?}");
        let empty = Percentiles::of(Vec::new());
        assert_eq!((empty.p50, empty.max), (0.0, 0.0));
    }
}
