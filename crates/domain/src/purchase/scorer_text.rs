//! Levels and ratio bands as an office writes them in its indicator sheet, and back:
//! levels "优=1；良=4/5；中=60%；差=0" (label = share of the node's maximum), bands
//! "≥100%=1；80%=2/3；60%=1/3" (from this completion ratio up = share). Shares are exact
//! fractions, percentages or decimals; full-width characters and either separator are read.

use super::indicator::{Fraction, Level, MAX_STEPS, RatioBand};
use crate::FieldError;

/// Full-width forms to ASCII, so "８０％" reads as "80%".
fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// The `label=share` items of `text`, split on ';', '；', ',', '，', '、' or new lines.
fn items(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split([';', '；', ',', '，', '、', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let half = half_width(item);
            match half.split_once(['=', ':']) {
                Some((a, b)) => (a.trim().to_owned(), b.trim().to_owned()),
                None => (half.trim().to_owned(), String::new()),
            }
        })
}

/// A decimal with at most `places` decimals, as an integer scaled by 10^places.
fn scaled(text: &str, places: u32) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 6 || frac.len() > places as usize {
        return None;
    }
    if !digits(whole) || !digits(frac) {
        return None;
    }
    let frac = format!("{frac:0<width$}", width = places as usize);
    let scale = 10i64.pow(places);
    Some(whole.parse::<i64>().ok()? * scale + frac.parse::<i64>().unwrap_or(0))
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs().max(1)
    } else {
        gcd(b, a % b)
    }
}

fn reduced(num: i64, den: i64) -> Fraction {
    let g = gcd(num, den);
    Fraction::new(num / g, den / g)
}

/// "2/3", "80%", "66.5%", "0.8", "1", "0".
pub fn parse_share(text: &str) -> Option<Fraction> {
    let t = half_width(text);
    let t = t.trim();
    let share = if let Some((n, d)) = t.split_once('/') {
        let (n, d) = (n.trim().parse::<i64>().ok()?, d.trim().parse::<i64>().ok()?);
        if !(1..=10_000).contains(&d) {
            return None;
        }
        reduced(n, d)
    } else if let Some(p) = t.strip_suffix('%') {
        reduced(scaled(p.trim(), 2)?, 10_000)
    } else {
        reduced(scaled(t, 4)?, 10_000)
    };
    share.is_valid().then_some(share)
}

/// A share as typed back: a percentage when it is exact in hundredths of a percent, else the
/// fraction ("80%", "2/3", "100%").
pub fn share_text(f: Fraction) -> String {
    if f.den > 0 && 10_000 % f.den == 0 {
        percent_text(f.num * (10_000 / f.den))
    } else {
        format!("{}/{}", f.num, f.den)
    }
}

/// Basis points as a percentage: 8000 → "80%", 6667 → "66.67%".
fn percent_text(bp: i64) -> String {
    match bp % 100 {
        0 => format!("{}%", bp / 100),
        r if r % 10 == 0 => format!("{}.{}%", bp / 100, r / 10),
        r => format!("{}.{r:02}%", bp / 100),
    }
}

