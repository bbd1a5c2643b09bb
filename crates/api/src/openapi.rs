//! The OpenAPI 3.1 document, generated from the code: schemas come from the Rust types
//! (`ToSchema`), command paths from `Action::ALL` with each action's body type.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi, PathsBuilder, Ref, Required, Type};
use utoipa::OpenApi as _;

use domain::command::*;
use domain::Action;

mod casework;
mod documents;
mod integrity;
mod principals;
mod statistics;

use wire::Problem;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Xinfang",
        description = "Case handling for citizen petitions (信访): an event-sourced county log. Contract: docs/contract.md, v1. Errors are application/problem+json with a machine `code`; with `Accept-Language: zh-CN` (or any zh tag preferred over en) their `title` and `detail` are in Simplified Chinese (answered with `Content-Language`), the `code` unchanged. A field error names the field and the form it expects, never the value given."
    ),
    components(schemas(
        RegisterCase,
        AcknowledgeCase,
        RemindCase,
        ReopenCase,
        ReissueQueryCode,
        AcceptCase,
        RejectCase,
        AssignCase,
        TransferCase,
        SuperviseCase,
        ExtendDeadline,
        ReplyCase,
        RecordFollowUp,
        CloseCase,
        RequestReview,
        DecideReview,
        MergeCase,
        AssignLeader,
        PlanResolution,
        CorrectRegistration,
        RegistrationFacts,
        WithdrawCase,
        AddAttachment,
        wire::attachments::Uploaded,
        wire::attachments::Stored,
        wire::case::CaseView,
        wire::case::Registered,
        wire::case::Applied,
        wire::audit::History,
        Problem,
        wire::cases::Queue,
        wire::cases::WorkMark,
        wire::stats::Report,
        wire::audit::AuditEvent,
        wire::audit::ActorTrail,
        wire::cases::CasePage,
        wire::cases::SearchCases,
        wire::cases::Found,
        wire::cases::CheckRegistration,
        wire::cases::Checked,
        wire::CaseStatus,
        wire::status::MergedStatus,
        wire::status::Step,
        RequestAdjustment,
        ApproveAdjustment,
        RevokeAdjustment,
        wire::adjustments::NewAdjustment,
        wire::adjustments::RevokeBody,
        wire::adjustments::AdjustmentStep,
        wire::adjustments::AdjustmentList,
        wire::adjustments::AdjustmentRecord,
        wire::scorecard::Scorecards,
        wire::keys::PublicKeys,
        wire::keys::KeyView,
        wire::keys::CheckpointList,
        wire::alerts::AlertList,
        wire::alerts::Alert,
        wire::alerts::AlertWindow,
        wire::alerts::AlertReview,
        wire::alerts::ReviewBody,
        wire::alerts::ReviewAnswer,
        domain::alerts::AlertKind,
        wire::keys::CheckpointEntry,
        wire::Me,
        wire::UnitEntry,
        wire::Units,
        wire::Principals,
        wire::case::Verification,
        wire::case::FindingView,
        wire::erasures::EraseBody,
        wire::erasures::ErasureStep,
        wire::erasures::ErasureList,
        wire::erasures::ErasureRecord,
        domain::erasure::Erasure,
        domain::case::Acknowledged,
        domain::case::Reminders,
        wire::case::QueryCodeIssued,
        domain::DocumentKind,
        domain::erasure::ErasureStatus,
        ApproveErasure
    ))
)]
struct Components;

pub(crate) fn body_schema(action: Action) -> &'static str {
    match action {
        Action::Register => "RegisterCase",
        Action::Acknowledge => "AcknowledgeCase",
        Action::Remind => "RemindCase",
        Action::Reopen => "ReopenCase",
        Action::ReissueQueryCode => "ReissueQueryCode",
        Action::IssueDocument => "IssueDocument",
        Action::Accept => "AcceptCase",
        Action::Reject => "RejectCase",
        Action::Assign => "AssignCase",
        Action::Transfer => "TransferCase",
        Action::Supervise => "SuperviseCase",
        Action::Extend => "ExtendDeadline",
        Action::Reply => "ReplyCase",
        Action::FollowUp => "RecordFollowUp",
        Action::Close => "CloseCase",
        Action::RequestReview | Action::RequestRereview => "RequestReview",
        Action::DecideReview | Action::DecideRereview => "DecideReview",
        Action::Merge => "MergeCase",
        Action::AssignLeader => "AssignLeader",
        Action::ResolutionPlan => "PlanResolution",
        Action::Correct => "CorrectRegistration",
        Action::Withdraw => "WithdrawCase",
        Action::Attach => "AddAttachment",
        Action::RequestAdjustment => "RequestAdjustment",
        Action::ApproveAdjustment => "ApproveAdjustment",
        Action::RevokeAdjustment => "RevokeAdjustment",
        Action::RequestErasure => "EraseBody",
        Action::ApproveErasure => "ApproveErasure",
    }
}

