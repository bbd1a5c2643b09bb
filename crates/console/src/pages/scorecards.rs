//! 考核: each unit's indicators (by their report names), points, total and rank under the rules
//! in force for the period, raw or adjusted (核减后), on screen and as CSV.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::response::Response;
use wire::scorecard::Scorecards;
use wire::stats::Rate;

use super::stats::period;
use crate::backend::query;
use crate::frame::{read_or_page, render, Signed};
use crate::names::rate;
use crate::pages::table::{Cell, Input, Table, TablePage};

type Params = Query<BTreeMap<String, String>>;

/// 考核: each unit's indicators, points, total and rank under the rules in force.
pub async fn scorecards(signed: Signed, p: Params) -> Response {
    scorecard_page(signed, p, false).await
}

async fn scorecard_page(signed: Signed, Query(p): Params, csv: bool) -> Response {
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
    let cards: Scorecards = match read_or_page(&answer) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    let mut page = TablePage::new(signed.frame("考核", "/console/scorecards"), "考核");
    page.f.as_of_allowed = false;
    page.intro = format!("考核规则版本：{}", cards.rules_version);
    page.inputs = vec![
        Input::date("from", "起", &per.from),
        Input::date("to", "止", &per.to),
        // The adjusted figures on the form too, and the table as CSV (issue 34, finding 5).
        Input::select(
            "adjusted",
            "口径",
            if per.adjusted { "true" } else { "" },
            &[("", "原始数"), ("true", "核减后")],
        ),
    ];
    page.links.push((
        format!("/console/scorecards.csv{}", per.query(&[])),
        "下载考核结果（CSV）".into(),
    ));
    let mut columns = vec!["名次".to_owned(), "单位".to_owned()];
    columns.extend(cards.rules.iter().map(|i| crate::names::measure(&i.name)));
    columns.push("总分".to_owned());
    page.tables.push(Table {
        title: format!("{} 至 {}", per.from, per.to),
        columns,
        rows: cards
            .units
            .iter()
            .map(|u| {
                let rank = u.rank.map(|r| r.to_string()).unwrap_or_default();
                let mut row = vec![Cell::text(rank), Cell::text(u.unit_name.as_str())];
                row.extend(u.indicators.iter().map(|i| {
                    let r = Rate {
                        num: i.num,
                        den: i.den,
                        value: i.value,
                    };
                    let points = i.points.map_or(String::new(), |p| format!("{p:.2}"));
                    Cell::text(format!("{} → {points} 分", rate(r)))
                }));
                row.push(Cell::text(
                    u.total.map_or(String::new(), |t| format!("{t:.2}")),
                ));
                row
            })
            .collect(),
    });
    if csv {
        let name = format!("xinfang-scorecards-{}-{}.csv", per.from, per.to);
        return super::csv::response(&name, super::csv::of_table(&page.tables[0]));
    }
    render(&page)
}

/// 考核 as CSV: the page's table, cell by cell.
pub async fn scorecards_csv(signed: Signed, p: Params) -> Response {
    scorecard_page(signed, p, true).await
}
