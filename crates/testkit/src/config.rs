//! One builder for the configuration files tests write, instead of TOML spelled by hand in every
//! harness. [`TestConfig::county`] is the standard test county: the county bureau, two townships
//! and a department, and a principal of every role.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
struct Unit {
    code: String,
    name: String,
    kind: String,
    jetstream_domain: Option<String>,
}

#[derive(Debug, Clone)]
struct Principal {
    token: String,
    id: String,
    role: String,
    unit: Option<String>,
    nats: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct TestConfig {
    http_addr: String,
    data_dir: Option<PathBuf>,
    nats_url: Option<String>,
    replicas: Option<usize>,
    extra: Vec<String>,
    units: Vec<Unit>,
    principals: Vec<Principal>,
    /// `[secrets]` (the identity and query-code keys); `None` leaves them to the data dir.
    secrets: Option<(String, String)>,
}

/// The identity key of test configurations.
pub const TEST_IDENTITY_KEY: &str = "test-identity-key-0123456789abcdef0123456789";
/// The query-code key of test configurations.
/// The seed of the test county's signing key (docs/operations.md, "Signing keys").
pub const TEST_SIGNING_KEY: &str =
    "5e4ed0a1c9b8a7f6e5d4c3b2a1908f7e6d5c4b3a29180f1e2d3c4b5a69788796";

/// The test county's signing key.
pub fn signer() -> integrity::Signer {
    integrity::Signer::from_seed_hex(TEST_SIGNING_KEY).expect("test signing key")
}

/// The test county's key-encryption key (docs/operations.md, "Personal data keys").
/// The console's session key of the test county.
pub const TEST_CONSOLE_KEY: &str =
    "636f6e736f6c652d746573742d6b65792d303132333435363738396162636465";
pub const TEST_KEK: &str = "4b454b2d746573742d6b65792d30313233343536373839616263646566303132";

/// The test county's key-encryption keys.
pub fn keyring() -> cipher::Keyring {
    cipher::Keyring::new(cipher::Kek::from_hex(TEST_KEK).expect("test KEK"), vec![])
}

pub const TEST_QUERY_CODE_KEY: &str = "test-query-code-key-0123456789abcdef01234567";

/// The keys of test configurations.
pub fn test_keys() -> domain::identity::Keys {
    domain::identity::Keys::new(TEST_IDENTITY_KEY, TEST_QUERY_CODE_KEY).expect("test keys")
}

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig {
            http_addr: "127.0.0.1:0".into(),
            data_dir: None,
            nats_url: None,
            replicas: None,
            extra: Vec::new(),
            units: Vec::new(),
            principals: Vec::new(),
            secrets: Some((TEST_IDENTITY_KEY.into(), TEST_QUERY_CODE_KEY.into())),
        }
    }
}

/// Two versions of the 考核 rules (the scorecard tests score a period under each).
pub const SCORECARDS: &str = r#"[[scorecard]]
version = "2025版"
effective_from = 2025-01-01
indicators = [{ name = "closure_rate", weight = 100, better = "higher" }]

[[scorecard]]
version = "2026版"
effective_from = "2026-01-01"
indicators = [
  { name = "reply_on_time_rate", weight = 60, better = "higher" },
  { name = "collective_share", weight = 40, better = "lower" },
]
"#;

impl TestConfig {
    /// No units, no principals; the API on a free port.
    pub fn new() -> Self {
        Self::default()
    }

    /// The standard test county: units `county`, `gaoqiao` (高桥镇), `dongcheng` (东城镇) and the
    /// department `land_bureau`; the scorecard rules [`SCORECARDS`]; tokens `county-token`, `county-2-token`, `auditor-token`,
    /// `analyst-token`, `clerk-gaoqiao-token`, `clerk-dongcheng-token`, `handler-land-token`.
    pub fn county() -> Self {
        Self::new()
            .section(SCORECARDS)
            .unit("county", "县信访局", "county")
            .unit("gaoqiao", "高桥镇", "township")
            .unit("dongcheng", "东城镇", "township")
            .unit("land_bureau", "县自然资源局", "department")
            .principal("county-token", "county-1", "county", Some("county"))
            .principal("county-2-token", "county-2", "county", Some("county"))
            .principal("auditor-token", "auditor-1", "auditor", None)
            .principal("analyst-token", "analyst-1", "analyst", None)
            .principal(
                "clerk-gaoqiao-token",
                "clerk-gaoqiao",
                "clerk",
                Some("gaoqiao"),
            )
            .principal(
                "clerk-dongcheng-token",
                "clerk-dongcheng",
                "clerk",
                Some("dongcheng"),
            )
            .principal(
                "handler-land-token",
                "handler-land",
                "handler",
                Some("land_bureau"),
            )
    }

    pub fn http(mut self, addr: impl Into<String>) -> Self {
        self.http_addr = addr.into();
        self
    }

