//! Volunteer activities and what comes of them: sign-ups, hour records, star levels and
//! certificates. Sources: 《志愿服务条例》 art. 17 (insurance before a risky activity), Guangdong
//! i志愿 (exact address, times to the minute, an activity lasts at most a year), 东营 (minors),
//! 民发〔2015〕149号 and 民政部令第67号 (certificates, 谁组织谁记录，谁记录谁证明, publicity ≥ 7
//! days), a community rule of publicity before hours are recorded, and the national star levels.

use chrono::{Days, NaiveDate};

use crate::FieldError;
use crate::people::age_on;

use super::{ACCOMPANIED_AGE, GUARDIAN_CONSENT_AGE};

codes!(
    /// 草稿 → 报名中 (open) → 已结束 (closed), or 已取消.
    ActivityStatus, "status", "activity.status_unknown" {
        Draft = "draft",
        Open = "open",
        Closed = "closed",
        Cancelled = "cancelled",
    }
);

codes!(
    /// 待确认 → 公示 → 已记录; 已更正 (replaced by a new record) and 已撤销 end a record.
    HourState, "state", "hours.state_unknown" {
        Pending = "pending",
        Public = "public",
        Recorded = "recorded",
        Corrected = "corrected",
        Revoked = "revoked",
    }
);

codes!(
    /// How a session was taken: by the organiser, or by the volunteer scanning the activity's QR code.
    SignInMethod, "method", "attendance.method_unknown" {
        Organiser = "organiser",
        Qr = "qr",
    }
);

/// An activity lasts at most this long (i志愿).
pub const MAX_ACTIVITY_MILLIS: i64 = 366 * 24 * 3_600_000;
pub const MAX_QUOTA: i64 = 10_000;
/// Days hours stay on public notice before they are recorded (a community rule asks ≥ 3; the
/// default of the `volunteers.hours_publicity_days` setting): confirmed on the 1st, recorded from
/// the 4th.
pub const HOURS_PUBLICITY_DAYS: u64 = 3;
/// Days a certificate stays on notice within the issuer (149号: generally ≥ 7).
pub const CERTIFICATE_PUBLICITY_DAYS: u64 = 7;
/// Hours for one to five stars.
pub const STAR_HOURS: [i64; 5] = [100, 300, 600, 1000, 1500];

/// What an activity's rules look at.
#[derive(Debug, Clone, Default)]
pub struct ActivityShape<'a> {
    pub name: &'a str,
    pub address: &'a str,
    pub starts_at: i64,
    pub ends_at: i64,
    pub quota: i64,
}

/// The activity's own rules: every failure, named.
pub fn check_activity(a: &ActivityShape<'_>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if a.name.trim().is_empty() {
        errors.push(FieldError::new("name", "form.required"));
    }
    if a.address.trim().is_empty() {
        errors.push(FieldError::new("address", "activity.address_required"));
    }
    if a.ends_at <= a.starts_at {
        errors.push(FieldError::new("ends_at", "activity.ends_before_start"));
    } else if a.ends_at - a.starts_at > MAX_ACTIVITY_MILLIS {
        errors.push(FieldError::new("ends_at", "activity.too_long"));
    }
    if !(1..=MAX_QUOTA).contains(&a.quota) {
        errors.push(FieldError::new("quota", "activity.quota_range"));
    }
    errors
}

/// Whether the activity may open for sign-up at `now`: a risky one needs its insurance reference,
/// and only an activity that has not ended may be published (back-entry is not publishing).
pub fn check_open(
    status: ActivityStatus,
    risky: bool,
    insurance_ref: Option<&str>,
    ends_at: i64,
    now: i64,
) -> Result<(), FieldError> {
    if status != ActivityStatus::Draft {
        return Err(FieldError::new("status", "activity.not_draft"));
    }
    if risky && insurance_ref.is_none_or(|r| r.trim().is_empty()) {
        return Err(FieldError::new(
            "insurance_ref",
            "activity.insurance_required",
        ));
    }
    if ends_at <= now {
        return Err(FieldError::new("ends_at", "activity.already_ended"));
    }
    Ok(())
}

/// A sign-up on the day of the activity: open, within the quota, and a minor's conditions met.
pub fn check_sign_up(
    status: ActivityStatus,
    full: bool,
    birth: NaiveDate,
    activity_day: NaiveDate,
    guardian_consent: bool,
    accompanied: bool,
) -> Result<(), FieldError> {
    if status != ActivityStatus::Open {
        return Err(FieldError::new("activity", "activity.not_open"));
    }
    if full {
        return Err(FieldError::new("activity", "activity.full"));
    }
    let age = age_on(birth, activity_day);
    if age < GUARDIAN_CONSENT_AGE && !guardian_consent {
        return Err(FieldError::new(
            "guardian_consent",
            "signup.guardian_consent_required",
        ));
    }
    if age < ACCOMPANIED_AGE && !accompanied {
        return Err(FieldError::new(
            "volunteer_id",
            "signup.accompaniment_required",
        ));
    }
    Ok(())
}

