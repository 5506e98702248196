//! Hierarchical reporting (issue 17 item 4; 民政统计台账制度: "先填卡，后建帐，由台帐中提取统计数字",
//! "数出一门"): report periods and their due dates, the states of a report instance and the steps
//! between them, who may take each step (the unit itself, or the level above), and the 补报
//! adjustments a locked period leaves for the next one.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};

use crate::FieldError;

codes!(
    /// How often a template is reported.
    Frequency, "frequency", "report.frequency_unknown" {
        Month = "month",
        Quarter = "quarter",
        Year = "year",
    }
);

codes!(
    /// 草稿 (auto-filled) → 已提交 → 上级审核中 → 退回 | 已通过 → 已汇总上报 → 已锁定.
    ReportState, "state", "report.state_unknown" {
        Draft = "draft",
        Submitted = "submitted",
        Reviewing = "reviewing",
        Returned = "returned",
        Approved = "approved",
        Aggregated = "aggregated",
        Locked = "locked",
    }
);

codes!(
    /// A step on a report. `submit` (with the unit head's sign-off) is the unit's; `review`,
    /// `approve`, `return` (with a reason) and `lock` are the level above's; `request_unlock`
    /// (with a reason) is the unit's and `approve_unlock` the level above's.
    Action, "action", "report.action_unknown" {
        Submit = "submit",
        Review = "review",
        Approve = "approve",
        Return = "return",
        Lock = "lock",
        RequestUnlock = "request_unlock",
        ApproveUnlock = "approve_unlock",
    }
);

impl Action {
    /// Taken by the level above the unit (its scope holds the unit's parent region).
    pub fn by_parent(self) -> bool {
        !matches!(self, Action::Submit | Action::RequestUnlock)
    }
}

impl ReportState {
    /// The unit may still change its manual lines.
    pub fn editable(self) -> bool {
        matches!(self, ReportState::Draft | ReportState::Returned)
    }
    /// Its figures are the approved snapshot.
    pub fn approved(self) -> bool {
        matches!(
            self,
            ReportState::Approved | ReportState::Aggregated | ReportState::Locked
        )
    }
}

/// The state `action` leads to from `from`, or the refusal. Returning and asking for an unlock
/// need a reason; an unlock request leaves the report locked until the level above approves it,
/// which reopens it as a draft.
pub fn check_action(
    from: ReportState,
    action: Action,
    reason: &str,
) -> Result<ReportState, FieldError> {
    use ReportState::*;
    let to = match (from, action) {
        (Draft | Returned, Action::Submit) => Submitted,
        (Submitted, Action::Review) => Reviewing,
        (Submitted | Reviewing, Action::Approve) => Approved,
        (Submitted | Reviewing, Action::Return) => Returned,
        (Approved | Aggregated, Action::Lock) => Locked,
        (Locked, Action::RequestUnlock) => Locked,
        (Locked, Action::ApproveUnlock) => Draft,
        _ => return Err(FieldError::new("action", "report.action_not_allowed")),
    };
    if matches!(action, Action::Return | Action::RequestUnlock) && reason.trim().is_empty() {
        return Err(FieldError::new("reason", "report.reason_required"));
    }
    Ok(to)
}

/// The steps open from `state` (for the pages' buttons), in order.
pub fn actions_from(state: ReportState) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|a| check_action(state, *a, "-").is_ok())
        .collect()
}

/// A reporting period: a month (`YYYY-MM`), a quarter (`YYYY-Qn`) or a year (`YYYY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub year: i32,
    pub frequency: Frequency,
    /// The month (1–12), quarter (1–4), or 1 for a year.
    pub index: u32,
}

impl Period {
    pub fn parse(s: &str, frequency: Frequency) -> Result<Period, FieldError> {
        let bad = || FieldError::new("period", "report.period_invalid");
        let s = s.trim();
        let year_of = |y: &str| {
            y.parse::<i32>()
                .ok()
                .filter(|y| (2000..=2100).contains(y) && s.is_char_boundary(4))
                .ok_or_else(bad)
        };
        let (year, index) = match frequency {
            Frequency::Month => {
                let (y, m) = s.split_once('-').ok_or_else(bad)?;
                let m = m.parse::<u32>().ok().filter(|m| (1..=12).contains(m));
                (year_of(y)?, m.filter(|_| s.len() == 7).ok_or_else(bad)?)
            }
            Frequency::Quarter => {
                let (y, q) = s.split_once("-Q").ok_or_else(bad)?;
                let q = q.parse::<u32>().ok().filter(|q| (1..=4).contains(q));
                (year_of(y)?, q.filter(|_| s.len() == 7).ok_or_else(bad)?)
            }
            Frequency::Year => (
                year_of(s).and_then(|y| if s.len() == 4 { Ok(y) } else { Err(bad()) })?,
                1,
            ),
        };
        Ok(Period {
            year,
            frequency,
            index,
        })
    }

    /// The period holding `day`.
    pub fn containing(day: NaiveDate, frequency: Frequency) -> Period {
        let index = match frequency {
            Frequency::Month => day.month(),
            Frequency::Quarter => day.month().div_ceil(3),
            Frequency::Year => 1,
        };
        Period {
            year: day.year(),
            frequency,
            index,
        }
    }

    /// Its first and last month (1–12).
    fn month_span(&self) -> (u32, u32) {
        match self.frequency {
            Frequency::Month => (self.index, self.index),
            Frequency::Quarter => (self.index * 3 - 2, self.index * 3),
            Frequency::Year => (1, 12),
        }
    }

    /// Its first and last month as `YYYY-MM` (the counters' months).
    pub fn months(&self) -> (String, String) {
        let (a, b) = self.month_span();
        (
            format!("{:04}-{a:02}", self.year),
            format!("{:04}-{b:02}", self.year),
        )
    }

