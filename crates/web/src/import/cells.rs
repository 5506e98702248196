//! One cell read by its column's kind: text within its length, whole numbers and areas with
//! their units, money through [`Fen::parse_lenient`], decimals and degrees, dates and months in
//! the spellings offices use, and choices by any of their labels.

use std::ops::RangeInclusive;

use chrono::{Datelike, Days, NaiveDate};
use shegong_domain::money::{Exact, Fen, MoneyError, split_unit};

use crate::import::schema::{Column, Kind, Value};
use crate::import::sheet::{Cell, normalize};
use crate::ui::i18n::Tr;

/// The cell's value (None when empty and optional), or the message key of what is wrong.
pub(crate) fn parse_cell(column: &Column, cell: &Cell) -> Result<Option<Value>, &'static str> {
    match cell {
        Cell::Empty if column.required => return Err("import.required"),
        Cell::Empty => return Ok(None),
        Cell::Error(_) => return Err("import.bad_cell"),
        _ => {}
    }
    let text = cell.display();
    let value = match column.kind {
        Kind::Text { max_chars } if text.chars().count() > max_chars => {
            return Err("import.too_long");
        }
        Kind::Text { .. } | Kind::Region => Value::Text(text),
        Kind::Integer => parse_integer(&text)?,
        Kind::Money => parse_money(&text)?,
        Kind::Area => parse_area(&text)?,
        Kind::Decimal => parse_decimal(&text)?,
        Kind::Date => Value::Date(parse_date(&text).ok_or("import.bad_date")?),
        Kind::Month => {
            let (year, month) =
                parse_month(&text, matches!(cell, Cell::Number(_))).ok_or("import.bad_month")?;
            Value::Month(year, month)
        }
        Kind::Choice(choices) => parse_choice(&text, choices)?,
    };
    Ok(Some(value))
}

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

fn parse_integer(text: &str) -> Result<Value, &'static str> {
    let (number, unit) = split_unit(text);
    let (shift, counter) = match unit.strip_prefix('万') {
        Some(rest) => (4, rest),
        None => (0, unit),
    };
    // A counter word after the number ("3人", "12个", "1.2万人次") says nothing we need.
    let counter_ok = counter.chars().count() <= 3 && counter.chars().all(is_cjk);
    let value = Exact::parse(number)
        .filter(|_| counter_ok)
        .ok_or("import.not_a_number")?;
    if !value.is_whole(shift) {
        return Err("import.not_integer");
    }
    value
        .scaled(shift)
        .map(Value::Int)
        .ok_or("import.not_a_number")
}

fn parse_money(text: &str) -> Result<Value, &'static str> {
    match Fen::parse_lenient(text) {
        Ok(fen) => Ok(Value::Fen(fen.0)),
        Err(MoneyError::Negative) => Err("import.negative"),
        Err(MoneyError::NotANumber) => Err("import.not_a_number"),
    }
}

fn parse_area(text: &str) -> Result<Value, &'static str> {
    let (number, unit) = split_unit(text);
    let unit_ok = matches!(
        unit.to_ascii_lowercase().as_str(),
        "" | "㎡" | "m²" | "m2" | "平方米" | "平米" | "平方" | "平"
    );
    let value = Exact::parse(number)
        .filter(|_| unit_ok)
        .ok_or("import.not_a_number")?;
    if value.is_negative() {
        return Err("import.negative");
    }
    value
        .scaled(0)
        .map(Value::Area)
        .ok_or("import.not_a_number")
}

fn parse_decimal(text: &str) -> Result<Value, &'static str> {
    if text.contains(['°', '度']) {
        return parse_degrees(text)
            .map(Value::Decimal)
            .ok_or("import.not_a_number");
    }
    Exact::parse(text).ok_or("import.not_a_number")?;
    text.replace(',', "")
        .parse()
        .map(Value::Decimal)
        .map_err(|_| "import.not_a_number")
}

