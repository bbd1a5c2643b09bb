//! Deadline and classification policy. Policy is data: provinces differ, so nothing here is a
//! constant scattered in code. The deadlines a decision computes are written into the event, so a
//! later policy change never rewrites the past and a deadline can be read back as of any date.

use chrono::{DateTime, Days, FixedOffset, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// A point in business time, with the offset it was given in.
pub type Timestamp = DateTime<FixedOffset>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Headcount from which a visit is a collective visit (集体访).
    pub collective_threshold: u32,
    /// Headcount from which a visit is a group visit (群体访), below the collective threshold:
    /// individual < group_threshold ≤ group < collective_threshold ≤ collective.
    pub group_threshold: u32,
    pub accept_days: u32,
    pub reply_days: u32,
    pub max_extension_days: u32,
    pub review_request_days: u32,
    pub review_decision_days: u32,
    pub due_soon_days: u32,
    /// 推诿: a case is flagged `bounced` once it has been transferred this many times after its
    /// first transfer.
    pub bounce_threshold: u32,
    /// 更正: days after receipt during which the township a case was registered for may correct
    /// its registration (the county may at any time).
    pub correction_days: u32,
    /// 签收: hours within which the unit made accountable must acknowledge the case.
    pub acknowledge_hours: u32,
    /// 催办: an open case overdue by more than this many days is `escalated`.
    pub escalate_after_days: u32,
    /// 重办: days after closing within which a case whose follow-up was dissatisfied may be
    /// reopened.
    pub reopen_days: u32,
    /// 重办: the reply deadline of a reopened case, in days (unless the reopening names a date).
    pub rehandle_days: u32,
    /// 补录: a step dated more than this many hours before it is recorded is a late entry.
    pub late_entry_hours: u32,
    /// 补录: a late entry must state `late_reason` (false keeps existing clients working).
    pub require_late_reason: bool,
    /// 积案: an open case received more than this many calendar days ago is `backlog`.
    pub backlog_days: u32,
    /// 积案: an open case that is this or a later case of the same category of one of its
    /// petitioners is `backlog`.
    pub backlog_repeats: u32,
    /// 苗头预警 `surge`: registrations of a (township, category) in the window from which it
    /// may surge.
    pub surge_min: u32,
    /// `surge`: how many times the baseline rate the window must exceed (a number > 0).
    pub surge_factor: f64,
    /// `surge`: days of the window, ending on the day judged.
    pub surge_window_days: u32,
    /// `surge`: days before the window that make its baseline (at least the window).
    pub surge_baseline_days: u32,
    /// `collective_repeat`: two collective visits on one (township, category) within this many
    /// days.
    pub collective_repeat_days: u32,
    /// `repeat_petitioner`: a petitioner's cases within 90 days from which an alert is raised.
    pub repeat_alert_cases: u32,
    /// Calendar days and statistics periods are counted in this zone.
    pub timezone: Tz,
}

/// `repeat_petitioner`: the days within which a petitioner's cases are counted (the contract's
/// fixed 90).
pub const REPEAT_ALERT_DAYS: u32 = 90;

/// The highest `backlog_repeats` (a case's place among its petitioners' cases is counted up to
/// it).
pub const MAX_BACKLOG_REPEATS: u32 = 20;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            collective_threshold: 5,
            group_threshold: 2,
            accept_days: 15,
            reply_days: 60,
            max_extension_days: 30,
            review_request_days: 30,
            review_decision_days: 30,
            due_soon_days: 3,
            bounce_threshold: 2,
            correction_days: 3,
            acknowledge_hours: 24,
            escalate_after_days: 5,
            reopen_days: 30,
            rehandle_days: 30,
            late_entry_hours: 72,
            require_late_reason: false,
            backlog_days: 90,
            backlog_repeats: 3,
            surge_min: 5,
            surge_factor: 3.0,
            surge_window_days: 7,
            surge_baseline_days: 90,
            collective_repeat_days: 30,
            repeat_alert_cases: 3,
            timezone: chrono_tz::Asia::Shanghai,
        }
    }
}

/// `[policy]` as the configuration file writes it (docs/contract.md, "Configuration"): every key
/// optional, unknown keys refused.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    pub collective_threshold: Option<u32>,
    pub group_threshold: Option<u32>,
    pub accept_days: Option<u32>,
    pub reply_days: Option<u32>,
    pub max_extension_days: Option<u32>,
    pub review_request_days: Option<u32>,
    pub review_decision_days: Option<u32>,
    pub due_soon_days: Option<u32>,
    pub bounce_threshold: Option<u32>,
    pub correction_days: Option<u32>,
    pub acknowledge_hours: Option<u32>,
    pub escalate_after_days: Option<u32>,
    pub reopen_days: Option<u32>,
    pub rehandle_days: Option<u32>,
    pub late_entry_hours: Option<u32>,
    pub require_late_reason: Option<bool>,
    pub backlog_days: Option<u32>,
    pub backlog_repeats: Option<u32>,
    pub surge_min: Option<u32>,
    pub surge_factor: Option<f64>,
    pub surge_window_days: Option<u32>,
    pub surge_baseline_days: Option<u32>,
    pub collective_repeat_days: Option<u32>,
    pub repeat_alert_cases: Option<u32>,
    pub timezone: Option<String>,
}

