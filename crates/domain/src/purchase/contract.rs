//! Contracts (政府采购合同): how they were procured, their term, their lines with the rule that
//! decides which service records count, budget lines, and the contract's life.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{HUNDRED_PERCENT, ratio_bp};
use crate::FieldError;
use crate::money::Fen;
use crate::people::ServiceKind;

codes!(
    /// 采购方式 under the Government Procurement Law and its rules.
    ProcurementMethod, "method", "purchase.method_unknown" {
        // 公开招标
        PublicTender = "public_tender",
        // 竞争性磋商
        CompetitiveConsultation = "competitive_consultation",
        // 竞争性谈判
        CompetitiveNegotiation = "competitive_negotiation",
        // 单一来源
        SingleSource = "single_source",
        // 询价
        Inquiry = "inquiry",
        Other = "other",
    }
);

codes!(
    /// 已签订 → 履行中 → (暂停 / 解除) → 待验收 → 已验收 → 结算完毕 → 归档.
    ContractState, "state", "purchase.contract_state_unknown" {
        Signed = "signed",
        InForce = "in_force",
        Suspended = "suspended",
        Terminated = "terminated",
        AwaitingAcceptance = "awaiting_acceptance",
        Accepted = "accepted",
        Settled = "settled",
        Archived = "archived",
    }
);

// A suspended contract resumes or ends; a terminated one is still accepted for what was
// delivered, so it can be settled; acceptance may send the work back to be completed.
transitions!(
    ContractState,
    "purchase.contract_transition_invalid",
    |s| match s {
        ContractState::Signed => &[ContractState::InForce, ContractState::Terminated],
        ContractState::InForce => &[
            ContractState::Suspended,
            ContractState::Terminated,
            ContractState::AwaitingAcceptance,
        ],
        ContractState::Suspended => &[ContractState::InForce, ContractState::Terminated],
        ContractState::Terminated => &[ContractState::AwaitingAcceptance],
        ContractState::AwaitingAcceptance => &[ContractState::Accepted, ContractState::InForce],
        ContractState::Accepted => &[ContractState::Settled],
        ContractState::Settled => &[ContractState::Archived],
        ContractState::Archived => &[],
    }
);

impl ContractState {
    /// Settled or archived: the books are closed, nothing more is spent or bought on it.
    pub fn is_settled(self) -> bool {
        matches!(self, ContractState::Settled | ContractState::Archived)
    }
}

codes!(
    /// Where a contract's budget goes: pay and allowances, activities, supervision and training,
    /// administration, evaluation, tax.
    BudgetCategory, "category", "purchase.budget_category_unknown" {
        Personnel = "personnel",
        Activities = "activities",
        SupervisionTraining = "supervision_training",
        Administration = "administration",
        Evaluation = "evaluation",
        Tax = "tax",
    }
);

codes!(
    /// Which part of the contract a line belongs to (Nansha's 核心项目 / 基础项目): a delivery
    /// indicator may measure only one part.
    LineTier, "tier", "purchase.tier_unknown" {
        Core = "core",
        Basic = "basic",
    }
);

/// A line is basic unless the contract marks it core (lines stored before tiers existed are
/// basic).
impl Default for LineTier {
    fn default() -> Self {
        LineTier::Basic
    }
}

/// A contract's term, first and last day both included. Terms often run mid-year to mid-year
/// (2023-06-01 → 2024-05-31), so nothing assumes a calendar year.
///
/// Not `Deserialize`: a stored term is read back through [`Term::new`], so it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Term {
    start: NaiveDate,
    end: NaiveDate,
}

impl Term {
    /// A one-day term (start = end) is allowed; an end before the start is refused on
    /// `term_end`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Term, FieldError> {
        if end < start {
            return Err(FieldError::new(
                "term_end",
                "purchase.term_ends_before_start",
            ));
        }
        Ok(Term { start, end })
    }

    pub fn start(self) -> NaiveDate {
        self.start
    }

    pub fn end(self) -> NaiveDate {
        self.end
    }

    /// Days in the term, both ends counted.
    pub fn days(self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        (self.start..=self.end).contains(&date)
    }

    /// How much of the term has passed by the end of `on`, in basis points rounded down: 0
    /// before the first day, 100 % from the last day on.
    pub fn elapsed_bp(self, on: NaiveDate) -> i64 {
        let passed = ((on - self.start).num_days() + 1).clamp(0, self.days());
        ratio_bp(passed, self.days()).unwrap_or(0)
    }

    /// Whether the term keeps to the 3-year maximum of 财政部令第102号 art. 24 (a year is
    /// the rule, three years the most for stable, budget-secured services).
    pub fn within_three_years(self) -> bool {
        self.start
            .checked_add_months(Months::new(36))
            .is_none_or(|limit| self.end < limit)
    }
}

