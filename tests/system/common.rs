#![allow(dead_code)]
//! `spawn_app()`: a real nats-server (test kit), the real API router on a random port, real HTTP.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use testkit::NatsServer;

/// The standard test county (testkit's builder) as the services read it.
pub fn test_config() -> xinfang::config::Config {
    xinfang::config::Config::parse(
        Path::new("test.toml"),
        &testkit::TestConfig::county().toml(),
    )
    .expect("test config")
}

pub struct App {
    pub nats: NatsServer,
    pub base: String,
    pub http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    projectors: Vec<tokio::task::JoinHandle<()>>,
    pub models: tempfile::TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
        for p in &self.projectors {
            p.abort();
        }
    }
}

pub async fn spawn_app() -> App {
    let nats = NatsServer::start();
    let (base, task) = start_api(&nats).await;
    let models = tempfile::tempdir().expect("read model dir");
    let mut projectors = Vec::new();
    for name in projections::NAMES {
        projectors.push(start_projector(&nats, name, models.path()).await);
    }
    // Ready when every projector answers (its query subscription exists).
    let queries = queries::QueryClient::new(nats.connect().await);
    for name in projections::NAMES {
        testkit::eventually(
            std::time::Duration::from_secs(10),
            "the projector to serve",
            || {
                let queries = queries.clone();
                async move {
                    let now = chrono::Utc::now().fixed_offset();
                    queries
                        .status(name, None, now, std::time::Duration::from_secs(1))
                        .await
                        .ok()
                }
            },
        )
        .await;
    }
    App {
        nats,
        base,
        http: reqwest::Client::new(),
        task,
        projectors,
        models,
    }
}

/// A projector in this process: its runner and its query service, on a real sled directory.
pub async fn start_projector(
    nats: &NatsServer,
    name: &str,
    dir: &Path,
) -> tokio::task::JoinHandle<()> {
    let cfg = test_config();
    let client = xinfang::serve::connect(&nats.url(), name)
        .await
        .expect("connect");
    let mut cfg = cfg;
    cfg.data_dir = dir.to_owned();
    let name = name.to_owned();
    tokio::spawn(async move {
        let names = [name.clone()];
        let result =
            xinfang::projector::run_projectors_with(&cfg, client, &names, std::future::pending())
                .await;
        if let Err(e) = result {
            panic!("projector {name} stopped: {e:#}");
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
    let cfg = test_config();
    let client = xinfang::serve::connect(&nats.url(), "test-api")
        .await
        .expect("connect");
    let state = xinfang::serve::api_state(&cfg, client)
        .await
        .expect("the API's state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ =
            api::server::serve(listener, api::router(state), limits, std::future::pending()).await;
    });
    (base, task)
}

impl App {
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

pub fn register_body() -> Value {
    json!({
        "township": "gaoqiao", "channel": "visit", "received_at": "2026-03-02T09:30:00+08:00",
        "headcount": 6, "level_reached": "county", "category": "land", "summary": "Compensation unpaid",
        "petitioners": [{"name": "张三", "id_number": "330102199001011234", "phone": "13800000000", "address": "高桥镇一村"}],
        "related_case_id": null, "accusation": false, "confidential": false
    })
}

/// Every response that is an error must be problem+json with the documented fields.
pub fn assert_problem(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "problem without {field}: {body}");
    }
}
