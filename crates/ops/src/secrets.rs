//! The county's secrets on one machine (docs/operations.md,
//! "Secrets"): each comes from the configuration or the environment, or else from a file in the
//! data directory, which `up` generates at first start (mode 0600) and says so in its log.
//! Every service of one county must use the same secrets; a service other than `up` never
//! generates one, so two processes cannot each make up their own.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// One secret: its key in `[secrets]`, its environment variable and its file in the data dir.
#[derive(Debug, Clone, Copy)]
pub struct Secret {
    pub key: &'static str,
    pub env: &'static str,
    pub file: &'static str,
}

/// The identity HMAC key: read models and the identity index hold keyed hashes under it.
pub const IDENTITY_KEY: Secret = Secret {
    key: "identity_key",
    env: "XF_IDENTITY_KEY",
    file: "secrets/identity.key",
};

/// The key petitioners' query codes are derived with.
pub const QUERY_CODE_KEY: Secret = Secret {
    key: "query_code_key",
    env: "XF_QUERY_CODE_KEY",
    file: "secrets/query-code.key",
};

/// The seed (32 bytes, hex) of the Ed25519 key the command path signs events and checkpoints
/// with (docs/operations.md, "Signing keys"). Only the api and the ingestor read it.
pub const SIGNING_KEY: Secret = Secret {
    key: "signing_key",
    env: "XF_SIGNING_KEY",
    file: "secrets/signing.key",
};

/// The key-encryption key (32 bytes, hex) that wraps every case's data key (docs/operations.md,
/// "Personal data keys"). Never in NATS; the api, the ingestor and the cases projector read it.
pub const KEK: Secret = Secret {
    key: "kek",
    env: "XF_KEK",
    file: "secrets/kek.key",
};

/// The key (32 bytes, hex) the web console seals its session cookies with and derives its CSRF
/// tokens from (docs/console.md). Only the api reads it; every api instance of a county must
/// share it, so a session outlives a restart and works on any instance.
pub const CONSOLE_KEY: Secret = Secret {
    key: "console_key",
    env: "XF_CONSOLE_KEY",
    file: "secrets/console.key",
};

/// Every secret `up` provides.
pub const ALL: [Secret; 5] = [IDENTITY_KEY, QUERY_CODE_KEY, SIGNING_KEY, KEK, CONSOLE_KEY];

/// `[secrets]` as written in the configuration (docs/operations.md, "Secrets"); absent ones
/// come from the environment or the data dir.
#[derive(Debug, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Section {
    identity_key: Option<String>,
    query_code_key: Option<String>,
    signing_key: Option<String>,
    kek: Option<String>,
    console_key: Option<String>,
    /// Key-encryption keys being rotated away: they unwrap, never wrap (docs/operations.md,
    /// "Rotating the key-encryption key").
    #[serde(default)]
    previous_keks: Vec<String>,
}

/// The secrets as configured (the environment over the file), in the order of [`ALL`], and the
/// previous KEKs.
#[derive(Debug, Clone, Default)]
pub struct Configured {
    pub values: Vec<(Secret, Option<String>)>,
    pub previous_keks: Vec<String>,
}

impl Section {
    pub fn configured(self) -> Configured {
        let env = |s: &Secret| std::env::var(s.env).ok().filter(|v| !v.trim().is_empty());
        let given = [
            self.identity_key,
            self.query_code_key,
            self.signing_key,
            self.kek,
            self.console_key,
        ];
        Configured {
            values: ALL
                .iter()
                .zip(given)
                .map(|(s, v)| (*s, env(s).or(v)))
                .collect(),
            previous_keks: self.previous_keks,
        }
    }
}

impl Configured {
    /// Secret `secret`: configured, or from its file in `data_dir`.
    pub fn resolve(&self, data_dir: &Path, secret: &Secret) -> anyhow::Result<String> {
        let value = self
            .values
            .iter()
            .find(|(s, _)| s.key == secret.key)
            .and_then(|(_, v)| v.as_deref());
        resolve(value, data_dir, secret)
    }

