//! Read-side measurements against a running nats-server (for example one started by `xinfang up`):
//! rebuild speed of each projector as a ratio to raw sled batch inserts measured in the same run,
//! and projection lag while commands arrive at a steady rate.
//! `cargo run --release -p xinfang --example readside -- nats://127.0.0.1:4222 100000 500 20`
//! (events to have in the log, commands/s for the lag run, seconds of the lag run).
//! The full benchmark is `xinfang bench` (issue 5).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;

use domain::command::*;
use domain::*;
use eventlog::{CaseService, EventLog, IdempotencyStore, LogConfig, Request};
use projections::runner::{self, Shared};

fn county() -> Principal {
    Principal {
        id: PrincipalId("bench".into()),
        role: Role::County,
        unit: None,
    }
}

/// One case through register, accept, reply and close: 4 events. Returns the last seq.
async fn lifecycle(cases: &CaseService, i: u64) -> u64 {
    let p = county();
    let t = Utc::now().fixed_offset() - chrono::Duration::days(30);
    let reg = Command::Register(RegisterCase {
        township: UnitCode::parse(["gaoqiao", "dongcheng", "xishan"][(i % 3) as usize]).expect("u"),
        channel: if i % 2 == 0 {
            Channel::Visit
        } else {
            Channel::Phone
        },
        received_at: t - chrono::Duration::days((i % 300) as i64),
        headcount: 1 + (i % 9) as u32,
        level_reached: Level::County,
        category: Category::Land,
        summary: "Compensation for requisitioned farmland not paid in full".into(),
        petitioners: vec![Petitioner {
            name: "张三".into(),
            id_number: Some("330102199001011234".into()),
            phone: Some("13800000000".into()),
            address: None,
        }],
        related_case_id: None,
        accusation: false,
        confidential: false,
    });
    let req = |case_id, command| Request {
        principal: &p,
        case_id,
        command,
        if_match: None,
        idempotency: None,
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: None,
    };
    let Ok(out) = cases.execute(req(None, reg)).await else {
        return 0;
    };
    let id = out.committed.case_id;
    let mut seq = out.committed.seq;
    for cmd in [
        Command::Accept(AcceptCase { occurred_at: None }),
        Command::Reply(ReplyCase {
            outcome: Outcome::Explained,
            text: "reply".into(),
            occurred_at: None,
        }),
        Command::Close(CloseCase {
            note: None,
            occurred_at: None,
        }),
    ] {
        if let Ok(o) = cases.execute(req(Some(id), cmd)).await {
            seq = o.committed.seq;
        }
    }
    seq
}

fn raw_sled_batch_per_s(n: u64) -> f64 {
    let dir = tempfile::tempdir().expect("tmp");
    let db = sled::open(dir.path()).expect("sled");
    let value = vec![7u8; 300];
    let started = Instant::now();
    let mut i = 0u64;
    while i < n {
        let mut batch = sled::Batch::default();
        for _ in 0..1000 {
            batch.insert(&i.to_be_bytes(), value.as_slice());
            i += 1;
        }
        db.apply_batch(batch).expect("batch");
    }
    db.flush().expect("flush");
    n as f64 / started.elapsed().as_secs_f64()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let want: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rate: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(500);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let client = async_nats::connect(&url).await?;
    let js = async_nats::jetstream::new(client);
    let log = EventLog::open(js.clone(), &LogConfig::default()).await?;
    let idem = IdempotencyStore::open(&js, 1, Duration::from_secs(3600)).await?;
    let units: BTreeMap<UnitCode, UnitKind> = ["gaoqiao", "dongcheng", "xishan"]
        .iter()
        .map(|u| (UnitCode::parse(u).expect("u"), UnitKind::Township))
        .collect();
    let cases = Arc::new(CaseService::new(
        log.clone(),
        idem,
        Policy::default(),
        units,
    ));

    let have = log.last_seq().await?;
    if have < want {
        let started = Instant::now();
        let todo = (want - have).div_ceil(4);
        futures::stream::iter(0..todo)
            .for_each_concurrent(64, |i| {
                let c = cases.clone();
                async move {
                    lifecycle(&c, i).await;
                }
            })
            .await;
        println!(
            "loaded {} events in {:.1} s",
            log.last_seq().await? - have,
            started.elapsed().as_secs_f64()
        );
    }
    let events = log.last_seq().await?;
    let raw = raw_sled_batch_per_s(events);
    println!("raw sled apply_batch (1000 x 300 B): {raw:.0} inserts/s");
    let policy = Policy::default();
    for name in projections::NAMES {
        let projection = projections::by_name(name, &policy).expect("projection");
        let dir = tempfile::tempdir()?;
        let (n, took) = runner::rebuild(projection.as_ref(), dir.path(), &log, |_, _| {}).await?;
        let eps = n as f64 / took.as_secs_f64();
        println!(
            "rebuild {name}: {n} events in {:.2} s = {eps:.0} events/s, ratio to raw sled {:.2}",
            took.as_secs_f64(),
            eps / raw
        );
    }

    // Lag: all three projectors follow the log while commands arrive at `rate`/s.
    let mut watchers = Vec::new();
    let mut dirs = Vec::new();
    for name in projections::NAMES {
        let dir = tempfile::tempdir()?;
        let shared = Shared::open(dir.path())?;
        let projection = projections::by_name(name, &policy).expect("projection");
        let (log2, shared2, path) = (log.clone(), shared.clone(), dir.path().to_owned());
        tokio::spawn(async move {
            runner::run(
                projection.as_ref(),
                &path,
                &log2,
                &shared2,
                std::future::pending(),
            )
            .await
        });
        let mut rx = shared.applied.subscribe();
        rx.wait_for(|a| *a >= events).await?;
        let seen: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
        let seen2 = seen.clone();
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let applied = *rx.borrow();
                seen2
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((applied, Instant::now()));
            }
        });
        watchers.push((name, seen));
        dirs.push(dir);
    }
    let committed: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(4.0 / rate as f64));
    let end = Instant::now() + Duration::from_secs(secs);
    let mut i = 1_000_000u64;
    let mut tasks = Vec::new();
    while Instant::now() < end {
        tick.tick().await;
        let (c, committed) = (cases.clone(), committed.clone());
        i += 1;
        tasks.push(tokio::spawn(async move {
            let seq = lifecycle(&c, i).await;
            committed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((seq, Instant::now()));
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let committed = committed.lock().unwrap_or_else(|p| p.into_inner()).clone();
    println!(
        "lag run: {} commands/s offered for {secs} s ({} lifecycles)",
        rate,
        committed.len()
    );
    for (name, seen) in watchers {
        let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut lags: Vec<f64> = committed
            .iter()
            .filter(|(seq, _)| *seq > 0)
            .filter_map(|(seq, at)| {
                seen.iter()
                    .find(|(a, _)| a >= seq)
                    .map(|(_, t)| t.saturating_duration_since(*at).as_secs_f64() * 1000.0)
            })
            .collect();
        lags.sort_by(f64::total_cmp);
        if lags.is_empty() {
            println!("lag {name}: no samples");
            continue;
        }
        println!(
            "lag {name}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
            pct(&lags, 0.5),
            pct(&lags, 0.99),
            pct(&lags, 1.0),
            lags.len()
        );
    }
    Ok(())
}
