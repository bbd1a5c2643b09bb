//! `TestSystem`: the system in this process, built from the same service constructors as the
//! binary (`xinfang::serve::api_state`, `xinfang::projector::run_projectors_with`) on a real
//! nats-server of its own, with real sled files and the API on real HTTP; and helpers to talk to
//! it as a client would.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::{NatsServer, TestConfig};

/// The standard test county (`TestConfig::county`) as the services read it.
pub fn test_config() -> xinfang::config::Config {
    xinfang::config::Config::parse(Path::new("test.toml"), &TestConfig::county().toml())
        .expect("test config")
}

pub struct TestSystem {
    pub nats: NatsServer,
    pub base: String,
    pub http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    projectors: Vec<tokio::task::JoinHandle<()>>,
    pub models: tempfile::TempDir,
}

impl Drop for TestSystem {
    fn drop(&mut self) {
        self.task.abort();
        for p in &self.projectors {
            p.abort();
        }
    }
}

/// A nats-server, the API and the three read models (co-hosted, as `up` may run them).
pub async fn spawn() -> TestSystem {
    spawn_with(|_| {}).await
}

/// [`spawn`] with the configuration of the API and the projectors changed by `configure` (say,
/// snapshots every few events, or a policy).
pub async fn spawn_with(configure: impl FnOnce(&mut xinfang::config::Config)) -> TestSystem {
    let nats = NatsServer::start();
    let mut cfg = test_config();
    configure(&mut cfg);
    let (base, task) = start_api_cfg(&nats, api::server::Limits::default(), cfg.clone()).await;
    let models = tempfile::tempdir().expect("read model dir");
    let names = projections::NAMES.join(",");
    let projectors = vec![start_projector_cfg(&nats, &names, models.path(), cfg).await];
    // Ready when every projector answers (its query subscription exists).
    let queries = queries::QueryClient::new(nats.connect().await);
    for model in queries::protocol::Model::ALL {
        crate::eventually(
            std::time::Duration::from_secs(10),
            "the projector to serve",
            || {
                let queries = queries.clone();
                async move {
                    let now = chrono::Utc::now().fixed_offset();
                    queries
                        .status(model, None, now, std::time::Duration::from_secs(1))
                        .await
                        .ok()
                }
            },
        )
        .await;
    }
    TestSystem {
        nats,
        base,
        http: reqwest::Client::new(),
        task,
        projectors,
        models,
    }
}

/// Projectors in this process (`names` as on the command line: `queues,stats,audit`), with the
/// data directory `dir`.
pub async fn start_projector(
    nats: &NatsServer,
    names: &str,
    dir: &Path,
) -> tokio::task::JoinHandle<()> {
    start_projector_cfg(nats, names, dir, test_config()).await
}

async fn start_projector_cfg(
    nats: &NatsServer,
    names: &str,
    dir: &Path,
    cfg: xinfang::config::Config,
) -> tokio::task::JoinHandle<()> {
    let client = xinfang::serve::connect(&nats.url(), "test-projectors")
        .await
        .expect("connect");
    let mut cfg = cfg;
    cfg.data_dir = dir.to_owned();
    let names = projections::names::parse(names).expect("projector names");
    tokio::spawn(async move {
        let result =
            xinfang::projector::run_projectors_with(&cfg, client, &names, std::future::pending())
                .await;
        if let Err(e) = result {
            panic!("projectors {names:?} stopped: {e:#}");
        }
    })
}

async fn start_api(nats: &NatsServer) -> (String, tokio::task::JoinHandle<()>) {
    start_api_with(nats, api::server::Limits::default()).await
}

/// The API with other connection limits (the limits' own tests).
pub async fn start_api_with(
    nats: &NatsServer,
    limits: api::server::Limits,
) -> (String, tokio::task::JoinHandle<()>) {
    start_api_cfg(nats, limits, test_config()).await
}

async fn start_api_cfg(
    nats: &NatsServer,
    limits: api::server::Limits,
    cfg: xinfang::config::Config,
) -> (String, tokio::task::JoinHandle<()>) {
    let client = xinfang::serve::connect(&nats.url(), "test-api")
        .await
        .expect("connect");
    let state = xinfang::serve::api_state(&cfg, client.clone())
        .await
        .expect("the API's state");
    let app = xinfang::serve::http_app(&cfg, &client, state)
        .await
        .expect("the API and the console");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = api::server::serve(listener, app, limits, std::future::pending()).await;
    });
    (base, task)
}

impl TestSystem {
    /// A second API instance on the same NATS server: another process's view of the log.
    pub async fn restart_api(&mut self) {
        self.task.abort();
        let (base, task) = start_api(&self.nats).await;
        self.base = base;
        self.task = task;
    }

    /// The command path itself (as another process would run it), for loading data fast.
    pub async fn cases(&self) -> Arc<commands::CaseService> {
        let cfg = test_config();
        let client = xinfang::serve::connect(&self.nats.url(), "test-loader")
            .await
            .expect("connect");
        xinfang::serve::case_service(&cfg, client)
            .await
            .expect("case service")
    }

    /// Another API instance on the same NATS server (another process's cache and locks).
    pub async fn second_api(&self) -> (String, tokio::task::JoinHandle<()>) {
        start_api(&self.nats).await
    }

    pub async fn post(
        &self,
        token: &str,
        path: &str,
        body: &Value,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        self.post_with(token, path, body, &[]).await
    }

    pub async fn post_with(
        &self,
        token: &str,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body, headers)
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Register a case as the county and return its id.
    pub async fn register(&self) -> String {
        let (status, body, _) = self
            .post("county-token", "/v1/cases", &register_body())
            .await;
        assert_eq!(status, 201, "{body}");
        body["case_id"].as_str().expect("case_id").to_owned()
    }

    pub async fn history_len(&self, case_id: &str) -> usize {
        let (status, body) = self
            .get("county-token", &format!("/v1/cases/{case_id}/history"))
            .await;
        assert_eq!(status, 200, "{body}");
        body["events"].as_array().map_or(0, Vec::len)
    }
}

/// A registration body as the county sends it (with personal data, to check where it goes).
pub fn register_body() -> Value {
    json!({
        "township": "gaoqiao", "channel": "visit", "received_at": "2026-03-02T09:30:00+08:00",
        "headcount": 6, "level_reached": "county", "category": "land", "summary": "Compensation unpaid",
        "petitioners": [{"name": "张三", "id_number": "330102199001011234", "phone": "13800000000", "address": "高桥镇一村"}],
        "related_case_id": null, "accusation": false, "confidential": false
    })
}
