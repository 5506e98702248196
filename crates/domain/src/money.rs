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
    /// Chinese numerals that are not a well-formed number ("二十五十", "壹万贰仟元伍角").
    #[error("Chinese numerals that cannot be read exactly")]
    ChineseNumeral,
    /// An estimate or a range ("约20万", "二十多", "20-30"), not one number.
    #[error("an approximate amount")]
    Approximate,
}

/// The unit a bare number in a column counts in, as its header gives it ("配备资金（万元）").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MoneyUnit {
    /// 元, the default.
    #[default]
    Yuan,
    /// 千元.
    ThousandYuan,
    /// 万元.
    TenThousandYuan,
    /// 亿元.
    HundredMillionYuan,
}

impl MoneyUnit {
    /// Yuan per unit, as a power of ten.
    pub const fn yuan_exponent(self) -> u32 {
        match self {
            MoneyUnit::Yuan => 0,
            MoneyUnit::ThousandYuan => 3,
            MoneyUnit::TenThousandYuan => 4,
            MoneyUnit::HundredMillionYuan => 8,
        }
    }
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
        Fen::parse_in(text, MoneyUnit::Yuan)
    }

    /// [`Fen::parse_lenient`] for a column whose header gives `unit` ("配备资金（万元）"): a bare
    /// number counts in that unit ("18" is 180,000 yuan), a unit in the text overrides it
    /// ("200元", "1.5万"). Full-width digits, stray spaces and well-formed Chinese numerals
    /// ("二十万元", "壹万贰仟元整", "三点五万") are read exactly; approximations ("约20万",
    /// "二十多") and ranges are refused.
    pub fn parse_in(text: &str, unit: MoneyUnit) -> Result<Fen, MoneyError> {
        let written = Written::read(text)?;
        let yuan = matches!(
            written.unit.as_str(),
            "元" | "圆" | "块" | "元整" | "圆整" | "块钱"
        );
        if !yuan && !written.unit.is_empty() {
            return Err(MoneyError::NotANumber);
        }
        let exponent = if yuan || written.multiplied {
            0
        } else {
            unit.yuan_exponent()
        };
        if written.value.is_negative() {
            return Err(MoneyError::Negative);
        }
        written
            .value
            .scaled(2 + exponent)
            .map(Fen)
            .ok_or(MoneyError::NotANumber)
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

    /// The value times 10^exponent ("1.5" with 万 is 15000), exactly; `None` past 30 digits.
    pub fn times_ten_to(self, exponent: u32) -> Option<Exact> {
        if self.scale >= exponent {
            return Some(Exact {
                scale: self.scale - exponent,
                ..self
            });
        }
        let digits = self
            .digits
            .checked_mul(10u128.checked_pow(exponent - self.scale)?)?;
        (digits < 10u128.pow(30)).then_some(Exact {
            digits,
            scale: 0,
            ..self
        })
    }
}

/// A number as a spreadsheet cell writes it, before its column decides what the unit means:
/// the value with any multiplier in the text applied ("1.5万" → 15000), whether there was one,
/// and the words after it ("元", "人次", "平方米").
#[derive(Debug, Clone)]
pub struct Written {
    pub value: Exact,
    /// The text gave its own magnitude: "1.5万", "3千", or Chinese numerals with 万 or 亿.
    pub multiplied: bool,
    /// A leading "¥" or "￥".
    pub currency: bool,
    /// The unit or counter word after the number, "" when none.
    pub unit: String,
}

