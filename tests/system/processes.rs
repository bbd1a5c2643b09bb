//! The real binary as separate processes: `xinfang up` end to end, and restarts of the API process
//! and of nats-server that lose nothing.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{free_port, NatsServer};

const BIN: &str = env!("CARGO_BIN_EXE_xinfang");

fn config(http_port: u16, data: &std::path::Path) -> String {
    testkit::TestConfig::new()
        .http_port(http_port)
        .data_dir(data)
        .unit("gaoqiao", "高桥镇", "township")
        .unit("dongcheng", "东城镇", "township")
        .unit("land_bureau", "县自然资源局", "department")
        .principal("county-token", "county-1", "county", None)
        .toml()
}

fn register_body(i: usize) -> Value {
    json!({
        "township": "gaoqiao", "channel": "letter", "received_at": "2026-03-02T09:30:00+08:00",
        "headcount": 1, "level_reached": "township", "category": "wages", "summary": format!("case {i}"),
        "petitioners": [{"name": "李四"}], "late_reason": "历史数据导入"
    })
}

async fn register_as_county(http: &reqwest::Client, base: &str, i: usize) -> Value {
    let resp = http
        .post(format!("{base}/v1/cases"))
        .bearer_auth("county-token")
        .json(&register_body(i))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status().as_u16(), 201);
    resp.json().await.expect("json")
}

async fn case_as_county(http: &reqwest::Client, base: &str, id: &str) -> Value {
    let resp = http
        .get(format!("{base}/v1/cases/{id}"))
        .bearer_auth("county-token")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.expect("json")
}

