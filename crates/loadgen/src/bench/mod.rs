//! `xinfang bench`: every hot path against the raw limits of the machine, in one run
//! (docs/benchmarks.md). It starts its own system with `xinfang up` on free ports in a temporary
//! directory (each service its own process, as deployed), measures the raw baselines on the same
//! server and disk, then Xinfang's paths, and prints a table (and JSON with `--json`).
//!
//! `--quick` (the CI smoke test) uses small volumes; the full mode loads 1.2 million events
//! (300,000 cases).

mod asof;
mod chain;
mod console;
mod cpu;
mod report;
mod system;
mod waits;
mod work;

pub use work::clerk_token;

pub use cpu::Budget;
pub use report::{run_cli, Args};
use system::{cpu_phase, CpuPhase};
pub use system::{Launch, Stores as BenchStores, System};
use waits::{rebuild_rate, wait_applied, wait_followers, wait_settled};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use crate::simulate::Percentiles;

/// Volumes and durations of one mode.
struct Plan {
    events: u64,
    sled_inserts: u64,
    raw_time: Duration,
    http_time: Duration,
    inbox_time: Duration,
    lag_time: Duration,
    lag_rate: f64,
    samples: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                events: 40_000,
                sled_inserts: 200_000,
                raw_time: Duration::from_secs(3),
                http_time: Duration::from_secs(5),
                inbox_time: Duration::from_secs(5),
                lag_time: Duration::from_secs(10),
                lag_rate: 1000.0,
                samples: 200,
            }
        } else {
            Plan {
                // 300,000 cases of four events each (the log of issue 12's search target).
                events: 1_200_000,
                sled_inserts: 1_000_000,
                raw_time: Duration::from_secs(10),
                http_time: Duration::from_secs(20),
                inbox_time: Duration::from_secs(20),
                lag_time: Duration::from_secs(60),
                lag_rate: 1000.0,
                samples: 1000,
            }
        }
    }
}

/// `[projectors] snapshot_events` and `snapshot_layers` as `up` runs by default.
const SNAPSHOTS: (u64, u64) = (10_000, 25);

/// Concurrent clients of the command benchmarks (and writers of the raw baseline).
pub const CLIENTS: usize = 64;
const TOKEN: &str = "bench-county-token";

#[derive(Debug, Serialize)]
pub struct BenchResult {
    pub name: String,
    pub value: f64,
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// The target of this round, for the table (not a test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub machine: serde_json::Value,
    pub mode: String,
    pub events: u64,
    pub results: Vec<BenchResult>,
    /// Where the CPU went in the command phases, per process.
    pub cpu: Vec<CpuPhase>,
}

fn result(name: &str, value: f64, unit: &str) -> BenchResult {
    BenchResult {
        name: name.into(),
        value,
        unit: unit.into(),
        baseline: None,
        ratio: None,
        target: None,
    }
}

impl BenchResult {
    fn against(mut self, baseline: &str, base: f64) -> Self {
        self.baseline = Some(baseline.into());
        self.ratio = Some(self.value / base);
        self
    }
    fn target(mut self, t: &str) -> Self {
        self.target = Some(t.into());
        self
    }
}

fn machine(nats: Option<String>) -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned());
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    serde_json::json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "memory_gib": mem_kb.map(|k| (k / 1024.0 / 1024.0 * 10.0).round() / 10.0),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_owned()),
        "nats_server": nats,
        "xinfang": env!("CARGO_PKG_VERSION"),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}

fn say(msg: &str) {
    eprintln!("bench: {msg}");
}