impl Written {
    /// Reads "18", "１８", "1,500.5", "1 500", "-2", "1.5万元", "￥300", "3人", "二十人",
    /// "壹万贰仟元整", "三点五万". Refused: approximations and ranges ("约20万", "二十多",
    /// "20-30") as [`MoneyError::Approximate`], Chinese numerals that are not one well-formed
    /// number as [`MoneyError::ChineseNumeral`], anything else (including Excel's "1.5E+11",
    /// "NaN", "#NUM!") as [`MoneyError::NotANumber`].
    pub fn read(text: &str) -> Result<Written, MoneyError> {
        let text = clean_number(text);
        let (currency, text) = match text.strip_prefix(['¥', '￥']) {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        if is_approximate(text) {
            return Err(MoneyError::Approximate);
        }
        let (negative, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let arabic_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .unwrap_or(body.len());
        let (value, multiplied, rest) = if arabic_end > 0 {
            let (number, rest) = body.split_at(arabic_end);
            let value = Exact::parse(number).ok_or(MoneyError::NotANumber)?;
            let (exponent, rest) = multiplier(rest);
            let value = value.times_ten_to(exponent).ok_or(MoneyError::NotANumber)?;
            (value, exponent > 0, rest)
        } else if body.starts_with(is_chinese_numeral) {
            let end = body
                .find(|c: char| !is_chinese_numeral(c))
                .unwrap_or(body.len());
            let (numeral, rest) = body.split_at(end);
            let (value, multiplied) = chinese_number(numeral).ok_or(MoneyError::ChineseNumeral)?;
            (value, multiplied, rest)
        } else {
            return Err(MoneyError::NotANumber);
        };
        // "1万5千", "壹万贰仟元伍角": a second number after the unit.
        let lower = rest.to_ascii_lowercase();
        if lower
            .strip_suffix("m2")
            .unwrap_or(&lower)
            .contains(|c: char| c.is_ascii_digit())
        {
            return Err(MoneyError::NotANumber);
        }
        if rest.contains(|c: char| matches!(numeral_token(c), Some(Numeral::Digit(_)))) {
            return Err(MoneyError::ChineseNumeral);
        }
        Ok(Written {
            value: Exact { negative, ..value },
            multiplied,
            currency,
            unit: rest.to_owned(),
        })
    }
}

/// Full-width digits and signs to ASCII, the minus sign to "-", zero-width characters dropped,
/// spaces removed, except that a space between digits ("1 500") separates thousands.
fn clean_number(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{2212}' => '-',
            '\u{200B}'..='\u{200D}' | '\u{FEFF}' => continue,
            c => c,
        };
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && c.is_ascii_digit() && out.ends_with(|p: char| p.is_ascii_digit()) {
            out.push(',');
        }
        space = false;
        out.push(c);
    }
    out
}

/// "约20万", "近30", "二十多", "20余万", "十几", "30左右", "20-30", "20~30", "20至30".
fn is_approximate(text: &str) -> bool {
    const BEFORE: &[&str] = &[
        "约",
        "大约",
        "大概",
        "近",
        "将近",
        "接近",
        "超",
        "逾",
        "不足",
        "不到",
        "不少于",
        "不超过",
        "至少",
        "最多",
        "≈",
        "~",
        "数",
    ];
    const WITHIN: &[&str] = &[
        "多", "余", "几", "来", "左右", "上下", "以上", "以下", "以内", "开外",
    ];
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    BEFORE.iter().any(|w| text.starts_with(w))
        || WITHIN.iter().any(|w| text.contains(w))
        || unsigned.contains(['-', '~', '至', '到', '—', '–', '〜'])
}

/// A multiplier at the start of the unit: ("万元" → 4, "元"), ("千人" → 3, "人").
fn multiplier(unit: &str) -> (u32, &str) {
    const MULTIPLIERS: &[(&str, u32)] = &[
        ("百万", 6),
        ("千万", 7),
        ("万亿", 12),
        ("百", 2),
        ("佰", 2),
        ("千", 3),
        ("仟", 3),
        ("万", 4),
        ("萬", 4),
        ("亿", 8),
        ("億", 8),
    ];
    MULTIPLIERS
        .iter()
        .find_map(|(word, exponent)| unit.strip_prefix(word).map(|rest| (*exponent, rest)))
        .unwrap_or((0, unit))
}

/// One character of a Chinese number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numeral {
    Zero,
    Digit(u128),
    /// 十 百 千, as a power of ten.
    Small(u32),
    /// 万 亿, as a power of ten.
    Big(u32),
}

