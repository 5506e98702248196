//! 供需对接 (五社联动): needs for help, the resources that can meet them, and the matcher that
//! ranks resources for a need with a score and the reasons behind it, in plain words.
//!
//! Resources are not typed in: they are read from the records (active volunteers and their skills,
//! intentions and availability; purchased capacity left on contracts in force; goods in stock and
//! money not yet committed in community funds; station venues). A need names the kind of help;
//! each kind says which resources can give it and which words in a resource's tags show fit.
//!
//! The same-day throttle: a person already given a kind of help today (or with a confirmed match
//! of that kind for today) gets no further proposal of it — the Wuhan volunteers' day where a care
//! home's residents were bathed eight times is the failure this prevents.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::network::region::RegionCode;
use crate::people::ServiceKind;

codes!(
    /// The kind of help a need asks for.
    HelpKind, "help_kind", "match.help_unknown" {
        Bathing = "bathing",
        Meals = "meals",
        Cleaning = "cleaning",
        Escort = "escort",
        Companionship = "companionship",
        Psychological = "psychological",
        Tutoring = "tutoring",
        Legal = "legal",
        Repair = "repair",
        Rehab = "rehab",
        Goods = "goods",
        Money = "money",
        Venue = "venue",
    }
);

codes!(
    /// Where a resource comes from.
    ResourceKind, "resource_kind", "match.resource_kind_unknown" {
        Volunteer = "volunteer",
        Purchased = "purchased",
        Goods = "goods",
        Fund = "fund",
        Venue = "venue",
    }
);

codes!(
    /// Whom a need is for.
    NeedSubject, "subject", "need.subject_unknown" {
        Person = "person",
        Household = "household",
        Community = "community",
    }
);

codes!(
    /// Where a need was found.
    NeedSource, "source", "need.source_unknown_code" {
        Issue = "issue",
        Assessment = "assessment",
        Ticket = "ticket",
        Visit = "visit",
        Other = "other",
    }
);

codes!(
    /// A need is open until a match meets it, or cancelled with a reason.
    NeedState, "state", "need.state_unknown" {
        Open = "open",
        Met = "met",
        Cancelled = "cancelled",
    }
);

codes!(
    /// 建议 → 确认 → 执行 → 完成, or 放弃 before it is executed.
    MatchState, "state", "match.state_unknown" {
        Proposed = "proposed",
        Confirmed = "confirmed",
        Executed = "executed",
        Completed = "completed",
        Abandoned = "abandoned",
    }
);

codes!(
    /// A step taken on a match.
    MatchStep, "step", "match.step_unknown" {
        Confirm = "confirm",
        Execute = "execute",
        Complete = "complete",
        Abandon = "abandon",
    }
);

codes!(
    /// Part of the day a need is wanted in, and a volunteer is free in.
    DayPart, "day_part", "match.day_part_unknown" {
        Morning = "morning",
        Afternoon = "afternoon",
        Evening = "evening",
    }
);

