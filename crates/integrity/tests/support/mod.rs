//! The test log of the tamper suites: three cases of signed events with checkpoints.

#![allow(dead_code)]

use integrity::merkle::leaf;
use integrity::{canonical, event, Checkpoint, Frontier, KeySet, LogVerifier, PublicKey, Signer};

pub fn at(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).expect("time")
}

pub const CASES: [&str; 3] = [
    "01900000-0000-7000-8000-000000000001",
    "01900000-0000-7000-8000-000000000002",
    "01900000-0000-7000-8000-000000000003",
];

pub struct Log {
    /// (seq, subject, stored bytes)
    pub events: Vec<(u64, String, Vec<u8>)>,
    pub checkpoints: Vec<(u64, Result<Checkpoint, String>)>,
}

pub fn seal(
    case: &str,
    version: u64,
    prev: Option<[u8; 32]>,
    signer: &Signer,
    name: &str,
) -> (Vec<u8>, [u8; 32]) {
    let v = serde_json::json!({
        "event_id": format!("e-{case}-{version}"),
        "case_id": case,
        "township": "gaoqiao",
        "schema_version": 1,
        "version": version,
        "occurred_at": "2026-12-01T09:00:00+08:00",
        "recorded_at": "2026-12-01T09:00:00+08:00",
        "actor": {"id": "clerk-1", "role": "clerk", "unit": "gaoqiao"},
        "prev_hash": prev.map(hex::encode),
        "key_id": signer.key_id(),
        "type": "Note",
        "data": {"name": name, "n": version},
    });
    let mut v = v;
    if prev.is_none() {
        v.as_object_mut().expect("object").remove("prev_hash");
    }
    let sealed = event::seal(&canonical::to_vec(&v), signer);
    (sealed.bytes, sealed.hash)
}

/// Nine events, three per case interleaved; a checkpoint after seq 4 and after seq 9.
pub fn log(signer: &Signer) -> Log {
    log_named(signer, "张三")
}

pub fn log_named(signer: &Signer, name: &str) -> Log {
    let mut heads: Vec<Option<[u8; 32]>> = vec![None; 3];
    let mut events = Vec::new();
    let mut frontier = Frontier::default();
    let mut checkpoints = Vec::new();
    for seq in 1..=9u64 {
        let c = ((seq - 1) % 3) as usize;
        let version = (seq - 1) / 3 + 1;
        let (bytes, hash) = seal(CASES[c], version, heads[c], signer, name);
        heads[c] = Some(hash);
        frontier.push(leaf(seq, &hash));
        events.push((seq, format!("events.gaoqiao.{}", CASES[c]), bytes));
        if seq == 4 || seq == 9 {
            let cp = checkpoint(&frontier, seq, signer);
            checkpoints.push((checkpoints.len() as u64 + 1, Ok(cp)));
        }
    }
    Log {
        events,
        checkpoints,
    }
}

pub fn checkpoint(frontier: &Frontier, seq: u64, signer: &Signer) -> Checkpoint {
    Checkpoint {
        stream: "EVENTS".into(),
        tree_size: frontier.size,
        last_seq: seq,
        root: hex::encode(frontier.root()),
        at: at("2026-12-01T09:05:00+08:00"),
        first_signed_seq: Some(1),
        invalid: vec![],
        frontier: frontier.clone(),
        migrated: None,
        key_id: String::new(),
        sig: String::new(),
    }
    .sign(signer)
}

pub fn keys(signer: &Signer) -> KeySet {
    KeySet::new(vec![PublicKey::new(&signer.public_key(), None, None)]).expect("keys")
}

pub fn verify(log: &Log, keys: &KeySet, all: bool) -> integrity::Report {
    let mut v = LogVerifier::new(keys, log.checkpoints.clone(), all);
    for (seq, subject, bytes) in &log.events {
        v.event(*seq, subject, bytes);
    }
    v.finish()
}

pub fn codes(r: &integrity::Report) -> Vec<(Option<u64>, String)> {
    r.findings.iter().map(|f| (f.seq, f.code.clone())).collect()
}

/// Re-number a log as a rogue who rebuilt the stream would (sequences contiguous again).
pub fn renumber(mut log: Log) -> Log {
    for (i, e) in log.events.iter_mut().enumerate() {
        e.0 = i as u64 + 1;
    }
    log
}

pub fn alter(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8(bytes.to_vec())
        .expect("utf-8")
        .replacen(from, to, 1)
        .into_bytes()
}
