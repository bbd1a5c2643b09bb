//! Supervision: child processes with whole-line logs, restarts of a child that dies,
//! and the watchdog that restarts a managed nats-server that cannot write its store and keeps
//! its store limit in step with the disk.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// A supervised child process.
pub struct Supervised {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    log: Arc<LogFile>,
    child: Option<Child>,
    restarts: u32,
}

/// A child's log file. `up` reads the child's output line by line and appends whole lines, so a
/// full disk never leaves half a line (nor a child that crashes on a failed write to stderr);
/// lines that cannot be written are counted and the count is written once the file takes
/// writes again.
struct LogFile {
    path: PathBuf,
    dropped: AtomicU64,
    /// Set when a line says the child could not write its store (nats-server after ENOSPC).
    store_failed: AtomicBool,
}

impl LogFile {
    fn new(path: PathBuf) -> Arc<LogFile> {
        Arc::new(LogFile {
            path,
            dropped: AtomicU64::new(0),
            store_failed: AtomicBool::new(false),
        })
    }

    fn append(&self, line: &str) {
        use std::io::Write as _;
        let lower = line.to_ascii_lowercase();
        if lower.contains("no space left on device") || lower.contains("critical write error") {
            self.store_failed.store(true, Ordering::Relaxed);
        }
        let mut text = String::new();
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            text.push_str(&format!(
                "[xinfang up] {dropped} log lines could not be written (disk full?)\n"
            ));
        }
        text.push_str(line);
        text.push('\n');
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        match written {
            Ok(()) => self.dropped.fetch_sub(dropped, Ordering::Relaxed),
            Err(_) => self.dropped.fetch_add(1, Ordering::Relaxed),
        };
    }

    fn follow(self: &Arc<Self>, out: impl tokio::io::AsyncRead + Unpin + Send + 'static) {
        use tokio::io::AsyncBufReadExt as _;
        let log = self.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                log.append(&line);
            }
        });
    }
}

impl Supervised {
    pub fn new(
        name: &str,
        program: PathBuf,
        args: Vec<String>,
        envs: Vec<(String, String)>,
        log: PathBuf,
    ) -> Self {
        Supervised {
            name: name.into(),
            program,
            args,
            envs,
            log: LogFile::new(log),
            child: None,
            restarts: 0,
        }
    }

    pub fn spawn(&mut self) -> anyhow::Result<()> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} ({})", self.name, self.program.display()))?;
        if let Some(out) = child.stdout.take() {
            self.log.follow(out);
        }
        if let Some(err) = child.stderr.take() {
            self.log.follow(err);
        }
        tracing::info!(service = %self.name, pid = child.id(), log = %self.log.path.display(), "started");
        self.child = Some(child);
        Ok(())
    }

    /// Send `signal` to the running child, if any.
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.child.as_ref().and_then(|c| c.id()) {
            let _ = kill(Pid::from_raw(pid as i32), signal);
        }
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        }
        match tokio::time::timeout(grace, child.wait()).await {
            Ok(_) => tracing::info!(service = %self.name, "stopped"),
            Err(_) => {
                tracing::warn!(service = %self.name, "did not stop in time, killing");
                let _ = child.kill().await;
            }
        }
    }
}

/// On ENOSPC nats-server disables JetStream, or keeps failing the writes of the stream that met
/// it, and does not recover by itself when space returns. `up` watches the server's log for a
/// failed write and asks for its JetStream account every few seconds; after a failed write or
/// three refusals in a row, once free space is above the minimum again, it restarts the server
/// (same address and store, so every client reconnects by itself).
pub struct JetStreamWatchdog {
    js: async_nats::jetstream::Context,
    refusals: u32,
    last: Instant,
    /// The server's configuration file and store: its `max_file_store` follows the disk.
    limit: Option<(PathBuf, PathBuf)>,
}

impl JetStreamWatchdog {
    /// Watch the server `client` is connected to.
    pub fn new(client: impl Into<async_nats::Client>) -> anyhow::Result<Self> {
        Ok(JetStreamWatchdog {
            js: async_nats::jetstream::new(client.into()),
            refusals: 0,
            last: Instant::now(),
            limit: None,
        })
    }

