//! Where the CPU of a command goes, against what a raw append costs on the same machine in the
//! same run, and the budget CI holds the command paths to (issue 31).
//!
//! A raw append's CPU (nats-server's and the appending client's, per acknowledged append) moves
//! with the machine as much as a command's does, so a budget kept as a multiple of it holds on a
//! faster or a slower host; a fixed number of microseconds would not.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::system::CpuPhase;
use super::{result, BenchResult};

/// The phases' sums that the budget and the targets speak of.
pub struct CommandCpu {
    /// nats-server's and the appending client's CPU per raw append.
    pub raw_append_us: f64,
    /// Every service's CPU per HTTP command (the bench's clients not included).
    pub http_us: f64,
    pub http_nats_us: f64,
    /// Every service's CPU per inbox command (the bench's clients, which are the township
    /// systems, not included).
    pub inbox_us: f64,
}

fn phase<'a>(cpu: &'a [CpuPhase], name: &str) -> Option<&'a CpuPhase> {
    cpu.iter().find(|p| p.phase == name)
}

fn services(p: &CpuPhase) -> f64 {
    p.per_command_us
        .iter()
        .filter(|(n, _)| n.as_str() != "bench-clients")
        .map(|(_, us)| us)
        .sum()
}

impl CommandCpu {
    pub fn of(cpu: &[CpuPhase]) -> Option<CommandCpu> {
        let raw = phase(cpu, "raw_occ_appends")?;
        let http = phase(cpu, "http")?;
        let inbox = phase(cpu, "inbox")?;
        let of = |p: &CpuPhase, n: &str| p.per_command_us.get(n).copied().unwrap_or(0.0);
        Some(CommandCpu {
            raw_append_us: of(raw, "nats-server") + of(raw, "bench-clients"),
            http_us: services(http),
            http_nats_us: of(http, "nats-server"),
            inbox_us: services(inbox),
        })
    }

    /// The results these figures add to a report, with the targets of issue 31.
    pub fn results(&self, quick: bool) -> Vec<BenchResult> {
        let raw = "cpu_raw_append_us";
        vec![
            result(raw, self.raw_append_us, "µs"),
            result("cpu_http_us_per_command", self.http_us, "µs")
                .against(raw, self.raw_append_us)
                .target("<= 550"),
            result("cpu_http_nats_us_per_command", self.http_nats_us, "µs")
                .against(raw, self.raw_append_us)
                .target(if quick { "<= 120" } else { "<= 100" }),
            result("cpu_inbox_us_per_command", self.inbox_us, "µs")
                .against(raw, self.raw_append_us)
                .target("<= 1100"),
        ]
    }

    /// Whether the command paths stay within `budget`; the reasons where they do not.
    pub fn check(&self, budget: &Budget) -> Result<(), Vec<String>> {
        let mut over = Vec::new();
        for (what, us, limit) in [
            ("an HTTP command", self.http_us, budget.http_per_raw_append),
            (
                "an inbox command",
                self.inbox_us,
                budget.inbox_per_raw_append,
            ),
        ] {
            let ratio = us / self.raw_append_us.max(f64::MIN_POSITIVE);
            if ratio > limit {
                over.push(format!(
                    "{what} took {us:.0} µs of CPU, {ratio:.1} raw appends ({:.1} µs each); \
                     the budget is {limit:.1}",
                    self.raw_append_us
                ));
            }
        }
        if over.is_empty() {
            Ok(())
        } else {
            Err(over)
        }
    }
}

/// CPU per command that CI allows, as multiples of the same run's CPU per raw append
/// (`.ci/bench-budget.json`; docs/benchmarks.md says how it was set).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Budget {
    pub http_per_raw_append: f64,
    pub inbox_per_raw_append: f64,
    /// How the numbers were set (runs, spread, margin).
    #[serde(default)]
    pub basis: String,
}

impl Budget {
    pub fn load(path: &Path) -> anyhow::Result<Budget> {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_slice(&text).with_context(|| format!("reading {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn phase(name: &str, commands: u64, figures: &[(&str, f64)]) -> CpuPhase {
        CpuPhase {
            phase: name.into(),
            commands,
            per_command_us: figures
                .iter()
                .map(|(n, v)| (n.to_string(), *v))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn run(http_api: f64) -> CommandCpu {
        CommandCpu::of(&[
            phase(
                "raw_occ_appends",
                1000,
                &[("nats-server", 12.0), ("bench-clients", 8.0), ("api", 0.5)],
            ),
            phase(
                "http",
                100,
                &[
                    ("api", http_api),
                    ("nats-server", 70.0),
                    ("bench-clients", 30.0),
                ],
            ),
            phase("inbox", 100, &[("ingestor", 300.0), ("nats-server", 500.0)]),
        ])
        .expect("all three phases")
    }

    #[test]
    fn the_budget_counts_the_services_against_a_raw_append_and_not_the_clients() {
        let cpu = run(110.0);
        assert_eq!(cpu.raw_append_us, 20.0);
        assert_eq!(cpu.http_us, 180.0);
        assert_eq!(cpu.inbox_us, 800.0);
        let budget = Budget {
            http_per_raw_append: 10.0,
            inbox_per_raw_append: 40.0,
            basis: String::new(),
        };
        assert_eq!(cpu.check(&budget), Ok(()));
        // 20 µs more in the API: 200 µs, ten raw appends, still within.
        assert_eq!(run(130.0).check(&budget), Ok(()));
        // One more: over, and the message says by how much.
        let over = run(131.0).check(&budget).expect_err("over budget");
        assert_eq!(over.len(), 1);
        assert!(over[0].contains("an HTTP command took 201 µs"), "{over:?}");
    }
}
