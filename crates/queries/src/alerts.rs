//! 苗头预警 (`GET /v1/alerts`, `POST /v1/alerts/{id}/review`): what the API asks the cases model
//! for a period's alerts, and for one alert by its id.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use domain::alerts::AlertKind;
use domain::UnitCode;

/// The alerts that held on any day from `from` to `to` (policy time zone, inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub kind: Option<AlertKind>,
    pub township: Option<UnitCode>,
    /// A township's reader (`domain::auth`): its township's alerts only, naming and counting the
    /// cases it may read, and none that holds only through cases hidden from it. `None`: the
    /// county and auditors, who read every case.
    pub reader: Option<UnitCode>,
}

/// One alert by its id, as the county sees it (for a review: where its subject is, and the
/// alert to answer with).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertById {
    pub alert_id: uuid::Uuid,
}

/// An alert ever raised: what its id names, the alert its spell makes now (`None` once no spell
/// is keyed by the id any more: a correction took its cases away), and its latest review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaisedAlert {
    pub kind: AlertKind,
    pub township: UnitCode,
    pub category: domain::Category,
    pub alert: Option<wire::alerts::Alert>,
    pub reviewed: Option<wire::alerts::AlertReview>,
}
