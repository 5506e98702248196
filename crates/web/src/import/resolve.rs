//! Resolving the names a sheet gives (regions, organisations) against what the importing user's
//! scope sees, each list loaded once per sheet.

use std::collections::{HashMap, HashSet};

use shegong_domain::{RegionLevel, Scope};
use shegong_store::Conn;
use shegong_store::import::lookups::{self, RegionName};
use shegong_store::network::orgs::{self, Org};

use crate::http::error::WebResult;
use crate::import::sheet;

/// Why a region name did not resolve: the message key and what fills `{candidates}`.
pub type RegionMiss = (&'static str, String);

/// Regions of one level in scope, for resolving names.
pub struct RegionIndex {
    pub rows: Vec<RegionName>,
    level: RegionLevel,
    /// Names of the level outside the scope (not for villages: too many to hold).
    elsewhere: HashSet<String>,
}

impl RegionIndex {
    pub async fn load(conn: &mut Conn, scope: &Scope, level: RegionLevel) -> WebResult<Self> {
        let rows = lookups::regions(conn, scope, level).await?;
        let elsewhere = if scope.prefix().is_empty() || level == RegionLevel::Village {
            HashSet::new()
        } else {
            let inside: HashSet<&str> = rows.iter().map(|(_, n, _)| n.as_str()).collect();
            lookups::region_names_anywhere(conn, level)
                .await?
                .into_iter()
                .filter(|n| !inside.contains(n.as_str()))
                .collect()
        };
        Ok(Self {
            rows,
            level,
            elsewhere,
        })
    }

    /// The name a text gives that exists only outside the scope: the whole text, or what
    /// follows a parent's name ("长沙市天心区坡子街街道" → "坡子街街道").
    fn outside(&self, compact: &str) -> Option<String> {
        const PARENT_ENDS: [char; 7] = ['省', '市', '区', '县', '州', '旗', '盟'];
        std::iter::once(compact)
            .chain(
                compact
                    .char_indices()
                    .filter(|(_, c)| PARENT_ENDS.contains(c))
                    .map(|(i, c)| compact.get(i + c.len_utf8()..).unwrap_or("")),
            )
            .find(|name| !name.is_empty() && self.elsewhere.contains(*name))
            .map(str::to_owned)
    }

    /// A code, or a name optionally preceded by its parents' names ("芦淞区贺家土街道").
    pub fn resolve(&self, text: &str) -> Result<String, RegionMiss> {
        let text = text.trim();
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match self.rows.iter().find(|(c, _, _)| c == text) {
                Some((c, _, _)) => Ok(c.clone()),
                None if RegionLevel::from_code_len(text.len()) == Some(self.level) => {
                    Err(("import.region_not_found", text.to_owned()))
                }
                None => Err(("import.region_wrong_level", text.to_owned())),
            };
        }
        let compact: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("")
            .replace(['/', '／'], "");
        let found: Vec<&RegionName> = self
            .rows
            .iter()
            .filter(|(_, name, _)| compact.ends_with(name.as_str()))
            .collect();
        match narrow(&compact, found).as_slice() {
            [one] => Ok(one.0.clone()),
            [] => match self.outside(&compact) {
                Some(name) => Err(("import.region_outside_scope", name)),
                None => Err(("import.region_not_found", text.to_owned())),
            },
            many => Err(("import.region_ambiguous", candidates(many))),
        }
    }
}

/// A place's name with its county's before it, to tell apart places of the same name in two
/// counties ("芦淞区" + "城关镇"); a code stands on its own.
pub fn within(county: &str, place: &str) -> String {
    if county.is_empty() || place.bytes().all(|b| b.is_ascii_digit()) {
        place.to_owned()
    } else {
        format!("{county}{place}")
    }
}

/// Several regions end with the name: keep those whose parents (one or two levels up) are
/// named before it, if any are.
fn narrow<'a>(compact: &str, found: Vec<&'a RegionName>) -> Vec<&'a RegionName> {
    let Some(first) = found.first().filter(|_| found.len() > 1) else {
        return found;
    };
    let prefix = compact
        .get(..compact.len().saturating_sub(first.1.len()))
        .unwrap_or("");
    let narrowed: Vec<&RegionName> = found
        .iter()
        .copied()
        .filter(|(_, name, path)| {
            let parents: Vec<&str> = path.split('/').filter(|p| *p != name.as_str()).collect();
            !prefix.is_empty() && parents.iter().rev().take(2).any(|p| prefix.contains(p))
        })
        .collect();
    if narrowed.is_empty() { found } else { narrowed }
}

/// Every candidate (up to twenty), as "湖南省株洲市芦淞区贺家土街道（430203001）".
fn candidates(many: &[&RegionName]) -> String {
    many.iter()
        .take(20)
        .map(|(c, _, p)| {
            format!(
                "{}（{c}）",
                shegong_domain::network::region::display_path(p.split('/'))
            )
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// Organisations visible in scope by normalised name and by USCC.
pub struct OrgIndex {
    pub all: Vec<Org>,
    by_name: HashMap<String, Vec<usize>>,
    by_uscc: HashMap<String, usize>,
}

impl OrgIndex {
    pub async fn load(conn: &mut Conn, scope: &Scope) -> WebResult<Self> {
        let all = orgs::list(conn, scope).await?;
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_uscc = HashMap::new();
        for (i, o) in all.iter().enumerate() {
            by_name
                .entry(sheet::normalize(&o.name))
                .or_default()
                .push(i);
            if let Some(u) = &o.uscc {
                by_uscc.entry(u.clone()).or_insert(i);
            }
        }
        Ok(Self {
            all,
            by_name,
            by_uscc,
        })
    }

    /// An organisation named by its credit code or its name: its id.
    pub fn resolve(&self, text: &str) -> Result<String, &'static str> {
        let found = match self.by_uscc.get(&text.trim().to_ascii_uppercase()) {
            Some(&i) => Some(i),
            None => match self.by_name.get(&sheet::normalize(text)).map(Vec::as_slice) {
                Some([one]) => Some(*one),
                Some([_, ..]) => return Err("import.org_ambiguous"),
                _ => None,
            },
        };
        found
            .and_then(|i| self.all.get(i))
            .map(|o| o.id.clone())
            .ok_or("import.org_not_found")
    }

    /// The organisation an import row is about, by its natural key (as `orgs::find_by_key`):
    /// the credit code when there is one, else registration region and exact name.
    pub fn by_key(&self, uscc: Option<&str>, region: &str, name: &str) -> Option<&Org> {
        match uscc.filter(|u| !u.is_empty()) {
            Some(u) => self.all.iter().find(|o| o.uscc.as_deref() == Some(u)),
            None => self
                .all
                .iter()
                .find(|o| o.region_code == region && o.name == name.trim()),
        }
    }
}
