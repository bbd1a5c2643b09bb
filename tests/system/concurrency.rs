//! Concurrent writers on one case: nothing lost, nothing overwritten.

use crate::common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_commands_without_if_match_are_each_applied_once() {
    let app = spawn_app().await;
    let id = app.register().await;
    let (s, b, _) = app
        .post(
            "county-token",
            &format!("/v1/cases/{id}/accept"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    // Supervision notes: all legal in any order, so every one must land exactly once. Half go
    // through a second API instance, so the two really race on the expected sequence.
    let (second, _task) = app.second_api().await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let http = app.http.clone();
        let base = if i % 2 == 0 { &app.base } else { &second };
        let url = format!("{base}/v1/cases/{id}/supervise");
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth("county-token")
                .json(&json!({"note": format!("chase {i}")}))
                .send()
                .await
                .expect("send");
            r.status().as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        assert_eq!(t.await.expect("task"), 200);
        ok += 1;
    }
    let (s, case) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(
        case["version"],
        2 + ok,
        "1 registration + 1 acceptance + every supervision"
    );
    let (_, history) = app
        .get("county-token", &format!("/v1/cases/{id}/history"))
        .await;
    let notes: std::collections::BTreeSet<String> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "CaseSupervised")
        .map(|e| e["data"]["note"].as_str().expect("note").to_owned())
        .collect();
    assert_eq!(notes.len(), 64, "each supervision exactly once");
    let versions: Vec<u64> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["version"].as_u64().expect("v"))
        .collect();
    assert_eq!(
        versions,
        (1..=66).collect::<Vec<u64>>(),
        "versions are gapless"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_commands_with_the_same_if_match_have_exactly_one_winner() {
    let app = spawn_app().await;
    let id = app.register().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let http = app.http.clone();
        let url = format!("{}/v1/cases/{id}/supervise", app.base);
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth("county-token")
                .header("If-Match", "\"1\"")
                .json(&json!({"note": format!("chase {i}")}))
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.expect("json");
            (status, body)
        }));
    }
    let mut won = 0;
    for t in tasks {
        let (status, body) = t.await.expect("task");
        match status {
            200 => won += 1,
            409 => assert_problem(status, &body, 409, "version_conflict"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(app.history_len(&id).await, 2, "losers appended nothing");
}

/// Issue 10, in the style of Jepsen's analysis of NATS: a 3-node cluster with R3 streams under a
/// bounded load of HTTP commands and township inbox messages, while the stream leader is killed
/// (SIGKILL), a follower is paused (SIGSTOP/SIGCONT) and every node is restarted in turn. Clients
/// retry with their idempotency keys, as the contract tells them to. The checker: every
/// acknowledged command is in the log exactly once, every inbox record applied once, and the
/// live read model equals one rebuilt from the log.
/// Issue 12, finding 7: case numbers are unique, numbered per township and year of receipt. 48
/// registrations race through two API instances (two caches, as two processes would): every
/// number is given once, with no gap, in each township's own series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_numbers_are_unique_per_township_and_year_under_concurrent_registrations() {
    let app = spawn_app().await;
    let (second, _task) = app.second_api().await;
    let mut tasks = Vec::new();
    for i in 0..48 {
        let http = app.http.clone();
        let base = if i % 2 == 0 {
            app.base.clone()
        } else {
            second.clone()
        };
        let mut body = register_body();
        // Every fourth one in another township; every eighth received the year before.
        if i % 4 == 3 {
            body["township"] = json!("dongcheng");
        }
        if i % 8 == 5 {
            body["received_at"] = json!("2025-12-31T09:00:00+08:00");
        }
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/v1/cases"))
                .bearer_auth("county-token")
                .json(&body)
                .send()
                .await
                .expect("request");
            assert_eq!(r.status().as_u16(), 201);
            let v: serde_json::Value = r.json().await.expect("json");
            v["case"]["case_no"].as_str().expect("case_no").to_owned()
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.expect("task"));
    }
    let series = |prefix: &str| {
        let mut serials: Vec<u64> = numbers
            .iter()
            .filter_map(|n| n.strip_prefix(prefix))
            .map(|s| s.parse().expect("a serial"))
            .collect();
        serials.sort_unstable();
        serials
    };
    // 48: 36 of gaoqiao (6 of them received in 2025), 12 of dongcheng.
    assert_eq!(series("GAOQIAO-2026-"), (1..=30).collect::<Vec<u64>>());
    assert_eq!(series("GAOQIAO-2025-"), (1..=6).collect::<Vec<u64>>());
    assert_eq!(series("DONGCHENG-2026-"), (1..=12).collect::<Vec<u64>>());
    assert!(
        numbers
            .iter()
            .all(|n| n.len() == "GAOQIAO-2026-000001".len()
                || n.len() == "DONGCHENG-2026-000001".len()),
        "{numbers:?}"
    );
}

