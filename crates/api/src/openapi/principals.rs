//! Who is who: the principal a token stands for (`/v1/me`), the county's principals
//! (`/v1/principals`) and its units (`/v1/units`).

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::PathsBuilder;

use super::responses;

pub(super) fn paths(paths: PathsBuilder) -> PathsBuilder {
    let paths = paths.path(
        "/v1/me",
        PathItem::new(
            HttpMethod::Get,
            OperationBuilder::new()
                .operation_id(Some("get_me"))
                .summary(Some(
                    "The principal the token stands for: its id, role and unit (the console signs in with it)",
                ))
                .responses(responses(
                    ("200", "The principal", "Me"),
                    &[("401", "Missing or unknown token")],
                )),
        ),
    );
    let paths = paths.path(
        "/v1/principals",
        PathItem::new(
            HttpMethod::Get,
            OperationBuilder::new()
                .operation_id(Some("list_principals"))
                .summary(Some(
                    "The county's principals, with each township system that acts over NATS: id, role and unit (the county and auditors, to pick whose trail to read)",
                ))
                .responses(responses(
                    ("200", "The principals, by id", "Principals"),
                    &[
                        ("401", "Missing or unknown token"),
                        ("403", "Not the county nor an auditor"),
                    ],
                )),
        ),
    );
    paths.path(
        "/v1/units",
        PathItem::new(
            HttpMethod::Get,
            OperationBuilder::new()
                .operation_id(Some("list_units"))
                .summary(Some(
                    "The county's units: code, name and kind (forms offer them by name)",
                ))
                .responses(responses(
                    ("200", "The units, by code", "Units"),
                    &[("401", "Missing or unknown token")],
                )),
        ),
    )
}
