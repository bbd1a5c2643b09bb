//! `xinfang up`: the whole system on one machine. Starts (or uses) a NATS server, starts each
//! service as its own process, prints `nats …` and `ready …`, restarts a child that dies, and
//! stops everything on SIGTERM or Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::config::Config;

use ops::supervise::{restart_if_dead, JetStreamWatchdog, Supervised};

pub async fn run_up(
    mut cfg: Config,
    config_path: &Path,
    demo: bool,
    log_format: crate::telemetry::LogFormat,
) -> anyhow::Result<()> {
    // Listening for SIGTERM from the start: a supervisor may stop us while we start or right
    // after `ready`, and the default action would leave the services to find out by themselves.
    let shutdown = ops::signals::shutdown_signal();
    let data = &cfg.data_dir;
    let logs = data.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let exe = std::env::current_exe().context("locating the xinfang binary")?;
    let config_arg = config_path.to_string_lossy().into_owned();
    let configured: Vec<_> = cfg
        .secrets
        .values
        .iter()
        .map(|(s, v)| (*s, v.as_deref()))
        .collect();
    for file in ops::secrets::generate_missing(&configured, data)? {
        tracing::warn!(file = %file.display(), "generated a secret at first start; keep it with the data (docs/operations.md, Secrets)");
    }
    cfg.keys()?;

    let mut nats = None;
    let url = match &cfg.nats_url {
        Some(url) => url.clone(),
        None => {
            let bin = ops::natsbin::find_or_install(data)?;
            let listen = managed_listen(&cfg)?;
            let (host, port) = listen
                .rsplit_once(':')
                .context("nats.listen must be host:port")?;
            let pidfile = data.join("nats-server.pid");
            ops::supervise::stop_leftover(&pidfile, "nats-server").await;
            if let Err(e) = std::net::TcpListener::bind(&listen) {
                bail!(
                    "the managed nats-server's address {listen} is taken ({e}); it is kept in {} \
                     (or set [nats] listen) so that townships keep one URL",
                    listen_file(data).display()
                );
            }
            // Township users get their permissions; the county services then need a user too.
            let county = if crate::natsauth::needs_auth(&cfg) {
                Some(crate::natsauth::county_credentials_or_generate(&cfg)?)
            } else {
                None
            };
            let conf = crate::natsauth::managed_server_config(
                &cfg,
                &crate::natsauth::ManagedServer {
                    listen: &format!("{host}:{port}"),
                    store_dir: &data.join("nats"),
                    pidfile: &pidfile,
                    max_file_store: ops::storage::max_file_store(
                        &data.join("nats"),
                        cfg.min_free_bytes,
                    )
                    .context("reading the free space of the data dir")?,
                },
                county.as_ref(),
            )?;
            let conf_path = data.join("nats-server.conf");
            ops::secrets::replace_file(&conf_path, &conf)?;
            let mut server = Supervised::new(
                "nats-server",
                bin,
                vec!["-c".into(), conf_path.to_string_lossy().into_owned()],
                vec![],
                logs.join("nats-server.log"),
            );
            server.spawn()?;
            ops::ports::wait_for_tcp(&listen, Duration::from_secs(20)).await?;
            nats = Some(server);
            let url = format!("nats://{listen}");
            std::fs::write(crate::serve::managed_url_file(&cfg), &url)
                .context("noting the managed server's address")?;
            url
        }
    };
    cfg.nats_url = Some(url.clone());
    // The contract of `up`: these two lines on stdout (everything else is logged to stderr).
    #[allow(clippy::print_stdout)]
    {
        println!("nats {url}");
    }

    let env = vec![
        ("XF_NATS_URL".to_string(), url.clone()),
        (
            ops::signals::PARENT_PID.to_string(),
            std::process::id().to_string(),
        ),
        (
            crate::telemetry::LOG_FORMAT_ENV.to_string(),
            log_format.as_str().to_string(),
        ),
    ];
    let service = |name: &str, args: &[&str]| {
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.extend(["--config".into(), config_arg.clone()]);
        Supervised::new(
            name,
            exe.clone(),
            args,
            env.clone(),
            logs.join(format!("{name}.log")),
        )
    };
    let mut services = vec![
        service("api", &["api"]),
        service("feed", &["feed"]),
        service("ingestor", &["ingestor"]),
    ];
    if cfg.cohost_projectors {
        let names = projections::NAMES.join(",");
        services.push(service("projectors", &["projector", &names]));
    } else {
        for model in queries::protocol::Model::ALL {
            let name = model.name();
            services.push(service(&format!("projector-{name}"), &["projector", name]));
        }
    }
    for s in &mut services {
        s.spawn()?;
    }
    let health = format!("http://{}/healthz", cfg.http_addr);
    let serving = async {
        wait_for_http(&health, Duration::from_secs(60)).await?;
        wait_for_projectors(&cfg, Duration::from_secs(60)).await
    };
    if let Err(e) = serving.await {
        for s in &mut services {
            s.stop(Duration::from_secs(5)).await;
        }
        if let Some(n) = nats.as_mut() {
            n.stop(Duration::from_secs(5)).await;
        }
        bail!("{e:#}; see the logs in {}", logs.display());
    }
    if demo {
        let client = crate::serve::connect_cfg(&cfg, "xinfang-demo").await?;
        let cases = crate::serve::case_service(&cfg, client).await?;
        let n = loadgen::demo::load(
            &cases,
            &cfg.units_of(domain::UnitKind::Township),
            &cfg.units_of(domain::UnitKind::Department),
        )
        .await?;
        tracing::info!(cases = n, "demo data loaded");
    }
    #[allow(clippy::print_stdout)]
    {
        println!("ready http://{}", cfg.http_addr);
    }

    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut watchdog = match &nats {
        Some(_) => Some(
            JetStreamWatchdog::new(crate::serve::connect_cfg(&cfg, "xinfang-up-watchdog").await?)?
                .following_store_limit(
                    cfg.data_dir.join("nats-server.conf"),
                    cfg.data_dir.join("nats"),
                ),
        ),
        None => None,
    };
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tick.tick() => {
                for s in nats.iter_mut().chain(services.iter_mut()) {
                    restart_if_dead(s).await;
                }
                if let (Some(w), Some(server)) = (watchdog.as_mut(), nats.as_mut()) {
                    w.check(server, &cfg.data_dir, cfg.min_free_bytes).await;
                }
            }
        }
    }
    tracing::info!("stopping");
    for s in services.iter_mut().rev() {
        s.stop(Duration::from_secs(10)).await;
    }
    if let Some(n) = nats.as_mut() {
        n.stop(Duration::from_secs(10)).await;
    }
    Ok(())
}

