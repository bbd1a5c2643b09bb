//! 统计: the report figures (件/批次/人次, bands, rates with numerator and denominator,
//! year-on-year) as tables and charts (channel split, monthly trend against last year, the
//! townships side by side), the CSV of a breakdown, and the scorecards (考核).

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::backend::query;
use crate::frame::{problem_page, render, s, Signed};
use crate::names::{rate, text, zh};
use crate::pages::table::{Cell, Input, Table, TablePage};

type Params = Query<BTreeMap<String, String>>;

/// The count measures shown, with their report names.
const COUNTS: [(&str, &str); 14] = [
    ("items", "件"),
    ("batches", "批次"),
    ("persons", "人次"),
    ("individual_batches", "个体访批次"),
    ("group_batches", "多人访批次"),
    ("collective_batches", "集体访批次"),
    ("collective_persons", "集体访人次"),
    ("repeat_batches", "重复访批次"),
    ("cross_level_batches", "越级访批次"),
    ("accepted", "受理"),
    ("replied", "答复"),
    ("closed", "办结"),
    ("closed_on_time", "按期办结"),
    ("open_overdue", "逾期未办结"),
];
const RATES: [(&str, &str); 4] = [
    ("closure_rate", "办结率"),
    ("on_time_rate", "按期办结率"),
    ("satisfaction_rate", "满意率"),
    ("collective_share", "集体访占比"),
];

struct Period {
    from: String,
    to: String,
    township: String,
    adjusted: bool,
}

fn period(signed: &Signed, p: &BTreeMap<String, String>) -> Period {
    let (first, today) = crate::pages::audit::this_year(signed);
    let get = |k: &str| {
        p.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Period {
        from: get("from").unwrap_or(first),
        to: get("to").unwrap_or(today),
        // A clerk sees the figures of its own township only.
        township: if signed.is(&["clerk", "handler"]) {
            signed.unit.clone()
        } else {
            get("township").unwrap_or_default()
        },
        adjusted: get("adjusted").is_some(),
    }
}

impl Period {
    fn query(&self, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("township", self.township.as_str()),
            ("adjusted", if self.adjusted { "true" } else { "" }),
        ];
        pairs.extend_from_slice(extra);
        query(&pairs)
    }
}

async fn unit_names(signed: &Signed) -> BTreeMap<String, String> {
    super::units(signed)
        .await
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect()
}

fn change(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => format!("{:+.1}%", x * 100.0),
        None => "—".into(),
    }
}

