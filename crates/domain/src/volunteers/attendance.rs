//! Attendance rules for volunteer activities (issue 15 item 3, the rules ahead of their storage):
//! the organiser signs a volunteer in on arrival and out on leaving, so travel is never counted
//! (服务时数不含往返途中时间); at most three sign-ins per person per day (Guangdong i志愿); no two
//! sessions of the same person overlap (宝安 refuses overlapping hours); and a day's service is
//! capped at a plausible length. Every refusal names its field.

use chrono::NaiveDate;

use crate::FieldError;

/// At most this many sign-ins per person per (local) day.
pub const MAX_SIGN_INS_PER_DAY: usize = 3;
/// More service than this in one (local) day is refused as implausible.
pub const DAY_CAP_MINUTES: i64 = 16 * 60;

const MINUTE: i64 = 60_000;

/// One session: sign-in and sign-out times (UTC epoch milliseconds, as the store keeps times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub sign_in: i64,
    pub sign_out: i64,
}

impl Session {
    /// Whole minutes served: sign-out − sign-in; a sign-out not after the sign-in is refused.
    pub fn minutes(&self) -> Result<i64, FieldError> {
        if self.sign_out <= self.sign_in {
            return Err(FieldError::new(
                "sign_out",
                "attendance.sign_out_not_after_in",
            ));
        }
        Ok((self.sign_out - self.sign_in) / MINUTE)
    }

    /// The two share any moment (touching ends do not overlap: one may leave and sign in at
    /// the next activity at the same minute).
    pub fn overlaps(&self, other: &Session) -> bool {
        self.sign_in < other.sign_out && other.sign_in < self.sign_out
    }

    /// The local (China Standard Time) date of the sign-in: the day a session counts for.
    pub fn day(&self) -> NaiveDate {
        local_day(self.sign_in)
    }
}

pub use crate::calendar::local_day;

/// Check a new session against the same person's other sessions (any activity); returns its
/// minutes. `others` may hold sessions of other days: only the new session's day counts towards
/// the sign-in limit and the cap, while an overlap is refused whatever the day.
pub fn check_session(new: &Session, others: &[Session]) -> Result<i64, FieldError> {
    let minutes = new.minutes()?;
    if others.iter().any(|o| o.overlaps(new)) {
        return Err(FieldError::new("sign_in", "attendance.overlap"));
    }
    let day = new.day();
    let same_day: Vec<&Session> = others.iter().filter(|o| o.day() == day).collect();
    if same_day.len() >= MAX_SIGN_INS_PER_DAY {
        return Err(FieldError::new("sign_in", "attendance.too_many_sign_ins"));
    }
    let served: i64 = same_day
        .iter()
        .map(|o| o.minutes().unwrap_or(0))
        .sum::<i64>()
        .saturating_add(minutes);
    if served > DAY_CAP_MINUTES {
        return Err(FieldError::new("sign_out", "attendance.day_cap"));
    }
    Ok(minutes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// 2026-06-01 at `h:m` China Standard Time.
    fn at(h: i64, m: i64) -> i64 {
        let midnight_cst = 1_780_272_000_000 - crate::calendar::CST_OFFSET;
        midnight_cst + (h * 60 + m) * MINUTE
    }

    fn s(from: (i64, i64), to: (i64, i64)) -> Session {
        Session {
            sign_in: at(from.0, from.1),
            sign_out: at(to.0, to.1),
        }
    }

    #[test]
    fn minutes_are_sign_out_less_sign_in() {
        assert_eq!(s((9, 0), (11, 30)).minutes().unwrap(), 150);
        assert_eq!(s((9, 0), (9, 0)).minutes().unwrap_err().field, "sign_out");
        assert_eq!(s((9, 0), (11, 0)).day().to_string(), "2026-06-01");
        assert_eq!(s((0, 10), (1, 0)).day().to_string(), "2026-06-01");
    }

    #[test]
    fn the_fourth_sign_in_of_a_day_is_refused() {
        let day = [s((7, 0), (8, 0)), s((9, 0), (10, 0)), s((11, 0), (12, 0))];
        let e = check_session(&s((14, 0), (15, 0)), &day).unwrap_err();
        assert_eq!(
            (e.field, e.code),
            ("sign_in", "attendance.too_many_sign_ins")
        );
        assert_eq!(check_session(&s((14, 0), (15, 0)), &day[..2]).unwrap(), 60);
        // Another day's sessions do not count.
        let tomorrow = Session {
            sign_in: at(24 + 9, 0),
            sign_out: at(24 + 10, 0),
        };
        assert_eq!(check_session(&tomorrow, &day).unwrap(), 60);
    }

    #[test]
    fn overlapping_sessions_are_refused_and_touching_ones_are_not() {
        let morning = [s((9, 0), (11, 0))];
        let e = check_session(&s((10, 30), (12, 0)), &morning).unwrap_err();
        assert_eq!((e.field, e.code), ("sign_in", "attendance.overlap"));
        assert!(check_session(&s((8, 0), (13, 0)), &morning).is_err());
        assert_eq!(check_session(&s((11, 0), (12, 0)), &morning).unwrap(), 60);
    }

    #[test]
    fn a_day_beyond_the_cap_is_refused() {
        let long = [s((5, 0), (15, 0))];
        let e = check_session(&s((15, 0), (21, 1)), &long).unwrap_err();
        assert_eq!((e.field, e.code), ("sign_out", "attendance.day_cap"));
        assert_eq!(check_session(&s((15, 0), (21, 0)), &long).unwrap(), 360);
    }
}