fn numeral_token(c: char) -> Option<Numeral> {
    Some(match c {
        '零' | '〇' => Numeral::Zero,
        '一' | '壹' => Numeral::Digit(1),
        '二' | '贰' | '貳' | '两' | '兩' => Numeral::Digit(2),
        '三' | '叁' | '參' => Numeral::Digit(3),
        '四' | '肆' => Numeral::Digit(4),
        '五' | '伍' => Numeral::Digit(5),
        '六' | '陆' | '陸' => Numeral::Digit(6),
        '七' | '柒' => Numeral::Digit(7),
        '八' | '捌' => Numeral::Digit(8),
        '九' | '玖' => Numeral::Digit(9),
        '十' | '拾' => Numeral::Small(1),
        '百' | '佰' => Numeral::Small(2),
        '千' | '仟' => Numeral::Small(3),
        '万' | '萬' => Numeral::Big(4),
        '亿' | '億' => Numeral::Big(8),
        _ => return None,
    })
}

fn is_chinese_numeral(c: char) -> bool {
    numeral_token(c).is_some() || matches!(c, '点' | '點')
}

/// A well-formed Chinese number ("二十", "一万五千", "一千零五", "三点五万", "〇") and whether
/// it has 万 or 亿 in it; `None` for anything that is not exactly one number.
fn chinese_number(text: &str) -> Option<(Exact, bool)> {
    let (whole, fraction) = match text.split_once(['点', '點']) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let whole = chinese_integer(whole)?;
    let Some(fraction) = fraction else {
        let exact = Exact {
            negative: false,
            digits: whole.value,
            scale: 0,
        };
        return Some((exact, whole.big));
    };
    // "三点五万": digits after the point, then at most one 万 or 亿 for the whole number.
    if whole.big || whole.abbreviated {
        return None;
    }
    let mut digits = whole.value;
    let mut scale = 0u32;
    let mut exponent = 0;
    for c in fraction.chars() {
        match numeral_token(c)? {
            Numeral::Zero if exponent == 0 => digits = digits.checked_mul(10)?,
            Numeral::Digit(d) if exponent == 0 => {
                digits = digits.checked_mul(10)?.checked_add(d)?;
            }
            Numeral::Big(e) if exponent == 0 && scale > 0 => exponent = e,
            _ => return None,
        }
        if exponent == 0 {
            scale += 1;
        }
    }
    if scale == 0 || scale > 20 {
        return None;
    }
    let exact = Exact {
        negative: false,
        digits,
        scale,
    };
    Some((exact.times_ten_to(exponent)?, exponent > 0))
}

struct ChineseInteger {
    value: u128,
    /// Has 万 or 亿.
    big: bool,
    /// Ends in the spoken short form: "一万五" (15000), "三千五" (3500).
    abbreviated: bool,
}

