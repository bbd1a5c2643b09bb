//! Prometheus text metrics. Labels carry actions, outcomes and status codes only, never case
//! content or personal data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS_MS: [f64; 12] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0,
];

#[derive(Default)]
pub struct Metrics {
    commands: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    requests: Mutex<BTreeMap<u16, u64>>,
    latency_buckets: [AtomicU64; 12],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
}

impl Metrics {
    pub fn command(&self, action: &'static str, outcome: &'static str, took: Duration) {
        *self
            .commands
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((action, outcome))
            .or_default() += 1;
        let ms = took.as_secs_f64() * 1000.0;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if ms <= *b {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn request(&self, status: u16) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
    }

    pub fn render(&self, extra: &[(&str, &str, u64)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP xf_commands_total Commands handled, by action and outcome.\n# TYPE xf_commands_total counter\n");
        for ((action, outcome), n) in self
            .commands
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "xf_commands_total{{action=\"{action}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP xf_command_duration_seconds Command latency.\n# TYPE xf_command_duration_seconds histogram\n");
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            let n = self.latency_buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "xf_command_duration_seconds_bucket{{le=\"{}\"}} {n}",
                b / 1000.0
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "xf_command_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "xf_command_duration_seconds_sum {sum}\nxf_command_duration_seconds_count {count}"
        );
        out.push_str("# HELP xf_http_responses_total HTTP responses by status.\n# TYPE xf_http_responses_total counter\n");
        for (status, n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(out, "xf_http_responses_total{{status=\"{status}\"}} {n}");
        }
        for (name, help, value) in extra {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}
