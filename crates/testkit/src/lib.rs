//! Test kit (dev-only): a real `nats-server` per test on a free port with a temporary JetStream
//! store, killed on drop (and clusters of them); waiting on a condition with a timeout; one
//! configuration builder (`TestConfig`); and the system in-process (`system::TestSystem`), built
//! from the binary's own service constructors.
//!
//! It must never mock the event log, and never skip: a missing or too old `nats-server` is a test
//! failure with a message saying how to install one (`scripts/test` does it).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

pub mod config;
pub mod system;

pub use config::TestConfig;

/// The nats-server release the project pins (also in `scripts/test` and `xinfang::natsbin`; a tidy
/// test keeps the three equal).
pub const NATS_SERVER_VERSION: &str = "2.15.1";

/// Where to find `nats-server`: `NATS_SERVER_BIN`, the project's `.tools/`, then `PATH`.
pub fn nats_server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let tools = workspace_root().join(".tools/nats-server/bin/nats-server");
    if tools.exists() {
        return tools;
    }
    PathBuf::from("nats-server")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A free TCP port on loopback (bound, read, released).
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `n` distinct free loopback ports: all are held bound until every one is chosen, so the set
/// has no duplicates (ports chosen one by one can repeat once released).
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free loopback port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("a bound address").port())
        .collect()
}

/// How many times a server that exits before it listens (its port was taken between choosing it
/// and binding it, by another test's process) is started again on fresh ports.
const START_ATTEMPTS: usize = 4;

/// How long a starting server may take to listen; a loaded CI machine runs a hundred tests at
/// once on two cores.
const LISTEN_WITHIN: Duration = Duration::from_secs(30);

/// `start()`, again while it fails because a server exited before listening (each try chooses
/// fresh ports); any other failure, or the last such one, fails the test.
fn on_fresh_ports<T>(mut start: impl FnMut() -> Result<T, StartError>) -> T {
    let mut last = String::new();
    for _ in 0..START_ATTEMPTS {
        match start() {
            Ok(started) => return started,
            Err(StartError::Exited(why)) => last = why,
            Err(other) => panic!("{other}"),
        }
    }
    panic!("nats-server exited before listening {START_ATTEMPTS} times; last: {last}")
}

/// Why a server did not come up.
#[derive(Debug)]
enum StartError {
    /// The process ended before listening: typically a port taken meanwhile. Worth retrying.
    Exited(String),
    /// Anything else (missing binary, still not listening at the deadline). Not retried.
    Other(anyhow::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Exited(why) => write!(f, "{why}"),
            StartError::Other(e) => write!(f, "{e:#}"),
        }
    }
}

/// A running nats-server with JetStream, owned by one test.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub store: tempfile::TempDir,
    extra_args: Vec<String>,
    envs: Vec<(String, String)>,
    /// The configuration file takes its store directory from `$XF_NATS_STORE`.
    store_from_env: bool,
}