pub(crate) fn json(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build()
}

pub(crate) fn responses(
    ok: (&str, &str, &str),
    errors: &[(&str, &str)],
) -> utoipa::openapi::Responses {
    let mut b = ResponsesBuilder::new().response(
        ok.0,
        ResponseBuilder::new()
            .description(ok.1)
            .content("application/json", json(ok.2)),
    );
    for (status, why) in errors {
        b = b.response(
            *status,
            ResponseBuilder::new()
                .description(*why)
                .content("application/problem+json", json("Problem")),
        );
    }
    b.build()
}

fn header(name: &str, what: &str, pattern: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(what))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        ))
        .build()
}

/// `min_seq`: a log sequence, never negative.
pub(crate) fn min_seq_param(what: &str) -> utoipa::openapi::path::Parameter {
    int_param("min_seq", what, (0, None))
}

/// An optional whole-number query parameter from `min` to `max`.
pub(crate) fn int_param(
    name: &str,
    what: &str,
    (min, max): (u64, Option<u64>),
) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(what))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(min as f64))
                .maximum(max.map(|m| m as f64)),
        ))
        .build()
}

/// A query parameter taking one of `values`.
pub(crate) fn one_of(name: &str, what: &str, values: &[&str]) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(what))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values.iter().copied())),
        ))
        .build()
}

pub(crate) fn case_id_param() -> utoipa::openapi::path::Parameter {
    uuid_path_param("case_id")
}

/// A path parameter holding a UUID.
pub(crate) fn uuid_path_param(name: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(
            Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Uuid,
            )),
        )))
        .build()
}

pub(crate) fn case_no_param() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("case_no")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(
            "A case number as registered: `GAOQIAO-2026-000123` (or the earlier form `GAOQIAO-20260302-deadbeef`)",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(64))
                .pattern(Some("^[A-Za-z0-9_-]+$")),
        ))
        .build()
}

const COMMAND_ERRORS: &[(&str, &str)] = &[
    ("400", "Malformed JSON, a wrong field type or a bad header"),
    ("401", "Missing or unknown token"),
    ("403", "Not allowed for this principal"),
    ("404", "No such case (or not visible to this principal)"),
    ("409", "If-Match names a version the case has moved past; nothing appended"),
    ("413", "Body larger than the limit"),
    ("422", "A domain rule is broken: validation, invalid_transition, deadline_passed, note_required, late_reason_required, idempotency_mismatch"),
    ("503", "The event log is unavailable, or the API serves its maximum of connections; retry after Retry-After"),
    ("507", "insufficient_storage: free disk space is below the minimum; nothing stored, retry after Retry-After"),
];

fn command_operation(action: Action) -> utoipa::openapi::path::Operation {
    let (ok, what, schema) = match action {
        Action::Register => ("201", "Registered", "Registered"),
        Action::ReissueQueryCode => (
            "200",
            "The new query code; every earlier one stops working",
            "QueryCodeIssued",
        ),
        _ => ("200", "Applied", "Applied"),
    };
    let mut op = OperationBuilder::new()
        .operation_id(Some(format!("{}_case", action.as_str().replace('-', "_"))))
        .summary(Some(format!("{} a case", action.as_str())))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json(body_schema(action)))
                .build(),
        ))
        .parameter(header(
            "Idempotency-Key",
            "Replays return the original response and append nothing",
            "^[\\x21-\\x7e]{1,255}$",
        ))
        // No pattern: the API takes any value here and ignores one that is not a UUID (the
        // fuzzer found that a pattern promised a refusal the API never gives).
        .parameter(
            ParameterBuilder::new()
                .name("X-Correlation-Id")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "A UUID grouping everything this request causes; any other value is ignored (a new one is made), never refused",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        )
        .responses(responses((ok, what, schema), COMMAND_ERRORS));
    if action != Action::Register {
        op = op.parameter(case_id_param()).parameter(header(
            "If-Match",
            "\"<version>\": refuse with 409 if the case moved on",
            "^(\\*|(W/)?\"[0-9]{1,19}\")$",
        ));
    }
    op.build()
}

