//! The paths of tamper evidence (issue 15): the public keys, a case's verification and its
//! bundle for offline verification.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, PathsBuilder, Type};

use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::{OpenApi, Required};

use super::{case_id_param, json, responses};

/// The reads that answer as of a past point (docs/contract.md, "Requests and answers").
const AS_OF_PATHS: [&str; 8] = [
    "/v1/cases/{case_id}",
    "/v1/cases/by-no/{case_no}",
    "/v1/cases/{case_id}/history",
    "/v1/queues/{unit}",
    "/v1/workbench",
    "/v1/stats",
    "/v1/audit/actors/{principal_id}",
    "/v1/alerts",
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
            "/v1/audit/checkpoints",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("list_checkpoints"))
                    .summary(Some(
                        "The notary's signed checkpoints of the tree over the log, newest first, each checked against the county's keys (auditors and the county)",
                    ))
                    .parameter(super::int_param("limit", "At most this many (default 50)", (1, Some(queries::cases::MAX_LIMIT as u64))))
                    .parameter(super::int_param("before", "Older than this checkpoint-stream sequence (next_before of the previous page)", (1, None)))
                    .responses(responses(
                        ("200", "A page of checkpoints", "CheckpointList"),
                        &[
                            ("400", "An unknown parameter, a limit out of range"),
                            ("401", "Missing or unknown token"),
                            ("403", "Not an auditor or the county"),
                            ("503", "The checkpoint stream is unavailable, or the API was started without its keys"),
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
        .path(
            "/v1/cases/{case_id}/erase-personal-data",
            PathItem::new(HttpMethod::Post, erasure_step(
                ("request_erasure", "Ask that the case's personal data be erased (PIPL): the county; pending until another principal approves"),
                Some("EraseBody"),
                ("201", "Requested: pending"),
            ).parameter(case_id_param()).build()),
        )
        .path(
            "/v1/erasures/{erasure_id}/approve",
            PathItem::new(HttpMethod::Post, erasure_step(
                ("approve_erasure", "Approve an erasure: a county or auditor principal other than the requester (no body, or {}); the case's data key is destroyed"),
                None,
                ("200", "Erased: every read shows the case without its personal data"),
            ).parameter(super::uuid_path_param("erasure_id")).build()),
        )
        .path(
            "/v1/erasures",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("list_erasures"))
                    .summary(Some("Every erasure of personal data, with who asked and who approved (the county and auditors)"))
                    .responses(responses(("200", "The erasures in the order requested", "ErasureList"), errors)),
            ),
        )
}

fn erasure_step(
    (id, summary): (&str, &str),
    body: Option<&str>,
    ok: (&str, &str),
) -> OperationBuilder {
    let errors: &[(&str, &str)] = &[
        ("400", "Malformed JSON, a missing or unknown field, a bad header"),
        ("401", "Missing or unknown token"),
        ("403", "Not the county (a request) or the county or an auditor (approval); or approving one's own request"),
        ("404", "No such case or erasure"),
        ("409", "If-Match names a version the case has moved past; nothing appended"),
        ("413", "Body larger than the limit"),
        ("422", "An empty reason or request_ref, an erasure already pending, a case already erased, approving one not pending"),
        ("503", "The event log is unavailable; retry after Retry-After"),
    ];
    super::statistics::command_step((id, summary), body, (ok.0, ok.1, "ErasureStep"), errors)
}
