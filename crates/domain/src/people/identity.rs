//! Identity documents and mobile numbers of the people served (PIPL: sensitive personal
//! information, masked by default).
//!
//! Numbers are normalised (trim, spaces stripped, full-width to ASCII, upper-cased) and checked
//! once, here. The checks are structural only: the address code need not be current, and the
//! birth date and sex read from a number are a *suggestion* for the form, never a fact.
//!
//! Checks run in this order, so the first failing one is reported: empty, length, characters,
//! check character (GB 11643-1999), prefix for the type, birth date. Because the check character
//! is verified before the prefix and date, a mistyped digit anywhere is reported as
//! `idcard.check_digit`; the prefix and date codes mean the number is self-consistent but wrong
//! for the type (or not a real date).
//!
//! Birth dates: `IdNumber::parse` stays pure and accepts years 1800–2099 (the standard's own
//! example, 440524188001010014, was born in 1880). Use [`IdNumber::parse_as_of`] with today's
//! date to also reject a birth date in the future.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldError;

const ID_FIELD: &str = "id_number";

/// Every message code this module can put in a `FieldError` (each must be in the
/// `identity.toml` catalogues).
pub const MESSAGE_CODES: &[&str] = &[
    "idcard.type_unknown",
    "idcard.empty",
    "idcard.length",
    "idcard.chars",
    "idcard.check_digit",
    "idcard.address_code",
    "idcard.use_permit_type",
    "idcard.permit_prefix",
    "idcard.foreign_format",
    "idcard.passport_format",
    "idcard.birth_date",
    "idcard.birth_date_future",
    "person.sex_unknown",
    "mobile.invalid",
];

/// Kinds of identity document (stored as these codes; the API uses them as `id_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证: 18 characters, or the legacy 15 digits (converted on parse).
    ResidentId,
    /// 港澳居民居住证: 18 characters starting 810000 (Hong Kong) or 820000 (Macao).
    HkMacauPermit,
    /// 台湾居民居住证: 18 characters starting 830000.
    TaiwanPermit,
    /// 外国人永久居留身份证: 18 digits starting with 9 (2023 format, GB 11643 check), or the
    /// old 15 characters: 3 letters (nationality) + 12 digits.
    ForeignPermanent,
    /// 护照: 5–20 letters or digits.
    Passport,
}

impl IdType {
    pub const ALL: &'static [IdType] = &[
        IdType::ResidentId,
        IdType::HkMacauPermit,
        IdType::TaiwanPermit,
        IdType::ForeignPermanent,
        IdType::Passport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdType::ResidentId => "resident_id",
            IdType::HkMacauPermit => "hk_macau_permit",
            IdType::TaiwanPermit => "taiwan_permit",
            IdType::ForeignPermanent => "foreign_permanent",
            IdType::Passport => "passport",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s.trim())
            .ok_or(FieldError::new("id_type", "idcard.type_unknown"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub const ALL: &'static [Sex] = &[Sex::Male, Sex::Female];

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|x| x.as_str() == s.trim())
            .ok_or(FieldError::new("sex", "person.sex_unknown"))
    }
}

/// A normalised, structurally valid identity document number. `Debug` prints it masked, so a
/// stray `{:?}` in a log line cannot leak it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    id_type: IdType,
    number: String,
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdNumber")
            .field("id_type", &self.id_type)
            .field("number", &self.masked())
            .finish()
    }
}