impl HelpKind {
    /// Words in a resource's skills, intentions, contract content, fund purpose or item name that
    /// show it gives this help.
    pub fn keywords(self) -> &'static [&'static str] {
        match self {
            HelpKind::Bathing => &["助浴", "洗浴", "洗澡", "个人清洁", "生活照料", "养老照护"],
            HelpKind::Meals => &["助餐", "送餐", "配餐", "做饭", "烹饪", "膳食"],
            HelpKind::Cleaning => &["助洁", "保洁", "家政", "清洁", "打扫"],
            HelpKind::Escort => &["陪诊", "助医", "就医", "陪同", "医疗"],
            HelpKind::Companionship => &["陪伴", "探访", "聊天", "关爱", "助老", "巡访"],
            HelpKind::Psychological => &["心理", "疏导", "情绪", "哀伤", "危机干预"],
            HelpKind::Tutoring => &["辅导", "课业", "学业", "作业", "教育", "四点半"],
            HelpKind::Legal => &["法律", "律师", "调解", "维权"],
            HelpKind::Repair => &["维修", "电工", "水电", "修理", "家电"],
            HelpKind::Rehab => &["康复", "护理", "理疗", "按摩"],
            HelpKind::Goods => &["物资", "食品", "衣物", "米", "油", "被", "用品"],
            HelpKind::Money => &["救助", "助困", "帮扶", "慰问", "医疗救助", "助学"],
            HelpKind::Venue => &["活动室", "场地", "会议室", "场所"],
        }
    }

    /// The resources that can give this help.
    pub fn resource_kinds(self) -> &'static [ResourceKind] {
        match self {
            HelpKind::Goods => &[ResourceKind::Goods],
            HelpKind::Money => &[ResourceKind::Fund],
            HelpKind::Venue => &[ResourceKind::Venue],
            _ => &[ResourceKind::Volunteer, ResourceKind::Purchased],
        }
    }

    /// The kind of the service record an executed match writes.
    pub fn service_kind(self) -> ServiceKind {
        match self {
            HelpKind::Psychological => ServiceKind::Psychological,
            HelpKind::Companionship => ServiceKind::Visit,
            HelpKind::Venue => ServiceKind::Community,
            _ => ServiceKind::ResourceLinking,
        }
    }

    /// Help given to one person at a time (the same-day throttle applies): not a venue.
    pub fn is_personal(self) -> bool {
        self != HelpKind::Venue
    }

    /// The first keyword found in `text`, if any.
    pub fn found_in(self, text: &str) -> Option<&'static str> {
        self.keywords().iter().copied().find(|k| text.contains(k))
    }
}

impl MatchState {
    pub fn is_active(self) -> bool {
        matches!(self, MatchState::Proposed | MatchState::Confirmed)
    }
}

/// The state a step leads to from `from`; a step out of order is refused naming `step`, and
/// abandoning needs a reason.
pub fn check_step(
    from: MatchState,
    step: MatchStep,
    reason: &str,
) -> Result<MatchState, FieldError> {
    let to = match (from, step) {
        (MatchState::Proposed, MatchStep::Confirm) => MatchState::Confirmed,
        (MatchState::Confirmed, MatchStep::Execute) => MatchState::Executed,
        (MatchState::Executed, MatchStep::Complete) => MatchState::Completed,
        (MatchState::Proposed | MatchState::Confirmed, MatchStep::Abandon) => {
            if reason.trim().is_empty() {
                return Err(FieldError::new("reason", "form.required"));
            }
            MatchState::Abandoned
        }
        _ => return Err(FieldError::new("step", "match.step_not_allowed")),
    };
    Ok(to)
}

/// When a volunteer says they are free: days of the week (Monday = bit 0) × parts of the day,
/// read from the free text they registered ("周末上午", "工作日晚上", "每周二、四下午", "随时").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Availability {
    /// Bit `day * 3 + part`.
    mask: u32,
}

const DAY_WORDS: [(&str, &[u8]); 22] = [
    ("每天", &[0, 1, 2, 3, 4, 5, 6]),
    ("每日", &[0, 1, 2, 3, 4, 5, 6]),
    ("天天", &[0, 1, 2, 3, 4, 5, 6]),
    ("随时", &[0, 1, 2, 3, 4, 5, 6]),
    ("不限", &[0, 1, 2, 3, 4, 5, 6]),
    ("全周", &[0, 1, 2, 3, 4, 5, 6]),
    ("工作日", &[0, 1, 2, 3, 4]),
    ("平时", &[0, 1, 2, 3, 4]),
    ("周末", &[5, 6]),
    ("双休", &[5, 6]),
    ("节假日", &[5, 6]),
    ("周一", &[0]),
    ("周二", &[1]),
    ("周三", &[2]),
    ("周四", &[3]),
    ("周五", &[4]),
    ("周六", &[5]),
    ("周日", &[6]),
    ("周天", &[6]),
    ("星期日", &[6]),
    ("星期天", &[6]),
    ("礼拜天", &[6]),
];

