//! Tamper evidence over HTTP (docs/contract.md, "HTTP"): the public keys events and
//! checkpoints are signed with (`GET /v1/audit/public-key`), a case verified against the last
//! checkpoint (`GET /v1/cases/{id}/verify`) and its bundle for offline verification
//! (`GET /v1/cases/{id}/bundle`, which `xinfang export case ID --bundle` writes too).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use commands::CaseService;
use domain::auth::{can_read_case, can_verify};
use domain::CaseId;
use eventlog::Checkpoints;
use integrity::bundle::{Bundle, Header, Proof};
use integrity::{CaseHead, Checkpoint, Finding, KeySet, PublicKey, Report};
use queries::QueryClient;

use crate::error::{ApiError, Failure};
use crate::AppState;

type AppResult = Result<Response, ApiError>;

/// What the integrity endpoints need beyond the command path.
pub struct Integrity {
    pub public_keys: Vec<PublicKey>,
    pub keys: KeySet,
    pub checkpoints: Checkpoints,
}

/// A public key as the API shows it.
fn key_view(k: PublicKey) -> KeyView {
    KeyView {
        key_id: k.key_id,
        algorithm: k.algorithm,
        public_key: k.public_key,
        valid_from: k.valid_from,
        valid_to: k.valid_to,
    }
}

use wire::case::{FindingView, Verification};
use wire::keys::{KeyView, PublicKeys};

fn verification(case_id: CaseId, r: Report) -> Verification {
    Verification {
        case_id,
        ok: r.ok,
        events: r.events,
        checkpoint_seq: r.checkpoint_seq,
        signatures_checked: r.signatures_checked,
        findings: r
            .findings
            .into_iter()
            .map(|f| FindingView {
                seq: f.seq,
                code: f.code,
                detail: f.detail,
            })
            .collect(),
    }
}

fn integrity(state: &AppState) -> Result<&Integrity, Failure> {
    state.integrity.as_ref().ok_or_else(|| {
        Failure::Unavailable("this API was started without its signing keys".into(), 5)
    })
}

/// `GET /v1/audit/public-key`: any principal.
pub async fn public_key(State(state): State<Arc<AppState>>, headers: HeaderMap) -> AppResult {
    state.tokens.authenticate(&headers)?;
    let keys = integrity(&state)?.public_keys.clone();
    let keys = keys.into_iter().map(key_view).collect();
    Ok(Json(PublicKeys { keys }).into_response())
}

/// The bundle of a case the principal may verify (auditors and the county).
async fn case_bundle(
    state: &AppState,
    headers: &HeaderMap,
    case_id: &str,
) -> Result<(CaseId, Bundle, Vec<Finding>), Failure> {
    let p = state.tokens.authenticate(headers)?;
    can_verify(&p)?;
    let case_id = CaseId::parse(case_id).ok_or(Failure::NotFound)?;
    match state.cases.read(case_id).await? {
        Some(loaded) => can_read_case(&p, &loaded.case)?,
        // An alert's reviews (研判; its id fills the case slot) are verified like a case's
        // events, by those who verify cases (the county and auditors, who read every alert).
        None if state.cases.is_alert(case_id).await? => {}
        None => return Err(Failure::NotFound),
    }
    let i = integrity(state)?;
    let (bundle, extra) = assemble(
        &state.cases,
        &state.queries,
        &i.checkpoints,
        &i.keys,
        case_id,
    )
    .await?;
    Ok((case_id, bundle, extra))
}

/// `GET /v1/cases/{id}/verify`: auditors and the county.
pub async fn verify(
    State(state): State<Arc<AppState>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
) -> AppResult {
    let (case_id, bundle, mut extra) = case_bundle(&state, &headers, &case_id).await?;
    let keys = &integrity(&state)?.keys;
    let mut report = integrity::bundle::verify(&bundle, keys);
    report.findings.append(&mut extra);
    report.ok = report.findings.is_empty();
    Ok(Json(verification(case_id, report)).into_response())
}