fn sigterm(child: &Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "process did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process that a failing test does not leave behind: dropped while still running, it is
/// stopped (SIGTERM, then SIGKILL after 10 s), so `up` takes its own children down with it.
struct Running(Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            sigterm(&self.0);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(self.0.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Start `xinfang up` and read its stdout until `ready`; returns the child and the lines.
fn start_up(cfg: &std::path::Path, extra: &[&str]) -> (Running, Vec<String>) {
    let (child, lines) = xinfang::up::spawn_up(BIN.as_ref(), cfg, extra, Duration::from_secs(90))
        .unwrap_or_else(|e| panic!("{e:#}"));
    (Running(child), lines)
}

#[tokio::test]
async fn up_serves_the_demo_stops_on_sigterm_and_finds_everything_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let cfg = dir.path().join("xinfang.toml");
    // No secrets configured: `up` generates them into the data dir.
    let text = config(port, &dir.path().join("data"));
    let text = text.replace(
        &format!("identity_key = {:?}", testkit::config::TEST_IDENTITY_KEY),
        "",
    );
    let text = text.replace(
        &format!(
            "query_code_key = {:?}",
            testkit::config::TEST_QUERY_CODE_KEY
        ),
        "",
    );
    assert!(!text.contains("identity_key"), "{text}");
    // The demo states why its history is entered late, so it loads under the strict policy.
    let text = text + "[policy]\nrequire_late_reason = true\n";
    std::fs::write(&cfg, text).expect("write config");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let (mut up, lines) = start_up(&cfg, &["--demo"]);
    assert!(lines[0].starts_with("nats nats://127.0.0.1:"), "{lines:?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some(format!("ready {base}").as_str())
    );
    let health: Value = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    let demo_seq = health["last_seq"].as_u64().expect("seq");
    assert!(
        demo_seq >= 300,
        "demo loaded at least one event per case: {health}"
    );
    demo_links_and_no_plain_identifiers(&http, &base, dir.path(), demo_seq).await;
    let reg = register_as_county(&http, &base, 0).await;
    let id = reg["case_id"].as_str().expect("id").to_owned();
    sigterm(&up);
    assert!(
        wait_exit(&mut up, Duration::from_secs(30)).success(),
        "up exits cleanly on SIGTERM"
    );
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "the API child stopped too"
    );

    // Started again with JSON logs: every line its services write is one JSON object.
    let (mut up, _) = start_up(&cfg, &["--demo", "--log-format", "json"]);
    let case = case_as_county(&http, &base, &id).await;
    let api_log = std::fs::read_to_string(dir.path().join("data/logs/api.log")).expect("api log");
    let since_restart: Vec<&str> = api_log
        .lines()
        .skip_while(|l| !l.starts_with('{'))
        .collect();
    assert!(
        !since_restart.is_empty(),
        "the restarted api logged JSON: {api_log}"
    );
    for line in since_restart {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
    assert_eq!(case["version"], 1, "{case}");
    let health: Value = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(
        health["last_seq"].as_u64(),
        Some(demo_seq + 1),
        "demo not loaded twice"
    );
    sigterm(&up);
    assert!(wait_exit(&mut up, Duration::from_secs(30)).success());
}

/// The demo's returning petitioners and its matter sent to two townships are recognised; the
/// secrets `up` generated are private; and a plain ID number or phone is in no read-model file,
/// log line or metric, nor in the NATS store under `data/nats` (the log holds them sealed, the
/// identity index keyed hashes).
async fn demo_links_and_no_plain_identifiers(
    http: &reqwest::Client,
    base: &str,
    dir: &std::path::Path,
    seq: u64,
) {
    let get = |path: String| async move {
        let resp = http
            .get(format!("{base}{path}"))
            .bearer_auth("county-token")
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status().as_u16(), 200);
        resp.json::<Value>().await.expect("json")
    };
    let dups = get(format!("/v1/cases?flag=duplicate&min_seq={seq}")).await;
    let pair: Vec<&Value> = dups["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|c| {
            c["summary"]
                .as_str()
                .is_some_and(|s| s.contains("同一封信"))
        })
        .collect();
    assert_eq!(pair.len(), 2, "the demo's 一信多投 pair: {dups}");
    assert_ne!(pair[0]["township"], pair[1]["township"]);
    // The demo has the same months a year earlier: year-on-year shows a change.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let from = today - chrono::Duration::days(200);
    let yoy = get(format!("/v1/stats?from={from}&to={today}&compare=yoy")).await;
    assert_eq!(
        yoy["previous"]["total"]["items"],
        loadgen::demo::PRIOR_YEAR_CASES,
        "{yoy}"
    );
    assert!(
        yoy["change"]["items"].as_f64().is_some_and(|c| c > 0.0),
        "{yoy}"
    );
    let repeats = get("/v1/cases?flag=repeat&limit=1000".into()).await;
    assert!(
        !repeats["items"].as_array().expect("items").is_empty(),
        "returning petitioners"
    );
    // Old cases (积案): a third case of one matter with its plan, and a plan past its date.
    let backlog = get("/v1/cases?flag=backlog&limit=1000".into()).await;
    let items = backlog["items"].as_array().expect("items");
    assert!(
        items.iter().any(|c| c["repeat_rank"] == 3
            && c["resolution_plan"]["leader"] == "王建华"
            && c["resolution_plan"]["overdue"] == false),
        "{backlog}"
    );
    assert!(
        items
            .iter()
            .any(|c| c["resolution_plan"]["overdue"] == true),
        "{backlog}"
    );
    let id_number = domain::identity::with_check_digit("33010219780512345").expect("id");
    let found = http
        .post(format!("{base}/v1/cases/search"))
        .bearer_auth("county-token")
        .json(&json!({"id_number": id_number}))
        .send()
        .await
        .expect("search")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(found["items"].as_array().map(Vec::len), Some(2), "{found}");
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let data = dir.join("data");
    for secret in ["identity.key", "query-code.key"] {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(data.join("secrets").join(secret)).expect("generated");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{secret}");
    }
    let plain = [id_number.as_str(), "13905710001"];
    for p in plain {
        assert!(!metrics.contains(p), "metrics hold {p}");
    }
    let mut files = Vec::new();
    let mut dirs = vec![data.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files
        .iter()
        .any(|f| f.starts_with(data.join("projections/cases"))));
    assert!(
        files.iter().any(|f| f.starts_with(data.join("nats"))),
        "the NATS store is searched too"
    );
    for file in files {
        let bytes = std::fs::read(&file).expect("read");
        for p in plain {
            assert!(
                !bytes.windows(p.len()).any(|w| w == p.as_bytes()),
                "{} holds {p}",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn killing_the_api_and_restarting_nats_loses_nothing() {
    let mut nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let cfg = dir.path().join("xinfang.toml");
    std::fs::write(&cfg, config(port, &dir.path().join("data"))).expect("write config");
    let nats_url = nats.url();
    let spawn_api = || {
        Command::new(BIN)
            .args(["api", "--config"])
            .arg(&cfg)
            .env("XF_NATS_URL", &nats_url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(Running)
            .expect("spawn api")
    };
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let wait_ready = || async {
        testkit::eventually(Duration::from_secs(30), "the API to serve", || async {
            let r = http.get(format!("{base}/healthz")).send().await.ok()?;
            r.status().is_success().then_some(())
        })
        .await
    };
    // A command that may have to ride out a restart: retried with one Idempotency-Key, so a
    // retry of a command that did land is not applied twice.
    let command = |path: String, body: Value, key: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            testkit::eventually(Duration::from_secs(30), "the command to be applied", || {
                let (http, path, body, key) =
                    (http.clone(), path.clone(), body.clone(), key.clone());
                let base = base.clone();
                async move {
                    let r = http
                        .post(format!("{base}{path}"))
                        .bearer_auth("county-token")
                        .header("Idempotency-Key", key)
                        .json(&body)
                        .send()
                        .await
                        .ok()?;
                    let status = r.status().as_u16();
                    let body: Value = r.json().await.ok()?;
                    assert!(
                        status < 500 || status == 503,
                        "no 5xx but 503: {status} {body}"
                    );
                    (status == 200 || status == 201).then_some(body)
                }
            })
            .await
        }
    };

    let mut api = spawn_api();
    wait_ready().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let reg = command("/v1/cases".into(), register_body(i), format!("reg-{i}")).await;
        let id = reg["case_id"].as_str().expect("id").to_owned();
        command(
            format!("/v1/cases/{id}/accept"),
            json!({}),
            format!("acc-{i}"),
        )
        .await;
        ids.push(id);
    }
    api.kill().expect("SIGKILL api");
    let _ = api.wait();
    nats.restart();
    let mut api = spawn_api();
    wait_ready().await;
    for (i, id) in ids.iter().enumerate() {
        // Retrying the same keys after both restarts must not apply anything again.
        let acc = command(
            format!("/v1/cases/{id}/accept"),
            json!({}),
            format!("acc-{i}"),
        )
        .await;
        assert_eq!(acc["version"], 2, "{acc}");
        let case: Value = http
            .get(format!("{base}/v1/cases/{id}"))
            .bearer_auth("county-token")
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(
            (case["version"].as_u64(), case["status"].as_str()),
            (Some(2), Some("accepted")),
            "{case}"
        );
        // The case comes from the log; without a cases projector its links are not known.
        assert_eq!(case["links_unknown"], true, "{case}");
    }
    // And the system keeps working: a new step on every case.
    for (i, id) in ids.iter().enumerate() {
        let r = command(
            format!("/v1/cases/{id}/reply"),
            json!({"outcome": "explained", "text": "t"}),
            format!("rep-{i}"),
        )
        .await;
        assert_eq!(r["version"], 3);
    }
    api.kill().expect("kill");
    let _ = api.wait();
}

#[tokio::test]
async fn up_killed_hard_leaves_nothing_behind_and_starts_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let cfg = dir.path().join("xinfang.toml");
    std::fs::write(&cfg, config(port, &dir.path().join("data"))).expect("write config");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let (mut up, lines) = start_up(&cfg, &[]);
    let nats_addr = lines[0].trim_start_matches("nats nats://").to_owned();
    let reg = register_as_county(&http, &base, 1).await;
    up.kill().expect("SIGKILL up");
    let _ = up.wait();
    // The API child notices and stops; the port is free again.
    testkit::eventually(Duration::from_secs(10), "the orphaned API to stop", || {
        let http = http.clone();
        let url = format!("{base}/healthz");
        async move { http.get(url).send().await.is_err().then_some(()) }
    })
    .await;
    let (mut up, lines) = start_up(&cfg, &[]);
    // The leftover managed server was stopped, and the new one took the same address, kept in
    // the data dir (issue 10: the URL given to townships changed at every restart).
    assert_eq!(lines[0], format!("nats nats://{nats_addr}"));
    let id = reg["case_id"].as_str().expect("id");
    let case = case_as_county(&http, &base, id).await;
    assert_eq!(case["version"], 1, "{case}");
    sigterm(&up);
    assert!(wait_exit(&mut up, Duration::from_secs(30)).success());
}

/// A SIGTERM right after `ready` (a supervisor stopping what it just started) stops `up` cleanly;
/// it used to arrive before `up` listened for it and kill it with the default action.
#[tokio::test]
async fn up_stopped_right_after_ready_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("xinfang.toml");
    std::fs::write(&cfg, config(free_port(), &dir.path().join("data"))).expect("write config");
    for _ in 0..3 {
        let (mut up, _) = start_up(&cfg, &[]);
        sigterm(&up);
        let status = wait_exit(&mut up, Duration::from_secs(30));
        assert!(status.success(), "{status}");
    }
}

