//! The HTTP API's answers (and the bodies of its steps that are not commands) as types, shared by the side that writes them (`api`, and `commands`
//! for problems), the OpenAPI document generated from them, and the side that reads them (the
//! console): a field renamed here breaks the build of both, not a page at run time.
//!
//! It holds data only: serde and schema types with no behaviour beyond naming their values. It
//! must never do IO, know a store, NATS or HTTP, or depend on a crate above `domain`.

pub mod adjustments;
pub mod alerts;
pub mod attachments;
pub mod audit;
pub mod case;
pub mod cases;
pub mod erasures;
pub mod keys;
pub mod me;
pub mod notice;
pub mod outcome;
pub mod problem;
pub mod scorecard;
pub mod stats;
pub mod status;

pub use me::{Me, Principals, UnitEntry, Units};
pub use problem::{Problem, ProblemCode};
pub use status::CaseStatus;

/// Why an event in the log is not a fact.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// Its hash is not that of its content, or its signature is not the county's.
    Forged,
    /// Not sealed, though the log was sealed before it.
    Unsigned,
    /// Its case id is not that of the subject it was published on.
    Misfiled,
    /// Its version does not follow the case's last admitted event: a replay or a gap.
    OutOfOrder,
    /// It does not decode as an event, and no key of the county sealed it.
    Unreadable,
}

impl Rejection {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Forged => "forged",
            Rejection::Unsigned => "unsigned",
            Rejection::Misfiled => "misfiled",
            Rejection::OutOfOrder => "out_of_order",
            Rejection::Unreadable => "unreadable",
        }
    }
}
