//! The workloads of `xinfang bench`: case lifecycles through the command path (in process, as the
//! API and the ingestor run it) and over HTTP, one long case, and projection lag.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;

use commands::{CaseService, CommandRequest};
use domain::command::*;
use domain::*;

pub fn bench_principal() -> Principal {
    Principal {
        id: PrincipalId("bench".into()),
        role: Role::County,
        unit: None,
    }
}

pub const TOWNSHIPS: [&str; 3] = ["gaoqiao", "dongcheng", "xishan"];

/// The token of a clerk of `township` in the bench's configuration (it acknowledges, 签收).
pub fn clerk_token(township: &str) -> String {
    format!("bench-{township}-token")
}

/// A clerk of `township`, as the bench's configuration names it.
pub fn clerk(township: &UnitCode) -> Principal {
    Principal {
        id: PrincipalId(format!("bench-{township}")),
        role: Role::Clerk,
        unit: Some(township.clone()),
    }
}

/// A registration as the API takes it, for case `i`: received in the past year, so entered
/// late with its reason (补录).
pub fn registration(i: u64) -> RegisterCase {
    let t = Utc::now().fixed_offset() - chrono::Duration::days(1 + (i % 300) as i64);
    RegisterCase {
        late_reason: Some(crate::steps::LATE_REASON.into()),
        township: UnitCode::parse(TOWNSHIPS[(i % 3) as usize]).expect("a valid unit code"),
        channel: if i.is_multiple_of(2) {
            Channel::Visit
        } else {
            Channel::Phone
        },
        received_at: t,
        headcount: 1 + (i % 9) as u32,
        level_reached: Level::County,
        category: Category::Land,
        summary: "Compensation for requisitioned farmland not paid in full".into(),
        petitioners: vec![petitioner(i)],
        related_case_id: None,
        accusation: false,
        confidential: false,
        leader_reception: false,
        accused_unit: None,
    }
}

/// The petitioner of the `i`-th registration: one person in 16.8 million, each with their own
/// valid ID number and phone (a realistic spread for the identity index).
pub fn petitioner(i: u64) -> Petitioner {
    Petitioner {
        name: "张三".into(),
        id_number: Some(id_number(i)),
        phone: Some(format!("138{:08}", i % 100_000_000)),
        address: None,
    }
}

/// A valid resident ID number for `i`.
pub fn id_number(i: u64) -> String {
    let first17 = format!(
        "330102{}{:02}{:02}{:03}",
        1950 + i % 50,
        1 + (i / 50) % 12,
        1 + (i / 600) % 28,
        (i / 16_800) % 1000
    );
    domain::identity::with_check_digit(&first17).unwrap_or_default()
}

/// Events of one lifecycle: the registration, 签收 and [`lifecycle_steps`].
pub const LIFECYCLE_EVENTS: u64 = 5;

/// The acknowledgement (签收) by the township, right after the county registered for it.
pub fn acknowledgement() -> Command {
    Command::Acknowledge(AcknowledgeCase {
        occurred_at: None,
        late_reason: None,
    })
}

/// The county's steps after registration and 签收: accept, reply, close.
pub fn lifecycle_steps() -> [Command; 3] {
    [
        Command::Accept(AcceptCase {
            late_reason: None,
            occurred_at: None,
            new_facts: None,
        }),
        Command::Reply(ReplyCase {
            late_reason: None,
            outcome: Outcome::Explained,
            text: "Written reply delivered".into(),
            occurred_at: None,
        }),
        Command::Close(CloseCase {
            late_reason: None,
            note: None,
            occurred_at: None,
        }),
    ]
}

async fn exec(
    cases: &CaseService,
    p: &Principal,
    case_id: Option<CaseId>,
    command: Command,
) -> Option<(CaseId, u64)> {
    let out = cases
        .execute(CommandRequest::new(p, case_id, command))
        .await
        .ok()?;
    Some((out.committed.case_id, out.committed.seq))
}

/// One case through its lifecycle in process; the last sequence, or `None` if a step failed.
pub async fn lifecycle(cases: &CaseService, i: u64) -> Option<u64> {
    let p = bench_principal();
    let registration = registration(i);
    let township = clerk(&registration.township);
    let (id, _) = exec(cases, &p, None, Command::Register(registration)).await?;
    let mut seq = exec(cases, &township, Some(id), acknowledgement()).await?.1;
    for step in lifecycle_steps() {
        seq = exec(cases, &p, Some(id), step).await?.1;
    }
    Some(seq)
}