impl IdNumber {
    /// Normalise (trim, strip spaces, full-width → ASCII, upper-case) and validate for the type.
    /// Legacy 15-digit resident IDs are converted to the 18-digit form. Birth years must be
    /// 1800–2099; see [`IdNumber::parse_as_of`] to also reject future dates.
    pub fn parse(id_type: IdType, input: &str) -> Result<IdNumber, FieldError> {
        let s = normalise(input);
        if s.is_empty() {
            return Err(err("idcard.empty"));
        }
        let number = match id_type {
            IdType::ResidentId => match s.chars().count() {
                18 => check_gb11643(id_type, s)?,
                15 => convert_legacy(&s)?,
                _ => return Err(err("idcard.length")),
            },
            IdType::HkMacauPermit | IdType::TaiwanPermit => match s.chars().count() {
                18 => check_gb11643(id_type, s)?,
                _ => return Err(err("idcard.length")),
            },
            IdType::ForeignPermanent => match s.chars().count() {
                18 => check_gb11643(id_type, s)?,
                15 => check_old_foreign(s)?,
                _ => return Err(err("idcard.foreign_format")),
            },
            IdType::Passport => {
                let len = s.chars().count();
                if !(5..=20).contains(&len) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(err("idcard.passport_format"));
                }
                s
            }
        };
        Ok(IdNumber { id_type, number })
    }

    /// [`IdNumber::parse`], and also reject a birth date after `today`
    /// (code `idcard.birth_date_future`). A birth date of today is accepted.
    pub fn parse_as_of(
        id_type: IdType,
        input: &str,
        today: NaiveDate,
    ) -> Result<IdNumber, FieldError> {
        let id = Self::parse(id_type, input)?;
        match id.birth_date() {
            Some(born) if born > today => Err(err("idcard.birth_date_future")),
            _ => Ok(id),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.number
    }

    pub fn id_type(&self) -> IdType {
        self.id_type
    }

    /// The birth date encoded in an 18-character number (resident IDs, permits, the 2023
    /// foreign permanent residence ID). A suggestion only. `None` for passports and for the
    /// old 15-character foreign ID, whose 2-digit year does not say the century.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        self.gb11643().and_then(|n| n.get(6..14).and_then(ymd))
    }

    /// The sex encoded in an 18-character number (17th digit: odd male, even female).
    /// A suggestion only; `None` where the number carries none.
    pub fn sex(&self) -> Option<Sex> {
        let n = self.gb11643()?;
        let d = n.as_bytes().get(16)?.wrapping_sub(b'0');
        Some(if d % 2 == 1 { Sex::Male } else { Sex::Female })
    }

    /// Masked for display. 15/18-character numbers and passports of 12 or more characters
    /// keep the first 4 and last 4 (`4302**********1234`); passports of 7–11 keep the first
    /// 2 and last 2 (`E1*****78`); passports of 5–6 keep only the last 2.
    pub fn masked(&self) -> String {
        let len = self.number.len(); // ASCII after parse
        match self.id_type {
            IdType::Passport if len < 7 => mask_keep(&self.number, 0, 2),
            IdType::Passport if len < 12 => mask_keep(&self.number, 2, 2),
            _ => mask_keep(&self.number, 4, 4),
        }
    }

    /// The number when it has the GB 11643 18-character structure.
    fn gb11643(&self) -> Option<&str> {
        match self.id_type {
            IdType::Passport => None,
            _ if self.number.len() == 18 => Some(&self.number),
            _ => None,
        }
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The GB 11643-1999 check character for the first 17 characters (weights
/// 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2; `"10X98765432"[S mod 11]`). `None` unless `first17`
/// is exactly 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS.get((sum % 11) as usize).map(|&c| char::from(c))
}

/// A mainland mobile number, stored as `+86` and 11 digits. `Debug` prints it masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl std::fmt::Debug for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mobile({})", self.masked())
    }
}

impl Mobile {
    /// Strip spaces, `-`, and a leading `+86`/`0086`/`86` (full-width characters are accepted),
    /// then require `^1[3-9]\d{9}$`.
    pub fn parse(input: &str) -> Result<Mobile, FieldError> {
        let s: String = normalise(input).chars().filter(|&c| c != '-').collect();
        let national = if let Some(rest) = s.strip_prefix("+86") {
            rest
        } else if let Some(rest) = s.strip_prefix("0086") {
            rest
        } else if s.len() == 13 {
            s.strip_prefix("86").unwrap_or(&s)
        } else {
            &s
        };
        let b = national.as_bytes();
        let ok = b.len() == 11
            && matches!(b, [b'1', b'3'..=b'9', ..])
            && b.iter().all(u8::is_ascii_digit);
        if !ok {
            return Err(FieldError::new("mobile", "mobile.invalid"));
        }
        Ok(Mobile(format!("+86{national}")))
    }