const PART_WORDS: [(&str, &[u8]); 7] = [
    ("上午", &[0]),
    ("早上", &[0]),
    ("下午", &[1]),
    ("白天", &[0, 1]),
    ("晚上", &[2]),
    ("傍晚", &[2]),
    ("全天", &[0, 1, 2]),
];

const WEEKDAY_DIGITS: [(char, u8); 7] = [
    ('一', 0),
    ('二', 1),
    ('三', 2),
    ('四', 3),
    ('五', 4),
    ('六', 5),
    ('日', 6),
];

impl Availability {
    /// The days and parts named in `text`; `None` when it names none (availability unknown).
    /// Days without parts mean the whole day; parts without days mean every day.
    pub fn parse(text: &str) -> Option<Availability> {
        let mut days = 0u32;
        for (word, ds) in DAY_WORDS {
            if text.contains(word) {
                days |= ds.iter().fold(0, |m, d| m | 1 << d);
            }
        }
        days |= listed_weekdays(text);
        let mut parts = 0u32;
        for (word, ps) in PART_WORDS {
            if text.contains(word) {
                parts |= ps.iter().fold(0, |m, p| m | 1 << p);
            }
        }
        if days == 0 && parts == 0 {
            return None;
        }
        let days = if days == 0 { 0x7f } else { days };
        let parts = if parts == 0 { 0x7 } else { parts };
        let mut mask = 0;
        for d in 0..7 {
            if days & (1 << d) != 0 {
                mask |= parts << (d * 3);
            }
        }
        Some(Availability { mask })
    }

    /// Free on that day of the week (Monday = 0), in that part of it (any part when `None`).
    pub fn covers(self, weekday: u32, part: Option<DayPart>) -> bool {
        let day = (self.mask >> (weekday.min(6) * 3)) & 0x7;
        match part {
            None => day != 0,
            Some(p) => day & (1 << part_index(p)) != 0,
        }
    }
}

fn part_index(p: DayPart) -> u32 {
    match p {
        DayPart::Morning => 0,
        DayPart::Afternoon => 1,
        DayPart::Evening => 2,
    }
}

/// "每周二、四下午", "周一至周五": weekday digits after 周/星期/礼拜, lists and ranges included.
fn listed_weekdays(text: &str) -> u32 {
    let chars: Vec<char> = text.chars().collect();
    let mut days = 0u32;
    let mut in_list = false;
    let mut range_from: Option<u8> = None;
    let mut prev: Option<u8> = None;
    for (i, c) in chars.iter().enumerate() {
        let after_marker = i > 0 && matches!(chars.get(i - 1), Some('周' | '期' | '拜'));
        if let Some(&(_, d)) = WEEKDAY_DIGITS.iter().find(|(w, _)| w == c)
            && (after_marker || in_list)
        {
            if let Some(from) = range_from.take() {
                for x in from.min(d)..=from.max(d) {
                    days |= 1 << x;
                }
            }
            days |= 1 << d;
            prev = Some(d);
            in_list = true;
            continue;
        }
        match c {
            '、' | ',' | '，' | '和' | '及' if in_list => {}
            '至' | '到' | '-' | '~' | '～' if in_list => range_from = prev,
            '周' | '星' | '期' | '礼' | '拜' => {}
            _ => {
                in_list = false;
                range_from = None;
            }
        }
    }
    days
}

/// Steps between two regions in the tree: up from each to their lowest common ancestor. A
/// township volunteer is 1 from a village of that township; a neighbouring village is 2.
pub fn region_distance(a: &RegionCode, b: &RegionCode) -> u32 {
    let la = a.lineage();
    let lb = b.lineage();
    let common = la.iter().zip(lb.iter()).take_while(|(x, y)| x == y).count();
    let up = |n: usize| u32::try_from(n.saturating_sub(common)).unwrap_or(u32::MAX);
    up(la.len()) + up(lb.len())
}

