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

    /// The message with `{name}` placeholders filled in.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.get(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// A role's display name.
    pub fn role(&self, role: &str) -> String {
        self.get(&format!("role.{role}")).to_owned()
    }

    /// Date-time in China Standard Time (UTC+8), which is what every user here reads; "—" for
    /// none. Takes stored millis by value or by reference (templates pass references).
    pub fn datetime(&self, millis: impl Timestamp) -> String {
        use chrono::{FixedOffset, TimeZone};
        let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
        match millis
            .millis()
            .and_then(|m| cst.timestamp_millis_opt(m).single())
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

    /// Every key the code and templates use exists (in both, by the test above).
    #[test]
    fn every_used_key_exists() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut missing = BTreeSet::new();
        let mut files = Vec::new();
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
        for sub in ["web/src", "web/templates", "domain/src", "store/src"] {
            walk(&std::path::Path::new(root).join(sub), &mut files);
        }
        // This file documents the call shapes with examples; it uses no keys itself.
        files.retain(|f| !f.ends_with("web/src/ui/i18n.rs"));
        let mut used = regex_lite_keys(&files);
        // Keys built at run time from enums and stable codes.
        for r in shegong_domain::Role::ALL {
            used.insert(format!("role.{}", r.as_str()));
        }
        for l in shegong_domain::RegionLevel::ALL {
            used.insert(format!("region.level.{}", l.as_str()));
        }
        for k in [
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
        ] {
            assert!(shegong_domain::RegionKind::parse(k).is_some());
            used.insert(format!("region.kind.{k}"));
        }
        for o in ["success", "failure", "denied"] {
            used.insert(format!("audit.outcome.{o}"));
        }
        for b in ["missing", "link", "content", "head"] {
            used.insert(format!("audit.break.{b}"));
        }
        // Error-page headings, chosen by status in `render::error_title_key`.
        for e in [
            "not_found",
            "forbidden",
            "csrf",
            "invalid",
            "internal",
            "generic",
        ] {
            used.insert(format!("error.title.{e}"));
        }
        use shegong_domain::network::station as st;
        let station_codes: Vec<(&str, Vec<&str>)> = vec![
            (
                "station.tier",
                st::Tier::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "station.mode",
                st::Mode::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "station.status",
                st::Status::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "station.room",
                st::Room::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "station.source",
                st::FundingSource::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "service.domain",
                st::ServiceDomain::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "indicator.category",
                st::Category::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "indicator.evidence",
                st::Evidence::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "rectification.status",
                st::Rectification::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "attachment.kind",
                vec!["photo", "rule", "evidence", "other"],
            ),
        ];
        for (prefix, codes) in station_codes {
            for c in codes {
                used.insert(format!("{prefix}.{c}"));
            }
        }
        for err in [
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
        ] {
            used.insert(err.to_owned());
        }
        for e in crate::admin::audit::ENTITIES {
            used.insert(format!("audit.entity.{e}"));
        }
        for a in crate::admin::audit::ACTIONS {
            used.insert(format!("audit.action.{a}"));
        }
        for code in shegong_domain::people::identity::MESSAGE_CODES {
            used.insert((*code).to_owned());
        }
        for (_, _, code) in shegong_store::UNIQUE_FIELDS {
            used.insert((*code).to_owned());
        }
        assert!(
            used.len() > 50,
            "the key scan found too little: {}",
            used.len()
        );
        for k in used {
            if !ZH.contains_key(&k) {
                missing.insert(k);
            }
        }
        assert!(
            missing.is_empty(),
            "keys used but not in the catalogue: {missing:?}"
        );
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