    /// A 32-byte key given as 64 hex digits (`console_key`).
    pub fn key32(&self, data_dir: &Path, secret: &Secret) -> anyhow::Result<[u8; 32]> {
        let hex = self.resolve(data_dir, secret)?;
        let digits: Vec<u8> = hex
            .as_bytes()
            .chunks(2)
            .filter_map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
            .collect();
        <[u8; 32]>::try_from(digits.as_slice())
            .ok()
            .filter(|_| hex.len() == 64)
            .ok_or_else(|| anyhow::anyhow!("secrets.{}: expected 64 hex digits", secret.key))
    }

    /// The key-encryption keys as configured (hex): the current one and those being rotated
    /// away (`cipher::Kek::from_hex` reads them).
    pub fn keks(&self, data_dir: &Path) -> anyhow::Result<(String, Vec<String>)> {
        Ok((self.resolve(data_dir, &KEK)?, self.previous_keks.clone()))
    }
}

/// Where a secret is kept in `data_dir`.
pub fn path(data_dir: &Path, secret: &Secret) -> PathBuf {
    data_dir.join(secret.file)
}

/// The secret: `configured` (the config file's value, already overridden by the environment),
/// else the file in `data_dir`.
pub fn resolve(
    configured: Option<&str>,
    data_dir: &Path,
    secret: &Secret,
) -> anyhow::Result<String> {
    if let Some(v) = configured.filter(|v| !v.trim().is_empty()) {
        return Ok(v.trim().to_owned());
    }
    let file = path(data_dir, secret);
    match std::fs::read_to_string(&file) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        Ok(_) => anyhow::bail!("secret file {} is empty", file.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "no secrets.{key}: set it in the config file or {env}, or start `xinfang up` once with \
             this data dir, which generates {file}",
            key = secret.key,
            env = secret.env,
            file = file.display()
        ),
        Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
    }
}

/// For `up`: generate each secret that is neither configured nor in `data_dir` yet. Returns the
/// files written.
pub fn generate_missing(
    configured: &[(Secret, Option<&str>)],
    data_dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (secret, value) in configured {
        let file = path(data_dir, secret);
        if value.is_some_and(|v| !v.trim().is_empty()) || file.exists() {
            continue;
        }
        create_file(&file, &random_hex(32)?)?;
        written.push(file);
    }
    Ok(written)
}

/// `bytes` random bytes from the kernel, as hex.
pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Write `content` to a new file readable by the owner only (never over an existing one).
pub fn create_file(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(content.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// Write `content` to `path`, readable by the owner only, replacing what was there (a generated
/// configuration that names users).
pub fn replace_file(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(content.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_wins_then_the_file_and_up_generates_only_what_is_missing() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tmp");
        let err = resolve(None, dir.path(), &IDENTITY_KEY).expect_err("nothing yet");
        assert!(err.to_string().contains("XF_IDENTITY_KEY"), "{err}");
        let written = generate_missing(
            &[(IDENTITY_KEY, None), (QUERY_CODE_KEY, Some("configured"))],
            dir.path(),
        )
        .expect("generate");
        assert_eq!(written, [path(dir.path(), &IDENTITY_KEY)]);
        let mode = std::fs::metadata(&written[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let generated = resolve(None, dir.path(), &IDENTITY_KEY).expect("from the file");
        assert_eq!(generated.len(), 64);
        // A second start keeps the secret; a configured value wins over the file.
        generate_missing(&[(IDENTITY_KEY, None)], dir.path()).expect("again");
        assert_eq!(
            resolve(None, dir.path(), &IDENTITY_KEY).expect("kept"),
            generated
        );
        assert_eq!(
            resolve(Some("from config"), dir.path(), &IDENTITY_KEY).expect("configured"),
            "from config"
        );
        assert!(!path(dir.path(), &QUERY_CODE_KEY).exists());
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn a_32_byte_key_is_64_hex_digits() {
        let dir = tempfile::tempdir().expect("dir");
        let with = |v: &str| Configured {
            values: vec![(CONSOLE_KEY, Some(v.to_owned()))],
            previous_keks: Vec::new(),
        };
        let key = with(&"ab".repeat(32)).key32(dir.path(), &CONSOLE_KEY);
        assert_eq!(key.expect("a key"), [0xab; 32]);
        for bad in ["ab".repeat(31), "zz".repeat(32), "ab".repeat(33)] {
            let err = with(&bad)
                .key32(dir.path(), &CONSOLE_KEY)
                .expect_err("refused");
            assert!(err.to_string().contains("console_key"), "{err}");
        }
    }
}
