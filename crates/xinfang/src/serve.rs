//! The services' wiring: connecting to NATS as configured, the command path, and one `run_*` per
//! service that builds its dependencies from the configuration and runs it until shutdown. `up`,
//! the tests and a deployment all start services through these.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use commands::{CaseService, IdempotencyStore};
use domain::{Principal, PrincipalId, Role, UnitKind};

use crate::config::{Config, NatsCredentials};

/// Idempotency records are kept this long ("also days later").
pub const IDEMPOTENCY_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);

/// Connect to the configured NATS server as the county services' user (see
/// [`crate::natsauth::county_credentials`]).
pub async fn connect_cfg(cfg: &Config, name: &str) -> anyhow::Result<eventlog::Connection> {
    let url = match &cfg.nats_url {
        Some(url) => url.clone(),
        None => managed_url(cfg).context(
            "needs [nats] url (or XF_NATS_URL), or a running `xinfang up` with the same data dir",
        )?,
    };
    let creds = crate::natsauth::county_credentials(cfg);
    connect_as(&url, name, creds.as_ref()).await
}

/// Where `up` notes the address of its managed server, for tools run with the same config.
pub fn managed_url_file(cfg: &Config) -> std::path::PathBuf {
    cfg.data_dir.join("nats.url")
}

fn managed_url(cfg: &Config) -> Option<String> {
    let url = std::fs::read_to_string(managed_url_file(cfg)).ok()?;
    Some(url.trim().to_owned()).filter(|u| u.starts_with("nats://"))
}

/// Connect to NATS without credentials.
pub async fn connect(url: &str, name: &str) -> anyhow::Result<eventlog::Connection> {
    connect_as(url, name, None).await
}

/// Connect to NATS, retrying for a while: the server may still be starting or electing.
pub async fn connect_as(
    url: &str,
    name: &str,
    creds: Option<&NatsCredentials>,
) -> anyhow::Result<eventlog::Connection> {
    let user = creds.map(|c| (c.user.as_str(), c.password.as_str()));
    eventlog::connect(url, name, user)
        .await
        .with_context(|| format!("NATS at {url}"))
}

/// The log as it is, every event read as stored: for the tools that show or verify it
/// themselves (`verify`, `export events`, `case history`).
pub async fn open_log_plain(
    cfg: &Config,
    nats: impl Into<eventlog::Connection>,
) -> anyhow::Result<eventlog::EventLog> {
    let nats: eventlog::Connection = nats.into();
    let log_cfg = eventlog::LogConfig {
        replicas: cfg.replicas,
        ..eventlog::LogConfig::default()
    };
    Ok(eventlog::EventLog::open(&nats, &log_cfg).await?)
}

/// The log as services (and rebuilds, which must judge as they do) read it: every event judged
/// by its seal (`eventlog::admission`), with the log's first sealed sequence from the last
/// checkpoint the county's keys verify.
pub async fn open_log_with(
    cfg: &Config,
    nats: impl Into<eventlog::Connection>,
) -> anyhow::Result<eventlog::EventLog> {
    let nats: eventlog::Connection = nats.into();
    let log = open_log_plain(cfg, nats).await?;
    let checkpoints = eventlog::Checkpoints::open(log.connection()?, cfg.replicas).await?;
    let mark = cfg.signer()?.event_mac_key();
    let admission = eventlog::Admission::open(cfg.key_set()?, &checkpoints).await?;
    let admission = admission.with_mark(mark);
    Ok(log.with_admission(std::sync::Arc::new(admission)))
}

pub async fn case_service(
    cfg: &Config,
    nats: impl Into<eventlog::Connection>,
) -> anyhow::Result<Arc<CaseService>> {
    let nats: eventlog::Connection = nats.into();
    let log = open_log_with(cfg, nats.clone()).await?;
    let js = &nats;
    let idem = IdempotencyStore::open(js, cfg.replicas, IDEMPOTENCY_MAX_AGE).await?;
    let stores = commands::Stores {
        log,
        idem,
        numbers: eventlog::Counters::open(js, cfg.replicas).await?,
        identities: eventlog::Identities::open(js, cfg.replicas).await?,
        attachments: eventlog::Attachments::open(js, cfg.replicas).await?,
        vault: eventlog::Vault::open(js, cfg.replicas, cfg.keyring()?).await?,
        erasures: eventlog::Erasures::open(js, cfg.replicas).await?,
    };
    let cases = CaseService::new(
        stores,
        cfg.policy,
        cfg.unit_kinds(),
        cfg.keys()?,
        cfg.signer()?,
    );
    ops::storage::watch(
        cfg.data_dir.clone(),
        cfg.min_free_bytes,
        cases.storage_low(),
    );
    Ok(Arc::new(cases))
}

/// The command path for a one-off command (`reindex-identities`, `rotate-kek`).
pub async fn cases_of(config: &std::path::Path, name: &str) -> anyhow::Result<Arc<CaseService>> {
    let cfg = Config::load(config)?;
    case_service(&cfg, connect_cfg(&cfg, name).await?).await
}

