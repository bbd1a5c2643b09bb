//! Test kit (dev-only): a real `nats-server` per test on a free port with a temporary JetStream
//! store, killed on drop (and clusters of them); waiting on a condition with a timeout; one
//! configuration builder (`TestConfig`); and the system in-process (`system::TestSystem`), built
//! from the binary's own service constructors.
//!
//! It never mocks the event log, and it never skips: a missing or too old `nats-server` is a test
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
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
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
        let store = tempfile::tempdir().expect("temp dir for the JetStream store");
        let mut server = NatsServer {
            child: None,
            port: free_port(),
            store,
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            envs: envs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            store_from_env,
        };
        server.spawn().unwrap_or_else(|e| panic!("{e:#}"));
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let bin = nats_server_bin();
        check_version(&bin)?;
        let log = self.store.path().join("server.log");
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
            .with_context(|| format!("starting {}", bin.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                bail!(
                    "nats-server did not listen on {} within 10 s; log: {}",
                    self.port,
                    log.display()
                );
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
        self.spawn().unwrap_or_else(|e| panic!("{e:#}"));
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
        let cluster_ports: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let routes = cluster_ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let nodes = cluster_ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                NatsServer::start_with(&[
                    "-n",
                    &format!("n{i}"),
                    "--cluster_name",
                    "xinfang-test",
                    "--cluster",
                    &format!("nats://127.0.0.1:{port}"),
                    "--routes",
                    &routes,
                ])
            })
            .collect();
        NatsCluster { nodes }
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
