//! 合并办理 as the readers of a merged case see it: they may read, not act on, the case their
//! matter was merged into (`domain::auth::can_read_as_merged`), so a township that handled the
//! merged case follows it to its answer instead of a 404.

use domain::auth::{can_read_as_merged, can_read_case};
use domain::{Case, DomainError, Principal};

use crate::error::Failure;
use crate::AppState;

/// Whether `p` may read `case`: as `domain::auth::can_read_case`, or because a case it may read
/// was merged into it — as of log sequence `at` when the read is of a past point (a merge after
/// it opens nothing then). Only a refusal asks the audit model for the case's merges, and a
/// model that does not answer keeps the refusal.
pub(crate) async fn may_read(
    state: &AppState,
    p: &Principal,
    case: &Case,
    at: Option<u64>,
) -> Result<(), Failure> {
    let refused = match can_read_case(p, case) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    // A unit's principal is refused as if the case did not exist; nothing else is reconsidered.
    if !matches!(refused, DomainError::NotFound) {
        return Err(Failure::Domain(refused));
    }
    let merged = match state.queries.merged_into(case.id, state.cases.now()).await {
        Ok(merged) => merged,
        Err(e) => {
            tracing::warn!(case_id = %case.id, error = %e, "the merges of a case could not be read");
            return Err(Failure::Domain(refused));
        }
    };
    for id in merged {
        let loaded = match at {
            Some(seq) => state.cases.read_at(id, seq).await?,
            None => state.cases.read(id).await?,
        };
        if let Some(loaded) = loaded {
            if can_read_as_merged(p, case, &loaded.case).is_ok() {
                return Ok(());
            }
        }
    }
    Err(Failure::Domain(refused))
}