/// The API's dependencies: the command path, the query client and the tokens.
pub async fn api_state(
    cfg: &Config,
    nats: impl Into<eventlog::Connection>,
) -> anyhow::Result<Arc<api::AppState>> {
    let nats: eventlog::Connection = nats.into();
    let cases = case_service(cfg, nats.clone()).await?;
    let queries = queries::QueryClient::new(nats.clone());
    let mut state = api::AppState::new(cases, queries, cfg.tokens());
    state.unit_names = cfg
        .units
        .iter()
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    state.trusted_proxies = cfg.trusted_proxies.clone();
    state.attachment_limit = cfg.attachment_limit;
    state.printer = Arc::new(documents::Printer::new(cfg.document_font.clone()));
    state.scorecards = cfg.scorecards.clone();
    state.acting = township_principals(cfg).into_values().collect();
    let public_keys = cfg.integrity.public_keys(&cfg.signer()?);
    state.integrity = Some(api::integrity::Integrity {
        keys: integrity::KeySet::new(public_keys.clone())?,
        public_keys,
        checkpoints: eventlog::Checkpoints::open(&nats, cfg.replicas).await?,
    });
    Ok(Arc::new(state))
}

/// What `xinfang api` serves: the HTTP API and beside it the web console (crates/console), whose
/// open sessions are kept in NATS.
pub async fn http_app(
    cfg: &Config,
    nats: &eventlog::Connection,
    state: Arc<api::AppState>,
) -> anyhow::Result<api::Router> {
    let key = cfg
        .secrets
        .key32(&cfg.data_dir, &ops::secrets::CONSOLE_KEY)?;
    let ttl = Duration::from_secs(console::session::TTL_SECONDS.unsigned_abs());
    let sessions = eventlog::Sessions::open(nats, cfg.replicas, ttl);
    let sessions = Arc::new(KvSessions(sessions.await?));
    let tz = cfg.policy.timezone;
    let console = console::Console::new(key, tz, cfg.trusted_proxies.clone(), sessions);
    Ok(console::mount(api::router(state), console))
}

struct KvSessions(eventlog::Sessions);

type Answer<'a, T> = console::session::BoxFuture<'a, Result<T, String>>;

impl console::session::SessionStore for KvSessions {
    fn begin<'a>(&'a self, id: &'a str, expires: i64) -> Answer<'a, ()> {
        Box::pin(async move { self.0.begin(id, expires).await.map_err(|e| e.to_string()) })
    }
    fn is_open<'a>(&'a self, id: &'a str, now: i64) -> Answer<'a, bool> {
        Box::pin(async move { self.0.is_open(id, now).await.map_err(|e| e.to_string()) })
    }
    fn end<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move { self.0.end(id).await.map_err(|e| e.to_string()) })
    }
}

pub async fn run_api(cfg: Config) -> anyhow::Result<()> {
    for w in &cfg.warnings {
        tracing::warn!(config = %cfg.path.display(), "{w}");
    }
    let client = connect_cfg(&cfg, "xinfang-api").await?;
    let state = api_state(&cfg, client.clone()).await?;
    let listener = tokio::net::TcpListener::bind(cfg.http_addr)
        .await
        .with_context(|| format!("binding http.addr {}", cfg.http_addr))?;
    tracing::info!(addr = %cfg.http_addr, "api serving (the console under /console/)");
    let app = http_app(&cfg, &client, state).await?;
    let limits = api::server::Limits {
        exempt: cfg.trusted_proxies.clone(),
        ..Default::default()
    };
    api::server::serve(listener, app, limits, ops::signals::shutdown_signal()).await?;
    tracing::info!("api stopped");
    Ok(())
}

/// The principal each township system acts as: its `[[principal]]` of role `system`, or a
/// synthetic `system-<township>` when the config names none.
pub fn township_principals(cfg: &Config) -> std::collections::BTreeMap<String, Principal> {
    let mut out = std::collections::BTreeMap::new();
    for code in cfg.units_of(UnitKind::Township) {
        let configured = cfg
            .principals
            .iter()
            .find(|p| p.principal.role == Role::System && p.principal.unit.as_ref() == Some(&code))
            .map(|p| p.principal.clone());
        let principal = configured.unwrap_or_else(|| Principal {
            id: PrincipalId(format!("system-{code}")),
            role: Role::System,
            unit: Some(code.clone()),
        });
        out.insert(code.to_string(), principal);
    }
    out
}

/// The township ingestor on `client` until `shutdown`.
pub async fn run_ingestor_with(
    cfg: &Config,
    nats: impl Into<eventlog::Connection>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let nats: eventlog::Connection = nats.into();
    let cases = case_service(cfg, nats.clone()).await?;
    let signer = cfg.signer()?;
    let notary = maintenance::notary::Notary {
        log: open_log_with(cfg, nats.clone()).await?,
        checkpoints: eventlog::Checkpoints::open(&nats, cfg.replicas).await?,
        keys: cfg.key_set()?,
        signer,
        every: cfg.integrity.checkpoint_events,
        interval: cfg.integrity.checkpoint_interval,
    };
    // The notary signs, so it runs with the command path, beside the ingestor.
    let notary = tokio::spawn(notary.run(std::future::pending()));
    let deps = inbox::Deps {
        cases,
        nats,
        replicas: cfg.replicas,
        townships: cfg
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Township)
            .map(|u| eventlog::inbox::InboxTownship {
                unit: u.code.clone(),
                leaf_domain: u.jetstream_domain.clone(),
            })
            .collect(),
        with_consumers: cfg.nats_townships().map(|(u, _)| u.clone()).collect(),
        principals: township_principals(cfg),
    };
    let result = inbox::run(deps, shutdown).await;
    notary.abort();
    Ok(result?)
}

pub async fn run_ingestor(cfg: Config) -> anyhow::Result<()> {
    let client = connect_cfg(&cfg, "xinfang-ingestor").await?;
    run_ingestor_with(&cfg, client, ops::signals::shutdown_signal()).await
}
