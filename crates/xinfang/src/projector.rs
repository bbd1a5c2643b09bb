//! `xinfang projector NAME`, `xinfang rebuild NAME` and `xinfang case history ID`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};

use eventlog::{EventLog, LogConfig};
use projections::runner::{self, Shared};

use crate::config::Config;

fn projection(name: &str, cfg: &Config) -> anyhow::Result<Box<dyn projections::Projection>> {
    projections::by_name(name, &cfg.policy).with_context(|| {
        format!(
            "unknown projector {name:?}; one of {}",
            projections::NAMES.join(", ")
        )
    })
}

pub fn model_dir(cfg: &Config, name: &str) -> PathBuf {
    cfg.data_dir.join("projections").join(name)
}

async fn open_log(cfg: &Config, name: &str) -> anyhow::Result<(async_nats::Client, EventLog)> {
    let client = crate::serve::connect_cfg(cfg, name).await?;
    let js = async_nats::jetstream::new(client.clone());
    let log = EventLog::open(
        js,
        &LogConfig {
            replicas: cfg.replicas,
            ..LogConfig::default()
        },
    )
    .await?;
    Ok((client, log))
}

pub async fn run_projector(cfg: Config, name: &str) -> anyhow::Result<()> {
    let projection = projection(name, &cfg)?;
    let (client, log) = open_log(&cfg, &format!("xinfang-projector-{name}")).await?;
    let dir = model_dir(&cfg, name);
    let shared = Shared::open(&dir, projection.version())
        .with_context(|| format!("opening read model {}", dir.display()))?;
    tracing::info!(
        projector = name,
        checkpoint = *shared.applied.borrow(),
        "projector starting"
    );
    crate::storage::watch(
        cfg.data_dir.clone(),
        cfg.min_free_bytes,
        shared.storage_low.clone(),
    );
    let service = tokio::spawn(projections::service::serve(
        client,
        projection.name(),
        shared.clone(),
        cfg.policy.clone(),
    ));
    let result = runner::run(
        projection.as_ref(),
        &dir,
        &log,
        &shared,
        crate::serve::shutdown_signal(),
    )
    .await;
    service.abort();
    result?;
    tracing::info!(projector = name, "projector stopped");
    Ok(())
}

#[allow(clippy::print_stdout)]
pub async fn run_rebuild(cfg: Config, name: &str) -> anyhow::Result<()> {
    let projection = projection(name, &cfg)?;
    let (_client, log) = open_log(&cfg, &format!("xinfang-rebuild-{name}")).await?;
    let dir = model_dir(&cfg, name);
    let started = std::time::Instant::now();
    let mut last_print = std::time::Instant::now();
    let (events, took) = runner::rebuild(projection.as_ref(), &dir, &log, |applied, target| {
        if last_print.elapsed().as_millis() >= 200 || applied >= target {
            last_print = std::time::Instant::now();
            let pct = if target == 0 {
                100.0
            } else {
                applied as f64 * 100.0 / target as f64
            };
            let rate = applied as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let width = 30;
            let filled = ((pct / 100.0) * width as f64) as usize;
            eprint!(
                "\r{name} [{}{}] {applied}/{target} ({pct:.1}%) {rate:.0} events/s   ",
                "#".repeat(filled),
                " ".repeat(width - filled.min(width))
            );
            let _ = std::io::stderr().flush();
        }
    })
    .await?;
    eprintln!();
    let rate = events as f64 / took.as_secs_f64().max(1e-9);
    println!(
        "rebuilt {name}: {events} events in {:.2} s ({rate:.0} events/s)",
        took.as_secs_f64()
    );
    Ok(())
}

/// A case's history straight from the log (ground truth), one JSON event per line.
#[allow(clippy::print_stdout)]
pub async fn print_case_history(cfg: Config, id: &str) -> anyhow::Result<()> {
    let case_id = domain::CaseId::parse(id).with_context(|| format!("{id:?} is not a case id"))?;
    let (_client, log) = open_log(&cfg, "xinfang-case-history").await?;
    let Some((subject, _)) = log.locate(case_id).await? else {
        bail!("case {case_id} not found in the log")
    };
    for stored in log.read_subject(&subject, 1, u64::MAX).await? {
        let event = projections::audit::AuditEvent::from_stored(&stored);
        println!("{}", serde_json::to_string(&event)?);
    }
    Ok(())
}
