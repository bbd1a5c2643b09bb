//! The configuration file as written (docs/contract.md, "Configuration"): its sections and keys,
//! read strictly (an unknown key is an error). `Config::parse` checks and types them.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(default)]
    pub(super) nats: NatsSection,
    pub(super) http: HttpSection,
    #[serde(default)]
    pub(super) data: DataSection,
    #[serde(default)]
    pub(super) policy: domain::policy::PolicySection,
    #[serde(default)]
    pub(super) projectors: ProjectorsSection,
    #[serde(default)]
    pub(super) secrets: ops::secrets::Section,
    #[serde(default)]
    pub(super) limits: LimitsSection,
    #[serde(default)]
    pub(super) integrity: integrity::config::Section,
    #[serde(default)]
    pub(super) documents: DocumentsSection,
    #[serde(default)]
    pub(super) notify: NotifySection,
    #[serde(default)]
    pub(super) unit: Vec<domain::ids::Unit>,
    #[serde(default)]
    pub(super) principal: Vec<api::auth::PrincipalEntry>,
    #[serde(default)]
    pub(super) scorecard: Vec<queries::scorecard::Rules>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct NatsSection {
    pub(super) url: Option<String>,
    pub(super) listen: Option<String>,
    /// Stream replicas: 1 on one node, 3 on a cluster.
    pub(super) replicas: Option<usize>,
    /// The county services' own NATS user (extension of the contract).
    pub(super) user: Option<String>,
    pub(super) password: Option<String>,
    /// The managed server's leaf node listener, for townships running their own server.
    pub(super) leafnodes: Option<String>,
    /// The managed server's fsync policy: "always" (every write on disk before its
    /// acknowledgement) or "interval" (nats-server's default, every 2 minutes).
    pub(super) sync: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectorsSection {
    /// `up` runs the three read models in one process over one follower of the log (true) or
    /// each in its own process (false).
    pub(super) cohost: Option<bool>,
    /// A snapshot of the cases and stats models every this many events, for as-of queries.
    pub(super) snapshot_events: Option<u64>,
    /// Every this many snapshots of one size, a level stacking them (the others are deltas).
    pub(super) snapshot_layers: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct HttpSection {
    pub(super) addr: String,
    /// Proxies whose `X-Forwarded-For` names the client (IP addresses).
    #[serde(default)]
    pub(super) trusted_proxies: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitsSection {
    /// Largest attachment, in MB (default 50).
    pub(super) attachment_mb: Option<u64>,
}

/// `[documents]`: the font the PDF documents are printed in.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentsSection {
    /// A TrueType or OpenType font (or collection) with CJK glyphs; absent: the known system
    /// paths (`documents::CANDIDATES`).
    pub(super) font: Option<PathBuf>,
    /// The face of a collection (default 0).
    pub(super) font_index: Option<u32>,
}

/// `[notify]`: notices to petitioners, sealed to the county's SMS gateway (absent: none are sent).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct NotifySection {
    /// The gateway's X25519 public key, base64 of 32 bytes.
    pub(super) public_key: Option<String>,
    /// The gateway's NATS user: the only one that may read `XF_NOTIFY`.
    pub(super) nats_user: Option<String>,
    pub(super) nats_password: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct DataSection {
    pub(super) dir: Option<PathBuf>,
    pub(super) min_free_mb: Option<u64>,
}
