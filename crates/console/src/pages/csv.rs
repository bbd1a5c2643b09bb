//! CSV downloads: UTF-8 with a BOM, so spreadsheets read the Chinese, and no cell a spreadsheet
//! would take for a formula; and the workbench's list as one.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::frame::Signed;

/// What a CSV file starts with.
pub const BOM: &str = "\u{feff}";

/// One cell: quoted when it holds a comma, a quote or a line break; a leading =, +, - or @
/// (a formula in a spreadsheet) is defused with a quote mark.
pub fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A page's table as CSV: its columns, then each row's cells as shown.
pub fn of_table(table: &super::table::Table) -> String {
    let mut out = String::from(BOM);
    let head: Vec<String> = table.columns.iter().map(|c| field(c)).collect();
    out.push_str(&head.join(","));
    out.push('\n');
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| field(&c.text)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// `body` as the download `filename`.
pub fn response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The workbench's list under its filters as CSV (issue 34, finding 4): every page of it, up to
/// [`CSV_ROWS`] rows.
pub async fn workbench_csv(
    signed: Signed,
    Query(mut p): Query<BTreeMap<String, String>>,
) -> Response {
    let mut out = String::from(BOM);
    let head = [
        "案件编号",
        "摘要",
        "状态",
        "阶段",
        "责任单位",
        "类别",
        "渠道",
        "人数",
        "收到",
        "期限",
        "剩余",
        "标记",
        "新到/退回",
    ];
    out.push_str(&head.join(","));
    out.push('\n');
    let mut rows = 0;
    loop {
        let answer = match super::work::fetch(&signed, "/v1/workbench", &p).await {
            Ok(a) => a,
            Err(page) => return *page,
        };
        for v in &answer.items {
            let r = super::work::row(&signed.console, v);
            let cells = [
                &r.case_no,
                &r.summary,
                &r.status,
                &r.stage,
                &r.unit_name,
                &r.category,
                &r.channel,
                &r.headcount,
                &r.received,
                &r.due,
                &r.days_left,
                &r.flags,
                &r.mark,
            ];
            let cells: Vec<String> = cells.iter().map(|c| field(c)).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
            rows += 1;
        }
        match answer.next_cursor {
            Some(next) if rows < CSV_ROWS => p.insert("cursor".into(), next),
            _ => break,
        };
    }
    response("xinfang-workbench.csv", out)
}

/// The most rows a list's CSV holds.
const CSV_ROWS: usize = 5_000;

#[cfg(test)]
mod tests {
    #[test]
    fn a_cell_is_quoted_and_never_a_formula() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("=1+1"), "'=1+1");
        assert_eq!(super::field("说\"明"), "\"说\"\"明\"");
        assert_eq!(super::field("高桥镇"), "高桥镇");
    }
}
