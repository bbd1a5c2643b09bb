//! Test support: a log of real events, decided by `domain::decide` from commands exactly as the
//! command path does, without NATS; and a model built from them in a temporary sled store.

use std::collections::BTreeMap;

use chrono::DateTime;
use domain::command::*;
use domain::*;
use eventlog::{Envelope, Stored};
use wire::audit::Actor;

use crate::{Projection, Store};

pub fn ts(s: &str) -> Timestamp {
    DateTime::parse_from_rfc3339(s).expect("test timestamp")
}

pub fn unit(s: &str) -> UnitCode {
    UnitCode::parse(s).expect("test unit")
}

/// A registration as the county enters it.
pub fn register(township: &str, channel: Channel, headcount: u32, at: &str) -> Command {
    Command::Register(RegisterCase {
        late_reason: None,
        township: unit(township),
        channel,
        received_at: ts(at),
        headcount,
        level_reached: Level::County,
        category: Category::Land,
        summary: "征地补偿款未发放".into(),
        petitioners: vec![Petitioner {
            name: "张三".into(),
            id_number: None,
            phone: None,
            address: None,
        }],
        related_case_id: None,
        accusation: false,
        confidential: false,
        leader_reception: false,
        accused_unit: None,
    })
}

/// An earlier case of a petitioner on land in gaoqiao, as the command path's identity index
/// gives it to a registration (`Log::peers`).
pub fn earlier_case(n: u128) -> domain::linking::Peer {
    domain::linking::Peer {
        case_id: CaseId(uuid::Uuid::from_u128(n)),
        category: domain::Category::Land,
        township: unit("gaoqiao"),
        secret: false,
        unit: None,
        status: None,
        level: None,
        person: None,
    }
}

/// The county's log: every command decided on the case's state, its event stored with the next
/// sequence.
pub struct Log {
    policy: Policy,
    units: BTreeMap<UnitCode, UnitKind>,
    cases: BTreeMap<CaseId, Case>,
    pub events: Vec<Stored>,
    /// The earlier cases of the petitioners the next registrations are decided with (the
    /// identity index of the command path).
    pub peers: Vec<domain::linking::Peer>,
}

impl Log {
    pub fn new() -> Self {
        let units = [
            ("county", UnitKind::County),
            ("gaoqiao", UnitKind::Township),
            ("dongcheng", UnitKind::Township),
            ("land_bureau", UnitKind::Department),
        ]
        .into_iter()
        .map(|(c, k)| (unit(c), k))
        .collect();
        Log {
            policy: Policy::default(),
            units,
            cases: BTreeMap::new(),
            events: Vec::new(),
            peers: Vec::new(),
        }
    }

    /// The case as the command path folds it after the events so far.
    pub fn case(&self, id: CaseId) -> &Case {
        &self.cases[&id]
    }

    /// Decide `cmd` as the county at `now`; returns the case's id.
    pub fn run(&mut self, case: Option<CaseId>, cmd: Command, now: &str) -> CaseId {
        let county = Principal {
            id: PrincipalId("county-1".into()),
            role: Role::County,
            unit: Some(unit("county")),
        };
        self.run_as(&county, case, cmd, now)
    }

    /// Decide `cmd` as `county` (a principal) at `now`; returns the case's id.
    pub fn run_as(
        &mut self,
        county: &Principal,
        case: Option<CaseId>,
        cmd: Command,
        now: &str,
    ) -> CaseId {
        let id = case.unwrap_or_else(|| CaseId(uuid::Uuid::now_v7()));
        let state = self.cases.get(&id);
        let ctx = Ctx {
            reached_at: None,
            now: ts(now),
            policy: &self.policy,
            units: &self.units,
            principal: county,
            case_id: id,
            case_serial: None,
            peers: &self.peers,
            // A merge's target, as the command path loads it.
            target: match &cmd {
                domain::Command::Merge(m) => self.cases.get(&m.into),
                _ => None,
            },
        };
        let event = decide(state, &cmd, &ctx).expect("the command is decided");
        let at = domain::decide::occurred_at(state, &cmd, ts(now)).expect("occurred at");
        let late = domain::decide::late_entry(state, &cmd, &event, at, ts(now), &self.policy)
            .expect("late entry decided");
        let next = evolve(state.cloned(), id, &event, at, late.entry).expect("the event applies");
        let seq = self.events.len() as u64 + 1;
        self.events.push(Stored::unsigned(
            seq,
            eventlog::subjects::case_subject(&next.township, id),
            Envelope {
                late_entry: late.entry.late,
                late_reason: late.reason,
                on_time_by_late_entry: late.entry.on_time_by_late_entry,
                event_id: uuid::Uuid::now_v7(),
                case_id: id,
                township: next.township.clone(),
                schema_version: Event::SCHEMA_VERSION,
                version: next.version,
                occurred_at: at,
                recorded_at: ts(now),
                actor: Actor {
                    id: county.id.clone(),
                    role: county.role,
                    unit: county.unit.clone(),
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
        ));
        self.cases.insert(id, next);
        id
    }
}

/// `projection`'s model of `events`, applied in batches of `batch`.
pub fn build(
    projection: &dyn Projection,
    events: &[Stored],
    batch: usize,
) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_current(dir.path()).expect("open");
    for chunk in events.chunks(batch) {
        crate::runner::apply_batch(projection, &store, chunk).expect("apply");
    }
    (dir, store)
}
