//! The paths of finding cases and working on them (issues 12 and 13): the listing, the petitioner
//! search, the petitioner's status page, work queues and the workbench.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ObjectBuilder, PathsBuilder, Required, Type};

use super::{case_no_param, json, min_seq_param, one_of, responses};

fn bounded(
    name: &str,
    what: &str,
    min: usize,
    max: usize,
    pattern: Option<&str>,
) -> utoipa::openapi::path::Parameter {
    let mut schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max));
    if let Some(p) = pattern {
        schema = schema.pattern(Some(p));
    }
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(what))
        .schema(Some(schema))
        .build()
}

fn date(name: &str, what: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(what))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(
            Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )),
        )))
        .build()
}

fn required(mut p: utoipa::openapi::path::Parameter) -> utoipa::openapi::path::Parameter {
    p.required = Required::True;
    p
}

pub(super) fn paths(paths: PathsBuilder) -> PathsBuilder {
    let unit = "^[a-z0-9_-]{1,32}$";
    let statuses: Vec<&str> = domain::Status::ALL.iter().map(|v| v.as_str()).collect();
    let stages: Vec<&str> = domain::Stage::ALL.iter().map(|v| v.as_str()).collect();
    let categories: Vec<&str> = domain::Category::ALL.iter().map(|v| v.as_str()).collect();
    let channels: Vec<&str> = domain::Channel::ALL.iter().map(|v| v.as_str()).collect();
    let flags: Vec<&str> = queries::cases::Flag::ALL
        .iter()
        .map(|f| f.as_str())
        .collect();
    let limit = ParameterBuilder::new()
        .name("limit")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some("Items per page (default 50)"))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(queries::cases::MAX_LIMIT as f64)),
        ))
        .build();
    let list = OperationBuilder::new()
        .operation_id(Some("list_cases"))
        .summary(Some("The cases the caller may see, newest first, in pages"))
        .description(Some(
            "Every filter given must hold. Visibility is that of GET on each case; analysts are refused. A page may hold fewer items than `limit` and still give `next_cursor` (a page reads a bounded part of the index); follow `next_cursor` until it is null.",
        ))
        .parameter(bounded("case_no", "Exactly this case number", 1, 64, Some("^[A-Za-z0-9_-]+$")))
        .parameter(bounded("q", "A case number, in any letter case, or the 6-digit serial that ends one (000065: the cases of every series with it); otherwise text the summary contains (an accusation's only for the county and auditors)", 1, 200, None))
        .parameter(bounded("township", "Registered by this township (a unit code of the county)", 1, 32, Some(unit)))
        .parameter(bounded("unit", "Accountable now (a unit code of the county)", 1, 32, Some(unit)))
        .parameter(one_of("status", "In this status", &statuses))
        .parameter(one_of("stage", "At this stage", &stages))
        .parameter(one_of("category", "Of this category", &categories))
        .parameter(one_of("channel", "Received on this channel", &channels))
        .parameter(date("from", "Received on or after this day (policy time zone)"))
        .parameter(date("to", "Received on or before this day"))
        .parameter(one_of("flag", "With this flag set", &flags))
        .parameter(bounded("leader", "Owned by this leader (领导包案)", 1, 100, None))
        .parameter(limit.clone())
        .parameter(bounded("cursor", "`next_cursor` of the previous page", 50, 50, Some("^c1[0-9a-f]{48}$")))
        .parameter(min_seq_param("Answer once the cases model has applied at least this sequence"))
        .responses(responses(
            ("200", "A page of case summaries, with applied_seq", "CasePage"),
            &[
                ("400", "An unknown or malformed query parameter, or a cursor this API did not give"),
                ("401", "Missing or unknown token"),
                ("403", "Analysts read statistics, not cases"),
                ("422", "A unit that is not the county's, a period whose start is after its end or outside 1970-2199, q of spaces only"),
                ("503", "min_seq not reached within 5 s, or the cases projector is unavailable"),
            ],
        ));
    let search = OperationBuilder::new()
        .operation_id(Some("search_cases"))
        .summary(Some("The caller's visible cases of one petitioner"))
        .description(Some(
            "By ID number; or by phone, with the name to tell people with one phone apart; or by the name alone: the petitioners of that exact name (spaces aside), since clerks know visitors by name first. The identifiers travel in the body only and are matched as keyed hashes (no read model holds them).",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json("SearchCases"))
                .build(),
        ))
        .responses(responses(
            ("200", "The petitioner's cases, newest first (at most 1000)", "Found"),
            &[
                ("400", "Malformed JSON, an unknown field, or an ID number or phone that is not one (the detail names the field)"),
                ("401", "Missing or unknown token"),
                ("403", "Analysts read statistics, not cases"),
                ("413", "Body larger than the limit"),
                ("422", "None of id_number, phone and name given"),
                ("503", "The cases projector is unavailable"),
            ],
        ));
    let check = OperationBuilder::new()
        .operation_id(Some("check_registration"))
        .summary(Some("查重: the flags a registration of this body would get now"))
        .description(Some(
            "Repeat (重复访), duplicate (一信多投) and first petition (初信初访) exactly as a registration of a body with this township, category, petitioners and related case would be flagged at this moment: its earlier cases are counted whoever may see them, as registration counts them. `earlier` lists those the caller may see. Who may register for the township may ask; nothing is recorded.",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json("CheckRegistration"))
                .build(),
        ))
        .responses(responses(
            ("200", "The flags, and the earlier cases the caller may see, newest first", "Checked"),
            &[
                ("400", "Malformed JSON, an unknown field, or a value of the wrong form (the detail names the field)"),
                ("401", "Missing or unknown token"),
                ("403", "Not a principal who may register for this township"),
                ("413", "Body larger than the limit"),
                ("422", "A township that is not the county's"),
                ("503", "The identity index, the log or the cases projector is unavailable"),
            ],
        ));
    let code = ParameterBuilder::new()
        .name("code")
        .parameter_in(ParameterIn::Query)
        .required(Required::True)
        .description(Some(
            "The query code the petitioner was given at registration",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(64)),
        ))
        .build();
    let status = OperationBuilder::new()
        .operation_id(Some("petitioner_status"))
        .summary(Some("How a case stands, for the petitioner (no login)"))
        .description(Some(
            "No personal data and no ids. A wrong code answers exactly like an unknown number; failed lookups are limited per case number and per client address (429 with Retry-After).",
        ))
        .security(SecurityRequirement::default())
        .parameter(case_no_param())
        .parameter(code)
        .responses(responses(
            ("200", "The case's status", "CaseStatus"),
            &[
                ("400", "The code is missing"),
                ("404", "No case with this number and code"),
                ("429", "Too many failed lookups for this number or from this address"),
                ("503", "The cases projector or the log is unavailable"),
            ],
        ));
    let queue_params = |op: OperationBuilder| {
        op.parameter(one_of(
            "status",
            "open (default), due_soon or overdue",
            &["open", "due_soon", "overdue"],
        ))
        .parameter(one_of(
            "stage",
            "At this stage (open stages only)",
            &["acceptance", "handling", "awaiting_close", "review"],
        ))
        .parameter(one_of("flag", "With this flag set", &flags))
        .parameter(one_of(
            "sort",
            "The first page's order: due (default), soonest deadline first, replied cases last; received, newest received first. A cursor keeps the order of the page it came from",
            &["due", "received"],
        ))
        .parameter(limit.clone())
        .parameter(bounded(
            "cursor",
            "`next_cursor` of the previous page (it keeps that page's sort)",
            50,
            50,
            Some("^[qr]1[0-9a-f]{48}$"),
        ))
        .parameter(min_seq_param(
            "Answer once the cases model has applied at least this sequence",
        ))
    };
    let unit_path = ParameterBuilder::new()
        .name("unit")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    let queue_errors: &[(&str, &str)] = &[
        (
            "400",
            "An unknown or malformed query parameter, or a cursor this API did not give",
        ),
        ("401", "Missing or unknown token"),
        (
            "403",
            "Not this principal's queue (a unit reads its own; analysts none)",
        ),
        ("404", "No such unit"),
        (
            "422",
            "stage done (a queue holds open cases only), or a unit that is not the county's",
        ),
        (
            "503",
            "min_seq not reached within 5 s, or the cases projector is unavailable",
        ),
    ];
    let queue = queue_params(
        OperationBuilder::new()
            .operation_id(Some("get_queue"))
            .summary(Some("Work queue of a unit: its open cases, soonest deadline first"))
            .description(Some(
                "Items are case summaries; replied cases awaiting follow-up and closure (no deadline) come after every case on the clock and are counted apart. `counts` cover the whole queue, whatever the filters of the page.",
            ))
            .parameter(unit_path),
    )
    .responses(responses(
        ("200", "A page of the queue with its counts, with applied_seq", "Queue"),
        queue_errors,
    ));
    let workbench = queue_params(
        OperationBuilder::new()
            .operation_id(Some("get_workbench"))
            .summary(Some("Every unit's open cases (county and auditors), soonest deadline first"))
            .parameter(bounded("unit", "Accountable now (a unit code of the county)", 1, 32, Some(unit)))
            .parameter(bounded("township", "Township of the matter (a unit code of the county)", 1, 32, Some(unit))),
    )
    .responses(responses(
        ("200", "A page of open cases with counts (of the unit or township given, else all), with applied_seq", "Queue"),
        queue_errors,
    ));
    let case_id = super::case_id_param;
    let binary = || {
        utoipa::openapi::ContentBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(
                Some(utoipa::openapi::SchemaFormat::Custom("binary".into())),
            )))
            .build()
    };
    let mut upload_body = RequestBodyBuilder::new()
        .required(Some(Required::True))
        .description(Some(
            "The file's bytes with its Content-Type and `Content-Disposition: attachment; filename=…` (or `filename*=UTF-8''…`), or multipart/form-data with one file part",
        ))
        .content(
            "multipart/form-data",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property(
                            "file",
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .format(Some(utoipa::openapi::SchemaFormat::Custom("binary".into()))),
                        )
                        .required("file")
                        .additional_properties(Some(
                            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                        )),
                ))
                .build(),
        );
    for t in crate::attachments::media_types() {
        upload_body = upload_body.content(t, binary());
    }
    let evidence = upload_body.build();
    let upload = OperationBuilder::new()
        .operation_id(Some("add_attachment"))
        .summary(Some("Attach evidence (证据材料) to a case"))
        .description(Some(
            "Stored content-addressed by SHA-256 in a JetStream object store, then attached by an AttachmentAdded event (the accountable unit or the county). The same file attached again answers 200 with the same attachment. Idempotency-Key, If-Match and X-Correlation-Id work as for the other commands.",
        ))
        .parameter(case_id())
        .request_body(Some(evidence.clone()))
        .responses(responses(
            ("201", "Attached", "Uploaded"),
            &[
                ("400", "A multipart body without its one file part, or a bad header"),
                ("401", "Missing or unknown token"),
                ("403", "Not the accountable unit or the county"),
                ("404", "No such case (or not visible to this principal)"),
                ("409", "If-Match names a version the case has moved past"),
                ("413", "Larger than [limits] attachment_mb (default 50 MB)"),
                ("415", "A type evidence may not have, or bytes that are not of the type declared"),
                ("422", "An empty file, or a file already attached"),
                ("503", "The log or the attachment store is unavailable"),
                ("507", "Free disk space below the minimum"),
            ],
        ));
    let store = OperationBuilder::new()
        .operation_id(Some("store_evidence"))
        .summary(Some("Store evidence without attaching it (for an inbox `attach` step)"))
        .description(Some(
            "A township system stores the bytes here, then names them by sha256 in an `attach` message on its NATS inbox (docs/integration.md, \"Evidence\").",
        ))
        .request_body(Some(evidence.clone()))
        .responses(responses(
            ("201", "Stored (not attached to anything yet)", "Stored"),
            &[
                ("400", "A multipart body without its one file part, or a bad header"),
                ("401", "Missing or unknown token"),
                ("403", "Auditors and analysts do not store evidence"),
                ("413", "Larger than [limits] attachment_mb (default 50 MB)"),
                ("415", "A type evidence may not have, or bytes that are not of the type declared"),
                ("422", "An empty file"),
                ("503", "The attachment store is unavailable"),
            ],
        ));
    let download = OperationBuilder::new()
        .operation_id(Some("get_attachment"))
        .summary(Some("The bytes of a case's attachment"))
        .description(Some(
            "For whoever may read the case; the file name in Content-Disposition only for roles entitled to personal data.",
        ))
        .parameter(case_id())
        .parameter(
            ParameterBuilder::new()
                .name("attachment_id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        )
        .responses(
            utoipa::openapi::ResponsesBuilder::new()
                .response(
                    "200",
                    crate::attachments::media_types().fold(
                        utoipa::openapi::ResponseBuilder::new()
                            .description("The file, with the Content-Type it was attached with"),
                        |r, t| r.content(t, binary()),
                    ),
                )
                .response(
                    "401",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("Missing or unknown token")
                        .content("application/problem+json", json("Problem")),
                )
                .response(
                    "403",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("Analysts read statistics, not cases")
                        .content("application/problem+json", json("Problem")),
                )
                .response(
                    "404",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("No such case or attachment (or not visible to this principal)")
                        .content("application/problem+json", json("Problem")),
                )
                .response(
                    "503",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("The log or the attachment store is unavailable")
                        .content("application/problem+json", json("Problem")),
                )
                .build(),
        );
    let text = |t: Type| {
        utoipa::openapi::ContentBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(t)))
            .build()
    };
    let export = OperationBuilder::new()
        .operation_id(Some("export_cases"))
        .summary(Some("Every case of a period, one row each, for analysts (no personal data)"))
        .description(Some(
            "CSV (UTF-8 with a BOM, CRLF lines, a header row) or JSON Lines, streamed in pages: every dimension and milestone of each case received in the period, never a petitioner, a summary or a file name.",
        ))
        .parameter(required(date("from", "First day received (policy time zone), inclusive")))
        .parameter(required(date("to", "Last day received, inclusive")))
        .parameter(one_of("format", "csv (default) or jsonl", &["csv", "jsonl"]))
        .parameter(min_seq_param("Answer once the stats model has applied at least this sequence"))
        .responses(
            utoipa::openapi::ResponsesBuilder::new()
                .response(
                    "200",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("The cases, streamed")
                        .content("text/csv; charset=utf-8", text(Type::String))
                        .content("application/x-ndjson", text(Type::String)),
                )
                .build(),
        )
        .build();
    let mut export = export;
    for (status, why) in [
        ("400", "A missing or malformed parameter"),
        ("401", "Missing or unknown token"),
        ("403", "Only analysts, the county and auditors export"),
        (
            "422",
            "A period whose start is after its end or outside 1970-2199",
        ),
        (
            "503",
            "min_seq not reached within 5 s, or the stats projector is unavailable",
        ),
    ] {
        export.responses.responses.insert(
            status.to_owned(),
            utoipa::openapi::RefOr::T(
                utoipa::openapi::ResponseBuilder::new()
                    .description(why)
                    .content("application/problem+json", json("Problem"))
                    .build(),
            ),
        );
    }
    paths
        .path("/v1/export/cases", PathItem::new(HttpMethod::Get, export))
        .path(
            "/v1/cases/{case_id}/attachments",
            PathItem::new(HttpMethod::Post, upload),
        )
        .path(
            "/v1/cases/{case_id}/attachments/{attachment_id}",
            PathItem::new(HttpMethod::Get, download),
        )
        .path("/v1/attachments", PathItem::new(HttpMethod::Post, store))
        .path("/v1/queues/{unit}", PathItem::new(HttpMethod::Get, queue))
        .path("/v1/workbench", PathItem::new(HttpMethod::Get, workbench))
        .path("/v1/cases", PathItem::new(HttpMethod::Get, list))
        .path("/v1/cases/search", PathItem::new(HttpMethod::Post, search))
        .path("/v1/cases/check", PathItem::new(HttpMethod::Post, check))
        .path(
            "/v1/status/{case_no}",
            PathItem::new(HttpMethod::Get, status),
        )
}
