//! Payment plans (付款进度安排) as data: any split of the contract amount, each instalment due
//! on a date or after an assessment, and the purchaser's rule for what a result pays.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::evaluation::{EvaluationKind, FinalScore, Grade};
use super::{HUNDRED_PERCENT, format_percent, parse_percent, share_of, split_exact};
use crate::FieldError;
use crate::money::Fen;

codes!(
    /// 未到期 → 待考核 → 考核完成 → 已申请 → 已支付.
    InstalmentState, "state", "instalment.state_unknown" {
        Due = "due",
        AwaitingAssessment = "awaiting_assessment",
        Assessed = "assessed",
        Requested = "requested",
        Paid = "paid",
    }
);

// `Due → Requested` is for instalments paid on a date without an assessment; see
// [`InstalmentState::go_for`].
transitions!(
    InstalmentState,
    "instalment.transition_invalid",
    |s| match s {
        InstalmentState::Due => &[
            InstalmentState::AwaitingAssessment,
            InstalmentState::Requested
        ],
        InstalmentState::AwaitingAssessment => &[InstalmentState::Assessed],
        InstalmentState::Assessed => &[InstalmentState::Requested],
        InstalmentState::Requested => &[InstalmentState::Paid],
        InstalmentState::Paid => &[],
    }
);

impl InstalmentState {
    /// [`InstalmentState::go`] that also keeps to the trigger: an instalment tied to an
    /// assessment is never requested unassessed, one paid on a date is never assessed.
    pub fn go_for(
        self,
        to: InstalmentState,
        trigger: Trigger,
    ) -> Result<InstalmentState, FieldError> {
        let needs_assessment = trigger.needs_assessment();
        let skips_assessment = self == InstalmentState::Due && to == InstalmentState::Requested;
        let enters_assessment = to == InstalmentState::AwaitingAssessment;
        if (needs_assessment && skips_assessment) || (!needs_assessment && enters_assessment) {
            return Err(FieldError::new("state", "instalment.transition_invalid"));
        }
        self.go(to)
    }
}

codes!(
    /// 通过 / 扣减 / 不通过.
    AssessmentOutcome, "outcome", "instalment.outcome_unknown" {
        Pass = "pass",
        Reduced = "reduced",
        Fail = "fail",
    }
);

/// What makes an instalment payable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum Trigger {
    /// Paid on a date, no assessment ("首期 on signing").
    Date { on: NaiveDate },
    /// The purchaser assesses on a date and pays by the result (雨花区: months 1, 3, 6, 9, 12).
    AssessedOn { on: NaiveDate },
    /// Paid by the result of an evaluation of this kind (中期评估合格后).
    Evaluation {
        #[serde(deserialize_with = "super::code")]
        kind: EvaluationKind,
    },
}

impl Trigger {
    pub fn needs_assessment(self) -> bool {
        !matches!(self, Trigger::Date { .. })
    }
}

/// An instalment's part of the contract amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Portion {
    /// Basis points of the contract amount.
    Share(i64),
    Amount(Fen),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedInstalment {
    pub portion: Portion,
    pub trigger: Trigger,
}

/// A checked plan for one contract amount: its instalments' amounts add up to the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentPlan {
    total: Fen,
    instalments: Vec<PlannedInstalment>,
    amounts: Vec<Fen>,
}

impl PaymentPlan {
    /// Either all shares, adding up to 100 % (40/40/20, 5 × 20 %), or all amounts adding up to
    /// `total`; refused on `plan` otherwise. Shares are turned into amounts by
    /// [`split_exact`]: the last instalment takes the fen lost to rounding.
    pub fn new(total: Fen, instalments: Vec<PlannedInstalment>) -> Result<PaymentPlan, FieldError> {
        let refuse = |code| Err(FieldError::new("plan", code));
        if total.0 < 0 {
            return refuse("purchase.amount_invalid");
        }
        if instalments.is_empty() {
            return refuse("purchase.plan_empty");
        }
        let shares: Option<Vec<i64>> = instalments
            .iter()
            .map(|i| match i.portion {
                Portion::Share(bp) => Some(bp),
                Portion::Amount(_) => None,
            })
            .collect();
        let fixed: Option<Vec<Fen>> = instalments
            .iter()
            .map(|i| match i.portion {
                Portion::Amount(fen) => Some(fen),
                Portion::Share(_) => None,
            })
            .collect();
        let amounts = match (shares, fixed) {
            (Some(shares), _) => split_exact("plan", total, &shares)?,
            (None, Some(fixed)) => {
                if fixed.iter().any(|f| f.0 < 0) {
                    return refuse("purchase.amount_invalid");
                }
                if fixed.iter().try_fold(0i64, |s, f| s.checked_add(f.0)) != Some(total.0) {
                    return refuse("purchase.plan_amounts_not_total");
                }
                fixed
            }
            (None, None) => return refuse("purchase.plan_mixed"),
        };
        Ok(PaymentPlan {
            total,
            instalments,
            amounts,
        })
    }

