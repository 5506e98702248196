//! Figures on pages: digits grouped by thousands ("12,345", "1,234.5", "-2,360", "71.5%"), the
//! same in both languages. Templates call it as `t.num(x)`. Not for what is not a quantity —
//! years, codes, identity numbers, form input values and exports keep their plain digits.

/// `text` with the digits before the decimal point grouped by three, when it is a plain number
/// (optional sign, digits, optional fraction, optional trailing "%"); anything else unchanged,
/// so a cell that may hold a name or "—" can be passed safely.
pub fn group(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    let (body, percent) = match rest.strip_suffix('%') {
        Some(b) => (b, "%"),
        None => (rest, ""),
    };
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out.push_str(percent);
    out
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_plain_numbers_only() {
        assert_eq!(group("0"), "0");
        assert_eq!(group("999"), "999");
        assert_eq!(group("1000"), "1,000");
        assert_eq!(group("2360"), "2,360");
        assert_eq!(group("-1234567"), "-1,234,567");
        assert_eq!(group("12345.6"), "12,345.6");
        assert_eq!(group("1234.5%"), "1,234.5%");
        assert_eq!(group("71.1%"), "71.1%");
        for unchanged in [
            "",
            "-",
            "—",
            "2026-01",
            "12,345.00",
            "1.2.3",
            "abc",
            "1e5",
            "１２３",
            "5 / 9",
        ] {
            assert_eq!(group(unchanged), unchanged);
        }
    }
}
