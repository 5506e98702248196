//! People served (服务对象) and the casework around them: household relationships (GB/T 4761),
//! risk tiers, the MZ/T 094 case stages, service kinds and visit methods, assessment domains,
//! visit-interval rules and the name key used to find likely duplicates. Service domains are
//! the station catalogue's (`station::ServiceDomain`).

use chrono::{Duration, NaiveDate};
use pinyin::ToPinyin;

use crate::FieldError;

pub mod identity;

codes!(
    /// 与户主关系, GB/T 4761-2008 (the two-digit codes are the stored values).
    Relation, "relation", "resident.relation_unknown" {
        SelfPerson = "01",
        Head = "02",
        Spouse = "10",
        Son = "20",
        Daughter = "30",
        Grandchild = "40",
        Parent = "50",
        Grandparent = "60",
        Sibling = "70",
        OtherRelative = "80",
        NonRelative = "99",
    }
);

codes!(
    /// 风险等级: decides how often the person must be visited.
    RiskTier, "risk_tier", "resident.risk_unknown" {
        High = "high",
        Key = "key",
        General = "general",
    }
);

codes!(
    /// Where a resident's file stands: in care, or closed by a merge into another file, a move
    /// away or a death.
    ResidentStatus, "status", "resident.status_unknown" {
        Active = "active",
        Merged = "merged",
        MovedOut = "moved_out",
        Deceased = "deceased",
    }
);

codes!(
    /// The legal ground for processing a resident's personal information (PIPL arts. 13, 29).
    LegalBasis, "legal_basis", "resident.basis_unknown" {
        Consent = "consent",
        StatutoryDuty = "statutory_duty",
        Guardian = "guardian_consent",
        VitalInterest = "vital_interest",
    }
);

codes!(
    /// Case stages after MZ/T 094-2017 (接案 → 预估 → 计划 → 介入 → 评估 → 结案).
    CaseStage, "stage", "case.stage_unknown" {
        Intake = "intake",
        Assessment = "assessment",
        Planning = "planning",
        Intervention = "intervention",
        Evaluation = "evaluation",
        Closed = "closed",
    }
);

codes!(
    /// 结案成效: how a case ended, as the closure request records it (a note may add detail).
    /// Cases closed before the code existed keep their free-text outcome as the note.
    CaseOutcome, "outcome", "case.outcome_unknown" {
        GoalsMet = "goals_met",
        PartlyMet = "partly_met",
        NotMet = "not_met",
        Referred = "referred",
        Withdrew = "withdrew",
        Other = "other",
    }
);

codes!(
    /// 预估 domains, each scored 0 (no need) to 3 (severe need).
    AssessmentDomain, "domain", "assessment.domain_unknown" {
        DailyLiving = "daily_living",
        Economic = "economic",
        Health = "health",
        Psychological = "psychological",
        SocialSupport = "social_support",
        Safety = "safety",
    }
);

codes!(
    ServiceKind, "kind", "service.kind_unknown" {
        Casework = "casework",
        Group = "group",
        Community = "community",
        Visit = "visit",
        ResourceLinking = "resource_linking",
        PolicyPublicity = "policy_publicity",
        Psychological = "psychological",
        Crisis = "crisis",
    }
);

codes!(
    VisitMethod, "method", "visit.method_unknown" {
        Home = "home",
        Phone = "phone",
        Video = "video",
        Entrusted = "entrusted",
        Volunteer = "volunteer",
    }
);

codes!(
    /// 残疾类别 1 视力 … 7 多重.
    DisabilityCategory, "disability_category", "resident.disability_category_unknown" {
        Visual = "1",
        Hearing = "2",
        Speech = "3",
        Physical = "4",
        Intellectual = "5",
        Mental = "6",
        Multiple = "7",
    }
);

codes!(
    /// 残疾等级 1 (most severe) … 4.
    DisabilityGrade, "disability_grade", "resident.disability_grade_unknown" {
        One = "1",
        Two = "2",
        Three = "3",
        Four = "4",
    }
);

/// Records of children under this age are visible only to the people working on them.
pub const PROTECTED_CHILD_AGE: u32 = 14;

/// Whole years of age on `today`.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    today.years_since(birth).unwrap_or(0)
}