    pub fn total(&self) -> Fen {
        self.total
    }

    pub fn instalments(&self) -> &[PlannedInstalment] {
        &self.instalments
    }

    /// Each instalment's amount before any reduction, in plan order.
    pub fn amounts(&self) -> &[Fen] {
        &self.amounts
    }
}

/// A score band of a [`ReductionRule`]: from `min_bp` of the maximum, pay `payable_bp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScoreBand {
    pub min_bp: i64,
    pub payable_bp: i64,
}

/// What share of an instalment a result pays, as the purchaser sets it. Written as text:
/// by grade "excellent=100; good=100; pass=90; fail=0" (or 优秀/良好/合格/不合格 as keys), or by
/// score "90=100; 60=80; 0=0" (from 90 % of the maximum pay 100 %, from 60 % pay 80 %, below
/// pay nothing).
///
/// Stored as its text and read back through [`ReductionRule::parse`], so it is always checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReductionRule {
    /// Payable basis points for 优秀, 良好, 合格, 不合格.
    ByGrade([i64; 4]),
    /// Bands, highest `min_bp` first, the last from 0.
    ByScore(Vec<ScoreBand>),
}

/// The outcome of an assessment and what it pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub outcome: AssessmentOutcome,
    pub payable: Fen,
}

const GRADES: [Grade; 4] = [Grade::Excellent, Grade::Good, Grade::Pass, Grade::Fail];

fn grade_key(key: &str) -> Option<Grade> {
    match key {
        "优秀" => Some(Grade::Excellent),
        "良好" => Some(Grade::Good),
        "合格" => Some(Grade::Pass),
        "不合格" => Some(Grade::Fail),
        other => Grade::parse(other).ok(),
    }
}

impl ReductionRule {
    /// Reads the text form (see the type). Refused on `reduction_rule`: a malformed or mixed
    /// rule, percentages outside 0–100 % or with more than two decimals, a grade missing or
    /// named twice, bands without one from 0 or with a threshold twice, and a better result
    /// paying less than a worse one.
    pub fn parse(text: &str) -> Result<ReductionRule, FieldError> {
        const FIELD: &str = "reduction_rule";
        let refuse = |code| FieldError::new(FIELD, code);
        let mut graded: Vec<(Grade, i64)> = Vec::new();
        let mut bands: Vec<ScoreBand> = Vec::new();
        for entry in text
            .split([';', '；', ',', '，', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (key, value) = entry
                .split_once(['=', ':', '：'])
                .ok_or(refuse("purchase.reduction_rule_invalid"))?;
            let (key, payable_bp) = (key.trim(), parse_percent(FIELD, value)?);
            if let Some(grade) = grade_key(key) {
                graded.push((grade, payable_bp));
            } else {
                let key = key.trim_start_matches(['≥', '>', '=']).trim();
                let min_bp = parse_percent(FIELD, key)
                    .map_err(|_| refuse("purchase.reduction_rule_invalid"))?;
                bands.push(ScoreBand { min_bp, payable_bp });
            }
        }
        let rule = match (graded.is_empty(), bands.is_empty()) {
            (false, true) => ReductionRule::by_grade(&graded)?,
            (true, false) => ReductionRule::by_score(bands)?,
            _ => return Err(refuse("purchase.reduction_rule_invalid")),
        };
        Ok(rule)
    }

    fn by_grade(entries: &[(Grade, i64)]) -> Result<ReductionRule, FieldError> {
        let mut payable = [0i64; 4];
        for (slot, grade) in payable.iter_mut().zip(GRADES) {
            let mut named = entries.iter().filter(|(g, _)| *g == grade);
            *slot = named
                .next()
                .ok_or(FieldError::new(
                    "reduction_rule",
                    "purchase.reduction_grade_missing",
                ))?
                .1;
            if named.next().is_some() {
                return Err(FieldError::new(
                    "reduction_rule",
                    "purchase.reduction_grade_repeated",
                ));
            }
        }
        if payable
            .windows(2)
            .any(|w| matches!(w, [better, worse] if better < worse))
        {
            return Err(FieldError::new(
                "reduction_rule",
                "purchase.reduction_not_monotonic",
            ));
        }
        Ok(ReductionRule::ByGrade(payable))
    }

    fn by_score(mut bands: Vec<ScoreBand>) -> Result<ReductionRule, FieldError> {
        let refuse = |code| Err(FieldError::new("reduction_rule", code));
        bands.sort_by_key(|b| std::cmp::Reverse(b.min_bp));
        if bands
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.min_bp == b.min_bp))
        {
            return refuse("purchase.reduction_bands_repeated");
        }
        if bands.last().is_none_or(|lowest| lowest.min_bp != 0) {
            return refuse("purchase.reduction_bands_no_floor");
        }
        if bands
            .windows(2)
            .any(|w| matches!(w, [higher, lower] if higher.payable_bp < lower.payable_bp))
        {
            return refuse("purchase.reduction_not_monotonic");
        }
        Ok(ReductionRule::ByScore(bands))
    }

    /// The payable share for a result, in basis points. Score bands compare exactly (a total
    /// of 89.99 of 100 is below a 90 % band).
    pub fn payable_bp(&self, score: &FinalScore) -> i64 {
        match self {
            ReductionRule::ByGrade(payable) => GRADES
                .iter()
                .zip(payable)
                .find(|(g, _)| **g == score.grade)
                .map_or(0, |(_, bp)| *bp),
            ReductionRule::ByScore(bands) => bands
                .iter()
                .find(|band| {
                    i128::from(score.total.0) * i128::from(HUNDRED_PERCENT)
                        >= i128::from(band.min_bp) * i128::from(score.max.0)
                })
                .map_or(0, |band| band.payable_bp),
        }
    }

    /// What an instalment of `amount` pays for `score`, rounded down to the fen (a reduction
    /// never pays a fen more than the rule allows), and whether that is a pass, a reduction
    /// or a fail.
    pub fn assess(&self, amount: Fen, score: &FinalScore) -> Assessment {
        let payable = share_of(amount, self.payable_bp(score));
        let outcome = if payable == amount {
            AssessmentOutcome::Pass
        } else if payable.0 == 0 {
            AssessmentOutcome::Fail
        } else {
            AssessmentOutcome::Reduced
        };
        Assessment { outcome, payable }
    }
}

