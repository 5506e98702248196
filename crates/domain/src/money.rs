//! Money: amounts in fen (分), the unit every amount is stored and counted in. Parsed once from
//! what people type ([`Fen::parse`] for forms, [`Fen::parse_lenient`] for spreadsheet cells) and
//! shown as yuan ([`Fen::format_yuan`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in fen: 1 yuan = 100 fen. Exact: no floating point anywhere between a typed
/// amount and the stored one.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

/// Why a text is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not an amount")]
    NotANumber,
    #[error("negative amount")]
    Negative,
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// An amount as forms take it: yuan with at most two decimals, thousands separators
    /// anywhere ("12,345.6", "12，345"), an optional trailing "元"; not negative. Blank is zero,
    /// as an empty amount field means none.
    pub fn parse(text: &str) -> Result<Fen, MoneyError> {
        let text = text.replace([',', '，', ' '], "");
        let text = text.trim_end_matches('元');
        if text.is_empty() {
            return Ok(Fen::ZERO);
        }
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || frac.len() > 2 || !digits(whole) || !digits(frac) {
            return Err(MoneyError::NotANumber);
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::NotANumber)?;
        let frac: i64 = format!("{frac:0<2}")
            .parse()
            .map_err(|_| MoneyError::NotANumber)?;
        whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .map(Fen)
            .ok_or(MoneyError::NotANumber)
    }

    /// An amount as spreadsheets hold it: everything [`Fen::parse`]'s numbers look like, with
    /// thousands separators only in groups of three, plus a leading "¥"/"￥", a "元", "万" or
    /// "万元" unit ("1.5万" is 1,500,000 fen, exactly) and any number of decimals, rounded half
    /// up to the fen. Blank is not an amount here: the caller decides what an empty cell means.
    pub fn parse_lenient(text: &str) -> Result<Fen, MoneyError> {
        let text = text.trim().trim_start_matches(['¥', '￥']).trim_start();
        let (number, unit) = split_unit(text);
        let shift = match unit {
            "" | "元" => 2,
            "万" | "万元" => 6,
            _ => return Err(MoneyError::NotANumber),
        };
        let value = Exact::parse(number).ok_or(MoneyError::NotANumber)?;
        if value.is_negative() {
            return Err(MoneyError::Negative);
        }
        value.scaled(shift).map(Fen).ok_or(MoneyError::NotANumber)
    }

    /// "12,345.60": yuan with thousands separators and two decimals.
    pub fn format_yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let fen = self.0.unsigned_abs();
        let whole = (fen / 100).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{sign}{grouped}.{:02}", fen % 100)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_yuan())
    }
}

/// Splits "1.5 万元" into the number "1.5" and the unit "万元".
pub fn split_unit(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+')))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(end);
    (number, unit.trim())
}

/// A decimal read digit by digit, so amounts are exact ("0.1万" is 1000 yuan, not 999.99…).
#[derive(Debug, Clone, Copy)]
pub struct Exact {
    negative: bool,
    digits: u128,
    /// Digits after the decimal point.
    scale: u32,
}

impl Exact {
    /// "-1,234.50": optional sign, optional thousands separators (groups of three), optional
    /// fraction.
    pub fn parse(s: &str) -> Option<Exact> {
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let mut groups = int.split(',');
        let first = groups.next().unwrap_or("");
        // "1,5" is a decimal comma elsewhere, not fifteen: refuse rather than guess.
        let grouping_ok =
            !int.contains(',') || ((1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3));
        let all: String = int.split(',').chain([frac]).collect();
        let plausible = !all.is_empty() && all.len() <= 30;
        if !grouping_ok || !plausible || !all.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Exact {
            negative,
            digits: all.parse().ok()?,
            scale: u32::try_from(frac.len()).ok()?,
        })
    }

    pub fn is_negative(self) -> bool {
        self.negative && self.digits != 0
    }

    /// Whether the value times 10^shift is whole.
    pub fn is_whole(self, shift: u32) -> bool {
        shift >= self.scale || self.digits.is_multiple_of(10u128.pow(self.scale - shift))
    }

    /// The value times 10^shift, rounded half up (away from zero), if it fits an i64.
    pub fn scaled(self, shift: u32) -> Option<i64> {
        let magnitude = if shift >= self.scale {
            self.digits
                .checked_mul(10u128.checked_pow(shift - self.scale)?)?
        } else {
            let divisor = 10u128.pow(self.scale - shift);
            self.digits / divisor + u128::from(self.digits % divisor * 2 >= divisor)
        };
        let magnitude = i64::try_from(magnitude).ok()?;
        Some(if self.negative { -magnitude } else { magnitude })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_take_yuan_with_two_decimals() {
        assert_eq!(Fen::parse("12,345.6"), Ok(Fen(1_234_560)));
        assert_eq!(Fen::parse("0.01"), Ok(Fen(1)));
        assert_eq!(Fen::parse("300000元"), Ok(Fen(30_000_000)));
        assert_eq!(Fen::parse(""), Ok(Fen::ZERO));
        assert_eq!(Fen::parse("1.234"), Err(MoneyError::NotANumber));
        assert_eq!(Fen::parse("-5"), Err(MoneyError::NotANumber));
        assert_eq!(Fen::parse("1.5万"), Err(MoneyError::NotANumber));
        assert_eq!(
            Fen::parse("99999999999999999999"),
            Err(MoneyError::NotANumber)
        );
    }

    #[test]
    fn sheets_take_units_and_round_half_up() {
        assert_eq!(Fen::parse_lenient("0.1万"), Ok(Fen(100_000)));
        assert_eq!(Fen::parse_lenient("1.5万元"), Ok(Fen(1_500_000)));
        assert_eq!(Fen::parse_lenient("¥ 15000"), Ok(Fen(1_500_000)));
        assert_eq!(Fen::parse_lenient("￥15,000元"), Ok(Fen(1_500_000)));
        assert_eq!(Fen::parse_lenient("15000.505"), Ok(Fen(1_500_051)));
        assert_eq!(Fen::parse_lenient("15000.504"), Ok(Fen(1_500_050)));
        assert_eq!(Fen::parse_lenient("-1"), Err(MoneyError::Negative));
        assert_eq!(Fen::parse_lenient("15,00"), Err(MoneyError::NotANumber));
        assert_eq!(Fen::parse_lenient("15000美元"), Err(MoneyError::NotANumber));
        assert_eq!(Fen::parse_lenient(""), Err(MoneyError::NotANumber));
    }

    #[test]
    fn formats_as_yuan_and_reads_back() {
        assert_eq!(Fen(1_234_560).format_yuan(), "12,345.60");
        assert_eq!(Fen(5).to_string(), "0.05");
        assert_eq!(Fen(-123_456).format_yuan(), "-1,234.56");
        for fen in [0, 1, 99, 100, 123_456_789, 1_000_000_000] {
            assert_eq!(Fen::parse(&Fen(fen).format_yuan()), Ok(Fen(fen)));
            assert_eq!(Fen::parse_lenient(&Fen(fen).format_yuan()), Ok(Fen(fen)));
        }
    }
}
