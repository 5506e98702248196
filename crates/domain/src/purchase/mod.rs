//! Government purchase of social-work services (政府购买社会工作服务): the catalogue, contracts
//! and their lines, payment plans, and the evaluation that decides what is paid.
//!
//! Shares and percentages are basis points (10,000 = 100 %) and amounts are [`Fen`], so every
//! sum is exact; where a division has to round, the function says which way.

use crate::FieldError;
use crate::money::Fen;

/// Implements `successors`, `can_go` and `go` for a state code from its transition table, so
/// every workflow refuses an illegal step the same way.
macro_rules! transitions {
    ($name:ident, $code:literal, |$s:ident| $table:expr) => {
        impl $name {
            /// The states this one may move to.
            pub fn successors(self) -> &'static [$name] {
                let $s = self;
                $table
            }

            pub fn can_go(self, to: $name) -> bool {
                self.successors().contains(&to)
            }

            /// The next state, or an error on the `state` field when the step is not allowed.
            pub fn go(self, to: $name) -> Result<$name, FieldError> {
                if self.can_go(to) {
                    Ok(to)
                } else {
                    Err(FieldError::new("state", $code))
                }
            }
        }
    };
}

pub mod catalogue;
pub mod contract;
pub mod default_tree;
pub mod evaluation;
pub mod execution;
pub mod indicator;
pub mod instalment;
pub mod project;
pub mod scorer_text;

/// Reads a code from its stored text (`codes!` types have no `Deserialize` of their own), for
/// `#[serde(deserialize_with = "...")]` on fields of data kept as JSON.
fn code<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<String, Error = FieldError>,
{
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    T::try_from(text).map_err(serde::de::Error::custom)
}

/// [`code`] for an optional field.
fn optional_code<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<String, Error = FieldError>,
{
    let text = <Option<String> as serde::Deserialize>::deserialize(deserializer)?;
    text.map(T::try_from)
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// 100 % in basis points.
pub const HUNDRED_PERCENT: i64 = 10_000;

/// A percentage as people type it ("40", "40%", "33.33", "１００％") → basis points. At most two
/// decimals, so nothing is rounded; 0–100 only. Words ("四十") and units other than % are
/// refused.
pub fn parse_percent(field: &'static str, text: &str) -> Result<i64, FieldError> {
    let invalid = FieldError::new(field, "purchase.percent_invalid");
    let text: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF0E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect();
    let text = text.strip_suffix(['%', '％']).unwrap_or(&text).trim_end();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || frac.len() > 2 || !digits(whole) || !digits(frac) {
        return Err(invalid);
    }
    let whole: i64 = whole.parse().map_err(|_| invalid.clone())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| invalid)?;
    let bp = whole * 100 + frac;
    if bp > HUNDRED_PERCENT {
        return Err(FieldError::new(field, "purchase.percent_out_of_range"));
    }
    Ok(bp)
}