/// The farthest a resource may be from a need to be proposed: the same county (a village need
/// reaches the county's resources at 2 and another township's village at 4).
pub const MAX_DISTANCE: u32 = 4;

/// How a resource shows that it gives the help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fit {
    /// A volunteer's skill names it.
    Skill(String),
    /// A volunteer's intention (what they want to do) names it.
    Intention(String),
    /// A contract's service content, a fund's purpose or an item's name names it.
    Described(String),
    /// The resource is of the kind the help needs but names nothing more (any goods, a venue).
    Kind,
}

/// What the matcher knows of one resource for one need.
#[derive(Debug, Clone)]
pub struct Facts {
    pub kind: ResourceKind,
    pub distance: u32,
    pub fit: Option<Fit>,
    /// `None`: the resource says nothing of when it is free.
    pub available: Option<bool>,
    /// Matches proposed or confirmed for it and not yet executed.
    pub open_matches: i64,
    /// What is left: sessions on a contract line, items in stock, money (fen) not committed.
    pub remaining: Option<i64>,
    /// What the need asks for in the resource's unit (fen for money, items for goods).
    pub wanted: i64,
}

/// One plain-language reason for a score: a message key and its argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arg: String,
}

impl Reason {
    fn new(key: &str, arg: impl Into<String>) -> Self {
        Reason {
            key: key.to_owned(),
            arg: arg.into(),
        }
    }
}

/// Why a resource is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Excluded {
    TooFar,
    NoFit,
    NotAvailable,
    Exhausted,
}

impl Excluded {
    pub fn as_str(self) -> &'static str {
        match self {
            Excluded::TooFar => "too_far",
            Excluded::NoFit => "no_fit",
            Excluded::NotAvailable => "not_available",
            Excluded::Exhausted => "exhausted",
        }
    }
}

/// The score (0–100) of a resource for a need and its reasons, or why it is left out.
///
/// Distance gives up to 40 (same community 40, each step up the tree 8 less), fit up to 30 (a
/// skill 30, a described service or item 25, an intention or the resource's own kind 20), availability
/// 20 (unknown 8), and load 10 less 3 for each open match.
pub fn score(f: &Facts) -> Result<(u32, Vec<Reason>), Excluded> {
    if f.distance > MAX_DISTANCE {
        return Err(Excluded::TooFar);
    }
    let fit = f.fit.as_ref().ok_or(Excluded::NoFit)?;
    if f.available == Some(false) {
        return Err(Excluded::NotAvailable);
    }
    if f.remaining.is_some_and(|r| r <= 0 || r < f.wanted) {
        return Err(Excluded::Exhausted);
    }
    let mut reasons = Vec::new();
    let near = 40 - 8 * f.distance.min(5);
    reasons.push(Reason::new(
        &format!("match.why.distance_{}", f.distance),
        "",
    ));
    let fit_points = match fit {
        Fit::Skill(t) => {
            reasons.push(Reason::new("match.why.skill", t.as_str()));
            30
        }
        Fit::Kind => {
            reasons.push(Reason::new(
                &format!("match.why.kind_{}", f.kind.as_str()),
                "",
            ));
            20
        }
        Fit::Described(t) => {
            reasons.push(Reason::new(
                &format!("match.why.described_{}", f.kind.as_str()),
                t.as_str(),
            ));
            25
        }
        Fit::Intention(t) => {
            reasons.push(Reason::new("match.why.intention", t.as_str()));
            20
        }
    };
    let free = match f.available {
        Some(_) => {
            reasons.push(Reason::new("match.why.available", ""));
            20
        }
        None => {
            reasons.push(Reason::new("match.why.availability_unknown", ""));
            8
        }
    };
    if let Some(r) = f.remaining {
        reasons.push(Reason::new(
            &format!("match.why.remaining_{}", f.kind.as_str()),
            r.to_string(),
        ));
    }
    let load = 10u32.saturating_sub(3 * u32::try_from(f.open_matches.max(0)).unwrap_or(u32::MAX));
    if f.open_matches > 0 {
        reasons.push(Reason::new("match.why.load", f.open_matches.to_string()));
    } else {
        reasons.push(Reason::new("match.why.no_load", ""));
    }
    Ok((near + fit_points + free + load, reasons))
}