impl NatsServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Start with extra command-line arguments (for example `-c FILE`).
    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_inner(extra, &[], false)
    }

    /// Start with extra arguments and environment variables (a configuration file can refer to
    /// them as `$NAME`). The store directory is given to the file as `$XF_NATS_STORE`, as in
    /// deploy/township/nats-leaf.conf, not with `-sd`.
    pub fn start_with_env(extra: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::start_inner(extra, envs, true)
    }

    fn start_inner(extra: &[&str], envs: &[(&str, &str)], store_from_env: bool) -> Self {
        on_fresh_ports(|| Self::try_start(free_port(), extra, envs, store_from_env))
    }

    fn try_start(
        port: u16,
        extra: &[&str],
        envs: &[(&str, &str)],
        store_from_env: bool,
    ) -> Result<Self, StartError> {
        let store = tempfile::tempdir().expect("temp dir for the JetStream store");
        let mut server = NatsServer {
            child: None,
            port,
            store,
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            envs: envs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            store_from_env,
        };
        server.spawn()?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> Result<(), StartError> {
        let bin = nats_server_bin();
        check_version(&bin).map_err(StartError::Other)?;
        let log = self.store.path().join("server.log");
        // A restart appends to the same log: only what this process writes counts.
        let log_from = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let child = Command::new(&bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string()])
            .args(if self.store_from_env {
                vec![]
            } else {
                vec!["-sd".into(), self.store.path().join("js")]
            })
            .env("XF_NATS_STORE", self.store.path().join("js"))
            .arg("-l")
            .arg(&log)
            .args(&self.extra_args)
            .envs(self.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))
            .map_err(StartError::Other)?;
        let child = self.child.insert(child);
        let deadline = Instant::now() + LISTEN_WITHIN;
        // Ready when this process says it listens on the port: a connection alone could be
        // answered by another process that holds the port.
        let ready = format!(
            "Listening for client connections on 127.0.0.1:{}",
            self.port
        );
        while !log_since(&log, log_from).contains(&ready) {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(StartError::Exited(format!(
                    "nats-server on {} exited ({status}) before listening; its log ends:\n{}",
                    self.port,
                    log_tail(&log)
                )));
            }
            if Instant::now() > deadline {
                return Err(StartError::Other(anyhow::anyhow!(
                    "nats-server did not listen on {} within {LISTEN_WITHIN:?}; its log ends:\n{}",
                    self.port,
                    log_tail(&log)
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Kill the server (SIGKILL) and keep its store.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Pause the server (SIGSTOP): it holds its connections but answers nothing, like a node
    /// that stalls; `resume` lets it go on.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .arg(sig)
                .arg(c.id().to_string())
                .status();
        }
    }

    /// Kill and start again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn().unwrap_or_else(|e| panic!("{e}"));
    }

    pub async fn connect(&self) -> async_nats::Client {
        async_nats::connect(self.url())
            .await
            .expect("connect to the test nats-server")
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last lines of a server's log, for a failure message (its temporary directory is removed
/// when the test ends, so a path alone would point at nothing).
fn log_since(log: &Path, from: u64) -> String {
    use std::io::{Read as _, Seek as _};
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(log) {
        if f.seek(std::io::SeekFrom::Start(from)).is_ok() {
            let _ = f.read_to_string(&mut text);
        }
    }
    text
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| format!("(no log: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn check_version(bin: &Path) -> anyhow::Result<()> {
    let out = Command::new(bin)
        .arg("--version")
        .output()
        .with_context(|| {
            format!(
                "nats-server not found ({}). Install the pinned version with `scripts/test` \
             or set NATS_SERVER_BIN; tests never skip without it",
                bin.display()
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.trim().trim_start_matches("nats-server: v");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (2, 12) {
        bail!(
            "{} is nats-server {version}; 2.12 or newer is required",
            bin.display()
        );
    }
    Ok(())
}

/// Wait until `check` returns `Some`, polling, or fail after `timeout`. Never sleep-and-hope.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A JetStream cluster of real nats-servers on loopback, for R3 streams and leader changes.
pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
}

impl NatsCluster {
    pub fn start(size: usize) -> Self {
        NatsCluster {
            nodes: on_fresh_ports(|| Self::try_start(size)),
        }
    }

    /// Every port (client and cluster, all nodes) is chosen in one go so that none repeats; a
    /// node that cannot bind fails the whole attempt (its peers' routes name its cluster port).
    fn try_start(size: usize) -> Result<Vec<NatsServer>, StartError> {
        let ports = free_ports(2 * size);
        let (client_ports, cluster_ports) = ports.split_at(size);
        let routes = cluster_ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut nodes = Vec::with_capacity(size);
        for (i, (client, cluster)) in client_ports.iter().zip(cluster_ports).enumerate() {
            nodes.push(NatsServer::try_start(
                *client,
                &[
                    "-n",
                    &format!("n{i}"),
                    "--cluster_name",
                    "xinfang-test",
                    "--cluster",
                    &format!("nats://127.0.0.1:{cluster}"),
                    "--routes",
                    &routes,
                ],
                &[],
                false,
            )?);
        }
        Ok(nodes)
    }

    /// All client URLs, comma-separated, as async-nats accepts them.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The node whose server name (`n<i>`) is `name`.
    pub fn node_named(&mut self, name: &str) -> Option<&mut NatsServer> {
        let i: usize = name.strip_prefix('n')?.parse().ok()?;
        self.nodes.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_whose_port_is_taken_exits_with_its_log_and_is_retried() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("a port to occupy");
        let port = taken.local_addr().expect("address").port();
        match NatsServer::try_start(port, &[], &[], false) {
            Err(StartError::Exited(why)) => assert!(
                why.contains(&port.to_string()) && why.contains("in use"),
                "the failure names the port and the log's reason: {why}"
            ),
            Err(other) => panic!("expected an early exit, got: {other}"),
            Ok(_) => panic!("a server started on a port that was already bound"),
        }
        // A start chooses its own ports and comes up.
        let server = NatsServer::start();
        assert!(std::net::TcpStream::connect(("127.0.0.1", server.port)).is_ok());
    }

    #[test]
    fn ports_chosen_together_are_distinct() {
        let ports = free_ports(64);
        let distinct: std::collections::BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }
}
