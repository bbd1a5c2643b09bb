//! The `xinfang` program as a library, a composition: logging, one `run_*` per service that
//! builds its dependencies from the configuration (the `config` crate, re-exported here), the
//! `up` supervisor and the managed server's NATS users. `main.rs` only parses arguments.
//!
//! It reads the configuration and the environment; everything it wires comes from the library
//! crates. It must never hold a rule of the domain or a service's loop of its own (those live in
//! `domain`, `commands`, `inbox`, `projections` and `api`).

pub use config;

pub mod audit;
pub mod launch;
pub mod natsauth;
pub mod projector;
pub mod serve;
pub mod telemetry;
pub mod up;