/// The statistics page.
pub async fn page(signed: Signed, Query(p): Params) -> Response {
    let per = period(&signed, &p);
    let api = &signed.console.api;
    let names = unit_names(&signed).await;
    let total = api
        .get(
            signed.token(),
            format!("/v1/stats{}", per.query(&[("compare", "yoy")])),
        )
        .await;
    if !total.ok() {
        return problem_page(&total);
    }
    let mut page = TablePage::new(signed.frame("统计", "/console/stats"), "信访统计");
    page.f.as_of_allowed = false;
    let mut townships: Vec<(&str, &str)> = vec![("", "全县")];
    townships.extend(
        names
            .iter()
            .filter(|(c, _)| *c != "county")
            .map(|(c, n)| (c.as_str(), n.as_str())),
    );
    page.inputs = vec![
        Input::date("from", "收到日期起", &per.from),
        Input::date("to", "止", &per.to),
    ];
    if !signed.is(&["clerk", "handler"]) {
        page.inputs
            .push(Input::select("township", "乡镇", &per.township, &townships));
    }
    page.inputs.push(Input::select(
        "adjusted",
        "口径",
        if per.adjusted { "true" } else { "" },
        &[("", "原始数"), ("true", "核减后")],
    ));
    page.links.push((
        format!(
            "/console/stats.csv{}",
            per.query(&[("group_by", "township")])
        ),
        "下载各乡镇数据（CSV）".into(),
    ));
    page.links.push((
        format!(
            "/console/stats.csv{}",
            per.query(&[("group_by", "channel")])
        ),
        "下载各渠道数据（CSV）".into(),
    ));
    let t = &total.json;
    let rows = COUNTS
        .iter()
        .map(|(k, label)| {
            vec![
                Cell::text(*label),
                Cell::text(text(&t["total"][k])),
                Cell::text(text(&t["previous"]["total"][k])),
                Cell::text(
                    if t["change"][k].is_null() && t["change"].get(*k).is_none() {
                        String::new()
                    } else {
                        change(&t["change"][k])
                    },
                ),
            ]
        })
        .chain(RATES.iter().map(|(k, label)| {
            vec![
                Cell::text(*label),
                Cell::text(rate(&t["total"][k])),
                Cell::text(rate(&t["previous"]["total"][k])),
                Cell::text(String::new()),
            ]
        }))
        .collect();
    page.tables.push(Table {
        title: format!("{} 至 {} 总体情况（同比：上年同期）", per.from, per.to),
        columns: ["指标", "本期", "上年同期", "同比"]
            .map(String::from)
            .to_vec(),
        rows,
    });
    let by = |g: &'static str, yoy: bool| {
        let q = per.query(&[("group_by", g), ("compare", if yoy { "yoy" } else { "" })]);
        api.get(signed.token(), format!("/v1/stats{q}"))
    };
    let (channels, months, towns) = (
        by("channel", false).await,
        by("month", true).await,
        by("township", false).await,
    );
    let rows_of =
        |a: &crate::backend::Answer| a.json["rows"].as_array().cloned().unwrap_or_default();
    let channel_rows = rows_of(&channels);
    page.tables.push(Table {
        title: "按渠道".into(),
        columns: ["渠道", "件", "批次", "人次"].map(String::from).to_vec(),
        rows: channel_rows
            .iter()
            .map(|r| {
                vec![
                    Cell::text(zh(&s(r, "key"))),
                    Cell::text(s(r, "items")),
                    Cell::text(s(r, "batches")),
                    Cell::text(s(r, "persons")),
                ]
            })
            .collect(),
    });
    let town_rows = rows_of(&towns);
    let name = |k: &str| names.get(k).cloned().unwrap_or_else(|| k.to_owned());
    page.tables.push(Table {
        title: "按乡镇".into(),
        columns: [
            "乡镇",
            "件",
            "批次",
            "人次",
            "办结率",
            "按期办结率",
            "逾期未办结",
        ]
        .map(String::from)
        .to_vec(),
        rows: town_rows
            .iter()
            .map(|r| {
                vec![
                    Cell::text(name(&s(r, "key"))),
                    Cell::text(s(r, "items")),
                    Cell::text(s(r, "batches")),
                    Cell::text(s(r, "persons")),
                    Cell::text(rate(&r["closure_rate"])),
                    Cell::text(rate(&r["on_time_rate"])),
                    Cell::text(s(r, "open_overdue")),
                ]
            })
            .collect(),
    });
    let month_rows = rows_of(&months);
    let previous: BTreeMap<String, u64> = months.json["previous"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (s(r, "key"), r["items"].as_u64().unwrap_or(0)))
        .collect();
    let charts = json!({
        "channel": channel_rows.iter().map(|r| json!({"name": zh(&s(r, "key")), "value": r["items"]})).collect::<Vec<_>>(),
        "months": {
            "labels": month_rows.iter().map(|r| s(r, "key")).collect::<Vec<_>>(),
            "current": month_rows.iter().map(|r| r["items"].clone()).collect::<Vec<_>>(),
            "previous": month_rows.iter().map(|r| {
                let key = s(r, "key");
                let last_year = key.get(..4).and_then(|y| y.parse::<i32>().ok()).map(|y| format!("{}{}", y - 1, &key[4..])).unwrap_or_default();
                previous.get(&last_year).copied().unwrap_or(0)
            }).collect::<Vec<_>>(),
        },
        "townships": {
            "labels": town_rows.iter().map(|r| name(&s(r, "key"))).collect::<Vec<_>>(),
            "items": town_rows.iter().map(|r| r["items"].clone()).collect::<Vec<_>>(),
            "closed": town_rows.iter().map(|r| r["closed"].clone()).collect::<Vec<_>>(),
        },
    });
    // Inside a <script type="application/json">: no "</script>" can close it early.
    page.charts = charts.to_string().replace('<', "\\u003c");
    render(&page)
}

