//! The workforce: roles at a station, employment, sectors, education, certificates and the
//! continuing-education rule (72 h for assistants, 90 h for intermediate and senior, per
//! 3-year registration cycle).

use chrono::{Months, NaiveDate};

use crate::FieldError;

codes!(
    StaffRole, "role", "staff.role_unknown" {
        StationHead = "station_head",
        Frontline = "frontline",
        Supervisor = "supervisor",
        AdminFinance = "admin_finance",
        Auxiliary = "auxiliary",
    }
);

codes!(
    Employment, "employment_mode", "staff.employment_unknown" {
        ProjectPurchase = "project_purchase",
        PositionPurchase = "position_purchase",
        Direct = "direct",
    }
);

codes!(
    /// Whether a staff member still works here (a leaver's record stays for the counts).
    StaffStatus, "status", "staff.status_unknown" {
        Active = "active",
        Left = "left",
    }
);

codes!(
    Sector, "sector", "staff.sector_unknown" {
        CivilAffairs = "civil_affairs",
        Justice = "justice",
        DrugControl = "drug_control",
        Medical = "medical",
        Unions = "unions",
        YouthLeague = "youth_league",
        WomensFederation = "womens_federation",
        DisabledFederation = "disabled_federation",
        Other = "other",
    }
);

codes!(
    Education, "education", "staff.education_unknown" {
        Unknown = "",
        Secondary = "secondary",
        JuniorCollege = "junior_college",
        Bachelor = "bachelor",
        Master = "master",
        Doctor = "doctor",
    }
);

codes!(
    /// 助理社会工作师 / 社会工作师 / 高级社会工作师
    CertLevel, "level", "certificate.level_unknown" {
        Assistant = "assistant",
        Intermediate = "intermediate",
        Senior = "senior",
    }
);

impl CertLevel {
    /// Continuing-education hours required per 3-year registration cycle.
    pub fn required_hours(self) -> i64 {
        match self {
            CertLevel::Assistant => 72,
            CertLevel::Intermediate | CertLevel::Senior => 90,
        }
    }

    pub fn rank(self) -> u8 {
        match self {
            CertLevel::Assistant => 1,
            CertLevel::Intermediate => 2,
            CertLevel::Senior => 3,
        }
    }
}

/// The same day `years` later (or earlier); 29 February becomes 28 February in common years.
fn shift_years(from: NaiveDate, years: i32) -> NaiveDate {
    // Whole months keep the day, clamped to the month's last: exactly the rule above.
    let months = Months::new(years.unsigned_abs() * 12);
    let shifted = if years >= 0 {
        from.checked_add_months(months)
    } else {
        from.checked_sub_months(months)
    };
    // `None` only beyond chrono's range (year ±262,143), which no register date reaches.
    shifted.unwrap_or(from)
}

/// Registration is valid for 3 years from a date.
pub fn registration_until(from: NaiveDate) -> NaiveDate {
    shift_years(from, 3)
}

/// The current 3-year cycle: it ends on `registered_until` when known, else 3 years after the
/// certificate was obtained, rolled forward past `today`.
pub fn current_cycle(
    obtained: NaiveDate,
    registered_until: Option<NaiveDate>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let mut end = registered_until.unwrap_or_else(|| registration_until(obtained));
    while end < today {
        end = registration_until(end);
    }
    let start = shift_years(end, -3);
    (start, end)
}

/// Training hours as entered ("1.5", "2") → tenths of an hour.
pub fn parse_hours(field: &'static str, s: &str) -> Result<i64, FieldError> {
    let s = s.trim().trim_end_matches(['h', '时', '小']);
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 1
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(FieldError::new(field, "training.hours_invalid"));
    }
    // Whole numbers past i64 (typed or fuzzed) are refused, never overflowed.
    let tenths = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(10))
        .and_then(|w| w.checked_add(frac.parse::<i64>().unwrap_or(0)))
        .ok_or(FieldError::new(field, "training.hours_invalid"))?;
    if tenths == 0 {
        return Err(FieldError::new(field, "training.hours_invalid"));
    }
    Ok(tenths)
}

/// Tenths of an hour for display: 15 → "1.5".
pub fn format_hours(tenths: i64) -> String {
    if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn cycles_roll_forward_from_registration() {
        assert_eq!(
            current_cycle(d("2020-06-01"), None, d("2022-01-01")),
            (d("2020-06-01"), d("2023-06-01"))
        );
        assert_eq!(
            current_cycle(d("2020-06-01"), None, d("2024-01-01")),
            (d("2023-06-01"), d("2026-06-01"))
        );
        assert_eq!(
            current_cycle(d("2019-03-01"), Some(d("2025-09-30")), d("2025-01-01")),
            (d("2022-09-30"), d("2025-09-30"))
        );
        assert_eq!(registration_until(d("2024-02-29")), d("2027-02-28"));
    }

    #[test]
    fn requirements_and_hours() {
        assert_eq!(CertLevel::Assistant.required_hours(), 72);
        assert_eq!(CertLevel::Senior.required_hours(), 90);
        assert_eq!(parse_hours("h", "1.5").unwrap(), 15);
        assert_eq!(parse_hours("h", "3").unwrap(), 30);
        assert!(parse_hours("h", "1.25").is_err());
        assert!(parse_hours("h", "0").is_err());
        assert_eq!(format_hours(15), "1.5");
        assert_eq!(format_hours(30), "3");
        assert_eq!(StaffRole::parse("boss").unwrap_err().field, "role");
    }
}
