//! Evaluations of a contract (评估): kinds, the workflow from plan to publication, who scores,
//! rectification tasks, points, grades, and the conflict-of-interest rule (回避).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::HUNDRED_PERCENT;
use crate::FieldError;

codes!(
    /// 抽查 (Shenzhen samples ≥ 30 % of long projects a year), 中期, 末期, 季度考核.
    EvaluationKind, "kind", "evaluation.kind_unknown" {
        SpotCheck = "spot_check",
        MidTerm = "mid_term",
        Final = "final",
        Quarterly = "quarterly",
    }
);

codes!(
    /// 计划 → 机构自评 → 材料审查 → 实地评估 → 初评 → 反馈/申诉 → 整改 → 复核 → 终评 → 公示.
    EvaluationState, "state", "evaluation.state_unknown" {
        Plan = "plan",
        SelfAssessment = "self_assessment",
        DocumentReview = "document_review",
        SiteVisit = "site_visit",
        Preliminary = "preliminary",
        Feedback = "feedback",
        Rectification = "rectification",
        Review = "review",
        Final = "final",
        Published = "published",
    }
);

// Shortcuts that practice takes: a desk review without a site visit (phone follow-up instead),
// feedback with nothing to rectify, an upheld appeal re-opening the preliminary score, and a
// review that finds the rectification not done.
transitions!(
    EvaluationState,
    "evaluation.transition_invalid",
    |s| match s {
        EvaluationState::Plan => &[EvaluationState::SelfAssessment],
        EvaluationState::SelfAssessment => &[EvaluationState::DocumentReview],
        EvaluationState::DocumentReview =>
            &[EvaluationState::SiteVisit, EvaluationState::Preliminary],
        EvaluationState::SiteVisit => &[EvaluationState::Preliminary],
        EvaluationState::Preliminary => &[EvaluationState::Feedback],
        EvaluationState::Feedback => &[
            EvaluationState::Rectification,
            EvaluationState::Final,
            EvaluationState::Preliminary,
        ],
        EvaluationState::Rectification => &[EvaluationState::Review],
        EvaluationState::Review => &[EvaluationState::Final, EvaluationState::Rectification],
        EvaluationState::Final => &[EvaluationState::Published],
        EvaluationState::Published => &[],
    }
);

codes!(
    /// Who scores an indicator (Nansha: the third party does professional and financial work,
    /// the township rates daily management, the bureau rates self-correction, village
    /// committees rate service in their village).
    EvaluatorRole, "role", "evaluation.role_unknown" {
        ThirdParty = "third_party",
        Purchaser = "purchaser",
        SupervisingBureau = "supervising_bureau",
        VillageCommittee = "village_committee",
    }
);

codes!(
    /// A rectification task (整改): the agency submits evidence, the evaluator accepts it or
    /// sends it back.
    RectificationState, "state", "rectification.state_unknown" {
        Open = "open",
        Submitted = "submitted",
        Accepted = "accepted",
        Rejected = "rejected",
    }
);

transitions!(
    RectificationState,
    "rectification.transition_invalid",
    |s| match s {
        RectificationState::Open => &[RectificationState::Submitted],
        RectificationState::Submitted =>
            &[RectificationState::Accepted, RectificationState::Rejected],
        RectificationState::Rejected => &[RectificationState::Submitted],
        RectificationState::Accepted => &[],
    }
);

impl RectificationState {
    /// Still waiting on the agency after the deadline day.
    pub fn is_overdue(self, deadline: NaiveDate, today: NaiveDate) -> bool {
        matches!(
            self,
            RectificationState::Open | RectificationState::Rejected
        ) && today > deadline
    }
}

/// Points in hundredths (0.5 points is 50), so item scores such as 0.5 + 0.5 + 1 add up
/// exactly.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Points(pub i64);

impl Points {
    pub const ZERO: Points = Points(0);

    pub const fn whole(points: i64) -> Points {
        Points(points * 100)
    }

    /// Points as typed: "12", "12.5", "0.25"; not negative, at most two decimals.
    pub fn parse(field: &'static str, text: &str) -> Result<Points, FieldError> {
        let invalid = FieldError::new(field, "evaluation.points_invalid");
        let text = text.trim().trim_end_matches('分').trim_end();
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 9 || frac.len() > 2 || !digits(whole) || !digits(frac)
        {
            return Err(invalid);
        }
        let whole: i64 = whole.parse().map_err(|_| invalid.clone())?;
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| invalid)?;
        Ok(Points(whole * 100 + frac))
    }
}