fn csv_field(s: &str) -> String {
    // A leading =, +, - or @ would be a formula in a spreadsheet.
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

/// The rows of one breakdown as CSV (UTF-8 with BOM, so spreadsheets read the Chinese).
pub async fn csv(signed: Signed, Query(p): Params) -> Response {
    let per = period(&signed, &p);
    let group = match p.get("group_by").map(String::as_str) {
        Some(g @ ("township" | "channel" | "category" | "month" | "level" | "unit")) => {
            g.to_owned()
        }
        _ => "township".to_owned(),
    };
    let answer = signed
        .console
        .api
        .get(
            signed.token(),
            format!("/v1/stats{}", per.query(&[("group_by", &group)])),
        )
        .await;
    if !answer.ok() {
        return problem_page(&answer);
    }
    let names = unit_names(&signed).await;
    let mut out = String::from("\u{feff}");
    let mut head = vec!["分组".to_owned(), "名称".to_owned()];
    head.extend(COUNTS.iter().map(|(_, l)| (*l).to_owned()));
    head.extend(
        RATES
            .iter()
            .flat_map(|(_, l)| [format!("{l}分子"), format!("{l}分母")]),
    );
    out.push_str(&head.join(","));
    out.push('\n');
    for r in answer.json["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(std::iter::once(&answer.json["total"]))
    {
        let key = s(r, "key");
        let label = if key.is_empty() {
            "合计".to_owned()
        } else {
            names.get(&key).cloned().unwrap_or_else(|| zh(&key))
        };
        let mut cells = vec![csv_field(&key), csv_field(&label)];
        cells.extend(COUNTS.iter().map(|(k, _)| text(&r[k])));
        cells.extend(
            RATES
                .iter()
                .flat_map(|(k, _)| [text(&r[k]["num"]), text(&r[k]["den"])]),
        );
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let filename = format!("xinfang-stats-{group}-{}-{}.csv", per.from, per.to);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        out,
    )
        .into_response()
}

/// 考核: each unit's indicators, points, total and rank under the rules in force.
pub async fn scorecards(signed: Signed, Query(p): Params) -> Response {
    let per = period(&signed, &p);
    let answer = signed
        .console
        .api
        .get(
            signed.token(),
            format!(
                "/v1/scorecards{}",
                query(&[
                    ("from", &per.from),
                    ("to", &per.to),
                    ("adjusted", if per.adjusted { "true" } else { "" })
                ])
            ),
        )
        .await;
    if !answer.ok() {
        return problem_page(&answer);
    }
    let mut page = TablePage::new(signed.frame("考核", "/console/scorecards"), "考核");
    page.f.as_of_allowed = false;
    page.intro = format!("考核规则版本：{}", s(&answer.json, "rules_version"));
    page.inputs = vec![
        Input::date("from", "起", &per.from),
        Input::date("to", "止", &per.to),
    ];
    let units = answer.json["units"].as_array().cloned().unwrap_or_default();
    let indicators: Vec<String> = units
        .first()
        .and_then(|u| u["indicators"].as_array())
        .map(|is| is.iter().map(|i| s(i, "name")).collect())
        .unwrap_or_default();
    let mut columns = vec!["名次".to_owned(), "单位".to_owned()];
    columns.extend(indicators.iter().cloned());
    columns.push("总分".to_owned());
    page.tables.push(Table {
        title: format!("{} 至 {}", per.from, per.to),
        columns,
        rows: units
            .iter()
            .map(|u| {
                let mut row = vec![Cell::text(s(u, "rank")), Cell::text(s(u, "unit_name"))];
                row.extend(u["indicators"].as_array().into_iter().flatten().map(|i| {
                    Cell::text(format!(
                        "{} → {} 分",
                        rate(i),
                        i["points"]
                            .as_f64()
                            .map_or(String::new(), |p| format!("{p:.2}"))
                    ))
                }));
                row.push(Cell::text(
                    u["total"]
                        .as_f64()
                        .map_or(String::new(), |t| format!("{t:.2}")),
                ));
                row
            })
            .collect(),
    });
    render(&page)
}
