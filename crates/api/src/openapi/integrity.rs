//! The paths of tamper evidence (issue 15): the public keys, a case's verification and its
//! bundle for offline verification.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, PathsBuilder, Type};

use super::{case_id_param, json, responses};

pub(super) fn paths(paths: PathsBuilder, errors: &[(&str, &str)]) -> PathsBuilder {
    let mut bundle = ResponsesBuilder::new().response(
        "200",
        ResponseBuilder::new()
            .description(
                "JSON Lines: a header, each event exactly as stored, then the proof lines (docs/events.md, Bundles)",
            )
            .content(
                "application/x-ndjson",
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            ),
    );
    for (status, why) in errors {
        bundle = bundle.response(
            *status,
            ResponseBuilder::new()
                .description(*why)
                .content("application/problem+json", json("Problem")),
        );
    }
    paths
        .path(
            "/v1/audit/public-key",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("get_public_keys"))
                    .summary(Some(
                        "The Ed25519 keys events and checkpoints are signed with, with their validity",
                    ))
                    .responses(responses(
                        ("200", "The current key and the retired ones", "PublicKeys"),
                        &[
                            ("401", "Missing or unknown token"),
                            ("503", "The API was started without its keys"),
                        ],
                    )),
            ),
        )
        .path(
            "/v1/cases/{case_id}/verify",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("verify_case"))
                    .summary(Some(
                        "The case's events checked: each hash and signature, the chain, and inclusion in the last signed checkpoint (auditors and the county)",
                    ))
                    .parameter(case_id_param())
                    .responses(responses(
                        ("200", "What was checked and every finding, by sequence", "Verification"),
                        errors,
                    )),
            ),
        )
        .path(
            "/v1/cases/{case_id}/bundle",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("get_case_bundle"))
                    .summary(Some(
                        "The case's events with the proof `xinfang verify --bundle FILE --public-key KEY` checks offline (auditors and the county)",
                    ))
                    .parameter(case_id_param())
                    .responses(bundle.build()),
            ),
        )
}
