//! Work queues (`GET /v1/queues/{unit}`) and the county's workbench (`GET /v1/workbench`): the
//! open cases of a unit, a township or the whole county, soonest deadline first (or newest
//! received first), as case summaries, with counts and a cursor.

use serde::{Deserialize, Serialize};

use domain::{CaseId, Principal, Stage, Timestamp, UnitCode};

use crate::cases::Flag;

/// Which items a queue query lists by deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    Open,
    DueSoon,
    Overdue,
}

/// The order of a queue's page: soonest deadline first (`due`, the default) or newest received
/// first (`received`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueOrder {
    #[default]
    Due,
    Received,
}

/// Whose open cases: one unit's (its work queue), one township's, or the county's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Unit(UnitCode),
    Township(UnitCode),
    All,
}

/// A page of a queue, asked by the API for `principal`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueQuery {
    pub principal: Principal,
    pub scope: Scope,
    pub filter: Filter,
    pub stage: Option<Stage>,
    pub flag: Option<Flag>,
    /// With a township scope: only the cases of this accountable unit too.
    pub unit: Option<UnitCode>,
    pub limit: usize,
    pub cursor: Option<DueCursor>,
    #[serde(default)]
    pub order: QueueOrder,
    /// In the received order: the listing order key after which the page starts (the cursor
    /// `r1<key>` without its prefix).
    #[serde(default)]
    pub after: Option<String>,
    /// Days before a deadline from which a case is due soon (policy).
    pub due_soon_days: u32,
}

/// A position in the soonest-deadline-first order: (deadline, case id); cases without a
/// deadline come last. Opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueCursor {
    /// The deadline in seconds since the epoch; `None` for a case without one.
    pub due: Option<i64>,
    pub case_id: CaseId,
}

impl DueCursor {
    pub fn of(due: Option<Timestamp>, case_id: CaseId) -> DueCursor {
        DueCursor {
            due: due.map(|d| d.timestamp()),
            case_id,
        }
    }

    /// The form clients see: `q1` and 48 hex digits.
    pub fn encode(&self) -> String {
        let due = self.due.map_or(u64::MAX, |d| (d as u64) ^ (1 << 63));
        format!("q1{due:016x}{}", self.case_id.0.simple())
    }

    /// A cursor this API gave, or `None`.
    pub fn decode(s: &str) -> Option<DueCursor> {
        let hex = s.strip_prefix("q1")?;
        if hex.len() != 48 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let due = u64::from_str_radix(&hex[..16], 16).ok()?;
        let id = uuid::Uuid::parse_str(&hex[16..]).ok()?;
        Some(DueCursor {
            due: (due != u64::MAX).then_some((due ^ (1 << 63)) as i64),
            case_id: CaseId(id),
        })
    }
}

/// A received-order cursor as clients see it: `r1` and the 48 hex digits of a listing order.
pub fn received_cursor(order: &str) -> String {
    format!("r1{order}")
}

/// The listing order a received-order cursor names, or `None` for one this API did not give.
pub fn decode_received(cursor: &str) -> Option<String> {
    let hex = cursor.strip_prefix("r1")?;
    (hex.len() == 48 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| hex.to_owned())
}
