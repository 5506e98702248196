//! 志愿服务 (volunteering), first slice: the volunteer registry's rules.
//!
//! 《志愿服务条例》 art. 7 asks volunteers to register identity, skills, service time and contact;
//! 民政部令第67号 keeps the identity number out of public use with a volunteer number of its own
//! (志愿者编号). Minors register under conditions (东营 rules): under 14 with a guardian's consent,
//! under 10 only accompanied.

pub mod activities;
pub mod attendance;

use chrono::NaiveDate;

use crate::FieldError;
use crate::people::age_on;

codes!(
    /// 在册 / 暂停 (suspended: not offered activities) / 已退出.
    VolunteerStatus, "status", "volunteer.status_unknown" {
        Active = "active",
        Suspended = "suspended",
        Left = "left",
    }
);

/// Under this age a volunteer needs a guardian's name and consent.
pub const GUARDIAN_CONSENT_AGE: u32 = 14;
/// Under this age a volunteer serves only accompanied.
pub const ACCOMPANIED_AGE: u32 = 10;
/// At most this many skills or intentions, each at most `TAG_MAX_CHARS` characters.
pub const TAGS_MAX: usize = 20;
pub const TAG_MAX_CHARS: usize = 20;

/// What the minors' rules look at.
#[derive(Debug, Clone, Default)]
pub struct Minor<'a> {
    pub guardian_name: &'a str,
    pub guardian_consent_on: Option<&'a str>,
    pub accompanied: bool,
}

/// The minors' rules on `today`: under 14, a guardian's name and the date of their consent; under
/// 10, the accompaniment flag. Every failure, each naming its field.
pub fn check_minor(birth: NaiveDate, today: NaiveDate, m: &Minor<'_>) -> Vec<FieldError> {
    let age = age_on(birth, today);
    let mut errors = Vec::new();
    if age < GUARDIAN_CONSENT_AGE {
        if m.guardian_name.trim().is_empty() {
            errors.push(FieldError::new(
                "guardian_name",
                "volunteer.guardian_required",
            ));
        }
        if m.guardian_consent_on.is_none_or(|d| d.trim().is_empty()) {
            errors.push(FieldError::new(
                "guardian_consent_on",
                "volunteer.consent_required",
            ));
        }
    }
    if age < ACCOMPANIED_AGE && !m.accompanied {
        errors.push(FieldError::new(
            "accompanied",
            "volunteer.accompaniment_required",
        ));
    }
    errors
}

/// Skills or service intentions as typed ("养老照护、心理疏导", one per line, or comma separated):
/// trimmed, blanks and repeats dropped, bounded in number and length.
pub fn parse_tags(field: &'static str, text: &str) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for t in text
        .split(['、', ',', '，', ';', '；', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if t.chars().count() > TAG_MAX_CHARS {
            return Err(FieldError::new(field, "volunteer.tag_too_long"));
        }
        if !out.iter().any(|x| x == t) {
            out.push(t.to_owned());
        }
    }
    if out.len() > TAGS_MAX {
        return Err(FieldError::new(field, "volunteer.too_many_tags"));
    }
    Ok(out)
}

/// The stored form of a tag list (the separator no tag contains).
pub fn join_tags(tags: &[String]) -> String {
    tags.join("、")
}

/// The stored tag list read back.
pub fn split_tags(stored: &str) -> Vec<String> {
    stored
        .split('、')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The volunteer number (志愿者编号): `V`, the township of registration (nine digits) and a
/// five-digit sequence within it. Never the identity number.
pub fn volunteer_no(township: &str, seq: u32) -> String {
    format!("V{township}{seq:05}")
}

/// The sequence after the highest number issued for `township` (`None`: the first).
pub fn next_seq(township: &str, highest: Option<&str>) -> Result<u32, FieldError> {
    let Some(h) = highest else { return Ok(1) };
    let n: u32 = h
        .strip_prefix('V')
        .and_then(|r| r.strip_prefix(township))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if n >= 99_999 {
        return Err(FieldError::new("region", "volunteer.numbers_exhausted"));
    }
    Ok(n + 1)
}

/// A team's standing: a registered team names its registration number (统一社会信用代码); an
/// unregistered one serves under a liaison station (联络团体). Every failure, named.
pub fn check_team(
    registered: bool,
    registration_no: Option<&str>,
    station: bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if registered && registration_no.is_none_or(|n| n.trim().is_empty()) {
        errors.push(FieldError::new(
            "registration_no",
            "team.registration_no_required",
        ));
    }
    if !registered && !station {
        errors.push(FieldError::new("station", "team.liaison_required"));
    }
    errors
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn minors_need_consent_and_the_youngest_company() {
        let today = d("2026-06-01");
        let none = Minor::default();
        assert!(
            check_minor(d("2012-06-01"), today, &none).is_empty(),
            "14 today"
        );
        let fields: Vec<&str> = check_minor(d("2012-06-02"), today, &none)
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["guardian_name", "guardian_consent_on"]);
        let consented = Minor {
            guardian_name: "王丽",
            guardian_consent_on: Some("2026-05-01"),
            accompanied: false,
        };
        assert!(check_minor(d("2015-01-01"), today, &consented).is_empty());
        let young = check_minor(d("2017-01-01"), today, &consented);
        assert_eq!(young.len(), 1);
        assert_eq!(young[0].field, "accompanied");
        let with = Minor {
            accompanied: true,
            ..consented
        };
        assert!(check_minor(d("2017-01-01"), today, &with).is_empty());
    }

    #[test]
    fn tags_are_split_bounded_and_unique() {
        assert_eq!(
            parse_tags("skills", "养老照护、心理疏导, 养老照护\n\n电脑维修").unwrap(),
            ["养老照护", "心理疏导", "电脑维修"]
        );
        assert_eq!(
            parse_tags("skills", &"长".repeat(21)).unwrap_err().code,
            "volunteer.tag_too_long"
        );
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(
            parse_tags("intentions", &many.join(",")).unwrap_err().field,
            "intentions"
        );
        let tags = parse_tags("skills", "a、b").unwrap();
        assert_eq!(split_tags(&join_tags(&tags)), tags);
    }

    #[test]
    fn teams_are_registered_or_hosted() {
        assert!(check_team(true, Some("51430203MJJ000000X"), false).is_empty());
        assert!(check_team(false, None, true).is_empty());
        assert_eq!(
            check_team(true, Some(" "), true)[0].field,
            "registration_no"
        );
        assert_eq!(check_team(false, None, false)[0].field, "station");
    }

    #[test]
    fn numbers_follow_the_highest_of_the_township() {
        assert_eq!(next_seq("430203001", None).unwrap(), 1);
        assert_eq!(next_seq("430203001", Some("V43020300100041")).unwrap(), 42);
        assert_eq!(volunteer_no("430203001", 42), "V43020300100042");
        assert!(next_seq("430203001", Some("V43020300199999")).is_err());
    }
}
