//! Running Xinfang on one machine: finding or installing the pinned `nats-server` (`natsbin`),
//! supervising child processes with whole-line logs and restarting a managed nats-server that
//! could not write its store (`supervise`), the free-space watermark every service watches
//! (`storage`), the county's secrets kept in the data directory (`secrets`), how a service stops
//! (`signals`) and probing local ports (`ports`).
//!
//! It owns processes, signals and the filesystem's free space. It must never open a stream, a
//! store or a socket of the system's own (that is `eventlog`, `projections` and `api`), and holds
//! no rule of the domain.

pub mod natsbin;
pub mod ports;
pub mod secrets;
pub mod signals;
pub mod storage;
pub mod supervise;
