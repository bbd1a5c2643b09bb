//! `[integrity]` of the configuration file: how often the notary checkpoints, when the current
//! signing key came into use, and the keys retired before it (docs/operations.md, "Signing
//! keys"). The signing key itself is a secret (`[secrets] signing_key`, `XF_SIGNING_KEY` or
//! `secrets/signing.key`), never in this section.

use std::time::Duration;

use serde::Deserialize;

use crate::keys::{KeyError, PublicKey, Time};
use crate::Signer;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// A checkpoint after at most this many events (default 1000).
    pub checkpoint_events: Option<u64>,
    /// …or once the oldest event it does not cover is this old (seconds, default 10).
    pub checkpoint_seconds: Option<u64>,
    /// When the current signing key came into use (RFC 3339); absent: it is valid from any time.
    pub signing_key_valid_from: Option<String>,
    #[serde(default)]
    pub retired_key: Vec<RetiredKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetiredKey {
    /// The 32-byte Ed25519 public key in base64.
    pub public_key: String,
    pub valid_from: Option<String>,
    pub valid_to: String,
}

/// `[integrity]`, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub checkpoint_events: u64,
    pub checkpoint_interval: Duration,
    pub valid_from: Option<Time>,
    pub retired: Vec<PublicKey>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            checkpoint_events: 1000,
            checkpoint_interval: Duration::from_secs(10),
            valid_from: None,
            retired: Vec::new(),
        }
    }
}

impl Section {
    /// The settings, or the key (under `integrity.`) and what is wrong with it.
    pub fn parse(self) -> Result<Settings, (String, String)> {
        let d = Settings::default();
        let time = |key: String, v: &str| {
            Time::parse_from_rfc3339(v)
                .map_err(|_| (key, format!("{v:?} is not an RFC 3339 time with offset")))
        };
        let positive = |key: &str, v: Option<u64>, default: u64| match v {
            Some(0) => Err((format!("integrity.{key}"), "must be at least 1".to_owned())),
            v => Ok(v.unwrap_or(default)),
        };
        let mut retired = Vec::new();
        for (i, k) in self.retired_key.iter().enumerate() {
            let key = |name: &str| format!("integrity.retired_key[{i}].{name}");
            let mut public = PublicKey::from_base64(&k.public_key)
                .map_err(|e: KeyError| (key("public_key"), e.to_string()))?;
            public.valid_from = k
                .valid_from
                .as_deref()
                .map(|v| time(key("valid_from"), v))
                .transpose()?;
            public.valid_to = Some(time(key("valid_to"), &k.valid_to)?);
            retired.push(public);
        }
        Ok(Settings {
            checkpoint_events: positive("checkpoint_events", self.checkpoint_events, 1000)?,
            checkpoint_interval: Duration::from_secs(positive(
                "checkpoint_seconds",
                self.checkpoint_seconds,
                d.checkpoint_interval.as_secs(),
            )?),
            valid_from: self
                .signing_key_valid_from
                .as_deref()
                .map(|v| time("integrity.signing_key_valid_from".into(), v))
                .transpose()?,
            retired,
        })
    }
}

impl Settings {
    /// Every key events and statements of this county may be signed with: the current one (of
    /// `signer`) and the retired ones, as `GET /v1/audit/public-key` lists them.
    pub fn public_keys(&self, signer: &Signer) -> Vec<PublicKey> {
        let mut keys = vec![PublicKey::new(&signer.public_key(), self.valid_from, None)];
        keys.extend(
            self.retired
                .iter()
                .filter(|k| k.key_id != signer.key_id())
                .cloned(),
        );
        keys
    }
}
