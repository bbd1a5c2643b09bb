//! The read side's protocol: replies larger than the NATS max payload (1 MiB by default) arrive
//! whole, in parts, both at the transport and through the API.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_reply_larger_than_the_max_payload_arrives_in_parts() {
    let nats = testkit::NatsServer::start();
    let client = eventlog::Connection::from(nats.connect().await);
    let max = client.client().server_info().max_payload;
    let big: Vec<u8> = (0..3 * max + 17).map(|i| (i % 251) as u8).collect();
    let mut requests = eventlog::rpc::requests(&client, "test.big".into(), "test".into())
        .await
        .expect("subscribe");
    let responder = {
        let big = big.clone();
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                let body = if request.payload().as_ref() == b"small" {
                    b"tiny".to_vec()
                } else {
                    big.clone()
                };
                request.reply(body).await.expect("reply");
            }
        })
    };
    let got = eventlog::rpc::request(
        &client,
        "test.big".into(),
        b"big".to_vec(),
        Duration::from_secs(10),
    )
    .await
    .expect("the whole reply");
    assert_eq!(got.len(), big.len());
    assert!(got.as_ref() == big.as_slice(), "the parts joined differ");
    let small = eventlog::rpc::request(
        &client,
        "test.big".into(),
        b"small".to_vec(),
        Duration::from_secs(10),
    )
    .await
    .expect("a small reply");
    assert_eq!(small.as_ref(), b"tiny");
    // Nobody listens: a quick, typed answer instead of a time-out.
    let started = std::time::Instant::now();
    let none = eventlog::rpc::request(
        &client,
        "test.nobody".into(),
        b"x".to_vec(),
        Duration::from_secs(10),
    )
    .await;
    assert!(
        matches!(none, Err(eventlog::rpc::TransportError::NoResponders(_))),
        "{none:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    responder.abort();
}

#[tokio::test]
async fn an_official_s_trail_over_one_megabyte_is_answered_whole() {
    let app = spawn_app().await;
    // 20 registrations with the longest summary allowed (20,000 characters, 60 kB in UTF-8):
    // the county's trail of the day is about 1.2 MB, over the server's max payload.
    let summary: String = "征地补偿款未足额发放"
        .chars()
        .cycle()
        .take(20_000)
        .collect();
    let mut last_seq = 0;
    for _ in 0..20 {
        let mut body = register_body();
        body["summary"] = json!(summary);
        let (status, reg, _) = app.post("county-token", "/v1/cases", &body).await;
        assert_eq!(status, 201, "{reg}");
        last_seq = reg["seq"].as_u64().expect("seq");
    }
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive();
    let (from, to) = (
        today.pred_opt().expect("day"),
        today.succ_opt().expect("day"),
    );
    let resp = app
        .http
        .get(format!(
            "{}/v1/audit/actors/county-1?from={from}&to={to}&min_seq={last_seq}",
            app.base
        ))
        .bearer_auth("county-token")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.expect("body");
    assert!(bytes.len() > 1024 * 1024, "only {} bytes", bytes.len());
    let trail: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let events = trail["events"].as_array().expect("events");
    assert_eq!(events.len(), 20);
    assert!(events
        .iter()
        .all(|e| e["data"]["summary"].as_str() == Some(summary.as_str())));
    assert_eq!(trail["applied_seq"].as_u64(), Some(last_seq));
}
