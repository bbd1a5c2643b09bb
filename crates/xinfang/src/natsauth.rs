//! NATS users and permissions (docs/integration.md, "Credentials"): the county services' user may do
//! everything; each township system's user may only publish into its own inbox and read its own
//! outcomes and feed; the SMS gateway's user may only read the notices to petitioners, which the
//! county services' user may not. `xinfang up` writes this into its managed server's configuration and
//! `xinfang nats-config` prints the same block for an operator-run server or cluster.
//!
//! A township reads through durable pull consumers the county creates for it
//! (`outcomes-<unit>` on `XF_OUTCOMES`, `feed-<unit>` on `XF_FEED`, see
//! [`eventlog::inbox::township_consumers`]) and fetches a single outcome by direct get on its own
//! subject. It may not create consumers: the API subject of a consumer name has no wildcard
//! narrower than the whole name, so another township's consumer could not be told apart. Replies
//! come to the township's own inbox prefix `_INBOX.<unit>`, so no user can read another's replies.
//!
//! Passwords are written as bcrypt hashes, so the server configuration holds no secret.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use eventlog::subjects::{gateway_permissions, leaf_denials, notify_denials};

use crate::config::{Config, NatsCredentials};

/// The county services' user name when `up` generates the credentials itself.
pub const COUNTY_USER: &str = "xinfang";
/// bcrypt cost: the server checks a password only when a client connects.
const BCRYPT_COST: u32 = 10;

pub use eventlog::subjects::{reply_prefix as inbox_prefix, township_permissions};

fn quoted(s: &str) -> String {
    // NATS configuration strings are JSON-compatible; a JSON string is a safe quoting.
    serde_json::Value::String(s.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", items.join(", "))
}

fn hash(password: &str) -> anyhow::Result<String> {
    bcrypt::hash(password, BCRYPT_COST).context("hashing a NATS password")
}

/// Whether a user's lists say what it may do (`allow`) or what it may not (`deny`).
#[derive(Clone, Copy)]
enum Rule {
    Allow,
    Deny,
}

/// One user of the `authorization` block, after `# comment` lines; with its publish and
/// subscribe lists when `permissions` is given.
fn user(
    out: &mut String,
    comment: &str,
    name: &str,
    password: &str,
    permissions: Option<(Rule, Vec<String>, Vec<String>)>,
) -> anyhow::Result<()> {
    for line in comment.lines() {
        let _ = writeln!(out, "    # {line}");
    }
    let _ = write!(
        out,
        "    {{ user: {}, password: {}",
        quoted(name),
        quoted(&hash(password)?)
    );
    if let Some((rule, publish, subscribe)) = permissions {
        let rule = match rule {
            Rule::Allow => "allow",
            Rule::Deny => "deny",
        };
        let _ = write!(
            out,
            ",\n      permissions: {{\n        publish: {{ {rule}: {} }}\n        subscribe: {{ {rule}: {} }}\n      }}",
            list(&publish),
            list(&subscribe),
        );
    }
    out.push_str(" }\n");
    Ok(())
}

/// The `authorization { … }` block: the county services, each township system, and each leaf
/// township's server connection.
pub fn authorization(cfg: &Config, county: &NatsCredentials) -> anyhow::Result<String> {
    let mut out = String::from("authorization {\n  users = [\n");
    // With notices, everything but reading them. Without, no permissions at all: a deny list is
    // matched on every publish of a subject the server has not cached (each case's is new), about
    // 1 µs of the server's CPU each (docs/benchmarks.md, "NATS permissions").
    let services = "the county services (api, projectors, ingestor, feed, tools)";
    if cfg.notify.is_some() {
        let (publish, subscribe) = notify_denials();
        let comment = format!(
            "{services}: everything but reading\nthe notices to petitioners, which are the SMS gateway's"
        );
        let denied = Some((Rule::Deny, publish, subscribe));
        user(&mut out, &comment, &county.user, &county.password, denied)?;
    } else {
        user(&mut out, services, &county.user, &county.password, None)?;
    }
    if let Some(gateway) = cfg.notify.as_ref().and_then(|n| n.gateway.as_ref()) {
        if gateway.user == county.user || cfg.nats_townships().any(|(_, t)| t.user == gateway.user)
        {
            anyhow::bail!(
                "notify.nats_user {:?} is another user's name too; the SMS gateway needs its own",
                gateway.user
            );
        }
        let (publish, subscribe) = gateway_permissions();
        user(
            &mut out,
            "the SMS gateway: reads the notices to petitioners (XF_NOTIFY), nothing else",
            &gateway.user,
            &gateway.password,
            Some((Rule::Allow, publish, subscribe)),
        )?;
    }
    for (unit, creds) in cfg.nats_townships() {
        let (publish, subscribe) = township_permissions(unit.as_str());
        user(
            &mut out,
            &format!("township system of {unit}"),
            &creds.user,
            &creds.password,
            Some((Rule::Allow, publish, subscribe)),
        )?;
    }
    for unit in cfg.units.iter().filter(|u| u.jetstream_domain.is_some()) {
        let Some((_, creds)) = cfg.nats_townships().find(|(u, _)| **u == unit.code) else {
            anyhow::bail!(
                "unit {} has a jetstream_domain but no system principal with nats_user",
                unit.code
            );
        };
        let (publish, subscribe) = leaf_denials();
        user(
            &mut out,
            &format!(
                "leaf node server of {} (its connection to the county)",
                unit.code
            ),
            &leaf_user(&creds.user),
            &creds.password,
            Some((Rule::Deny, publish, subscribe)),
        )?;
    }
    out.push_str("  ]\n}\n");
    Ok(out)
}

/// The user a township's leaf node server connects to the county as.
pub fn leaf_user(nats_user: &str) -> String {
    format!("{nats_user}-leaf")
}

/// Whether the managed server needs authorization: when a township system has a NATS user or the
/// county services' user is configured. Otherwise it is open to local clients, as before.
pub fn needs_auth(cfg: &Config) -> bool {
    cfg.nats_credentials.is_some()
        || cfg.nats_townships().next().is_some()
        || cfg.notify.as_ref().is_some_and(|n| n.gateway.is_some())
}

fn county_password_file(data: &Path) -> PathBuf {
    data.join("nats-county.password")
}

/// The county services' credentials: from the config (or `XF_NATS_USER`/`XF_NATS_PASSWORD`), else
/// the ones `up` generated for its managed server, if any.
pub fn county_credentials(cfg: &Config) -> Option<NatsCredentials> {
    if let Some(c) = &cfg.nats_credentials {
        return Some(c.clone());
    }
    let password = std::fs::read_to_string(county_password_file(&cfg.data_dir)).ok()?;
    Some(NatsCredentials {
        user: COUNTY_USER.into(),
        password: password.trim().to_owned(),
    })
}

/// The county credentials for a managed server: configured ones, or generated once and kept in the
/// data directory (readable by the owner only).
pub fn county_credentials_or_generate(cfg: &Config) -> anyhow::Result<NatsCredentials> {
    if let Some(c) = county_credentials(cfg) {
        return Ok(c);
    }
    let password = ops::secrets::random_hex(32)?;
    ops::secrets::create_file(&county_password_file(&cfg.data_dir), &password)?;
    Ok(NatsCredentials {
        user: COUNTY_USER.into(),
        password,
    })
}

/// The managed server's configuration file.
pub struct ManagedServer<'a> {
    pub listen: &'a str,
    pub store_dir: &'a Path,
    pub pidfile: &'a Path,
    /// JetStream's file store limit in bytes (`storage::max_file_store`): writes past it are
    /// refused (`insufficient resources`) instead of filling the disk.
    pub max_file_store: u64,
}

