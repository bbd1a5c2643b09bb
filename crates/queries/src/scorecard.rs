//! 考核 scorecards (docs/rules.md, "考核 (scorecards)"): rules in the configuration (`[[scorecard]]`,
//! versioned, each in force from its `effective_from`), and the scoring of every township and
//! department under the version in force at a period's start. Scoring is a pure function of the
//! rules and each unit's measures (`/v1/stats?group_by=unit`), so an analyst can redo it by hand.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use wire::scorecard::{Better, Indicator, IndicatorScore, UnitScore};
use wire::stats::{Measures, Rate};

/// The rates an indicator may name (`<Measures>`).
pub use domain::measures::RATES;

/// One version of the rules (`[[scorecard]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub version: String,
    /// The first day these rules apply to: a period is scored under the latest version in force
    /// at its start. In TOML a date (`2026-01-01`) or a string.
    #[serde(deserialize_with = "toml_date")]
    pub effective_from: NaiveDate,
    pub indicators: Vec<Indicator>,
}

/// A date given as a string or as a TOML date (which reaches serde as a one-entry map).
fn toml_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = NaiveDate;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a date YYYY-MM-DD")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<NaiveDate, E> {
            domain::dates::parse_date(s).ok_or_else(|| E::custom("expected a date YYYY-MM-DD"))
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<NaiveDate, A::Error> {
            let (_, s): (String, String) = m
                .next_entry()?
                .ok_or_else(|| serde::de::Error::custom("expected a date YYYY-MM-DD"))?;
            self.visit_str(&s)
        }
    }
    d.deserialize_any(V)
}

impl Rules {
    /// The rules used when the configuration has none: the reply on time, closure and
    /// satisfaction, the figures docs/rules.md, "Counting", names.
    pub fn default_rules() -> Rules {
        let higher = |name: &str, weight| Indicator {
            name: name.into(),
            weight,
            better: Better::Higher,
        };
        Rules {
            version: "default".into(),
            effective_from: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default(),
            indicators: vec![
                higher("reply_on_time_rate", 40.0),
                higher("closure_rate", 30.0),
                higher("satisfaction_rate", 30.0),
            ],
        }
    }

    /// Check the configured versions: named, distinct, each with known, distinct indicators of
    /// positive weight. The error names the version (its index and name) and what is wrong.
    pub fn check(all: &[Rules]) -> Result<(), (usize, String)> {
        let (mut versions, mut days) = (BTreeSet::new(), BTreeSet::new());
        for (n, r) in all.iter().enumerate() {
            r.check_one(&mut versions, &mut days).map_err(|e| (n, e))?;
        }
        Ok(())
    }

