//! Days as users here count them: China Standard Time (UTC+8, no daylight saving) and working
//! days Monday to Friday. Public holidays and 调休 make-up working days are not known, so a due
//! time over a holiday comes early.

use chrono::{Datelike, NaiveDate, Weekday};

/// China Standard Time's offset from UTC, in milliseconds.
pub const CST_OFFSET: i64 = 8 * 3_600_000;
const DAY: i64 = 86_400_000;

/// The China Standard Time date of a UTC instant.
pub fn local_day(millis: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(millis.saturating_add(CST_OFFSET))
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// The first instant (UTC millis) after `day` ends in China Standard Time.
pub fn end_of_day(day: NaiveDate) -> i64 {
    let start = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default();
    start + DAY - CST_OFFSET
}

pub fn working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The `n`th working day after `day`.
pub fn add_working_days(day: NaiveDate, n: u32) -> NaiveDate {
    let mut d = day;
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap_or(d);
        if working_day(d) {
            left -= 1;
        }
    }
    d
}

/// Working days from the day after `from` to `to` inclusive (0 when `to` is not after `from`).
pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut n = 0;
    let mut d = from;
    while d < to {
        d = d.succ_opt().unwrap_or(to);
        if working_day(d) {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn days_are_china_days_and_weekends_do_not_work() {
        // 2026-12-04 16:30 UTC is already Saturday 00:30 in China.
        let at = day(2026, 12, 4)
            .and_hms_opt(16, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(local_day(at), day(2026, 12, 5));
        assert_eq!(
            end_of_day(day(2026, 12, 4)),
            day(2026, 12, 4)
                .and_hms_opt(16, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis()
        );
        assert_eq!(add_working_days(day(2026, 12, 4), 1), day(2026, 12, 7));
        assert_eq!(working_days_between(day(2026, 12, 4), day(2026, 12, 8)), 2);
        assert_eq!(working_days_between(day(2026, 12, 8), day(2026, 12, 4)), 0);
    }
}
