//! The storage ports in memory answer as JetStream does: the same operations, in the same order,
//! on a real nats-server and in memory, give the same answers (sequences, duplicates, conflicts,
//! revisions, what is left after an erasure). The command path's unit tests run on the memory
//! implementations; this keeps them honest.

use std::sync::Arc;

use bytes::Bytes;

use async_nats::jetstream::{self, kv, object_store, stream};
use eventlog::port::memory::{MemoryBucket, MemoryMessages, MemoryObjects};
use eventlog::port::nats::{NatsBucket, NatsMessages, NatsObjects};
use eventlog::port::{BucketPort, MessagePort, ObjectPort};
use eventlog::subjects::headers;
use eventlog::LogError;

/// An answer as compared: the value, or the kind of error.
fn shown<T: std::fmt::Debug>(r: Result<T, LogError>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(LogError::Conflict) => "Conflict".into(),
        Err(LogError::Unknown) => "Unknown".into(),
        Err(e) => format!("error: {e}"),
    }
}

async fn message_script(m: &dyn MessagePort) -> Vec<String> {
    let put = |subject: &str, expected: Option<u64>, id: Option<&str>| {
        m.publish(
            subject.to_owned(),
            headers::append(expected, id),
            Bytes::from(format!("{subject} {expected:?} {id:?}")),
        )
    };
    let seq_of = |r: Result<Option<eventlog::port::Message>, LogError>| {
        shown(r.map(|m| m.map(|m| (m.seq, m.subject, m.payload))))
    };
    vec![
        shown(put("t.gaoqiao.1", Some(0), Some("c1")).await),
        shown(put("t.gaoqiao.1", Some(0), Some("c2")).await),
        // The expected sequence is checked first: a repeated append is a conflict…
        shown(put("t.gaoqiao.1", Some(0), Some("c1")).await),
        // …and a duplicate where the expected sequence still holds, or none is given.
        shown(put("t.gaoqiao.1", Some(1), Some("c1")).await),
        shown(put("t.gaoqiao.7", None, Some("c7")).await),
        shown(put("t.gaoqiao.7", None, Some("c7")).await),
        shown(put("t.gaoqiao.2", Some(0), None).await),
        shown(put("t.gaoqiao.1", Some(1), None).await),
        shown(put("t.gaoqiao.1", Some(1), None).await),
        shown(put("t.gaoqiao.3", None, None).await),
        shown(m.subject_count("t.*.1").await),
        shown(m.subject_count("t.*.9").await),
        seq_of(m.next_for_subject("t.gaoqiao.1", 2).await),
        seq_of(m.next_for_subject("t.*.2", 1).await),
        seq_of(m.next_for_subject("t.gaoqiao.1", 4).await),
        seq_of(m.last_for_subject("t.gaoqiao.1").await),
        seq_of(m.get(2).await),
        seq_of(m.get(99).await),
        shown(m.erase(3).await),
        shown(m.erase(3).await),
        seq_of(m.last_for_subject("t.gaoqiao.1").await),
        seq_of(m.get(3).await),
        // The subject's last message is now the first: its sequence is what is expected.
        shown(put("t.gaoqiao.1", Some(3), None).await),
        shown(put("t.gaoqiao.1", Some(1), None).await),
        shown(m.subject_count("t.*.1").await),
    ]
}

async fn bucket_script(b: &dyn BucketPort) -> Vec<String> {
    let v = |s: &'static str| Bytes::from_static(s.as_bytes());
    let mut out = vec![
        shown(b.create("k1", v("one"), "t").await),
        shown(b.create("k1", v("two"), "t").await),
        shown(b.entry("k1", "t").await),
        shown(b.entry("k9", "t").await),
        shown(b.update("k1", v("three"), 2, "t").await),
        shown(b.update("k1", v("three"), 1, "t").await),
        shown(b.put("k2", v("four"), "t").await),
        shown(b.entry("k1", "t").await),
    ];
    let mut keys = b.keys("t").await.expect("keys");
    keys.sort();
    out.push(format!("{keys:?}"));
    out.extend([
        shown(b.purge("k1", "t").await),
        shown(b.entry("k1", "t").await),
        shown(b.keys("t").await),
        // A purged key is created again.
        shown(b.create("k1", v("five"), "t").await),
        shown(b.entry("k1", "t").await),
    ]);
    out
}

async fn object_script(o: &dyn ObjectPort) -> Vec<String> {
    let mut out = vec![
        shown(o.size("n1").await),
        shown(o.put("n1", b"first bytes").await),
        shown(o.put("n2", b"second").await),
        shown(o.size("n1").await),
        shown(o.get("n1").await),
        shown(o.get("n9").await),
    ];
    let mut names: Vec<String> = o
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    names.sort();
    out.push(format!("{names:?}"));
    out.extend([
        shown(o.erase("n1").await),
        shown(o.erase("n1").await),
        shown(o.size("n1").await),
        shown(o.get("n1").await),
    ]);
    out
}

#[tokio::test]
async fn the_ports_in_memory_answer_as_jetstream_does() {
    let nats = testkit::NatsServer::start();
    let js = jetstream::new(nats.connect().await);

    let created = js
        .create_stream(stream::Config {
            name: "PORT_TEST".into(),
            subjects: vec!["t.>".into()],
            allow_direct: true,
            ..Default::default()
        })
        .await
        .expect("stream");
    let on_nats = NatsMessages::new(js.clone(), created);
    assert_eq!(
        message_script(&on_nats).await,
        message_script(&MemoryMessages::new()).await,
        "messages"
    );

    let bucket = NatsBucket::open(
        &js,
        kv::Config {
            bucket: "PORT_TEST_KV".into(),
            history: 1,
            ..Default::default()
        },
        "opening the test bucket",
    )
    .await
    .expect("bucket");
    assert_eq!(
        bucket_script(&bucket).await,
        bucket_script(&MemoryBucket::new()).await,
        "buckets"
    );

    // The object port erases chunks of the evidence store, by its name.
    let store = js
        .create_object_store(object_store::Config {
            bucket: eventlog::subjects::ATTACHMENT_BUCKET.into(),
            ..Default::default()
        })
        .await
        .expect("object store");
    let objects: Arc<dyn ObjectPort> = Arc::new(NatsObjects::new(js.clone(), store));
    assert_eq!(
        object_script(&*objects).await,
        object_script(&MemoryObjects::new()).await,
        "objects"
    );
}
