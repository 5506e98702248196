//! The message catalogue: Chinese first, English second. Every visible string comes from
//! `locales/<lang>/<capability>.toml` (one file per capability, merged at start); a test fails
//! when a key used anywhere is missing in either language.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh_cn" | "cn" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` cookie (set by the language switch) if it names a language we have; else the
    /// first language listed in Accept-Language (English for any `en…`); else Chinese. Pages use
    /// both; for the API `auth::context` removes the cookie first, so only Accept-Language
    /// counts there.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(l) =
            crate::http::auth::cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v))
        {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The first listed language decides; we do not weigh q-values beyond order.
        match accept
            .split(',')
            .next()
            .map(|s| s.split(';').next().unwrap_or("").trim())
        {
            Some(first) if first.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Zh,
        }
    }
}

pub const LANG_COOKIE: &str = "lang";

type Catalog = HashMap<String, &'static str>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalog) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, Box::leak(s.clone().into_boxed_str()));
            }
            other => panic!("catalogue value for {key} is not a string: {other:?}"),
        }
    }
}

fn load(src: &str) -> Catalog {
    let table: toml::Table = toml::from_str(src)
        .unwrap_or_else(|e| panic!("a locale file does not parse: {}", e.message()));
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

/// The shared catalogue; each area brings its own (`Area::messages`).
const CORE: crate::http::area::Messages = crate::http::area::messages!("core");

/// (file name, text) of every catalogue file of one language.
fn files(zh: bool) -> Vec<(&'static str, &'static str)> {
    std::iter::once(&CORE)
        .chain(crate::AREAS.iter().map(|a| &a.messages))
        .map(|m| (m.file, if zh { m.zh } else { m.en }))
        .collect()
}

fn load_all(files: &[(&str, &str)]) -> Catalog {
    let mut out = HashMap::new();
    for (name, src) in files {
        for (k, v) in load(src) {
            if out.insert(k.clone(), v).is_some() {
                panic!("message key {k} is defined twice (again in {name}.toml)");
            }
        }
    }
    out
}

pub static ZH: LazyLock<Catalog> = LazyLock::new(|| load_all(&files(true)));
pub static EN: LazyLock<Catalog> = LazyLock::new(|| load_all(&files(false)));

/// Stored times (epoch millis), optional or not, owned or borrowed.
pub trait Timestamp {
    fn millis(&self) -> Option<i64>;
}
impl Timestamp for i64 {
    fn millis(&self) -> Option<i64> {
        Some(*self)
    }
}
impl Timestamp for Option<i64> {
    fn millis(&self) -> Option<i64> {
        *self
    }
}
impl<T: Timestamp> Timestamp for &T {
    fn millis(&self) -> Option<i64> {
        (**self).millis()
    }
}

/// A translator for one language, handed to every template as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    fn catalog(&self) -> &'static Catalog {
        match self.lang {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The label of `code` in a family of code keys (`purchase.method` + `public_tender`).
    pub fn label(&self, family: &str, code: impl std::fmt::Display) -> String {
        self.get(&format!("{family}.{code}")).to_owned()
    }

    /// (code, label) of every value of a code set, for selects.
    pub fn options<T: Copy + std::fmt::Display>(
        &self,
        family: &str,
        all: &[T],
    ) -> Vec<(String, String)> {
        all.iter()
            .map(|v| (v.to_string(), self.label(family, v)))
            .collect()
    }

    /// The message for `key`; the key itself if missing (the catalogue test prevents that).
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        match self.catalog().get(key) {
            Some(s) => s,
            None => {
                tracing::warn!(key, "missing message key");
                key
            }
        }
    }

    /// The message for `key` when the catalogue has it (for labels that fall back to a code
    /// on purpose, without a "missing key" warning).
    pub fn try_get(&self, key: &str) -> Option<&'static str> {
        self.catalog().get(key).copied()
    }

    /// The message with `{name}` placeholders filled in.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.get(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// A figure as pages show it: digits grouped by thousands ("2,360", "1,234.5"); text that
    /// is not a plain number is returned as it is. Not for years, codes or input values.
    pub fn num(&self, n: impl std::fmt::Display) -> String {
        super::number::group(&n.to_string())
    }

    /// A role's display name.
    pub fn role(&self, role: &str) -> String {
        self.get(&format!("role.{role}")).to_owned()
    }

    /// Date-time in China Standard Time (UTC+8), which is what every user here reads; "—" for
    /// none. Takes stored millis by value or by reference (templates pass references).
    pub fn datetime(&self, millis: impl Timestamp) -> String {
        use chrono::{FixedOffset, TimeZone};
        let cst = FixedOffset::east_opt(8 * 3600);
        match cst
            .zip(millis.millis())
            .and_then(|(cst, m)| cst.timestamp_millis_opt(m).single())
        {
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => "—".into(),
        }
    }

    pub fn opt_datetime(&self, millis: impl Timestamp) -> String {
        self.datetime(millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn both_catalogues_have_the_same_keys_and_no_empty_values() {
        let zh: BTreeSet<_> = ZH.keys().collect();
        let en: BTreeSet<_> = EN.keys().collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty(), "keys missing in en.toml: {only_zh:?}");
        assert!(
            only_en.is_empty(),
            "keys missing in zh-CN.toml: {only_en:?}"
        );
        for (k, v) in ZH.iter().chain(EN.iter()) {
            assert!(!v.trim().is_empty(), "empty message for {k}");
        }
    }

    /// The crates' source and template files the key scans read.
    fn source_files() -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, files);
                } else if matches!(p.extension().and_then(|e| e.to_str()), Some("rs" | "html")) {
                    files.push(p);
                }
            }
        }
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut files = Vec::new();
        for sub in ["web/src", "web/templates", "domain/src", "store/src"] {
            walk(&std::path::Path::new(root).join(sub), &mut files);
        }
        // This file documents the call shapes with examples; it uses no keys itself.
        files.retain(|f| !f.ends_with("web/src/ui/i18n.rs"));
        files
    }

    /// A file's text up to its test module (tests build fields and keys of their own).
    fn non_test_text(f: &std::path::Path) -> String {
        let text = std::fs::read_to_string(f).unwrap();
        if f.to_string_lossy().ends_with("_tests.rs") {
            return String::new();
        }
        match text.find("#[cfg(test)]") {
            Some(i) => text[..i].to_owned(),
            None => text,
        }
    }

    /// Every key the code and templates use exists (in both, by the test above).
    #[test]
    fn every_used_key_exists() {
        let mut used = regex_lite_keys(&source_files());
        for (prefix, codes) in dynamic_families() {
            for c in codes {
                used.insert(format!("{prefix}.{c}"));
            }
        }
        used.extend(fixed_keys());
        assert!(
            used.len() > 50,
            "the key scan found too little: {}",
            used.len()
        );
        let missing: BTreeSet<String> = used.into_iter().filter(|k| !ZH.contains_key(k)).collect();
        assert!(
            missing.is_empty(),
            "keys used but not in the catalogue: {missing:?}"
        );
    }

    /// Every key family the code builds at run time (`format!("family.{…}")`, in code or a
    /// template) is one `dynamic_families` lists with all its values: a new family, or a value
    /// added to an enum without its message, fails here instead of showing a raw key.
    #[test]
    fn every_dynamic_key_family_is_covered() {
        let mut families: BTreeSet<&str> = dynamic_families().iter().map(|(p, _)| *p).collect();
        // Checked by `every_field_an_error_names_has_a_label`.
        families.insert("field");
        let built = built_families(&source_files());
        assert!(
            built.len() > 20,
            "the family scan found too little: {built:?}"
        );
        let unlisted: Vec<&String> = built
            .iter()
            .filter(|f| !families.contains(f.as_str()))
            .collect();
        assert!(
            unlisted.is_empty(),
            "key families built at run time but not checked in dynamic_families: {unlisted:?}"
        );
    }

    /// Every field a field error can name has a label (`field.<name>`): pages and the import
    /// report show an error as "label: message".
    #[test]
    fn every_field_an_error_names_has_a_label() {
        let fields = field_names(&source_files());
        assert!(
            fields.len() > 30,
            "the field scan found too little: {fields:?}"
        );
        let missing: Vec<String> = fields
            .into_iter()
            .map(|f| format!("field.{f}"))
            .filter(|k| !ZH.contains_key(k))
            .collect();
        assert!(missing.is_empty(), "fields without a label: {missing:?}");
    }

    fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|v| code(*v).to_owned()).collect()
    }

    fn strs(all: &[&str]) -> Vec<String> {
        all.iter().map(|v| (*v).to_owned()).collect()
    }

    type Families = Vec<(&'static str, Vec<String>)>;

    /// Each family of keys built at run time with every value it can take: from the domain's
    /// enums where there is one, else the values the schema allows (its CHECK constraints) or
    /// the code uses.
    fn dynamic_families() -> Families {
        let mut all = network_families();
        all.extend(people_families());
        all.extend(evidence_families());
        all.extend(tree_families());
        all.extend(workforce_families());
        all.extend(admin_families());
        all.extend(purchase_families());
        all.extend(timebank_families());
        all.extend(volunteer_families());
        all.extend(charity_families());
        all.extend(emergency_families());
        all.extend(hotline_families());
        all.extend(matching_families());
        use shegong_store::todo::Kind;
        all.push(("todo.kind", codes(&Kind::ALL, Kind::as_str)));
        let mut channels = codes(
            &shegong_domain::notify::ChannelKind::ALL,
            shegong_domain::notify::ChannelKind::as_str,
        );
        channels.push("in_app".into());
        all.push(("notify.channel", channels));
        all.extend(reports_families());
        // The offline app's script messages (`offline.<key>`, handed to the page as JSON).
        all.push(("offline", strs(crate::people::offline::SCRIPT_MESSAGES)));
        all
    }

    fn reports_families() -> Families {
        use shegong_domain::reports as r;
        vec![
            ("report.template", strs(&crate::reports::code::TEMPLATES)),
            (
                "report.state",
                codes(r::ReportState::ALL, r::ReportState::as_str),
            ),
            ("report.action", {
                let mut a = codes(r::Action::ALL, r::Action::as_str);
                a.push("cascade".into());
                a
            }),
            (
                "report.section",
                strs(&["affairs", "service", "volunteers", "resources"]),
            ),
            ("report.source", strs(&["counter", "records", "manual"])),
            (
                "report.line",
                strs(&[
                    "affairs_disability_cards",
                    "affairs_subsidy_applications",
                    "affairs_dibao_changes",
                    "affairs_tekun_changes",
                    "affairs_temporary_assistance",
                    "visits",
                    "visit_person_times",
                    "new_files",
                    "cases_followed",
                    "cases_opened",
                    "cases_closed",
                    "casework_sessions",
                    "group_sessions",
                    "group_person_times",
                    "community_activities",
                    "services_all",
                    "volunteers_active",
                    "volunteer_minutes",
                    "staff_active",
                    "linked_value_fen",
                    "funding_fen",
                ]),
            ),
        ]
    }

    fn matching_families() -> Families {
        use shegong_domain::matching as m;
        let kinds = codes(m::ResourceKind::ALL, m::ResourceKind::as_str);
        let mut why: Vec<String> = (0..=m::MAX_DISTANCE)
            .map(|d| format!("distance_{d}"))
            .collect();
        why.extend(strs(&[
            "skill",
            "intention",
            "available",
            "availability_unknown",
            "load",
            "no_load",
            "timebank",
        ]));
        for k in &kinds {
            why.push(format!("kind_{k}"));
            why.push(format!("described_{k}"));
            why.push(format!("remaining_{k}"));
        }
        vec![
            ("match.help", codes(m::HelpKind::ALL, m::HelpKind::as_str)),
            ("match.resource", kinds),
            (
                "match.state",
                codes(m::MatchState::ALL, m::MatchState::as_str),
            ),
            ("match.step", codes(m::MatchStep::ALL, m::MatchStep::as_str)),
            ("match.day_part", codes(m::DayPart::ALL, m::DayPart::as_str)),
            ("match.why", why),
            (
                "match.excluded",
                strs(&["too_far", "no_fit", "not_available", "exhausted"]),
            ),
            ("need.state", codes(m::NeedState::ALL, m::NeedState::as_str)),
            (
                "need.subject",
                codes(m::NeedSubject::ALL, m::NeedSubject::as_str),
            ),
            (
                "need.source",
                codes(m::NeedSource::ALL, m::NeedSource::as_str),
            ),
        ]
    }

    fn emergency_families() -> Families {
        use shegong_domain::emergency as em;
        vec![
            (
                "emergency.kind",
                codes(em::IncidentKind::ALL, em::IncidentKind::as_str),
            ),
            (
                "emergency.role",
                codes(em::TeamRole::ALL, em::TeamRole::as_str),
            ),
            (
                "emergency.state",
                codes(em::IncidentState::ALL, em::IncidentState::as_str),
            ),
            (
                "emergency.level",
                em::IncidentLevel::ALL
                    .iter()
                    .map(|l| format!("l{}", l.as_str()))
                    .collect(),
            ),
        ]
    }

    fn timebank_families() -> Families {
        use shegong_domain::timebank::{
            AccountKind, CapOverflow, EntryKind, HolderKind, TransferTo,
        };
        vec![
            (
                "timebank.entry_kind",
                codes(EntryKind::ALL, EntryKind::as_str),
            ),
            (
                "timebank.account_kind",
                codes(AccountKind::ALL, AccountKind::as_str),
            ),
            (
                "timebank.holder_kind",
                codes(HolderKind::ALL, HolderKind::as_str),
            ),
            (
                "timebank.transfer_to",
                codes(TransferTo::ALL, TransferTo::as_str),
            ),
            (
                "timebank.cap_overflow",
                codes(CapOverflow::ALL, CapOverflow::as_str),
            ),
        ]
    }

    fn hotline_families() -> Families {
        use shegong_domain::hotline as h;
        let mut steps = codes(h::Step::ALL, h::Step::as_str);
        steps.extend(strs(&["receive", "match", "outcome", "mirror"]));
        vec![
            (
                "hotline.kind",
                codes(h::HotlineKind::ALL, h::HotlineKind::as_str),
            ),
            (
                "hotline.weekday",
                (1..=7).map(|d: i32| d.to_string()).collect(),
            ),
            ("ticket.channel", codes(h::Channel::ALL, h::Channel::as_str)),
            (
                "ticket.category",
                codes(h::Category::ALL, h::Category::as_str),
            ),
            ("ticket.urgency", codes(h::Urgency::ALL, h::Urgency::as_str)),
            (
                "ticket.state",
                codes(h::TicketState::ALL, h::TicketState::as_str),
            ),
            ("ticket.step", steps),
            (
                "ticket.satisfaction",
                codes(h::Satisfaction::ALL, h::Satisfaction::as_str),
            ),
            ("ticket.outcome", codes(h::Outcome::ALL, h::Outcome::as_str)),
            (
                "ticket.level",
                (0..=4).map(|d: i32| d.to_string()).collect(),
            ),
            ("ticket.matched_by", strs(&["id_number", "earlier_ticket"])),
        ]
    }

    fn charity_families() -> Families {
        use shegong_domain::charity as ch;
        vec![
            (
                "charity.role",
                codes(ch::CommitteeRole::ALL, ch::CommitteeRole::as_str),
            ),
            (
                "charity.kind",
                codes(ch::DonationKind::ALL, ch::DonationKind::as_str),
            ),
            (
                "charity.channel",
                codes(ch::Channel::ALL, ch::Channel::as_str),
            ),
            (
                "charity.receipt",
                codes(ch::Receipt::ALL, ch::Receipt::as_str),
            ),
            (
                "charity.use_kind",
                codes(ch::UseKind::ALL, ch::UseKind::as_str),
            ),
            (
                "charity.wish_state",
                codes(ch::WishState::ALL, ch::WishState::as_str),
            ),
            ("charity.step", strs(&["claimed", "fulfilled", "confirmed"])),
            (
                "charity.target_kind",
                codes(ch::TargetKind::ALL, ch::TargetKind::as_str),
            ),
            (
                "charity.disbursement_state",
                codes(ch::DisbursementState::ALL, ch::DisbursementState::as_str),
            ),
            (
                "charity.move_kind",
                codes(ch::MoveKind::ALL, ch::MoveKind::as_str),
            ),
        ]
    }

    fn volunteer_families() -> Families {
        use shegong_domain::volunteers::VolunteerStatus;
        use shegong_domain::volunteers::activities::{ActivityStatus, HourState, SignInMethod};
        vec![
            (
                "volunteer.status",
                codes(VolunteerStatus::ALL, VolunteerStatus::as_str),
            ),
            (
                "activity.status",
                codes(ActivityStatus::ALL, ActivityStatus::as_str),
            ),
            ("hours.state", codes(HourState::ALL, HourState::as_str)),
            (
                "attendance.method",
                codes(SignInMethod::ALL, SignInMethod::as_str),
            ),
            ("signup.status", strs(&["signed_up", "withdrawn"])),
            ("volunteer.approver", strs(&["county", "city", "province"])),
            (
                "hours.step",
                strs(&["confirm", "record", "correct", "revoke"]),
            ),
        ]
    }

    fn tree_families() -> Families {
        vec![
            // The national default indicator tree's node names and graded levels, shown
            // translated (`purchase::evaluations::trees`).
            (
                "trees.builtin",
                strs(&[
                    "total",
                    "professional",
                    "management",
                    "core",
                    "core_delivery",
                    "core_quality",
                    "basic",
                    "basic_delivery",
                    "basic_quality",
                    "featured",
                    "outcomes",
                    "purchaser",
                    "daily_management",
                    "purchaser_outcomes",
                    "village_rating",
                    "supervisor",
                    "self_correction",
                    "rectification_follow_up",
                    "financial",
                ]),
            ),
            ("trees.level", strs(&["excellent", "good", "fair", "poor"])),
        ]
    }

    fn purchase_families() -> Families {
        use shegong_domain::purchase::instalment as ins;
        use shegong_domain::purchase::project::{NoticeKind, ProjectState};
        use shegong_domain::purchase::{catalogue as ca, contract as co, evaluation as ev};
        vec![
            (
                "purchase.field",
                codes(ca::ServiceField::ALL, ca::ServiceField::as_str),
            ),
            (
                "purchase.item_status",
                codes(ca::ItemStatus::ALL, ca::ItemStatus::as_str),
            ),
            (
                "purchase.level",
                codes(ca::PurchaserLevel::ALL, ca::PurchaserLevel::as_str),
            ),
            (
                "purchase.method",
                codes(co::ProcurementMethod::ALL, co::ProcurementMethod::as_str),
            ),
            (
                "purchase.state",
                codes(co::ContractState::ALL, co::ContractState::as_str),
            ),
            (
                "purchase.move",
                codes(co::ContractState::ALL, co::ContractState::as_str),
            ),
            (
                "purchase.budget",
                codes(co::BudgetCategory::ALL, co::BudgetCategory::as_str),
            ),
            (
                "purchase.rule",
                strs(&["each", "person_times", "group", "activity", "closed_case"]),
            ),
            (
                "purchase.tier",
                codes(co::LineTier::ALL, co::LineTier::as_str),
            ),
            (
                "purchase.trigger_kind",
                strs(&["date", "assessed_on", "evaluation"]),
            ),
            (
                "evaluation.kind",
                codes(ev::EvaluationKind::ALL, ev::EvaluationKind::as_str),
            ),
            (
                "evaluations.grade",
                codes(ev::Grade::ALL, ev::Grade::as_str),
            ),
            (
                "evaluations.scorer",
                strs(shegong_domain::purchase::indicator::Scorer::CODES),
            ),
            // The indicator tree editor's columns a row error names.
            (
                "trees.column",
                strs(&[
                    "id", "parent", "name", "max", "scorer", "steps", "role", "measures", "node",
                ]),
            ),
            (
                "project.state",
                codes(ProjectState::ALL, ProjectState::as_str),
            ),
            (
                "project.move",
                codes(ProjectState::ALL, ProjectState::as_str),
            ),
            (
                "project.notice_kind",
                codes(NoticeKind::ALL, NoticeKind::as_str),
            ),
            (
                "instalment.state",
                codes(ins::InstalmentState::ALL, ins::InstalmentState::as_str),
            ),
            (
                "instalment.outcome",
                codes(ins::AssessmentOutcome::ALL, ins::AssessmentOutcome::as_str),
            ),
            // The steps an instalment takes: every state but the first.
            (
                "instalment.step",
                strs(&["awaiting_assessment", "assessed", "requested", "paid"]),
            ),
        ]
    }

    fn network_families() -> Families {
        use shegong_domain::network::org::OrgKind;
        use shegong_domain::network::station as st;
        use shegong_domain::{RegionLevel, Role};
        vec![
            ("role", codes(&Role::ALL, Role::as_str)),
            (
                "org.link_kind",
                codes(
                    shegong_domain::network::org::LinkKind::ALL,
                    shegong_domain::network::org::LinkKind::as_str,
                ),
            ),
            (
                "region.level",
                codes(&RegionLevel::ALL, RegionLevel::as_str),
            ),
            ("region.kind", region_kinds()),
            ("station.tier", codes(st::Tier::ALL, st::Tier::as_str)),
            ("station.mode", codes(st::Mode::ALL, st::Mode::as_str)),
            ("station.status", codes(st::Status::ALL, st::Status::as_str)),
            ("station.room", codes(st::Room::ALL, st::Room::as_str)),
            (
                "station.source",
                codes(st::FundingSource::ALL, st::FundingSource::as_str),
            ),
            (
                "service.domain",
                codes(st::ServiceDomain::ALL, st::ServiceDomain::as_str),
            ),
            (
                "indicator.category",
                codes(st::Category::ALL, st::Category::as_str),
            ),
            (
                "indicator.evidence",
                codes(st::Evidence::ALL, st::Evidence::as_str),
            ),
            (
                "rectification.status",
                codes(st::Rectification::ALL, st::Rectification::as_str),
            ),
            ("org.kind", codes(&OrgKind::ALL, OrgKind::as_str)),
            ("org.status", strs(&["active", "inactive"])),
            (
                "attachment.kind",
                strs(&["photo", "rule", "evidence", "other"]),
            ),
        ]
    }

    /// A visit's evidence: who confirmed, how, and the region's rule.
    fn evidence_families() -> Families {
        use shegong_store::people::evidence::{ConfirmRule, ConfirmedBy};
        vec![
            (
                "visit.confirmed_by",
                codes(ConfirmedBy::ALL, ConfirmedBy::as_str),
            ),
            ("visit.confirmation", strs(&["tick", "signature"])),
            (
                "visit.confirm_rule",
                codes(ConfirmRule::ALL, ConfirmRule::as_str),
            ),
            ("visit.confirm_needed", strs(&["tick", "signature"])),
        ]
    }

    fn people_families() -> Families {
        use shegong_domain::people::{self as pe, identity};
        use shegong_store::people::contact::ContactBasis;
        vec![
            (
                "contact.basis",
                codes(ContactBasis::ALL, ContactBasis::as_str),
            ),
            (
                "idcard.type",
                codes(identity::IdType::ALL, identity::IdType::as_str),
            ),
            (
                "person.sex",
                codes(identity::Sex::ALL, identity::Sex::as_str),
            ),
            (
                "resident.relation",
                codes(pe::Relation::ALL, pe::Relation::as_str),
            ),
            (
                "resident.tier",
                codes(pe::RiskTier::ALL, pe::RiskTier::as_str),
            ),
            (
                "resident.status",
                codes(pe::ResidentStatus::ALL, pe::ResidentStatus::as_str),
            ),
            (
                "resident.disability",
                codes(pe::DisabilityCategory::ALL, pe::DisabilityCategory::as_str),
            ),
            (
                "resident.grade",
                codes(pe::DisabilityGrade::ALL, pe::DisabilityGrade::as_str),
            ),
            ("resident.due", strs(&["overdue", "today", "week"])),
            // Why a possible duplicate was flagged.
            (
                "resident.dup",
                strs(&["same_id", "same_birth_date", "same_region"]),
            ),
            (
                "case.stage",
                codes(pe::CaseStage::ALL, pe::CaseStage::as_str),
            ),
            ("case.state", strs(&["open", "pending"])),
            // A case waiting for a supervisor's decision ('' is none).
            ("case.pending", strs(&["plan", "closure"])),
            ("case.decide", strs(&["plan", "closure"])),
            (
                "case.event",
                strs(&[
                    "intake",
                    "assessment",
                    "plan",
                    "plan_approved",
                    "plan_returned",
                    "evaluation",
                    "closure_requested",
                    "closed",
                    "closure_returned",
                    "reopened",
                    "referred",
                    "referral_accepted",
                    "referral_declined",
                    "note",
                ]),
            ),
            // The text fields of case event bodies shown on the timeline.
            (
                "case.body",
                strs(&[
                    "text",
                    "problem",
                    "notes",
                    "goals",
                    "goals_met",
                    "summary",
                    "outcome",
                    "note",
                    "comment",
                    "reason",
                    "to",
                    "station",
                ]),
            ),
            (
                "case_outcome",
                codes(pe::CaseOutcome::ALL, pe::CaseOutcome::as_str),
            ),
            (
                "assessment.domain",
                codes(pe::AssessmentDomain::ALL, pe::AssessmentDomain::as_str),
            ),
            (
                "service.kind",
                codes(pe::ServiceKind::ALL, pe::ServiceKind::as_str),
            ),
            (
                "visit.method",
                codes(pe::VisitMethod::ALL, pe::VisitMethod::as_str),
            ),
        ]
    }

    fn workforce_families() -> Families {
        use shegong_domain::workforce as wf;
        vec![
            (
                "staff.role",
                codes(wf::StaffRole::ALL, wf::StaffRole::as_str),
            ),
            (
                "staff.employment",
                codes(wf::Employment::ALL, wf::Employment::as_str),
            ),
            ("staff.sector", codes(wf::Sector::ALL, wf::Sector::as_str)),
            (
                "staff.status",
                codes(wf::StaffStatus::ALL, wf::StaffStatus::as_str),
            ),
            (
                "certificate.level",
                codes(wf::CertLevel::ALL, wf::CertLevel::as_str),
            ),
            // The dashboard's tables and ranking indicators (`statistics::tables::TABLES`,
            // `statistics::dashboards::INDICATORS`).
            (
                "stats.table",
                strs(&[
                    "subregions",
                    "months",
                    "domains",
                    "categories",
                    "tiers",
                    "staff",
                    "certificates",
                    "funding",
                    "wushe",
                ]),
            ),
            // The 五社 table's partners and measures (`statistics::tables::wushe_rows`).
            (
                "stats.wushe",
                strs(&[
                    "community",
                    "social_org",
                    "social_worker",
                    "volunteer",
                    "charity",
                    "issues_answered",
                    "agency_services",
                    "services",
                    "volunteers",
                    "donations",
                ]),
            ),
            (
                "stats.ind",
                strs(&[
                    "records",
                    "person_times",
                    "hours",
                    "people",
                    "high_risk",
                    "staff",
                    "funding",
                    "volunteers",
                    "volunteer_hours",
                    "donated",
                    "disbursed",
                    "timebank_earned",
                    "issues_raised",
                ]),
            ),
        ]
    }

    fn admin_families() -> Families {
        vec![
            ("audit.entity", strs(crate::admin::audit::ENTITIES)),
            ("audit.action", strs(crate::admin::audit::ACTIONS)),
            ("audit.outcome", strs(&["success", "failure", "denied"])),
            ("audit.break", strs(&["missing", "link", "content", "head"])),
            // Error-page headings, chosen by status in `render::error_title_key`.
            (
                "error.title",
                strs(&[
                    "not_found",
                    "forbidden",
                    "csrf",
                    "invalid",
                    "internal",
                    "generic",
                ]),
            ),
        ]
    }

    fn region_kinds() -> Vec<String> {
        let kinds = [
            "province",
            "city",
            "city_group",
            "district",
            "county",
            "county_city",
            "county_zone",
            "street",
            "town",
            "township",
            "township_zone",
            "community",
            "village",
            "village_like",
        ];
        for k in kinds {
            assert!(shegong_domain::RegionKind::parse(k).is_some());
        }
        strs(&kinds)
    }

    /// Message keys that are not written out where they are used: parse errors of the codes,
    /// identity-number messages and unique-constraint messages.
    fn fixed_keys() -> Vec<String> {
        let mut keys = strs(&[
            "station.tier_unknown",
            "station.mode_unknown",
            "station.status_unknown",
            "station.room_unknown",
            "station.funding_source_unknown",
            "service.domain_unknown",
            "indicator.category_unknown",
            "indicator.evidence_unknown",
            "org.rating_unknown",
            "rectification.status_unknown",
            "date.invalid",
            "date.invalid_month",
        ]);
        keys.extend(strs(shegong_domain::people::identity::MESSAGE_CODES));
        keys.extend(
            shegong_store::UNIQUE_FIELDS
                .iter()
                .map(|(_, _, code)| (*code).to_owned()),
        );
        keys
    }

    /// The `family` of every key built as `t.get(&format!("family.{…}"))` (or `fmt`, or the
    /// templates' `t.get(format!(…))`) in the sources.
    fn built_families(files: &[std::path::PathBuf]) -> BTreeSet<String> {
        let openers = ["get(&format!(\"", "get(format!(\"", "fmt(&format!(\""];
        let mut out = BTreeSet::new();
        for f in files {
            let text = non_test_text(f);
            for (i, op) in openers.iter().flat_map(|op| text.match_indices(op)) {
                let rest = &text[i + op.len()..];
                let Some(end) = rest.find(".{") else { continue };
                let family = &rest[..end];
                if !family.is_empty()
                    && family
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
                {
                    out.insert(family.to_owned());
                }
            }
        }
        out
    }

    /// Field names a field error can carry (`field.<name>` labels the message): the first
    /// argument of `FieldError::new`, of the form checks (`c.text("name", …)`) and of the
    /// domain's code sets (`codes!(Tier, "tier", …)`).
    fn field_names(files: &[std::path::PathBuf]) -> Vec<String> {
        let openers = [
            "FieldError::new(\"",
            ".fail(\"",
            "c.text(\"",
            "c.opt_text(\"",
            "c.int(\"",
            "c.yuan(\"",
            "c.name(\"",
            "c.date(\"",
            "c.date_of(\"",
            "c.region(\"",
        ];
        let mut out = BTreeSet::new();
        for f in files {
            let text = non_test_text(f);
            for op in openers {
                for (i, _) in text.match_indices(op) {
                    let rest = &text[i + op.len()..];
                    if let Some(end) = rest.find('"') {
                        out.insert(rest[..end].to_owned());
                    }
                }
            }
            for line in text.lines() {
                // `    Tier, "tier", "station.tier_unknown" {` inside `codes!(`.
                let parts: Vec<&str> = line.trim().split('"').collect();
                if parts.len() == 5 && parts[0].ends_with(", ") && parts[4].trim() == "{" {
                    out.insert(parts[1].to_owned());
                }
            }
        }
        out.retain(|f| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
        });
        out.into_iter().collect()
    }

    /// Keys appear as `t.get("a.b")`, `t.fmt("a.b"`, `FieldError::new("f", "a.b")`,
    /// `msg!("a.b")` and in `code: "a.b"` positions. We scan for those call shapes.
    fn regex_lite_keys(files: &[std::path::PathBuf]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let openers = ["t.get(\"", "t.fmt(\"", "tr.get(\"", "tr.fmt(\"", "msg!(\""];
        for f in files {
            let text = std::fs::read_to_string(f).unwrap();
            for op in openers {
                for (i, _) in text.match_indices(op) {
                    let rest = &text[i + op.len()..];
                    if let Some(end) = rest.find('"') {
                        out.insert(rest[..end].to_owned());
                    }
                }
            }
            // FieldError::new("field", "code") — the second literal is a key.
            for (i, _) in text.match_indices("FieldError::new(") {
                let rest = &text[i..];
                let lits: Vec<&str> = rest.split('"').collect();
                if lits.len() > 4 && lits[2].trim() == "," {
                    out.insert(lits[3].to_owned());
                }
            }
        }
        out.retain(|k| k.contains('.') && !k.contains('{') && !k.ends_with('.'));
        out
    }
}