/// The whole document, as served at `/v1/openapi.json`.
pub fn document() -> OpenApi {
    let mut doc = Components::openapi();
    let mut paths = PathsBuilder::new().path(
        "/v1/cases",
        PathItem::new(HttpMethod::Post, command_operation(Action::Register)),
    );
    for action in Action::ALL.into_iter().filter(|a| a.on_case_url()) {
        paths = paths.path(
            format!("/v1/cases/{{case_id}}/{}", action.as_str()),
            PathItem::new(HttpMethod::Post, command_operation(action)),
        );
    }
    let read_errors: &[(&str, &str)] = &[
        ("400", "A malformed query parameter"),
        (
            "422",
            "A period outside 1970-2199 or whose start is after its end",
        ),
        ("401", "Missing or unknown token"),
        ("403", "Not allowed for this principal"),
        ("404", "No such case (or not visible to this principal)"),
        (
            "503",
            "min_seq not reached within 5 s, or the log is unavailable",
        ),
    ];
    let min_seq = min_seq_param("Answer once the log has at least this sequence");
    paths = paths
        .path(
            "/v1/cases/{case_id}",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("get_case"))
                    .parameter(case_id_param())
                    .parameter(min_seq.clone())
                    .responses(responses(
                        ("200", "The case; ETag is its version", "CaseView"),
                        read_errors,
                    )),
            ),
        )
        .path(
            "/v1/cases/by-no/{case_no}",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("get_case_by_no"))
                    .description(Some(
                        "The case a case number names (in any letter case), as GET /v1/cases/{case_id} shows it. min_seq waits for the index of case numbers (the audit projector).",
                    ))
                    .parameter(case_no_param())
                    .parameter(min_seq.clone())
                    .responses(responses(
                        ("200", "The case; ETag is its version", "CaseView"),
                        read_errors,
                    )),
            ),
        )
        .path(
            "/v1/cases/{case_id}/history",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new()
                    .operation_id(Some("get_case_history"))
                    .parameter(case_id_param())
                    .parameter(min_seq)
                    .responses(responses(
                        ("200", "Every event of the case in log order", "History"),
                        read_errors,
                    )),
            ),
        );
    let date = statistics::date;
    let path_param = |name: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    };
    let min_seq = min_seq_param("Answer once the read model has applied at least this sequence");
    paths = paths.path(
        "/v1/audit/actors/{principal_id}",
        PathItem::new(
            HttpMethod::Get,
            OperationBuilder::new()
                .operation_id(Some("get_actor_trail"))
                .summary(Some(
                    "Everything a principal did, by the day it was recorded or occurred",
                ))
                .parameter(path_param("principal_id"))
                .parameter(date("from", "First day, inclusive"))
                .parameter(date("to", "Last day, inclusive"))
                .parameter(one_of(
                    "date",
                    "Which day from and to select by: the day recorded (the default) or the day the event occurred (business time), so late entry shows",
                    &["recorded", "occurred"],
                ))
                .parameter(min_seq)
                .responses(responses(
                    ("200", "The principal's events across cases", "ActorTrail"),
                    read_errors,
                )),
        ),
    );
    let paths = principals::paths(paths);
    let paths = integrity::paths(paths, read_errors);
    doc.paths = statistics::paths(documents::paths(casework::paths(paths)), read_errors).build();
    integrity::add_as_of(&mut doc);
    add_limits(&mut doc);
    if let Some(components) = doc.components.as_mut() {
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
    doc.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc
}

/// Every operation that takes a token may meet the limit on failed tokens (`limits`: 429), and
/// every one that takes a body the body's deadline (`server`: 408).
fn add_limits(doc: &mut OpenApi) {
    let problem = |why: &str| {
        ResponseBuilder::new()
            .description(why)
            .content("application/problem+json", json("Problem"))
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            let r = &mut op.responses.responses;
            if r.contains_key("401") && !r.contains_key("429") {
                let why = "Too many failed tokens from this address; retry after Retry-After";
                r.insert("429".into(), problem(why).into());
            }
            if r.contains_key("413") && !r.contains_key("408") {
                let why = "The request body did not arrive in time; the connection is closed";
                r.insert("408".into(), problem(why).into());
            }
        }
    }
}
