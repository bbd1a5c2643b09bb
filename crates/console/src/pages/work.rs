//! Lists of cases: a unit's queue (clerks, handlers), the county's workbench across units with
//! its supervision board (`flag=supervised`), and finding cases by number or words.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::Query;
use axum::response::Response;

use crate::backend::{query, seg};
use crate::frame::{read_or_page, render, Frame, Signed};
use crate::names::{date, zh};

type Params = Query<BTreeMap<String, String>>;

pub struct Row {
    pub case_id: String,
    pub case_no: String,
    /// The summary's beginning (what the case is about, at a glance), empty when not shown.
    pub summary: String,
    pub status: String,
    pub stage: String,
    pub category: String,
    pub channel: String,
    pub unit_name: String,
    pub headcount: String,
    pub received: String,
    pub due: String,
    pub days_left: String,
    /// `overdue`, `due-soon` or empty: the row's deadline colour.
    pub class: String,
    pub flags: String,
    /// 新到 or 退回/重办 until the unit acknowledges it (签收); empty otherwise.
    pub mark: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage {
    pub f: Frame,
    pub heading: String,
    pub counts: Vec<(String, String)>,
    pub action: String,
    pub filters: Vec<(String, String, Vec<Choice>)>,
    pub search: Option<String>,
    pub rows: Vec<Row>,
    pub show_unit: bool,
    pub next: String,
    pub first: String,
    /// The list under its filters as CSV, where there is one.
    pub csv: String,
    /// 批量交办/督办 of the ticked rows (the county's workbench, live).
    pub batch: Option<super::batch::BatchForm>,
}

pub(super) fn row(c: &crate::Console, v: &wire::cases::CaseSummary) -> Row {
    // In the order of their names, as the page always listed them; a list does not call a case
    // a first petition.
    let mut flags = v
        .flags
        .named()
        .iter()
        .filter(|(k, on)| *on && *k != "first_petition")
        .map(|(k, _)| zh(k))
        .collect::<Vec<_>>()
        .join("、");
    if let Some(l) = &v.leader {
        push(&mut flags, format!("包案：{}{}", l.title, l.name));
    }
    if let Some(sv) = v.supervision.as_ref().filter(|sv| sv.count > 0) {
        let mut text = format!("督办 {} 次", sv.count);
        if let Some(d) = sv.committed_date {
            text.push_str(&format!("，承诺 {d} 办结"));
            if sv.committed_overdue {
                text.push_str("（已超期）");
            }
        }
        push(&mut flags, text);
    }
    let day =
        |t: Option<domain::Timestamp>| t.map(|t| date(c.tz, &t.to_rfc3339())).unwrap_or_default();
    Row {
        case_id: v.case_id.to_string(),
        case_no: v.case_no.clone(),
        summary: glance(v.summary.as_deref().unwrap_or_default()),
        status: zh(v.status.as_str()),
        stage: zh(v.stage.as_str()),
        category: zh(v.category.as_str()),
        channel: zh(v.channel.as_str()),
        unit_name: v.unit_name.clone(),
        headcount: v.headcount.to_string(),
        received: day(Some(v.received_at)),
        due: day(v.due_at),
        days_left: match v.days_left {
            Some(d) if v.overdue => format!("逾期 {} 天", -d.min(0)),
            Some(d) => format!("剩 {d} 天"),
            None => String::new(),
        },
        class: if v.overdue {
            "overdue".into()
        } else if v.due_soon {
            "due-soon".into()
        } else {
            String::new()
        },
        flags,
        mark: match v.mark {
            Some(wire::cases::WorkMark::New) => "新到".into(),
            Some(wire::cases::WorkMark::Returned) => "退回/重办".into(),
            None => String::new(),
        },
    }
}

/// The first 24 characters of a summary, with … when there is more.
fn glance(summary: &str) -> String {
    let mut out: String = summary.chars().take(24).collect();
    if summary.chars().nth(24).is_some() {
        out.push('…');
    }
    out
}

fn push(flags: &mut String, more: String) {
    if !flags.is_empty() {
        flags.push('；');
    }
    flags.push_str(&more);
}

fn choices(selected: &str, options: &[(&str, &str)]) -> Vec<Choice> {
    options
        .iter()
        .map(|(v, l)| Choice {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            selected: *v == selected,
        })
        .collect()
}

const STATUS: [(&str, &str); 3] = [
    ("open", "全部在办"),
    ("due_soon", "即将到期"),
    ("overdue", "已逾期"),
];
const STAGES: [(&str, &str); 5] = [
    ("", "全部阶段"),
    ("acceptance", "待受理"),
    ("handling", "办理中"),
    ("awaiting_close", "待办结"),
    ("review", "复查复核"),
];
const SORTS: [(&str, &str); 2] = [("", "期限最近在前"), ("received", "最新收到在前")];
const FLAGS: [(&str, &str); 12] = [
    ("", "全部"),
    ("duplicate", "一信多投"),
    ("bounced", "推诿"),
    ("supervised", "督办"),
    ("repeat", "重复访"),
    ("collective", "集体访"),
    ("leader_reception", "领导接访"),
    ("leader", "领导包案"),
    ("unacknowledged", "超时未签收"),
    ("escalated", "超期升级"),
    ("late_entry", "补录"),
    ("backlog", "积案"),
];

/// The page of a list answer (its items and where the next page starts).
fn list(
    signed: &Signed,
    mut page: ListPage,
    (items, next): (&[wire::cases::CaseSummary], Option<&str>),
    here: &str,
    p: &BTreeMap<String, String>,
) -> Response {
    page.rows = items.iter().map(|v| row(&signed.console, v)).collect();
    if let Some(next) = next {
        let mut pairs: Vec<(&str, &str)> = p
            .iter()
            .filter(|(k, _)| *k != "cursor")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.push(("cursor", next));
        page.next = format!("{here}{}", query(&pairs));
    }
    if p.contains_key("cursor") {
        let pairs: Vec<(&str, &str)> = p
            .iter()
            .filter(|(k, _)| *k != "cursor")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        page.first = format!("{here}{}", query(&pairs));
    }
    render(&page)
}

fn get<'a>(p: &'a BTreeMap<String, String>, k: &str) -> &'a str {
    p.get(k).map_or("", |v| v.trim())
}

