//! The paths of tamper evidence (issue 15): the public keys, a case's verification and its
//! bundle for offline verification.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, PathsBuilder, Type};

use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::{OpenApi, Required};

use super::{case_id_param, json, responses};

/// The reads that answer as of a past point (api-contract.md, Round 2: integrity).
const AS_OF_PATHS: [&str; 7] = [
    "/v1/cases/{case_id}",
    "/v1/cases/by-no/{case_no}",
    "/v1/cases/{case_id}/history",
    "/v1/queues/{unit}",
    "/v1/workbench",
    "/v1/stats",
    "/v1/audit/actors/{principal_id}",
];

/// `at_seq` and `as_of` on each read of [`AS_OF_PATHS`].
pub(super) fn add_as_of(doc: &mut OpenApi) {
    let at_seq = ParameterBuilder::new()
        .name("at_seq")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "As of this log sequence: the log up to it, the clock at its stream time (with as_of: the clock at as_of). The answer is what the read answered then; its applied_seq is this sequence. 422 for 0 or beyond the log's end",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(1)),
        ))
        .build();
    let as_of = ParameterBuilder::new()
        .name("as_of")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "As of this time (RFC 3339 with offset): the log up to the last sequence stored at or before it, the clock at it. 422 in the future or (with at_seq) before that sequence was stored",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(
            Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )),
        )))
        .build();
    for path in AS_OF_PATHS {
        let get = doc.paths.paths.get_mut(path).and_then(|p| p.get.as_mut());
        if let Some(op) = get {
            let params = op.parameters.get_or_insert_with(Vec::new);
            params.push(at_seq.clone());
            params.push(as_of.clone());
        }
    }
}

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
