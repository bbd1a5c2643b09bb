//! The paths of statistics (issue 14): `/v1/stats` with its dimensions and filters, 核减
//! (`/v1/adjustments`), 考核 scorecards and the export for analysts (in `casework`).

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{ObjectBuilder, PathsBuilder, Required, Type};

use super::{json, min_seq_param, one_of, responses};

/// An alternation of `values` for a pattern.
fn vocab<'a>(values: impl Iterator<Item = &'a str>) -> String {
    format!("({})", values.collect::<Vec<_>>().join("|"))
}

/// A query parameter taking a comma-separated list of `item` (a regular expression); it may also
/// repeat.
fn list_param(name: &str, what: &str, item: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(what))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^{item}(,{item})*$"))),
        ))
        .build()
}

/// A required date of a period.
pub(super) fn date(name: &str, what: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::True)
        .description(Some(what))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(
            Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )),
        )))
        .build()
}

fn min_seq() -> utoipa::openapi::path::Parameter {
    min_seq_param("Answer once the stats model has applied at least this sequence")
}

fn adjusted() -> utoipa::openapi::path::Parameter {
    one_of(
        "adjusted",
        "true: the figures with the approved adjustments (核减) applied, the raw ones beside them (`raw_total`) and the adjustments listed; false (the default): raw",
        &["true", "false"],
    )
}

fn adjustment_id() -> utoipa::openapi::path::Parameter {
    super::uuid_path_param("adjustment_id")
}

const STEP_ERRORS: &[(&str, &str)] = &[
    ("400", "Malformed JSON, a missing or unknown field, a bad header"),
    ("401", "Missing or unknown token"),
    ("403", "Not the county (a request) or the county or an auditor (approval, revocation); or approving one's own request"),
    ("404", "No such case or adjustment"),
    ("409", "If-Match names a version the case has moved past; nothing appended"),
    ("413", "Body larger than the limit"),
    ("422", "An unknown measure, an adjustment of that figure already pending or approved, approving one not pending, revoking a revoked one"),
    ("503", "The event log or the stats projector is unavailable; retry after Retry-After"),
    ("507", "insufficient_storage: free disk space is below the minimum; nothing stored"),
];

/// A step of an adjustment: its body schema (none for an approval) and whether the path names it.
fn step(
    id_summary: (&str, &str),
    body: Option<&str>,
    on_id: bool,
    ok: (&str, &str),
) -> utoipa::openapi::path::Operation {
    let op = command_step(
        id_summary,
        body,
        (ok.0, ok.1, "AdjustmentStep"),
        STEP_ERRORS,
    );
    match on_id {
        true => op.parameter(adjustment_id()).build(),
        false => op.build(),
    }
}

/// A command on a path of its own: its idempotency key, body and answers.
pub(super) fn command_step(
    (id, summary): (&str, &str),
    body: Option<&str>,
    ok: (&str, &str, &str),
    errors: &[(&str, &str)],
) -> OperationBuilder {
    let mut op = OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .parameter(super::header(
            "Idempotency-Key",
            "Replays return the original response and append nothing",
            "^[\\x21-\\x7e]{1,255}$",
        ))
        .responses(responses(ok, errors));
    if let Some(schema) = body {
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json(schema))
                .build(),
        ));
    }
    op
}