impl PolicySection {
    /// The policy, or the key (under `policy.`) and what is wrong with it.
    pub fn into_policy(self) -> Result<Policy, (String, String)> {
        let d = Policy::default();
        let positive = |key: &str, v: Option<u32>, default: u32| match v {
            Some(0) => Err((format!("policy.{key}"), "must be at least 1".to_owned())),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let timezone = match self.timezone {
            None => d.timezone,
            Some(tz) => tz.parse().map_err(|_| {
                (
                    "policy.timezone".to_owned(),
                    format!("{tz:?} is not an IANA time zone name"),
                )
            })?,
        };
        let policy = Policy {
            collective_threshold: positive(
                "collective_threshold",
                self.collective_threshold,
                d.collective_threshold,
            )?,
            group_threshold: positive("group_threshold", self.group_threshold, d.group_threshold)?,
            accept_days: positive("accept_days", self.accept_days, d.accept_days)?,
            reply_days: positive("reply_days", self.reply_days, d.reply_days)?,
            max_extension_days: positive(
                "max_extension_days",
                self.max_extension_days,
                d.max_extension_days,
            )?,
            review_request_days: positive(
                "review_request_days",
                self.review_request_days,
                d.review_request_days,
            )?,
            review_decision_days: positive(
                "review_decision_days",
                self.review_decision_days,
                d.review_decision_days,
            )?,
            due_soon_days: self.due_soon_days.unwrap_or(d.due_soon_days),
            bounce_threshold: positive(
                "bounce_threshold",
                self.bounce_threshold,
                d.bounce_threshold,
            )?,
            // 0: only the county corrects.
            correction_days: self.correction_days.unwrap_or(d.correction_days),
            acknowledge_hours: positive(
                "acknowledge_hours",
                self.acknowledge_hours,
                d.acknowledge_hours,
            )?,
            // 0: every overdue case is escalated.
            escalate_after_days: self.escalate_after_days.unwrap_or(d.escalate_after_days),
            // 0: a closed case is not reopened.
            reopen_days: self.reopen_days.unwrap_or(d.reopen_days),
            rehandle_days: positive("rehandle_days", self.rehandle_days, d.rehandle_days)?,
            late_entry_hours: positive(
                "late_entry_hours",
                self.late_entry_hours,
                d.late_entry_hours,
            )?,
            require_late_reason: self.require_late_reason.unwrap_or(d.require_late_reason),
            backlog_days: positive("backlog_days", self.backlog_days, d.backlog_days)?,
            backlog_repeats: positive("backlog_repeats", self.backlog_repeats, d.backlog_repeats)?,
            surge_min: positive("surge_min", self.surge_min, d.surge_min)?,
            surge_factor: match self.surge_factor {
                Some(f) if !(f.is_finite() && f > 0.0) => {
                    return Err((
                        "policy.surge_factor".to_owned(),
                        format!("{f} must be a number above 0"),
                    ))
                }
                f => f.unwrap_or(d.surge_factor),
            },
            surge_window_days: positive(
                "surge_window_days",
                self.surge_window_days,
                d.surge_window_days,
            )?,
            surge_baseline_days: positive(
                "surge_baseline_days",
                self.surge_baseline_days,
                d.surge_baseline_days,
            )?,
            collective_repeat_days: positive(
                "collective_repeat_days",
                self.collective_repeat_days,
                d.collective_repeat_days,
            )?,
            repeat_alert_cases: positive(
                "repeat_alert_cases",
                self.repeat_alert_cases,
                d.repeat_alert_cases,
            )?,
            timezone,
        };
        if policy.backlog_repeats > MAX_BACKLOG_REPEATS {
            return Err((
                "policy.backlog_repeats".to_owned(),
                format!(
                    "{} is above the highest, {MAX_BACKLOG_REPEATS}",
                    policy.backlog_repeats
                ),
            ));
        }
        if policy.surge_baseline_days < policy.surge_window_days {
            return Err((
                "policy.surge_baseline_days".to_owned(),
                format!(
                    "{} must be at least surge_window_days ({})",
                    policy.surge_baseline_days, policy.surge_window_days
                ),
            ));
        }
        if policy.repeat_alert_cases < 2 {
            return Err((
                "policy.repeat_alert_cases".to_owned(),
                "must be at least 2 (one case repeats nothing)".to_owned(),
            ));
        }
        if policy.group_threshold >= policy.collective_threshold {
            return Err((
                "policy.group_threshold".to_owned(),
                format!(
                    "{} must be below collective_threshold ({}): individual < group < collective",
                    policy.group_threshold, policy.collective_threshold
                ),
            ));
        }
        Ok(policy)
    }
}

/// A visit's band by headcount (docs/rules.md, "Classifications"); letters and other channels form
/// none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    Individual,
    Group,
    Collective,
}

