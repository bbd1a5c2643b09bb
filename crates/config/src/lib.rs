//! The configuration file of Xinfang, typed and checked (docs/contract.md, "Configuration"): units,
//! principals and their tokens, the policy and the scorecard rules, NATS, HTTP, storage, the
//! snapshots' spacing and where each secret comes from. A bad file is refused at start with a
//! message naming the file, the key and the problem. `XF_NATS_URL`, `XF_HTTP_ADDR` and
//! `XF_DATA_DIR` override the file (used by `up` to point its children at the managed server).
//!
//! It reads the file and the environment, and the secrets through `ops::secrets`. It must never
//! connect to anything or start a service (that is the `xinfang` composition), and never decide
//! a rule of the domain: what a policy or a principal means is `domain`'s and `api`'s.

mod file;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};

use domain::{Policy, Principal, UnitCode, UnitKind};

use file::File;

pub use domain::ids::Unit;

/// A NATS user name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsCredentials {
    pub user: String,
    pub password: String,
}

/// `[notify]`: where notices to petitioners go (docs/contract.md, "Notices").
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The SMS gateway's public key every notice is sealed to.
    pub public_key: cipher::GatewayKey,
    /// The gateway's NATS user, the only one that may read the notices.
    pub gateway: Option<NatsCredentials>,
}

#[derive(Debug, Clone)]
pub struct PrincipalConfig {
    pub principal: Principal,
    pub token_digest: [u8; 32],
    /// NATS credentials of a `system` principal (a township system's user).
    pub nats: Option<NatsCredentials>,
}

/// Default of `[nats] sync` for the managed server (docs/operations.md, "Durability").
pub const DEFAULT_SYNC_ALWAYS: bool = true;

/// Default of `[projectors] cohost` (docs/benchmarks.md, "Co-hosted projectors").
pub const DEFAULT_COHOST_PROJECTORS: bool = true;
/// `[limits] attachment_mb` when not set.
pub const DEFAULT_ATTACHMENT_MB: u64 = 50;