pub(super) fn paths(paths: PathsBuilder, read_errors: &[(&str, &str)]) -> PathsBuilder {
    let stats = OperationBuilder::new()
        .operation_id(Some("get_stats"))
        .summary(Some("Statistics of the cases received in a period"))
        .parameter(date("from", "First day (policy time zone), inclusive"))
        .parameter(date("to", "Last day, inclusive"))
        .parameter(
            ParameterBuilder::new()
                .name("group_by")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(
                    "One or two of channel, level, category, township, unit, month, band, leader_reception, comma-separated (`channel,level`): a row per value, or per pair (`key` \"a|b\", `keys`)",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some(
                    "^(channel|level|category|township|unit|month|band|leader_reception)(,(channel|level|category|township|unit|month|band|leader_reception))?$",
                ))))
                .build(),
        )
        .parameter(list_param("channel", "Only these channels (repeat, or comma-separated)", &vocab(domain::Channel::ALL.iter().map(|v| v.as_str()))))
        .parameter(list_param("level", "Only these levels reached", &vocab(domain::Level::ALL.iter().map(|v| v.as_str()))))
        .parameter(list_param("category", "Only these categories", &vocab(domain::Category::ALL.iter().map(|v| v.as_str()))))
        .parameter(list_param("township", "Only these townships (a township's clerk: exactly its own)", "[a-z0-9_-]{1,32}"))
        .parameter(list_param("unit", "Only these accountable units (at the reply, or now); a unit's staff read exactly their own", "[a-z0-9_-]{1,32}"))
        .parameter(list_param("band", "Only visits of these bands", "(individual|group|collective)"))
        .parameter(one_of(
            "compare",
            "yoy: add the same period a year earlier and the change",
            &["yoy"],
        ))
        .parameter(adjusted())
        .parameter(min_seq())
        .responses(responses(
            (
                "200",
                "Measures, rows and comparison, with applied_seq",
                "Report",
            ),
            read_errors,
        ));
    let list = OperationBuilder::new()
        .operation_id(Some("list_adjustments"))
        .summary(Some("Every adjustment (核减) of the cases received in a period, any status, with reasons (county and auditors)"))
        .parameter(date("from", "First day a case was received, inclusive"))
        .parameter(date("to", "Last day, inclusive"))
        .parameter(min_seq())
        .responses(responses(("200", "The adjustments in the order requested, with applied_seq", "AdjustmentList"), read_errors));
    let get = OperationBuilder::new()
        .operation_id(Some("get_adjustment"))
        .parameter(adjustment_id())
        .parameter(min_seq())
        .responses(responses(
            (
                "200",
                "The adjustment, with applied_seq",
                "AdjustmentRecord",
            ),
            read_errors,
        ));
    let approve = step(
        ("approve_adjustment", "Approve an adjustment: a county or auditor principal other than the requester (no body, or {})"),
        None,
        true,
        ("200", "Approved: the adjusted figures leave the case out"),
    );
    let revoke = step(
        (
            "revoke_adjustment",
            "Revoke an adjustment, pending or approved: the county or an auditor",
        ),
        Some("RevokeBody"),
        true,
        ("200", "Revoked: the figures count the case again"),
    );
    let request = step(
        ("request_adjustment", "Request that a case leave a figure (核减): the county; pending until another principal approves it"),
        Some("NewAdjustment"),
        false,
        ("201", "Requested: pending"),
    );
    let scorecards = OperationBuilder::new()
        .operation_id(Some("get_scorecards"))
        .summary(Some("考核: every township and department scored under the rules version in force at the period's start (analysts, the county, auditors)"))
        .parameter(date("from", "First day a case was received, inclusive: names the rules version"))
        .parameter(date("to", "Last day, inclusive"))
        .parameter(adjusted())
        .parameter(min_seq())
        .responses(responses(
            ("200", "Each unit's indicators (num/den, value, points), total and rank, with the rules version and applied_seq", "Scorecards"),
            &[
                ("400", "A missing or malformed parameter"),
                ("401", "Missing or unknown token"),
                ("403", "A unit's staff: a scorecard ranks every unit"),
                ("422", "A period outside 1970-2199, whose start is after its end, or with no rules in force at its start"),
                ("503", "min_seq not reached within 5 s, or the stats projector is unavailable"),
            ],
        ));
    let alerts = OperationBuilder::new()
        .operation_id(Some("list_alerts"))
        .summary(Some("苗头预警: the alerts (surge, collective_repeat, repeat_petitioner) that held on any day of a period, computed from the log, newest first_at first (the county and auditors; a township its own)"))
        .parameter(date("from", "First day (policy time zone), inclusive"))
        .parameter(date("to", "Last day, inclusive"))
        .parameter(one_of("kind", "Only alerts of this kind", &domain::alerts::AlertKind::ALL.map(|k| k.as_str())))
        .parameter(
            ParameterBuilder::new()
                .name("township")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("Only this township's alerts (a township's principal: its own, the default)"))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[a-z0-9_-]{1,32}$"))))
                .build(),
        )
        .parameter(min_seq_param("Answer once the cases model has applied at least this sequence"))
        .responses(responses(
            ("200", "The alerts with the cases each names (those the caller may read), with applied_seq", "AlertList"),
            &[
                ("400", "A missing or malformed parameter"),
                ("401", "Missing or unknown token"),
                ("403", "A department or an analyst; a township asking for another township's"),
                ("422", "A period outside 1970-2199 or whose start is after its end, an unknown township"),
                ("503", "min_seq not reached within 5 s, or the cases projector is unavailable"),
            ],
        ));
    let review = command_step(
        (
            "review_alert",
            "研判: the county's review of an alert, an event on the alert's own subject (the latest holds)",
        ),
        Some("ReviewBody"),
        ("200", "Recorded: the review's seq and the alert as it is now, reviewed", "ReviewAnswer"),
        &[
            ("400", "Malformed JSON, a missing or unknown field, a bad header"),
            ("401", "Missing or unknown token"),
            ("403", "Not the county"),
            ("404", "No alert was ever raised with this id"),
            ("413", "Body larger than the limit"),
            ("422", "An empty or too long assessment or plan; an Idempotency-Key used for another request"),
            ("503", "The event log or the cases projector is unavailable; retry after Retry-After"),
            ("507", "insufficient_storage: free disk space is below the minimum; nothing stored"),
        ],
    )
    .parameter(super::uuid_path_param("alert_id"))
    .build();
    paths
        .path("/v1/alerts", PathItem::new(HttpMethod::Get, alerts))
        .path(
            "/v1/alerts/{alert_id}/review",
            PathItem::new(HttpMethod::Post, review),
        )
        .path("/v1/scorecards", PathItem::new(HttpMethod::Get, scorecards))
        .path("/v1/stats", PathItem::new(HttpMethod::Get, stats))
        .path("/v1/adjustments", PathItem::new(HttpMethod::Post, request))
        .path("/v1/adjustments", PathItem::new(HttpMethod::Get, list))
        .path(
            "/v1/adjustments/{adjustment_id}",
            PathItem::new(HttpMethod::Get, get),
        )
        .path(
            "/v1/adjustments/{adjustment_id}/approve",
            PathItem::new(HttpMethod::Post, approve),
        )
        .path(
            "/v1/adjustments/{adjustment_id}/revoke",
            PathItem::new(HttpMethod::Post, revoke),
        )
}