/// What the counters of the whole list are called beside (or instead of) a filtered one's.
const WHOLE: &str = "全部在办（不限阶段、标记）";

/// The counters above a list: of the cases its filter selects where the API counts them (the
/// 督办 board counts its own, issue 34, finding 4), with the whole list's open ones beside; a
/// filter it does not count (a stage, a flag by the clock) gets the whole list's, said so.
fn counts(q: &wire::cases::Queue, p: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let filtered = !get(p, "stage").is_empty() || !get(p, "flag").is_empty();
    let (counts, prefix) = match &q.matching {
        Some(m) => (m, ""),
        None if filtered => (&q.counts, "全部"),
        None => (&q.counts, ""),
    };
    let mut out: Vec<(String, String)> = [
        ("open", counts.open),
        ("due_soon", counts.due_soon),
        ("overdue", counts.overdue),
    ]
    .iter()
    .map(|(k, n)| (format!("{prefix}{}", zh(k)), n.to_string()))
    .collect();
    if q.matching.is_some() {
        out.push((WHOLE.to_owned(), q.counts.open.to_string()));
    } else if filtered {
        out[0].0 = WHOLE.to_owned();
    }
    out
}

fn base_page(mut f: Frame, heading: &str, action: &str, p: &BTreeMap<String, String>) -> ListPage {
    f.keep = ["status", "stage", "flag", "sort", "unit", "township"]
        .into_iter()
        .filter(|k| !get(p, k).is_empty())
        .map(|k| (k.to_owned(), get(p, k).to_owned()))
        .collect();
    ListPage {
        f,
        heading: heading.to_owned(),
        counts: Vec::new(),
        action: action.to_owned(),
        filters: vec![
            (
                "status".into(),
                "期限".into(),
                choices(get(p, "status"), &STATUS),
            ),
            (
                "stage".into(),
                "阶段".into(),
                choices(get(p, "stage"), &STAGES),
            ),
            (
                "flag".into(),
                "标记".into(),
                choices(get(p, "flag"), &FLAGS),
            ),
            (
                "sort".into(),
                "排序".into(),
                choices(get(p, "sort"), &SORTS),
            ),
        ],
        search: None,
        rows: Vec::new(),
        show_unit: false,
        next: String::new(),
        first: String::new(),
        csv: String::new(),
        batch: None,
    }
}

