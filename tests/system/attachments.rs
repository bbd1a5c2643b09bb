//! Issue 13, item 7: evidence (证据材料) in the JetStream object store, over real HTTP.

use serde_json::{json, Value};

use crate::common::*;

/// `n` bytes of a PDF-looking file that differ from run to run.
fn pdf(n: usize) -> Vec<u8> {
    let seed = uuid::Uuid::now_v7().as_u128();
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut x = seed as u64 | 1;
    while bytes.len() < n {
        // xorshift: cheap, incompressible enough to be a real test of the store.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(n);
    bytes
}

async fn upload(
    base: &str,
    http: &reqwest::Client,
    token: &str,
    case: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> (u16, Value) {
    let resp = http
        .post(format!("{base}/v1/cases/{case}/attachments"))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .header(
            "Content-Disposition",
            "attachment; filename=\"scan.pdf\"; filename*=UTF-8''%E5%BC%A0%E4%B8%89%E6%9D%A5%E4%BF%A1.pdf",
        )
        .body(bytes)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_5_mb_attachment_round_trips_and_is_read_exactly_by_those_who_may_read_the_case() {
    let app = spawn_app().await;
    let id = app.register().await;
    let bytes = pdf(5 << 20);
    let (status, up) = upload(
        &app.base,
        &app.http,
        "clerk-gaoqiao-token",
        &id,
        bytes.clone(),
        "application/pdf",
    )
    .await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["size"], 5 << 20);
    assert_eq!(up["filename"], "张三来信.pdf");
    assert_eq!(up["sha256"].as_str().map(str::len), Some(64));
    let att = up["attachment_id"].as_str().expect("id").to_owned();
    let path = format!("/v1/cases/{id}/attachments/{att}");

    for token in ["clerk-gaoqiao-token", "county-token", "auditor-token"] {
        let resp = app
            .http
            .get(format!("{}{path}", app.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("download");
        assert_eq!(resp.status().as_u16(), 200, "{token}");
        assert_eq!(resp.headers()["content-type"], "application/pdf");
        let disposition = resp.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let got = resp.bytes().await.expect("bytes");
        assert!(
            got.as_ref() == bytes.as_slice(),
            "byte-identical for {token}"
        );
        assert!(
            disposition.contains("filename*=UTF-8''%E5%BC%A0"),
            "{disposition}"
        );
    }
    // Another township's clerk: the case does not exist for it, nor its evidence.
    let (status, p) = app.get("clerk-dongcheng-token", &path).await;
    assert_problem(status, &p, 404, "not_found");
    let (status, p) = app.get("analyst-token", &path).await;
    assert_problem(status, &p, 403, "forbidden");
    let (status, p, _) = app
        .post_with(
            "clerk-dongcheng-token",
            &format!("/v1/cases/{id}/attachments"),
            &json!({}),
            &[],
        )
        .await;
    assert_problem(status, &p, 404, "not_found");

    // Listed on the case and in its history; the same file again is the same attachment.
    let (_, case) = app
        .get("clerk-gaoqiao-token", &format!("/v1/cases/{id}"))
        .await;
    assert_eq!(
        case["attachments"][0]["attachment_id"],
        json!(att),
        "{case}"
    );
    assert_eq!(case["attachments"][0]["filename"], "张三来信.pdf");
    let (_, history) = app
        .get("county-token", &format!("/v1/cases/{id}/history"))
        .await;
    let added: Vec<&Value> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "AttachmentAdded")
        .collect();
    assert_eq!(added.len(), 1, "{history}");
    assert_eq!(added[0]["data"]["sha256"], up["sha256"]);
    let (status, again) = upload(
        &app.base,
        &app.http,
        "county-token",
        &id,
        bytes,
        "application/pdf",
    )
    .await;
    assert_problem(status, &again, 422, "validation");

    // A type evidence may not have, or bytes that are not what they claim: 415.
    let (status, p) = upload(
        &app.base,
        &app.http,
        "county-token",
        &id,
        b"MZ\x90\0".to_vec(),
        "application/x-msdownload",
    )
    .await;
    assert_problem(status, &p, 415, "unsupported_media_type");
    let (status, p) = upload(
        &app.base,
        &app.http,
        "county-token",
        &id,
        b"MZ\x90\0 not a pdf".to_vec(),
        "application/pdf",
    )
    .await;
    assert_problem(status, &p, 415, "unsupported_media_type");
    // Multipart with one file works as well (written out as a browser sends it).
    let boundary = "----xinfang-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n现场\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"现场照片.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(b"\x89PNG\r\n\x1a\n....");
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = app
        .http
        .post(format!("{}/v1/cases/{id}/attachments", app.base))
        .bearer_auth("county-token")
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("multipart");
    assert_eq!(resp.status().as_u16(), 201);
    let up: Value = resp.json().await.expect("json");
    assert_eq!(
        (up["filename"].as_str(), up["content_type"].as_str()),
        (Some("现场照片.png"), Some("image/png"))
    );
}

#[tokio::test]
async fn an_attachment_over_the_limit_is_413_and_nothing_is_attached() {
    let app = spawn_app().await;
    let id = app.register().await;
    // An API with [limits] attachment_mb = 1.
    let mut cfg = test_config();
    cfg.attachment_limit = 1 << 20;
    let client = xinfang::serve::connect(&app.nats.url(), "test-api-small")
        .await
        .expect("connect");
    let state = xinfang::serve::api_state(&cfg, client)
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = api::serve(listener, state, std::future::pending()).await;
    });
    let (status, p) = upload(
        &base,
        &app.http,
        "county-token",
        &id,
        pdf((1 << 20) + 1),
        "application/pdf",
    )
    .await;
    assert_problem(status, &p, 413, "payload_too_large");
    assert!(
        p["detail"].as_str().expect("detail").contains("1048576"),
        "{p}"
    );
    let (status, ok) = upload(
        &base,
        &app.http,
        "county-token",
        &id,
        pdf(1 << 20),
        "application/pdf",
    )
    .await;
    assert_eq!(status, 201, "exactly the limit is taken: {ok}");
    let (_, case) = app.get("county-token", &format!("/v1/cases/{id}")).await;
    assert_eq!(
        case["attachments"].as_array().map(Vec::len),
        Some(1),
        "{case}"
    );
    server.abort();
}

/// Issue 30, finding 11: 8 uploads of 49 MiB at once took the API from 48 MB to 1 GB (each is
/// held whole while it is checked and sealed). The API receives two at once; a third is
/// answered 429 with `Retry-After` before its body is read, and the two complete.
#[tokio::test]
async fn uploads_are_received_two_at_a_time() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app().await;
    let id = app.register().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let bodies = [pdf(1 << 20), pdf(1 << 20)];
    let head = |body: &[u8]| {
        format!(
        "POST /v1/cases/{id}/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer county-token\r\nContent-Type: application/pdf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    };
    // Two uploads under way: their heads and the first half of their bodies.
    let mut held = Vec::new();
    for body in &bodies {
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        s.write_all(head(body).as_bytes()).await.expect("head");
        s.write_all(&body[..body.len() / 2]).await.expect("half");
        held.push(s);
    }
    // The third, whole, while they are received.
    let third = testkit::eventually(std::time::Duration::from_secs(5), "a 429", || {
        let (http, base, id) = (app.http.clone(), app.base.clone(), id.clone());
        async move {
            let resp = http
                .post(format!("{base}/v1/cases/{id}/attachments"))
                .bearer_auth("county-token")
                .header("Content-Type", "application/pdf")
                .body(pdf(4096))
                .send()
                .await
                .ok()?;
            let retry = resp.headers().contains_key("retry-after");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.ok()?;
            (status == 429).then_some((retry, body))
        }
    })
    .await;
    assert!(third.0, "Retry-After");
    assert_problem(429, &third.1, 429, "too_many_requests");
    for (mut s, body) in held.into_iter().zip(&bodies) {
        s.write_all(&body[body.len() / 2..]).await.expect("rest");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.get(9..12), Some("201"), "{text}");
    }
    let (status, _) = upload(
        &app.base,
        &app.http,
        "county-token",
        &id,
        pdf(4096),
        "application/pdf",
    )
    .await;
    assert_eq!(status, 201, "received again once the others are done");
}
