#![allow(dead_code)]
//! Given/when/then helpers for domain tests.

use std::collections::BTreeMap;

use chrono::DateTime;
use domain::command::*;
use domain::*;

pub fn ts(s: &str) -> Timestamp {
    DateTime::parse_from_rfc3339(s).expect("test timestamp")
}

pub fn unit(s: &str) -> UnitCode {
    UnitCode::parse(s).expect("test unit")
}

pub fn units() -> BTreeMap<UnitCode, UnitKind> {
    [
        ("gaoqiao", UnitKind::Township),
        ("dongcheng", UnitKind::Township),
        ("land_bureau", UnitKind::Department),
        ("county", UnitKind::County),
    ]
    .into_iter()
    .map(|(c, k)| (unit(c), k))
    .collect()
}

pub fn principal(id: &str, role: Role, u: Option<&str>) -> Principal {
    Principal {
        id: PrincipalId(id.into()),
        role,
        unit: u.map(unit),
    }
}

pub fn county() -> Principal {
    principal("county-1", Role::County, Some("county"))
}

pub fn case_id() -> CaseId {
    CaseId::parse("0192f0a0-0000-7000-8000-0000deadbeef").expect("test id")
}

pub fn register_cmd(received_at: &str) -> RegisterCase {
    RegisterCase {
        late_reason: None,
        township: unit("gaoqiao"),
        channel: Channel::Visit,
        received_at: ts(received_at),
        headcount: 6,
        level_reached: Level::County,
        category: Category::Land,
        summary: "Compensation for requisitioned farmland not paid".into(),
        petitioners: vec![Petitioner {
            name: "张三".into(),
            id_number: Some("330102199001011234".into()),
            phone: Some("13800000000".into()),
            address: Some("高桥镇一村".into()),
        }],
        related_case_id: None,
        accusation: false,
        confidential: false,
        leader_reception: false,
        accused_unit: None,
    }
}

/// A case and the clock, driven through `decide` + `evolve` exactly as the service does.
pub struct World {
    pub policy: Policy,
    pub units: BTreeMap<UnitCode, UnitKind>,
    pub case: Option<Case>,
    pub events: Vec<Event>,
    /// The other cases of the petitioner, as the command path would find them.
    pub peers: Vec<domain::linking::Peer>,
    /// A merge's target, as the command path would load it.
    pub target: Option<Case>,
}

impl World {
    pub fn new() -> Self {
        World {
            policy: Policy::default(),
            units: units(),
            case: None,
            events: vec![],
            peers: vec![],
            target: None,
        }
    }

    pub fn try_as(
        &mut self,
        who: &Principal,
        now: &str,
        cmd: Command,
    ) -> Result<&Case, DomainError> {
        let ctx = Ctx {
            reached_at: None,
            now: ts(now),
            policy: &self.policy,
            units: &self.units,
            principal: who,
            case_id: case_id(),
            case_serial: None,
            peers: &self.peers,
            target: self.target.as_ref(),
        };
        let event = decide(self.case.as_ref(), &cmd, &ctx)?;
        let at = decide::occurred_at(self.case.as_ref(), &cmd, ts(now))?;
        let late = decide::late_entry(self.case.as_ref(), &cmd, &event, at, ts(now), &self.policy)?;
        let next = evolve(self.case.take(), case_id(), &event, at, late.entry)
            .expect("evolve accepts decided events");
        self.events.push(event);
        self.case = Some(next);
        Ok(self.case.as_ref().expect("just set"))
    }

    pub fn run(&mut self, now: &str, cmd: Command) -> &Case {
        let who = county();
        match self.try_as(&who, now, cmd) {
            Ok(c) => c,
            Err(e) => panic!("command refused: {e}"),
        }
    }

    pub fn refuse(&mut self, now: &str, cmd: Command) -> DomainError {
        let who = county();
        self.refuse_as(&who, now, cmd)
    }

    pub fn refuse_as(&mut self, who: &Principal, now: &str, cmd: Command) -> DomainError {
        let before = self.case.clone();
        let err = self
            .try_as(who, now, cmd)
            .expect_err("command should be refused");
        assert_eq!(
            self.case, before,
            "a refused command must not change the case"
        );
        err
    }

    pub fn case(&self) -> &Case {
        self.case.as_ref().expect("case registered")
    }
}

pub fn accept() -> Command {
    Command::Accept(AcceptCase {
        late_reason: None,
        occurred_at: None,
        new_facts: None,
    })
}
pub fn reply() -> Command {
    Command::Reply(ReplyCase {
        late_reason: None,
        outcome: Outcome::Explained,
        text: "Explained the policy".into(),
        occurred_at: None,
    })
}
pub fn close() -> Command {
    Command::Close(CloseCase {
        late_reason: None,
        note: None,
        occurred_at: None,
    })
}
pub fn assign(u: &str) -> Command {
    Command::Assign(AssignCase {
        late_reason: None,
        unit: unit(u),
        due_date: None,
        note: None,
        occurred_at: None,
    })
}
pub fn transfer(u: &str) -> Command {
    Command::Transfer(TransferCase {
        late_reason: None,
        unit: unit(u),
        reason: "competent unit".into(),
        occurred_at: None,
    })
}
pub fn request_review() -> Command {
    Command::RequestReview(RequestReview {
        late_reason: None,
        reason: "disagree".into(),
        occurred_at: None,
    })
}
pub fn decide_review() -> Command {
    Command::DecideReview(DecideReview {
        late_reason: None,
        outcome: Outcome::NotSupported,
        text: "upheld".into(),
        occurred_at: None,
    })
}
pub fn request_rereview() -> Command {
    Command::RequestRereview(RequestReview {
        late_reason: None,
        reason: "still disagree".into(),
        occurred_at: None,
    })
}
pub fn decide_rereview() -> Command {
    Command::DecideRereview(DecideReview {
        late_reason: None,
        outcome: Outcome::NotSupported,
        text: "upheld again".into(),
        occurred_at: None,
    })
}
pub fn extend(days: u32) -> Command {
    Command::Extend(ExtendDeadline {
        late_reason: None,
        days,
        reason: "site survey".into(),
        approved_by: "director".into(),
        occurred_at: None,
    })
}
pub fn follow_up(s: Satisfaction) -> Command {
    Command::FollowUp(RecordFollowUp {
        late_reason: None,
        satisfaction: s,
        note: None,
        occurred_at: None,
    })
}
pub fn supervise(due: Option<&str>) -> Command {
    Command::Supervise(SuperviseCase {
        late_reason: None,
        note: "please hurry".into(),
        due_date: due.map(|d| d.parse().expect("date")),
        occurred_at: None,
    })
}