mod cluster_faults {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use futures::StreamExt as _;
    use serde_json::{json, Value};
    use testkit::{eventually, NatsCluster};

    use crate::common::*;

    const HTTP_CASES: usize = 60;
    const INBOX_RECORDS: usize = 60;

    fn stream_leader(info: &async_nats::jetstream::stream::Info) -> Option<String> {
        info.cluster.as_ref().and_then(|c| c.leader.clone())
    }

    /// Register and accept a case over HTTP, retrying each step under its idempotency key until
    /// it is acknowledged. Returns (case id, seq of the accept).
    async fn http_case(
        http: &reqwest::Client,
        base: &str,
        i: usize,
        retries: &Arc<AtomicUsize>,
    ) -> (String, u64) {
        let send = |path: String, body: Value, key: String| {
            let (http, base, retries) = (http.clone(), base.to_owned(), retries.clone());
            async move {
                loop {
                    let sent = http
                        .post(format!("{base}{path}"))
                        .bearer_auth("county-token")
                        .header("Idempotency-Key", key.as_str())
                        .timeout(Duration::from_secs(20))
                        .json(&body)
                        .send()
                        .await;
                    if let Ok(r) = sent {
                        let status = r.status().as_u16();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        if status < 300 {
                            return body;
                        }
                        assert!(
                            status == 503,
                            "{path}: an answer other than success or 503: {status} {body}"
                        );
                    }
                    retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        let mut reg = register_body();
        reg["summary"] = json!(format!("cluster case {i}"));
        let out = send("/v1/cases".into(), reg, format!("reg-{i}")).await;
        let id = out["case_id"].as_str().expect("case id").to_owned();
        let out = send(
            format!("/v1/cases/{id}/accept"),
            json!({}),
            format!("acc-{i}"),
        )
        .await;
        assert_eq!(out["version"], 2, "{out}");
        (id, out["seq"].as_u64().expect("seq"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_commands_survive_leader_kills_pauses_and_rolling_restarts() {
        let cluster = Arc::new(Mutex::new(NatsCluster::start(3)));
        let url = cluster.lock().expect("lock").urls();
        let text = testkit::TestConfig::county()
            .nats_url(url.clone())
            .replicas(3)
            .toml();
        let cfg = xinfang::config::Config::parse(std::path::Path::new("test.toml"), &text)
            .expect("config");
        let client = xinfang::serve::connect_cfg(&cfg, "test-cluster")
            .await
            .expect("connect");
        // The cluster elects a meta leader before it can create R3 streams.
        let cases = eventually(Duration::from_secs(60), "the R3 streams", || {
            let (cfg, client) = (cfg.clone(), client.clone());
            async move { xinfang::serve::case_service(&cfg, client).await.ok() }
        })
        .await;
        let log = xinfang::serve::open_log_with(&cfg, client.clone())
            .await
            .expect("the log");
        let state = Arc::new(api::AppState::new(
            cases.clone(),
            queries::QueryClient::new(client.clone()),
            cfg.tokens(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(api::serve(listener, state, std::future::pending()));
        let (ingest_cfg, ingest_client) = (cfg.clone(), client.clone());
        tokio::spawn(async move {
            let _ = xinfang::serve::run_ingestor_with(
                &ingest_cfg,
                ingest_client,
                std::future::pending(),
            )
            .await;
        });
        // The queues projector follows the log live.
        let models = tempfile::tempdir().expect("models");
        let projection =
            projections::by_name("queues", &cfg.policy, &testkit::config::test_keys(), None)
                .expect("queues");
        let live = models.path().join("live");
        let model = projections::runner::ModelSink::open(
            projections::by_name("queues", &cfg.policy, &testkit::config::test_keys(), None)
                .expect("queues"),
            live,
        )
        .expect("model");
        let shared = model.shared.clone();
        {
            let runner = projections::runner::Runner::new(
                log.clone(),
                vec![projections::runner::Sink::Model(model)],
            );
            tokio::spawn(async move {
                runner
                    .run(std::future::pending())
                    .await
                    .expect("the live projector");
            });
        }
        let js = client.jetstream().clone();
        eventually(Duration::from_secs(60), "the inbox stream", || {
            let js = js.clone();
            async move { js.get_stream("XF_INBOX_gaoqiao").await.ok() }
        })
        .await;

        // The load: HTTP cases on 4 clients, township records published until acknowledged.
        let http = reqwest::Client::new();
        let started = Instant::now();
        // Paced so that the load spans every fault below (about 30 s).
        let retries = Arc::new(AtomicUsize::new(0));
        let mut load = tokio::task::JoinSet::new();
        for lane in 0..4 {
            let (http, base, retries) = (http.clone(), base.clone(), retries.clone());
            load.spawn(async move {
                let mut done = Vec::new();
                for i in (lane..HTTP_CASES).step_by(4) {
                    done.push(http_case(&http, &base, i, &retries).await);
                    tokio::time::sleep(Duration::from_millis(1800)).await;
                }
                done
            });
        }
        let township = {
            let (js, retries) = (js.clone(), retries.clone());
            tokio::spawn(async move {
                for i in 0..INBOX_RECORDS {
                    let mut body = register_body();
                    body["summary"] = json!(format!("township record {i}"));
                    loop {
                        let mut h = async_nats::HeaderMap::new();
                        h.insert("Nats-Msg-Id", format!("GQ-CL-{i}").as_str());
                        let sent = async {
                            js.publish_with_headers(
                                "xf.inbox.gaoqiao.register",
                                h,
                                body.to_string().into(),
                            )
                            .await
                            .ok()?
                            .await
                            .ok()
                        };
                        if tokio::time::timeout(Duration::from_secs(10), sent)
                            .await
                            .ok()
                            .flatten()
                            .is_some()
                        {
                            break;
                        }
                        retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    tokio::time::sleep(Duration::from_millis(450)).await;
                }
            })
        };

        // The faults, while the load runs.
        let mut faults = Vec::new();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut events = js.get_stream("XF_EVENTS").await.expect("stream");
        let leader = stream_leader(events.info().await.expect("info")).expect("a leader");
        cluster
            .lock()
            .expect("lock")
            .node_named(&leader)
            .expect("node")
            .kill();
        faults.push(format!("SIGKILL of the XF_EVENTS leader {leader}"));
        tokio::time::sleep(Duration::from_secs(4)).await;
        cluster
            .lock()
            .expect("lock")
            .node_named(&leader)
            .expect("node")
            .restart();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let info = eventually(Duration::from_secs(30), "a leader", || {
            let mut s = events.clone();
            async move {
                s.info()
                    .await
                    .ok()
                    .cloned()
                    .filter(|i| stream_leader(i).is_some())
            }
        })
        .await;
        let leader = stream_leader(&info).expect("leader");
        let follower = (0..3)
            .map(|i| format!("n{i}"))
            .find(|n| *n != leader)
            .expect("a follower");
        cluster
            .lock()
            .expect("lock")
            .node_named(&follower)
            .expect("node")
            .pause();
        faults.push(format!("SIGSTOP of follower {follower} for 4 s"));
        tokio::time::sleep(Duration::from_secs(4)).await;
        cluster
            .lock()
            .expect("lock")
            .node_named(&follower)
            .expect("node")
            .resume();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut last_fault = started.elapsed();
        for i in 0..3 {
            cluster.lock().expect("lock").nodes[i].restart();
            last_fault = started.elapsed();
            faults.push(format!("restart of n{i}"));
            tokio::time::sleep(Duration::from_secs(4)).await;
        }

        // The checker.
        let mut acknowledged = Vec::new();
        while let Some(done) = load.join_next().await {
            acknowledged.extend(done.expect("an HTTP lane"));
        }
        township.await.expect("the township");
        let load_over = started.elapsed();
        assert!(
            load_over > last_fault,
            "the load ended before the last fault"
        );
        assert_eq!(acknowledged.len(), HTTP_CASES);
        for (id, _) in &acknowledged {
            let history = cases
                .history(domain::CaseId::parse(id).expect("id"))
                .await
                .expect("history");
            let versions: Vec<u64> = history.iter().map(|s| s.envelope.version).collect();
            assert_eq!(
                versions,
                vec![1, 2],
                "case {id}: each acknowledged command once"
            );
        }
        // Right after the last restart the cluster may still be electing: ask until it answers.
        let outcomes = eventually(Duration::from_secs(60), "the outcome stream", || {
            let js = js.clone();
            async move { js.get_stream("XF_OUTCOMES").await.ok() }
        })
        .await;
        let mut inbox_cases = BTreeSet::new();
        for i in 0..INBOX_RECORDS {
            let subject = format!("xf.outcome.gaoqiao.GQ-CL-{i}");
            let outcome: Value = eventually(Duration::from_secs(60), "an outcome", || {
                let (s, subject) = (outcomes.clone(), subject.clone());
                async move {
                    let m = s.direct_get_last_for_subject(subject).await.ok()?;
                    serde_json::from_slice(&m.payload).ok()
                }
            })
            .await;
            assert_eq!(outcome["status"], "applied", "record {i}: {outcome}");
            inbox_cases.insert(outcome["case_id"].as_str().expect("case").to_owned());
        }
        assert_eq!(inbox_cases.len(), INBOX_RECORDS, "each record its own case");
        // The whole log: exactly the acknowledged events, no command twice.
        let last = eventually(Duration::from_secs(60), "the log's last sequence", || {
            let cases = cases.clone();
            async move { cases.last_seq().await.ok() }
        })
        .await;
        let expected = (2 * HTTP_CASES + INBOX_RECORDS) as u64;
        let mut per_command: BTreeMap<uuid::Uuid, u32> = BTreeMap::new();
        let mut follow = log.follow(1).await.expect("follow");
        let mut seen = 0;
        while seen < last {
            let s = tokio::time::timeout(Duration::from_secs(20), follow.next())
                .await
                .expect("the log")
                .expect("an event")
                .expect("readable");
            *per_command.entry(s.envelope.command_id).or_default() += 1;
            seen = s.seq;
        }
        assert_eq!(
            per_command.values().sum::<u32>() as u64,
            expected,
            "events in the log"
        );
        assert!(
            per_command.values().all(|n| *n == 1),
            "a command appended twice"
        );
        // The live read model equals a rebuild from the log.
        eventually(Duration::from_secs(60), "the projector to catch up", || {
            let applied = *shared.applied.borrow();
            async move { (applied >= last).then_some(()) }
        })
        .await;
        let rebuilt = models.path().join("rebuilt");
        projections::runner::rebuild(projection.as_ref(), &rebuilt, &log, |_, _| {})
            .await
            .expect("rebuild");
        let rebuilt = projections::Store::open_current(&rebuilt).expect("rebuilt model");
        assert_eq!(
            shared.store().digest().expect("digest"),
            rebuilt.digest().expect("digest"),
            "the live model differs from a rebuild"
        );
        eprintln!(
            "cluster faults: {} injected ({}), {} HTTP commands and {} inbox records acknowledged, \
             {} events checked, 0 lost, 0 duplicated; {} sends retried; last fault at {:?}, \
             load done at {:?}",
            faults.len(),
            faults.join("; "),
            2 * HTTP_CASES,
            INBOX_RECORDS,
            expected,
            retries.load(Ordering::Relaxed),
            last_fault,
            load_over
        );
    }
}
