//! 急难愁盼: community issues raised for a person, a household or a whole community, kept as a
//! colour-coded ledger (池州 滨江社区 "四色记账本"): red for urgent matters (water and power
//! faults, safety), yellow for key matters (renovation, disputes), blue for routine ones (policy
//! questions), each with a due time by a policy configurable per region; green is how a matter
//! shows once it is answered with feedback. The flow 登记 → 核实 → 分派 → 办理 → 反馈 → 评价 →
//! 归档 follows 收集-分类-办理-反馈-归档 and the "四单制" (群众点单、社区接单、联动解单、居民评单):
//! an unsatisfied rating sends the matter back to be handled again.

use crate::calendar::{end_of_day, local_day};

use crate::FieldError;

codes!(
    /// How urgent a matter is: red (respond within 24 h by default), yellow (3–5 working days),
    /// blue (routine, answered at once).
    Colour, "colour", "issue.colour_unknown" {
        Red = "red",
        Yellow = "yellow",
        Blue = "blue",
    }
);

codes!(
    /// Whom the matter is about.
    Subject, "subject", "issue.subject_unknown" {
        Person = "person",
        Household = "household",
        Community = "community",
    }
);

codes!(
    /// Where the matter came from.
    Source, "origin", "issue.source_unknown" {
        Visit = "visit",
        Assessment = "assessment",
        Ticket = "ticket",
        ResidentMeeting = "resident_meeting",
        Survey = "survey",
        Other = "other",
    }
);

codes!(
    /// What kind of matter it is.
    Category, "category", "issue.category_unknown" {
        Utilities = "utilities",
        Safety = "safety",
        Housing = "housing",
        Dispute = "dispute",
        Environment = "environment",
        Elderly = "elderly",
        Children = "children",
        Disability = "disability",
        Assistance = "assistance",
        Policy = "policy",
        Other = "other",
    }
);

codes!(
    /// Who handles it ("街乡吹哨、部门报到"): the community itself, a department it is transferred
    /// to, the social work station, or a purchased project.
    Responsibility, "responsibility", "issue.responsibility_unknown" {
        Community = "community",
        Department = "department",
        Station = "station",
        Project = "project",
    }
);

codes!(
    /// 登记 → 核实 (or 不予受理, with a reason) → 分派 → 办理 → 反馈 → 评价 → 归档.
    IssueState, "state", "issue.state_unknown" {
        Registered = "registered",
        Verified = "verified",
        Dismissed = "dismissed",
        Assigned = "assigned",
        Handling = "handling",
        Answered = "answered",
        Rated = "rated",
        Archived = "archived",
    }
);

codes!(
    /// The resident's rating of the answer.
    Rating, "rating", "issue.rating_unknown" {
        Satisfied = "satisfied",
        Fair = "fair",
        Unsatisfied = "unsatisfied",
    }
);

impl IssueState {
    /// Open: still to be answered (counts towards overdue).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            IssueState::Registered
                | IssueState::Verified
                | IssueState::Assigned
                | IssueState::Handling
        )
    }
}

/// The colour a matter shows: green once answered with feedback, else its urgency.
pub fn shown_colour(colour: Colour, state: IssueState) -> &'static str {
    if matches!(
        state,
        IssueState::Answered | IssueState::Rated | IssueState::Archived
    ) {
        "green"
    } else {
        colour.as_str()
    }
}

/// How long a colour has: minutes or hours on the clock, or working days (Monday to Friday)
/// counted from the next day and ending at that day's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Allowance {
    Minutes(u32),
    Hours(u32),
    WorkingDays(u32),
}

/// The due-time policy of a region: one allowance per colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DuePolicy {
    pub red: Allowance,
    pub yellow: Allowance,
    pub blue: Allowance,
}

impl Default for DuePolicy {
    /// 池州 滨江社区: red within 24 h, yellow within 3–5 working days (5 here), blue at once
    /// (within the working day: 8 h).
    fn default() -> Self {
        DuePolicy {
            red: Allowance::Hours(24),
            yellow: Allowance::WorkingDays(5),
            blue: Allowance::Hours(8),
        }
    }
}

const HOUR: i64 = 3_600_000;

impl DuePolicy {
    pub fn allowance(&self, colour: Colour) -> Allowance {
        match colour {
            Colour::Red => self.red,
            Colour::Yellow => self.yellow,
            Colour::Blue => self.blue,
        }
    }