/// The text form [`ReductionRule::parse`] reads back.
impl fmt::Display for ReductionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = match self {
            ReductionRule::ByGrade(payable) => GRADES
                .iter()
                .zip(payable)
                .map(|(g, bp)| format!("{g}={}", format_percent(*bp)))
                .collect(),
            ReductionRule::ByScore(bands) => bands
                .iter()
                .map(|b| {
                    format!(
                        "{}={}",
                        format_percent(b.min_bp),
                        format_percent(b.payable_bp)
                    )
                })
                .collect(),
        };
        f.write_str(&entries.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchase::evaluation::{GradeThresholds, Points};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn share(bp: i64, trigger: Trigger) -> PlannedInstalment {
        PlannedInstalment {
            portion: Portion::Share(bp),
            trigger,
        }
    }

    fn score(total: i64, max: i64) -> FinalScore {
        let (total, max) = (Points::whole(total), Points::whole(max));
        FinalScore {
            total,
            max,
            grade: GradeThresholds::default().grade(total, max),
        }
    }

    #[test]
    fn plans_split_any_way_and_keep_every_fen() {
        let on = Trigger::Date {
            on: d("2025-07-01"),
        };
        let mid = Trigger::Evaluation {
            kind: EvaluationKind::MidTerm,
        };
        let end = Trigger::Evaluation {
            kind: EvaluationKind::Final,
        };
        let plan = PaymentPlan::new(
            Fen(100_001),
            vec![share(4000, on), share(4000, mid), share(2000, end)],
        )
        .unwrap();
        assert_eq!(plan.amounts(), &[Fen(40_000), Fen(40_000), Fen(20_001)]);
        let fifths = vec![share(2000, on); 5];
        let plan = PaymentPlan::new(Fen(73_335_503), fifths).unwrap();
        assert_eq!(plan.amounts().iter().map(|a| a.0).sum::<i64>(), 73_335_503);
        let fixed = |yuan: i64| PlannedInstalment {
            portion: Portion::Amount(Fen(yuan * 100)),
            trigger: on,
        };
        assert!(PaymentPlan::new(Fen(1_000_000), vec![fixed(6000), fixed(4000)]).is_ok());
        let refused = |total, plan| PaymentPlan::new(Fen(total), plan).unwrap_err();
        assert_eq!(
            refused(100, vec![share(4000, on), share(4000, mid)]),
            FieldError::new("plan", "purchase.shares_not_100")
        );
        assert_eq!(refused(100, vec![]).code, "purchase.plan_empty");
        assert_eq!(
            refused(100, vec![share(5000, on), fixed(1)]).code,
            "purchase.plan_mixed"
        );
        assert_eq!(
            refused(1_000_000, vec![fixed(6000), fixed(3000)]).code,
            "purchase.plan_amounts_not_total"
        );
        assert_eq!(
            refused(-1, vec![share(10_000, on)]).code,
            "purchase.amount_invalid"
        );
    }

    #[test]
    fn instalments_keep_to_their_trigger() {
        use InstalmentState::*;
        let by_date = Trigger::Date {
            on: d("2025-07-01"),
        };
        let by_result = Trigger::AssessedOn {
            on: d("2025-10-01"),
        };
        let refused = FieldError::new("state", "instalment.transition_invalid");
        assert_eq!(Due.go_for(Requested, by_date), Ok(Requested));
        assert_eq!(
            Due.go_for(AwaitingAssessment, by_date),
            Err(refused.clone())
        );
        assert_eq!(Due.go_for(Requested, by_result), Err(refused.clone()));
        let walk = [Due, AwaitingAssessment, Assessed, Requested, Paid];
        for pair in walk.windows(2) {
            assert_eq!(pair[0].go_for(pair[1], by_result), Ok(pair[1]));
        }
        assert_eq!(Requested.go_for(Paid, by_date), Ok(Paid));
        assert_eq!(Paid.go_for(Due, by_date), Err(refused.clone()));
        assert_eq!(Assessed.go(Paid), Err(refused));
    }

    #[test]
    fn grade_rules_reduce_as_set() {
        let rule = ReductionRule::parse("优秀=100；良好=100；合格=90；不合格=0").unwrap();
        assert_eq!(rule, ReductionRule::ByGrade([10_000, 10_000, 9000, 0]));
        let amount = Fen(1_000_001);
        assert_eq!(
            rule.assess(amount, &score(85, 100)),
            Assessment {
                outcome: AssessmentOutcome::Pass,
                payable: amount
            }
        );
        assert_eq!(
            rule.assess(amount, &score(70, 100)),
            Assessment {
                outcome: AssessmentOutcome::Reduced,
                payable: Fen(900_000)
            }
        );
        assert_eq!(
            rule.assess(amount, &score(59, 100)),
            Assessment {
                outcome: AssessmentOutcome::Fail,
                payable: Fen::ZERO
            }
        );
        assert_eq!(rule.to_string(), "excellent=100; good=100; pass=90; fail=0");
        assert_eq!(ReductionRule::parse(&rule.to_string()), Ok(rule));
    }

    #[test]
    fn score_bands_compare_exactly() {
        let rule = ReductionRule::parse("60=80, ≥90=100, 0=0").unwrap();
        assert_eq!(rule.to_string(), "90=100; 60=80; 0=0");
        assert_eq!(rule.payable_bp(&score(900, 1000)), 10_000);
        let just_below = FinalScore {
            total: Points(89_999),
            max: Points::whole(1000),
            grade: Grade::Good,
        };
        assert_eq!(rule.payable_bp(&just_below), 8000);
        assert_eq!(rule.payable_bp(&score(599, 1000)), 0);
        assert_eq!(rule.assess(Fen(333), &score(60, 100)).payable, Fen(266));
        assert_eq!(ReductionRule::parse(&rule.to_string()), Ok(rule));
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        for (text, code) in [
            ("", "purchase.reduction_rule_invalid"),
            ("excellent 100", "purchase.reduction_rule_invalid"),
            (
                "excellent=100; 60=80; 0=0",
                "purchase.reduction_rule_invalid",
            ),
            ("much=100", "purchase.reduction_rule_invalid"),
            (
                "excellent=100; good=100; pass=90",
                "purchase.reduction_grade_missing",
            ),
            (
                "excellent=100; good=100; pass=90; fail=0; 合格=80",
                "purchase.reduction_grade_repeated",
            ),
            (
                "excellent=100; good=100; pass=120; fail=0",
                "purchase.percent_out_of_range",
            ),
            (
                "excellent=100; good=100; pass=九十; fail=0",
                "purchase.percent_invalid",
            ),
            (
                "excellent=90; good=100; pass=80; fail=0",
                "purchase.reduction_not_monotonic",
            ),
            ("90=100; 60=80", "purchase.reduction_bands_no_floor"),
            ("90=100; 90=80; 0=0", "purchase.reduction_bands_repeated"),
            ("90=80; 60=100; 0=0", "purchase.reduction_not_monotonic"),
        ] {
            assert_eq!(
                ReductionRule::parse(text),
                Err(FieldError::new("reduction_rule", code)),
                "{text}"
            );
        }
    }

    #[test]
    fn the_trigger_says_whether_to_assess() {
        assert!(
            !Trigger::Date {
                on: d("2025-01-01")
            }
            .needs_assessment()
        );
        assert!(
            Trigger::AssessedOn {
                on: d("2025-01-01")
            }
            .needs_assessment()
        );
        assert!(
            Trigger::Evaluation {
                kind: EvaluationKind::Final
            }
            .needs_assessment()
        );
    }
}