    pub fn http_port(self, port: u16) -> Self {
        self.http(format!("127.0.0.1:{port}"))
    }

    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_owned());
        self
    }

    pub fn nats_url(mut self, url: impl Into<String>) -> Self {
        self.nats_url = Some(url.into());
        self
    }

    pub fn replicas(mut self, n: usize) -> Self {
        self.replicas = Some(n);
        self
    }

    /// TOML sections of their own (for example `[policy]` or `[projectors]`), written as given.
    /// No `[secrets]`: the services read them from the data dir, where `up` generates them.
    pub fn without_secrets(mut self) -> Self {
        self.secrets = None;
        self
    }

    pub fn section(mut self, toml: impl Into<String>) -> Self {
        self.extra.push(toml.into());
        self
    }

    pub fn unit(mut self, code: &str, name: &str, kind: &str) -> Self {
        self.units.push(Unit {
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            jetstream_domain: None,
        });
        self
    }

    /// A township that runs its own leaf node server with JetStream domain `domain`.
    pub fn leaf_township(mut self, code: &str, domain: &str) -> Self {
        self.units.push(Unit {
            code: code.into(),
            name: format!("{code} 镇"),
            kind: "township".into(),
            jetstream_domain: Some(domain.into()),
        });
        self
    }

    pub fn principal(mut self, token: &str, id: &str, role: &str, unit: Option<&str>) -> Self {
        self.principals.push(Principal {
            token: token.into(),
            id: id.into(),
            role: role.into(),
            unit: unit.map(str::to_owned),
            nats: None,
        });
        self
    }

    /// The system principal of township `unit` (token `<unit>-system-token`, id `system-<unit>`)
    /// with NATS user `<unit>` and password `<unit>-secret`.
    pub fn township_system(mut self, unit: &str) -> Self {
        self.principals.push(Principal {
            token: format!("{unit}-system-token"),
            id: format!("system-{unit}"),
            role: "system".into(),
            unit: Some(unit.into()),
            nats: Some((unit.into(), format!("{unit}-secret"))),
        });
        self
    }

    /// A township unit (named `<code> 镇`) and its system principal with NATS credentials.
    pub fn township_with_system(self, code: &str) -> Self {
        self.unit(code, &format!("{code} 镇"), "township")
            .township_system(code)
    }

    pub fn toml(&self) -> String {
        let q = |s: &str| format!("{s:?}");
        let mut out = String::new();
        for extra in &self.extra {
            let _ = writeln!(out, "{extra}");
        }
        if self.nats_url.is_some() || self.replicas.is_some() {
            out.push_str("[nats]\n");
            if let Some(url) = &self.nats_url {
                let _ = writeln!(out, "url = {}", q(url));
            }
            if let Some(n) = self.replicas {
                let _ = writeln!(out, "replicas = {n}");
            }
        }
        if let Some((identity, query_code)) = &self.secrets {
            let _ = writeln!(
                out,
                "[secrets]\nidentity_key = {}\nquery_code_key = {}\nsigning_key = {}\nkek = {}\nconsole_key = {}",
                q(identity),
                q(query_code),
                q(TEST_SIGNING_KEY),
                q(TEST_KEK),
                q(TEST_CONSOLE_KEY)
            );
        }
        // Checkpoints within a second, so tests see them soon.
        let _ = writeln!(out, "[integrity]\ncheckpoint_seconds = 1");
        let _ = writeln!(out, "[http]\naddr = {}", q(&self.http_addr));
        if let Some(dir) = &self.data_dir {
            let _ = writeln!(out, "[data]\ndir = {}", q(&dir.display().to_string()));
        }
        for u in &self.units {
            let _ = writeln!(
                out,
                "[[unit]]\ncode = {}\nname = {}\nkind = {}",
                q(&u.code),
                q(&u.name),
                q(&u.kind)
            );
            if let Some(d) = &u.jetstream_domain {
                let _ = writeln!(out, "jetstream_domain = {}", q(d));
            }
        }
        for p in &self.principals {
            let _ = writeln!(
                out,
                "[[principal]]\ntoken = {}\nid = {}\nrole = {}",
                q(&p.token),
                q(&p.id),
                q(&p.role)
            );
            if let Some(u) = &p.unit {
                let _ = writeln!(out, "unit = {}", q(u));
            }
            if let Some((user, password)) = &p.nats {
                let _ = writeln!(
                    out,
                    "nats_user = {}\nnats_password = {}",
                    q(user),
                    q(password)
                );
            }
        }
        out
    }

    /// Write the file as `dir/xinfang.toml`; returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("xinfang.toml");
        std::fs::write(&path, self.toml()).expect("writing the test config");
        path
    }
}

/// The command path's stores on `nats` beside `log` (idempotency records kept an hour).
pub async fn stores(
    nats: impl Into<eventlog::Connection>,
    log: eventlog::EventLog,
    replicas: usize,
) -> commands::Stores {
    let js = &nats.into();
    commands::Stores {
        log,
        idem: commands::IdempotencyStore::open(js, replicas, std::time::Duration::from_secs(3600))
            .await
            .expect("idempotency bucket"),
        numbers: eventlog::Counters::open(js, replicas)
            .await
            .expect("case number bucket"),
        identities: eventlog::Identities::open(js, replicas)
            .await
            .expect("identity index"),
        attachments: eventlog::Attachments::open(js, replicas)
            .await
            .expect("attachment store"),
        vault: eventlog::Vault::open(js, replicas, keyring())
            .await
            .expect("data key stream"),
        erasures: eventlog::Erasures::open(js, replicas)
            .await
            .expect("erasure register"),
    }
}