/// What a service record (or a group, or a case) tells about itself, for a line's rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryFacts {
    /// Sessions a group has held.
    pub sessions: i64,
    /// 人次: attendances summed over sessions.
    pub person_times: i64,
    /// People at an activity.
    pub participants: i64,
    /// Follow-ups recorded on a case.
    pub follow_ups: i64,
    /// The case is closed (结案).
    pub closed: bool,
}

/// Which records count towards a line, as data the purchaser writes into the contract
/// ("a group counts only with ≥ 6 sessions and ≥ 42 person-times").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum QualifyingRule {
    /// Every record counts once.
    Each,
    /// The line counts person-times (人次): every record adds its own.
    PersonTimes,
    /// A group counts once with at least this many sessions and person-times.
    Group {
        min_sessions: i64,
        min_person_times: i64,
    },
    /// An activity counts once with at least this many participants.
    Activity { min_participants: i64 },
    /// A case counts once closed with at least this many follow-ups (0: closing is enough).
    ClosedCase { min_follow_ups: i64 },
}

impl QualifyingRule {
    /// Thresholds are counts: negative ones are refused on `rule`.
    pub fn validate(self) -> Result<QualifyingRule, FieldError> {
        let thresholds: &[i64] = match &self {
            QualifyingRule::Each | QualifyingRule::PersonTimes => &[],
            QualifyingRule::Group {
                min_sessions,
                min_person_times,
            } => &[*min_sessions, *min_person_times],
            QualifyingRule::Activity { min_participants } => &[*min_participants],
            QualifyingRule::ClosedCase { min_follow_ups } => &[*min_follow_ups],
        };
        if thresholds.iter().any(|&t| t < 0) {
            return Err(FieldError::new("rule", "purchase.rule_threshold_invalid"));
        }
        Ok(self)
    }

    /// Units one record delivers under this rule: 0 or 1, or its person-times.
    pub fn counts(self, facts: &DeliveryFacts) -> i64 {
        let once = |ok: bool| i64::from(ok);
        match self {
            QualifyingRule::Each => 1,
            QualifyingRule::PersonTimes => facts.person_times.max(0),
            QualifyingRule::Group {
                min_sessions,
                min_person_times,
            } => once(facts.sessions >= min_sessions && facts.person_times >= min_person_times),
            QualifyingRule::Activity { min_participants } => {
                once(facts.participants >= min_participants)
            }
            QualifyingRule::ClosedCase { min_follow_ups } => {
                once(facts.closed && facts.follow_ups >= min_follow_ups)
            }
        }
    }

    pub fn qualifies(self, facts: &DeliveryFacts) -> bool {
        self.counts(facts) > 0
    }
}

/// One line of a contract: "小组 1,000元 × 36, ≥6 sessions, ≥42 person-times".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractLine {
    /// The kind of service record that counts; `None` for lines not delivered as service
    /// records (pay, supervision hours), which are not counted from records.
    #[serde(default, deserialize_with = "super::optional_code")]
    pub service_kind: Option<ServiceKind>,
    pub content: String,
    /// 次, 个, 人次, 月.
    pub unit: String,
    pub unit_price: Fen,
    /// The target quantity.
    pub quantity: i64,
    pub rule: QualifyingRule,
    /// 核心项目 or 基础项目; basic when not given.
    #[serde(default, deserialize_with = "super::code")]
    pub tier: LineTier,
}

impl ContractLine {
    /// Content and unit present, quantity positive, price not negative, the total within
    /// range, the rule's thresholds not negative.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.content.trim().is_empty() {
            return Err(FieldError::new("content", "purchase.line_content_required"));
        }
        if self.unit.trim().is_empty() {
            return Err(FieldError::new("unit", "purchase.line_unit_required"));
        }
        if self.quantity <= 0 {
            return Err(FieldError::new("quantity", "purchase.quantity_invalid"));
        }
        if self.unit_price.0 < 0 {
            return Err(FieldError::new("unit_price", "purchase.unit_price_invalid"));
        }
        if self.amount().is_none() {
            return Err(FieldError::new("quantity", "purchase.amount_too_large"));
        }
        self.rule.validate()?;
        Ok(())
    }

    /// Unit price × quantity; `None` past i64.
    pub fn amount(&self) -> Option<Fen> {
        self.unit_price.0.checked_mul(self.quantity).map(Fen)
    }

    /// The delivered quantity over the records that belong to this line (the caller picks
    /// records of the contract's stations, term and this line's service kind).
    pub fn delivered<'a>(&self, records: impl IntoIterator<Item = &'a DeliveryFacts>) -> i64 {
        records.into_iter().fold(0i64, |sum, facts| {
            sum.saturating_add(self.rule.counts(facts))
        })
    }

    /// Delivered against target and against the part of the term that has passed.
    pub fn progress(&self, delivered: i64, term: Term, on: NaiveDate) -> Progress {
        Progress {
            delivered,
            target: self.quantity,
            delivered_bp: ratio_bp(delivered, self.quantity).unwrap_or(0),
            elapsed_bp: term.elapsed_bp(on),
        }
    }
}