/// Default of `[data] min_free_mb`.
pub const DEFAULT_MIN_FREE_MB: u64 = 512;

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub nats_url: Option<String>,
    pub nats_listen: Option<String>,
    pub replicas: usize,
    /// The county services' NATS user, if the server requires one.
    pub nats_credentials: Option<NatsCredentials>,
    pub nats_leafnodes: Option<String>,
    /// The managed server fsyncs every write before acknowledging it (docs/operations.md,
    /// "Durability").
    pub nats_sync_always: bool,
    pub http_addr: SocketAddr,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The largest attachment accepted, in bytes (`[limits] attachment_mb`, default 50).
    pub attachment_limit: usize,
    /// `[documents] font` and `font_index`: the font documents are printed in (none: the known
    /// system paths).
    pub document_font: Option<(PathBuf, u32)>,
    /// `[notify]`: notices to petitioners (none: no notices are sent).
    pub notify: Option<NotifyConfig>,
    pub data_dir: PathBuf,
    /// Below this much free space under the data dir, writes are refused (507) and projectors
    /// pause, so the disk never fills (docs/operations.md, "A full disk").
    pub min_free_bytes: u64,
    /// `up` runs the read models in one process (docs/benchmarks.md, "Co-hosted projectors").
    pub cohost_projectors: bool,
    /// `[projectors] snapshot_events` (default 10,000; docs/operations.md, "As of a past time").
    pub snapshot_events: u64,
    /// `[projectors] snapshot_layers` (default 25, at least 2): every this many snapshots of one
    /// size, a level stacking them (`projections::snapshots`).
    pub snapshot_layers: u64,
    pub policy: Policy,
    pub units: Vec<Unit>,
    pub principals: Vec<PrincipalConfig>,
    pub scorecards: Vec<queries::scorecard::Rules>, // 考核 rules by version; none: the default
    /// `[secrets]` as configured (environment over file).
    pub secrets: ops::secrets::Configured,
    pub integrity: integrity::config::Settings,
    /// What is allowed but weak (short tokens on loopback), for `check-config` and the log.
    pub warnings: Vec<String>,
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("config {}: cannot read", path.display()))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> anyhow::Result<Config> {
        let file: File = toml::from_str(text)
            .map_err(|e| anyhow!("config {}: {}", path.display(), e.to_string().trim()))?;
        let err = |key: &str, problem: String| {
            anyhow!("config {}: key `{key}`: {problem}", path.display())
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());

        let http = env("XF_HTTP_ADDR").unwrap_or(file.http.addr);
        let http_addr: SocketAddr = http.parse().map_err(|e| {
            err(
                "http.addr",
                format!("{http:?} is not a host:port address ({e})"),
            )
        })?;
        let trusted_proxies = file
            .http
            .trusted_proxies
            .iter()
            .map(|a| {
                a.parse().map_err(|_| {
                    err(
                        "http.trusted_proxies",
                        format!("{a:?} is not an IP address"),
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let nats_url = env("XF_NATS_URL").or(file.nats.url);
        if let Some(url) = &nats_url {
            if !url.starts_with("nats://") && !url.starts_with("tls://") {
                return Err(err(
                    "nats.url",
                    format!("{url:?} must start with nats:// or tls://"),
                ));
            }
        }
        for (key, addr) in [
            ("nats.listen", &file.nats.listen),
            ("nats.leafnodes", &file.nats.leafnodes),
        ] {
            if let Some(a) = addr {
                let bad = |e| err(key, format!("{a:?} is not a host:port address ({e})"));
                a.parse::<SocketAddr>().map_err(bad)?;
            }
        }
        let nats_credentials = match (
            env("XF_NATS_USER").or(file.nats.user),
            env("XF_NATS_PASSWORD").or(file.nats.password),
        ) {
            (Some(user), Some(password)) => {
                if !api::auth::valid_nats_user(&user) {
                    let rule = api::auth::NATS_USER_RULE;
                    return Err(err("nats.user", format!("{user:?}: {rule}")));
                }
                Some(NatsCredentials { user, password })
            }
            (None, None) => None,
            _ => {
                return Err(err(
                    "nats.user",
                    "nats.user and nats.password go together (XF_NATS_USER/XF_NATS_PASSWORD \
                     override them)"
                        .into(),
                ))
            }
        };
        let notify = notify_config(file.notify).map_err(|(k, p)| err(k, p))?;
        if let (Some(gateway), Some(county)) = (
            notify.as_ref().and_then(|n| n.gateway.as_ref()),
            nats_credentials.as_ref(),
        ) {
            if gateway.user == county.user {
                return Err(err(
                    "notify.nats_user",
                    "must differ from nats.user (the gateway reads what the services may not)"
                        .into(),
                ));
            }
        }
        let replicas = file.nats.replicas.unwrap_or(1);
        if !matches!(replicas, 1 | 3 | 5) {
            return Err(err(
                "nats.replicas",
                format!("{replicas} must be 1, 3 or 5"),
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let data_dir = env("XF_DATA_DIR")
            .map(PathBuf::from)
            .or(file
                .data
                .dir
                .map(|d| if d.is_relative() { base.join(d) } else { d }))
            .unwrap_or_else(|| base.join("data"));
        let nats_sync_always = match file.nats.sync.as_deref() {
            None => DEFAULT_SYNC_ALWAYS,
            Some("always") => true,
            Some("interval") => false,
            Some(other) => {
                return Err(err(
                    "nats.sync",
                    format!("{other:?} is neither \"always\" nor \"interval\""),
                ))
            }
        };
        let min_free_bytes = file.data.min_free_mb.unwrap_or(DEFAULT_MIN_FREE_MB) * 1024 * 1024;

        let policy = file
            .policy
            .into_policy()
            .map_err(|(key, problem)| err(&key, problem))?;

        let units = file.unit;
        Unit::check_all(&units).map_err(|(key, problem)| err(&key, problem))?;

        let mut principals = Vec::new();
        let mut ids = std::collections::BTreeSet::new();
        let mut digests = std::collections::BTreeSet::new();
        let mut nats_users = std::collections::BTreeSet::new();
        let mut short_tokens = Vec::new();
        for (i, e) in file.principal.into_iter().enumerate() {
            let key = |k: &str| format!("principal[{i}].{k}");
            if e.token
                .as_ref()
                .is_some_and(|t| t.len() < api::auth::STRONG_TOKEN)
            {
                short_tokens.push(key("token"));
            }
            let (principal, token_digest) = e
                .check(i, &units, &mut ids, &mut digests)
                .map_err(|(k, p)| err(&k, p))?;
            if let Some(user) = &e.nats_user {
                if !nats_users.insert(user.clone())
                    || nats_credentials.as_ref().is_some_and(|c| &c.user == user)
                {
                    return Err(err(&key("nats_user"), format!("{user:?} is used twice")));
                }
            }
            principals.push(PrincipalConfig {
                principal,
                token_digest,
                nats: e
                    .nats_user
                    .zip(e.nats_password)
                    .map(|(user, password)| NatsCredentials { user, password }),
            });
        }
        let short = format!(
            "shorter than {} characters, which can be guessed",
            api::auth::STRONG_TOKEN
        );
        if let Some(k) = short_tokens
            .first()
            .filter(|_| !http_addr.ip().is_loopback())
        {
            return Err(err(
                k,
                format!("{short}; refused while http.addr listens beyond loopback"),
            ));
        }
        let warnings = short_tokens
            .iter()
            .map(|k| format!("{k}: {short}"))
            .collect();
        let attachment_mb = file.limits.attachment_mb.unwrap_or(DEFAULT_ATTACHMENT_MB);
        if !(1..=1024).contains(&attachment_mb) {
            return Err(err(
                "limits.attachment_mb",
                format!("{attachment_mb} is not between 1 and 1024"),
            ));
        }
        queries::scorecard::Rules::check(&file.scorecard)
            .map_err(|(n, e)| err(&format!("scorecard[{n}]"), e))?;
        Ok(Config {
            path: path.to_owned(),
            scorecards: file.scorecard,
            nats_url,
            trusted_proxies,
            attachment_limit: usize::try_from(attachment_mb << 20).unwrap_or(usize::MAX),
            document_font: file
                .documents
                .font
                .map(|f| (f, file.documents.font_index.unwrap_or(0))),
            notify,
            nats_listen: file.nats.listen,
            replicas,
            nats_credentials,
            nats_leafnodes: file.nats.leafnodes,
            nats_sync_always,
            http_addr,
            data_dir,
            min_free_bytes,
            cohost_projectors: file.projectors.cohost.unwrap_or(DEFAULT_COHOST_PROJECTORS),
            snapshot_events: file.projectors.snapshot_events.unwrap_or(10_000).max(1),
            snapshot_layers: file.projectors.snapshot_layers.unwrap_or(25).max(2),
            policy,
            units,
            principals,
            secrets: file.secrets.configured(),
            integrity: file.integrity.parse().map_err(|(k, p)| err(&k, p))?,
            warnings,
        })
    }

    /// The command path's signing key (docs/operations.md, "Signing keys").
    /// Every key the county's events may be signed with (the current one and the retired).
    pub fn key_set(&self) -> anyhow::Result<integrity::KeySet> {
        Ok(integrity::KeySet::new(
            self.integrity.public_keys(&self.signer()?),
        )?)
    }

    pub fn signer(&self) -> anyhow::Result<integrity::Signer> {
        let seed = self
            .secrets
            .resolve(&self.data_dir, &ops::secrets::SIGNING_KEY)?;
        integrity::Signer::from_seed_hex(&seed)
            .map_err(|e| anyhow!("config {}: secrets.signing_key: {e}", self.path.display()))
    }

    /// The county's keys: configured, or from the data dir (where `up` generates them).
    pub fn keys(&self) -> anyhow::Result<domain::identity::Keys> {
        let get = |s| self.secrets.resolve(&self.data_dir, s);
        domain::identity::Keys::new(
            &get(&ops::secrets::IDENTITY_KEY)?,
            &get(&ops::secrets::QUERY_CODE_KEY)?,
        )
        .map_err(|e| anyhow!("config {}: {e}", self.path.display()))
    }

    /// The key-encryption keys (docs/operations.md, "Personal data keys").
    pub fn keyring(&self) -> anyhow::Result<cipher::Keyring> {
        let (current, previous) = self.secrets.keks(&self.data_dir)?;
        let kek = |what: &str, v: &str| {
            let e = |e| anyhow!("config {}: secrets.{what}: {e}", self.path.display());
            cipher::Kek::from_hex(v).map_err(e)
        };
        let previous = previous.iter().map(|v| kek("previous_keks", v));
        Ok(cipher::Keyring::new(
            kek("kek", &current)?,
            previous.collect::<anyhow::Result<_>>()?,
        ))
    }

    /// The township system principals that have NATS credentials, with their unit.
    pub fn nats_townships(&self) -> impl Iterator<Item = (&UnitCode, &NatsCredentials)> + '_ {
        self.principals.iter().filter_map(|p| {
            let creds = p.nats.as_ref()?;
            Some((p.principal.unit.as_ref()?, creds))
        })
    }

    /// The units' names by code.
    pub fn unit_names(&self) -> std::collections::BTreeMap<UnitCode, String> {
        self.units
            .iter()
            .map(|u| (u.code.clone(), u.name.clone()))
            .collect()
    }

    /// The codes of the configured units of one kind, in config order.
    pub fn units_of(&self, kind: UnitKind) -> Vec<UnitCode> {
        self.units
            .iter()
            .filter(|u| u.kind == kind)
            .map(|u| u.code.clone())
            .collect()
    }

    pub fn unit_kinds(&self) -> BTreeMap<UnitCode, UnitKind> {
        self.units
            .iter()
            .map(|u| (u.code.clone(), u.kind))
            .collect()
    }

    pub fn tokens(&self) -> api::Tokens {
        let mut t = api::Tokens::default();
        for p in &self.principals {
            t.insert_digest(p.token_digest, p.principal.clone());
        }
        t
    }
}

/// `[notify]` checked: a public key that is one, a NATS user with its password.
fn notify_config(
    section: file::NotifySection,
) -> Result<Option<NotifyConfig>, (&'static str, String)> {
    let gateway = match (section.nats_user, section.nats_password) {
        (Some(user), Some(password)) => {
            if !api::auth::valid_nats_user(&user) {
                let rule = api::auth::NATS_USER_RULE;
                return Err(("notify.nats_user", format!("{user:?}: {rule}")));
            }
            Some(NatsCredentials { user, password })
        }
        (None, None) => None,
        _ => {
            return Err((
                "notify.nats_user",
                "notify.nats_user and notify.nats_password go together".into(),
            ))
        }
    };
    let Some(key) = section.public_key else {
        return match gateway {
            Some(_) => Err((
                "notify.public_key",
                "the gateway's public key is needed to seal notices to it".into(),
            )),
            None => Ok(None),
        };
    };
    let public_key =
        cipher::GatewayKey::from_base64(&key).map_err(|e| ("notify.public_key", e.to_string()))?;
    Ok(Some(NotifyConfig {
        public_key,
        gateway,
    }))
}