/// A page of `path` (a queue or the workbench) with the filters of `p`, or the API's problem.
pub(super) async fn fetch(
    signed: &Signed,
    path: &str,
    p: &BTreeMap<String, String>,
) -> Result<wire::cases::Queue, Box<Response>> {
    let as_of = crate::pages::end_of_day(&signed.console, get(p, "as_of"))?.unwrap_or_default();
    // The workbench also narrows by registering township; a unit's queue has no such filter.
    let township = if path == "/v1/workbench" {
        get(p, "township")
    } else {
        ""
    };
    let mut pairs: Vec<(&str, &str)> = ["status", "stage", "flag", "sort", "unit", "cursor"]
        .into_iter()
        .map(|k| (k, get(p, k)))
        .chain([("township", township)])
        .collect();
    pairs.extend([("as_of", as_of.as_str()), ("limit", "50")]);
    let answer = signed
        .console
        .api
        .get(signed.token(), format!("{path}{}", query(&pairs)))
        .await;
    read_or_page(&answer)
}

/// 我的待办: the queue of the principal's unit with deadline colours, filters and pages.
pub async fn queue(signed: Signed, Query(mut p): Params) -> Response {
    let unit = if signed.unit.is_empty() {
        "county"
    } else {
        signed.unit.as_str()
    };
    p.remove("unit");
    let answer = match fetch(&signed, &format!("/v1/queues/{}", seg(unit)), &p).await {
        Ok(a) => a,
        Err(page) => return *page,
    };
    let mut f = signed.frame("我的待办", "/console/queue");
    f.as_of = get(&p, "as_of").to_owned();
    f.notice = super::before_first_record(answer.applied_seq).unwrap_or_default();
    let heading = format!("{} · 待办案件", signed.unit_name);
    let mut page = base_page(f, &heading, "/console/queue", &p);
    page.counts = counts(&answer, &p);
    let (items, next) = (&answer.items, answer.next_cursor.as_deref());
    list(&signed, page, (items, next), "/console/queue", &p)
}

/// 工作台 (county, auditors): every unit's open cases; `flag=supervised` is the supervision board.
pub async fn workbench(signed: Signed, Query(p): Params) -> Response {
    let answer = match fetch(&signed, "/v1/workbench", &p).await {
        Ok(a) => a,
        Err(page) => return *page,
    };
    let supervision = get(&p, "flag") == "supervised";
    let (title, active, heading) = if supervision {
        (
            "督办",
            "/console/workbench?flag=supervised",
            "督办案件（全县）",
        )
    } else {
        ("工作台", "/console/workbench", "全县在办案件")
    };
    let mut f = signed.frame(title, active);
    f.as_of = get(&p, "as_of").to_owned();
    f.notice = super::before_first_record(answer.applied_seq).unwrap_or_default();
    let mut page = base_page(f, heading, "/console/workbench", &p);
    page.counts = counts(&answer, &p);
    page.show_unit = true;
    // Narrowed on the form, not only in the URL (issue 34, finding 4).
    let units = super::units(&signed).await;
    let pick = |key: &str, all: &str, of: &dyn Fn(&wire::UnitEntry) -> bool| {
        let options: Vec<(&str, &str)> = std::iter::once(("", all))
            .chain(
                units
                    .iter()
                    .filter(|u| of(u))
                    .map(|u| (u.code.as_str(), u.name.as_str())),
            )
            .collect();
        choices(get(&p, key), &options)
    };
    page.filters.push((
        "unit".into(),
        "责任单位".into(),
        pick("unit", "全部单位", &|_| true),
    ));
    page.filters.push((
        "township".into(),
        "登记乡镇".into(),
        pick("township", "全部乡镇", &|u| u.kind == "township"),
    ));
    let filters: Vec<(&str, &str)> = p
        .iter()
        .filter(|(k, _)| *k != "cursor")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    page.csv = format!("/console/workbench.csv{}", query(&filters));
    if signed.role == "county" && page.f.as_of.is_empty() {
        let here: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        page.batch = Some(super::batch::BatchForm {
            units: units
                .iter()
                .filter(|u| u.kind != "county" || u.code == "county")
                .map(|u| (u.code.clone(), u.name.clone()))
                .collect(),
            back: format!("/console/workbench{}", query(&here)),
        });
    }
    let (items, next) = (&answer.items, answer.next_cursor.as_deref());
    list(&signed, page, (items, next), "/console/workbench", &p)
}

