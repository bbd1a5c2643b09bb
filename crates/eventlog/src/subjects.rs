//! Every name Xinfang uses on NATS, spelled once: streams, subjects, consumers, headers, the KV
//! bucket, and what a township's user may publish and subscribe to. A tidy test fails when `xf.`,
//! `XF_` or a `Nats-` header is spelled anywhere else in the services.
//!
//! ```text
//! XF_EVENTS          xf.events.<township>.<case_id>     the case event log (the truth)
//! XF_INBOX_<unit>    xf.inbox.<unit>.<action>           a township's reported steps
//! XF_OUTCOMES        xf.outcome.<unit>.<msg_id>         the county's answer to each of them
//! XF_FEED            xf.feed.<unit>.<case_id>           the events of cases a unit holds or held
//! KV XF_IDEMPOTENCY  <hash of principal and key>        idempotency claims
//! KV XF_CASE_NUMBERS <township>.<year>                  the last case number given
//! KV XF_IDENTITIES   <i|n|p>.<keyed hash>               the cases of a petitioner (hashes only)
//! OBJ XF_ATTACHMENTS <sha256 hex>                       evidence attached to cases
//! XF_KEYS            xf.keys.<case_id>                  each case's data key, wrapped by the KEK
//! KV XF_ERASURES     <erasure_id>                       the case of each erasure requested
//! KV XF_SESSIONS     <session id>                       the console's open sessions
//! XF_EVENTS_MIGRATION xf.migration.<event subject>      the log rewritten, while `migrate` runs
//! (core NATS)        xf.query.<projector>               queries on the read models
//! ```

use domain::{CaseId, UnitCode};

/// The case event stream.
pub const EVENTS_STREAM: &str = "XF_EVENTS";
/// Events are on `xf.events.<township>.<case_id>`: one subject per case, so the case's last
/// sequence is the subject's, and townships can be filtered (feeds, permissions) by subject.
pub const EVENTS_PREFIX: &str = "xf.events";

pub fn case_subject(township: &UnitCode, case: CaseId) -> String {
    format!("{EVENTS_PREFIX}.{township}.{case}")
}

/// Every event of the log.
pub fn all_events() -> String {
    format!("{EVENTS_PREFIX}.>")
}

/// Every event of one case, whatever township its subject names.
pub fn case_events(case: CaseId) -> String {
    format!("{EVENTS_PREFIX}.*.{case}")
}

/// The case id in an event subject.
pub fn case_of_subject(subject: &str) -> Option<&str> {
    subject
        .strip_prefix(EVENTS_PREFIX)?
        .strip_prefix('.')?
        .split_once('.')
        .map(|(_, case)| case)
}

/// The stream a township's inbox messages are kept in: one stream per township, so that the
/// stream-wide `Nats-Msg-Id` deduplication of JetStream is per township by construction (two
/// townships that number their records alike never suppress each other's messages).
pub fn inbox_stream(township: &str) -> String {
    format!("{INBOX_STREAM_PREFIX}{township}")
}
const INBOX_STREAM_PREFIX: &str = "XF_INBOX_";

/// The township of a per-township inbox stream's name.
pub fn township_of_inbox_stream(stream: &str) -> Option<&str> {
    stream.strip_prefix(INBOX_STREAM_PREFIX)
}

/// The single inbox stream of earlier versions (`xf.inbox.>`). Its remaining messages are still
/// answered; it no longer takes new ones.
pub const LEGACY_INBOX_STREAM: &str = "XF_INBOX";
/// A leaf township's local inbox stream, in its own JetStream domain (deploy/township/).
pub const LEAF_INBOX_STREAM: &str = "XF_INBOX";
/// Where the legacy inbox stream's subjects move, so the per-township streams can take theirs.
pub const RETIRED_INBOX: &str = "xf.retired-inbox.>";

const INBOX_PREFIX: &str = "xf.inbox.";

/// The subject a township publishes `action` on.
pub fn inbox(township: &str, action: &str) -> String {
    format!("{INBOX_PREFIX}{township}.{action}")
}

/// Every inbox subject of one township.
pub fn township_inbox(township: &str) -> String {
    format!("{INBOX_PREFIX}{township}.>")
}

/// Whether a stream's subject is an inbox subject (the legacy stream still holding them).
pub fn is_inbox(subject: &str) -> bool {
    subject.starts_with(INBOX_PREFIX)
}

/// What an inbox subject names: `xf.inbox.<township>.<action>`. The action is the rest of the
/// subject (`register.extra` is an unknown action of a known township, answered as such).
pub fn parse_inbox(subject: &str) -> Option<(&str, &str)> {
    let rest = subject.strip_prefix(INBOX_PREFIX)?;
    let (township, action) = rest.split_once('.')?;
    (!township.is_empty() && !action.is_empty()).then_some((township, action))
}