pub fn managed_server_config(
    cfg: &Config,
    server: &ManagedServer<'_>,
    county: Option<&NatsCredentials>,
) -> anyhow::Result<String> {
    let mut out =
        String::from("# Written by `xinfang up` at every start; edits are overwritten.\n");
    let _ = writeln!(out, "server_name: \"xinfang-local\"");
    let _ = writeln!(out, "listen: {}", quoted(server.listen));
    let _ = writeln!(
        out,
        "pid_file: {}",
        quoted(&server.pidfile.to_string_lossy())
    );
    let _ = writeln!(
        out,
        "jetstream {{\n  store_dir: {}\n  domain: \"county\"\n  max_file_store: {}\n{}}}",
        quoted(&server.store_dir.to_string_lossy()),
        server.max_file_store,
        if cfg.nats_sync_always {
            "  sync_interval: always\n"
        } else {
            ""
        }
    );
    if let Some(county) = county {
        out.push_str(&authorization(cfg, county)?);
    }
    if let Some(listen) = &cfg.nats_leafnodes {
        let _ = writeln!(out, "leafnodes {{ listen: {} }}", quoted(listen));
    }
    Ok(out)
}

/// `xinfang nats-config`: the block an operator adds to each county server's configuration.
pub fn print_nats_config(cfg: &Config) -> anyhow::Result<String> {
    let county = cfg.nats_credentials.as_ref().context(
        "set [nats] user and password (the county services' NATS user) to generate the block",
    )?;
    let block = authorization(cfg, county)?;
    let mut out = format!(
        "# Generated by `xinfang nats-config --config {}`.\n# Include it in every county server's configuration.\n",
        cfg.path.display()
    );
    out.push_str(&block);
    if cfg.units.iter().any(|u| u.jetstream_domain.is_some()) {
        out.push_str(
            "# Township leaf nodes connect here as the <user>-leaf users above; the county\n\
             # server's jetstream block also needs `domain: county`.\n",
        );
        let _ = writeln!(
            out,
            "leafnodes {{ listen: {} }}",
            quoted(cfg.nats_leafnodes.as_deref().unwrap_or("0.0.0.0:7422"))
        );
    }
    Ok(out)
}
