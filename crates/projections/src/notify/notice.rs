//! What a notice to a petitioner says (pure): which steps are news for a petitioner, and the
//! Chinese text of each, the way a 12345 platform words its SMS.

use std::collections::BTreeMap;

use domain::{CaseId, Event, Policy, Timestamp, UnitCode};
use wire::notice::NoticeKind as Kind;

/// The kind of notice `event` calls for, if any.
pub fn kind_of(event: &Event) -> Option<Kind> {
    Some(match event {
        Event::CaseRegistered(_) | Event::QueryCodeReissued(_) => Kind::QueryCode,
        Event::CaseAccepted(_) => Kind::Accepted,
        Event::CaseRejected(_) => Kind::Rejected,
        Event::CaseTransferred(_) => Kind::Transferred,
        Event::CaseReplied(_) => Kind::Replied,
        Event::CaseClosed(_) => Kind::Closed,
        _ => return None,
    })
}

/// Whether a step is news when it is recorded: one that happened longer ago than the stream
/// keeps a notice (`eventlog::notices::NOTICE_MAX_AGE`) is history entered late (an import of
/// old records, say), and telling the petitioner now would mislead.
pub fn is_news(occurred_at: Timestamp, recorded_at: Timestamp) -> bool {
    let age = eventlog::notices::NOTICE_MAX_AGE;
    recorded_at.signed_duration_since(occurred_at)
        <= chrono::Duration::seconds(age.as_secs() as i64)
}

/// What the texts are written with: the county's keys (for the query code), its policy (for the
/// local date), the units' names and the name signing every text.
pub struct Wording {
    pub keys: domain::identity::Keys,
    pub policy: Policy,
    pub names: BTreeMap<UnitCode, String>,
    /// 【…】 at the head of every text: the county bureau's name.
    pub sender: String,
}

impl Wording {
    fn date(&self, t: Timestamp) -> String {
        let d = self.policy.local_date(t);
        use chrono::Datelike as _;
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    }

    fn name<'a>(&'a self, unit: &'a UnitCode) -> &'a str {
        self.names.get(unit).map_or(unit.as_str(), String::as_str)
    }

    /// The text of the notice `event` (of case `case`, numbered `case_no`) calls for.
    pub fn text(
        &self,
        case: CaseId,
        case_no: &str,
        event: &Event,
        occurred_at: Timestamp,
    ) -> Option<String> {
        let on = self.date(occurred_at);
        let body = match event {
            Event::CaseRegistered(_) => format!(
                "您的信访事项已登记，编号{case_no}，查询码{}。凭编号和查询码可查询办理进展。",
                self.keys.query_code(case, 0)
            ),
            Event::QueryCodeReissued(e) => format!(
                "您的信访事项{case_no}的查询码已重新发放：{}，原查询码停止使用。",
                self.keys.query_code(case, e.seq)
            ),
            Event::CaseAccepted(e) => format!(
                "您的信访事项{case_no}已于{on}受理，将于{}前出具处理意见。",
                self.date(e.reply_due_at)
            ),
            Event::CaseRejected(e) => format!(
                "您的信访事项{case_no}不予受理（{}），详见不予受理告知书。",
                e.reason_code.name_zh()
            ),
            Event::CaseTransferred(e) => format!(
                "您的信访事项{case_no}已于{on}转送{}办理。",
                self.name(&e.unit)
            ),
            Event::CaseReplied(_) => {
                format!("您的信访事项{case_no}已于{on}答复，凭编号和查询码可查看答复意见。")
            }
            Event::CaseClosed(_) => format!("您的信访事项{case_no}已于{on}办结。"),
            _ => return None,
        };
        Some(format!("【{}】{body}", self.sender))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ts, unit};
    use domain::event::{CaseClosed, CaseTransferred, QueryCodeReissued};

    fn wording() -> Wording {
        Wording {
            keys: domain::identity::Keys::new(&"1".repeat(64), &"2".repeat(64)).expect("keys"),
            policy: Policy::default(),
            names: [(unit("dongcheng"), "东城镇".to_owned())].into(),
            sender: "县信访局".into(),
        }
    }

    #[test]
    fn a_text_names_the_case_the_step_and_its_local_date() {
        let w = wording();
        let case = CaseId(uuid::Uuid::from_u128(7));
        // 23:30 UTC is the next morning in Beijing.
        let at = ts("2026-03-02T23:30:00+00:00");
        let transfer = Event::CaseTransferred(CaseTransferred {
            unit: unit("dongcheng"),
            from_unit: unit("gaoqiao"),
            reason: "属地".into(),
            bounced: false,
            acknowledge_due_at: None,
            acknowledged: false,
        });
        assert_eq!(
            w.text(case, "GAOQIAO-2026-000001", &transfer, at)
                .as_deref(),
            Some("【县信访局】您的信访事项GAOQIAO-2026-000001已于2026年3月3日转送东城镇办理。")
        );
        let reissued = Event::QueryCodeReissued(QueryCodeReissued { seq: 2 });
        let text = w.text(case, "N", &reissued, at).expect("a text");
        assert!(text.contains(&w.keys.query_code(case, 2)), "{text}");
        assert!(!text.contains(&w.keys.query_code(case, 0)), "{text}");
        assert_eq!(kind_of(&reissued), Some(Kind::QueryCode));
        let closed = Event::CaseClosed(CaseClosed { note: None });
        assert_eq!(kind_of(&closed), Some(Kind::Closed));
        assert!(w.text(case, "N", &closed, at).is_some());
    }

    #[test]
    fn history_entered_late_is_no_news() {
        let recorded = ts("2026-03-10T09:00:00+08:00");
        assert!(is_news(ts("2026-03-03T09:00:00+08:00"), recorded));
        assert!(!is_news(ts("2026-03-03T08:59:00+08:00"), recorded));
    }
}