/// "12.5", "700", "0.25".
impl std::fmt::Display for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let hundredths = self.0.unsigned_abs();
        let (whole, frac) = (hundredths / 100, hundredths % 100);
        match frac {
            0 => write!(f, "{sign}{whole}"),
            f10 if f10 % 10 == 0 => write!(f, "{sign}{whole}.{}", f10 / 10),
            _ => write!(f, "{sign}{whole}.{frac:02}"),
        }
    }
}

codes!(
    /// 优秀 / 良好 / 合格 / 不合格.
    Grade, "grade", "evaluation.grade_unknown" {
        Excellent = "excellent",
        Good = "good",
        Pass = "pass",
        Fail = "fail",
    }
);

/// The lowest share of the maximum each grade needs, in basis points. Shenzhen and Guangzhou
/// use 90 / 80 / 60; a region may set its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GradeThresholds {
    excellent_bp: i64,
    good_bp: i64,
    pass_bp: i64,
}

impl Default for GradeThresholds {
    fn default() -> Self {
        GradeThresholds {
            excellent_bp: 9000,
            good_bp: 8000,
            pass_bp: 6000,
        }
    }
}

impl GradeThresholds {
    /// Strictly descending, within (0, 100 %]; refused on `grades` otherwise.
    pub fn new(excellent_bp: i64, good_bp: i64, pass_bp: i64) -> Result<Self, FieldError> {
        if !(0 < pass_bp
            && pass_bp < good_bp
            && good_bp < excellent_bp
            && excellent_bp <= HUNDRED_PERCENT)
        {
            return Err(FieldError::new(
                "grades",
                "evaluation.grade_thresholds_not_descending",
            ));
        }
        Ok(GradeThresholds {
            excellent_bp,
            good_bp,
            pass_bp,
        })
    }

    /// The grade of `total` out of `max`, compared exactly (89.99 of 100 is 良好, never
    /// rounded up to 优秀). No maximum is 不合格.
    pub fn grade(self, total: Points, max: Points) -> Grade {
        let reaches = |bp: i64| {
            i128::from(total.0) * i128::from(HUNDRED_PERCENT) >= i128::from(bp) * i128::from(max.0)
        };
        if max.0 <= 0 {
            Grade::Fail
        } else if reaches(self.excellent_bp) {
            Grade::Excellent
        } else if reaches(self.good_bp) {
            Grade::Good
        } else if reaches(self.pass_bp) {
            Grade::Pass
        } else {
            Grade::Fail
        }
    }
}

/// An evaluation's result, as payment and reports use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FinalScore {
    pub total: Points,
    pub max: Points,
    pub grade: Grade,
}

/// Whether an evaluator organisation must stand aside (回避): it is the provider, or it is
/// linked to the provider (a link counts in either direction; links of links do not).
pub fn conflict_of_interest(
    evaluator_org: Uuid,
    provider_org: Uuid,
    links: &[(Uuid, Uuid)],
) -> bool {
    evaluator_org == provider_org
        || links.iter().any(|&(a, b)| {
            (a == evaluator_org && b == provider_org) || (a == provider_org && b == evaluator_org)
        })
}

