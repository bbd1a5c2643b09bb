//! The tamper suite on the pure verifier: a log of three cases with checkpoints, and a bundle of
//! one case, each altered in every way issue 15 names. Every alteration must be found, and named
//! at its sequence where it has one. (The same suite runs against a real log written by a rogue
//! writer in tests/system/integrity.rs.)

mod support;

use integrity::bundle::{self, Bundle, Header, Position, Proof};
use integrity::merkle::{self, leaf};
use integrity::{CaseHead, KeySet, Signer};
use support::*;

#[test]
fn an_untouched_log_verifies_and_covered_signatures_are_not_checked_twice() {
    let signer = Signer::from_seed([1; 32]);
    let log = log(&signer);
    let r = verify(&log, &keys(&signer), false);
    assert!(r.ok, "{:?}", r.findings);
    assert_eq!(
        (r.events, r.checkpoint_seq, r.signatures_checked),
        (9, Some(9), 0)
    );
    let all = verify(&log, &keys(&signer), true);
    assert!(all.ok && all.signatures_checked == 9);
}

#[test]
fn every_alteration_of_the_log_is_found() {
    let signer = Signer::from_seed([1; 32]);
    let keys = keys(&signer);
    let rogue = Signer::from_seed([66; 32]);

    // An altered field (the hash left as it was).
    let mut l = log(&signer);
    l.events[4].2 = alter(&l.events[4].2, "张三", "李四");
    let r = verify(&l, &keys, false);
    assert!(
        codes(&r).contains(&(Some(5), "hash_mismatch".into())),
        "{:?}",
        r.findings
    );

    // An altered field with its hash recomputed: the signature and the next event's chain fail.
    let mut l = log(&signer);
    let case = CASES[1];
    let prev = integrity::open(&l.events[1].2).hash();
    l.events[4].2 = seal(case, 2, Some(prev), &rogue, "李四").0;
    let r = verify(&l, &keys, true);
    assert!(
        codes(&r).contains(&(Some(5), "signature".into())),
        "{:?}",
        r.findings
    );
    assert!(
        codes(&r).contains(&(Some(8), "chain".into())),
        "{:?}",
        r.findings
    );
    assert!(
        !verify(&l, &keys, false).ok,
        "the checkpoint's root catches it without signatures"
    );

    // A deleted event (the stream keeps the gap in sequences).
    let mut l = log(&signer);
    l.events.remove(4);
    let r = verify(&l, &keys, false);
    assert!(
        codes(&r).contains(&(Some(6), "missing".into())),
        "{:?}",
        r.findings
    );
    assert!(
        codes(&r).contains(&(Some(8), "chain".into())),
        "{:?}",
        r.findings
    );
    // …and deleted by rebuilding the stream without it.
    let mut l = log(&signer);
    l.events.remove(4);
    let r = verify(&renumber(l), &keys, false);
    assert!(
        codes(&r).contains(&(Some(7), "chain".into())),
        "{:?}",
        r.findings
    );
    assert!(codes(&r)
        .iter()
        .any(|c| c.1 == "checkpoint_root" || c.1 == "truncated"));

    // Two events swapped (of one case; rebuilt stream).
    let mut l = log(&signer);
    l.events.swap(1, 4);
    let r = verify(&renumber(l), &keys, false);
    assert!(
        codes(&r).contains(&(Some(2), "chain".into())),
        "{:?}",
        r.findings
    );
    assert!(codes(&r).iter().any(|c| c.1 == "checkpoint_root"));

    // A forged event inserted (appended by a writer with stream credentials and its own key).
    let mut l = log(&signer);
    let prev = integrity::open(&l.events[8].2).hash();
    l.events.push((
        10,
        format!("events.gaoqiao.{}", CASES[2]),
        seal(CASES[2], 4, Some(prev), &rogue, "x").0,
    ));
    let r = verify(&l, &keys, false);
    assert_eq!(
        codes(&r),
        vec![(Some(10), "signature".into())],
        "{:?}",
        r.findings
    );
    // …or inserted in the middle of a rebuilt stream.
    let mut l = log(&signer);
    let forged = seal(
        CASES[0],
        2,
        Some(integrity::open(&l.events[0].2).hash()),
        &rogue,
        "x",
    )
    .0;
    l.events
        .insert(2, (0, format!("events.gaoqiao.{}", CASES[0]), forged));
    let r = verify(&renumber(l), &keys, true);
    assert!(
        codes(&r).contains(&(Some(3), "signature".into())),
        "{:?}",
        r.findings
    );
    assert!(
        codes(&r).contains(&(Some(5), "chain".into())),
        "{:?}",
        r.findings
    );

    // A truncated tail.
    let mut l = log(&signer);
    l.events.truncate(7);
    let r = verify(&l, &keys, false);
    assert_eq!(
        codes(&r),
        vec![(Some(9), "truncated".into())],
        "{:?}",
        r.findings
    );

    // A case removed (the stream rebuilt without it).
    let mut l = log(&signer);
    l.events.retain(|e| !e.1.ends_with(CASES[1]));
    let r = verify(&renumber(l), &keys, false);
    assert!(
        codes(&r).iter().any(|c| c.1 == "checkpoint_root"),
        "{:?}",
        r.findings
    );

    // A checkpoint re-signed with another key (say, after rewriting the log to match).
    let mut l = log(&signer);
    l.checkpoints[1].1 = Ok(l.checkpoints[1].1.clone().expect("cp").sign(&rogue));
    let r = verify(&l, &keys, false);
    assert_eq!(
        codes(&r),
        vec![(Some(9), "checkpoint_signature".into())],
        "{:?}",
        r.findings
    );

    // An unsigned (legacy-looking) event after signing began.
    let mut l = log(&signer);
    l.events.push((10, format!("events.gaoqiao.{}", CASES[2]), br#"{"case_id":"01900000-0000-7000-8000-000000000003","township":"gaoqiao","version":4,"recorded_at":"2026-12-01T09:00:00+08:00"}"#.to_vec()));
    let r = verify(&l, &keys, false);
    assert_eq!(
        codes(&r),
        vec![(Some(10), "unsigned".into())],
        "{:?}",
        r.findings
    );
}

fn bundle_of(log: &Log, case: &str, signer: &Signer, tree: usize) -> Bundle {
    let leaves: Vec<[u8; 32]> = log
        .events
        .iter()
        .map(|(s, _, b)| leaf(*s, &integrity::open(b).hash()))
        .collect();
    let cp = log
        .checkpoints
        .iter()
        .filter_map(|c| c.1.as_ref().ok())
        .find(|c| c.tree_size as usize == tree)
        .expect("cp")
        .clone();
    let mut proofs = Vec::new();
    let mut last = None;
    let mut events = Vec::new();
    for (i, (seq, subject, bytes)) in log.events.iter().enumerate() {
        if !subject.ends_with(case) {
            continue;
        }
        let hash = integrity::open(bytes).hash();
        let covered = i < tree;
        let path = if covered {
            merkle::inclusion_proof::<()>(i as u64, tree as u64, &mut |l, x| {
                Ok(merkle::perfect_from_leaves(&leaves, l, x).expect("in"))
            })
            .expect("path")
        } else {
            vec![]
        };
        proofs.push(Proof::Event(Position {
            seq: *seq,
            hash: hex::encode(hash),
            leaf_index: covered.then_some(i as u64),
            path,
        }));
        events.push(bytes.clone());
        last = Some((*seq, hash, events.len() as u64));
    }
    let (seq, hash, version) = last.expect("events");
    proofs.push(Proof::Checkpoint(cp));
    proofs.push(Proof::Head(
        CaseHead {
            case_id: case.into(),
            version,
            last_seq: seq,
            last_hash: hex::encode(hash),
            at: at("2026-12-02T10:00:00+08:00"),
            key_id: String::new(),
            sig: String::new(),
        }
        .sign(signer),
    ));
    Bundle {
        header: Header {
            xinfang_bundle: 1,
            case_id: case.into(),
            stream: "EVENTS".into(),
            exported_at: at("2026-12-02T10:00:00+08:00"),
        },
        events,
        proofs,
    }
}

fn check(b: &Bundle, keys: &KeySet) -> integrity::Report {
    // Through the file format, as the auditor gets it.
    bundle::verify(&Bundle::parse(&b.to_jsonl()).expect("parse"), keys)
}

#[test]
fn every_alteration_of_a_bundle_is_found_offline() {
    let signer = Signer::from_seed([1; 32]);
    let keys = keys(&signer);
    let rogue = Signer::from_seed([66; 32]);
    let log = log(&signer);
    // Case 2 has seqs 2, 5, 8; the first checkpoint (4 events) covers only seq 2.
    for tree in [4, 9] {
        let good = bundle_of(&log, CASES[1], &signer, tree);
        let r = check(&good, &keys);
        assert!(r.ok, "tree {tree}: {:?}", r.findings);
        assert_eq!(r.events, 3);
    }
    let good = bundle_of(&log, CASES[1], &signer, 9);
    let found = |b: &Bundle, code: &str| {
        let r = check(b, &keys);
        assert!(!r.ok);
        assert!(
            r.findings.iter().any(|f| f.code == code),
            "{code}: {:?}",
            r.findings
        );
        r
    };

    let mut b = good.clone();
    b.events[1] = alter(&b.events[1], "张三", "李四");
    let r = found(&b, "hash_mismatch");
    assert_eq!(
        r.findings[0].seq, None,
        "an altered event no longer matches its position"
    );

    let mut b = good.clone();
    b.events.remove(1);
    found(&b, "chain");

    let mut b = good.clone();
    b.events.swap(0, 1);
    found(&b, "chain");

    let mut b = good.clone();
    let forged = seal(
        CASES[1],
        4,
        Some(integrity::open(&b.events[2]).hash()),
        &rogue,
        "x",
    )
    .0;
    b.events.push(forged);
    found(&b, "signature");

    let mut b = good.clone();
    b.events.pop();
    let r = found(&b, "truncated");
    assert_eq!(
        r.findings
            .iter()
            .find(|f| f.code == "truncated")
            .and_then(|f| f.seq),
        Some(8)
    );

    let mut b = good.clone();
    b.events.clear();
    found(&b, "truncated");

    let mut b = good.clone();
    for p in &mut b.proofs {
        if let Proof::Checkpoint(cp) = p {
            *cp = cp.clone().sign(&rogue);
        }
    }
    found(&b, "checkpoint_signature");

    // The head re-signed by the rogue after cutting the bundle short.
    let mut b = good.clone();
    b.events.pop();
    for p in &mut b.proofs {
        if let Proof::Head(h) = p {
            h.version = 2;
            *h = h.clone().sign(&rogue);
        }
    }
    found(&b, "head");

    // A key inside the bundle proves nothing: only the auditor's key counts.
    let r = check(&good, &self::keys(&rogue));
    assert!(!r.ok);
}