/// "112°58′48″" or "112度58分48秒" (minutes and seconds optional) → decimal degrees.
fn parse_degrees(text: &str) -> Option<f64> {
    fn number_before<'a>(text: &'a str, marks: &[char]) -> Option<(f64, &'a str)> {
        let (at, mark) = text.char_indices().find(|(_, c)| marks.contains(c))?;
        let (number, rest) = text.split_at(at);
        let number = number.trim();
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        let rest = rest.get(mark.len_utf8()..)?;
        Some((number.parse().ok()?, rest.trim_start()))
    }
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    };
    let (degrees, mut rest) = number_before(text, &['°', '度'])?;
    let mut seconds = 0.0;
    for (marks, factor) in [
        (&['′', '\'', '’', '分'], 60.0),
        (&['″', '"', '”', '秒'], 1.0),
    ] {
        if let Some((value, after)) = number_before(rest, marks) {
            if value >= 60.0 {
                return None;
            }
            seconds += value * factor;
            rest = after;
        }
    }
    if !rest.is_empty() {
        return None;
    }
    // Dividing once keeps whole-second values exact to the last digit (58′48″ → .98).
    let value = degrees + seconds / 3600.0;
    Some(if negative { -value } else { value })
}

/// Years a date or month may fall in; anything else is a typo ("0223", "2203").
const YEARS: RangeInclusive<i32> = 1900..=2100;

/// `s` as a number if it is all ASCII digits and `lens` long.
fn digits(s: &str, lens: RangeInclusive<usize>) -> Option<u32> {
    if lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    // A date-time ("2023-01-05 08:30", ISO "2023-01-05T08:30:00") counts as its date.
    let text = match text.split_once([' ', 'T']) {
        Some((date, time)) if time.contains(':') => date,
        _ => text,
    };
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact
        .strip_suffix(['日', '号'])
        .unwrap_or(&compact)
        .replace(['年', '月'], "-");
    let date = if let Some(ymd) = digits(&compact, 8..=8) {
        NaiveDate::from_ymd_opt((ymd / 10_000) as i32, ymd / 100 % 100, ymd % 100)
    } else if let Some(serial) = digits(&compact, 5..=5) {
        // A date column whose format got lost shows Excel's serial day: 5 digits are 1927–2173.
        NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(Days::new(serial.into()))
    } else {
        let parts: Vec<&str> = compact.split(['-', '/', '.']).collect();
        let [year, month, day] = parts.as_slice() else {
            return None;
        };
        NaiveDate::from_ymd_opt(
            digits(year, 4..=4)? as i32,
            digits(month, 1..=2)?,
            digits(day, 1..=2)?,
        )
    }?;
    YEARS.contains(&date.year()).then_some(date)
}

/// `from_number`: the cell was a number, where "2023.1" may have been typed as 2023.10.
fn parse_month(text: &str, from_number: bool) -> Option<(i32, u32)> {
    if from_number && text.len() == 6 && text.ends_with(".1") {
        return None;
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.strip_suffix('份').unwrap_or(&compact); // "1月份"
    let dashed = compact
        .strip_suffix('月')
        .unwrap_or(compact)
        .replace('年', "-");
    let year_month = if let Some(ym) = digits(&dashed, 6..=6) {
        Some((ym / 100, ym % 100))
    } else if let Some((year, month)) = dashed.split_once(['-', '/', '.']) {
        digits(year, 4..=4).zip(digits(month, 1..=2))
    } else {
        None
    };
    match year_month {
        Some((year, month)) => {
            let year = year as i32;
            (YEARS.contains(&year) && (1..=12).contains(&month)).then_some((year, month))
        }
        // Not spelled as a month: a whole date names its month.
        None => parse_date(text).map(|d| (d.year(), d.month())),
    }
}

fn parse_choice(
    text: &str,
    choices: &'static [(&'static str, &'static [&'static str])],
) -> Result<Value, &'static str> {
    let wanted = text.to_ascii_lowercase();
    choices
        .iter()
        .find(|(code, labels)| {
            code.eq_ignore_ascii_case(&wanted)
                || labels
                    .iter()
                    .any(|l| normalize(l).to_ascii_lowercase() == wanted)
        })
        .map(|(code, _)| Value::Code(code))
        .ok_or("import.bad_choice")
}