/// [`conflict_of_interest`] as a refusal on `evaluator_org`.
pub fn check_no_conflict(
    evaluator_org: Uuid,
    provider_org: Uuid,
    links: &[(Uuid, Uuid)],
) -> Result<(), FieldError> {
    if conflict_of_interest(evaluator_org, provider_org, links) {
        return Err(FieldError::new(
            "evaluator_org",
            "evaluation.conflict_of_interest",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn evaluations_run_plan_to_publication() {
        use EvaluationState::*;
        let full = [
            Plan,
            SelfAssessment,
            DocumentReview,
            SiteVisit,
            Preliminary,
            Feedback,
            Rectification,
            Review,
            Rectification,
            Review,
            Final,
            Published,
        ];
        for pair in full.windows(2) {
            assert!(pair[0].can_go(pair[1]), "{} → {}", pair[0], pair[1]);
        }
        assert_eq!(DocumentReview.go(Preliminary), Ok(Preliminary));
        assert_eq!(Feedback.go(Final), Ok(Final));
        let refused = FieldError::new("state", "evaluation.transition_invalid");
        for (from, to) in [
            (Plan, Final),
            (Preliminary, Published),
            (Published, Plan),
            (Final, Review),
        ] {
            assert_eq!(from.go(to), Err(refused.clone()), "{from} → {to}");
        }
    }

    #[test]
    fn rectifications_go_back_and_forth_until_accepted() {
        use RectificationState::*;
        assert_eq!(Open.go(Submitted), Ok(Submitted));
        assert_eq!(Submitted.go(Rejected), Ok(Rejected));
        assert_eq!(Rejected.go(Submitted), Ok(Submitted));
        assert_eq!(Submitted.go(Accepted), Ok(Accepted));
        assert_eq!(
            Accepted.go(Open),
            Err(FieldError::new("state", "rectification.transition_invalid"))
        );
        assert!(!Open.can_go(Accepted));
        assert!(Open.is_overdue(d("2025-03-31"), d("2025-04-01")));
        assert!(!Open.is_overdue(d("2025-03-31"), d("2025-03-31")));
        assert!(Rejected.is_overdue(d("2025-03-31"), d("2025-05-01")));
        assert!(!Submitted.is_overdue(d("2025-03-31"), d("2025-05-01")));
    }

    #[test]
    fn points_are_exact_hundredths() {
        assert_eq!(Points::parse("p", "12.5"), Ok(Points(1250)));
        assert_eq!(Points::parse("p", "0.25"), Ok(Points(25)));
        assert_eq!(Points::parse("p", " 700分"), Ok(Points::whole(700)));
        for bad in ["", "-1", "1.234", "十", "1e3", "1,5", "9999999999"] {
            assert_eq!(
                Points::parse("p", bad),
                Err(FieldError::new("p", "evaluation.points_invalid")),
                "{bad}"
            );
        }
        for (points, shown) in [(1250, "12.5"), (25, "0.25"), (70_000, "700"), (-50, "-0.5")] {
            assert_eq!(Points(points).to_string(), shown);
        }
    }

    #[test]
    fn grades_compare_exactly() {
        let g = GradeThresholds::default();
        let of_100 = |hundredths| g.grade(Points(hundredths), Points::whole(100));
        assert_eq!(of_100(9000), Grade::Excellent);
        assert_eq!(of_100(8999), Grade::Good);
        assert_eq!(of_100(8000), Grade::Good);
        assert_eq!(of_100(7999), Grade::Pass);
        assert_eq!(of_100(6000), Grade::Pass);
        assert_eq!(of_100(5999), Grade::Fail);
        assert_eq!(
            g.grade(Points::whole(900), Points::whole(1000)),
            Grade::Excellent
        );
        assert_eq!(
            g.grade(Points::whole(765), Points::whole(1000)),
            Grade::Pass
        );
        assert_eq!(g.grade(Points::ZERO, Points::ZERO), Grade::Fail);
        let strict = GradeThresholds::new(9500, 8500, 7000).unwrap();
        assert_eq!(
            strict.grade(Points::whole(90), Points::whole(100)),
            Grade::Good
        );
        let refused = FieldError::new("grades", "evaluation.grade_thresholds_not_descending");
        for (e, good, pass) in [
            (8000, 9000, 6000),
            (9000, 9000, 6000),
            (10_001, 8000, 6000),
            (9000, 8000, 0),
        ] {
            assert_eq!(GradeThresholds::new(e, good, pass), Err(refused.clone()));
        }
    }

    #[test]
    fn linked_organisations_stand_aside() {
        let [evaluator, provider, partner, stranger] = [1u128, 2, 3, 4].map(Uuid::from_u128);
        let links = [(provider, evaluator), (partner, stranger)];
        assert!(conflict_of_interest(provider, provider, &[]));
        assert!(conflict_of_interest(evaluator, provider, &links));
        assert!(conflict_of_interest(provider, evaluator, &links));
        assert!(!conflict_of_interest(stranger, provider, &links));
        // Links of links do not count: partner–stranger says nothing about the provider.
        assert!(!conflict_of_interest(partner, provider, &links));
        assert_eq!(
            check_no_conflict(evaluator, provider, &links),
            Err(FieldError::new(
                "evaluator_org",
                "evaluation.conflict_of_interest"
            ))
        );
        assert_eq!(check_no_conflict(stranger, provider, &links), Ok(()));
    }
}
