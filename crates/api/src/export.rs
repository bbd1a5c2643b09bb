//! `GET /v1/export/cases?from&to&format=csv|jsonl`: every case of a period, one row each, with
//! every dimension and milestone and no personal data, streamed page by page from the stats
//! model (constant memory however long the period).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use futures::StreamExt as _;
use serde::Deserialize;

use queries::stats::ExportQuery;
use wire::stats::ExportRow;

use crate::error::{ApiError, Failure};
use crate::params::Params;
use crate::reads::period;
use crate::AppState;

/// Cases per page asked of the stats model.
const PAGE: usize = 2_000;

#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Jsonl,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    #[serde(deserialize_with = "domain::dates::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "domain::dates::date")]
    to: NaiveDate,
    format: Option<Format>,
    min_seq: Option<u64>,
}

/// The columns of the CSV, in order (the fields of `ExportRow`).
const COLUMNS: [&str; 26] = [
    "case_id",
    "case_no",
    "received_date",
    "township",
    "unit",
    "channel",
    "level_reached",
    "category",
    "headcount",
    "band",
    "leader_reception",
    "collective",
    "cross_level",
    "repeat",
    "first_petition",
    "status",
    "stage",
    "accepted_date",
    "replied_date",
    "reply_on_time",
    "satisfaction",
    "bounces",
    "supervisions",
    "review_level",
    "merged",
    "withdrawn",
];

fn csv_field(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn encode(rows: &[ExportRow], format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    for row in rows {
        let v = serde_json::to_value(row).unwrap_or_default();
        match format {
            Format::Jsonl => {
                out.extend_from_slice(v.to_string().as_bytes());
            }
            Format::Csv => {
                let line: Vec<String> = COLUMNS.iter().map(|c| csv_field(&v[*c])).collect();
                out.extend_from_slice(line.join(",").as_bytes());
                out.push(b'\r');
            }
        }
        out.push(b'\n');
    }
    out
}

pub async fn cases(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Params(params): Params<ExportParams>,
) -> Result<Response, ApiError> {
    let p = state.tokens.authenticate(&headers)?;
    domain::auth::can_export_cases(&p).map_err(Failure::Domain)?;
    period(params.from, params.to)?;
    let format = params.format.unwrap_or(Format::Csv);
    let first = ExportQuery {
        from: params.from,
        to: params.to,
        hide_accused: None,
        after: None,
        limit: PAGE,
    };
    // The first page is asked before the answer starts, so a model that does not answer is a
    // 503 problem, not a cut-off file.
    let page = state
        .queries
        .export(first.clone(), params.min_seq, state.cases.now())
        .await?
        .value;
    let head: Vec<u8> = match format {
        // A BOM, so spreadsheet programs read the file as UTF-8.
        Format::Csv => {
            let mut h = "\u{feff}".as_bytes().to_vec();
            h.extend_from_slice(COLUMNS.join(",").as_bytes());
            h.extend_from_slice(b"\r\n");
            h
        }
        Format::Jsonl => Vec::new(),
    };
    let mut body = head;
    body.extend(encode(&page.rows, format));
    let state2 = state.clone();
    let rest = futures::stream::unfold((page.next, first), move |(next, q)| {
        let state = state2.clone();
        async move {
            let after = next?;
            let q = ExportQuery {
                after: Some(after),
                ..q
            };
            match state
                .queries
                .export(q.clone(), None, state.cases.now())
                .await
            {
                Ok(page) => {
                    let bytes = Bytes::from(encode(&page.value.rows, format));
                    Some((Ok::<_, std::io::Error>(bytes), (page.value.next, q)))
                }
                Err(e) => {
                    // Headers are sent: the only way left to say it is to cut the answer.
                    tracing::error!(error = %e, "export cut short");
                    Some((Err(std::io::Error::other(e.to_string())), (None, q)))
                }
            }
        }
    });
    let stream = futures::stream::once(async move { Ok(Bytes::from(body)) }).chain(rest);
    let mut resp = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let (kind, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"cases-{}-{}.{ext}\"",
        params.from, params.to
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_are_the_fields_of_a_row_and_values_are_quoted_when_needed() {
        let row = ExportRow {
            case_id: uuid::Uuid::nil(),
            case_no: "GAOQIAO-2026-000001".into(),
            received_date: "2026-03-02".parse().expect("date"),
            township: "gaoqiao".into(),
            unit: "gaoqiao".into(),
            channel: "visit".into(),
            level_reached: "county".into(),
            category: "land".into(),
            headcount: 3,
            band: "group".into(),
            leader_reception: false,
            collective: false,
            cross_level: true,
            repeat: false,
            first_petition: true,
            status: "registered".into(),
            stage: "acceptance".into(),
            accepted_date: None,
            replied_date: None,
            reply_on_time: None,
            satisfaction: None,
            bounces: 0,
            supervisions: 0,
            review_level: 0,
            merged: false,
            withdrawn: false,
        };
        let v = serde_json::to_value(&row).expect("json");
        let fields: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut columns = COLUMNS.to_vec();
        let mut sorted = fields.clone();
        columns.sort_unstable();
        sorted.sort_unstable();
        assert_eq!(columns, sorted, "every field a column, once");
        let line = String::from_utf8(encode(&[row], Format::Csv)).expect("utf-8");
        assert!(line
            .starts_with("00000000-0000-0000-0000-000000000000,GAOQIAO-2026-000001,2026-03-02,"));
        assert!(line.ends_with("\r\n"));
        assert_eq!(csv_field(&serde_json::json!("a,\"b\"")), "\"a,\"\"b\"\"\"");
    }
}