    fn check_one<'a>(
        &'a self,
        versions: &mut BTreeSet<&'a str>,
        days: &mut BTreeSet<NaiveDate>,
    ) -> Result<(), String> {
        let r = self;
        {
            let v = &r.version;
            if v.trim().is_empty() || !versions.insert(v.as_str()) {
                return Err(format!("version {v:?} is empty or given twice"));
            }
            if !days.insert(r.effective_from) {
                let d = r.effective_from;
                return Err(format!(
                    "version {v:?}: another version is in force from {d}"
                ));
            }
            if r.indicators.is_empty() {
                return Err(format!("version {v:?} has no indicators"));
            }
            let mut names = BTreeSet::new();
            for i in &r.indicators {
                if !RATES.contains(&i.name.as_str()) {
                    let known = RATES.join(", ");
                    return Err(format!(
                        "version {v:?}: indicator {:?} is none of {known}",
                        i.name
                    ));
                }
                if !names.insert(i.name.as_str()) {
                    return Err(format!("version {v:?}: indicator {:?} given twice", i.name));
                }
                if !(i.weight.is_finite() && i.weight > 0.0) {
                    return Err(format!(
                        "version {v:?}: the weight of {:?} must be more than 0",
                        i.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// The version in force on `day`: the latest configured one from on or before it; the
    /// default rules when none is configured; `None` when all configured ones start later.
    pub fn in_force(all: &[Rules], day: NaiveDate) -> Option<Rules> {
        if all.is_empty() {
            return Some(Rules::default_rules());
        }
        all.iter()
            .filter(|r| r.effective_from <= day)
            .max_by_key(|r| r.effective_from)
            .cloned()
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Score each unit (code, name, kind, its measures) under `rules`.
pub fn score(rules: &Rules, units: Vec<(String, String, String, Measures)>) -> Vec<UnitScore> {
    let all_weights: f64 = rules.indicators.iter().map(|i| i.weight).sum();
    let mut out: Vec<UnitScore> = units
        .into_iter()
        .map(|(unit, unit_name, kind, m)| {
            let rates = m.rates();
            let indicators: Vec<IndicatorScore> = rules
                .indicators
                .iter()
                .map(|i| {
                    let rate = rates
                        .iter()
                        .find(|(n, _)| *n == i.name)
                        .map(|(_, r)| *r)
                        .unwrap_or(Rate::new(0, 0));
                    let points = rate.value.map(|v| {
                        round2(match i.better {
                            Better::Higher => i.weight * v,
                            Better::Lower => i.weight * (1.0 - v),
                        })
                    });
                    IndicatorScore {
                        name: i.name.clone(),
                        num: rate.num,
                        den: rate.den,
                        value: rate.value,
                        weight: i.weight,
                        better: i.better,
                        points,
                    }
                })
                .collect();
            let measured: f64 = indicators
                .iter()
                .filter(|s| s.points.is_some())
                .map(|s| s.weight)
                .sum();
            let points: f64 = indicators.iter().filter_map(|s| s.points).sum();
            let total = (measured > 0.0).then(|| round2(points * all_weights / measured));
            UnitScore {
                unit,
                unit_name,
                kind,
                indicators,
                total,
                rank: None,
            }
        })
        .collect();
    let mut totals: Vec<f64> = out.iter().filter_map(|u| u.total).collect();
    totals.sort_by(|a, b| b.total_cmp(a));
    for u in &mut out {
        u.rank = u
            .total
            .map(|t| 1 + totals.iter().take_while(|&&o| o > t).count() as u32);
    }
    out.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.unit).cmp(&(b.rank.is_none(), b.rank, &b.unit))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::stats::Counts;

    fn day(s: &str) -> NaiveDate {
        domain::dates::parse_date(s).expect("date")
    }

    fn rules(version: &str, from: &str, indicators: &[(&str, f64, Better)]) -> Rules {
        Rules {
            version: version.into(),
            effective_from: day(from),
            indicators: indicators
                .iter()
                .map(|(n, w, b)| Indicator {
                    name: (*n).into(),
                    weight: *w,
                    better: *b,
                })
                .collect(),
        }
    }

    fn measures(replied: i64, on_time: i64, items: i64, closed: i64) -> Measures {
        Measures::new(
            Counts {
                replied,
                replied_on_time: on_time,
                items,
                closed,
                ..Counts::default()
            },
            0,
        )
    }

    #[test]
    fn points_totals_and_competition_ranks_with_the_arithmetic() {
        let r = rules(
            "2026",
            "2026-01-01",
            &[
                ("reply_on_time_rate", 60.0, Better::Higher),
                ("closure_rate", 40.0, Better::Lower),
            ],
        );
        let unit = |c: &str, m| (c.to_owned(), c.to_uppercase(), "township".to_owned(), m);
        let scored = score(
            &r,
            vec![
                unit("a", measures(4, 3, 10, 5)),
                unit("b", measures(2, 2, 0, 0)),
                unit("c", measures(0, 0, 0, 0)),
                unit("d", measures(4, 3, 10, 5)),
            ],
        );
        let a = scored.iter().find(|u| u.unit == "a").expect("a");
        // 60 × 3/4 = 45; lower is better: 40 × (1 − 5/10) = 20.
        assert_eq!(a.indicators[0].points, Some(45.0));
        assert_eq!((a.indicators[1].num, a.indicators[1].den), (5, 10));
        assert_eq!(a.indicators[1].points, Some(20.0));
        assert_eq!(a.total, Some(65.0));
        // b measured only the reply: 60 × 1 = 60 points of 60 weights, scaled to 100.
        let b = scored.iter().find(|u| u.unit == "b").expect("b");
        assert_eq!(
            (b.indicators[1].value, b.indicators[1].points),
            (None, None)
        );
        assert_eq!(b.total, Some(100.0));
        let order: Vec<(&str, Option<u32>)> =
            scored.iter().map(|u| (u.unit.as_str(), u.rank)).collect();
        assert_eq!(
            order,
            [("b", Some(1)), ("a", Some(2)), ("d", Some(2)), ("c", None)]
        );
    }

    #[test]
    fn the_version_in_force_at_the_start_and_what_is_refused() {
        let v1 = rules(
            "v1",
            "2025-01-01",
            &[("closure_rate", 100.0, Better::Higher)],
        );
        let v2 = rules(
            "v2",
            "2026-01-01",
            &[("satisfaction_rate", 100.0, Better::Higher)],
        );
        let all = [v2.clone(), v1.clone()];
        assert_eq!(Rules::in_force(&all, day("2025-12-31")), Some(v1));
        assert_eq!(Rules::in_force(&all, day("2026-01-01")), Some(v2));
        assert_eq!(Rules::in_force(&all, day("2024-06-01")), None);
        assert_eq!(
            Rules::in_force(&[], day("2024-06-01")).map(|r| r.version),
            Some("default".into())
        );
        assert!(Rules::check(&all).is_ok());
        assert!(Rules::check(&[Rules::default_rules()]).is_ok());
        for bad in [
            rules("v3", "2027-01-01", &[("closure", 1.0, Better::Higher)]),
            rules("v3", "2027-01-01", &[("closure_rate", 0.0, Better::Higher)]),
            rules("v3", "2027-01-01", &[]),
            rules("v1", "2027-01-01", &[("closure_rate", 1.0, Better::Higher)]),
            rules("v3", "2026-01-01", &[("closure_rate", 1.0, Better::Higher)]),
            rules(
                "v3",
                "2027-01-01",
                &[
                    ("closure_rate", 1.0, Better::Higher),
                    ("closure_rate", 2.0, Better::Lower),
                ],
            ),
        ] {
            let mut list = all.to_vec();
            list.push(bad.clone());
            assert!(Rules::check(&list).is_err(), "{bad:?}");
        }
    }
}