    /// Keep the `max_file_store` of the server's configuration file `conf` in step with the
    /// disk under `store_dir` (issue 30, finding 4: the limit computed at start stayed when the
    /// disk grew, and every write was refused, "insufficient resources", until a restart). When
    /// the limit it would get now differs by more than a sixteenth, the file is rewritten and
    /// the server reloads it (SIGHUP: the limit is reloadable), without a restart.
    pub fn following_store_limit(mut self, conf: PathBuf, store_dir: PathBuf) -> Self {
        self.limit = Some((conf, store_dir));
        self
    }

    fn follow_store_limit(&self, server: &Supervised, min_free_bytes: u64) {
        const KEY: &str = "max_file_store: ";
        let Some((conf, store_dir)) = &self.limit else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(conf) else {
            return;
        };
        let Some(old) = text
            .split_once(KEY)
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
        else {
            return;
        };
        let Ok(new) = crate::storage::max_file_store(store_dir, min_free_bytes) else {
            return;
        };
        if new.abs_diff(old) <= old / 16 {
            return;
        }
        let text = text.replacen(&format!("{KEY}{old}"), &format!("{KEY}{new}"), 1);
        if let Err(e) = std::fs::write(conf, text) {
            tracing::warn!(error = %e, "cannot rewrite the managed nats-server's configuration");
            return;
        }
        tracing::info!(
            old,
            new,
            "the disk changed: the managed nats-server's store limit follows it (reload)"
        );
        server.signal(Signal::SIGHUP);
    }

    /// Check once (at most every two seconds); restart `server` when its store failed and free
    /// space under `data_dir` is at least `min_free_bytes` again.
    pub async fn check(&mut self, server: &mut Supervised, data_dir: &Path, min_free_bytes: u64) {
        if self.last.elapsed() < Duration::from_secs(2) {
            return;
        }
        self.last = Instant::now();
        match tokio::time::timeout(Duration::from_secs(2), self.js.query_account()).await {
            Ok(Ok(_)) => self.refusals = 0,
            // A slow answer is load, not a disabled JetStream.
            Err(_) => {}
            Ok(Err(e)) => {
                self.refusals += 1;
                tracing::warn!(error = %e, refusals = self.refusals, "the managed nats-server refuses JetStream requests");
            }
        }
        self.follow_store_limit(server, min_free_bytes);
        let space = crate::storage::available(data_dir).unwrap_or(0) >= min_free_bytes;
        // A write that failed for space leaves the stream failing writes until a restart, even
        // when JetStream itself still answers.
        let failed_write = server.log.store_failed.load(Ordering::Relaxed);
        if (self.refusals >= 3 || failed_write) && space {
            server.log.store_failed.store(false, Ordering::Relaxed);
            tracing::error!(failed_write, refusals = self.refusals, "the managed nats-server could not write its store (a full disk?); restarting it now that space is back");
            server.stop(Duration::from_secs(10)).await;
            if let Err(e) = server.spawn() {
                tracing::error!(error = %format!("{e:#}"), "restarting nats-server failed");
            }
            self.refusals = 0;
        }
    }
}

pub async fn restart_if_dead(s: &mut Supervised) {
    let Some(child) = s.child.as_mut() else {
        return;
    };
    if let Ok(Some(status)) = child.try_wait() {
        s.restarts += 1;
        // Back off a little more on each crash so a broken service does not spin.
        let delay = Duration::from_millis(200 * u64::from(s.restarts.min(25)));
        tracing::error!(service = %s.name, %status, restarts = s.restarts, "exited; restarting");
        tokio::time::sleep(delay).await;
        if let Err(e) = s.spawn() {
            tracing::error!(service = %s.name, error = %format!("{e:#}"), "restart failed");
        }
    }
}

/// A process left running by an `up` that was killed (SIGKILL), named by its pid file: a managed
/// server that would share its store with the new one. Stopped (SIGTERM, then SIGKILL after
/// 10 s) only if the process is still a `comm` (its command name), so a reused pid is left alone.
pub async fn stop_leftover(pidfile: &Path, comm: &str) {
    let Some(pid) = std::fs::read_to_string(pidfile)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    else {
        return;
    };
    let running = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if running.trim() != comm {
        return;
    }
    tracing::warn!(
        pid,
        comm,
        "stopping a process left over from an earlier run"
    );
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
}
