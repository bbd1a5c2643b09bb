//! The system the benchmark measures: `xinfang up` with a generated config on free ports in a
//! temporary directory, connected as the county services.

use std::time::Duration;

use anyhow::Context as _;
use futures::future::BoxFuture;

use domain::UnitKind;
use loadgen::bench::{BenchStores, Launch, System};

use crate::config::Config;

/// Starts `up` from this very binary.
pub struct Up;

impl Launch for Up {
    fn start(
        &self,
        sync: &str,
        cohost: bool,
        townships: &[&str],
        token: &str,
    ) -> BoxFuture<'_, anyhow::Result<System>> {
        let sync = sync.to_owned();
        let townships: Vec<String> = townships.iter().map(|t| t.to_string()).collect();
        let token = token.to_owned();
        Box::pin(async move { start(&sync, cohost, &townships, &token).await })
    }
}

async fn start(
    sync: &str,
    cohost: bool,
    townships: &[String],
    token: &str,
) -> anyhow::Result<System> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let port = ops::ports::free_port()?;
    let path = dir.path().join("bench.toml");
    // Everything on: notices to petitioners too, sealed to a gateway key nobody keeps.
    let (_, gateway) = cipher::gateway_key_pair();
    let mut text = format!(
        "[notify]\npublic_key = \"{gateway}\"\n[projectors]\ncohost = {cohost}\n[nats]\nsync = \"{sync}\"\n[http]\naddr = \"127.0.0.1:{port}\"\n[data]\ndir = \"{}\"\n\
         [[unit]]\ncode = \"county\"\nname = \"县信访局\"\nkind = \"county\"\n\
         [[principal]]\ntoken = \"{token}\"\nid = \"bench-county\"\nrole = \"county\"\nunit = \"county\"\n",
        dir.path().join("data").display()
    );
    for t in townships {
        text.push_str(&format!(
            "[[unit]]\ncode = \"{t}\"\nname = \"{t}\"\nkind = \"township\"\n\
             [[principal]]\ntoken = \"{}\"\nid = \"bench-{t}\"\nrole = \"clerk\"\nunit = \"{t}\"\n",
            loadgen::bench::clerk_token(t)
        ));
    }
    std::fs::write(&path, text).context("writing the bench config")?;
    let exe = std::env::current_exe().context("locating the xinfang binary")?;
    let (mut up, lines) = crate::up::spawn_up(&exe, &path, &[], Duration::from_secs(120))?;
    let connected = async {
        let url = lines
            .iter()
            .find_map(|l| l.strip_prefix("nats "))
            .map(str::to_owned);
        let mut cfg = Config::load(&path)?;
        cfg.nats_url = Some(url.context("xinfang up did not start; see its logs")?);
        let client = crate::serve::connect_cfg(&cfg, "xinfang-bench").await?;
        let cases = crate::serve::case_service(&cfg, client.clone()).await?;
        let stores = BenchStores {
            log: crate::serve::open_log_with(&cfg, client.clone()).await?,
            vault: eventlog::Vault::open(&client, cfg.replicas, cfg.keyring()?).await?,
            signer: cfg.signer()?,
        };
        anyhow::Ok((cfg, client, cases, stores))
    }
    .await;
    let (cfg, client, cases, stores) = match connected {
        Ok(c) => c,
        Err(e) => {
            let _ = up.kill();
            let _ = up.wait();
            return Err(e);
        }
    };
    let nats_server = ops::natsbin::find_or_install(&cfg.data_dir)
        .ok()
        .and_then(|bin| {
            std::process::Command::new(bin)
                .arg("--version")
                .output()
                .ok()
        })
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    Ok(System {
        up,
        nats: client,
        cases,
        stores,
        townships: cfg.units_of(UnitKind::Township),
        base: format!("http://127.0.0.1:{port}"),
        config: path,
        data: cfg.data_dir.clone(),
        nats_server,
        keep: Box::new(dir),
    })
}
