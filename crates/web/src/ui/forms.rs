//! Parsing submitted forms into typed values while collecting every field error, so a form is
//! re-rendered once with all its messages instead of one at a time.

use std::collections::HashMap;

use shegong_domain::money::Fen;
use shegong_domain::text::is_bidi_control;
use shegong_domain::{FieldError, RegionCode};

/// A submitted form: fields may repeat (checkbox groups).
#[derive(Debug, Default, Clone)]
pub struct FormData {
    pairs: Vec<(String, String)>,
    first: HashMap<String, String>,
}

impl FormData {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let mut first = HashMap::new();
        for (k, v) in &pairs {
            first.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Self { pairs, first }
    }

    /// The first value of a field, trimmed ("" when absent).
    pub fn get(&self, k: &str) -> &str {
        self.first.get(k).map(|s| s.trim()).unwrap_or("")
    }

    pub fn all(&self, k: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// All submitted pairs, in order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.pairs.clone()
    }

    pub fn has(&self, k: &str, v: &str) -> bool {
        self.pairs.iter().any(|(key, val)| key == k && val == v)
    }
}

impl<'de> serde::Deserialize<'de> for FormData {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(FormData::new(Vec::<(String, String)>::deserialize(d)?))
    }
}

/// Collects field errors while parsing.
#[derive(Debug, Default)]
pub struct Check {
    pub errors: Vec<FieldError>,
}

