//! The domain's tests in one binary: pure, no IO, no NATS.

mod common;

mod adjustments;
mod alerts;
mod allowed;
mod auth;
mod backlog;
mod closedloop;
mod corrections;
mod golden;
mod lifecycle;
mod linking;
mod personal;
mod properties;
mod triage;
