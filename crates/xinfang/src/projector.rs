//! `xinfang projector NAMES` (read models and the feed, one or several per process), `xinfang
//! rebuild NAME` and `xinfang case history ID`.

use std::path::PathBuf;

use anyhow::{bail, Context as _};

use eventlog::{EventLog, Vault};
use projections::feed::FeedSink;
use projections::notify::NotifySink;
use projections::runner::{self, ModelSink, Runner, Sink};

use crate::config::Config;

fn projection(
    name: &str,
    cfg: &Config,
    vault: Option<&Vault>,
) -> anyhow::Result<Box<dyn projections::Projection>> {
    projections::by_name(name, &cfg.policy, &cfg.keys()?, vault).with_context(|| {
        format!(
            "unknown projector {name:?}; one of {}",
            projections::NAMES.join(", ")
        )
    })
}

/// The data keys, for a process that hosts the cases model (`needed`).
async fn vault_for(cfg: &Config, log: &EventLog, needed: bool) -> anyhow::Result<Option<Vault>> {
    let open =
        async { anyhow::Ok(Vault::open(log.connection()?, cfg.replicas, cfg.keyring()?).await?) };
    Ok(if needed { Some(open.await?) } else { None })
}

/// The notices' sink (`[notify]`), its store under `<data>/notify`.
async fn notify_sink(
    cfg: &Config,
    nats: &eventlog::Connection,
    log: &EventLog,
    vault: Option<Vault>,
) -> anyhow::Result<NotifySink> {
    let notify = cfg
        .notify
        .as_ref()
        .context("projector notify: set [notify] public_key (the SMS gateway's) to send notices")?;
    let wording = projections::notify::Wording {
        keys: cfg.keys()?,
        policy: cfg.policy,
        names: cfg.unit_names(),
        sender: cfg
            .units_of(domain::UnitKind::County)
            .first()
            .and_then(|c| cfg.unit_names().remove(c))
            .unwrap_or_else(|| "信访局".into()),
    };
    let notices = eventlog::notices::Notices::open(nats, cfg.replicas).await?;
    let dir = cfg.data_dir.join("notify");
    NotifySink::open(
        notices,
        vault.context("the notices need the data keys")?,
        notify.public_key.clone(),
        wording,
        &dir,
        log,
    )
    .await
    .with_context(|| format!("opening the notices' store {}", dir.display()))
}

pub fn model_dir(cfg: &Config, name: &str) -> PathBuf {
    cfg.data_dir.join("projections").join(name)
}

/// Run the sinks `names` in this process over one follower of the log until `shutdown`: each read
/// model with its own store, checkpoint and query service, the feed publishing.
pub async fn run_projectors_with(
    cfg: &Config,
    nats: impl Into<eventlog::Connection>,
    names: &[String],
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let nats: eventlog::Connection = nats.into();
    let log = crate::serve::open_log_with(cfg, nats.clone()).await?;
    let vault = vault_for(
        cfg,
        &log,
        names.iter().any(|n| n == "cases" || n == "notify"),
    )
    .await?;
    let mut sinks = Vec::new();
    let (mut services, mut keepers) = (Vec::new(), Vec::new());
    for name in names {
        if name == "feed" {
            let dir = cfg.data_dir.join("feed");
            let feed = FeedSink::open(nats.clone(), cfg.replicas, &dir, &log)
                .await
                .with_context(|| format!("opening the feed's store {}", dir.display()))?;
            sinks.push(Sink::Feed(Box::new(feed)));
            continue;
        }
        if name == "notify" {
            sinks.push(Sink::Notify(Box::new(
                notify_sink(cfg, &nats, &log, vault.clone()).await?,
            )));
            continue;
        }
        let dir = model_dir(cfg, name);
        let mut model = ModelSink::open(projection(name, cfg, vault.as_ref())?, dir.clone())
            .with_context(|| format!("opening read model {}", dir.display()))?;
        tracing::info!(
            projector = %name,
            checkpoint = *model.shared.applied.borrow(),
            "projector starting"
        );
        // As of a past point: the cases and stats models from snapshots they keep.
        let replay = (name != "audit")
            .then(|| projection(name, cfg, vault.as_ref()))
            .transpose()?;
        let applied = model.shared.applied.subscribe();
        let spacing = (cfg.snapshot_events, cfg.snapshot_layers);
        let (as_of, keeper) =
            projections::snapshots::as_of(&dir, replay, spacing, log.clone(), applied)?;
        keepers.extend(keeper.map(projections::AbortOnDrop));
        if let Some(snapshots) = &as_of.snapshots {
            model.record_snapshots(snapshots.clone())?;
        }
        let answers = queries::protocol::Model::named(model.projection.name())
            .with_context(|| format!("{name} answers no queries"))?;
        services.push(projections::AbortOnDrop(tokio::spawn(
            projections::service::serve(
                nats.clone(),
                answers,
                model.shared.clone(),
                cfg.policy,
                Some(as_of),
            ),
        )));
        sinks.push(Sink::Model(model));
    }
    let runner = Runner::new(log, sinks);
    ops::storage::watch(
        cfg.data_dir.clone(),
        cfg.min_free_bytes,
        runner.storage_low.clone(),
    );
    runner.run(shutdown).await?;
    tracing::info!(projectors = %names.join(","), "stopped");
    Ok(())
}

