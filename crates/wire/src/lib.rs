//! The HTTP API's answers as types, shared by the side that writes them (`api`, and `commands`
//! for problems), the OpenAPI document generated from them, and the side that reads them (the
//! console): a field renamed here breaks the build of both, not a page at run time.
//!
//! It holds data only: serde and schema types with no behaviour beyond naming their values. It
//! must never do IO, know a store, NATS or HTTP, or depend on a crate above `domain`.

pub mod cases;
pub mod me;
pub mod outcome;
pub mod problem;
pub mod status;

pub use me::{Me, UnitEntry, Units};
pub use problem::{Problem, ProblemCode};
pub use status::CaseStatus;