    /// `+8613812345678`
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `13812345678`
    pub fn national(&self) -> &str {
        &self.0[3..]
    }

    /// `138****5678`
    pub fn masked(&self) -> String {
        mask_keep(self.national(), 3, 4)
    }
}

/// Mask any stored identity string when its type is unknown (e.g. from an old row), after
/// trimming: more than 8 characters keep the first 4 and last 4 with a star for each hidden
/// character; 3–8 characters become stars except the last 2; 1–2 characters become all stars.
pub fn mask(s: &str) -> String {
    let s = s.trim();
    match s.chars().count() {
        0..=2 => "*".repeat(s.chars().count()),
        3..=8 => mask_keep(s, 0, 2),
        _ => mask_keep(s, 4, 4),
    }
}

/// Keep `head` leading and `tail` trailing characters, one star for each other character.
fn mask_keep(s: &str, head: usize, tail: usize) -> String {
    let n = s.chars().count();
    if n <= head + tail {
        return "*".repeat(n);
    }
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

fn err(code: &'static str) -> FieldError {
    FieldError::new(ID_FIELD, code)
}

/// Trim, drop whitespace (including the ideographic space), full-width → ASCII, upper-case.
fn normalise(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect::<String>()
        .to_ascii_uppercase()
}

/// An 18-character number: 17 digits + check character, prefix for the type, birth date.
fn check_gb11643(id_type: IdType, s: String) -> Result<String, FieldError> {
    let b = s.as_bytes();
    // 18 chars that are all ASCII is 18 bytes; any multi-byte char fails here too.
    let (first17, last) = match (b.len(), s.get(..17), b.last()) {
        (18, Some(first17), Some(&last))
            if first17.bytes().all(|d| d.is_ascii_digit())
                && (last.is_ascii_digit() || last == b'X') =>
        {
            (first17, char::from(last))
        }
        _ => return Err(err("idcard.chars")),
    };
    if check_character(first17) != Some(last) {
        return Err(err("idcard.check_digit"));
    }
    check_prefix(id_type, &s)?;
    match s.get(6..14).and_then(ymd) {
        Some(_) => Ok(s),
        None => Err(err("idcard.birth_date")),
    }
}

fn check_prefix(id_type: IdType, s: &str) -> Result<(), FieldError> {
    match id_type {
        IdType::ResidentId => {
            if s.starts_with('0') {
                Err(err("idcard.address_code"))
            } else if ["81", "82", "83"].iter().any(|p| s.starts_with(p)) {
                Err(err("idcard.use_permit_type"))
            } else {
                Ok(())
            }
        }
        IdType::HkMacauPermit if s.starts_with("810000") || s.starts_with("820000") => Ok(()),
        IdType::TaiwanPermit if s.starts_with("830000") => Ok(()),
        IdType::HkMacauPermit | IdType::TaiwanPermit => Err(err("idcard.permit_prefix")),
        IdType::ForeignPermanent if s.starts_with('9') => Ok(()),
        IdType::ForeignPermanent => Err(err("idcard.foreign_format")),
        IdType::Passport => Ok(()),
    }
}

/// Legacy 15-digit resident ID: address(6) + YYMMDD (19YY) + sequence(3) → 18-digit form.
fn convert_legacy(s: &str) -> Result<String, FieldError> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("idcard.chars"));
    }
    check_prefix(IdType::ResidentId, s)?;
    let (address, rest) = s.split_at_checked(6).ok_or(err("idcard.chars"))?;
    let body = format!("{address}19{rest}");
    if body.get(6..14).and_then(ymd).is_none() {
        return Err(err("idcard.birth_date"));
    }
    let check = check_character(&body).ok_or(err("idcard.chars"))?;
    Ok(format!("{body}{check}"))
}