impl Band {
    pub const ALL: [Band; 3] = [Band::Individual, Band::Group, Band::Collective];

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Individual => "individual",
            Band::Group => "group",
            Band::Collective => "collective",
        }
    }
}

impl Policy {
    /// The band of a visit of `headcount` people.
    pub fn band(&self, headcount: u32) -> Band {
        if headcount >= self.collective_threshold {
            Band::Collective
        } else if headcount >= self.group_threshold {
            Band::Group
        } else {
            Band::Individual
        }
    }

    /// The deadline `days` calendar days after `start`: the end of that day in the policy time zone
    /// (a step due "within 15 days" may be taken at any time on the 15th day).
    pub fn deadline_after(&self, start: Timestamp, days: u32) -> Timestamp {
        let local_day = start.with_timezone(&self.timezone).date_naive();
        let due_day = local_day
            .checked_add_days(Days::new(u64::from(days)))
            .unwrap_or(local_day);
        self.end_of_day(due_day)
    }

    /// The last second of a calendar day in the policy time zone.
    pub fn end_of_day(&self, day: chrono::NaiveDate) -> Timestamp {
        let naive = day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
        // `latest` resolves a repeated local time (DST fall-back) to its later instant; a skipped
        // one (spring-forward) cannot happen at 23:59:59 in any zone we support, but fall back to UTC.
        match self.timezone.from_local_datetime(&naive).latest() {
            Some(t) => t.fixed_offset(),
            None => naive.and_utc().fixed_offset(),
        }
    }

    /// The first instant of a calendar day in the policy time zone.
    pub fn start_of_day(&self, day: chrono::NaiveDate) -> Timestamp {
        let naive = day.and_time(NaiveTime::MIN);
        match self.timezone.from_local_datetime(&naive).earliest() {
            Some(t) => t.fixed_offset(),
            None => naive.and_utc().fixed_offset(),
        }
    }

    /// The calendar day of a timestamp in the policy time zone.
    pub fn local_date(&self, t: Timestamp) -> chrono::NaiveDate {
        t.with_timezone(&self.timezone).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(s).expect("test timestamp")
    }

    /// The contract's defaults of the backlog and the alerts (issue 35), which an empty
    /// `[policy]` gives.
    #[test]
    fn backlog_and_alert_defaults_are_the_contracts() {
        let p = PolicySection::default().into_policy().expect("defaults");
        assert_eq!((p.backlog_days, p.backlog_repeats), (90, 3));
        assert_eq!(
            (p.surge_min, p.surge_window_days, p.surge_baseline_days),
            (5, 7, 90)
        );
        assert!((p.surge_factor - 3.0).abs() < f64::EPSILON);
        assert_eq!((p.collective_repeat_days, p.repeat_alert_cases), (30, 3));
        let fraction = PolicySection {
            surge_factor: Some(1.5),
            ..PolicySection::default()
        };
        assert!((fraction.into_policy().expect("1.5").surge_factor - 1.5).abs() < f64::EPSILON);
    }

    #[test]
    fn deadline_is_end_of_the_nth_local_day() {
        let p = Policy::default();
        assert_eq!(
            p.deadline_after(ts("2026-03-02T09:30:00+08:00"), 15),
            ts("2026-03-17T23:59:59+08:00")
        );
        // 2026-03-01T20:00Z is already 2 March in Shanghai.
        assert_eq!(
            p.deadline_after(ts("2026-03-01T20:00:00Z"), 15),
            ts("2026-03-17T23:59:59+08:00")
        );
    }

    #[test]
    fn other_time_zones_follow_their_own_calendar() {
        let p = Policy {
            timezone: chrono_tz::Europe::Berlin,
            ..Policy::default()
        };
        // Across the DST change on 2026-03-29 the deadline keeps local end of day.
        assert_eq!(
            p.deadline_after(ts("2026-03-28T10:00:00+01:00"), 2),
            ts("2026-03-30T23:59:59+02:00")
        );
    }
}
