//! Administrative divisions (NBS 统计用区划代码).
//!
//! The code is itself the materialised path: a township code starts with its county code, which
//! starts with its city and province codes. Scope checks are therefore prefix ranges on the code.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    City,
    County,
    Township,
    Village,
}

impl RegionLevel {
    pub const ALL: [RegionLevel; 5] = [
        RegionLevel::Province,
        RegionLevel::City,
        RegionLevel::County,
        RegionLevel::Township,
        RegionLevel::Village,
    ];

    pub fn code_len(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::City => 4,
            RegionLevel::County => 6,
            RegionLevel::Township => 9,
            RegionLevel::Village => 12,
        }
    }

    pub fn from_code_len(len: usize) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code_len() == len)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
            RegionLevel::Township => "township",
            RegionLevel::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn child(self) -> Option<Self> {
        match self {
            RegionLevel::Province => Some(RegionLevel::City),
            RegionLevel::City => Some(RegionLevel::County),
            RegionLevel::County => Some(RegionLevel::Township),
            RegionLevel::Township => Some(RegionLevel::Village),
            RegionLevel::Village => None,
        }
    }
}

/// What kind of unit a region is, derived from its code (and for counties from its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    Province,
    City,
    /// Pseudo-prefectures: 市辖区, 县, 省直辖县级行政区划.
    CityGroup,
    District,
    County,
    CountyCity,
    /// NBS 功能区 at county level (digits 5–6 in 71–80): development zones, not GB/T 2260 counties.
    CountyZone,
    Street,
    Town,
    Township,
    /// 政企合一/功能区 at township level (codes 400–599): farms, forests, development zones.
    TownshipZone,
    Community,
    Village,
    /// 类似居委会/村委会 (codes 400–599).
    VillageLike,
}

impl RegionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionKind::Province => "province",
            RegionKind::City => "city",
            RegionKind::CityGroup => "city_group",
            RegionKind::District => "district",
            RegionKind::County => "county",
            RegionKind::CountyCity => "county_city",
            RegionKind::CountyZone => "county_zone",
            RegionKind::Street => "street",
            RegionKind::Town => "town",
            RegionKind::Township => "township",
            RegionKind::TownshipZone => "township_zone",
            RegionKind::Community => "community",
            RegionKind::Village => "village",
            RegionKind::VillageLike => "village_like",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        use RegionKind::*;
        [
            Province,
            City,
            CityGroup,
            District,
            County,
            CountyCity,
            CountyZone,
            Street,
            Town,
            Township,
            TownshipZone,
            Community,
            Village,
            VillageLike,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Functional zones are counted separately from administrative units (coverage, targets).
    pub fn is_administrative(self) -> bool {
        !matches!(
            self,
            RegionKind::CountyZone | RegionKind::TownshipZone | RegionKind::CityGroup
        )
    }

    /// Derive the kind from the code and the official name.
    pub fn derive(code: &RegionCode, name: &str) -> Self {
        let c = code.as_str();
        match code.level() {
            RegionLevel::Province => RegionKind::Province,
            RegionLevel::City => {
                if is_pseudo_name(name) {
                    RegionKind::CityGroup
                } else {
                    RegionKind::City
                }
            }
            RegionLevel::County => {
                let n: u32 = c[4..6].parse().unwrap_or(0);
                if (71..=80).contains(&n) {
                    RegionKind::CountyZone
                } else if name.ends_with('区') {
                    RegionKind::District
                } else if name.ends_with('市') {
                    RegionKind::CountyCity
                } else {
                    RegionKind::County
                }
            }
            RegionLevel::Township => match c[6..9].parse::<u32>().unwrap_or(0) {
                1..=99 => RegionKind::Street,
                100..=199 => RegionKind::Town,
                200..=399 => RegionKind::Township,
                _ => RegionKind::TownshipZone,
            },
            RegionLevel::Village => match c[9..12].parse::<u32>().unwrap_or(0) {
                1..=199 => RegionKind::Community,
                200..=399 => RegionKind::Village,
                _ => RegionKind::VillageLike,
            },
        }
    }
}

/// Names of pseudo-prefectures, which carry no meaning in a displayed path.
pub fn is_pseudo_name(name: &str) -> bool {
    matches!(
        name,
        "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
    )
}

