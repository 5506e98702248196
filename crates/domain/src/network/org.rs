//! Organisations: social work agencies, civil-affairs bureaus, township governments.

use serde::{Deserialize, Serialize};

use crate::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 社会工作服务机构
    Agency,
    /// 民政部门
    CivilAffairsBureau,
    /// 乡镇人民政府/街道办事处
    TownshipGovernment,
    Other,
}

impl OrgKind {
    pub const ALL: [OrgKind; 4] = [
        OrgKind::Agency,
        OrgKind::CivilAffairsBureau,
        OrgKind::TownshipGovernment,
        OrgKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Agency => "agency",
            OrgKind::CivilAffairsBureau => "civil_affairs_bureau",
            OrgKind::TownshipGovernment => "township_government",
            OrgKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or(FieldError::new("kind", "org.kind_unknown"))
    }
}

/// The outcome of checking a Unified Social Credit Code (GB 32100-2015).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsccCheck {
    Valid(String),
    /// Well-formed, but the check character disagrees. Some early real codes do: warn, keep.
    CheckMismatch(String),
}

const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Normalise (trim, upper-case, full-width to ASCII) and check a USCC.
pub fn check_uscc(input: &str) -> Result<UsccCheck, FieldError> {
    let code: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF5A}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect::<String>()
        .to_ascii_uppercase();
    let values: Option<Vec<u32>> = code
        .chars()
        .map(|c| USCC_ALPHABET.find(c).map(|i| i as u32))
        .collect();
    let values = match values {
        Some(v) if v.len() == 18 => v,
        _ => return Err(FieldError::new("uscc", "uscc.invalid_format")),
    };
    let Some((check, body)) = values.split_last() else {
        return Err(FieldError::new("uscc", "uscc.invalid_format"));
    };
    let sum: u32 = body.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
    let expected = (31 - sum % 31) % 31;
    if *check == expected {
        Ok(UsccCheck::Valid(code))
    } else {
        Ok(UsccCheck::CheckMismatch(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_check_character() {
        assert_eq!(
            check_uscc("91350100M000100Y43"),
            Ok(UsccCheck::Valid("91350100M000100Y43".into()))
        );
        assert_eq!(
            check_uscc(" ９1350100m000100y43 "),
            Ok(UsccCheck::Valid("91350100M000100Y43".into()))
        );
        assert!(matches!(
            check_uscc("91350100M0001TGQXM"),
            Ok(UsccCheck::CheckMismatch(_))
        ));
        assert_eq!(check_uscc("9135").unwrap_err().field, "uscc");
        assert_eq!(
            check_uscc("91350100I000100Y43").unwrap_err().code,
            "uscc.invalid_format"
        );
    }
}

codes!(
    /// How two organisations are tied: 同一法人, 母子公司/举办单位, 管理人员交叉任职, other.
    LinkKind, "kind", "org.link_kind_unknown" {
        SameLegalPerson = "same_legal_person",
        ParentSubsidiary = "parent_subsidiary",
        SharedManagement = "shared_management",
        Other = "other",
    }
);

/// A link is stored once, the smaller id first, so either side finds it with one look-up.
pub fn link_pair<'a>(a: &'a str, b: &'a str) -> Result<(&'a str, &'a str), FieldError> {
    if a == b {
        return Err(FieldError::new("linked_org_id", "org.link_self"));
    }
    Ok(if a < b { (a, b) } else { (b, a) })
}

#[cfg(test)]
mod link_tests {
    use super::*;

    #[test]
    fn a_link_is_one_pair_whichever_side_names_it() {
        assert_eq!(link_pair("b", "a"), Ok(("a", "b")));
        assert_eq!(link_pair("a", "b"), Ok(("a", "b")));
        assert_eq!(link_pair("a", "a").unwrap_err().code, "org.link_self");
    }
}