pub async fn run_bench(
    launch: &dyn Launch,
    quick: bool,
    json: Option<PathBuf>,
) -> anyhow::Result<Report> {
    let plan = Plan::new(quick);
    let mut results = Vec::new();
    say("starting the system (xinfang up on free ports)");
    // nats-server's own fsync policy, as in every earlier run, so that ratios stay comparable;
    // the cost of `up`'s default (fsync before every acknowledgement) is measured apart below.
    let sys = launch
        .start("interval", false, &work::TOWNSHIPS, TOKEN)
        .await?;
    let client = sys.nats.clone();

    say("raw baselines: expected-sequence appends, sled batches");
    let mut cpu = Vec::new();
    let before = sys.cpu();
    let raw_occ = crate::rawbench::raw_occ_appends(&client, CLIENTS, plan.raw_time).await?;
    let appends = (raw_occ * plan.raw_time.as_secs_f64()) as u64;
    cpu.push(cpu_phase("raw_occ_appends", &before, &sys.cpu(), appends));
    results.push(result("raw_occ_appends_per_s", raw_occ, "appends/s"));
    let raw_sled = work::raw_sled_batch_per_s(plan.sled_inserts)?;
    results.push(result("raw_sled_batch_per_s", raw_sled, "inserts/s"));

    let cases = sys.cases.clone();
    say("commands over HTTP, 64 clients");
    let before = sys.cpu();
    let (http, lat) = work::http_commands(&sys.base, TOKEN, CLIENTS, plan.http_time).await;
    // The projectors', the feed's and the notary's share of the work includes what they catch
    // up on after.
    wait_settled(&client, cases.last_seq().await?).await?;
    cpu.push(cpu_phase("http", &before, &sys.cpu(), lat.len() as u64));
    let lat = Percentiles::of(lat);
    results.push(
        result("http_commands_per_s", http, "commands/s")
            .against("raw_occ_appends_per_s", raw_occ)
            .target("ratio >= 0.10"),
    );
    results.push(result("http_command_p50_ms", lat.p50, "ms"));
    results.push(result("http_command_p99_ms", lat.p99, "ms"));

    say("commands through the NATS inbox, 256 in flight");
    let before = sys.cpu();
    let sim = crate::simulate::run_simulate(
        client.clone(),
        sys.townships.clone(),
        crate::simulate::Options {
            townships: None,
            rate: 1e6,
            duration: plan.inbox_time,
            json: None,
            seed: 5,
            progress: false,
            baseline: false,
            max_in_flight: Some(256),
        },
    )
    .await?;
    wait_settled(&client, cases.last_seq().await?).await?;
    cpu.push(cpu_phase(
        "inbox",
        &before,
        &sys.cpu(),
        sim.applied + sim.rejected,
    ));
    results.push(
        result("inbox_commands_per_s", sim.answered_per_s, "commands/s")
            .against("raw_occ_appends_per_s", raw_occ)
            .target("ratio >= 0.05"),
    );
    results.push(result("inbox_outcome_p50_ms", sim.latency_ms.p50, "ms"));
    results.push(result("inbox_outcome_p99_ms", sim.latency_ms.p99, "ms"));

    say(&format!("adding {} events to the log", plan.events));
    let t = Instant::now();
    let loaded = work::load(cases.clone(), plan.events, true).await;
    results.push(result(
        "load_events_per_s",
        loaded as f64 / t.elapsed().as_secs_f64(),
        "events/s",
    ));
    let long = work::long_case(&cases, 50).await?;
    let last = cases.last_seq().await?;
    say("waiting for the projectors and the feed to catch up");
    wait_applied(&client, last).await?;
    // The feed has no query to ask; reads are timed once no follower of the log has anything
    // left to fetch, so they measure the read path and not a feed still catching up.
    wait_followers(&client).await?;

    say("reads: a 50-event case's history, a year of statistics by township");
    let history = work::get_latencies(
        &format!("{}/v1/cases/{long}/history", sys.base),
        TOKEN,
        plan.samples,
    )
    .await?;
    results.push(result("history_p99_ms", Percentiles::of(history).p99, "ms").target("< 5"));
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Duration::days(365);
    let stats = work::get_latencies(
        &format!(
            "{}/v1/stats?from={year_ago}&to={today}&group_by=township",
            sys.base
        ),
        TOKEN,
        plan.samples / 2,
    )
    .await?;
    results.push(result("stats_p99_ms", Percentiles::of(stats).p99, "ms").target("< 20"));
    let two_way = work::get_latencies(
        &format!(
            "{}/v1/stats?from={year_ago}&to={today}&group_by=township,month&compare=yoy",
            sys.base
        ),
        TOKEN,
        plan.samples / 2,
    )
    .await?;
    let p99 = Percentiles::of(two_way).p99;
    results.push(result("stats_two_way_p99_ms", p99, "ms").target("< 20"));
    // 苗头预警 (issue 35): a month's alerts, county-wide, with the cases each names.
    let month_ago = today - chrono::Duration::days(30);
    let alerts = work::get_latencies(
        &format!("{}/v1/alerts?from={month_ago}&to={today}", sys.base),
        TOKEN,
        plan.samples / 2,
    )
    .await?;
    let p99 = Percentiles::of(alerts).p99;
    results.push(result("alerts_p99_ms", p99, "ms").target("< 50"));

    say("the chain: sealing, the notary's check, verifying the whole log");
    results.extend(chain::results(&sys.stores, &client, last).await?);
    say("as of a past point: statistics, a queue, a case");
    // `[projectors] snapshot_events` as `up` runs by default.
    results.extend(asof::results(&sys, TOKEN, SNAPSHOTS, last).await?);
    say("the web console's pages, signed in as the county");
    let pages = (plan.samples / 10).max(10);
    results.extend(console::results(&sys, TOKEN, &long.to_string(), pages).await?);

    say("export: every case of the year as CSV, streamed");
    let before = sys.peak_rss();
    let t = Instant::now();
    let rows = work::export_rows(
        &format!(
            "{}/v1/export/cases?from={year_ago}&to={today}&format=csv",
            sys.base
        ),
        TOKEN,
    )
    .await?;
    let secs = t.elapsed().as_secs_f64();
    results.push(result("export_cases", rows as f64, "rows"));
    results.push(result("export_cases_per_s", rows as f64 / secs, "rows/s"));
    for (name, after) in sys.peak_rss() {
        if name == "api" || name == "projector-stats" {
            let was = before.iter().find(|(n, _)| *n == name).map_or(0.0, |b| b.1);
            let growth = format!("export_peak_rss_growth_{name}_mb");
            results.push(result(&growth, after - was, "MB"));
        }
    }

    say("finding cases: a township's closed cases, a petitioner's cases");
    let list = work::get_latencies(
        &format!(
            "{}/v1/cases?township=gaoqiao&status=closed&limit=50",
            sys.base
        ),
        TOKEN,
        plan.samples,
    )
    .await?;
    results.push(result("list_cases_p99_ms", Percentiles::of(list).p99, "ms").target("< 10"));
    // Petitioners of the loaded cases, spread over the log.
    let cases_loaded = plan.events / work::LIFECYCLE_EVENTS;
    let search = work::post_latencies(
        &format!("{}/v1/cases/search", sys.base),
        TOKEN,
        plan.samples,
        |k| {
            let i = 1_000_000 + (k as u64 * 7919) % cases_loaded.max(1);
            serde_json::json!({"id_number": work::id_number(i)})
        },
    )
    .await?;
    results.push(result("search_p99_ms", Percentiles::of(search).p99, "ms").target("< 10"));

    say("work: pages of 100 through a township's queue, the county's workbench, all cases");
    for (name, path) in [
        ("queue_page_p99_ms", "/v1/queues/gaoqiao?limit=100"),
        ("workbench_page_p99_ms", "/v1/workbench?limit=100"),
        ("list_page_p99_ms", "/v1/cases?limit=100"),
    ] {
        let pages =
            work::page_latencies(&format!("{}{path}", sys.base), TOKEN, plan.samples).await?;
        results.push(result(name, Percentiles::of(pages).p99, "ms").target("< 10"));
    }

    say(&format!(
        "projection lag at {} commands/s for {} s",
        plan.lag_rate,
        plan.lag_time.as_secs()
    ));
    let lags =
        work::projection_lag(cases.clone(), client.clone(), plan.lag_rate, plan.lag_time).await;
    let lag = Percentiles::of(lags);
    results.push(result("lag_p50_ms", lag.p50, "ms"));
    results.push(result("lag_p99_ms", lag.p99, "ms").target(if quick { "<= 30" } else { "<= 20" }));

    let events = cases.last_seq().await?;
    for name in projections::NAMES {
        say(&format!("rebuilding {name} over {events} events"));
        let rate = rebuild_rate(&sys, name)?;
        results.push(
            result(&format!("rebuild_{name}_events_per_s"), rate, "events/s")
                .against("raw_sled_batch_per_s", raw_sled)
                .target(if name == "cases" {
                    "ratio >= 0.4"
                } else {
                    "ratio >= 0.6"
                }),
        );
    }
    // Durability: the same HTTP load on a fresh system whose server fsyncs every write before
    // acknowledging it (`[nats] sync = "always"`, the default of `up`), and on a fresh one with
    // nats-server's own interval, so both start alike.
    let mut fresh = Vec::new();
    // Co-hosting: the same load once more on a fresh system (interval) whose three read models run
    // in one process over one follower; compared with the interval system, whose run in three.
    let mut projector_cpu = Vec::new();
    for (sync, cohost) in [("interval", false), ("always", false), ("interval", true)] {
        let hosting = if cohost { "cohosted" } else { "separate" };
        say(&format!(
            "commands over HTTP on a fresh system, sync {sync}, projectors {hosting}"
        ));
        let other = launch.start(sync, cohost, &work::TOWNSHIPS, TOKEN).await?;
        let before = other.cpu();
        let (rate, lat) = work::http_commands(&other.base, TOKEN, CLIENTS, plan.http_time).await;
        let commands = lat.len() as u64;
        if sync == "interval" {
            let last = other.cases.last_seq().await?;
            wait_settled(&other.nats, last).await?;
            let phase = cpu_phase(
                &format!("http_projectors_{hosting}"),
                &before,
                &other.cpu(),
                commands,
            );
            let of = |pick: &dyn Fn(&str) -> bool| -> f64 {
                phase
                    .per_command_us
                    .iter()
                    .filter(|(n, _)| pick(n))
                    .map(|(_, v)| v)
                    .sum()
            };
            let projectors = of(&|n| n.starts_with("projector"));
            let services = of(&|n| n != "bench-clients");
            let rss: f64 = other
                .peak_rss()
                .into_iter()
                .filter(|(n, _)| n.starts_with("projector"))
                .map(|(_, mb)| mb)
                .sum();
            projector_cpu.push((hosting, projectors, services, rss));
            cpu.push(phase);
        }
        if !cohost {
            fresh.push((sync, rate, Percentiles::of(lat)));
        }
    }
    let interval_rate = fresh[0].1;
    for (sync, rate, lat) in fresh {
        results.push(
            result(
                &format!("http_commands_fresh_sync_{sync}_per_s"),
                rate,
                "commands/s",
            )
            .against("http_commands_fresh_sync_interval_per_s", interval_rate),
        );
        results.push(result(
            &format!("http_command_fresh_sync_{sync}_p99_ms"),
            lat.p99,
            "ms",
        ));
    }
    let (separate_projectors, separate_services) = (projector_cpu[0].1, projector_cpu[0].2);
    for (hosting, projectors, services, rss) in projector_cpu {
        results.push(
            result(
                &format!("cpu_projectors_{hosting}_us_per_command"),
                projectors,
                "µs",
            )
            .against(
                "cpu_projectors_separate_us_per_command",
                separate_projectors,
            ),
        );
        results.push(
            result(
                &format!("cpu_services_{hosting}_us_per_command"),
                services,
                "µs",
            )
            .against("cpu_services_separate_us_per_command", separate_services),
        );
        results.push(result(
            &format!("peak_rss_projectors_{hosting}_mb"),
            rss,
            "MiB",
        ));
    }
    for (name, mb) in sys.peak_rss() {
        let r = result(&format!("peak_rss_{name}_mb"), mb, "MiB");
        results.push(if name == "nats-server" {
            r
        } else {
            r.target(if quick { "<= 150" } else { "<= 200" })
        });
    }
    for (name, anon, file) in sys.rss_split() {
        results.push(result(&format!("rss_anon_{name}_mb"), anon, "MiB"));
        results.push(result(&format!("rss_file_{name}_mb"), file, "MiB"));
    }
    if let Some(figures) = cpu::CommandCpu::of(&cpu) {
        results.extend(figures.results(quick));
    }
    let report = Report {
        machine: machine(sys.nats_server.clone()),
        mode: if quick { "quick" } else { "full" }.into(),
        events,
        results,
        cpu,
    };
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report)
}