/// Add `events` events to the log with 64 concurrent lifecycles.
pub async fn load(cases: Arc<CaseService>, events: u64, progress: bool) -> u64 {
    let todo = events.div_ceil(LIFECYCLE_EVENTS);
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    futures::stream::iter(0..todo)
        .for_each_concurrent(64, |i| {
            let (c, done) = (cases.clone(), done.clone());
            async move {
                lifecycle(&c, 1_000_000 + i).await;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if progress && n % 25_000 == 0 {
                    eprintln!(
                        "bench: loaded {} events ({:.0} events/s)",
                        n * LIFECYCLE_EVENTS,
                        (n * LIFECYCLE_EVENTS) as f64 / started.elapsed().as_secs_f64()
                    );
                }
            }
        })
        .await;
    todo * LIFECYCLE_EVENTS
}

/// One case with `events` events: registered, accepted, then supervised over and over.
pub async fn long_case(cases: &CaseService, events: usize) -> anyhow::Result<CaseId> {
    let p = bench_principal();
    let (id, _) = exec(cases, &p, None, Command::Register(registration(7)))
        .await
        .ok_or_else(|| anyhow::anyhow!("registering the long case failed"))?;
    exec(
        cases,
        &p,
        Some(id),
        Command::Accept(AcceptCase {
            late_reason: None,
            occurred_at: None,
            new_facts: None,
        }),
    )
    .await
    .ok_or_else(|| anyhow::anyhow!("accepting the long case failed"))?;
    for n in 2..events {
        let step = Command::Supervise(SuperviseCase {
            late_reason: None,
            note: format!("Supervision {n}: report progress"),
            due_date: None,
            occurred_at: None,
        });
        exec(cases, &p, Some(id), step)
            .await
            .ok_or_else(|| anyhow::anyhow!("supervising the long case failed"))?;
    }
    Ok(id)
}

/// Commands per second over HTTP with `clients` concurrent clients, each running lifecycles for
/// `time`; and every command's latency in milliseconds.
pub async fn http_commands(
    base: &str,
    token: &str,
    clients: usize,
    time: Duration,
) -> (f64, Vec<f64>) {
    let http = reqwest::Client::new();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (http, lat) = (http.clone(), latencies.clone());
        let (base, auth) = (base.to_owned(), format!("Bearer {token}"));
        tasks.spawn(async move {
            let mut done = 0u64;
            let mut i = (c as u64) << 32;
            while start.elapsed() < time {
                i += 1;
                let t = Instant::now();
                let reg = http
                    .post(format!("{base}/v1/cases"))
                    .header("Authorization", &auth)
                    .json(&Command::Register(registration(i)).body())
                    .send()
                    .await;
                let Ok(reg) = reg else { continue };
                let Ok(v) = reg.json::<serde_json::Value>().await else {
                    continue;
                };
                lat.lock()
                    .expect("lock")
                    .push(t.elapsed().as_secs_f64() * 1e3);
                done += 1;
                let Some(id) = v["case_id"].as_str().map(str::to_owned) else {
                    continue;
                };
                let township = TOWNSHIPS[(i % 3) as usize];
                let clerk = format!("Bearer {}", clerk_token(township));
                let steps = std::iter::once((acknowledgement(), &clerk))
                    .chain(lifecycle_steps().into_iter().map(|s| (s, &auth)));
                for (step, auth) in steps {
                    let t = Instant::now();
                    let ok = http
                        .post(format!("{base}/v1/cases/{id}/{}", step.action().as_str()))
                        .header("Authorization", auth)
                        .json(&step.body())
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    if !ok {
                        break;
                    }
                    lat.lock()
                        .expect("lock")
                        .push(t.elapsed().as_secs_f64() * 1e3);
                    done += 1;
                }
            }
            done
        });
    }
    let mut total = 0;
    while let Some(n) = tasks.join_next().await {
        total += n.unwrap_or(0);
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    let lat = latencies.lock().expect("lock").clone();
    (rate, lat)
}

