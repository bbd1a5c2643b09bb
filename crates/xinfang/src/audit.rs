//! `xinfang verify` (the live log, or a case bundle offline with only the auditor's public key),
//! `xinfang export case ID --bundle FILE` and `xinfang migrate`.

use std::path::Path;

use anyhow::{bail, Context as _};

use crate::config::Config;

/// The trusted keys from `--public-key`: a base64 key, or a file holding one or the JSON of
/// `GET /v1/audit/public-key`.
fn keys(arg: &str) -> anyhow::Result<integrity::KeySet> {
    let text = std::fs::read_to_string(arg).unwrap_or_else(|_| arg.to_owned());
    integrity::KeySet::parse(&text).with_context(|| "--public-key")
}

#[allow(clippy::print_stdout)]
fn conclude(report: &integrity::Report, json: bool) -> anyhow::Result<()> {
    match json {
        true => println!("{}", serde_json::to_string_pretty(report)?),
        false => print!("{}", report.text()),
    }
    if !report.ok {
        bail!("verification failed: {} findings", report.findings.len());
    }
    Ok(())
}

/// `xinfang verify --config FILE [--public-key KEY]`: the keys are the configured ones unless
/// the auditor brings their own.
pub async fn verify_live(
    cfg: Config,
    public_key: Option<&str>,
    all_signatures: bool,
    json: bool,
) -> anyhow::Result<()> {
    let keys = match public_key {
        Some(k) => keys(k)?,
        None => cfg.key_set()?,
    };
    let client = crate::serve::connect_cfg(&cfg, "xinfang-verify").await?;
    let log = crate::serve::open_log_plain(&cfg, client.clone()).await?;
    let checkpoints = eventlog::Checkpoints::open(&client, cfg.replicas).await?;
    let started = std::time::Instant::now();
    let report =
        maintenance::notary::verify_log(&log, &checkpoints, &keys, all_signatures, |d, t| {
            tracing::info!(done = d, of = t, "verifying")
        })
        .await?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        events = report.events,
        secs,
        rate = report.events as f64 / secs.max(1e-9),
        "verified"
    );
    conclude(&report, json)
}

/// `xinfang verify --bundle FILE --public-key KEY`: offline, nothing but the file and the key.
pub fn verify_bundle(file: &Path, public_key: &str, json: bool) -> anyhow::Result<()> {
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let bundle = integrity::bundle::Bundle::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    conclude(
        &integrity::bundle::verify(&bundle, &keys(public_key)?),
        json,
    )
}

/// `xinfang export case ID --bundle FILE`.
pub async fn export_bundle(cfg: Config, id: &str, file: &Path) -> anyhow::Result<()> {
    let case_id = domain::CaseId::parse(id).with_context(|| format!("{id:?} is not a case id"))?;
    let client = crate::serve::connect_cfg(&cfg, "xinfang-export-case").await?;
    let cases = crate::serve::case_service(&cfg, client.clone()).await?;
    let keys = integrity::KeySet::new(cfg.integrity.public_keys(&cfg.signer()?))?;
    let checkpoints = eventlog::Checkpoints::open(&client, cfg.replicas).await?;
    let queries = queries::QueryClient::new(client);
    let (bundle, _) = api::integrity::assemble(&cases, &queries, &checkpoints, &keys, case_id)
        .await
        .map_err(|f| anyhow::anyhow!("case {case_id}: {f:?}"))?;
    std::fs::write(file, bundle.to_jsonl()).with_context(|| format!("writing {}", file.display()))
}

/// `xinfang migrate --config FILE` (`maintenance::migrate`), then the local audit model rebuilt:
/// it holds each event's hash, which the migration changed.
#[allow(clippy::print_stdout)]
pub async fn migrate(cfg: Config) -> anyhow::Result<()> {
    let nats = crate::serve::connect_cfg(&cfg, "xinfang-migrate").await?;
    let signer = cfg.signer()?;
    let stores = maintenance::migrate::Stores {
        log: &crate::serve::open_log_with(&cfg, nats.clone()).await?,
        vault: &eventlog::Vault::open(&nats, cfg.replicas, cfg.keyring()?).await?,
        attachments: &eventlog::Attachments::open(&nats, cfg.replicas).await?,
        signer: &signer,
        now: chrono::Utc::now()
            .with_timezone(&cfg.policy.timezone)
            .fixed_offset(),
    };
    let keys = integrity::KeySet::new(cfg.integrity.public_keys(&signer))?;
    let checkpoints = eventlog::Checkpoints::open(&nats, cfg.replicas).await?;
    let log_cfg = eventlog::LogConfig {
        replicas: cfg.replicas,
        ..Default::default()
    };
    let done = maintenance::migrate::migrate(&stores, &keys, &checkpoints, &log_cfg).await?;
    println!("{}", serde_json::to_string_pretty(&done)?);
    if done.rewritten_events > 0 {
        crate::projector::run_rebuild(cfg, "audit").await?;
    }
    Ok(())
}
