//! The path of the documents a bureau prints (issue 33): `GET /v1/cases/{case_id}/documents/{kind}`.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::{
    ObjectBuilder, PathsBuilder, Required, ResponseBuilder, ResponsesBuilder, Type,
};

use super::{case_id_param, json};

pub(super) fn paths(paths: PathsBuilder) -> PathsBuilder {
    let kinds: Vec<&str> = domain::DocumentKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let pdf = utoipa::openapi::ContentBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(
            Some(utoipa::openapi::SchemaFormat::Custom("binary".into())),
        )))
        .build();
    let problem = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content("application/problem+json", json("Problem"))
            .build()
    };
    let op = OperationBuilder::new()
        .operation_id(Some("get_document"))
        .summary(Some("A document of a step (受理告知书, 不予受理告知书, 转送告知书, 交办单, 督办函, 答复意见书) as PDF"))
        .description(Some(
            "The latest step of the document's kind, or the one at log sequence `seq`. The first request by a principal who may act on the case numbers it (`DocumentIssued`: `<unit name>〔<year>〕<n>号`, per issuing unit and year, never twice); other readers get 409 not_issued until then and the same number after. Readers: the case's readers except analysts; the petitioner's name only for roles entitled to personal data. The CJK font is embedded (a subset) with its Unicode map, so the text is extractable.",
        ))
        .parameter(case_id_param())
        .parameter(
            ParameterBuilder::new()
                .name("kind")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(kinds)),
                ))
                .build(),
        )
        .parameter(
            ParameterBuilder::new()
                .name("seq")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("The log sequence of the step (default: the latest of its kind)"))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Int64,
                        )))
                        .minimum(Some(0)),
                ))
                .build(),
        )
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The document")
                        .content("application/pdf", pdf),
                )
                .response("400", problem("A malformed query parameter"))
                .response("401", problem("Missing or unknown token"))
                .response("403", problem("Analysts read statistics, not cases"))
                .response("404", problem("No such case or kind (or not visible to this principal)"))
                .response("409", problem("not_issued: nobody who may act on the case has issued it yet"))
                .response("422", problem("invalid_transition: the case has no step of this kind (at `seq`)"))
                .response("503", problem("The log is unavailable, or no CJK font is installed to print with"))
                .build(),
        );
    paths.path(
        "/v1/cases/{case_id}/documents/{kind}",
        PathItem::new(HttpMethod::Get, op),
    )
}
