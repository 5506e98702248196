//! One cell read by its column's kind: text within its length, whole numbers and areas with
//! their units, money through [`Fen::parse_lenient`], decimals and degrees, dates and months in
//! the spellings offices use, and choices by any of their labels.

use std::ops::RangeInclusive;

use chrono::{Datelike, Days, NaiveDate};
use shegong_domain::money::{Exact, Fen, MoneyError, MoneyUnit, Written};

use crate::import::header::Unit;
use crate::import::schema::{Column, Kind, Value};
use crate::import::sheet::{Cell, normalize};
use crate::ui::i18n::Tr;

/// The cell's value (None when empty and optional), or the message key of what is wrong.
#[cfg(test)]
pub(crate) fn parse_cell(column: &Column, cell: &Cell) -> Result<Option<Value>, &'static str> {
    parse_cell_with(column, None, cell)
}

/// [`parse_cell`] under a header that gives a `unit` ("配备资金（万元）"): bare numbers in a
/// money column count in it ("18" is 180,000 yuan); a unit in the cell overrides it ("200元").
pub(crate) fn parse_cell_with(
    column: &Column,
    unit: Option<Unit>,
    cell: &Cell,
) -> Result<Option<Value>, &'static str> {
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
        Kind::Money => {
            let unit = unit.and_then(Unit::money).unwrap_or_default();
            parse_money(&text, unit)?
        }
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

/// The message key of a number that could not be read.
fn number_error(error: MoneyError) -> &'static str {
    match error {
        MoneyError::NotANumber => "import.not_a_number",
        MoneyError::Negative => "import.negative",
        MoneyError::ChineseNumeral => "import.chinese_numeral",
        MoneyError::Approximate => "import.approximate",
    }
}

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// What may follow a count written in Chinese numerals ("二十人"); after digits any short
/// Chinese counter goes ("3人", "12个"), but "五保户" is not five of anything.
const CHINESE_COUNTERS: &[&str] = &[
    "", "人", "名", "个", "位", "人次", "次", "户", "家", "所", "间", "处", "项", "场", "天",
    "小时", "课时", "期",
];

fn parse_integer(text: &str) -> Result<Value, &'static str> {
    let written = Written::read(text).map_err(number_error)?;
    let counter = written.unit.as_str();
    let chinese = !text.contains(|c: char| c.is_ascii_digit() || ('０'..='９').contains(&c));
    // A counter word after the number ("3人", "12个", "1.2万人次") says nothing we need.
    let counter_ok = if chinese {
        CHINESE_COUNTERS.contains(&counter)
    } else {
        counter.chars().count() <= 3 && counter.chars().all(is_cjk)
    };
    if written.currency || !counter_ok {
        return Err("import.not_a_number");
    }
    if !written.value.is_whole(0) {
        return Err("import.not_integer");
    }
    written
        .value
        .scaled(0)
        .map(Value::Int)
        .ok_or("import.not_a_number")
}

fn parse_money(text: &str, unit: MoneyUnit) -> Result<Value, &'static str> {
    Fen::parse_in(text, unit)
        .map(|fen| Value::Fen(fen.0))
        .map_err(number_error)
}

