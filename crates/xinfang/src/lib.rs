//! The `xinfang` program as a library: configuration, the services' wiring, the `up` supervisor,
//! the managed nats-server and demo data. `main.rs` only parses arguments and sets up logging.
//!
//! This is the only crate that reads configuration, environment or signals; everything it wires
//! comes from the library crates, and it holds no domain rule of its own.

pub mod config;
pub mod launch;
pub mod natsauth;
pub mod projector;
pub mod serve;
pub mod telemetry;
pub mod up;