/// The form of an inbox subject, for messages that say what is expected.
pub const INBOX_FORM: &str = "xf.inbox.<township>.<action>";

pub const OUTCOME_STREAM: &str = "XF_OUTCOMES";
const OUTCOME_PREFIX: &str = "xf.outcome";

pub fn outcome(township: &str, msg_id: &str) -> String {
    format!("{OUTCOME_PREFIX}.{township}.{msg_id}")
}

/// Every outcome of one township.
pub fn township_outcomes(township: &str) -> String {
    format!("{OUTCOME_PREFIX}.{township}.>")
}

/// Every outcome.
pub fn all_outcomes() -> String {
    format!("{OUTCOME_PREFIX}.>")
}

pub const FEED_STREAM: &str = "XF_FEED";
const FEED_PREFIX: &str = "xf.feed";

pub fn feed(unit: &UnitCode, case: CaseId) -> String {
    feed_of(unit.as_str(), &case.to_string())
}

/// A feed subject from its tokens (also placeholders, for documents).
pub fn feed_of(unit: &str, case: &str) -> String {
    format!("{FEED_PREFIX}.{unit}.{case}")
}

/// Every feed subject of one unit.
pub fn unit_feed(unit: &str) -> String {
    format!("{FEED_PREFIX}.{unit}.>")
}

/// Every feed subject.
pub fn all_feeds() -> String {
    format!("{FEED_PREFIX}.>")
}

/// Notices to petitioners, for the county's SMS gateway alone (a work queue).
pub const NOTIFY_STREAM: &str = "XF_NOTIFY";
/// The one subject of `XF_NOTIFY`.
pub const NOTIFY_SMS: &str = "xf.notify.sms";
const NOTIFY_PREFIX: &str = "xf.notify";
/// The reply-inbox prefix the gateway's client must use (upper case: no unit code is).
pub const NOTIFY_REPLY_PREFIX: &str = "_INBOX.XF_NOTIFY";

/// Every subject of `XF_NOTIFY`.
pub fn all_notices() -> String {
    format!("{NOTIFY_PREFIX}.>")
}

/// What the gateway's user may publish to and subscribe to: make and read its own consumers on
/// `XF_NOTIFY` and acknowledge their messages, receive replies under its own prefix; nothing else.
pub fn gateway_permissions() -> (Vec<String>, Vec<String>) {
    let s = NOTIFY_STREAM;
    let publish = vec![
        "$JS.API.INFO".to_owned(),
        format!("$JS.API.STREAM.INFO.{s}"),
        format!("$JS.API.CONSUMER.*.{s}"),
        format!("$JS.API.CONSUMER.*.{s}.>"),
        format!("$JS.API.CONSUMER.*.*.{s}.>"),
        format!("$JS.ACK.{s}.>"),
    ];
    (publish, vec![format!("{NOTIFY_REPLY_PREFIX}.>")])
}

/// What the county services' user may not do, so that only the gateway reads a notice: make or
/// read a consumer on `XF_NOTIFY`, get one of its messages, acknowledge one, or see one in flight
/// or a reply meant for the gateway (in the domain-qualified API forms too). It still makes the
/// stream, publishes into it and deletes an erased case's notices.
pub fn notify_denials() -> (Vec<String>, Vec<String>) {
    let s = NOTIFY_STREAM;
    let mut publish = Vec::new();
    for api in ["$JS.API", "$JS.*.API"] {
        publish.extend([
            format!("{api}.CONSUMER.*.{s}"),
            format!("{api}.CONSUMER.*.{s}.>"),
            format!("{api}.CONSUMER.*.*.{s}"),
            format!("{api}.CONSUMER.*.*.{s}.>"),
            format!("{api}.STREAM.MSG.GET.{s}"),
            format!("{api}.DIRECT.GET.{s}"),
            format!("{api}.DIRECT.GET.{s}.>"),
        ]);
    }
    publish.push(format!("$JS.ACK.{s}.>"));
    (
        publish,
        vec![all_notices(), format!("{NOTIFY_REPLY_PREFIX}.>")],
    )
}

/// The ingestor's durable consumer on each inbox stream.
pub const INGESTOR: &str = "xf-ingestor";
/// The feed's durable consumer on the event stream.
pub const FEED_CONSUMER: &str = "xf-feed";

/// The durable consumer a township reads its outcomes through (it may not create consumers).
pub fn outcomes_consumer(unit: &str) -> String {
    format!("outcomes-{unit}")
}

/// The durable consumer a unit's system reads its feed through.
pub fn feed_consumer(unit: &str) -> String {
    format!("feed-{unit}")
}

