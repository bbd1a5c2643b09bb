//! The command line: each subcommand's answer goes to stdout, its log to stderr.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// jemalloc, not glibc's malloc: sled's many small nodes fragment glibc's arenas (a rebuild of the
/// cases model at 1.39M events peaks 16 % lower and runs 20 % faster; docs/benchmarks.md, "Sixth
/// part"). Its options are set when it is built (.cargo/config.toml).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "xinfang",
    version,
    about = "Case handling for citizen petitions (信访), event-sourced on NATS JetStream"
)]
struct Cli {
    /// How log lines are written to stderr: text, or one JSON object per line.
    #[arg(
        long,
        global = true,
        env = "XF_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: xinfang::telemetry::LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the whole system on this machine (managed nats-server unless [nats] url is set).
    Up {
        #[arg(long)]
        config: PathBuf,
        /// Also load a realistic demo data set (skipped if the log already holds events).
        #[arg(long)]
        demo: bool,
    },
    /// Run the HTTP API service.
    Api {
        #[arg(long)]
        config: PathBuf,
    },
    /// Run projectors (cases, stats, audit, feed, notify; several as `cases,stats,audit`) over
    /// one follower of the log: each read model answers its queries, the feed and the notices
    /// publish.
    Projector {
        name: String,
        #[arg(long)]
        config: PathBuf,
    },
    /// Deliver each case's events to the units accountable for it (xf.feed.<unit>.<case>), and
    /// with [notify] the notices to petitioners (XF_NOTIFY).
    Feed {
        #[arg(long)]
        config: PathBuf,
    },
    /// Consume the township inbox (xf.inbox.<township>.<action>) and publish outcomes.
    Ingestor {
        #[arg(long)]
        config: PathBuf,
    },
    /// Rebuild the identity index (KV XF_IDENTITIES) from the log: after rotating the identity
    /// key (docs/operations.md, "Secrets"), or if the bucket was lost.
    ReindexIdentities {
        #[arg(long)]
        config: PathBuf,
    },
    /// Wrap every case's data key with the current key-encryption key and erase the old
    /// wrappings (docs/operations.md, "Personal data keys").
    RotateKek {
        #[arg(long)]
        config: PathBuf,
    },
    /// Seal, once, the personal data of a log written before sealing, under a signed statement
    /// (docs/operations.md, "Migrating a log written before sealing"); every service stopped.
    Migrate {
        #[arg(long)]
        config: PathBuf,
    },
    /// Rebuild a read model from the start of the log into a fresh database and switch over.
    Rebuild {
        name: String,
        #[arg(long)]
        config: PathBuf,
    },
    /// Read a case straight from the log.
    Case {
        #[command(subcommand)]
        what: CaseCmd,
    },
    /// Verify the log (signed hash chain and checkpoints) with `--config`, or a case bundle
    /// offline with `--bundle FILE --public-key KEY`; exit 0 only when everything verifies.
    Verify {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// A base64 Ed25519 key, or a file with one or with `GET /v1/audit/public-key`'s answer.
        #[arg(long)]
        public_key: Option<String>,
        /// Check every event's signature, also those a verified checkpoint covers.
        #[arg(long)]
        all_signatures: bool,
        #[arg(long)]
        json: bool,
    },
    /// Export from the log: `events --from-seq N`, `case ID --bundle FILE`.
    Export {
        #[command(subcommand)]
        what: ExportCmd,
    },
    /// Publish realistic township traffic through the NATS inbox and report what was applied and
    /// the outcome latency.
    Simulate {
        #[arg(long)]
        config: PathBuf,
        #[command(flatten)]
        args: loadgen::simulate::Args,
    },
    /// Measure every hot path against the raw limits of this machine, in one run, on a system it
    /// starts itself (docs/benchmarks.md).
    Bench(loadgen::bench::Args),
    /// Print the NATS authorization block (county and township users, with their permissions)
    /// for an operator-run server or cluster.
    NatsConfig {
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a configuration file and exit.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// A case's events with the proof an offline `verify --bundle` needs (JSON Lines).
    Case {
        id: String,
        #[arg(long)]
        bundle: PathBuf,
        #[arg(long)]
        config: PathBuf,
    },
    /// The log from a sequence to its end, one JSON object per line (`EventLog::write_jsonl`).
    Events {
        #[arg(long, default_value_t = 1)]
        from_seq: u64,
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum CaseCmd {
    /// Print every event of a case from the log (ground truth), one JSON object per line.
    History {
        id: String,
        #[arg(long)]
        config: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    xinfang::telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xinfang: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xinfang: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    use xinfang::config::Config;
    match cli.command {
        Cmd::Up { config, demo } => {
            let cfg = Config::load(&config)?;
            xinfang::up::run_up(cfg, &config, demo, cli.log_format).await
        }
        Cmd::Api { config } => xinfang::serve::run_api(Config::load(&config)?).await,
        Cmd::Projector { name, config } => {
            xinfang::projector::run_projectors(Config::load(&config)?, &name).await
        }
        Cmd::Feed { config } => {
            let cfg = Config::load(&config)?;
            let sinks = if cfg.notify.is_some() {
                "feed,notify"
            } else {
                "feed"
            };
            xinfang::projector::run_projectors(cfg, sinks).await
        }
        Cmd::Ingestor { config } => xinfang::serve::run_ingestor(Config::load(&config)?).await,
        Cmd::ReindexIdentities { config } => {
            let cases = xinfang::serve::cases_of(&config, "xinfang-reindex").await?;
            let filed = cases.reindex_identities().await?;
            tracing::info!(registrations = filed, "identity index rebuilt from the log");
            Ok(())
        }
        Cmd::RotateKek { config } => {
            let cases = xinfang::serve::cases_of(&config, "xinfang-rotate-kek").await?;
            let done = cases.rotate_data_keys().await?;
            let (rewrapped, current) = (done.rewrapped, done.current);
            tracing::info!(rewrapped, current, "data keys wrapped by the current KEK");
            Ok(())
        }
        Cmd::Migrate { config } => xinfang::audit::migrate(Config::load(&config)?).await,
        Cmd::Rebuild { name, config } => {
            xinfang::projector::run_rebuild(Config::load(&config)?, &name).await
        }
        Cmd::Case {
            what: CaseCmd::History { id, config },
        } => xinfang::projector::print_case_history(Config::load(&config)?, &id).await,
        Cmd::Export {
            what: ExportCmd::Events { from_seq, config },
        } => xinfang::projector::print_events(Config::load(&config)?, from_seq).await,
        Cmd::Export {
            what: ExportCmd::Case { id, bundle, config },
        } => xinfang::audit::export_bundle(Config::load(&config)?, &id, &bundle).await,
        Cmd::Verify {
            config,
            bundle,
            public_key,
            all_signatures,
            json,
        } => match (bundle, config, public_key) {
            (Some(b), _, Some(key)) => xinfang::audit::verify_bundle(&b, &key, json),
            (Some(_), _, None) => anyhow::bail!("--bundle needs --public-key"),
            (None, Some(c), key) => {
                let cfg = Config::load(&c)?;
                xinfang::audit::verify_live(cfg, key.as_deref(), all_signatures, json).await
            }
            (None, None, _) => anyhow::bail!("verify needs --config FILE or --bundle FILE"),
        },
        Cmd::Simulate { config, args } => {
            let cfg = Config::load(&config)?;
            let client = xinfang::serve::connect_cfg(&cfg, "xinfang-simulate").await?;
            let townships = cfg.units_of(domain::UnitKind::Township);
            let report = loadgen::simulate::run_simulate(client, townships, args.into()).await?;
            print!("{}", report.table());
            Ok(())
        }
        Cmd::Bench(args) => {
            let (report, verdict) = loadgen::bench::run_cli(&xinfang::launch::Up, args).await?;
            print!("{}", report.table());
            verdict
        }
        Cmd::NatsConfig { config } => {
            let text = xinfang::natsauth::print_nats_config(&Config::load(&config)?)?;
            print!("{text}");
            Ok(())
        }
        Cmd::CheckConfig { config } => {
            let cfg = Config::load(&config)?;
            for w in &cfg.warnings {
                println!("warning: {}: {w}", config.display());
            }
            println!(
                "{}: ok ({} units, {} principals)",
                config.display(),
                cfg.units.len(),
                cfg.principals.len()
            );
            Ok(())
        }
    }
}