impl Check {
    pub fn fail(&mut self, field: &'static str, code: &'static str) {
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError::new(field, code));
        }
    }

    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                if !self.errors.iter().any(|x| x.field == e.field) {
                    self.errors.push(e);
                }
                None
            }
        }
    }

    /// Non-empty text of at most `max` characters.
    /// A file sent as Base64 (`content_base64`), bounded before decoding (four characters for
    /// three bytes): over `max_bytes` fails on `file`, not Base64 on `content_base64`.
    pub fn base64_file(&mut self, raw: &str, max_bytes: usize) -> Vec<u8> {
        use base64::Engine as _;
        if raw.len() > (max_bytes / 3 + 1) * 4 {
            self.fail("file", "attachment.too_large");
            return Vec::new();
        }
        base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .unwrap_or_else(|_| {
                self.fail("content_base64", "attachment.not_base64");
                Vec::new()
            })
    }

    pub fn text(&mut self, field: &'static str, v: &str, max: usize) -> String {
        if v.chars().any(is_bidi_control) {
            self.fail(field, "text.bidi_control");
        } else if v.is_empty() {
            self.fail(field, "form.required");
        } else if v.chars().count() > max {
            self.fail(field, "form.too_long");
        }
        v.to_owned()
    }

    /// Optional text of at most `max` characters.
    pub fn opt_text(&mut self, field: &'static str, v: &str, max: usize) -> String {
        if v.chars().any(is_bidi_control) {
            self.fail(field, "text.bidi_control");
        } else if v.chars().count() > max {
            self.fail(field, "form.too_long");
        }
        v.to_owned()
    }

    /// A whole number in `min..=max`; empty is `default`.
    pub fn int(&mut self, field: &'static str, v: &str, min: i64, max: i64, default: i64) -> i64 {
        if v.is_empty() {
            return default;
        }
        match v.replace([',', '，'], "").parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            Ok(_) => {
                self.fail(field, "form.out_of_range");
                default
            }
            Err(_) => {
                self.fail(field, "form.not_a_number");
                default
            }
        }
    }

    /// An amount in yuan with up to two decimals, as fen.
    pub fn yuan(&mut self, field: &'static str, v: &str) -> i64 {
        match parse_yuan(v) {
            Some(f) => f,
            None => {
                self.fail(field, "form.money_invalid");
                0
            }
        }
    }

    /// A name: zero-width characters removed, spaces collapsed, bidirectional controls
    /// refused; then as [`Check::text`].
    pub fn name(&mut self, field: &'static str, v: &str, max: usize) -> String {
        match shegong_domain::text::clean_name(field, v) {
            Ok(clean) => self.text(field, &clean, max),
            Err(e) => {
                self.take::<()>(Err(e));
                v.to_owned()
            }
        }
    }

    /// A date within the sane range for its kind (births and past events not in the future).
    pub fn date_of(
        &mut self,
        field: &'static str,
        v: &str,
        kind: shegong_domain::text::DateKind,
        today: chrono::NaiveDate,
    ) -> String {
        let s = self.date(field, v);
        match chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) => match self.take(shegong_domain::text::check_date(field, d, kind, today)) {
                Some(_) => s,
                None => String::new(),
            },
            Err(_) => s,
        }
    }

    /// Any date: year-month-day between 1900 and 2100 (no 0000-01-01).
    pub fn date(&mut self, field: &'static str, v: &str) -> String {
        use chrono::Datelike;
        match chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) if !(1900..=2100).contains(&d.year()) => {
                self.fail(field, "date.out_of_range");
                String::new()
            }
            Ok(d) => d.format("%Y-%m-%d").to_string(),
            Err(_) => {
                self.fail(
                    field,
                    if v.is_empty() {
                        "form.required"
                    } else {
                        "date.invalid"
                    },
                );
                String::new()
            }
        }
    }

    /// A local (China Standard Time) date and time as a `datetime-local` input sends it
    /// (`2026-06-01T09:30`, seconds optional; a space for the `T` too), as UTC epoch milliseconds.
    pub fn datetime(&mut self, field: &'static str, v: &str) -> Option<i64> {
        let v = v.trim().replacen(' ', "T", 1);
        let parsed = chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S"));
        match parsed {
            Ok(t) if (2000..=2100).contains(&chrono::Datelike::year(&t)) => {
                Some(t.and_utc().timestamp_millis() - 8 * 3_600_000)
            }
            Ok(_) => {
                self.fail(field, "date.out_of_range");
                None
            }
            Err(_) => {
                self.fail(
                    field,
                    if v.is_empty() {
                        "form.required"
                    } else {
                        "datetime.invalid"
                    },
                );
                None
            }
        }
    }

    pub fn region(&mut self, field: &'static str, v: &str) -> Option<RegionCode> {
        if v.is_empty() {
            self.fail(field, "form.required");
            return None;
        }
        match RegionCode::parse(v) {
            Ok(c) => Some(c),
            Err(_) => {
                self.fail(field, "region.invalid_code");
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// "12,345.6" yuan → 1234560 fen, exactly: [`Fen::parse`] (blank is zero).
pub fn parse_yuan(v: &str) -> Option<i64> {
    Fen::parse(v).ok().map(|f| f.0)
}

/// 1234560 fen → "12,345.60".
pub fn format_yuan(fen: i64) -> String {
    Fen(fen).format_yuan()
}

/// Today in China Standard Time, `YYYY-MM-DD`.
pub fn today(now_millis: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(now_millis + 8 * 3_600_000).unwrap_or_default();
    t.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_round_trips_exactly() {
        assert_eq!(parse_yuan("12,345.6"), Some(1_234_560));
        assert_eq!(parse_yuan("0.01"), Some(1));
        assert_eq!(parse_yuan("300000元"), Some(30_000_000));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("-5"), None);
        assert_eq!(format_yuan(1_234_560), "12,345.60");
        assert_eq!(format_yuan(5), "0.05");
        for fen in [0, 1, 99, 100, 123_456_789, 1_000_000_000] {
            assert_eq!(parse_yuan(&format_yuan(fen)), Some(fen));
        }
    }

    #[test]
    fn today_is_in_china_standard_time() {
        // 2024-03-31 17:00 UTC is already 2024-04-01 in Beijing.
        assert_eq!(today(1_711_904_400_000), "2024-04-01");
    }

    #[test]
    fn checks_collect_one_error_per_field() {
        let mut c = Check::default();
        c.text("name", "", 10);
        c.int("area", "x", 0, 10, 0);
        c.int("area", "-1", 0, 10, 0);
        assert_eq!(c.errors.len(), 2);
        assert_eq!(c.errors[1].code, "form.not_a_number");
    }
}