/// The first label of each choice (its code if it has none).
pub(crate) fn first_labels(choices: &[(&'static str, &'static [&'static str])]) -> Vec<String> {
    choices
        .iter()
        .map(|(code, labels)| labels.first().unwrap_or(code).to_string())
        .collect()
}

pub(crate) fn choice_labels(choices: &[(&'static str, &'static [&'static str])], t: &Tr) -> String {
    first_labels(choices).join(t.get("import.separator"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn money_is_exact() {
        let mut seed: u64 = 0x5eed;
        for _ in 0..300 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let fen = (seed >> 20) as i64 % 1_000_000_000_000;
            let (yuan, cents) = (fen / 100, fen % 100);
            let grouped = yuan
                .to_string()
                .as_bytes()
                .rchunks(3)
                .rev()
                .map(|g| std::str::from_utf8(g).unwrap())
                .collect::<Vec<_>>()
                .join(",");
            let cases = [
                (format!("{yuan}.{cents:02}"), fen),
                (format!("￥{yuan}.{cents:02}元"), fen),
                (format!("{grouped}.{cents:02}元"), fen),
                (format!("{}.{:06}万", fen / 1_000_000, fen % 1_000_000), fen),
                (
                    format!("{}.{:06}万元", fen / 1_000_000, fen % 1_000_000),
                    fen,
                ),
                (format!("{yuan}"), yuan * 100),
                (format!("{yuan}元"), yuan * 100),
            ];
            for (input, expected) in cases {
                assert_eq!(parse_money(&input), Ok(Value::Fen(expected)), "{input}");
            }
        }
        for (input, expected) in [
            ("0.1万", Ok(Value::Fen(100_000))),
            ("1.5万元", Ok(Value::Fen(1_500_000))),
            ("¥ 15000", Ok(Value::Fen(1_500_000))),
            ("15000.505", Ok(Value::Fen(1_500_051))),
            ("15000.504", Ok(Value::Fen(1_500_050))),
            ("0", Ok(Value::Fen(0))),
            ("-1", Err("import.negative")),
            ("15,00", Err("import.not_a_number")),
            ("1.2.3", Err("import.not_a_number")),
            ("15000美元", Err("import.not_a_number")),
            ("99999999999999999999", Err("import.not_a_number")),
        ] {
            assert_eq!(parse_money(input), expected, "{input}");
        }
    }

    #[test]
    fn numbers_with_units() {
        for (input, expected) in [
            ("3", Ok(3)),
            ("3.0", Ok(3)),
            ("12人", Ok(12)),
            ("1.2万人次", Ok(12_000)),
            ("-2", Ok(-2)),
            ("3.5", Err("import.not_integer")),
            ("3 apples", Err("import.not_a_number")),
            ("约3人", Err("import.not_a_number")),
        ] {
            assert_eq!(parse_integer(input), expected.map(Value::Int), "{input}");
        }
        for (input, expected) in [
            ("30", Ok(30)),
            ("30m²", Ok(30)),
            ("30 M2", Ok(30)),
            ("30平米", Ok(30)),
            ("30.4", Ok(30)),
            ("30.5㎡", Ok(31)),
            ("-30", Err("import.negative")),
            ("30亩", Err("import.not_a_number")),
        ] {
            assert_eq!(parse_area(input), expected.map(Value::Area), "{input}");
        }
        for (input, expected) in [
            ("112.98", Ok(112.98)),
            ("112°58′48″", Ok(112.98)),
            ("27度49分48秒", Ok(27.83)),
            ("112°30'", Ok(112.5)),
            ("-0.5", Ok(-0.5)),
            ("112°61′", Err("import.not_a_number")),
            ("东经112", Err("import.not_a_number")),
            ("1e5", Err("import.not_a_number")),
        ] {
            assert_eq!(
                parse_decimal(input),
                expected.map(Value::Decimal),
                "{input}"
            );
        }
    }

    #[test]
    fn dates_and_months() {
        for input in [
            "2023-01-05",
            "2023/1/5",
            "2023.1.5",
            "2023年1月5日",
            "2023 年 1 月 5 日",
            "20230105",
            "44931",
            "2023-01-05 08:30:00",
            "2023-01-05T08:30:00",
        ] {
            assert_eq!(parse_date(input), Some(date(2023, 1, 5)), "{input}");
        }
        for input in [
            "2023-02-30",
            "23/1/5",
            "1/5/2023",
            "0223-01-05",
            "2023",
            "202301",
            "昨天",
        ] {
            assert_eq!(parse_date(input), None, "{input}");
        }
        for input in [
            "2023-01",
            "2023/1",
            "2023.1",
            "2023年1月",
            "2023年1月份",
            "202301",
            "2023-01-05",
            "20230131",
        ] {
            assert_eq!(parse_month(input, false), Some((2023, 1)), "{input}");
        }
        assert_eq!(parse_month("2023.11", true), Some((2023, 11)));
        // As a number, 2023.1 may be a mangled 2023.10.
        assert_eq!(parse_month("2023.1", true), None);
        for input in ["2023-13", "2023-00", "1899-12", "1月", "2023"] {
            assert_eq!(parse_month(input, false), None, "{input}");
        }
    }
}