/// `xinfang projector NAMES` (and `xinfang feed`, which is `projector feed`, with `notify` when
/// `[notify]` is configured).
pub async fn run_projectors(cfg: Config, list: &str) -> anyhow::Result<()> {
    let names = projections::names::parse(list).map_err(anyhow::Error::msg)?;
    let client = crate::serve::connect_cfg(&cfg, &format!("xinfang-projector-{list}")).await?;
    run_projectors_with(&cfg, client, &names, ops::signals::shutdown_signal()).await
}

#[allow(clippy::print_stdout)]
pub async fn run_rebuild(cfg: Config, name: &str) -> anyhow::Result<()> {
    // An alias (`queues`) rebuilds the model it names now.
    let name = projection(name, &cfg, None)?.name();
    let client = crate::serve::connect_cfg(&cfg, &format!("xinfang-rebuild-{name}")).await?;
    let log = crate::serve::open_log_with(&cfg, client).await?;
    let vault = vault_for(&cfg, &log, name == "cases").await?;
    let projection = projection(name, &cfg, vault.as_ref())?;
    let dir = model_dir(&cfg, name);
    // A progress bar on a terminal (indicatif hides it when stderr is not one).
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} ({percent}%) {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("#> "),
    );
    bar.set_message(name.to_owned());
    let (events, took) = runner::rebuild(projection.as_ref(), &dir, &log, |applied, target| {
        bar.set_length(target);
        bar.set_position(applied);
    })
    .await?;
    bar.finish_and_clear();
    let rate = events as f64 / took.as_secs_f64().max(1e-9);
    println!(
        "rebuilt {name}: {events} events in {:.2} s ({rate:.0} events/s)",
        took.as_secs_f64()
    );
    Ok(())
}

/// `xinfang export events`: the log as JSON Lines on stdout.
pub async fn print_events(cfg: Config, from: u64) -> anyhow::Result<()> {
    let client = crate::serve::connect_cfg(&cfg, "xinfang-export-events").await?;
    let log = crate::serve::open_log_plain(&cfg, client).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    log.write_jsonl(from, &mut out).await?;
    Ok(())
}

/// A case's history straight from the log (ground truth), one JSON event per line.
#[allow(clippy::print_stdout)]
pub async fn print_case_history(cfg: Config, id: &str) -> anyhow::Result<()> {
    let case_id = domain::CaseId::parse(id).with_context(|| format!("{id:?} is not a case id"))?;
    let client = crate::serve::connect_cfg(&cfg, "xinfang-case-history").await?;
    let log = crate::serve::open_log_plain(&cfg, client).await?;
    let Some((subject, _)) = log.locate(case_id).await? else {
        bail!("case {case_id} not found in the log")
    };
    for stored in log.read_subject(&subject, 1, u64::MAX).await? {
        let event = queries::audit::event_of(&stored);
        println!("{}", serde_json::to_string(&event)?);
    }
    Ok(())
}
