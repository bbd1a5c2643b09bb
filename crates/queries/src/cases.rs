//! Finding cases (`GET /v1/cases`, `POST /v1/cases/search`, `GET /v1/cases/by-no/{case_no}`):
//! the filters and cursor of a listing, the probe of a petitioner search, and the case summaries
//! the cases model answers with. Unit names are the API's to add (the model knows codes only).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::identity::Digest;

use domain::{CaseId, Category, Channel, Principal, Stage, Status, Timestamp, UnitCode};
use wire::cases::{CaseSummary, SummaryFlags, Supervision};

/// Most items of one page.
pub const MAX_LIMIT: usize = 1000;
/// Items of a page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;

/// A flag a listing can filter on (`flag=`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Collective,
    CrossLevel,
    Repeat,
    Duplicate,
    LeaderReception,
    FirstPetition,
    Bounced,
    Supervised,
    /// 领导包案: a leader answers for the case.
    Leader,
    /// 签收: open, its current accountability unacknowledged past its limit (by the clock).
    Unacknowledged,
    /// 催办: open and overdue by more than `escalate_after_days` (by the clock).
    Escalated,
    /// 补录: a step of the case was entered late.
    LateEntry,
    /// 积案: open, and old or a repeated matter (by the clock).
    Backlog,
}

impl Flag {
    pub const ALL: [Flag; 13] = [
        Flag::Collective,
        Flag::CrossLevel,
        Flag::Repeat,
        Flag::Duplicate,
        Flag::LeaderReception,
        Flag::FirstPetition,
        Flag::Bounced,
        Flag::Supervised,
        Flag::Leader,
        Flag::Unacknowledged,
        Flag::Escalated,
        Flag::LateEntry,
        Flag::Backlog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Collective => "collective",
            Flag::CrossLevel => "cross_level",
            Flag::Repeat => "repeat",
            Flag::Duplicate => "duplicate",
            Flag::LeaderReception => "leader_reception",
            Flag::FirstPetition => "first_petition",
            Flag::Bounced => "bounced",
            Flag::Supervised => "supervised",
            Flag::Leader => "leader",
            Flag::Unacknowledged => "unacknowledged",
            Flag::Escalated => "escalated",
            Flag::LateEntry => "late_entry",
            Flag::Backlog => "backlog",
        }
    }
}

/// The filters of a listing; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseFilter {
    pub case_no: Option<String>,
    /// Text the summary contains (an accusation's summary only for those who may read it).
    pub q: Option<String>,
    pub township: Option<UnitCode>,
    pub unit: Option<UnitCode>,
    pub status: Option<Status>,
    pub stage: Option<Stage>,
    pub category: Option<Category>,
    pub channel: Option<Channel>,
    /// Received on or after this time.
    #[serde(default, with = "domain::stamp::option")]
    pub from: Option<Timestamp>,
    /// Received before this time.
    #[serde(default, with = "domain::stamp::option")]
    pub until: Option<Timestamp>,
    pub flag: Option<Flag>,
    /// The leader who owns the case (领导包案), by name.
    pub leader: Option<String>,
}

/// A page of a listing, asked by the API for `principal` (who sees what `GET` on a case shows).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListCases {
    pub principal: Principal,
    pub filter: CaseFilter,
    pub limit: usize,
    /// Where the previous page ended (`next_cursor`).
    pub cursor: Option<Cursor>,
}

/// A position in the newest-first order of cases: (received time, case id). Opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cursor {
    pub received_micros: i64,
    pub case_id: CaseId,
}

impl Cursor {
    /// The form clients see: `c1` and 48 hex digits.
    pub fn encode(&self) -> String {
        format!(
            "c1{:016x}{}",
            (self.received_micros as u64) ^ (1 << 63),
            self.case_id.0.simple()
        )
    }

    /// A cursor this API gave, or `None`.
    pub fn decode(s: &str) -> Option<Cursor> {
        let hex = s.strip_prefix("c1")?;
        if hex.len() != 48 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let micros = u64::from_str_radix(&hex[..16], 16).ok()? ^ (1 << 63);
        let id = uuid::Uuid::parse_str(&hex[16..]).ok()?;
        Some(Cursor {
            received_micros: micros as i64,
            case_id: CaseId(id),
        })
    }
}

