//! The system under test (`xinfang up` on free ports in a temporary directory) and what the
//! benchmark reads of its processes: peak memory and CPU time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Serialize;

use commands::CaseService;
use domain::UnitCode;

/// How the benchmark gets a system to measure: the binary starts `xinfang up` with a generated
/// config on free ports (its configuration and wiring are the binary's, not this crate's).
pub trait Launch {
    /// A fresh system with the managed server's fsync policy `sync` ("always" or "interval"),
    /// the read models co-hosted in one process or not, and a county principal with `token`.
    fn start(
        &self,
        sync: &str,
        cohost: bool,
        townships: &[&str],
        token: &str,
    ) -> BoxFuture<'_, anyhow::Result<System>>;
}

/// The stores the bench measures directly, beside the command path.
pub struct Stores {
    pub log: eventlog::EventLog,
    pub vault: eventlog::Vault,
    pub signer: integrity::Signer,
}

/// A running system under test.
pub struct System {
    /// The `xinfang up` process; its children are the services. Stopped (SIGTERM) on drop.
    pub up: Child,
    /// Connected to the system's NATS as the county services.
    pub nats: eventlog::Connection,
    pub cases: Arc<CaseService>,
    /// The log, the data keys and the signing key, opened as the services open them: the
    /// chain's and the snapshots' figures measure them directly.
    pub stores: Stores,
    pub townships: Vec<UnitCode>,
    /// The HTTP API's base URL.
    pub base: String,
    /// The generated config, for `xinfang` commands run against this system.
    pub config: PathBuf,
    /// Its data directory.
    pub data: PathBuf,
    /// `nats-server --version` of the managed server.
    pub nats_server: Option<String>,
    /// Whatever must live as long as the system (its temporary directory).
    pub keep: Box<dyn std::any::Any + Send>,
}

impl System {
    /// Each service process of `up`: its name and its `/proc` directory.
    fn services(&self) -> Vec<(String, PathBuf)> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return out;
        };
        for e in entries.flatten() {
            let dir = e.path();
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            // pid (comm) state ppid …
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid != Some(self.up.id()) {
                continue;
            }
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let name = match args.get(1).map(String::as_str) {
                Some("projector") => {
                    format!("projector-{}", args.get(2).cloned().unwrap_or_default())
                }
                Some(s) if !s.starts_with('-') => s.to_owned(),
                _ => "nats-server".to_owned(),
            };
            out.push((name, dir));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Peak resident memory (VmHWM) of each service process, by name.
    pub fn peak_rss(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for (name, dir) in self.services() {
            let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            {
                out.push((name, kb / 1024.0));
            }
        }
        out
    }

    /// Resident memory now of each service process, by name: (anonymous, file-backed) MiB
    /// (`RssAnon`, `RssFile`): the file-backed part is mapped files, the read models' snapshots
    /// among them, which the kernel may drop and read again.
    pub fn rss_split(&self) -> Vec<(String, f64, f64)> {
        let field = |status: &str, name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map(|kb| kb / 1024.0)
        };
        let mut out = Vec::new();
        for (name, dir) in self.services() {
            let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
            if let (Some(anon), Some(file)) =
                (field(&status, "RssAnon:"), field(&status, "RssFile:"))
            {
                out.push((name, anon, file));
            }
        }
        out
    }

    /// CPU seconds (user + system) used so far by each service process and by this one (the
    /// benchmark's clients).
    pub fn cpu(&self) -> BTreeMap<String, f64> {
        let mut out: BTreeMap<String, f64> = self
            .services()
            .into_iter()
            .map(|(name, dir)| (name, cpu_seconds(&dir)))
            .collect();
        out.insert("bench-clients".into(), cpu_seconds(Path::new("/proc/self")));
        out
    }
}

/// utime + stime of the process at `dir` (`/proc/<pid>`), in seconds. The kernel reports them in
/// USER_HZ ticks, 100 a second on Linux.
fn cpu_seconds(dir: &Path) -> f64 {
    let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After "pid (comm)": state is field 3, utime 14 and stime 15 (1-based), so 11 and 12 here.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU microseconds per command of each process over one phase of the run.
#[derive(Debug, Serialize)]
pub struct CpuPhase {
    pub phase: String,
    pub commands: u64,
    pub per_command_us: BTreeMap<String, f64>,
}

pub fn cpu_phase(
    phase: &str,
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    commands: u64,
) -> CpuPhase {
    let per_command_us = after
        .iter()
        .map(|(name, t)| {
            let used = t - before.get(name).copied().unwrap_or(0.0);
            (name.clone(), used * 1e6 / commands.max(1) as f64)
        })
        .collect();
    CpuPhase {
        phase: phase.into(),
        commands,
        per_command_us,
    }
}

impl Drop for System {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.up.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.up.wait();
    }
}