/// Milliseconds from each command's acknowledgement until each projector process has applied it
/// (asked with `min_seq`, so the projector answers the moment it has), while commands arrive at
/// `rate` per second for `time`.
pub async fn projection_lag(
    cases: Arc<CaseService>,
    client: eventlog::Connection,
    rate: f64,
    time: Duration,
) -> Vec<f64> {
    let lags = Arc::new(Mutex::new(Vec::new()));
    let per_lifecycle = Duration::from_secs_f64(LIFECYCLE_EVENTS as f64 / rate);
    let mut tick = tokio::time::interval(per_lifecycle);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut i = 10_000_000u64;
    while start.elapsed() < time {
        tick.tick().await;
        i += 1;
        let (cases, client, lags) = (cases.clone(), client.clone(), lags.clone());
        tasks.spawn(async move {
            let Some(seq) = lifecycle(&cases, i).await else {
                return;
            };
            let acked = Instant::now();
            for model in queries::protocol::Model::ALL {
                if let Some(lag) = applied_after(&client, model, seq, acked).await {
                    lags.lock().expect("lock").push(lag);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let lags = lags.lock().expect("lock").clone();
    lags
}

async fn applied_after(
    client: &eventlog::Connection,
    projector: queries::protocol::Model,
    seq: u64,
    since: Instant,
) -> Option<f64> {
    let status = queries::QueryClient::new(client.clone())
        .status(
            projector,
            Some(seq),
            Utc::now().fixed_offset(),
            queries::protocol::MIN_SEQ_WAIT + Duration::from_secs(2),
        )
        .await
        .ok()?;
    (status.applied_seq >= seq).then(|| since.elapsed().as_secs_f64() * 1e3)
}

/// Latencies in milliseconds of `n` sequential GETs.
pub async fn get_latencies(url: &str, token: &str, n: usize) -> anyhow::Result<Vec<f64>> {
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = http
            .get(url)
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "GET {url}: {}", r.status());
        r.bytes().await?;
        out.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(out)
}

/// The data rows of a CSV export at `url`, read as it streams (chunk by chunk, never held whole).
pub async fn export_rows(url: &str, token: &str) -> anyhow::Result<u64> {
    let mut r = reqwest::Client::new()
        .get(url)
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "GET {url}: {}", r.status());
    let mut lines = 0u64;
    while let Some(chunk) = r.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    // The header line is no case.
    Ok(lines.saturating_sub(1))
}

/// Latencies (ms) of `n` pages of the listing at `first` (which takes `cursor`), following
/// `next_cursor` through it and starting over at the end, so every depth of it is timed.
pub async fn page_latencies(first: &str, token: &str, n: usize) -> anyhow::Result<Vec<f64>> {
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(n);
    let mut cursor: Option<String> = None;
    for _ in 0..n {
        let url = match &cursor {
            Some(c) => format!("{first}&cursor={c}"),
            None => first.to_owned(),
        };
        let t = Instant::now();
        let r = http
            .get(&url)
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "GET {url}: {}", r.status());
        let page: serde_json::Value = r.json().await?;
        out.push(t.elapsed().as_secs_f64() * 1e3);
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    Ok(out)
}

/// Latencies (ms) of `n` POSTs of `body(k)` to `url`.
pub async fn post_latencies(
    url: &str,
    token: &str,
    n: usize,
    body: impl Fn(usize) -> serde_json::Value,
) -> anyhow::Result<Vec<f64>> {
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let t = Instant::now();
        let r = http
            .post(url)
            .header("Authorization", format!("Bearer {token}"))
            .json(&body(k))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "POST {url}: {}", r.status());
        r.bytes().await?;
        out.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(out)
}

/// Raw sled: batches of 1000 inserts of 300-byte values.
pub fn raw_sled_batch_per_s(n: u64) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let db = sled::open(dir.path())?;
    let value = vec![7u8; 300];
    let started = Instant::now();
    let mut i = 0u64;
    while i < n {
        let mut batch = sled::Batch::default();
        for _ in 0..1000 {
            batch.insert(&i.to_be_bytes(), value.as_slice());
            i += 1;
        }
        db.apply_batch(batch)?;
    }
    db.flush()?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}
