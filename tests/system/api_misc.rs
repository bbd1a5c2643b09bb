//! OpenAPI, health, metrics, read-your-writes.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn openapi_lists_every_path_and_schema() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .http
        .get(format!("{}/v1/openapi.json", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    for path in [
        "/v1/cases/{case_id}",
        "/v1/cases/by-no/{case_no}",
        "/v1/cases/{case_id}/history",
        "/v1/queues/{unit}",
        "/v1/stats",
        "/v1/audit/actors/{principal_id}",
        "/v1/workbench",
        "/v1/cases/{case_id}/attachments/{attachment_id}",
        "/v1/adjustments",
        "/v1/adjustments/{adjustment_id}",
        "/v1/scorecards",
        "/v1/erasures",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    for action in domain::Action::ALL {
        let path = match action {
            domain::Action::Register => "/v1/cases".to_string(),
            // Evidence is posted with its bytes.
            domain::Action::Attach => "/v1/cases/{case_id}/attachments".to_string(),
            // 核减 have paths of their own.
            domain::Action::RequestAdjustment => "/v1/adjustments".to_string(),
            domain::Action::ApproveAdjustment => "/v1/adjustments/{adjustment_id}/approve".into(),
            domain::Action::RevokeAdjustment => "/v1/adjustments/{adjustment_id}/revoke".into(),
            domain::Action::ApproveErasure => "/v1/erasures/{erasure_id}/approve".into(),
            // A document is numbered by its first GET (issue 33).
            domain::Action::IssueDocument => {
                let path = "/v1/cases/{case_id}/documents/{kind}";
                assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
                continue;
            }
            a => format!("/v1/cases/{{case_id}}/{}", a.as_str()),
        };
        assert!(doc["paths"][&path]["post"].is_object(), "{path} missing");
    }
    for schema in [
        "RegisterCase",
        "CaseView",
        "Problem",
        "Petitioner",
        "Flags",
        "Channel",
        "Queue",
        "Report",
        "Measures",
        "Rate",
        "AuditEvent",
        "ActorTrail",
        "History",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
    // The document names the values the API takes (it listed `Land` for `land`; found by the
    // schema-driven fuzzing).
    let names = |all: &[&str]| all.iter().map(|s| json!(s)).collect::<Vec<_>>();
    let vocabularies: [(&str, Vec<&str>); 4] = [
        (
            "Category",
            domain::Category::ALL.iter().map(|c| c.as_str()).collect(),
        ),
        (
            "Channel",
            domain::Channel::ALL.iter().map(|c| c.as_str()).collect(),
        ),
        (
            "Outcome",
            domain::Outcome::ALL.iter().map(|c| c.as_str()).collect(),
        ),
        (
            "Satisfaction",
            domain::Satisfaction::ALL
                .iter()
                .map(|c| c.as_str())
                .collect(),
        ),
    ];
    for (schema, values) in vocabularies {
        assert_eq!(
            doc["components"]["schemas"][schema]["enum"].as_array(),
            Some(&names(&values)),
            "{schema}"
        );
    }
}

#[tokio::test]
async fn min_seq_waits_for_the_log_and_gives_up_with_503() {
    let app = spawn_app().await;
    let (_, reg, _) = app
        .post("county-token", "/v1/cases", &register_body())
        .await;
    let id = reg["case_id"].as_str().expect("id");
    let seq = reg["seq"].as_u64().expect("seq");
    let (s, c) = app
        .get("county-token", &format!("/v1/cases/{id}?min_seq={seq}"))
        .await;
    assert_eq!(s, 200);
    assert!(c["applied_seq"].as_u64().expect("applied") >= seq);
    let resp = app
        .http
        .get(format!("{}/v1/cases/{id}?min_seq={}", app.base, seq + 1000))
        .bearer_auth("county-token")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 503);
    assert!(resp.headers().get("retry-after").is_some());
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_problem(503, &body, 503, "unavailable");
}

#[tokio::test]
async fn metrics_count_commands_and_carry_no_personal_data() {
    let app = spawn_app().await;
    let id = app.register().await;
    let _ = app
        .post("county-token", &format!("/v1/cases/{id}/close"), &json!({}))
        .await;
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"xf_commands_total{action="register",outcome="applied"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"xf_commands_total{action="close",outcome="invalid_transition"} 1"#),
        "{text}"
    );
    for secret in ["张三", "330102199001011234", "13800000000"] {
        assert!(!text.contains(secret));
    }
    let health: serde_json::Value = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn metrics_show_each_projector() {
    let app = spawn_app().await;
    let id = app.register().await;
    assert_eq!(
        app.history_len(&id).await,
        1,
        "the audit projector has the case"
    );
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    for name in projections::NAMES {
        assert!(
            text.contains(&format!("xf_projector_applied_seq{{projector=\"{name}\"}}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("xf_projector_lag{{projector=\"{name}\"}}")),
            "{text}"
        );
    }
}

/// Issue 10, findings 4 and 9: slow and idle clients cannot exhaust the API, and every error
/// answer, also one hyper gives for a request it cannot parse, is problem+json.
mod limits {
    use std::time::{Duration, Instant};

    use crate::common::*;
    use serde_json::Value;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    fn addr(base: &str) -> String {
        base.trim_start_matches("http://").to_owned()
    }

    /// Send raw bytes, read the whole answer until the server closes (or 5 s).
    async fn raw(base: &str, request: &[u8]) -> (u16, String, Value) {
        let mut s = TcpStream::connect(addr(base)).await.expect("connect");
        s.write_all(request).await.expect("write");
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no answer: {text:?}"));
        let (head, body) = text.split_once("\r\n\r\n").expect("a head");
        let body = serde_json::from_str(body).unwrap_or(Value::Null);
        (status, head.to_ascii_lowercase(), body)
    }

    #[tokio::test]
    async fn requests_hyper_cannot_parse_get_problem_json() {
        let app = spawn_app().await;
        let huge = format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(1024 * 1024)
        );
        let rows: Vec<(Vec<u8>, u16)> = vec![
            (b"GARBAGE\r\n\r\n".to_vec(), 400),
            (b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n".to_vec(), 400),
            (huge.into_bytes(), 431),
            // A path parameter that is not UTF-8: the router's own rejection.
            (
                b"GET /v1/cases/%FF%FE HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer county-token\r\nConnection: close\r\n\r\n".to_vec(),
                400,
            ),
            (
                b"POST /v1/cases/%FF/accept HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer county-token\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec(),
                400,
            ),
        ];
        for (request, expected) in rows {
            let (status, head, body) = raw(&app.base, &request).await;
            let shown = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
            assert_eq!(status, expected, "{shown}: {head}");
            assert!(
                head.contains("content-type: application/problem+json"),
                "{shown}: {head}"
            );
            assert_problem(status, &body, expected, "validation");
        }
    }

    /// Open `n` connections; every other one sends half a request head and stalls.
    async fn slow_clients(base: &str, n: usize) -> Vec<TcpStream> {
        let mut held = Vec::with_capacity(n);
        for i in 0..n {
            let mut s = TcpStream::connect(addr(base)).await.expect("connect");
            if i % 2 == 0 {
                let _ = s
                    .write_all(b"POST /v1/cases HTTP/1.1\r\nHost: x\r\nAuthor")
                    .await;
            }
            held.push(s);
        }
        held
    }

    #[tokio::test]
    async fn a_connection_over_the_cap_gets_a_quick_503_problem() {
        let app = spawn_app().await;
        let limits = api::server::Limits {
            max_connections: 50,
            header_timeout: Duration::from_secs(60),
            ..Default::default()
        };
        let (base, _task) = start_api_with(&app.nats, limits).await;
        let _held = slow_clients(&base, 50).await;
        let started = Instant::now();
        let (status, head, body) = raw(&base, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert_problem(status, &body, 503, "unavailable");
        assert!(head.contains("retry-after: 1"), "{head}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    /// Issue 30, finding 1: a body promised by `Content-Length` and never sent held its connection
    /// for ever, so one client filled the connection cap. Now a stalled body is answered 408 and
    /// closed, and one address holds at most its share of the connections while others are
    /// served.
    #[tokio::test]
    async fn stalled_bodies_time_out_and_one_address_cannot_take_every_connection() {
        let app = spawn_app().await;
        let limits = api::server::Limits {
            max_connections: 400,
            max_connections_per_address: 60,
            body_timeout: Duration::from_secs(2),
            ..Default::default()
        };
        let (base, _task) = start_api_with(&app.nats, limits).await;
        let paths = ["/v1/cases", "/console/login", "/console/status"];
        // 120 connections from 127.0.0.1, twice its share: each promises 1,000 bytes and sends 9.
        let mut held = Vec::new();
        for i in 0..120 {
            let mut s = TcpStream::connect(addr(&base)).await.expect("connect");
            let head = format!(
                "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer county-token\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"a\": 12}}",
                paths[i % paths.len()]
            );
            let _ = s.write_all(head.as_bytes()).await;
            held.push(s);
        }
        // Another address is served while they stall.
        let other = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
            .build()
            .expect("client");
        let resp = other
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("health from another address");
        assert_eq!(resp.status(), 200);
        // Those over the address's share are turned away at once; the rest time out with 408.
        let started = Instant::now();
        let (mut turned_away, mut timed_out) = (0, 0);
        for s in held.iter_mut() {
            let mut out = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
            let text = String::from_utf8_lossy(&out);
            match text.get(9..12) {
                Some("503") => turned_away += 1,
                Some("408") => {
                    assert!(text.contains("application/problem+json"), "{text}");
                    assert!(text.contains("\"code\":\"request_timeout\""), "{text}");
                    timed_out += 1;
                }
                _ => panic!("neither turned away nor timed out: {text:?}"),
            }
        }
        assert_eq!((turned_away, timed_out), (60, 60));
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
        // A body sent in pieces within its grace is taken whole.
        let mut s = TcpStream::connect(addr(&base)).await.expect("connect");
        let body = serde_json::to_vec(&register_body()).expect("body");
        let head = format!(
            "POST /v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer county-token\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.expect("head");
        for piece in body.chunks(body.len().div_ceil(4)) {
            s.write_all(piece).await.expect("piece");
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.get(9..12), Some("201"), "{text}");
    }

    #[tokio::test]
    async fn thousands_of_slow_connections_do_not_starve_the_api() {
        let app = spawn_app().await;
        let limits = api::server::Limits {
            max_connections: 1000,
            max_connections_per_address: 4000,
            header_timeout: Duration::from_secs(2),
            ..Default::default()
        };
        let (base, _task) = start_api_with(&app.nats, limits).await;
        // 3,000 idle and half-sent connections, three times the cap, all kept open by the client.
        let mut held = slow_clients(&base, 3000).await;
        // The stalled heads time out, so health and commands answer while the clients still wait.
        testkit::eventually(
            Duration::from_secs(15),
            "health while slow clients wait",
            || {
                let url = format!("{base}/healthz");
                let http = app.http.clone();
                async move {
                    let r = http.get(url).send().await.ok()?;
                    (r.status() == 200).then_some(())
                }
            },
        )
        .await;
        let resp = app
            .http
            .post(format!("{base}/v1/cases"))
            .bearer_auth("county-token")
            .json(&register_body())
            .send()
            .await
            .expect("register");
        assert_eq!(resp.status(), 201);
        // The server closed the stalled connections itself (end of stream or a 503 answer).
        let mut closed = 0;
        for s in held.iter_mut().take(200) {
            let mut buf = [0u8; 512];
            let read = tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await;
            if let Ok(Ok(_)) = read {
                closed += 1;
            }
        }
        assert!(
            closed > 150,
            "only {closed} of 200 slow connections were closed by the server"
        );
    }
}

/// `GET /v1/me` tells the principal behind a token (the console's sign-in): each role with its
/// unit and the unit's name; no token or an unknown one is a 401 problem.
#[tokio::test]
async fn me_names_the_principal_behind_the_token() {
    let app = testkit::system::spawn().await;
    for (token, id, role, unit, name) in [
        (
            "clerk-gaoqiao-token",
            "clerk-gaoqiao",
            "clerk",
            Some("gaoqiao"),
            Some("高桥镇"),
        ),
        ("county-token", "county-1", "county", Some("county"), None),
        ("analyst-token", "analyst-1", "analyst", None, None),
    ] {
        let (status, me) = app.get(token, "/v1/me").await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["principal_id"], id, "{me}");
        assert_eq!(me["role"], role, "{me}");
        assert_eq!(me["unit"].as_str(), unit, "{me}");
        if let Some(name) = name {
            assert_eq!(me["unit_name"], name, "{me}");
        }
    }
    let (status, body) = app.get("no-such-token", "/v1/me").await;
    assert_problem(status, &body, 401, "unauthorized");
}

/// `<Case>.allowed_actions` lists the steps the caller may take now (the console's buttons): the
/// county may triage a new case, its township clerk may accept it but not assign it, another
/// township's clerk does not see it at all; after the reply only closing and follow-up are
/// left; as of the registration, the steps open then.
#[tokio::test]
async fn a_case_lists_the_steps_its_reader_may_take_now() {
    let app = testkit::system::spawn().await;
    let id = app.register().await;
    let actions = |v: &serde_json::Value| -> Vec<String> {
        v["allowed_actions"]
            .as_array()
            .expect("allowed_actions")
            .iter()
            .map(|a| a.as_str().expect("action").to_owned())
            .collect()
    };
    let (status, county) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(status, 200, "{county}");
    let county = actions(&county);
    for a in [
        "accept",
        "reject",
        "assign",
        "transfer",
        "supervise",
        "merge",
        "correct",
    ] {
        assert!(county.contains(&a.to_owned()), "{a} in {county:?}");
    }
    assert!(!county.contains(&"reply".to_owned()), "{county:?}");
    let (status, clerk) = app
        .get("clerk-gaoqiao-token", &format!("/v1/cases/{id}"))
        .await;
    assert_eq!(status, 200, "{clerk}");
    let clerk = actions(&clerk);
    assert!(clerk.contains(&"accept".to_owned()), "{clerk:?}");
    assert!(
        !clerk.contains(&"assign".to_owned()),
        "county only: {clerk:?}"
    );
    let (status, _) = app
        .get("clerk-dongcheng-token", &format!("/v1/cases/{id}"))
        .await;
    assert_eq!(status, 404);
    for (action, body) in [
        ("accept", json!({})),
        ("reply", json!({"outcome": "supported", "text": "已答复"})),
    ] {
        let (status, body, _) = app
            .post("county-token", &format!("/v1/cases/{id}/{action}"), &body)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, replied) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    let mut left = actions(&replied);
    left.sort();
    assert_eq!(
        left,
        [
            "assign-leader",
            "close",
            "correct",
            "follow-up",
            "merge",
            "reissue-query-code",
            "remind",
            "resolution-plan",
            "withdraw"
        ]
    );
    // As of the registration: the steps open then.
    let (status, past) = app
        .get("county-token", &format!("/v1/cases/{id}?at_seq=1"))
        .await;
    assert_eq!(status, 200, "{past}");
    assert!(actions(&past).contains(&"accept".to_owned()), "{past}");
}

/// `GET /v1/units` names every unit with its kind, for any principal (the console's forms show
/// names, never codes); without a token it is a 401 problem.
#[tokio::test]
async fn units_are_listed_by_name_and_kind() {
    let app = testkit::system::spawn().await;
    let (status, body) = app.get("clerk-gaoqiao-token", "/v1/units").await;
    assert_eq!(status, 200, "{body}");
    let units = body["units"].as_array().expect("units");
    let gaoqiao = units
        .iter()
        .find(|u| u["code"] == "gaoqiao")
        .expect("gaoqiao listed");
    assert_eq!(gaoqiao["name"], "高桥镇", "{body}");
    assert_eq!(gaoqiao["kind"], "township", "{body}");
    assert!(units.iter().any(|u| u["kind"] == "county"), "{body}");
    let (status, body) = app.get("no-such-token", "/v1/units").await;
    assert_problem(status, &body, 401, "unauthorized");
}

/// Issue 34, finding 6: the county and auditors list the county's principals (to pick whose
/// trail to read and to tell an unknown account from an idle one); nobody else may.
#[tokio::test]
async fn the_county_and_auditors_list_the_principals_once_each_by_id() {
    let app = spawn_app().await;
    let (status, body) = app.get("auditor-token", "/v1/principals").await;
    assert_eq!(status, 200, "{body}");
    let listed = body["principals"].as_array().expect("a list");
    let ids: Vec<&str> = listed
        .iter()
        .filter_map(|p| p["principal_id"].as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "by id, each once");
    for id in [
        "county-1",
        "county-2",
        "auditor-1",
        "clerk-gaoqiao",
        "handler-land",
    ] {
        assert!(ids.contains(&id), "{id} missing: {ids:?}");
    }
    let clerk = listed
        .iter()
        .find(|p| p["principal_id"] == "clerk-gaoqiao")
        .expect("the clerk");
    assert_eq!(clerk["role"], "clerk");
    assert_eq!(clerk["unit_name"], "高桥镇");
    assert_eq!(app.get("county-token", "/v1/principals").await.0, 200);
    for token in ["clerk-gaoqiao-token", "analyst-token", "handler-land-token"] {
        let (status, body) = app.get(token, "/v1/principals").await;
        assert_problem(status, &body, 403, "forbidden");
    }
}

/// The signed checkpoints page by `before`, a checkpoint's sequence from 1: `before=0` is outside
/// the schema and refused (the fuzzer's find, issue 35's CI run: it was answered 200).
#[tokio::test]
async fn checkpoints_are_paged_from_one_and_before_zero_is_refused() {
    let app = spawn_app().await;
    let (status, body) = app.get("auditor-token", "/v1/audit/checkpoints").await;
    assert_eq!(status, 200, "{body}");
    let (status, p) = app
        .get("auditor-token", "/v1/audit/checkpoints?before=0")
        .await;
    assert_problem(status, &p, 400, "validation");
    let (status, p) = app
        .get("clerk-gaoqiao-token", "/v1/audit/checkpoints")
        .await;
    assert_problem(status, &p, 403, "forbidden");
}