/// `GET /v1/cases/{id}/bundle`: the case's events with their proof, as JSON Lines.
pub async fn bundle(
    State(state): State<Arc<AppState>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
) -> AppResult {
    let (_, bundle, _) = case_bundle(&state, &headers, &case_id).await?;
    let mut resp = bundle.to_jsonl().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(resp)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointParams {
    limit: Option<usize>,
    /// Older than this stream sequence.
    before: Option<u64>,
}

/// `GET /v1/audit/checkpoints`: auditors and the county. Newest first, each checked against the
/// county's keys (one written by anyone else is shown as not verifying, never hidden).
pub async fn checkpoints(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    crate::params::Params(params): crate::params::Params<CheckpointParams>,
) -> AppResult {
    let p = state.tokens.authenticate(&headers)?;
    can_verify(&p)?;
    let limit = crate::reads::page_limit(params.limit)?;
    // The checkpoint stream's sequences start at 1: nothing is before 1 (the schema's minimum).
    if params.before == Some(0) {
        return Err(Failure::BadRequest(domain::text!(
            "before: expected a whole number from 1 (a checkpoint's sequence)",
            "before：应为不小于 1 的整数（检查点序号）"
        ))
        .into());
    }
    let i = integrity(&state)?;
    let last = i
        .checkpoints
        .last_seq()
        .await
        .map_err(commands::CommandError::from)
        .map_err(Failure::from)?;
    let top = params
        .before
        .map_or(last, |b| b.saturating_sub(1).min(last));
    let seqs: Vec<u64> = (1..=top).rev().take(limit).collect();
    // Read at once: each is one direct get.
    let read = futures::future::join_all(seqs.iter().map(|&seq| i.checkpoints.get(seq))).await;
    let mut entries = Vec::with_capacity(seqs.len());
    for (seq, found) in seqs.iter().zip(read) {
        let found = found
            .map_err(commands::CommandError::from)
            .map_err(Failure::from)?;
        entries.push(checkpoint_entry(*seq, found, &i.keys));
    }
    let next_before = seqs.last().filter(|&&s| s > 1).copied();
    Ok(Json(wire::keys::CheckpointList {
        checkpoints: entries,
        last_seq: last,
        next_before,
    })
    .into_response())
}

fn checkpoint_entry(
    seq: u64,
    found: Option<Result<Checkpoint, String>>,
    keys: &KeySet,
) -> wire::keys::CheckpointEntry {
    let mut e = wire::keys::CheckpointEntry {
        seq,
        tree_size: None,
        last_seq: None,
        root: None,
        at: None,
        key_id: None,
        verified: false,
        invalid: Vec::new(),
        migrated: false,
        problem: None,
    };
    match found {
        None => e.problem = Some("no message at this sequence".into()),
        Some(Err(why)) => e.problem = Some(format!("not a checkpoint: {why}")),
        Some(Ok(cp)) => {
            let verified = cp.verify(keys);
            e.verified = verified.is_ok();
            e.problem = verified
                .err()
                .map(|k| format!("its signature does not verify: {k}"));
            e.tree_size = Some(cp.tree_size);
            e.last_seq = Some(cp.last_seq);
            e.root = Some(cp.root);
            e.at = Some(cp.at);
            e.key_id = Some(cp.key_id);
            e.invalid = cp.invalid;
            e.migrated = cp.migrated.is_some();
        }
    }
    e
}

/// The last checkpoint that verifies with `keys` (one written by anyone else is passed over).
pub async fn last_checkpoint(
    checkpoints: &Checkpoints,
    keys: &KeySet,
) -> Result<Option<Checkpoint>, Failure> {
    let found = checkpoints
        .last_trusted(|cp| cp.verify(keys).is_ok(), 1000)
        .await
        .map_err(commands::CommandError::from)?;
    Ok(found.map(|(_, cp)| cp))
}

/// A case's bundle: its events as the log holds them, where each is in the log and its audit
/// path to the last checkpoint (from the audit model, which must have applied the case), the
/// checkpoint, and the head statement signed now. Also what the log and the audit model
/// disagree on (an event the model holds that the log no longer has).
pub async fn assemble(
    cases: &CaseService,
    queries: &QueryClient,
    checkpoints: &Checkpoints,
    keys: &KeySet,
    case_id: CaseId,
) -> Result<(Bundle, Vec<Finding>), Failure> {
    let events = cases.history(case_id).await?;
    let last = events.last().ok_or(Failure::NotFound)?;
    let checkpoint = last_checkpoint(checkpoints, keys).await?;
    let tree_size = checkpoint.as_ref().map_or(0, |c| c.tree_size);
    let min_seq = checkpoint.as_ref().map_or(0, |c| c.last_seq).max(last.seq);
    let positions = queries
        .positions(case_id, tree_size, Some(min_seq), cases.now())
        .await
        .map_err(crate::error::query_failure)?;
    let mut findings = Vec::new();
    for p in &positions {
        if !events.iter().any(|e| e.seq == p.seq) {
            findings.push(Finding::new(
                Some(p.seq),
                "missing",
                format!(
                    "the audit trail holds seq {} of this case, the log no longer has it",
                    p.seq
                ),
            ));
        }
    }
    let now = cases.now();
    let head = cases.sign_head(CaseHead {
        case_id: case_id.to_string(),
        version: last.envelope.version,
        last_seq: last.seq,
        last_hash: integrity::to_hex(&last.chain_hash()),
        at: now,
        key_id: String::new(),
        sig: String::new(),
    });
    let mut proofs: Vec<Proof> = positions.into_iter().map(Proof::Event).collect();
    proofs.extend(checkpoint.map(Proof::Checkpoint));
    proofs.push(Proof::Head(head));
    let bundle = Bundle {
        header: Header {
            xinfang_bundle: 1,
            case_id: case_id.to_string(),
            stream: eventlog::subjects::EVENTS_STREAM.into(),
            exported_at: now,
        },
        events: events.iter().map(|e| e.raw.to_vec()).collect(),
        proofs,
    };
    Ok((bundle, findings))
}
