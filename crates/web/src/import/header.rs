//! Which column a header cell names, as offices really write headers: any bracket kind, full- or
//! half-width, line breaks, "*"/"必填" markers, a unit in brackets ("配备资金（万元）") and the
//! many wordings of one field. [`match_header`] answers with the column and the unit its header
//! gives, which `import::cells` applies to bare numbers.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use shegong_domain::money::MoneyUnit;

use crate::import::schema::{Column, Kind, Schema};
use crate::import::sheet::normalize;

/// Headers that name the county (区县) of a row, for the `county` column of stations and
/// residents.
pub const COUNTY_SYNONYMS: &[&str] = &[
    "所属县（市、区）",
    "所在县（市、区）",
    "县（市、区）",
    "县（市区）",
    "县市区",
    "县（区）",
    "区县",
    "县区",
    "区/县",
    "县/区",
    "所属区县",
    "所在区县",
    "所属县区",
    "所在县区",
    "所属县市区",
    "县区名称",
    "区县名称",
    "county",
];

/// What a header cell names: a schema column and the unit its header gives, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    pub key: &'static str,
    pub unit: Option<Unit>,
}

/// A unit a header states for its column's numbers. Counters (人, 个, 名) are not units: a
/// header "工作人员数（人）" matches its column without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// 元, 千元, 万元, 亿元: bare numbers in a money column count in it.
    Money(MoneyUnit),
    /// ㎡, 平方米: what area columns hold anyway.
    SquareMetre,
}

impl Unit {
    /// Whether a column of `kind` can take numbers in this unit.
    pub fn fits(self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (Unit::Money(_), Kind::Money) | (Unit::SquareMetre, Kind::Area)
        )
    }

    /// The money unit, for a money column.
    pub fn money(self) -> Option<MoneyUnit> {
        match self {
            Unit::Money(unit) => Some(unit),
            Unit::SquareMetre => None,
        }
    }
}

/// The column `header` names in `schema`, and the unit the header gives when it fits the column.
/// Labels in either language, keys and synonyms all match after [`header_key`]; a bracketed unit
/// is split off first, and a bracket that is not a unit is tried both kept and dropped
/// ("所属县（市、区）" also matches "所属县"). A header with a unit we cannot convert
/// ("面积（亩）", "资金（美元）") matches only a spelling that has that very unit.
pub fn match_header(schema: &Schema, header: &str) -> Option<Matched> {
    HeaderIndex::cached(schema).find(header)
}

/// The unit a header gives ("配备资金（万元）" → 万元, "面积/㎡" → ㎡), whichever column it is
/// mapped to: check it against the column with [`Unit::fits`].
pub fn unit_in(header: &str) -> Option<Unit> {
    unit_of_key(&header_key(header))
}

fn unit_of_key(key: &str) -> Option<Unit> {
    pieces(key).iter().find_map(|piece| match piece {
        Piece::Group(content) => match classify(content) {
            Bracket::Unit(unit) => Some(unit),
            _ => None,
        },
        Piece::Text(_) => None,
    })
}

/// A header cell reduced to what identifies it: full-width to half-width, every bracket kind as
/// "(" and ")", no spaces or line breaks, no required/optional markers ("*", "（必填）", "选填"),
/// no trailing colon, ASCII lower case.
pub fn header_key(s: &str) -> String {
    const MARKERS: [&str; 6] = ["(必填)", "(选填)", "(非必填)", "(可选)", "(可空)", "(必须)"];
    let mut key: String = normalize(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '★')
        .map(|c| match c {
            '[' | '{' | '【' | '〔' | '〖' | '﹙' | '〈' | '「' => '(',
            ']' | '}' | '】' | '〕' | '〗' | '﹚' | '〉' | '」' => ')',
            c => c,
        })
        .collect();
    for marker in MARKERS {
        key = key.replace(marker, "");
    }
    let mut trimmed = key.trim_end_matches(':');
    while let Some(rest) = ["必填", "选填"]
        .iter()
        .find_map(|m| trimmed.strip_suffix(m).filter(|r| !r.is_empty()))
    {
        trimmed = rest;
    }
    trimmed.to_ascii_lowercase()
}

/// Every spelling of a schema's columns, as looked up: exact spellings first, then their forms
/// without brackets. A form two columns share belongs to neither (`None`).
pub struct HeaderIndex {
    names: HashMap<String, Option<&'static Column>>,
}

impl HeaderIndex {
    pub fn new(schema: &Schema) -> HeaderIndex {
        let columns: &'static [Column] = schema.columns;
        let mut names: HashMap<String, Option<&'static Column>> = HashMap::new();
        for column in columns {
            for spelling in spellings(column) {
                let key = header_key(spelling);
                if !key.is_empty() {
                    names.entry(key).or_insert(Some(column));
                }
            }
        }
        let mut derived: HashMap<String, Option<&'static Column>> = HashMap::new();
        for column in columns {
            for spelling in spellings(column) {
                for form in forms(&header_key(spelling)).into_iter().skip(1) {
                    if form.is_empty() || names.contains_key(&form) {
                        continue;
                    }
                    let claim = derived.entry(form).or_insert(Some(column));
                    if claim.is_some_and(|c| c.key != column.key) {
                        *claim = None;
                    }
                }
            }
        }
        names.extend(derived);
        HeaderIndex { names }
    }

