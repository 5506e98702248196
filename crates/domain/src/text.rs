//! Checks shared by every form, API body and import row: names without invisible characters,
//! phone numbers as China writes them, and dates within sane ranges per kind of date.

use chrono::{Datelike, NaiveDate};

use crate::FieldError;
use crate::people::identity::Mobile;

/// Zero-width characters: invisible, so two names that look alike would differ. Removed.
fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}'
    )
}

/// Bidirectional overrides and isolates: they reorder what a reader sees (a name that shows as
/// one thing and sorts as another). Refused.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A person's or organisation's name as typed: zero-width characters removed, runs of spaces
/// collapsed, trimmed; bidirectional controls refused (code `text.bidi_control`).
pub fn clean_name(field: &'static str, input: &str) -> Result<String, FieldError> {
    if input.chars().any(is_bidi_control) {
        return Err(FieldError::new(field, "text.bidi_control"));
    }
    let mut out = String::with_capacity(input.len());
    for c in input.chars().filter(|c| !is_zero_width(*c)) {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    Ok(out.trim_end().to_owned())
}

/// Characters that duplicate detection ignores in a name (invisible ones).
pub fn is_invisible(c: char) -> bool {
    is_zero_width(c) || is_bidi_control(c)
}

/// A contact number: a mainland mobile (11 digits, 1[3-9]…; stored `+86…`) or a landline with
/// its area code (0 + 2–3 digits, then 7–8 digits, optionally an extension: `0731-22334455`,
/// `(010)12345678`, `0731 2233 4455-801`), or a 400/800 service number. Anything else — a 10- or
/// 12-digit number, a number without area code — is refused with `phone.invalid`.
pub fn parse_phone(field: &'static str, input: &str) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if let Ok(m) = Mobile::parse(trimmed) {
        return Ok(m.as_str().to_owned());
    }
    let invalid = || FieldError::new(field, "phone.invalid");
    // Full-width digits and brackets as typed on phones; separators dropped.
    let plain: String = trimmed
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF08}' | '\u{FF09}' | '\u{FF0D}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .collect();
    let (number, extension) = match plain.rsplit_once(['转', '#']) {
        Some((n, e)) => (n, Some(e)),
        None => (plain.as_str(), None),
    };
    let digits: String = number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    if extension
        .is_some_and(|e| e.is_empty() || e.len() > 6 || !e.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(invalid());
    }
    let service = (digits.starts_with("400") || digits.starts_with("800")) && digits.len() == 10;
    // 010 and 02x have 2-digit area codes with 8-digit numbers; the others 3 digits with 7–8.
    let landline = digits.starts_with('0')
        && match digits.as_bytes().get(1) {
            Some(b'1') | Some(b'2') => digits.len() == 11,
            Some(b'3'..=b'9') => (11..=12).contains(&digits.len()),
            _ => false,
        };
    if !(service || landline) {
        return Err(invalid());
    }
    Ok(match extension {
        Some(e) => format!("{digits}-{e}"),
        None => digits,
    })
}

/// What a date is, for its sane range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    /// A birth date: from 1900, not in the future.
    Birth,
    /// Something that has happened (joining, training, a visit, consent, registration): from
    /// 1949, not in the future.
    Past,
    /// A plan or deadline: from 1949 to 20 years ahead.
    Plan,
}

/// Refuse a date outside the range for its kind (code `date.out_of_range` or `date.future`).
pub fn check_date(
    field: &'static str,
    date: NaiveDate,
    kind: DateKind,
    today: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    let earliest = match kind {
        DateKind::Birth => 1900,
        DateKind::Past | DateKind::Plan => 1949,
    };
    if date.year() < earliest {
        return Err(FieldError::new(field, "date.out_of_range"));
    }
    match kind {
        DateKind::Birth | DateKind::Past if date > today => {
            Err(FieldError::new(field, "date.future"))
        }
        DateKind::Plan if date.year() > today.year() + 20 => {
            Err(FieldError::new(field, "date.out_of_range"))
        }
        _ => Ok(date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn names_lose_invisible_characters_and_refuse_overrides() {
        assert_eq!(clean_name("name", " 张\u{200B}三  丰 ").unwrap(), "张三 丰");
        assert_eq!(clean_name("name", "\u{FEFF}李四").unwrap(), "李四");
        let e = clean_name("name", "王\u{202E}五").unwrap_err();
        assert_eq!((e.field, e.code), ("name", "text.bidi_control"));
        assert!(clean_name("name", "\u{2067}x").is_err());
    }

    #[test]
    fn phones_are_mobiles_or_landlines_with_area_codes() {
        assert_eq!(
            parse_phone("phone", "138 1234 5678").unwrap(),
            "+8613812345678"
        );
        assert_eq!(
            parse_phone("phone", "0731-22334455").unwrap(),
            "073122334455"
        );
        assert_eq!(
            parse_phone("phone", "(010)12345678").unwrap(),
            "01012345678"
        );
        assert_eq!(
            parse_phone("phone", "０７３１－２２３３４４５").unwrap(),
            "07312233445"
        );
        assert_eq!(
            parse_phone("phone", "0731-22334455转801").unwrap(),
            "073122334455-801"
        );
        assert_eq!(parse_phone("phone", "400-123-4567").unwrap(), "4001234567");
        for bad in [
            "1381234567",   // 10 digits
            "138123456789", // 12 digits
            "12812345678",  // no such mobile prefix
            "22334455",     // no area code
            "010-1234567",  // Beijing numbers have 8 digits
            "0731-2233",
            "abc",
            "",
            "0731-22334455转",
        ] {
            let e = parse_phone("phone", bad).unwrap_err();
            assert_eq!((e.field, e.code), ("phone", "phone.invalid"), "{bad}");
        }
    }

    #[test]
    fn dates_stay_in_their_ranges() {
        let today = d("2026-12-02");
        assert!(check_date("birth_date", d("1950-01-01"), DateKind::Birth, today).is_ok());
        assert_eq!(
            check_date("birth_date", d("0000-01-01"), DateKind::Birth, today)
                .unwrap_err()
                .code,
            "date.out_of_range"
        );
        assert_eq!(
            check_date("birth_date", d("2026-12-03"), DateKind::Birth, today)
                .unwrap_err()
                .code,
            "date.future"
        );
        assert_eq!(
            check_date("joined_on", d("2027-01-01"), DateKind::Past, today)
                .unwrap_err()
                .code,
            "date.future"
        );
        assert!(check_date("joined_on", today, DateKind::Past, today).is_ok());
        assert!(check_date("deadline", d("2030-01-01"), DateKind::Plan, today).is_ok());
        assert!(check_date("deadline", d("2090-01-01"), DateKind::Plan, today).is_err());
    }

    #[test]
    fn duplicate_detection_ignores_invisible_characters() {
        use crate::people::{name_key, names_alike};
        assert!(names_alike("张三丰", "张\u{200B}三丰"));
        assert_eq!(name_key("李\u{2060}四"), name_key("李四"));
    }
}