/// The whole part of a Chinese number: digits each followed by a smaller unit than the last
/// within a group of 万, 零 only where a place is skipped, 万 and 亿 once each in that order.
fn chinese_integer(text: &str) -> Option<ChineseInteger> {
    let tokens: Vec<Numeral> = text.chars().map(numeral_token).collect::<Option<_>>()?;
    if tokens == [Numeral::Zero] {
        return Some(ChineseInteger {
            value: 0,
            big: false,
            abbreviated: false,
        });
    }
    if tokens.is_empty() || tokens.len() > 24 || tokens.first() == Some(&Numeral::Zero) {
        return None;
    }
    let mut total: u128 = 0; // the groups closed by 万 and 亿, multiplied out
    let mut section: u128 = 0; // the group below 万 being read
    let mut digit: Option<u128> = None;
    let mut zero = false; // a 零 since the last unit
    let mut last_small = 4; // the last unit in this group, as a power of ten
    let mut last_unit: Option<u32> = None;
    let (mut wan, mut yi) = (false, false);
    for (i, token) in tokens.iter().enumerate() {
        match *token {
            Numeral::Zero => {
                if digit.is_some() || zero {
                    return None;
                }
                zero = true;
            }
            Numeral::Digit(d) => {
                if digit.replace(d).is_some() {
                    return None;
                }
            }
            Numeral::Small(e) => {
                // A bare 十 only opens the number: "十五", "十万".
                let n = match digit.take() {
                    Some(d) => d,
                    None if e == 1 && i == 0 => 1,
                    None => return None,
                };
                let fits = if zero {
                    e + 1 < last_small
                } else {
                    e < last_small
                };
                if !fits {
                    return None;
                }
                section += n * 10u128.pow(e);
                (last_small, last_unit, zero) = (e, Some(e), false);
            }
            Numeral::Big(e) => {
                if let Some(d) = digit.take() {
                    // "一千五万", "一亿五万": short forms only end a number; "一千零五万" is clear.
                    let short = !zero && last_unit.is_some_and(|u| u > 1);
                    if short || (zero && last_small < 2) {
                        return None;
                    }
                    section += d;
                }
                let closes = if e == 8 { !yi && !wan } else { !wan };
                if section == 0 || !closes {
                    return None;
                }
                total += section * 10u128.pow(e);
                if e == 8 {
                    yi = true;
                } else {
                    wan = true;
                }
                (section, last_small, last_unit, zero) = (0, 4, Some(e), false);
            }
        }
    }
    let mut abbreviated = false;
    match (digit, zero, last_unit) {
        (None, true, _) => return None,                      // "一百零"
        (Some(_), true, _) if last_small < 2 => return None, // "一十零五"
        (Some(d), false, Some(unit)) if unit > 1 => {
            abbreviated = true;
            section += d * 10u128.pow(unit - 1);
        }
        (Some(d), _, _) => section += d,
        (None, false, _) => {}
    }
    Some(ChineseInteger {
        value: total + section,
        big: wan || yi,
        abbreviated,
    })
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
    fn header_units_apply_to_bare_numbers_only() {
        use MoneyUnit::*;
        for (text, unit, expected) in [
            ("18", TenThousandYuan, Ok(Fen(18_000_000))),
            ("18 ", TenThousandYuan, Ok(Fen(18_000_000))),
            ("1.5", TenThousandYuan, Ok(Fen(1_500_000))),
            ("200元", TenThousandYuan, Ok(Fen(20_000))),
            ("1.5万", TenThousandYuan, Ok(Fen(1_500_000))),
            ("1.5万元", Yuan, Ok(Fen(1_500_000))),
            ("３０", Yuan, Ok(Fen(3_000))),
            ("３０", ThousandYuan, Ok(Fen(3_000_000))),
            ("1,500.5", Yuan, Ok(Fen(150_050))),
            ("１，５００．５", Yuan, Ok(Fen(150_050))),
            ("1 500", Yuan, Ok(Fen(150_000))),
            ("2", HundredMillionYuan, Ok(Fen(20_000_000_000))),
            ("3千元", TenThousandYuan, Ok(Fen(300_000))),
            ("0.0001", TenThousandYuan, Ok(Fen(100))),
            ("1 5", Yuan, Err(MoneyError::NotANumber)),
            ("-1", TenThousandYuan, Err(MoneyError::Negative)),
            ("−5", Yuan, Err(MoneyError::Negative)),
            (
                "99999999999999999",
                TenThousandYuan,
                Err(MoneyError::NotANumber),
            ),
        ] {
            assert_eq!(Fen::parse_in(text, unit), expected, "{text} in {unit:?}");
        }
    }

    #[test]
    fn chinese_numerals_exactly_or_not_at_all() {
        use MoneyUnit::*;
        for (text, unit, expected) in [
            ("二十", Yuan, 2_000),
            ("二十", TenThousandYuan, 20_000_000),
            ("二十万元", Yuan, 20_000_000),
            ("二十万", TenThousandYuan, 20_000_000),
            ("一万五千", Yuan, 1_500_000),
            ("一万五", Yuan, 1_500_000),
            ("三千五", Yuan, 350_000),
            ("两百五十元", Yuan, 25_000),
            ("壹万贰仟元", Yuan, 1_200_000),
            ("壹万贰仟元整", Yuan, 1_200_000),
            ("壹拾万圆整", Yuan, 10_000_000),
            ("三点五万", Yuan, 3_500_000),
            ("三点五", TenThousandYuan, 3_500_000),
            ("零点五", Yuan, 50),
            ("十二点五万元", Yuan, 12_500_000),
            ("〇", Yuan, 0),
            ("零", Yuan, 0),
            ("十", Yuan, 1_000),
            ("十万", Yuan, 10_000_000),
            ("一千零五", Yuan, 100_500),
            ("一千零五十", Yuan, 105_000),
            ("一万零五百", Yuan, 1_050_000),
            ("一亿二千万", Yuan, 12_000_000_000),
            ("一亿零五万", Yuan, 10_005_000_000),
            ("一千零五万", Yuan, 1_005_000_000),
            ("九千九百九十九万九千九百九十九", Yuan, 9_999_999_900),
        ] {
            assert_eq!(Fen::parse_in(text, unit), Ok(Fen(expected)), "{text}");
        }
        for text in [
            "二十五十",
            "一百零",
            "五零",
            "零五",
            "一十零五",
            "一万零五千",
            "一千五万",
            "一亿五万",
            "万",
            "一万万",
            "万亿",
            "二〇二三",
            "一万点五",
            "三点",
            "点五",
            "三点五万万",
            "壹万贰仟元伍角",
            "百",
        ] {
            assert_eq!(
                Fen::parse_lenient(text),
                Err(MoneyError::ChineseNumeral),
                "{text}"
            );
        }
    }

    #[test]
    fn estimates_ranges_and_garbage_are_refused() {
        for (text, expected) in [
            ("约20万", MoneyError::Approximate),
            ("大约3000元", MoneyError::Approximate),
            ("二十多", MoneyError::Approximate),
            ("20多万", MoneyError::Approximate),
            ("二十余万元", MoneyError::Approximate),
            ("十几万", MoneyError::Approximate),
            ("30万左右", MoneyError::Approximate),
            ("20-30", MoneyError::Approximate),
            ("20~30万", MoneyError::Approximate),
            ("20至30万", MoneyError::Approximate),
            ("1.2.3", MoneyError::NotANumber),
            ("1万5千", MoneyError::NotANumber),
            ("abc", MoneyError::NotANumber),
            ("NaN", MoneyError::NotANumber),
            ("inf", MoneyError::NotANumber),
            ("-inf", MoneyError::NotANumber),
            ("1.#INF", MoneyError::NotANumber),
            ("#NUM!", MoneyError::NotANumber),
            ("#DIV/0!", MoneyError::NotANumber),
            ("1.5E+11", MoneyError::NotANumber),
            ("1e5", MoneyError::NotANumber),
            ("无", MoneyError::NotANumber),
            ("-", MoneyError::NotANumber),
            ("元", MoneyError::NotANumber),
            ("15000美元", MoneyError::NotANumber),
            ("3人", MoneyError::NotANumber),
            ("100000000000000000000", MoneyError::NotANumber),
        ] {
            assert_eq!(Fen::parse_lenient(text), Err(expected), "{text}");
        }
    }

    #[test]
    fn written_numbers_keep_their_unit_words() {
        let written = Written::read("1.2万人次").unwrap();
        assert_eq!(written.value.scaled(0), Some(12_000));
        assert!(written.multiplied && !written.currency);
        assert_eq!(written.unit, "人次");
        let written = Written::read("二十人").unwrap();
        assert_eq!(
            (written.value.scaled(0), written.unit.as_str()),
            (Some(20), "人")
        );
        let written = Written::read("￥ 300").unwrap();
        assert!(written.currency && !written.multiplied);
        assert_eq!(Written::read("-2").unwrap().value.scaled(0), Some(-2));
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