fn parse_area(text: &str) -> Result<Value, &'static str> {
    let written = Written::read(text).map_err(number_error)?;
    let unit_ok = matches!(
        written.unit.to_ascii_lowercase().as_str(),
        "" | "㎡" | "m²" | "m2" | "平方米" | "平米" | "平方" | "平"
    );
    if written.currency || !unit_ok {
        return Err("import.not_a_number");
    }
    if written.value.is_negative() {
        return Err("import.negative");
    }
    written
        .value
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
                assert_eq!(
                    parse_money(&input, MoneyUnit::Yuan),
                    Ok(Value::Fen(expected)),
                    "{input}"
                );
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
            assert_eq!(parse_money(input, MoneyUnit::Yuan), expected, "{input}");
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
            // An estimate now says so rather than "not a number".
            ("约3人", Err("import.approximate")),
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

    fn money_column() -> Column {
        crate::import::schema::col!(
            "funding",
            "本年度经费（元）",
            "Funding",
            [],
            false,
            Kind::Money,
            "",
            ""
        )
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    /// The header's unit applies to bare numbers; the cell's own unit wins.
    #[test]
    fn cells_under_a_unit_header() {
        let column = money_column();
        let wan = Some(Unit::Money(MoneyUnit::TenThousandYuan));
        for (cell, unit, expected) in [
            (text("18"), wan, Ok(Some(Value::Fen(18_000_000)))),
            (
                Cell::Number("18".into()),
                wan,
                Ok(Some(Value::Fen(18_000_000))),
            ),
            (text("18 "), wan, Ok(Some(Value::Fen(18_000_000)))),
            (text("1.5"), wan, Ok(Some(Value::Fen(1_500_000)))),
            (text("1.5万元"), wan, Ok(Some(Value::Fen(1_500_000)))),
            (text("200元"), wan, Ok(Some(Value::Fen(20_000)))),
            (text("３０"), wan, Ok(Some(Value::Fen(30_000_000)))),
            (text("二十"), wan, Ok(Some(Value::Fen(20_000_000)))),
            (text("18"), None, Ok(Some(Value::Fen(1_800)))),
            // A unit for another kind of column is no unit for money.
            (
                text("18"),
                Some(Unit::SquareMetre),
                Ok(Some(Value::Fen(1_800))),
            ),
            (Cell::Empty, wan, Ok(None)),
            (Cell::Error("#NUM!".into()), wan, Err("import.bad_cell")),
            (text("约20万"), wan, Err("import.approximate")),
            (text("二十多"), wan, Err("import.approximate")),
            (text("20-30"), wan, Err("import.approximate")),
            (text("二十五十"), wan, Err("import.chinese_numeral")),
            (text("壹万贰仟元伍角"), None, Err("import.chinese_numeral")),
            (text("-5"), wan, Err("import.negative")),
            (text("1.2.3"), wan, Err("import.not_a_number")),
            (text("garbage"), wan, Err("import.not_a_number")),
            (text("NaN"), wan, Err("import.not_a_number")),
            (text("1.5E+11"), None, Err("import.not_a_number")),
            (text("99999999999999999"), wan, Err("import.not_a_number")),
        ] {
            assert_eq!(
                parse_cell_with(&column, unit, &cell),
                expected,
                "{cell:?} {unit:?}"
            );
        }
        // parse_cell is the same without a header unit.
        assert_eq!(
            parse_cell(&column, &text("1.5万")),
            Ok(Some(Value::Fen(1_500_000)))
        );
    }

    #[test]
    fn counts_and_areas_in_every_spelling() {
        for (input, expected) in [
            ("３０", Ok(30)),
            ("1,500", Ok(1_500)),
            ("1 500", Ok(1_500)),
            (" 18 ", Ok(18)),
            ("二十", Ok(20)),
            ("二十人", Ok(20)),
            ("两百人次", Ok(200)),
            ("一万五千", Ok(15_000)),
            ("〇", Ok(0)),
            ("三点五", Err("import.not_integer")),
            ("五保户", Err("import.not_a_number")),
            ("￥3", Err("import.not_a_number")),
            ("二十多", Err("import.approximate")),
            ("二十多人", Err("import.approximate")),
            ("3-5人", Err("import.approximate")),
            ("二十五十", Err("import.chinese_numeral")),
            ("1.2.3", Err("import.not_a_number")),
            ("NaN", Err("import.not_a_number")),
            ("99999999999999999999", Err("import.not_a_number")),
        ] {
            assert_eq!(parse_integer(input), expected.map(Value::Int), "{input}");
        }
        for (input, expected) in [
            ("３０㎡", Ok(30)),
            ("1 200 平方米", Ok(1_200)),
            ("三十平方米", Ok(30)),
            ("一百二十", Ok(120)),
            ("约30㎡", Err("import.approximate")),
            ("30-40", Err("import.approximate")),
            ("三十亩", Err("import.not_a_number")),
            ("￥30", Err("import.not_a_number")),
            ("-1㎡", Err("import.negative")),
        ] {
            assert_eq!(parse_area(input), expected.map(Value::Area), "{input}");
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
