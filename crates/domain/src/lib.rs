//! The case domain of Xinfang, pure: ids and values, commands and events, the case state with
//! `decide` and `evolve`, the deadline policy, derived flags and authorization.
//!
//! This crate must never do IO, be async, read a clock or draw random numbers: the clock, new ids
//! and the caller come in through [`decide::Ctx`], so every rule is testable as a plain
//! given/when/then function. A tidy test (`tests/tidy.rs`) fails if it gains a dependency on
//! tokio, async-nats, sled, axum, tracing or another IO crate.

pub mod adjustment;
pub mod alerts;
pub mod auth;
pub mod case;
pub mod command;
pub mod dates;
pub mod decide;
pub mod erasure;
pub mod error;
pub mod event;
pub mod evidence;
pub mod identity;
pub mod ids;
pub mod linking;
pub mod measures;
pub mod personal;
pub mod policy;
pub mod stamp;
pub mod text;
pub mod values;

pub use auth::Principal;
pub use case::{evolve, Case, EvolveError, Leader};
pub use command::{Action, BodyError, Command};
pub use decide::{decide, Ctx};
pub use error::DomainError;
pub use event::Event;
pub use ids::{CaseId, PrincipalId, UnitCode};
pub use personal::PersonalData;
pub use policy::{Policy, Timestamp};
pub use text::{Lang, Text};
pub use values::*;