/// The fit of a volunteer's tags: a skill first, then an intention.
pub fn volunteer_fit(help: HelpKind, skills: &str, intentions: &str) -> Option<Fit> {
    tag_fit(help, skills)
        .map(Fit::Skill)
        .or_else(|| tag_fit(help, intentions).map(Fit::Intention))
}

/// The first tag (joined with '、') that names the help.
fn tag_fit(help: HelpKind, tags: &str) -> Option<String> {
    tags.split('、')
        .map(str::trim)
        .find(|t| !t.is_empty() && help.found_in(t).is_some())
        .map(str::to_owned)
}

/// The fit of a described resource (contract content, fund purpose, item name).
pub fn described_fit(help: HelpKind, text: &str) -> Option<Fit> {
    help.found_in(text)
        .map(|_| Fit::Described(text.chars().take(30).collect()))
}

/// A resource kept, with its score and reasons.
pub type Kept<T> = (T, u32, Vec<Reason>);

/// The proposals for one need, best first: each resource's score, or left out.
pub fn rank<T>(candidates: Vec<(T, Facts)>) -> (Vec<Kept<T>>, Vec<(T, Excluded)>) {
    let mut kept = Vec::new();
    let mut left = Vec::new();
    for (item, facts) in candidates {
        match score(&facts) {
            Ok((s, why)) => kept.push((item, s, why)),
            Err(e) => left.push((item, e)),
        }
    }
    kept.sort_by_key(|k| std::cmp::Reverse(k.1));
    (kept, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn facts(distance: u32) -> Facts {
        Facts {
            kind: ResourceKind::Volunteer,
            distance,
            fit: Some(Fit::Skill("助浴".into())),
            available: Some(true),
            open_matches: 0,
            remaining: None,
            wanted: 0,
        }
    }

    #[test]
    fn availability_reads_common_wordings() {
        let weekend_morning = Availability::parse("周末上午").unwrap();
        assert!(weekend_morning.covers(5, Some(DayPart::Morning)));
        assert!(weekend_morning.covers(6, None));
        assert!(!weekend_morning.covers(5, Some(DayPart::Afternoon)));
        assert!(!weekend_morning.covers(2, None));
        let listed = Availability::parse("每周二、四下午").unwrap();
        assert!(listed.covers(1, Some(DayPart::Afternoon)));
        assert!(listed.covers(3, Some(DayPart::Afternoon)));
        assert!(!listed.covers(2, None));
        assert!(!listed.covers(1, Some(DayPart::Morning)));
        let range = Availability::parse("周一至周三晚上").unwrap();
        assert!(range.covers(1, Some(DayPart::Evening)));
        assert!(!range.covers(3, None));
        let workdays = Availability::parse("工作日").unwrap();
        assert!(workdays.covers(4, Some(DayPart::Evening)));
        assert!(!workdays.covers(5, None));
        assert!(
            Availability::parse("随时")
                .unwrap()
                .covers(6, Some(DayPart::Evening))
        );
        assert!(Availability::parse("看情况").is_none());
        assert!(Availability::parse("").is_none());
    }

    #[test]
    fn distance_counts_steps_to_the_common_ancestor() {
        let village = code("430211001001");
        assert_eq!(region_distance(&village, &village), 0);
        assert_eq!(region_distance(&village, &code("430211001")), 1);
        assert_eq!(region_distance(&village, &code("430211001002")), 2);
        assert_eq!(region_distance(&village, &code("430211002001")), 4);
        assert_eq!(region_distance(&village, &code("430202001001")), 6);
    }

    #[test]
    fn score_prefers_near_fitting_free_unloaded_resources() {
        let (best, why) = score(&facts(0)).unwrap();
        assert_eq!(best, 100);
        assert_eq!(why.first().unwrap().key, "match.why.distance_0");
        assert_eq!(why.get(1).unwrap(), &Reason::new("match.why.skill", "助浴"));
        let (farther, _) = score(&facts(2)).unwrap();
        assert!(farther < best);
        let loaded = Facts {
            open_matches: 2,
            ..facts(0)
        };
        let (l, why) = score(&loaded).unwrap();
        assert_eq!(l, 94);
        assert!(why.contains(&Reason::new("match.why.load", "2")));
        let unknown = Facts {
            available: None,
            ..facts(0)
        };
        assert_eq!(score(&unknown).unwrap().0, 88);
        let intention = Facts {
            fit: Some(Fit::Intention("助老".into())),
            ..facts(0)
        };
        assert_eq!(score(&intention).unwrap().0, 90);
    }

    #[test]
    fn score_leaves_out_what_cannot_serve() {
        assert_eq!(score(&facts(5)).unwrap_err(), Excluded::TooFar);
        let no_fit = Facts {
            fit: None,
            ..facts(0)
        };
        assert_eq!(score(&no_fit).unwrap_err(), Excluded::NoFit);
        let busy = Facts {
            available: Some(false),
            ..facts(0)
        };
        assert_eq!(score(&busy).unwrap_err(), Excluded::NotAvailable);
        let short = Facts {
            kind: ResourceKind::Goods,
            fit: Some(Fit::Kind),
            remaining: Some(2),
            wanted: 3,
            ..facts(0)
        };
        assert_eq!(score(&short).unwrap_err(), Excluded::Exhausted);
    }

    #[test]
    fn fit_reads_tags_and_descriptions() {
        assert_eq!(
            volunteer_fit(HelpKind::Bathing, "电脑维修、养老照护", "助老"),
            Some(Fit::Skill("养老照护".into()))
        );
        assert_eq!(
            volunteer_fit(HelpKind::Companionship, "电脑维修", "助老、环保"),
            Some(Fit::Intention("助老".into()))
        );
        assert_eq!(volunteer_fit(HelpKind::Legal, "电脑维修", "助老"), None);
        assert!(matches!(
            described_fit(HelpKind::Meals, "为高龄老人提供助餐服务"),
            Some(Fit::Described(_))
        ));
    }

    #[test]
    fn rank_orders_best_first() {
        let (kept, left) = rank(vec![
            ("far", facts(2)),
            ("near", facts(0)),
            ("out", facts(6)),
        ]);
        let order: Vec<_> = kept.iter().map(|k| k.0).collect();
        assert_eq!(order, ["near", "far"]);
        assert_eq!(left, [("out", Excluded::TooFar)]);
    }

    #[test]
    fn steps_follow_the_flow() {
        use MatchState::*;
        assert_eq!(
            check_step(Proposed, MatchStep::Confirm, "").unwrap(),
            Confirmed
        );
        assert_eq!(
            check_step(Confirmed, MatchStep::Execute, "").unwrap(),
            Executed
        );
        assert_eq!(
            check_step(Executed, MatchStep::Complete, "").unwrap(),
            Completed
        );
        assert_eq!(
            check_step(Proposed, MatchStep::Execute, "")
                .unwrap_err()
                .code,
            "match.step_not_allowed"
        );
        assert_eq!(
            check_step(Confirmed, MatchStep::Abandon, " ")
                .unwrap_err()
                .field,
            "reason"
        );
        assert_eq!(
            check_step(Confirmed, MatchStep::Abandon, "家属已安排").unwrap(),
            Abandoned
        );
        assert!(check_step(Executed, MatchStep::Abandon, "x").is_err());
    }
}