/// Target vs delivered, and pace: delivered % against elapsed % of the term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub delivered: i64,
    pub target: i64,
    /// Delivered / target in basis points, rounded down; above 100 % when over-delivered.
    pub delivered_bp: i64,
    pub elapsed_bp: i64,
}

impl Progress {
    /// Delivered % minus elapsed %: negative is behind pace.
    pub fn gap_bp(self) -> i64 {
        self.delivered_bp - self.elapsed_bp
    }

    /// Behind pace by more than `tolerance_bp`: a line at 42 % with half the term gone is
    /// behind with a 5 % tolerance, not with a 10 % one. A met target is never behind.
    pub fn behind(self, tolerance_bp: i64) -> bool {
        self.delivered_bp < HUNDRED_PERCENT && self.gap_bp() < -tolerance_bp
    }
}

/// A budget line of the contract (预算), by category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    #[serde(deserialize_with = "super::code")]
    pub category: BudgetCategory,
    pub amount: Fen,
}

/// The personnel share of a budget (Guangzhou wants ≥ 65 %), in basis points rounded down;
/// `None` for an empty budget.
pub fn personnel_share_bp(lines: &[BudgetLine]) -> Option<i64> {
    let sum = |only_personnel: bool| -> i64 {
        lines
            .iter()
            .filter(|l| !only_personnel || l.category == BudgetCategory::Personnel)
            .fold(0i64, |s, l| s.saturating_add(l.amount.0))
    };
    ratio_bp(sum(true), sum(false))
}