    /// The index of a schema, built once: schemas' columns are `'static`, so their address
    /// identifies them for the life of the process.
    fn cached(schema: &Schema) -> Arc<HeaderIndex> {
        /// Keyed by the address and length of the schema's columns.
        type Indexes = HashMap<(usize, usize), Arc<HeaderIndex>>;
        static INDEXES: LazyLock<RwLock<Indexes>> = LazyLock::new(Default::default);
        let id = (schema.columns.as_ptr() as usize, schema.columns.len());
        if let Some(index) = INDEXES.read().ok().and_then(|m| m.get(&id).cloned()) {
            return index;
        }
        let index = Arc::new(HeaderIndex::new(schema));
        if let Ok(mut indexes) = INDEXES.write() {
            indexes.insert(id, Arc::clone(&index));
        }
        index
    }

    /// See [`match_header`].
    pub fn find(&self, header: &str) -> Option<Matched> {
        let key = header_key(header);
        if key.is_empty() {
            return None;
        }
        let column = forms(&key)
            .iter()
            .find_map(|form| self.names.get(form).copied().flatten())?;
        let unit = unit_of_key(&key);
        Some(Matched {
            key: column.key,
            unit: unit.filter(|u| u.fits(column.kind)),
        })
    }

    /// Forms two columns of the schema share, which match neither.
    #[cfg(test)]
    fn ambiguous(&self) -> Vec<&str> {
        let mut forms: Vec<&str> = self
            .names
            .iter()
            .filter(|(_, column)| column.is_none())
            .map(|(form, _)| form.as_str())
            .collect();
        forms.sort_unstable();
        forms
    }
}

fn spellings(column: &Column) -> impl Iterator<Item = &'static str> {
    [column.label_zh, column.label_en, column.key]
        .into_iter()
        .chain(column.synonyms.iter().copied())
}

/// What a bracket in a header says.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bracket {
    Unit(Unit),
    /// 人, 个, 名: no unit, dropped.
    Counter,
    /// 亩, 美元, 万人: a unit we do not convert.
    Foreign,
    /// Part of the name: "（市、区）", "（街道）".
    Name,
}

fn classify(content: &str) -> Bracket {
    let content = content
        .strip_prefix("单位:")
        .or_else(|| content.strip_prefix("单位"))
        .unwrap_or(content);
    match content {
        "元" | "人民币元" | "人民币" | "rmb" | "yuan" | "cny" => {
            Bracket::Unit(Unit::Money(MoneyUnit::Yuan))
        }
        "千元" => Bracket::Unit(Unit::Money(MoneyUnit::ThousandYuan)),
        "万元" | "万" | "万元人民币" | "10kyuan" | "10,000yuan" => {
            Bracket::Unit(Unit::Money(MoneyUnit::TenThousandYuan))
        }
        "亿元" | "亿" => Bracket::Unit(Unit::Money(MoneyUnit::HundredMillionYuan)),
        "㎡" | "m²" | "m2" | "平方米" | "平米" | "sqm" | "sq.m" | "sq.m." => {
            Bracket::Unit(Unit::SquareMetre)
        }
        "人" | "个" | "名" | "位" | "户" | "次" | "人次" | "家" | "所" | "处" | "间" | "项"
        | "people" | "persons" => Bracket::Counter,
        "亩" | "公顷" | "平方公里" | "km²" | "km2" | "万平方米" | "美元" | "港币" | "欧元"
        | "千人" | "万人" | "万人次" | "%" | "‰" | "百分比" | "小时" | "天" | "月" | "年" => {
            Bracket::Foreign
        }
        _ => Bracket::Name,
    }
}

/// A header key as text outside brackets and the brackets' contents.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Group(&'a str),
}

/// "配备资金(万元)" → [Text "配备资金", Group "万元"]; an unclosed "(" is text. A unit after a
/// slash ("经费/万元") counts as a bracket.
fn pieces(key: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = key;
    while let Some(open) = rest.find('(') {
        let (before, from) = rest.split_at(open);
        let Some(close) = from.find(')') else { break };
        if !before.is_empty() {
            pieces.push(Piece::Text(before));
        }
        pieces.push(Piece::Group(from.get(1..close).unwrap_or("")));
        rest = from.get(close + 1..).unwrap_or("");
    }
    if let Some((name, unit)) = rest.rsplit_once('/')
        && !name.is_empty()
        && !matches!(classify(unit), Bracket::Name)
    {
        pieces.push(Piece::Text(name));
        pieces.push(Piece::Group(unit));
    } else if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    pieces
}

/// The forms a header key is looked up by, best first: as written; without its unit and counter
/// brackets; then also without the other brackets, or with their contents kept
/// ("乡镇(街道)" → "乡镇", "乡镇街道"). A unit we cannot convert keeps only the first.
fn forms(key: &str) -> Vec<String> {
    let pieces = pieces(key);
    let mut forms = vec![key.to_owned()];
    let brackets: Vec<Bracket> = pieces
        .iter()
        .map(|piece| match piece {
            Piece::Group(content) => classify(content),
            Piece::Text(_) => Bracket::Name,
        })
        .collect();
    if brackets.contains(&Bracket::Foreign) {
        return forms;
    }
    let mut unitless = String::new();
    let mut bare = String::new();
    let mut unwrapped = String::new();
    for (piece, bracket) in pieces.iter().zip(&brackets) {
        match (piece, bracket) {
            (Piece::Text(text), _) => {
                unitless.push_str(text);
                bare.push_str(text);
                unwrapped.push_str(text);
            }
            (Piece::Group(content), Bracket::Name) => {
                unitless.push('(');
                unitless.push_str(content);
                unitless.push(')');
                unwrapped.push_str(content);
            }
            (Piece::Group(_), _) => {}
        }
    }
    for form in [unitless, bare, unwrapped] {
        if !form.is_empty() && !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