impl CaseStage {
    /// The stage a case moves to when work at this stage is recorded; `None` at the end.
    /// Planning → intervention and evaluation → closed need a supervisor's approval.
    pub fn next(self) -> Option<CaseStage> {
        use CaseStage::*;
        match self {
            Intake => Some(Assessment),
            Assessment => Some(Planning),
            Planning => Some(Intervention),
            Intervention => Some(Evaluation),
            Evaluation => Some(Closed),
            Closed => None,
        }
    }

    /// Whether leaving this stage needs a supervisor's approval (the plan; the closure).
    pub fn needs_approval(self) -> bool {
        matches!(self, CaseStage::Planning | CaseStage::Evaluation)
    }
}

/// One visit rule: people at `tier` (optionally only those in `category`) are visited at least
/// every `interval_days`, by one of `methods`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRule {
    pub region_code: String,
    pub tier: RiskTier,
    pub category: Option<String>,
    pub interval_days: i64,
    pub methods: Vec<VisitMethod>,
}

/// The defaults from the domain reference: high ≥ weekly, key ≥ monthly, general ≥ quarterly.
pub fn default_interval(tier: RiskTier) -> i64 {
    match tier {
        RiskTier::High => 7,
        RiskTier::Key => 30,
        RiskTier::General => 90,
    }
}

/// The rule that applies to a person: among the rules of the most specific region that has any
/// (`rules` is ordered most specific region first), those for the person's tier and either no
/// category or one of theirs; the shortest interval wins.
pub fn applicable_rule<'a>(
    rules: &'a [VisitRule],
    tier: RiskTier,
    categories: &[String],
) -> Option<&'a VisitRule> {
    let matches = |r: &&VisitRule| {
        r.tier == tier && r.category.as_ref().is_none_or(|c| categories.contains(c))
    };
    let region = rules.iter().find(matches)?.region_code.clone();
    rules
        .iter()
        .filter(|r| r.region_code == region)
        .filter(matches)
        .min_by_key(|r| r.interval_days)
}

/// When the next visit is due: `interval_days` after the last visit, or after registration
/// when there has been none.
pub fn next_due(
    last_visit: Option<NaiveDate>,
    registered: NaiveDate,
    interval_days: i64,
) -> NaiveDate {
    last_visit.unwrap_or(registered) + Duration::days(interval_days)
}

/// Common variant and traditional forms of characters found in names, mapped to the standard
/// simplified form, so that 張麗華 and 张丽华 compare equal.
const VARIANTS: &[(char, char)] = &[
    ('張', '张'),
    ('陳', '陈'),
    ('劉', '刘'),
    ('黃', '黄'),
    ('趙', '赵'),
    ('楊', '杨'),
    ('吳', '吴'),
    ('鄭', '郑'),
    ('譚', '谭'),
    ('蕭', '萧'),
    ('葉', '叶'),
    ('馮', '冯'),
    ('鄧', '邓'),
    ('許', '许'),
    ('華', '华'),
    ('麗', '丽'),
    ('國', '国'),
    ('紅', '红'),
    ('蘭', '兰'),
    ('雲', '云'),
    ('鳳', '凤'),
    ('龍', '龙'),
    ('軍', '军'),
    ('偉', '伟'),
    ('強', '强'),
    ('東', '东'),
    ('飛', '飞'),
    ('峯', '峰'),
    ('羣', '群'),
    ('姸', '妍'),
    ('珎', '珍'),
    ('玅', '妙'),
    ('秊', '年'),
    ('囯', '国'),
    ('淸', '清'),
    ('靑', '青'),
    ('眞', '真'),
    ('惪', '德'),
    ('喆', '哲'),
    ('綫', '线'),
    ('萬', '万'),
    ('貴', '贵'),
    ('義', '义'),
    ('榮', '荣'),
    ('寶', '宝'),
];

fn standard_char(c: char) -> char {
    VARIANTS
        .iter()
        .find(|(v, _)| *v == c)
        .map_or(c, |(_, s)| *s)
}

/// A name in standard characters, without spaces and the middle dot of minority names.
pub fn normalized_name(name: &str) -> String {
    name.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !crate::text::is_invisible(*c)
                && !matches!(c, '·' | '•' | '.' | '・')
        })
        .map(standard_char)
        .collect()
}

/// The toneless pinyin of a name (`zhangjianguo`), the key likely duplicates are matched on:
/// 张建国 and 章建国 share it. Characters without a reading are kept as they are.
pub fn name_key(name: &str) -> String {
    let norm = normalized_name(name);
    let mut key = String::with_capacity(norm.len() * 2);
    for (c, p) in norm.chars().zip(norm.as_str().to_pinyin()) {
        match p {
            Some(p) => key.push_str(p.plain()),
            None => key.extend(c.to_lowercase()),
        }
    }
    key
}

