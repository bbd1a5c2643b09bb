//! The read side's protocol: what the API may ask a projector (`Query`), what it answers
//! (`Answer`, with the answer types of queues, statistics and audit trails), and the client the API
//! asks with. Both sides compile against these types, so a renamed field of an answer breaks the
//! build, not a request at run time.
//!
//! It owns the wire form of queries and replies; the chunked request/reply they travel by is the
//! adapter's (`eventlog::rpc`). It must never read a store
//! (that is `projections`) nor know HTTP or who may ask what (that is `api` and `domain::auth`).

pub mod adjustments;
pub mod alerts;
pub mod audit;
pub mod cases;
pub mod client;
pub mod protocol;
pub mod queues;
pub mod scorecard;
pub mod stats;

pub use client::{Applied, QueryClient, QueryError};
pub use protocol::{
    Answer, ModelDigest, ModelStatus, Query, QueryFailure, QueryReply, QueryRequest,
};