    /// The due time (UTC millis) of a matter of `colour` raised at `raised` (UTC millis).
    pub fn due(&self, colour: Colour, raised: i64) -> i64 {
        match self.allowance(colour) {
            Allowance::Minutes(m) => raised.saturating_add(i64::from(m) * 60_000),
            Allowance::Hours(h) => raised.saturating_add(i64::from(h) * HOUR),
            Allowance::WorkingDays(n) => {
                // The end of the last working day in China Standard Time.
                end_of_day(add_working_days(local_day(raised), n))
            }
        }
    }

    /// Every allowance at least a minute, an hour or a day, and at most a year's worth.
    pub fn validate(&self) -> Result<(), FieldError> {
        for a in [self.red, self.yellow, self.blue] {
            let ok = match a {
                Allowance::Minutes(m) => (1..=60 * 24 * 365).contains(&m),
                Allowance::Hours(h) => (1..=24 * 365).contains(&h),
                Allowance::WorkingDays(d) => (1..=260).contains(&d),
            };
            if !ok {
                return Err(FieldError::new("due_policy", "issue.policy_invalid"));
            }
        }
        Ok(())
    }
}

pub use crate::calendar::add_working_days;

/// A step asked of a matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Verify,
    Dismiss,
    Assign,
    Handle,
    Answer,
    Rate(Rating),
    Archive,
}

/// The state a step leads to from `from`, or the refusal naming the step. Dismissing, assigning
/// and answering need a note (the reason, who handles it, the answer given); an unsatisfied
/// rating sends the matter back to be handled again.
pub fn check_step(from: IssueState, step: Step, note: &str) -> Result<IssueState, FieldError> {
    use IssueState::*;
    let to = match (from, step) {
        (Registered, Step::Verify) => Verified,
        (Registered, Step::Dismiss) => Dismissed,
        (Verified, Step::Assign) => Assigned,
        (Assigned, Step::Handle) => Handling,
        (Handling, Step::Answer) => Answered,
        (Answered, Step::Rate(Rating::Unsatisfied)) => Handling,
        (Answered, Step::Rate(_)) => Rated,
        (Rated | Dismissed, Step::Archive) => Archived,
        _ => return Err(FieldError::new("step", "issue.step_not_allowed")),
    };
    let needs_note = matches!(step, Step::Dismiss | Step::Answer);
    if needs_note && note.trim().is_empty() {
        return Err(FieldError::new("note", "issue.note_required"));
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::CST_OFFSET as CST;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|x| x.and_hms_opt(h, 0, 0))
            .map(|t| t.and_utc().timestamp_millis() - CST)
            .unwrap()
    }

    #[test]
    fn due_times_follow_the_colour_policy_in_china_time() {
        let p = DuePolicy::default();
        // Friday 2026-12-04 10:00 CST.
        let raised = at(2026, 12, 4, 10);
        assert_eq!(p.due(Colour::Red, raised), at(2026, 12, 5, 10));
        assert_eq!(p.due(Colour::Blue, raised), at(2026, 12, 4, 18));
        // Five working days from Friday: Mon–Fri of the next week, to the end of Friday 12-11.
        assert_eq!(p.due(Colour::Yellow, raised), at(2026, 12, 12, 0));
        // Raised late on Friday evening CST (still Friday there, already Friday in UTC too).
        assert_eq!(
            p.due(Colour::Yellow, at(2026, 12, 4, 23)),
            at(2026, 12, 12, 0)
        );
        assert_eq!(
            add_working_days(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(), 1),
            NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
        );
    }

    #[test]
    fn the_flow_refuses_skipped_steps_and_unsatisfied_goes_back() {
        use IssueState::*;
        assert_eq!(check_step(Registered, Step::Verify, ""), Ok(Verified));
        assert_eq!(
            check_step(Registered, Step::Assign, "社区").map_err(|e| e.code),
            Err("issue.step_not_allowed")
        );
        assert_eq!(
            check_step(Registered, Step::Dismiss, " ").map_err(|e| e.field),
            Err("note")
        );
        assert_eq!(
            check_step(Handling, Step::Answer, "已联系自来水公司修复"),
            Ok(Answered)
        );
        assert_eq!(
            check_step(Answered, Step::Rate(Rating::Unsatisfied), ""),
            Ok(Handling)
        );
        assert_eq!(
            check_step(Answered, Step::Rate(Rating::Satisfied), ""),
            Ok(Rated)
        );
        assert_eq!(
            check_step(Archived, Step::Archive, "").map_err(|e| e.code),
            Err("issue.step_not_allowed")
        );
        assert_eq!(shown_colour(Colour::Red, Answered), "green");
        assert_eq!(shown_colour(Colour::Red, Handling), "red");
        assert!(
            DuePolicy {
                red: Allowance::Hours(0),
                ..DuePolicy::default()
            }
            .validate()
            .is_err()
        );
    }
}
