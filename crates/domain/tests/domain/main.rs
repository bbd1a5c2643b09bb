//! The domain's tests in one binary: pure, no IO, no NATS.

mod common;

mod auth;
mod golden;
mod lifecycle;
mod personal;
mod properties;