    /// Its first day and the first day after it.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        let (a, b) = self.month_span();
        let first = NaiveDate::from_ymd_opt(self.year, a, 1).unwrap_or_default();
        let last_month = NaiveDate::from_ymd_opt(self.year, b, 1).unwrap_or_default();
        (
            first,
            last_month
                .checked_add_months(Months::new(1))
                .unwrap_or(last_month),
        )
    }

    /// The due date: 15 days after a month or quarter; a year's report by the end of February
    /// (民政事业统计报表制度).
    pub fn due_on(&self) -> NaiveDate {
        let (_, after) = self.days();
        match self.frequency {
            Frequency::Year => NaiveDate::from_ymd_opt(self.year + 1, 3, 1)
                .and_then(|d| d.pred_opt())
                .unwrap_or(after),
            _ => after + chrono::Days::new(14),
        }
    }

    pub fn prev(&self) -> Period {
        self.shift(-1)
    }

    pub fn next(&self) -> Period {
        self.shift(1)
    }

    fn shift(&self, by: i32) -> Period {
        let per_year: i32 = match self.frequency {
            Frequency::Month => 12,
            Frequency::Quarter => 4,
            Frequency::Year => 1,
        };
        let i = self.year * per_year + (self.index as i32 - 1) + by;
        Period {
            year: i.div_euclid(per_year),
            frequency: self.frequency,
            index: i.rem_euclid(per_year) as u32 + 1,
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.frequency {
            Frequency::Month => write!(f, "{:04}-{:02}", self.year, self.index),
            Frequency::Quarter => write!(f, "{:04}-Q{}", self.year, self.index),
            Frequency::Year => write!(f, "{:04}", self.year),
        }
    }
}

/// Figures by line code.
pub type Figures = BTreeMap<String, i64>;

/// 补报: what changed in a locked period since its snapshot — the current figures minus the
/// snapshot, the lines that differ only.
pub fn adjustments(snapshot: &Figures, current: &Figures) -> Figures {
    let mut out = Figures::new();
    for (code, now) in current {
        let then = snapshot.get(code).copied().unwrap_or(0);
        if *now != then {
            out.insert(code.clone(), now - then);
        }
    }
    for (code, then) in snapshot {
        if !current.contains_key(code) && *then != 0 {
            out.insert(code.clone(), -then);
        }
    }
    out
}

/// A level's figures: its own live figures, with each child's live figures replaced by the
/// child's approved snapshot where it has one (the approved sum of the children plus its own).
pub fn rolled_up(own_live: &Figures, children: &[(Figures, Option<Figures>)]) -> Figures {
    let mut out = own_live.clone();
    for (live, approved) in children {
        if let Some(approved) = approved {
            for (code, d) in adjustments(live, approved) {
                *out.entry(code).or_insert(0) += d;
            }
        }
    }
    out
}

/// Share of `part` in `whole` in per mille (0 when there is nothing to count).
pub fn rate_permille(part: i64, whole: i64) -> i64 {
    if whole <= 0 { 0 } else { part * 1000 / whole }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_shift_and_fall_due() {
        let m = Period::parse("2026-01", Frequency::Month).unwrap();
        assert_eq!(m.prev().to_string(), "2025-12");
        assert_eq!(m.next().to_string(), "2026-02");
        assert_eq!(m.due_on().to_string(), "2026-02-15");
        let q = Period::parse("2026-Q4", Frequency::Quarter).unwrap();
        assert_eq!(q.months(), ("2026-10".into(), "2026-12".into()));
        assert_eq!(q.next().to_string(), "2027-Q1");
        let y = Period::parse("2027", Frequency::Year).unwrap();
        assert_eq!(y.due_on().to_string(), "2028-02-29");
        for bad in ["2026-13", "2026-1", "26-01", "2026-Q1", ""] {
            assert!(Period::parse(bad, Frequency::Month).is_err(), "{bad}");
        }
        assert!(Period::parse("2026-Q5", Frequency::Quarter).is_err());
    }

    #[test]
    fn steps_follow_the_flow_and_need_reasons() {
        use ReportState::*;
        assert_eq!(check_action(Draft, Action::Submit, ""), Ok(Submitted));
        assert_eq!(check_action(Returned, Action::Submit, ""), Ok(Submitted));
        assert!(check_action(Submitted, Action::Return, " ").is_err());
        assert_eq!(
            check_action(Reviewing, Action::Return, "数字不符"),
            Ok(Returned)
        );
        assert!(check_action(Draft, Action::Approve, "").is_err());
        assert!(check_action(Locked, Action::Submit, "").is_err());
        assert_eq!(check_action(Locked, Action::ApproveUnlock, ""), Ok(Draft));
        assert_eq!(
            actions_from(Locked),
            vec![Action::RequestUnlock, Action::ApproveUnlock]
        );
    }

    #[test]
    fn adjustments_and_roll_up() {
        let f = |v: &[(&str, i64)]| {
            v.iter()
                .map(|(k, n)| ((*k).to_owned(), *n))
                .collect::<Figures>()
        };
        assert_eq!(
            adjustments(&f(&[("a", 3), ("b", 1)]), &f(&[("a", 5), ("b", 1)])),
            f(&[("a", 2)])
        );
        // The county's live figures include a child's late record; the child's approved
        // snapshot stands instead.
        let county = f(&[("a", 10)]);
        let child_live = f(&[("a", 7)]);
        let child_approved = f(&[("a", 6)]);
        assert_eq!(
            rolled_up(&county, &[(child_live, Some(child_approved))]),
            f(&[("a", 9)])
        );
        assert_eq!(rate_permille(2, 3), 666);
    }
}
