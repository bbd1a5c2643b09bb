//! The system tests in one binary: real nats-server processes (the test kit), the real router on
//! real HTTP, the real `xinfang` binary as separate processes. Shared helpers: `common`
//! (`spawn_app`: the API in-process) and `support` (`Up`: `xinfang up` as a child process).

mod common;
mod support;

mod adjustments;
mod alert_review;
mod alerts;
mod api_misc;
mod asof;
mod attachments;
mod auth;
mod backlog;
mod casework;
mod closedloop;
mod cluster;
mod command_path;
mod concurrency;
mod config;
mod corrections;
mod documents;
mod erasure;
mod errors;
mod faults;
mod feed;
mod hostile;
mod idempotency;
mod inbox;
mod leaf;
mod migrate;
mod notices;
mod permissions;
mod processes;
mod projectors;
mod proto;
mod tamper;

mod read_protocol;
mod readside;
mod reports;
mod scorecards;
mod simulate;
mod statistics;
mod workbench;