/// Start `bin up --config config extra…` as a child process and read its stdout until the
/// `ready` line; returns the child and the lines (`nats …` first). Used by `xinfang bench` and the
/// process tests. Fails if no `ready` line comes within `limit` (the child is then killed).
pub fn spawn_up(
    bin: &Path,
    config: &Path,
    extra: &[&str],
    limit: Duration,
) -> anyhow::Result<(std::process::Child, Vec<String>)> {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(bin)
        .arg("up")
        .arg("--config")
        .arg(config)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {} up", bin.display()))?;
    let stdout = child.stdout.take().context("up's stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut lines: Vec<String> = Vec::new();
    let deadline = Instant::now() + limit;
    while !lines.last().is_some_and(|l| l.starts_with("ready ")) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("xinfang up printed no ready line within {limit:?}; got {lines:?}");
            }
        }
    }
    Ok((child, lines))
}

fn listen_file(data: &Path) -> PathBuf {
    data.join("nats.listen")
}

/// The managed server's address: `[nats] listen`, else the free port chosen at the first start,
/// kept in the data dir, so the URL given to townships survives restarts.
fn managed_listen(cfg: &Config) -> anyhow::Result<String> {
    if let Some(l) = &cfg.nats_listen {
        return Ok(l.clone());
    }
    let path = listen_file(&cfg.data_dir);
    if let Ok(kept) = std::fs::read_to_string(&path) {
        if !kept.trim().is_empty() {
            return Ok(kept.trim().to_owned());
        }
    }
    let listen = format!("127.0.0.1:{}", ops::ports::free_port()?);
    std::fs::write(&path, &listen).with_context(|| format!("writing {}", path.display()))?;
    Ok(listen)
}

/// Every projector answers a status query (it has opened its model and serves queries).
async fn wait_for_projectors(cfg: &Config, limit: Duration) -> anyhow::Result<()> {
    let client = crate::serve::connect_cfg(cfg, "xinfang-up").await?;
    let deadline = Instant::now() + limit;
    let queries = queries::QueryClient::new(client);
    for model in queries::protocol::Model::ALL {
        let name = model.name();
        loop {
            let asked = queries
                .status(
                    model,
                    None,
                    chrono::Utc::now().fixed_offset(),
                    Duration::from_secs(1),
                )
                .await;
            if asked.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!("projector {name} did not answer within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

async fn wait_for_http(url: &str, limit: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(r) = client.get(url).timeout(Duration::from_secs(2)).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("{url} did not answer 200 within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
