//! Load tooling, run as `xinfang` subcommands: realistic petitions (`scenario`), the demo set
//! (`demo`), township traffic through the inbox (`simulate`), raw JetStream and sled baselines
//! (`rawbench`) and the benchmark (`bench`).
//!
//! It drives the system only through its real doors (the command path, HTTP, the NATS inbox,
//! query subjects) and measures; it must never be needed by a service, and it holds no rule of the
//! domain. Starting a system to measure is the binary's (`bench::Launch`).

pub mod bench;
pub mod demo;
mod demo_backlog;
mod demo_loop;
mod demo_watch;
pub mod rawbench;
pub mod scenario;
pub mod simulate;
mod steps;