/// Old foreign permanent residence ID: 3 letters + 4 digits (unit) + YYMMDD + 2 digits.
fn check_old_foreign(s: String) -> Result<String, FieldError> {
    let b = s.as_bytes();
    let ok = b.len() == 15
        && b.split_at_checked(3).is_some_and(|(letters, digits)| {
            letters.iter().all(u8::is_ascii_uppercase) && digits.iter().all(u8::is_ascii_digit)
        });
    if !ok {
        return Err(err("idcard.foreign_format"));
    }
    // The century is unknown; 20YY is a leap year whenever 19YY or 20YY is, so this accepts
    // every month/day that is real in either century.
    if s.get(7..13)
        .and_then(|yymmdd| ymd(&format!("20{yymmdd}")))
        .is_none()
    {
        return Err(err("idcard.birth_date"));
    }
    Ok(s)
}

/// YYYYMMDD (ASCII digits) → a real date in 1800–2099.
fn ymd(digits: &str) -> Option<NaiveDate> {
    let y: i32 = digits.get(0..4)?.parse().ok()?;
    let m: u32 = digits.get(4..6)?.parse().ok()?;
    let d: u32 = digits.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d).filter(|date| (1800..2100).contains(&date.year()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: IdType, s: &str) -> Result<IdNumber, FieldError> {
        IdNumber::parse(t, s)
    }

    fn code(t: IdType, s: &str) -> &'static str {
        let e = parse(t, s).expect_err(s);
        assert_eq!(e.field, "id_number");
        e.code
    }

    /// 17 digits + their check character.
    fn with_check(body: &str) -> String {
        format!("{body}{}", check_character(body).unwrap())
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn standard_examples() {
        let a = parse(IdType::ResidentId, "11010519491231002X").unwrap();
        assert_eq!(a.as_str(), "11010519491231002X");
        assert_eq!(a.id_type(), IdType::ResidentId);
        let b = parse(IdType::ResidentId, "440524188001010014").unwrap();
        assert_eq!(b.as_str(), "440524188001010014");
        assert_eq!(b.birth_date(), Some(date(1880, 1, 1)));
        assert_eq!(
            code(IdType::ResidentId, "340524198001010013"),
            "idcard.check_digit"
        );
        assert_eq!(check_character("34052419800101001"), Some('X'));
    }

    #[test]
    fn check_character_input() {
        assert_eq!(check_character("11010519491231002"), Some('X'));
        assert_eq!(check_character("44052418800101001"), Some('4'));
        assert_eq!(check_character("1101051949123100"), None);
        assert_eq!(check_character("110105194912310020"), None);
        assert_eq!(check_character("1101051949123100X"), None);
        assert_eq!(check_character("１1010519491231002"), None);
    }

    #[test]
    fn normalisation() {
        let want = "11010519491231002X";
        for input in [
            "１１０１０５１９４９１２３１００２ｘ",
            "１１０１０５１９４９１２３１００２Ｘ",
            "11010519491231002x",
            "  110105 19491231 002X\t",
            "110105\u{3000}19491231\u{3000}002x",
            "\n11010519491231002X\n",
        ] {
            assert_eq!(
                parse(IdType::ResidentId, input).unwrap().as_str(),
                want,
                "{input:?}"
            );
        }
        assert_eq!(
            parse(IdType::Passport, " e1234 5678 ").unwrap().as_str(),
            "E12345678"
        );
        assert_eq!(
            parse(IdType::ForeignPermanent, "usa310076051501")
                .unwrap()
                .as_str(),
            "USA310076051501"
        );
    }

    #[test]
    fn legacy_fifteen_digits_convert() {
        // 440524 800101 001 → body 44052419800101001. By hand:
        // digits 4 4 0 5 2 4 1 9 8 0 0 1 0 1 0 0 1
        // × w    7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
        // = 28+36+0+25+16+16+2+9+48+0+0+9+0+5+0+0+2 = 196; 196 mod 11 = 9; "10X98765432"[9] = '3'.
        let id = parse(IdType::ResidentId, "440524800101001").unwrap();
        assert_eq!(id.as_str(), "440524198001010013");
        assert_eq!(id.birth_date(), Some(date(1980, 1, 1)));
        assert_eq!(id.sex(), Some(Sex::Male)); // sequence 001 is odd
        // 110105 491231 002 → 11010519491231002; Σ = 167, 167 mod 11 = 2 → 'X': the standard's
        // own example, so the converted legacy number is the one the person was reissued.
        let id = parse(IdType::ResidentId, "110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.sex(), Some(Sex::Female));
        // The converted number is itself valid and stable.
        assert_eq!(parse(IdType::ResidentId, id.as_str()).unwrap(), id);
        // Full-width legacy input.
        assert_eq!(
            parse(IdType::ResidentId, "４４０５２４８００１０１００１")
                .unwrap()
                .as_str(),
            "440524198001010013"
        );
    }

    #[test]
    fn birth_date_and_sex() {
        let id = parse(IdType::ResidentId, "11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), Some(date(1949, 12, 31)));
        assert_eq!(id.sex(), Some(Sex::Female));
        let id = parse(IdType::ResidentId, "440524188001010014").unwrap();
        assert_eq!(id.sex(), Some(Sex::Male));

        let hk = parse(IdType::HkMacauPermit, "810000199001010019").unwrap();
        assert_eq!(hk.birth_date(), Some(date(1990, 1, 1)));
        assert_eq!(hk.sex(), Some(Sex::Male));
        let mo = parse(IdType::HkMacauPermit, "820000198506150022").unwrap();
        assert_eq!(mo.birth_date(), Some(date(1985, 6, 15)));
        assert_eq!(mo.sex(), Some(Sex::Female));
        let tw = parse(IdType::TaiwanPermit, "830000197603200033").unwrap();
        assert_eq!(tw.birth_date(), Some(date(1976, 3, 20)));
        assert_eq!(tw.sex(), Some(Sex::Male));

        let fp = parse(IdType::ForeignPermanent, "911000198808080018").unwrap();
        assert_eq!(fp.birth_date(), Some(date(1988, 8, 8)));
        assert_eq!(fp.sex(), Some(Sex::Male));
        // Old format: valid, but no century and no sex digit → no suggestion.
        let old = parse(IdType::ForeignPermanent, "USA310076051501").unwrap();
        assert_eq!(old.birth_date(), None);
        assert_eq!(old.sex(), None);

        let pp = parse(IdType::Passport, "E12345678").unwrap();
        assert_eq!(pp.birth_date(), None);
        assert_eq!(pp.sex(), None);
    }

    #[test]
    fn parse_as_of_rejects_future_birth() {
        let n = with_check("11010520210615001");
        let born = date(2021, 6, 15);
        assert!(IdNumber::parse(IdType::ResidentId, &n).is_ok());
        assert!(IdNumber::parse_as_of(IdType::ResidentId, &n, born).is_ok());
        assert_eq!(
            IdNumber::parse_as_of(IdType::ResidentId, &n, date(2021, 6, 14))
                .unwrap_err()
                .code,
            "idcard.birth_date_future"
        );
        // Types without a birth date are unaffected.
        assert!(IdNumber::parse_as_of(IdType::Passport, "E12345678", date(1900, 1, 1)).is_ok());
        // Other errors still come first.
        assert_eq!(
            IdNumber::parse_as_of(IdType::ResidentId, "", born)
                .unwrap_err()
                .code,
            "idcard.empty"
        );
    }

    /// One input per error code (several for the codes with more than one way in).
    fn error_cases() -> Vec<(IdType, String, &'static str)> {
        use IdType::*;
        let mut cases = vec![
            (ResidentId, "".into(), "idcard.empty"),
            (ResidentId, " \u{3000} ".into(), "idcard.empty"),
            (Passport, "   ".into(), "idcard.empty"),
            (ResidentId, "1101051949123100".into(), "idcard.length"),
            (ResidentId, "11010519491231002X1".into(), "idcard.length"),
            (ResidentId, "身份证号码".into(), "idcard.length"),
            (HkMacauPermit, "81000019900101001".into(), "idcard.length"),
            (TaiwanPermit, "830000900101001".into(), "idcard.length"),
            (ResidentId, "11010519491231002Y".into(), "idcard.chars"),
            (ResidentId, "1101051949123100X2".into(), "idcard.chars"),
            (ResidentId, "11010519491231-02X".into(), "idcard.chars"),
            (ResidentId, "11010549123100X".into(), "idcard.chars"),
            (ResidentId, "1101051949123100二X".into(), "idcard.chars"),
        ];
        cases.extend(content_cases());
        cases
    }

    /// The cases past length and characters: check digit, prefixes, formats, dates.
    fn content_cases() -> Vec<(IdType, String, &'static str)> {
        use IdType::*;
        let feb30 = with_check("11010519490230002");
        let y1799 = with_check("11010517991231002");
        let y2100 = with_check("11010521000101002");
        let zero_addr = with_check("01010519491231002");
        let as_permit = with_check("81000019900101001");
        let tw_as_resident = with_check("83000019900101001");
        let mo_as_resident = with_check("82000019900101002");
        let fp_bad_date = with_check("91100019881308001");
        vec![
            (
                ForeignPermanent,
                "9110001988080800A8".into(),
                "idcard.chars",
            ),
            (
                ResidentId,
                "340524198001010013".into(),
                "idcard.check_digit",
            ),
            (
                ResidentId,
                "11010519491231002".to_string() + "1",
                "idcard.check_digit",
            ),
            (
                HkMacauPermit,
                "810000199001010018".into(),
                "idcard.check_digit",
            ),
            (
                ForeignPermanent,
                "911000198808080017".into(),
                "idcard.check_digit",
            ),
            (ResidentId, zero_addr, "idcard.address_code"),
            (ResidentId, "010105491231002".into(), "idcard.address_code"),
            (ResidentId, as_permit, "idcard.use_permit_type"),
            (ResidentId, tw_as_resident, "idcard.use_permit_type"),
            (ResidentId, mo_as_resident, "idcard.use_permit_type"),
            (
                HkMacauPermit,
                "11010519491231002X".into(),
                "idcard.permit_prefix",
            ),
            (
                HkMacauPermit,
                "830000197603200033".into(),
                "idcard.permit_prefix",
            ),
            (
                TaiwanPermit,
                "810000199001010019".into(),
                "idcard.permit_prefix",
            ),
            (
                ForeignPermanent,
                "11010519491231002X".into(),
                "idcard.foreign_format",
            ),
            (
                ForeignPermanent,
                "440524800101001".into(),
                "idcard.foreign_format",
            ),
            (
                ForeignPermanent,
                "US3100760515011".into(),
                "idcard.foreign_format",
            ),
            (
                ForeignPermanent,
                "USA31007605150".into(),
                "idcard.foreign_format",
            ),
            (Passport, "E123".into(), "idcard.passport_format"),
            (Passport, "E".repeat(21), "idcard.passport_format"),
            (Passport, "E1234-5678".into(), "idcard.passport_format"),
            (Passport, "护照12345".into(), "idcard.passport_format"),
            (ResidentId, feb30, "idcard.birth_date"),
            (ResidentId, y1799, "idcard.birth_date"),
            (ResidentId, y2100, "idcard.birth_date"),
            (ResidentId, "110105491331002".into(), "idcard.birth_date"),
            (ResidentId, "110105000229002".into(), "idcard.birth_date"), // 1900 not leap
            (ForeignPermanent, fp_bad_date, "idcard.birth_date"),
            (
                ForeignPermanent,
                "USA310076023001".into(),
                "idcard.birth_date",
            ),
        ]
    }

    #[test]
    fn every_error_code_is_reachable() {
        use IdType::*;
        let cases = error_cases();
        for (t, input, want) in &cases {
            assert_eq!(code(*t, input), *want, "{t:?} {input:?}");
            assert!(MESSAGE_CODES.contains(want));
        }
        // Legacy 29 February in a 19YY leap year, and in YY = 00 for the old foreign format.
        assert!(parse(ResidentId, "110105960229002").is_ok());
        assert!(parse(ForeignPermanent, "USA310000022901").is_ok());

        let e = IdType::parse("driver_licence").unwrap_err();
        assert_eq!((e.field, e.code), ("id_type", "idcard.type_unknown"));
        let e = Sex::parse("unknown").unwrap_err();
        assert_eq!((e.field, e.code), ("sex", "person.sex_unknown"));
        let e = Mobile::parse("12812345678").unwrap_err();
        assert_eq!((e.field, e.code), ("mobile", "mobile.invalid"));
        let e = IdNumber::parse_as_of(ResidentId, "11010519491231002X", date(1949, 12, 30))
            .unwrap_err();
        assert_eq!(e.code, "idcard.birth_date_future");

        // Every listed code is exercised above.
        let mut used: Vec<&str> = cases.iter().map(|c| c.2).collect();
        used.extend([
            "idcard.type_unknown",
            "person.sex_unknown",
            "mobile.invalid",
            "idcard.birth_date_future",
        ]);
        for c in MESSAGE_CODES {
            assert!(used.contains(c), "{c} not exercised");
        }
    }

    #[test]
    fn types_and_sex_round_trip() {
        for t in IdType::ALL {
            assert_eq!(IdType::parse(t.as_str()), Ok(*t));
        }
        assert_eq!(IdType::parse(" passport "), Ok(IdType::Passport));
        assert!(IdType::parse("Passport").is_err());
        for s in Sex::ALL {
            assert_eq!(Sex::parse(s.as_str()), Ok(*s));
        }
        assert!(Sex::parse("").is_err());
    }

    #[test]
    fn masking() {
        // Body 43021819900101123 has check character '4', giving a number ending 1234.
        assert_eq!(check_character("43021819900101123"), Some('4'));
        let id = parse(IdType::ResidentId, "430218199001011234").unwrap();
        assert_eq!(id.masked(), "4302**********1234");
        assert_eq!(
            parse(IdType::ResidentId, "11010519491231002X")
                .unwrap()
                .masked(),
            "1101**********002X"
        );
        assert_eq!(
            parse(IdType::ForeignPermanent, "USA310076051501")
                .unwrap()
                .masked(),
            "USA3*******1501"
        );
        assert_eq!(
            parse(IdType::Passport, "E12345678").unwrap().masked(),
            "E1*****78"
        );
        assert_eq!(
            parse(IdType::Passport, "AB1234567").unwrap().masked(),
            "AB*****67"
        );
        assert_eq!(
            parse(IdType::Passport, "A12345").unwrap().masked(),
            "****45"
        );
        assert_eq!(
            parse(IdType::Passport, "ABCD12345678").unwrap().masked(),
            "ABCD****5678"
        );

        assert_eq!(mask("430218199001011234"), "4302**********1234");
        assert_eq!(mask(" 430218199001011234 "), "4302**********1234");
        assert_eq!(mask("123456789"), "1234*6789");
        assert_eq!(mask("12345678"), "******78");
        assert_eq!(mask("E123"), "**23");
        assert_eq!(mask("ab"), "**");
        assert_eq!(mask(""), "");
        assert_eq!(mask("张三的身份证号码是这个"), "张三的身***码是这个");
        assert_eq!(
            Mobile::parse("13812345678").unwrap().masked(),
            "138****5678"
        );
    }

    #[test]
    fn mobile_numbers() {
        for input in [
            "+86 138-1234-5678",
            "0086 13812345678",
            "8613812345678",
            "13812345678",
            " 138 1234 5678 ",
            "+86-138-1234-5678",
            "１３８１２３４５６７８",
        ] {
            let m = Mobile::parse(input).unwrap();
            assert_eq!(m.as_str(), "+8613812345678", "{input:?}");
            assert_eq!(m.national(), "13812345678");
            assert_eq!(m.masked(), "138****5678");
        }
        assert_eq!(
            Mobile::parse("19912345678").unwrap().national(),
            "19912345678"
        );
        for input in [
            "12812345678",
            "1381234567",
            "138123456789",
            "",
            "+1 13812345678",
            "86138123456",
            "1381234567a",
            "+8612812345678",
            "08613812345678",
        ] {
            let e = Mobile::parse(input).unwrap_err();
            assert_eq!((e.field, e.code), ("mobile", "mobile.invalid"), "{input:?}");
        }
    }

    /// A small deterministic xorshift generator (no proptest dependency).
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x % n
        }
    }

    #[test]
    fn any_single_digit_change_alters_the_check() {
        // S changes by w·δ with w ∈ weights, 1 ≤ |δ| ≤ 9; 11 is prime and neither factor is a
        // multiple of 11, so S mod 11 — and the check character — always changes.
        for w in WEIGHTS {
            for delta in 1..=9 {
                assert_ne!(w * delta % 11, 0, "w={w} δ={delta}");
            }
        }
    }

    #[test]
    fn generated_bodies() {
        let mut rng = Rng(0x5EED_1234_ABCD_0001);
        for _ in 0..1000 {
            // Address: first digit 1–9, never 81/82/83 (those are permits).
            let first = 1 + rng.below(9);
            let mut second = rng.below(10);
            if first == 8 && (1..=3).contains(&second) {
                second = 0;
            }
            let rest = rng.below(10_000);
            let born = loop {
                let y = 1900 + rng.below(200) as i32;
                let m = 1 + rng.below(12) as u32;
                let d = 1 + rng.below(31) as u32;
                if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                    break date;
                }
            };
            let seq = rng.below(1000);
            let body = format!("{first}{second}{rest:04}{}{seq:03}", born.format("%Y%m%d"));
            assert_eq!(body.len(), 17);
            let number = with_check(&body);
            let id = parse(IdType::ResidentId, &number).unwrap_or_else(|e| panic!("{number}: {e}"));
            assert_eq!(id.as_str(), number);
            assert_eq!(id.birth_date(), Some(born));
            let male = seq % 2 == 1;
            assert_eq!(id.sex(), Some(if male { Sex::Male } else { Sex::Female }));
            assert_eq!(id.masked().len(), 18);

            // Flip each body digit to a random other digit: always a check-digit failure.
            for pos in 0..17 {
                let old = number.as_bytes()[pos] - b'0';
                let new = (old as u64 + 1 + rng.below(9)) % 10;
                let mut bad = number.clone().into_bytes();
                bad[pos] = b'0' + new as u8;
                let bad = String::from_utf8(bad).unwrap();
                assert_eq!(
                    code(IdType::ResidentId, &bad),
                    "idcard.check_digit",
                    "{bad}"
                );
            }
            // And any other check character.
            for c in b"0123456789X" {
                if *c != number.as_bytes()[17] {
                    let bad = format!("{body}{}", char::from(*c));
                    assert_eq!(code(IdType::ResidentId, &bad), "idcard.check_digit");
                }
            }

            // The same body in the 1900s as a legacy 15-digit number converts to it.
            if born.year() < 2000 {
                let legacy = format!("{}{}{seq:03}", &body[..6], &body[8..14]);
                assert_eq!(parse(IdType::ResidentId, &legacy).unwrap(), id);
            }
        }
    }
}
