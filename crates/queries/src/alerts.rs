//! 苗头预警 (`GET /v1/alerts`): what the API asks the cases model for a period's alerts.

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