/// 案件查询: the form. Searching is a POST, so no name, number or phone lands in a URL.
pub async fn find(signed: Signed) -> Response {
    let mut f = signed.frame("案件查询", "/console/cases");
    f.as_of_allowed = false;
    let mut page = base_page(f, "案件查询", "/console/cases", &BTreeMap::new());
    page.filters.clear();
    page.search = Some(String::new());
    page.show_unit = true;
    render(&page)
}

/// 案件查询: a case number, an ID number, a phone number, a petitioner's name or words of the
/// summary; the API decides what the principal may see.
pub async fn find_post(signed: Signed, body: axum::body::Bytes) -> Response {
    let form = super::FormData::parse(&body);
    if let Some(r) = signed.csrf_refused(Some(form.get("csrf"))) {
        return r;
    }
    let q = form.get("q");
    let mut f = signed.frame("案件查询", "/console/cases");
    f.as_of_allowed = false;
    let mut page = base_page(f, "案件查询", "/console/cases", &BTreeMap::new());
    page.filters.clear();
    page.search = Some(q.to_owned());
    page.show_unit = true;
    if q.is_empty() {
        return render(&page);
    }
    let digits = q.chars().filter(char::is_ascii_digit).count();
    let api = &signed.console.api;
    let answer = if q.contains('-') && !q.contains(' ') {
        api.get(
            signed.token(),
            format!("/v1/cases{}", query(&[("case_no", q)])),
        )
        .await
    } else if digits >= 15 {
        let body = wire::cases::SearchCases {
            id_number: Some(q.to_owned()),
            ..Default::default()
        };
        api.call(crate::backend::Call::post_json(
            signed.token(),
            "/v1/cases/search",
            &body,
        ))
        .await
    } else if digits >= 7 && digits + 3 >= q.chars().count() {
        let body = wire::cases::SearchCases {
            phone: Some(q.to_owned()),
            ..Default::default()
        };
        api.call(crate::backend::Call::post_json(
            signed.token(),
            "/v1/cases/search",
            &body,
        ))
        .await
    } else {
        let by_words = api
            .get(
                signed.token(),
                format!("/v1/cases{}", query(&[("q", q), ("limit", "100")])),
            )
            .await;
        let found = by_words.read::<wire::cases::CasePage>();
        if by_words.ok() && found.is_ok_and(|page| !page.items.is_empty()) {
            by_words
        } else {
            let body = wire::cases::SearchCases {
                name: Some(q.to_owned()),
                ..Default::default()
            };
            api.call(crate::backend::Call::post_json(
                signed.token(),
                "/v1/cases/search",
                &body,
            ))
            .await
        }
    };
    if !answer.ok() {
        page.f.error = answer.detail();
        return render(&page);
    }
    match answer.read::<wire::cases::CasePage>() {
        Ok(found) => {
            let (items, next) = (&found.items, found.next_cursor.as_deref());
            list(
                &signed,
                page,
                (items, next),
                "/console/cases",
                &BTreeMap::new(),
            )
        }
        Err(why) => {
            page.f.error = why;
            render(&page)
        }
    }
}