/// What a petitioner search looks for: keyed hashes only (computed by the API with the county's
/// identity key), never the values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub person: domain::identity::Person,
    /// The name alone (`Keys::name`), when neither an ID number nor a phone was given.
    #[serde(default)]
    pub name: Option<Digest>,
}

impl Probe {
    /// Whether `filed` (a petitioner of some case, filed under one of [`Probe::keys`]) is the
    /// one looked for: the same person (`Person::same_as`); when only a phone was given, the
    /// same phone; when only a name, anyone filed under that name's key.
    pub fn matches(&self, filed: &domain::identity::Person) -> bool {
        let p = &self.person;
        if p.id.is_some() || p.name_phone.is_some() {
            p.same_as(filed)
        } else if p.phone.is_some() {
            p.phone == filed.phone
        } else {
            self.name.is_some()
        }
    }

    /// The index keys to read.
    pub fn keys(&self) -> Vec<String> {
        let p = &self.person;
        if p.id.is_some() || p.name_phone.is_some() {
            p.link_keys()
        } else if p.phone.is_some() {
            p.keys()
        } else {
            self.name.iter().map(domain::identity::name_key).collect()
        }
    }

    pub fn digests(&self) -> [Option<Digest>; 3] {
        [self.person.id, self.person.name_phone, self.person.phone]
    }
}

/// Digits of the serial that ends a case number (`GAOQIAO-2026-000065`).
pub const SERIAL_DIGITS: usize = 6;

/// The serial that ends `case_no`, when it is numbered in a series (`000065`); numbers of earlier
/// versions (a day and a tail of the case id) have none.
pub fn serial_of(case_no: &str) -> Option<&str> {
    let (_, serial) = case_no.rsplit_once('-')?;
    is_serial(serial).then_some(serial)
}