/// The KV bucket of idempotency claims.
/// The notary's signed checkpoints of the Merkle tree over `XF_EVENTS` (integrity::statement).
pub const CHECKPOINT_STREAM: &str = "XF_CHECKPOINTS";
pub const CHECKPOINT_SUBJECT: &str = "xf.checkpoints";

pub const IDEMPOTENCY_BUCKET: &str = "XF_IDEMPOTENCY";

/// The KV bucket of the web console's open sessions (session id → expiry; no token, no person).
pub const SESSIONS_BUCKET: &str = "XF_SESSIONS";

/// The KV bucket of case number series (`<township>.<year>` → the last number given).
pub const CASE_NUMBERS_BUCKET: &str = "XF_CASE_NUMBERS";

/// The KV bucket of the identity index (`<kind>.<hex of a keyed hash>` → the cases filed).
pub const IDENTITY_BUCKET: &str = "XF_IDENTITIES";

/// The object store of attachments (evidence), objects named by the SHA-256 of their bytes.
pub const ATTACHMENT_BUCKET: &str = "XF_ATTACHMENTS";

/// The stream of wrapped data keys (`cipher`): one message per case on `xf.keys.<case_id>`,
/// erased (not merely deleted) when the case's personal data is.
pub const KEYS_STREAM: &str = "XF_KEYS";
const KEYS_PREFIX: &str = "xf.keys";

pub fn data_key(case: CaseId) -> String {
    format!("{KEYS_PREFIX}.{case}")
}

pub fn all_data_keys() -> String {
    format!("{KEYS_PREFIX}.>")
}

/// The JetStream API request (under `$JS.API.`) that deletes one message of `stream`, erasing it.
pub fn erase_message(stream: &str) -> String {
    format!("STREAM.MSG.DELETE.{stream}")
}

/// The stream `xinfang migrate` writes the rewritten log into before it replaces `XF_EVENTS`
/// (gone once it has), on `xf.migration.<the event's subject>`.
pub const MIGRATION_STREAM: &str = "XF_EVENTS_MIGRATION";
const MIGRATION_PREFIX: &str = "xf.migration";

pub fn migration_subject(event_subject: &str) -> String {
    format!("{MIGRATION_PREFIX}.{event_subject}")
}

pub fn all_migration() -> String {
    format!("{MIGRATION_PREFIX}.>")
}

/// The event subject a message of [`MIGRATION_STREAM`] was on.
pub fn unmigrated_subject(subject: &str) -> Option<&str> {
    subject.strip_prefix(MIGRATION_PREFIX)?.strip_prefix('.')
}

/// The stream behind the attachment object store, and the subject of an object's chunks.
pub fn attachment_stream() -> String {
    format!("OBJ_{ATTACHMENT_BUCKET}")
}

pub fn attachment_chunks(nuid: &str) -> String {
    format!("$O.{ATTACHMENT_BUCKET}.C.{nuid}")
}

/// The KV bucket naming the case of every erasure requested (`<erasure_id>` → case id).
pub const ERASURE_BUCKET: &str = "XF_ERASURES";

/// Queries on a read model: core NATS request/reply, replicas in a queue group.
pub fn query(projector: &str) -> String {
    format!("xf.query.{projector}")
}

/// The queue group of a projector's replicas.
pub fn query_group(projector: &str) -> String {
    format!("xf-query-{projector}")
}

/// The stream of raw JetStream baselines in the benchmark (never holds case data).
pub const BENCH_STREAM: &str = "XF_BENCH_RAW";

pub fn bench(writer: usize) -> String {
    format!("xf.bench.raw.{writer}")
}

pub fn all_bench() -> String {
    "xf.bench.raw.>".into()
}

/// Headers.
pub mod headers {
    /// The headers of an optimistic append: the subject's expected last sequence and the
    /// message id, each when given.
    pub fn append(expected: Option<u64>, id: Option<&str>) -> async_nats::HeaderMap {
        let mut h = async_nats::HeaderMap::new();
        if let Some(e) = expected {
            h.insert(EXPECTED_LAST_SUBJECT_SEQUENCE, e.to_string().as_str());
        }
        if let Some(id) = id {
            h.insert(MSG_ID, id);
        }
        h
    }

    /// The message id JetStream deduplicates on: the command id of an event, the township's record
    /// id of an inbox message.
    pub const MSG_ID: &str = "Nats-Msg-Id";
    /// Optimistic concurrency: the case subject's last sequence the append was decided against.
    pub const EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";
    /// Optimistic concurrency on a whole stream: its last sequence (two notaries never fork the
    /// checkpoints).
    pub const EXPECTED_LAST_SEQUENCE: &str = "Nats-Expected-Last-Sequence";
    /// The event's type, so a tool can filter without decoding the payload.
    pub const EVENT_TYPE: &str = "Xf-Type";
    /// A part `<i>/<n>` of a query reply too large for one message.
    pub const CHUNK: &str = "Xf-Chunk";
    /// On a message `xinfang migrate` rewrote: when JetStream stored the original (RFC 3339),
    /// the stream time `as_of` goes by (the rewritten message's own is the migration's).
    pub const STORED_AT: &str = "Xf-Stored-At";
    /// On an event the county services appended: their mark (`integrity::event::event_mac`),
    /// which lets a reader that holds the key skip the signature check.
    pub const MARK: &str = "Xf-Mark";