/// What an hour record may do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HourStep {
    /// 确认: pending → public, on notice until the returned date.
    Confirm,
    /// 记录: public → recorded once the notice has run.
    Record,
    /// 撤销 with a reason: any live record → revoked.
    Revoke,
    /// 更正 with a reason: any live record → corrected (the caller writes its replacement).
    Correct,
}

impl HourStep {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "confirm" => Ok(Self::Confirm),
            "record" => Ok(Self::Record),
            "revoke" => Ok(Self::Revoke),
            "correct" => Ok(Self::Correct),
            _ => Err(FieldError::new("step", "hours.step_unknown")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Record => "record",
            Self::Revoke => "revoke",
            Self::Correct => "correct",
        }
    }
}

/// The state after `step` on `today`, or why not. `publicity_until` is the record's notice end.
pub fn next_state(
    state: HourState,
    step: HourStep,
    publicity_until: Option<NaiveDate>,
    today: NaiveDate,
    reason: &str,
) -> Result<HourState, FieldError> {
    use HourState::*;
    let live = matches!(state, Pending | Public | Recorded);
    match step {
        HourStep::Confirm if state == Pending => Ok(Public),
        HourStep::Record if state == Public => {
            if publicity_until.is_some_and(|d| today < d) {
                Err(FieldError::new("step", "hours.publicity_running"))
            } else {
                Ok(Recorded)
            }
        }
        HourStep::Revoke | HourStep::Correct if live => {
            if reason.trim().is_empty() {
                Err(FieldError::new("reason", "hours.reason_required"))
            } else if step == HourStep::Revoke {
                Ok(Revoked)
            } else {
                Ok(Corrected)
            }
        }
        _ => Err(FieldError::new("step", "hours.step_not_allowed")),
    }
}

/// The last day of a notice that starts on `day`.
pub fn notice_until(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).unwrap_or(day)
}

/// Stars (0–5) for recorded minutes: 100/300/600/1000/1500 hours.
pub fn star_level(minutes: i64) -> u8 {
    let hours = minutes / 60;
    let mut n = 0;
    for h in STAR_HOURS {
        if hours >= h {
            n += 1;
        }
    }
    n
}

/// Whether `stars` may be awarded (星级认定) to a volunteer with `minutes` recorded whose highest
/// award so far is `awarded` (0: none), by an approver `entitled` to that star. Stars are awarded
/// upwards only; a level skipped may not be awarded afterwards.
pub fn check_star_award(
    stars: i64,
    minutes: i64,
    awarded: i64,
    entitled: bool,
) -> Result<u8, FieldError> {
    let Some(n) = u8::try_from(stars).ok().filter(|n| (1..=5).contains(n)) else {
        return Err(FieldError::new("stars", "volunteer.star_invalid"));
    };
    if n > star_level(minutes) {
        return Err(FieldError::new("stars", "volunteer.star_hours_short"));
    }
    if stars <= awarded {
        return Err(FieldError::new("stars", "volunteer.star_already"));
    }
    if !entitled {
        return Err(FieldError::new("stars", "volunteer.star_not_entitled"));
    }
    Ok(n)
}

/// Hours still to serve for the next star (`None` at five stars).
pub fn minutes_to_next_star(minutes: i64) -> Option<i64> {
    STAR_HOURS
        .iter()
        .find(|h| minutes / 60 < **h)
        .map(|h| h * 60 - minutes)
}