/// Whether a search text is a serial alone (`000065`): what a clerk reads off a paper file.
pub fn is_serial(q: &str) -> bool {
    q.len() == SERIAL_DIGITS && q.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a search text is a whole case number (letters, digits, `-` and `_`, with a `-` and a
/// letter: a township's code leads every number, so `2026-03` stays summary text): found by
/// number, in any letter case, not in the summaries.
pub fn is_case_no(q: &str) -> bool {
    q.contains('-')
        && q.len() <= 64
        && q.bytes().any(|b| b.is_ascii_alphabetic())
        && q.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod number_tests {
    use super::{is_case_no, is_serial, serial_of};

    /// What a clerk types for a number: the whole number in any letter case, or its serial.
    #[test]
    fn numbers_and_serials_are_told_from_text() {
        assert!(is_case_no("gaoqiao-2026-000065") && is_case_no("GAOQIAO-20260302-0a1b2c3d"));
        assert!(!is_case_no("2026-03") && !is_case_no("土地-纠纷") && !is_case_no("gaoqiao"));
        assert!(is_serial("000065") && !is_serial("65") && !is_serial("0000650"));
        assert_eq!(serial_of("GAOQIAO-2026-000065"), Some("000065"));
        assert_eq!(serial_of("GAOQIAO-20260302-0a1b2c3d"), None);
    }
}

/// The clock of an answer: now, and how many days before a deadline a case is due soon.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: Timestamp,
    pub due_soon_days: u32,
    /// 催办: days overdue after which an open case is escalated (policy).
    pub escalate_after_days: u32,
    /// The rest of the policy (积案 and the plan's date by its calendar).
    pub policy: domain::Policy,
}

impl Clock {
    /// The clock of `policy` at `now`.
    pub fn of(policy: &domain::Policy, now: Timestamp) -> Clock {
        Clock {
            now,
            due_soon_days: policy.due_soon_days,
            escalate_after_days: policy.escalate_after_days,
            policy: *policy,
        }
    }

    /// Whether a flag that depends on the clock holds for `c` now (`None` for the others).
    pub fn flag(&self, flag: Flag, c: &domain::Case) -> Option<bool> {
        match flag {
            Flag::Unacknowledged => Some(c.unacknowledged(self.now)),
            Flag::Escalated => Some(c.escalated(self.now, self.escalate_after_days)),
            Flag::Backlog => Some(c.backlog(self.now, &self.policy)),
            _ => None,
        }
    }

    /// Overdue and due soon, for a deadline.
    pub fn judge(&self, due: Option<Timestamp>) -> (bool, bool) {
        let left = due.map(|d| d - self.now);
        let overdue = left.is_some_and(|l| l < chrono::Duration::zero());
        let soon = chrono::Duration::days(i64::from(self.due_soon_days));
        (overdue, !overdue && left.is_some_and(|l| l <= soon))
    }
}

/// A case as `viewer` sees it in a listing, against `clock` (without unit names); its duplicate
/// flag (一信多投) is what its petitioners' other cases tell.
pub fn summary_of(
    c: &domain::Case,
    duplicate: bool,
    viewer: &Principal,
    clock: Clock,
) -> CaseSummary {
    let now = clock.now;
    let due_at = c.due_at().filter(|_| c.status.is_open());
    let (overdue, due_soon) = clock.judge(due_at);
    CaseSummary {
        case_id: c.id,
        case_no: c.case_no.clone(),
        township: c.township.clone(),
        township_name: String::new(),
        unit: c.unit.clone(),
        unit_name: String::new(),
        status: c.status,
        stage: c.stage(),
        category: c.category,
        channel: c.channel,
        headcount: c.headcount,
        received_at: c.received_at,
        summary: (!c.accusation || domain::auth::reads_county_wide(viewer))
            .then(|| c.summary.clone()),
        due_at,
        days_left: due_at.map(|d| (d - now).num_seconds().div_euclid(86_400)),
        overdue,
        due_soon,
        flags: SummaryFlags {
            collective: c.flags.collective,
            cross_level: c.flags.cross_level,
            repeat: c.flags.repeat,
            duplicate,
            leader_reception: c.leader_reception,
            first_petition: c.first_petition,
            bounced: c.bounced,
            supervised: c.supervisions > 0,
            unacknowledged: c.unacknowledged(now),
            escalated: c.escalated(now, clock.escalate_after_days),
            late_entry: c.late_entries > 0,
            backlog: c.backlog(now, &clock.policy),
        },
        bounces: c.bounces(),
        supervision: supervision_of(c, now),
        leader: c.leader.clone(),
        mark: wire::cases::WorkMark::of(c),
        repeat_rank: (c.repeat_rank > 0).then_some(c.repeat_rank),
        resolution_plan: wire::cases::ResolutionPlan::of(c, now, &clock.policy),
    }
}

/// A case's supervision as of `now`; `None` when it was never chased.
pub fn supervision_of(case: &domain::Case, now: Timestamp) -> Option<Supervision> {
    (case.supervisions > 0).then(|| Supervision {
        count: case.supervisions,
        // Stored as the end of the day in the policy's time zone, with its offset.
        committed_date: case.committed_at.map(|t| t.date_naive()),
        committed_overdue: case.committed_overdue(now),
    })
}

/// The cases whose petitioners were corrected after a point of the log (`Query::MovedAfter`):
/// they may have been filed under other petitioners then than now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Moved {
    pub cases: Vec<CaseId>,
    /// Whether these are all of them (at most [`MAX_MOVED`] are answered).
    pub complete: bool,
}

/// Most cases a `Moved` answer names.
pub const MAX_MOVED: usize = 1_000;

/// Most related cases a case view lists.
pub const MAX_RELATED: usize = 200;

/// What the other cases of a case's petitioners tell about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Links {
    /// Whether the model knows the case (it may not have applied its registration yet).
    pub known: bool,
    /// 一信多投: open, with an open case of the same petitioner and category in another unit.
    pub duplicate: bool,
    /// The other cases of its petitioners that the viewer may see, newest first (when asked).
    pub related: Vec<CaseSummary>,
}