    /// Whether a header is JetStream's (a condition of the publish or its deduplication id),
    /// which a message written again must not carry over.
    pub fn is_jetstream(name: &str) -> bool {
        name.starts_with("Nats-")
    }
}

/// The reply-inbox prefix a township's client must use (`inbox_prefix` in nats-py,
/// `custom_inbox_prefix` in async-nats), so no user can read another's replies.
pub fn reply_prefix(unit: &str) -> String {
    format!("_INBOX.{unit}")
}

/// What a township system's user may publish to (requests included) and subscribe to: publish into
/// its own inbox, fetch its own outcomes by direct get, and read its outcomes and feed through the
/// durable consumers the county creates for it; receive replies only under its own prefix.
pub fn township_permissions(unit: &str) -> (Vec<String>, Vec<String>) {
    let outcomes = outcomes_consumer(unit);
    let feed = feed_consumer(unit);
    let publish = vec![
        township_inbox(unit),
        format!(
            "$JS.API.DIRECT.GET.{OUTCOME_STREAM}.{}",
            township_outcomes(unit)
        ),
        format!("$JS.API.CONSUMER.INFO.{OUTCOME_STREAM}.{outcomes}"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{OUTCOME_STREAM}.{outcomes}"),
        format!("$JS.ACK.{OUTCOME_STREAM}.{outcomes}.>"),
        format!("$JS.API.CONSUMER.INFO.{FEED_STREAM}.{feed}"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{FEED_STREAM}.{feed}"),
        format!("$JS.ACK.{FEED_STREAM}.{feed}.>"),
        // Every township may fetch the signed checkpoints (no personal data in them) and keep
        // them: a second party holding them is what makes rewriting the whole log detectable.
        format!("$JS.API.DIRECT.GET.{CHECKPOINT_STREAM}"),
        format!("$JS.API.DIRECT.GET.{CHECKPOINT_STREAM}.>"),
    ];
    let subscribe = vec![format!("{}.>", reply_prefix(unit))];
    (publish, subscribe)
}

/// What a leaf connection may not carry. Seen from the county, "publish" is what the leaf may send
/// in and "subscribe" what it may receive. It carries the county's sourcing of the township's
/// inbox (requests into the leaf's own JetStream domain, its replies and deliveries), but never
/// messages into the county's subjects, acknowledgements of the county's consumers or the
/// county's JetStream API (`$JS.*.API.>` covers `$JS.county.API`), and it receives none of the
/// county's messages or replies (`_INBOX.>` carries case data).
pub fn leaf_denials() -> (Vec<String>, Vec<String>) {
    let into_county = [
        "xf.>",
        "$JS.ACK.>",
        "$JS.API.>",
        "$JS.*.API.>",
        "$KV.>",
        "$O.>",
    ];
    let to_leaf = ["xf.>", "_INBOX.>", "$JS.API.>", "$KV.>", "$O.>"];
    (
        into_county.iter().map(|s| s.to_string()).collect(),
        to_leaf.iter().map(|s| s.to_string()).collect(),
    )
}

/// The JetStream API prefix of another domain (a leaf township's server).
pub fn domain_api(domain: &str) -> String {
    format!("$JS.{domain}.API")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_subjects_parse() {
        assert_eq!(
            parse_inbox(&inbox("gaoqiao", "register")),
            Some(("gaoqiao", "register"))
        );
        assert_eq!(parse_inbox("xf.inbox.gaoqiao"), None);
        assert_eq!(parse_inbox("xf.inbox.a.b.c"), Some(("a", "b.c")));
        assert_eq!(parse_inbox("xf.inbox..register"), None);
        assert_eq!(
            township_of_inbox_stream(&inbox_stream("gaoqiao")),
            Some("gaoqiao")
        );
    }

    #[test]
    fn a_case_subject_names_its_case() {
        let case = CaseId::parse("0193a0c2-6c1e-7000-8000-000000000001").expect("id");
        let township = UnitCode::parse("gaoqiao").expect("unit");
        assert_eq!(
            case_of_subject(&case_subject(&township, case)),
            Some(case.to_string().as_str())
        );
        assert_eq!(case_of_subject("xf.feed.gaoqiao.x"), None);
    }
}