/// Certificate number (证明编号): `ZM`, the issuing station's region code, the year and a
/// four-digit sequence within them.
pub fn certificate_no(region: &str, year: i32, seq: i64) -> String {
    format!("ZM{region}{year}{seq:04}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn activities_name_every_problem() {
        let a = ActivityShape {
            name: " ",
            address: "",
            starts_at: 10,
            ends_at: 10,
            quota: 0,
        };
        let fields: Vec<&str> = check_activity(&a).iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "address", "ends_at", "quota"]);
        let long = ActivityShape {
            name: "助老",
            address: "荷塘区贺家土街道 1 号",
            starts_at: 0,
            ends_at: MAX_ACTIVITY_MILLIS + 1,
            quota: 20,
        };
        assert_eq!(check_activity(&long)[0].code, "activity.too_long");
        let ok = ActivityShape {
            ends_at: 3_600_000,
            ..long
        };
        assert!(check_activity(&ok).is_empty());
    }

    #[test]
    fn a_risky_activity_opens_only_insured_and_not_after_its_end() {
        use ActivityStatus::*;
        let e = check_open(Draft, true, Some(" "), 100, 50).unwrap_err();
        assert_eq!(e.field, "insurance_ref");
        assert!(check_open(Draft, true, Some("PICC-2026-001"), 100, 50).is_ok());
        assert!(check_open(Draft, false, None, 100, 50).is_ok());
        assert_eq!(
            check_open(Draft, false, None, 100, 100).unwrap_err().code,
            "activity.already_ended"
        );
        assert_eq!(
            check_open(Open, false, None, 100, 50).unwrap_err().code,
            "activity.not_draft"
        );
    }

    #[test]
    fn minors_sign_up_with_consent_and_company() {
        use ActivityStatus::*;
        let day = d("2026-06-01");
        let thirteen = d("2013-01-01");
        let e = check_sign_up(Open, false, thirteen, day, false, false).unwrap_err();
        assert_eq!(
            (e.field, e.code),
            ("guardian_consent", "signup.guardian_consent_required")
        );
        assert!(check_sign_up(Open, false, thirteen, day, true, false).is_ok());
        let nine = d("2017-01-01");
        assert_eq!(
            check_sign_up(Open, false, nine, day, true, false)
                .unwrap_err()
                .code,
            "signup.accompaniment_required"
        );
        assert!(check_sign_up(Open, false, d("1990-01-01"), day, false, false).is_ok());
        assert_eq!(
            check_sign_up(Open, true, d("1990-01-01"), day, false, false)
                .unwrap_err()
                .code,
            "activity.full"
        );
        assert_eq!(
            check_sign_up(Draft, false, d("1990-01-01"), day, false, false)
                .unwrap_err()
                .code,
            "activity.not_open"
        );
    }

    #[test]
    fn hours_go_through_notice_and_end_only_with_a_reason() {
        use HourState::*;
        let today = d("2026-06-05");
        assert_eq!(
            next_state(Pending, HourStep::Confirm, None, today, "").unwrap(),
            Public
        );
        let until = Some(d("2026-06-06"));
        assert_eq!(
            next_state(Public, HourStep::Record, until, today, "")
                .unwrap_err()
                .code,
            "hours.publicity_running"
        );
        assert_eq!(
            next_state(Public, HourStep::Record, until, d("2026-06-06"), "").unwrap(),
            Recorded
        );
        assert_eq!(
            next_state(Recorded, HourStep::Revoke, None, today, " ")
                .unwrap_err()
                .field,
            "reason"
        );
        assert_eq!(
            next_state(Recorded, HourStep::Correct, None, today, "少记 30 分钟").unwrap(),
            Corrected
        );
        assert!(next_state(Revoked, HourStep::Correct, None, today, "x").is_err());
        assert!(next_state(Pending, HourStep::Record, None, today, "").is_err());
        assert_eq!(
            notice_until(d("2026-06-01"), HOURS_PUBLICITY_DAYS),
            d("2026-06-04")
        );
    }

    #[test]
    fn stars_are_awarded_upwards_within_the_hours_by_the_entitled() {
        let code = |r: Result<u8, FieldError>| r.map_err(|e| e.code);
        assert_eq!(code(check_star_award(2, 300 * 60, 1, true)), Ok(2));
        assert_eq!(
            code(check_star_award(0, 300 * 60, 0, true)),
            Err("volunteer.star_invalid")
        );
        assert_eq!(
            code(check_star_award(6, 9000 * 60, 0, true)),
            Err("volunteer.star_invalid")
        );
        assert_eq!(
            code(check_star_award(3, 599 * 60, 0, true)),
            Err("volunteer.star_hours_short")
        );
        assert_eq!(
            code(check_star_award(1, 300 * 60, 2, true)),
            Err("volunteer.star_already")
        );
        assert_eq!(
            code(check_star_award(2, 300 * 60, 0, false)),
            Err("volunteer.star_not_entitled")
        );
    }

    #[test]
    fn stars_follow_the_national_thresholds() {
        assert_eq!(star_level(99 * 60 + 59), 0);
        assert_eq!(star_level(100 * 60), 1);
        assert_eq!(star_level(600 * 60), 3);
        assert_eq!(star_level(2000 * 60), 5);
        assert_eq!(minutes_to_next_star(90 * 60), Some(10 * 60));
        assert_eq!(minutes_to_next_star(1500 * 60), None);
        assert_eq!(certificate_no("430203001", 2026, 7), "ZM43020300120260007");
    }
}
