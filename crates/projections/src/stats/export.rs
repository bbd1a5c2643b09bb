//! The cases of a period for export, in pages, from the period index `e/<received date>/<case>`
//! and the cases the model keeps (`c/<case>`, without personal data).

use domain::{Case, CaseId, Policy, Status};
use queries::stats::{ExportPage, ExportQuery};
use wire::stats::ExportRow;

use crate::{Store, StoreError};

/// The key of a case in the period index.
pub(super) fn period_key(policy: &Policy, case: &Case) -> String {
    crate::keys::stats::export(policy.local_date(case.received_at), case.id)
}

fn row(policy: &Policy, c: &Case) -> ExportRow {
    let day = |t: domain::Timestamp| policy.local_date(t);
    ExportRow {
        case_id: c.id.0,
        case_no: c.case_no.clone(),
        received_date: day(c.received_at),
        township: c.township.to_string(),
        unit: c.reply.as_ref().map_or(&c.unit, |r| &r.unit).to_string(),
        channel: c.channel.to_string(),
        level_reached: c.level_reached.to_string(),
        category: c.category.to_string(),
        headcount: c.headcount,
        band: if c.channel.is_visit() {
            policy.band(c.headcount).as_str().to_owned()
        } else {
            String::new()
        },
        leader_reception: c.leader_reception,
        collective: c.channel.is_visit()
            && policy.band(c.headcount) == domain::policy::Band::Collective,
        cross_level: c.flags.cross_level,
        repeat: c.flags.repeat,
        first_petition: c.first_petition,
        status: c.status.to_string(),
        stage: c.stage().to_string(),
        accepted_date: c.accepted_at.map(day),
        replied_date: c.replied_at.map(day),
        reply_on_time: c.reply_on_time,
        satisfaction: c.last_satisfaction().map(|s| s.to_string()),
        bounces: c.bounces(),
        supervisions: c.supervisions,
        review_level: c.review_level,
        merged: c.status == Status::Merged,
        withdrawn: c.status == Status::Withdrawn,
    }
}

/// A page of the period's cases, in the order received.
pub fn export(store: &Store, q: &ExportQuery, policy: &Policy) -> Result<ExportPage, StoreError> {
    let limit = q.limit.clamp(1, 10_000);
    let (first, end) = crate::keys::stats::exports(q.from, q.to);
    let start = q.after.clone().unwrap_or(first);
    let mut rows = Vec::new();
    let mut last = None;
    for key in store.keys_from(crate::keys::stats::EXPORT, &start) {
        let key = key?;
        if key > end {
            break;
        }
        if q.after.as_deref() == Some(key.as_str()) {
            continue;
        }
        if rows.len() == limit {
            return Ok(ExportPage { rows, next: last });
        }
        let Some(id) = key.rsplit('/').next().and_then(CaseId::parse) else {
            continue;
        };
        let Some(case) = store.get::<Case>(&crate::keys::shared::case(id))? else {
            continue;
        };
        last = Some(key.clone());
        if q.hide_accused
            .as_deref()
            .is_some_and(|u| case.accused_unit.as_ref().is_some_and(|a| a.as_str() == u))
        {
            continue;
        }
        rows.push(row(policy, &case));
    }
    Ok(ExportPage { rows, next: None })
}
