use super::*;

/// A database dropped in this process keeps its lock a moment; opening it again waits for
/// the lock instead of failing (a rebuilt generation opened as the live one).
#[test]
fn opening_waits_for_a_lock_being_released() {
    let dir = tempfile::tempdir().expect("tmp");
    let held = Store::open_dir(dir.path(), "g-1".into()).expect("open");
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(held);
    });
    let again = Store::open_dir(dir.path(), "g-1".into());
    release.join().expect("join");
    assert!(again.is_ok(), "{:?}", again.err());
}

/// A case as `fold_case` stores it: from the pinned golden event, without petitioners.
fn stored_case() -> domain::Case {
    let event: domain::Event = serde_json::from_str(include_str!(
        "../../../domain/tests/golden/CaseRegistered.v1.json"
    ))
    .expect("golden event");
    let id = domain::CaseId(uuid::Uuid::now_v7());
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00+08:00").expect("ts");
    let mut case = domain::evolve(None, id, &event, at, Default::default()).expect("evolve");
    case.petitioners.clear();
    case
}

#[test]
fn records_round_trip_through_the_compact_encoding() {
    let mut case = stored_case();
    // With an adjustment (核减), approved: its optional fields given and left out.
    let at = case.received_at;
    case.adjustments.push(domain::adjustment::Adjustment {
        adjustment_id: uuid::Uuid::now_v7(),
        measure: "open_overdue".into(),
        reason: "不可抗力".into(),
        document_no: "县信访〔2026〕3号".into(),
        status: domain::adjustment::AdjustmentStatus::Approved,
        requested_by: domain::PrincipalId("county-1".into()),
        requested_at: at,
        version: 2,
        approved_by: Some(domain::PrincipalId("auditor-1".into())),
        approved_at: Some(at),
        revoked_by: None,
        revoked_at: None,
        revoke_reason: None,
    });
    let bytes = encode(&case);
    assert_eq!(bytes[0], POSTCARD);
    let json = serde_json::to_vec(&case).expect("json");
    assert!(
        bytes.len() * 2 < json.len(),
        "{} vs {} bytes",
        bytes.len(),
        json.len()
    );
    assert_eq!(decode::<domain::Case>("c/x", &bytes).expect("decode"), case);
}

#[test]
fn json_written_by_earlier_versions_still_reads() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_current(dir.path()).expect("open");
    let case = stored_case();
    let mut tx = store.tx();
    tx.put_bytes("old".into(), serde_json::to_vec(&case).expect("json"));
    tx.put("new".into(), case.clone());
    store.commit(tx, 1).expect("commit");
    assert_eq!(
        store.get::<domain::Case>("old").expect("old"),
        Some(case.clone())
    );
    assert_eq!(store.get::<domain::Case>("new").expect("new"), Some(case));
    let mut tx = store.tx();
    tx.put_bytes("bad".into(), vec![POSTCARD, 0xff]);
    store.commit(tx, 2).expect("commit");
    assert!(matches!(
        store.get::<domain::Case>("bad"),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn a_batch_scans_its_own_writes_over_the_tree() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_current(dir.path()).expect("open");
    let mut tx = store.tx();
    for k in ["p/a", "p/b", "p/c", "q/a"] {
        tx.put(k.into(), k.to_owned());
    }
    store.commit(tx, 1).expect("commit");
    let mut tx = store.tx();
    tx.remove("p/b".into());
    tx.put("p/c".into(), "changed".to_owned());
    tx.put("p/d".into(), "new".to_owned());
    let seen: Vec<(String, String)> = tx.scan("p/").expect("scan");
    let want = [("p/a", "p/a"), ("p/c", "changed"), ("p/d", "new")];
    assert_eq!(
        seen,
        want.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec()
    );
    let keys: Vec<String> = store
        .keys_from("p/", "p/b")
        .collect::<Result<_, _>>()
        .expect("keys");
    assert_eq!(
        keys,
        ["p/b", "p/c"],
        "the tree as committed, from the start key"
    );
}

#[test]
fn update_changes_a_value_in_place_and_reads_the_tree_first() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_current(dir.path()).expect("open");
    let mut tx = store.tx();
    tx.update("k".into(), |v: &mut Vec<u64>| v.push(1))
        .expect("update");
    tx.update("k".into(), |v: &mut Vec<u64>| v.push(2))
        .expect("update");
    store.commit(tx, 1).expect("commit");
    let mut tx = store.tx();
    tx.update("k".into(), |v: &mut Vec<u64>| v.push(3))
        .expect("update");
    store.commit(tx, 2).expect("commit");
    assert_eq!(
        store.get::<Vec<u64>>("k").expect("get"),
        Some(vec![1, 2, 3])
    );
}