/// 预算执行率: spent / budget in basis points, rounded down; `None` without a budget.
pub fn execution_rate_bp(budget: Fen, spent: Fen) -> Option<i64> {
    ratio_bp(spent.0, budget.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn group_line() -> ContractLine {
        ContractLine {
            service_kind: Some(ServiceKind::Group),
            content: "小组".into(),
            unit: "个".into(),
            unit_price: Fen(100_000),
            quantity: 36,
            rule: QualifyingRule::Group {
                min_sessions: 6,
                min_person_times: 42,
            },
            tier: LineTier::Core,
        }
    }

    #[test]
    fn contracts_follow_their_life() {
        use ContractState::*;
        let walk = [
            Signed,
            InForce,
            Suspended,
            InForce,
            AwaitingAcceptance,
            Accepted,
            Settled,
            Archived,
        ];
        for pair in walk.windows(2) {
            assert_eq!(pair[0].go(pair[1]), Ok(pair[1]), "{:?}", pair);
        }
        assert_eq!(Terminated.go(AwaitingAcceptance), Ok(AwaitingAcceptance));
        let refused = FieldError::new("state", "purchase.contract_transition_invalid");
        for (from, to) in [
            (Signed, Accepted),
            (InForce, Settled),
            (Archived, InForce),
            (Terminated, InForce),
            (Settled, Accepted),
            (Accepted, Accepted),
        ] {
            assert_eq!(from.go(to), Err(refused.clone()), "{from} → {to}");
        }
        assert!(Archived.successors().is_empty());
    }

    #[test]
    fn terms_need_not_follow_the_calendar() {
        let term = Term::new(d("2023-06-01"), d("2024-05-31")).unwrap();
        assert_eq!(term.days(), 366);
        assert_eq!(term.elapsed_bp(d("2023-05-31")), 0);
        assert_eq!(term.elapsed_bp(d("2023-06-01")), 27); // 1/366
        assert_eq!(term.elapsed_bp(d("2023-11-30")), 5000); // 183/366
        assert_eq!(term.elapsed_bp(d("2024-05-31")), 10_000);
        assert_eq!(term.elapsed_bp(d("2030-01-01")), 10_000);
        assert!(term.contains(d("2024-01-01")) && !term.contains(d("2024-06-01")));
        assert_eq!(
            Term::new(d("2024-05-31"), d("2023-06-01")),
            Err(FieldError::new(
                "term_end",
                "purchase.term_ends_before_start"
            ))
        );
        let one_day = Term::new(d("2024-01-01"), d("2024-01-01")).unwrap();
        assert_eq!(
            (one_day.days(), one_day.elapsed_bp(d("2024-01-01"))),
            (1, 10_000)
        );
    }

    #[test]
    fn three_years_is_the_longest_term() {
        assert!(
            Term::new(d("2023-06-01"), d("2026-05-31"))
                .unwrap()
                .within_three_years()
        );
        assert!(
            !Term::new(d("2023-06-01"), d("2026-06-01"))
                .unwrap()
                .within_three_years()
        );
    }

    #[test]
    fn qualifying_rules_decide_what_counts() {
        let group = |sessions, person_times| DeliveryFacts {
            sessions,
            person_times,
            ..DeliveryFacts::default()
        };
        let rule = group_line().rule;
        assert!(rule.qualifies(&group(6, 42)));
        assert!(!rule.qualifies(&group(5, 60)));
        assert!(!rule.qualifies(&group(8, 41)));
        let activity = QualifyingRule::Activity {
            min_participants: 200,
        };
        let at = |participants| DeliveryFacts {
            participants,
            ..DeliveryFacts::default()
        };
        assert_eq!(
            (activity.counts(&at(200)), activity.counts(&at(199))),
            (1, 0)
        );
        let case = QualifyingRule::ClosedCase { min_follow_ups: 6 };
        let file = |closed, follow_ups| DeliveryFacts {
            closed,
            follow_ups,
            ..DeliveryFacts::default()
        };
        assert!(case.qualifies(&file(true, 6)));
        assert!(!case.qualifies(&file(false, 9)));
        assert!(!case.qualifies(&file(true, 5)));
        assert_eq!(QualifyingRule::PersonTimes.counts(&group(1, 37)), 37);
        assert_eq!(QualifyingRule::Each.counts(&DeliveryFacts::default()), 1);
        assert_eq!(
            QualifyingRule::Activity {
                min_participants: -1
            }
            .validate(),
            Err(FieldError::new("rule", "purchase.rule_threshold_invalid"))
        );
    }

    #[test]
    fn delivered_counts_only_qualifying_records_and_paces_against_the_term() {
        let line = group_line();
        let records = [
            DeliveryFacts {
                sessions: 6,
                person_times: 48,
                ..DeliveryFacts::default()
            },
            DeliveryFacts {
                sessions: 6,
                person_times: 30,
                ..DeliveryFacts::default()
            },
            DeliveryFacts {
                sessions: 8,
                person_times: 80,
                ..DeliveryFacts::default()
            },
        ];
        assert_eq!(line.delivered(&records), 2);
        let term = Term::new(d("2023-06-01"), d("2024-05-31")).unwrap();
        let progress = line.progress(9, term, d("2023-11-30"));
        assert_eq!((progress.delivered_bp, progress.elapsed_bp), (2500, 5000));
        assert_eq!(progress.gap_bp(), -2500);
        assert!(progress.behind(1000));
        assert!(!line.progress(18, term, d("2023-11-30")).behind(1000));
        assert!(!line.progress(40, term, d("2024-05-31")).behind(0));
        assert_eq!(line.amount(), Some(Fen(3_600_000)));
    }

    #[test]
    fn lines_refuse_bad_input() {
        assert_eq!(group_line().validate(), Ok(()));
        let with = |f: fn(&mut ContractLine)| {
            let mut line = group_line();
            f(&mut line);
            line.validate().unwrap_err().code
        };
        assert_eq!(with(|l| l.quantity = 0), "purchase.quantity_invalid");
        assert_eq!(
            with(|l| l.unit_price = Fen(-1)),
            "purchase.unit_price_invalid"
        );
        assert_eq!(
            with(|l| l.content = " ".into()),
            "purchase.line_content_required"
        );
        assert_eq!(
            with(|l| l.unit = String::new()),
            "purchase.line_unit_required"
        );
        assert_eq!(
            with(|l| l.unit_price = Fen(i64::MAX)),
            "purchase.amount_too_large"
        );
        assert_eq!(
            with(|l| l.rule = QualifyingRule::ClosedCase { min_follow_ups: -2 }),
            "purchase.rule_threshold_invalid"
        );
    }

    #[test]
    fn budget_shares_and_execution() {
        let line = |category, yuan: i64| BudgetLine {
            category,
            amount: Fen(yuan * 100),
        };
        let budget = [
            line(BudgetCategory::Personnel, 650_000),
            line(BudgetCategory::Activities, 200_000),
            line(BudgetCategory::Tax, 150_000),
        ];
        assert_eq!(personnel_share_bp(&budget), Some(6500));
        assert_eq!(personnel_share_bp(&[]), None);
        assert_eq!(execution_rate_bp(Fen(1_000_000), Fen(333_333)), Some(3333));
        assert_eq!(execution_rate_bp(Fen::ZERO, Fen(1)), None);
    }
}
