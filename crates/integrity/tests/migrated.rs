//! `xinfang migrate` on the pure verifier: a log rewritten under a migration statement.

mod support;

use integrity::merkle::leaf;
use integrity::{canonical, event, Frontier, KeySet, PublicKey, Signer};
use support::*;

/// `xinfang migrate` rewrites the log and signs a statement over the new one naming the old
/// root: the log verifies against it (the checkpoints before it are of the old log), and a
/// statement signed by another key is no migration: the old checkpoints then fail the new log.
#[test]
fn a_migrated_log_verifies_only_under_a_migration_statement_of_a_trusted_key() {
    let signer = Signer::from_seed([1; 32]);
    let old = log(&signer);
    let new = log_named(&signer, "(sealed)");
    let statement = |by: &Signer| {
        let mut tree = Frontier::default();
        for (seq, _, bytes) in &new.events {
            tree.push(leaf(*seq, &integrity::open(bytes).hash()));
        }
        let mut cp = checkpoint(&tree, 9, &signer);
        cp.migrated = Some(integrity::Migrated {
            from_tree_size: 9,
            from_last_seq: 9,
            from_root: match &old.checkpoints[1].1 {
                Ok(c) => c.root.clone(),
                Err(e) => panic!("{e}"),
            },
            sealed_events: 9,
            rewritten_events: 9,
        });
        cp.sign(by)
    };
    let mut migrated = Log {
        events: new.events.clone(),
        checkpoints: old.checkpoints.clone(),
    };
    migrated.checkpoints.push((3, Ok(statement(&signer))));
    let r = verify(&migrated, &keys(&signer), false);
    assert!(r.ok, "{:?}", r.findings);
    assert_eq!(r.migrations.len(), 1);
    assert!(r.text().contains("migrated at"), "{}", r.text());

    let rogue = Signer::from_seed([9; 32]);
    migrated.checkpoints[2] = (3, Ok(statement(&rogue)));
    let r = verify(&migrated, &keys(&signer), false);
    let found = codes(&r);
    assert!(r.migrations.is_empty());
    assert!(
        found.contains(&(Some(9), "checkpoint_signature".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&(Some(4), "checkpoint_root".into())),
        "{found:?}"
    );

    // Without any statement the rewritten log fails the old checkpoints.
    let unannounced = Log {
        events: new.events,
        checkpoints: old.checkpoints,
    };
    assert!(!verify(&unannounced, &keys(&signer), false).ok);
}

/// A rewritten event is signed when it was migrated: its key must be valid then (`migrated_at`),
/// not when it was first recorded, and without `migrated_at` the same signature is refused.
#[test]
fn a_migrated_event_is_checked_against_its_keys_validity_when_it_was_migrated() {
    let signer = Signer::from_seed([5; 32]);
    let keys = KeySet::new(vec![PublicKey::new(
        &signer.public_key(),
        Some(at("2026-12-05T00:00:00+08:00")),
        None,
    )])
    .expect("keys");
    let event = |migrated_at: Option<&str>| {
        let mut v = serde_json::json!({
            "event_id": "e-1", "case_id": CASES[0], "township": "gaoqiao", "schema_version": 1,
            "version": 1, "occurred_at": "2026-12-01T09:00:00+08:00",
            "recorded_at": "2026-12-01T09:00:00+08:00",
            "actor": {"id": "clerk-1", "role": "clerk", "unit": "gaoqiao"},
            "key_id": signer.key_id(), "type": "Note", "data": {},
        });
        if let Some(t) = migrated_at {
            v["migrated_at"] = serde_json::json!(t);
        }
        event::seal(&canonical::to_vec(&v), &signer).bytes
    };
    let check = |bytes: Vec<u8>| {
        let log = Log {
            events: vec![(1, format!("events.gaoqiao.{}", CASES[0]), bytes)],
            checkpoints: vec![],
        };
        codes(&verify(&log, &keys, true))
    };
    assert_eq!(check(event(Some("2026-12-05T10:00:00+08:00"))), vec![]);
    assert_eq!(check(event(None)), vec![(Some(1), "signature".into())]);
}