/// A validated region code: 2, 4, 6, 9 or 12 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if RegionLevel::from_code_len(s.len()).is_some() && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new("region", "region.invalid_code"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> RegionLevel {
        // The constructor accepts only the five code lengths; twelve digits is a village.
        RegionLevel::from_code_len(self.0.len()).unwrap_or(RegionLevel::Village)
    }

    pub fn parent(&self) -> Option<RegionCode> {
        let len = match self.level() {
            RegionLevel::Province => return None,
            RegionLevel::City => 2,
            RegionLevel::County => 4,
            RegionLevel::Township => 6,
            RegionLevel::Village => 9,
        };
        Some(Self(self.0[..len].to_owned()))
    }

    /// This code and all its ancestors, root first.
    pub fn lineage(&self) -> Vec<RegionCode> {
        let mut out = vec![self.clone()];
        while let Some(p) = out.last().and_then(|c| c.parent()) {
            out.push(p);
        }
        out.reverse();
        out
    }

    /// True when `other` is this region or lies below it.
    pub fn contains(&self, other: &str) -> bool {
        other.starts_with(&self.0)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> Self {
        c.0
    }
}

/// The half-open range of codes `[low, high)` that lie in the subtree of `prefix`.
/// ':' is the byte after '9', so every digit string starting with `prefix` sorts below it.
pub fn subtree_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}:"))
}

/// The display path of a region from the names of its lineage, pseudo-prefectures left out.
pub fn display_path<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .filter(|n| !is_pseudo_name(n))
        .collect::<Vec<_>>()
        .join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn levels_and_parents_follow_the_code() {
        let c = code("430203001010");
        assert_eq!(c.level(), RegionLevel::Village);
        let lineage: Vec<_> = c.lineage().iter().map(|c| c.to_string()).collect();
        assert_eq!(
            lineage,
            ["43", "4302", "430203", "430203001", "430203001010"]
        );
        assert_eq!(code("43").parent(), None);
    }

    #[test]
    fn invalid_codes_are_refused_with_the_field_named() {
        for bad in ["", "4", "430", "43020a", "4302030011", "一二"] {
            let err = RegionCode::parse(bad).unwrap_err();
            assert_eq!(err.field, "region");
        }
    }

    #[test]
    fn kinds_are_derived_from_code_ranges() {
        assert_eq!(
            RegionKind::derive(&code("430203001"), "贺家土街道"),
            RegionKind::Street
        );
        assert_eq!(
            RegionKind::derive(&code("430221100"), "x镇"),
            RegionKind::Town
        );
        assert_eq!(
            RegionKind::derive(&code("430221200"), "x乡"),
            RegionKind::Township
        );
        assert_eq!(
            RegionKind::derive(&code("430221400"), "x农场"),
            RegionKind::TownshipZone
        );
        assert_eq!(
            RegionKind::derive(&code("430271"), "x开发区"),
            RegionKind::CountyZone
        );
        assert_eq!(
            RegionKind::derive(&code("430203"), "芦淞区"),
            RegionKind::District
        );
        assert_eq!(
            RegionKind::derive(&code("430281"), "醴陵市"),
            RegionKind::CountyCity
        );
        assert_eq!(
            RegionKind::derive(&code("1101"), "市辖区"),
            RegionKind::CityGroup
        );
        assert_eq!(
            RegionKind::derive(&code("430203001010"), "大塘冲社区居委会"),
            RegionKind::Community
        );
        assert_eq!(
            RegionKind::derive(&code("430203001210"), "x村委会"),
            RegionKind::Village
        );
        assert!(!RegionKind::TownshipZone.is_administrative());
        assert!(RegionKind::Street.is_administrative());
    }

    #[test]
    fn subtree_range_contains_exactly_the_descendants() {
        let (lo, hi) = subtree_range("4302");
        for inside in ["4302", "430203", "430299999", "430203001010"] {
            assert!(inside >= lo.as_str() && inside < hi.as_str(), "{inside}");
        }
        for outside in ["43", "4303", "430", "4301999", "44"] {
            assert!(
                !(outside >= lo.as_str() && outside < hi.as_str()),
                "{outside}"
            );
        }
    }

    #[test]
    fn display_path_skips_pseudo_prefectures() {
        assert_eq!(
            display_path(["北京市", "市辖区", "东城区"]),
            "北京市 / 东城区"
        );
    }
}
