//! Raw limits of the machine, measured with the same client library as Xinfang, so Xinfang's
//! figures can be given as a ratio measured in the same run (docs/benchmarks.md).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream::{message::PublishMessage, stream};

/// A scratch stream for raw appends, file storage like the event log.
pub use eventlog::subjects::BENCH_STREAM as RAW_STREAM;

/// A 600-byte JSON-ish payload, the size of a typical event.
fn payload() -> bytes::Bytes {
    let mut s = String::from("{\"bench\":\"");
    s.push_str(&"x".repeat(585));
    s.push_str("\"}");
    s.into()
}

/// Appends with `Nats-Expected-Last-Subject-Sequence` and a `Nats-Msg-Id`, as Xinfang appends an
/// event: `writers` tasks, each on its own subject awaiting each acknowledgement, for `time`.
/// Returns appends per second. The scratch stream is deleted afterwards.
pub async fn raw_occ_appends(
    nats: &eventlog::Connection,
    writers: usize,
    time: Duration,
) -> anyhow::Result<f64> {
    let js = nats.jetstream();
    let _ = js.delete_stream(RAW_STREAM).await;
    js.create_stream(stream::Config {
        name: RAW_STREAM.into(),
        subjects: vec![eventlog::subjects::all_bench()],
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .context("creating the scratch stream for raw appends")?;
    let body = payload();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers {
        let js = js.clone();
        let body = body.clone();
        tasks.spawn(async move {
            let subject = eventlog::subjects::bench(w);
            let mut last = 0u64;
            let mut n = 0u64;
            while start.elapsed() < time {
                let ack = js
                    .send_publish(
                        subject.clone(),
                        PublishMessage::build()
                            .payload(body.clone())
                            .expected_last_subject_sequence(last)
                            .message_id(format!("raw-{w}-{n}")),
                    )
                    .await?
                    .await?;
                last = ack.sequence;
                n += 1;
            }
            Ok::<u64, anyhow::Error>(n)
        });
    }
    let mut total = 0;
    while let Some(r) = tasks.join_next().await {
        total += r.context("raw append task")??;
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    let _ = js.delete_stream(RAW_STREAM).await;
    Ok(rate)
}