#[tokio::test]
async fn case_history_prints_the_log_as_json_lines() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let cfg_path = dir.path().join("xinfang.toml");
    std::fs::write(&cfg_path, config(free_port(), &dir.path().join("data"))).expect("write config");
    let cfg = xinfang::config::Config::load(&cfg_path).expect("config");
    let cases = xinfang::serve::case_service(&cfg, nats.connect().await)
        .await
        .expect("cases");
    let county = crate::common::county();
    let body = serde_json::to_vec(&register_body(7)).expect("json");
    let req = |case_id, command| commands::CommandRequest::new(&county, case_id, command);
    let (command, _) = domain::Action::Register
        .decode(&body)
        .expect("register body");
    let id = cases
        .execute(req(None, command))
        .await
        .expect("register")
        .committed
        .case_id;
    let (accept, _) = domain::Action::Accept.decode(b"{}").expect("accept body");
    cases.execute(req(Some(id), accept)).await.expect("accept");
    let out = Command::new(BIN)
        .args(["case", "history", &id.to_string(), "--config"])
        .arg(&cfg_path)
        .env("XF_NATS_URL", nats.url())
        .output()
        .expect("case history");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let types: Vec<&str> = lines.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["CaseRegistered", "CaseAccepted"]);
    assert_eq!(lines[1]["version"], 2);
    assert_eq!(lines[0]["actor"]["id"], "county-1");
    let missing = Command::new(BIN)
        .args([
            "case",
            "history",
            &uuid::Uuid::now_v7().to_string(),
            "--config",
        ])
        .arg(&cfg_path)
        .env("XF_NATS_URL", nats.url())
        .output()
        .expect("case history");
    assert!(!missing.status.success(), "an unknown case is an error");
}
