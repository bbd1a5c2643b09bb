//! `GET /v1/stats`: the parameters as reports use them (dimensions up to two, filters that
//! repeat), checked, then asked of the stats model.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;

use domain::auth::{can_read_stats, StatsScope};
use domain::{Category, Channel, Level, Text};
use queries::stats::{Filters, StatsQuery};
use wire::stats::GroupBy;

use crate::error::{ApiError, Failure};
use crate::reads::{period, with_applied};
use crate::AppState;

/// The parameters of `GET /v1/stats`: `group_by=a,b`; `channel`, `level`, `category`, `township`,
/// `unit`, `band` may repeat (or list values with commas).
#[derive(Debug, Default)]
struct StatsParams {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    group_by: Vec<GroupBy>,
    filters: Filters,
    yoy: bool,
    adjusted: bool,
    min_seq: Option<u64>,
    at_seq: Option<u64>,
    as_of: Option<domain::Timestamp>,
}

fn bad(field: &str, en: &str, zh: &str) -> Failure {
    Failure::BadRequest(Text::new(
        format!("{field}: {en}"),
        format!("{field}：{zh}"),
    ))
}

fn one_of(field: &str, v: &str, allowed: &[&str]) -> Result<String, Failure> {
    if allowed.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(bad(
            field,
            &format!("expected one of {}", allowed.join(", ")),
            &format!("应为 {} 之一", allowed.join("、")),
        ))
    }
}

fn parse(query: &str) -> Result<StatsParams, Failure> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut p = StatsParams::default();
    let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    let levels: Vec<&str> = Level::ALL.iter().map(|c| c.as_str()).collect();
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let bands = ["individual", "group", "collective"];
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let (k, v) = (k.into_owned(), v.into_owned());
        let n = seen.entry(k.clone()).or_default();
        *n += 1;
        // Every item of a list given: `township=` or `channel=visit,` names nothing.
        if v.split(',').any(|x| x.trim().is_empty()) {
            return Err(bad(&k, "expected a value, not an empty one", "不能为空"));
        }
        let values = || v.split(',').map(str::trim);
        let once = |n: usize| {
            if n > 1 {
                Err(bad(&k, "given more than once", "重复"))
            } else {
                Ok(())
            }
        };
        match k.as_str() {
            "from" | "to" => {
                once(*n)?;
                let d = domain::dates::parse_date(&v).ok_or_else(|| {
                    bad(&k, "expected a date YYYY-MM-DD, e.g. 2026-03-05", "应为 YYYY-MM-DD 格式的日期，例如 2026-03-05")
                })?;
                if k == "from" {
                    p.from = Some(d);
                } else {
                    p.to = Some(d);
                }
            }
            "group_by" => {
                once(*n)?;
                for g in values() {
                    let by = GroupBy::parse(g).ok_or_else(|| {
                        let all: Vec<&str> = GroupBy::ALL.iter().map(|g| g.as_str()).collect();
                        bad(&k, &format!("expected one or two of {}", all.join(", ")), &format!("应为 {} 中的一至两项", all.join("、")))
                    })?;
                    if p.group_by.contains(&by) {
                        // Fits the schema (a pattern cannot say "two different"): a rule, 422.
                        return Err(Failure::Domain(domain::DomainError::Validation(
                            domain::text!("group_by: a dimension named twice", "group_by：维度重复"),
                        )));
                    }
                    p.group_by.push(by);
                }
                if p.group_by.len() > 2 {
                    return Err(bad(&k, "at most two dimensions", "最多两个维度"));
                }
            }
            "compare" => {
                once(*n)?;
                one_of(&k, &v, &["yoy"])?;
                p.yoy = true;
            }
            "adjusted" => {
                once(*n)?;
                p.adjusted = one_of(&k, &v, &["true", "false"])? == "true";
            }
            "min_seq" | "at_seq" => {
                once(*n)?;
                let seq = Some(v.parse().map_err(|_| {
                    bad(&k, "expected a whole number, 0 or more", "应为非负整数")
                })?);
                match k.as_str() {
                    "min_seq" => p.min_seq = seq,
                    _ => p.at_seq = seq,
                }
            }
            "as_of" => {
                once(*n)?;
                p.as_of = Some(domain::dates::parse_time(&v).ok_or_else(|| {
                    bad(&k, "expected an RFC 3339 time with offset", "应为带时区的 RFC 3339 时间")
                })?);
            }
            "channel" => {
                for x in values() {
                    p.filters.channel.push(one_of(&k, x, &channels)?);
                }
            }
            "level" => {
                for x in values() {
                    p.filters.level.push(one_of(&k, x, &levels)?);
                }
            }
            "category" => {
                for x in values() {
                    p.filters.category.push(one_of(&k, x, &categories)?);
                }
            }
            "band" => {
                for x in values() {
                    p.filters.band.push(one_of(&k, x, &bands)?);
                }
            }
            "township" | "unit" => {
                for x in values() {
                    let list = if k == "township" { &mut p.filters.township } else { &mut p.filters.unit };
                    list.push(x.to_owned());
                }
            }
            _ => {
                return Err(bad(
                    &k,
                    "unknown parameter; expected from, to, group_by, compare, adjusted, channel, level, category, township, unit, band or min_seq",
                    "未知参数；应为 from、to、group_by、compare、adjusted、channel、level、category、township、unit、band 或 min_seq",
                ))
            }
        }
    }
    Ok(p)
}

pub async fn stats(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = state.tokens.authenticate(&headers)?;
    let params = parse(raw.as_deref().unwrap_or(""))?;
    let (Some(from), Some(to)) = (params.from, params.to) else {
        let missing = if params.from.is_none() { "from" } else { "to" };
        return Err(bad(missing, "required", "必填").into());
    };
    // A unit reads its own figures only: exactly its own township or unit given.
    fn exactly(v: &[String]) -> Option<&str> {
        match v {
            [one] => Some(one.as_str()),
            [] => None,
            _ => Some(""),
        }
    }
    let scope = StatsScope {
        township: exactly(&params.filters.township),
        unit: exactly(&params.filters.unit),
    };
    can_read_stats(&p, scope)?;
    period(from, to)?;
    for (field, codes) in [
        ("township", &params.filters.township),
        ("unit", &params.filters.unit),
    ] {
        for code in codes {
            crate::reads::known_unit(&state, field, Some(code.clone()))?;
        }
    }
    let q = StatsQuery {
        from,
        to,
        group_by: params.group_by,
        filters: params.filters,
        yoy: params.yoy,
        adjusted: params.adjusted,
        // A unit's own readers never see an accusation against it, not even in a figure.
        hide_accused: p.acting_unit().map(ToString::to_string),
    };
    let at = crate::asof::point(&state, params.at_seq, params.as_of).await?;
    let (queries, now) = state.reader(at);
    let report = queries.stats(q, params.min_seq, now).await?;
    with_applied(&report.value, report.applied_seq)
}
