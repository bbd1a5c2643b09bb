use super::*;
use domain::event::{CaseClosed, CaseSupervised};
use domain::{Event, PrincipalId, Role, UnitCode};
use eventlog::Envelope;

const REC: TrailDate = TrailDate::Recorded;

fn ts(s: &str) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339(s).expect("timestamp")
}

/// Event `version` of `case`, at log sequence `seq`, by `actor`, recorded at `at`.
fn stored(case: CaseId, version: u64, seq: u64, actor: &str, at: &str) -> Stored {
    let unit = UnitCode::parse("gaoqiao").expect("unit");
    let event = if version.is_multiple_of(2) {
        Event::CaseSupervised(CaseSupervised {
            unit: unit.clone(),
            note: format!("note {version}"),
            due_at: None,
        })
    } else {
        Event::CaseClosed(CaseClosed {
            note: Some(format!("v{version}")),
        })
    };
    Stored::unsigned(
        seq,
        eventlog::subjects::case_subject(&unit, case),
        Envelope {
            late_entry: false,
            late_reason: None,
            on_time_by_late_entry: false,
            event_id: uuid::Uuid::now_v7(),
            case_id: case,
            township: unit,
            schema_version: Event::SCHEMA_VERSION,
            version,
            occurred_at: ts(at),
            recorded_at: ts(at),
            actor: Actor {
                id: PrincipalId(actor.into()),
                role: Role::County,
                unit: None,
            },
            command_id: uuid::Uuid::now_v7(),
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
            request_hash: None,
            prev_hash: None,
            key_id: None,
            hash: None,
            sig: None,
            personal: None,
            migrated_at: None,
            event,
        },
    )
}

/// 150 events of one case (three chunks) interleaved with 150 of another, by two actors,
/// across two days and several index windows; applied in uneven batches.
fn log() -> (CaseId, CaseId, Vec<Stored>) {
    let (a, b) = (CaseId(uuid::Uuid::now_v7()), CaseId(uuid::Uuid::now_v7()));
    let mut events = Vec::new();
    for v in 1..=150u64 {
        let day = if v <= 100 { "2026-03-01" } else { "2026-03-02" };
        let at = format!("{day}T10:00:00+08:00");
        events.push(stored(a, v, 2 * v - 1, "zhang", &at));
        events.push(stored(
            b,
            v,
            2 * v,
            if v % 3 == 0 { "zhang" } else { "li" },
            &at,
        ));
    }
    (a, b, events)
}

fn build(events: &[Stored], batch: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_current(dir.path()).expect("open");
    let audit = Audit {
        policy: Policy::default(),
    };
    for chunk in events.chunks(batch) {
        crate::runner::apply_batch(&audit, &store, chunk).expect("apply");
    }
    (dir, store)
}

#[test]
fn a_case_trail_spans_chunks_in_log_order() {
    let (a, b, events) = log();
    let (_dir, store) = build(&events, 37);
    for case in [a, b] {
        let trail = case_history(&store, case).expect("history");
        let versions: Vec<u64> = trail.iter().map(|e| e.version).collect();
        assert_eq!(
            versions,
            (1..=150).collect::<Vec<_>>(),
            "every event once, in order"
        );
        assert!(trail.iter().all(|e| e.case_id == case));
        assert_eq!(trail[1].type_, "CaseSupervised");
        assert_eq!(trail[1].data["note"], "note 2");
        assert_eq!(trail[2].type_, "CaseClosed");
        let original = events
            .iter()
            .find(|s| s.envelope.case_id == case && s.envelope.version == 3)
            .expect("event");
        assert_eq!(
            trail[2],
            queries::audit::event_of(original),
            "as the log has it"
        );
    }
}

#[test]
fn an_actor_trail_is_filtered_by_day_and_complete_across_windows() {
    let (a, b, events) = log();
    let (_dir, store) = build(&events, 1000);
    let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
    let zhang =
        actor_events(&store, "zhang", (day("2026-03-01"), day("2026-03-01")), REC).expect("zhang");
    let expected: Vec<u64> = events
        .iter()
        .filter(|s| s.envelope.actor.id.0 == "zhang" && s.envelope.version <= 100)
        .map(|s| s.seq)
        .collect();
    assert_eq!(zhang.iter().map(|e| e.seq).collect::<Vec<_>>(), expected);
    assert!(zhang.iter().any(|e| e.case_id == a) && zhang.iter().any(|e| e.case_id == b));
    let li_both =
        actor_events(&store, "li", (day("2026-03-01"), day("2026-03-02")), REC).expect("li");
    assert_eq!(li_both.len(), 100, "two thirds of case b's 150 events");
    assert!(
        actor_events(&store, "zhan", (day("2026-01-01"), day("2026-12-31")), REC)
            .expect("prefix")
            .is_empty()
    );
}

#[test]
fn the_model_does_not_depend_on_batch_boundaries_or_replays() {
    let (_, _, events) = log();
    let (_d1, one_by_one) = build(&events, 1);
    let (_d2, large) = build(&events, 10_000);
    assert_eq!(
        one_by_one.digest().expect("digest"),
        large.digest().expect("digest")
    );
    // The same events again (a checkpoint lost) change nothing.
    let audit = Audit {
        policy: Policy::default(),
    };
    let mut tx = large.tx();
    for ev in &events[..10] {
        audit.apply(&mut tx, ev).expect("apply");
    }
    large.commit(tx, events.len() as u64).expect("commit");
    assert_eq!(
        one_by_one.digest().expect("digest"),
        large.digest().expect("digest")
    );
}

/// Late entry shows: a step entered on 3 March for 1 February is in February's trail by
/// business date and in March's by recorded date, and in no other.
#[test]
fn an_actor_trail_by_business_date_shows_late_entry() {
    let case = CaseId(uuid::Uuid::now_v7());
    let mut late = stored(case, 1, 1, "wang", "2026-03-03T10:00:00+08:00");
    late.envelope.occurred_at = ts("2026-02-01T10:00:00+08:00");
    let on_time = stored(case, 2, 2, "wang", "2026-03-03T11:00:00+08:00");
    let (_dir, store) = build(&[late, on_time], 1);
    let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
    let seqs = |from: &str, to: &str, date| -> Vec<u64> {
        actor_events(&store, "wang", (day(from), day(to)), date)
            .expect("trail")
            .iter()
            .map(|e| e.seq)
            .collect()
    };
    let occ = TrailDate::Occurred;
    assert_eq!(seqs("2026-02-01", "2026-02-01", occ), [1]);
    assert_eq!(seqs("2026-02-01", "2026-02-01", REC), Vec::<u64>::new());
    assert_eq!(seqs("2026-03-03", "2026-03-03", occ), [2]);
    assert_eq!(seqs("2026-03-03", "2026-03-03", REC), [1, 2]);
    assert_eq!(seqs("2026-01-01", "2026-12-31", occ), [1, 2], "each once");
}