/// Basis points as a percentage for display: 4000 → "40", 3333 → "33.33", 50 → "0.5".
pub fn format_percent(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let bp = bp.unsigned_abs();
    let (whole, frac) = (bp / 100, bp % 100);
    match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// `part` of `whole` in basis points, rounded down; `None` when `whole` is not positive.
pub fn ratio_bp(part: i64, whole: i64) -> Option<i64> {
    if whole <= 0 {
        return None;
    }
    i64::try_from(i128::from(part) * i128::from(HUNDRED_PERCENT) / i128::from(whole)).ok()
}

/// `amount` times `bp` / 10,000, rounded down to the fen (never more than the share allows).
pub fn share_of(amount: Fen, bp: i64) -> Fen {
    let exact = i128::from(amount.0) * i128::from(bp) / i128::from(HUNDRED_PERCENT);
    // |amount × bp / 10,000| ≤ |amount| for bp ≤ 100 %, which callers validate.
    Fen(i64::try_from(exact).unwrap_or(amount.0))
}

/// Splits `total` by shares that add up to 100 %: each part is rounded down and the remaining
/// fen go to the last part, so the parts always add up to `total` exactly. Refuses shares that
/// are not each 0–100 % or do not add up to 100 % (`field`, "purchase.shares_not_100").
pub fn split_exact(
    field: &'static str,
    total: Fen,
    shares_bp: &[i64],
) -> Result<Vec<Fen>, FieldError> {
    check_shares(field, shares_bp)?;
    let mut parts: Vec<Fen> = shares_bp.iter().map(|&bp| share_of(total, bp)).collect();
    let allotted: i64 = parts.iter().map(|p| p.0).sum();
    if let Some(last) = parts.last_mut() {
        // The last part's own share was rounded down too: it takes every fen left over.
        *last = Fen(total.0 - (allotted - last.0));
    }
    Ok(parts)
}

/// Shares in basis points: at least one, each 0–100 %, adding up to exactly 100 %.
pub fn check_shares(field: &'static str, shares_bp: &[i64]) -> Result<(), FieldError> {
    if shares_bp
        .iter()
        .any(|&bp| !(0..=HUNDRED_PERCENT).contains(&bp))
    {
        return Err(FieldError::new(field, "purchase.share_invalid"));
    }
    if shares_bp.iter().sum::<i64>() != HUNDRED_PERCENT {
        return Err(FieldError::new(field, "purchase.shares_not_100"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_exactly_or_not_at_all() {
        assert_eq!(parse_percent("p", "40"), Ok(4000));
        assert_eq!(parse_percent("p", "40%"), Ok(4000));
        assert_eq!(parse_percent("p", " 33.33 % "), Ok(3333));
        assert_eq!(parse_percent("p", "0.5"), Ok(50));
        assert_eq!(parse_percent("p", "１００％"), Ok(10_000));
        assert_eq!(parse_percent("p", "0"), Ok(0));
        for bad in [
            "", "%", "四十", "40元", "33.333", "-5", ".5", "1e2", "40 %%", "4,0",
        ] {
            assert_eq!(
                parse_percent("p", bad),
                Err(FieldError::new("p", "purchase.percent_invalid")),
                "{bad}"
            );
        }
        assert_eq!(
            parse_percent("p", "100.01"),
            Err(FieldError::new("p", "purchase.percent_out_of_range"))
        );
        assert_eq!(format_percent(4000), "40");
        assert_eq!(format_percent(3333), "33.33");
        assert_eq!(format_percent(50), "0.5");
        assert_eq!(format_percent(-250), "-2.5");
        for bp in [0, 1, 50, 3333, 6667, 10_000] {
            assert_eq!(parse_percent("p", &format_percent(bp)), Ok(bp));
        }
    }

    #[test]
    fn splits_keep_every_fen() {
        // 1,000.01 yuan in near-thirds: the fen lost to rounding the first two go to the last.
        let parts = split_exact("plan", Fen(100_001), &[3333, 3333, 3334]).unwrap();
        assert_eq!(parts, vec![Fen(33_330), Fen(33_330), Fen(33_341)]);
        assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 100_001);
        let parts = split_exact("plan", Fen(73_335_500), &[4000, 4000, 2000]).unwrap();
        assert_eq!(
            parts,
            vec![Fen(29_334_200), Fen(29_334_200), Fen(14_667_100)]
        );
        let parts = split_exact("plan", Fen(7), &[2000; 5]).unwrap();
        assert_eq!(parts, vec![Fen(1), Fen(1), Fen(1), Fen(1), Fen(3)]);
        assert_eq!(
            split_exact("plan", Fen(100), &[4000, 4000]),
            Err(FieldError::new("plan", "purchase.shares_not_100"))
        );
        assert_eq!(
            split_exact("plan", Fen(100), &[12_000, -2000]),
            Err(FieldError::new("plan", "purchase.share_invalid"))
        );
        assert_eq!(
            split_exact("plan", Fen(100), &[]),
            Err(FieldError::new("plan", "purchase.shares_not_100"))
        );
    }

    #[test]
    fn codes_deserialize_through_their_parser() {
        use evaluation::EvaluatorRole;
        use serde::de::value::{Error, StrDeserializer};
        let read = |text| code::<_, EvaluatorRole>(StrDeserializer::<Error>::new(text));
        assert_eq!(read("purchaser").ok(), Some(EvaluatorRole::Purchaser));
        assert!(read("boss").is_err());
        let none =
            optional_code::<_, EvaluatorRole>(serde::de::value::UnitDeserializer::<Error>::new());
        assert_eq!(none.ok(), Some(None));
    }

    #[test]
    fn ratios_round_down() {
        assert_eq!(ratio_bp(2, 3), Some(6666));
        assert_eq!(ratio_bp(5, 4), Some(12_500));
        assert_eq!(ratio_bp(1, 0), None);
        assert_eq!(share_of(Fen(999), 3333), Fen(332));
        assert_eq!(share_of(Fen(i64::MAX), 10_000), Fen(i64::MAX));
    }
}
