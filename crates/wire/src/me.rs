//! Who a token stands for (`GET /v1/me`), the county's principals (`GET /v1/principals`) and
//! its units (`GET /v1/units`).

use serde::{Deserialize, Serialize};

/// The principal behind the request's token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub principal_id: String,
    #[schema(inline)]
    pub role: domain::Role,
    /// The principal's unit (none for the county-wide roles without one).
    pub unit: Option<String>,
    /// The unit's name.
    pub unit_name: Option<String>,
}

/// One unit of the county.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitEntry {
    pub code: String,
    pub name: String,
    /// `county`, `township` or `department`.
    pub kind: String,
}

/// `GET /v1/units`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Units {
    pub units: Vec<UnitEntry>,
}

/// `GET /v1/principals`: every configured principal, by id, each as `GET /v1/me` describes it.
/// One removed from the configuration is not listed, though its trail stays readable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Principals {
    pub principals: Vec<Me>,
}