/// Whether two names probably belong to the same person: the same characters after
/// normalisation, the same pinyin, or (for names of three or more characters) the same surname
/// with a single other character different.
pub fn names_alike(a: &str, b: &str) -> bool {
    NameForm::new(a).alike(&NameForm::new(b))
}

/// A name as [`names_alike`] compares it, worked out once: a look-up comparing one name with
/// many keeps their forms instead of normalising and transliterating both for every pair.
#[derive(Debug, Clone)]
pub struct NameForm {
    chars: Vec<char>,
    key: String,
}

impl NameForm {
    pub fn new(name: &str) -> Self {
        Self::with_key(name, name_key(name))
    }

    /// The form of a stored name whose [`name_key`] is stored beside it.
    pub fn with_key(name: &str, key: String) -> Self {
        Self {
            chars: normalized_name(name).chars().collect(),
            key,
        }
    }

    /// The first character of the normalised name.
    pub fn first(&self) -> Option<char> {
        self.chars.first().copied()
    }

    pub fn alike(&self, other: &NameForm) -> bool {
        let (ca, cb) = (&self.chars, &other.chars);
        if ca == cb || self.key == other.key {
            return true;
        }
        ca.len() == cb.len()
            && ca.len() >= 3
            && ca.first() == cb.first()
            && ca.iter().zip(cb).filter(|(x, y)| x != y).count() == 1
    }
}

/// Validates a category code from the catalogue (lowercase ASCII, digits and `_`).
pub fn parse_category_code(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty()
        || s.len() > 40
        || !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(FieldError::new("category", "resident.category_unknown"));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn names_match_on_pinyin_and_variants() {
        assert_eq!(name_key("张建国"), "zhangjianguo");
        assert!(names_alike("张建国", "章建国"), "same pinyin");
        assert!(names_alike("張麗華", "张丽华"), "traditional forms");
        assert!(names_alike("阿不都·热合曼", "阿不都热合曼"), "middle dot");
        assert!(names_alike("李秀英", "李秀兰"), "one character apart");
        assert!(!names_alike("李秀英", "王秀英"), "different surname");
        assert!(
            !names_alike("李明", "李强"),
            "two-character names need more than a surname"
        );
    }

    #[test]
    fn stages_follow_mz_t_094() {
        let mut s = CaseStage::Intake;
        let mut seen = vec![s];
        while let Some(n) = s.next() {
            seen.push(n);
            s = n;
        }
        assert_eq!(seen.len(), CaseStage::ALL.len());
        assert!(CaseStage::Planning.needs_approval());
        assert!(!CaseStage::Intervention.needs_approval());
    }

    #[test]
    fn the_most_specific_region_and_shortest_interval_win() {
        let rule = |region: &str, tier, category: Option<&str>, days| VisitRule {
            region_code: region.into(),
            tier,
            category: category.map(Into::into),
            interval_days: days,
            methods: vec![VisitMethod::Home],
        };
        let rules = vec![
            rule("430202", RiskTier::Key, None, 30),
            rule("430202", RiskTier::Key, Some("orphan"), 14),
            rule("", RiskTier::Key, None, 20),
            rule("", RiskTier::High, None, 7),
        ];
        let none: Vec<String> = vec![];
        assert_eq!(
            applicable_rule(&rules, RiskTier::Key, &none)
                .unwrap()
                .interval_days,
            30
        );
        let orphan = vec!["orphan".to_string()];
        assert_eq!(
            applicable_rule(&rules, RiskTier::Key, &orphan)
                .unwrap()
                .interval_days,
            14
        );
        assert_eq!(
            applicable_rule(&rules, RiskTier::High, &none)
                .unwrap()
                .interval_days,
            7
        );
        assert!(applicable_rule(&rules, RiskTier::General, &none).is_none());
        assert_eq!(next_due(None, d("2026-01-01"), 7), d("2026-01-08"));
        assert_eq!(
            next_due(Some(d("2026-02-01")), d("2026-01-01"), 30),
            d("2026-03-03")
        );
    }

    #[test]
    fn age_counts_whole_years() {
        assert_eq!(age_on(d("2012-11-22"), d("2026-11-21")), 13);
        assert_eq!(age_on(d("2012-11-21"), d("2026-11-21")), 14);
    }
}