/// Levels of a graded node; refused on `field` with `evaluation.levels_invalid`. The domain
/// checks the rest (labels distinct) when the tree is built.
pub fn parse_levels(field: &'static str, text: &str) -> Result<Vec<Level>, FieldError> {
    let invalid = || FieldError::new(field, "evaluation.levels_invalid");
    let levels = items(text)
        .take(MAX_STEPS + 1)
        .map(|(label, share)| {
            Some(Level {
                label,
                fraction: parse_share(&share)?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(invalid)?;
    if levels.is_empty() || levels.len() > MAX_STEPS {
        return Err(invalid());
    }
    Ok(levels)
}

pub fn levels_text(levels: &[Level]) -> String {
    levels
        .iter()
        .map(|l| format!("{}={}", l.label, share_text(l.fraction)))
        .collect::<Vec<_>>()
        .join("；")
}

/// Bands of a ratio node, highest first as written; refused on `field` with
/// `evaluation.bands_invalid`.
pub fn parse_bands(field: &'static str, text: &str) -> Result<Vec<RatioBand>, FieldError> {
    let invalid = || FieldError::new(field, "evaluation.bands_invalid");
    let bands = items(text)
        .take(MAX_STEPS + 1)
        .map(|(ratio, share)| {
            let ratio = ratio.trim_start_matches(['≥', '>', '=']).trim();
            let bp = scaled(ratio.strip_suffix('%')?.trim(), 2)?;
            Some(RatioBand {
                min_ratio_bp: bp,
                fraction: parse_share(&share)?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(invalid)?;
    if bands.is_empty() || bands.len() > MAX_STEPS {
        return Err(invalid());
    }
    Ok(bands)
}

pub fn bands_text(bands: &[RatioBand]) -> String {
    bands
        .iter()
        .map(|b| {
            format!(
                "≥{}={}",
                percent_text(b.min_ratio_bp),
                share_text(b.fraction)
            )
        })
        .collect::<Vec<_>>()
        .join("；")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchase::indicator::delivery_bands;

    #[test]
    fn shares_read_as_offices_write_them() {
        assert_eq!(parse_share("2/3"), Some(Fraction::new(2, 3)));
        assert_eq!(parse_share("８０％"), Some(Fraction::new(4, 5)));
        assert_eq!(parse_share("0.8"), Some(Fraction::new(4, 5)));
        assert_eq!(parse_share("66.5%"), Some(Fraction::new(133, 200)));
        assert_eq!(parse_share("1"), Some(Fraction::FULL));
        assert_eq!(parse_share("0"), Some(Fraction::new(0, 1)));
        for bad in ["", "120%", "3/2", "-1", "一半", "1/0", "0.12345", "8 0%"] {
            assert_eq!(parse_share(bad), None, "{bad}");
        }
        assert_eq!(share_text(Fraction::new(2, 3)), "2/3");
        assert_eq!(share_text(Fraction::new(4, 5)), "80%");
        assert_eq!(share_text(Fraction::new(133, 200)), "66.5%");
    }

    #[test]
    fn levels_and_bands_round_trip() {
        let levels = parse_levels("x", "优=1；良＝4/5, 中:60% 、差=0").unwrap();
        assert_eq!(levels.len(), 4);
        assert_eq!(levels[1].label, "良");
        assert_eq!(levels[1].fraction, Fraction::new(4, 5));
        assert_eq!(levels_text(&levels), "优=100%；良=80%；中=60%；差=0%");
        assert_eq!(parse_levels("x", &levels_text(&levels)).unwrap(), levels);

        let text = bands_text(&delivery_bands());
        assert_eq!(text, "≥100%=100%；≥80%=2/3；≥60%=1/3");
        assert_eq!(parse_bands("x", &text).unwrap(), delivery_bands());
        assert_eq!(
            parse_bands("x", "100%=1; 80%=2/3; 60%=1/3").unwrap(),
            delivery_bands()
        );
    }

    #[test]
    fn unreadable_steps_are_refused_on_the_field() {
        let err = |r: Result<Vec<Level>, FieldError>| r.unwrap_err().code;
        assert_eq!(err(parse_levels("p", "")), "evaluation.levels_invalid");
        assert_eq!(err(parse_levels("p", "优")), "evaluation.levels_invalid");
        assert_eq!(
            err(parse_levels("p", "优=很好")),
            "evaluation.levels_invalid"
        );
        let many = (0..=MAX_STEPS)
            .map(|i| format!("L{i}=0"))
            .collect::<Vec<_>>()
            .join(";");
        assert_eq!(err(parse_levels("p", &many)), "evaluation.levels_invalid");
        assert!(
            parse_bands("p", "100=1").is_err(),
            "a ratio needs its % sign"
        );
        assert_eq!(parse_bands("p", "").unwrap_err().field, "p");
    }
}
