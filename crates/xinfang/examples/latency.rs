//! Command latency with a single client, sequential, over HTTP against a running system:
//! `cargo run --release -p xinfang --example latency -- http://127.0.0.1:8080 demo-county-token 500`
//! Each round registers a case and takes it through accept, supervise, reply and close.
//! (The full benchmark with baselines measured in the same run is `xinfang bench`, issue 5.)

use std::time::{Duration, Instant};

use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let token = args.next().unwrap_or_else(|| "demo-county-token".into());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(500);
    let http = reqwest::Client::new();
    let mut all: Vec<Duration> = Vec::new();
    let received = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    for i in 0..rounds {
        let body = json!({"township": "gaoqiao", "channel": "letter", "received_at": received, "headcount": 1,
            "level_reached": "township", "category": "wages", "summary": format!("latency probe {i}"),
            "petitioners": [{"name": "probe"}]});
        let t = Instant::now();
        let r: serde_json::Value = http
            .post(format!("{base}/v1/cases"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        all.push(t.elapsed());
        let id = r["case_id"].as_str().unwrap_or_default().to_owned();
        for (action, body) in [
            ("accept", json!({})),
            ("supervise", json!({"note": "probe"})),
            ("reply", json!({"outcome": "explained", "text": "probe"})),
            ("close", json!({})),
        ] {
            let t = Instant::now();
            let status = http
                .post(format!("{base}/v1/cases/{id}/{action}"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await?
                .status();
            all.push(t.elapsed());
            anyhow::ensure!(status.is_success(), "{action} answered {status}");
        }
    }
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    let mean = all.iter().map(Duration::as_secs_f64).sum::<f64>() / all.len() as f64 * 1000.0;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{} commands, single client: p50 {:.2} ms, p99 {:.2} ms, mean {:.2} ms, max {:.2} ms",
            all.len(),
            pct(0.50),
            pct(0.99),
            mean,
            pct(1.0)
        );
    }
    Ok(())
}
