//! 查重 (`POST /v1/cases/check`): what a registration of a body would be told now, decided by
//! the rules and the lists a registration is decided on (`domain::linking` over the command
//! path's identity index and the log), not by what the caller may see; the earlier cases it
//! may see are listed beside the flags.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use domain::auth::authorize_register;
use domain::Status;
use queries::cases::Probe;
use wire::cases::{CheckRegistration, Checked};

use crate::error::{ApiError, Failure};
use crate::AppState;

/// `POST /v1/cases/check` (who may register for the township).
pub async fn check(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let p = state.tokens.authenticate(&headers)?;
    let (body, _) = crate::adjustments::body::<CheckRegistration>(body)?;
    authorize_register(&p, &body.township).map_err(Failure::Domain)?;
    let cases = &state.cases;
    let (earlier, current) = cases
        .earlier_cases(&body.petitioners, body.category)
        .await?;
    // As `domain::decide::registration::complete_registration` and the registration's answer
    // judge them: the township holds a new case until it is assigned.
    let related = body.related_case_id.is_some();
    let (repeat, first) =
        domain::linking::registration_flags(&body.township, body.category, &earlier);
    let duplicate = domain::linking::duplicate(
        &body.township,
        body.category,
        &body.township,
        Status::Registered,
        &current,
    );
    // The earlier cases the caller may see, from the cases model (a search per petitioner).
    let mut seen: BTreeMap<uuid::Uuid, wire::cases::CaseSummary> = BTreeMap::new();
    for person in cases.persons(&body.petitioners) {
        let probe = Probe { person, name: None };
        let found = state
            .queries
            .search(p.clone(), probe, None, cases.now())
            .await?;
        for s in found.value {
            seen.entry(s.case_id.0).or_insert(s);
        }
    }
    let mut items: Vec<_> = seen.into_values().collect();
    items.sort_by_key(|c| std::cmp::Reverse((c.received_at, c.case_id.0)));
    state.name_units(&mut items);
    Ok(Json(Checked {
        repeat: repeat || related,
        duplicate,
        first_petition: first && !related,
        earlier: items,
    })
    .into_response())
}
