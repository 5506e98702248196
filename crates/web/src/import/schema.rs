//! The columns an importer declares ([`Schema`], [`Column`], [`Kind`]) and what reading a
//! sheet against them yields: [`Parsed`] rows of [`Value`]s with per-cell [`CellError`]s, or an
//! [`ImportError`] for the whole file.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use shegong_domain::money::Fen;

use crate::import::cells::choice_labels;
use crate::import::limits::Refusal;
use crate::import::sheet::Skipped;
use crate::ui::i18n::{Lang, Tr};

/// How a column's cells are parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text {
        max_chars: usize,
    },
    /// Whole number (e.g. "3", "3人", "３", "3.0").
    Integer,
    /// Money in yuan → stored as integer fen (分). Accepts "15000", "15,000", "1.5万", "1.5万元",
    /// "￥15000", "15000元", "15000.50" and Excel numbers, exactly ("0.1万" = 100000 fen).
    /// Fractions of a fen are rounded half up; negative amounts are an error.
    Money,
    /// Area in square metres → integer m² (rounded half up): "30", "30㎡", "30m²", "30 m2",
    /// "30平方米", "30平米", "30.4".
    Area,
    /// Decimal (e.g. coordinates "112.98", or "112°58′48″") → f64.
    Decimal,
    /// A date: "2023-01-05", "2023/1/5", "2023.1.5", "2023年1月5日", "20230105", Excel date
    /// cells and five-digit Excel serial numbers.
    Date,
    /// A month: "2023-01", "2023/1", "2023年1月", "202301", or a date (its month) → (year, month).
    Month,
    /// One of fixed choices: (code, accepted labels). Labels match after normalisation,
    /// case-insensitively for ASCII; the code itself is accepted too.
    Choice(&'static [(&'static str, &'static [&'static str])]),
    /// Free text naming a region, resolved later by the caller; normalised text is passed through.
    Region,
}

#[derive(Debug, Clone)]
pub struct Column {
    /// Stable field name, e.g. "township".
    pub key: &'static str,
    /// Template header, e.g. "所在乡镇（街道）".
    pub label_zh: &'static str,
    pub label_en: &'static str,
    /// Other headers seen in real sheets, e.g. ["乡镇街道", "乡镇", "街道", "township"].
    pub synonyms: &'static [&'static str],
    pub required: bool,
    pub kind: Kind,
    /// One line for the template's instructions sheet and the cell's input message.
    pub hint_zh: &'static str,
    pub hint_en: &'static str,
}

impl Column {
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.label_zh,
            Lang::En => self.label_en,
        }
    }

    pub(crate) fn hint(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.hint_zh,
            Lang::En => self.hint_en,
        }
    }

    /// The template header: required columns are marked with " *".
    pub(crate) fn header(&self, lang: Lang) -> String {
        let label = self.label(lang);
        if self.required {
            format!("{label} *")
        } else {
            label.to_owned()
        }
    }
}

/// `col!(key, label_zh, label_en, [synonyms…], required, kind, hint_zh, hint_en)`: one
/// [`Column`] of an importer's schema, on one line.
macro_rules! col {
    ($key:literal, $zh:literal, $en:literal, [$($syn:literal),*], $req:literal, $kind:expr, $hzh:literal, $hen:literal) => {
        $crate::import::schema::Column { key: $key, label_zh: $zh, label_en: $en, synonyms: &[$($syn),*], required: $req, kind: $kind, hint_zh: $hzh, hint_en: $hen }
    };
    // Synonyms shared by several schemas, as a constant (`header::COUNTY_SYNONYMS`).
    ($key:literal, $zh:literal, $en:literal, $syn:path, $req:literal, $kind:expr, $hzh:literal, $hen:literal) => {
        $crate::import::schema::Column { key: $key, label_zh: $zh, label_en: $en, synonyms: $syn, required: $req, kind: $kind, hint_zh: $hzh, hint_en: $hen }
    };
}
pub(crate) use col;

/// The sexes as sheets write them, for staff and residents alike.
pub const SEXES: &[(&str, &[&str])] = &[("male", &["男"]), ("female", &["女"])];

#[derive(Debug, Clone)]
pub struct Schema {
    /// Sheet and file title, e.g. "社工站".
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub columns: &'static [Column],
}

impl Schema {
    pub fn name(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.name_zh,
            Lang::En => self.name_en,
        }
    }

    pub fn column(&self, key: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.key == key)
    }

    /// Column labels joined for a message ("社工站名称、建设状态").
    pub fn labels(&self, keys: &[&str], t: &Tr) -> String {
        let labels: Vec<&str> = keys
            .iter()
            .map(|k| self.column(k).map_or(*k, |c| c.label(t.lang)))
            .collect();
        labels.join(t.get("import.separator"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Fen(i64),
    Area(i64),
    Decimal(f64),
    Date(NaiveDate),
    Month(i32, u32),
    Code(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// `Column::key`; "" for row-level errors.
    pub column: &'static str,
    /// Message key in import.toml, e.g. "import.not_a_number".
    pub code: &'static str,
    /// The cell text as found, for showing the user; may be empty.
    pub raw: String,
}

impl CellError {
    /// The message in `t`'s language, with the column's limit or choices filled in.
    pub fn message(&self, schema: &Schema, t: &Tr) -> String {
        let kind = schema.column(self.column).map(|c| c.kind);
        let max = match kind {
            Some(Kind::Text { max_chars }) => max_chars.to_string(),
            _ => String::new(),
        };
        let choices = match kind {
            Some(Kind::Choice(choices)) => choice_labels(choices, t),
            _ => String::new(),
        };
        t.fmt(self.code, &[("max", &max), ("choices", &choices)])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based row number as Excel shows it.
    pub number: usize,
    /// Only non-empty, valid cells.
    pub values: BTreeMap<&'static str, Value>,
    pub errors: Vec<CellError>,
}

impl Row {
    /// A cell as text: text as written, a choice's code or a whole number; "" otherwise.
    pub fn text(&self, key: &str) -> String {
        match self.values.get(key) {
            Some(Value::Text(s)) => s.clone(),
            Some(Value::Code(c)) => (*c).to_owned(),
            Some(Value::Int(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    /// A choice cell's code.
    pub fn code(&self, key: &str) -> Option<&'static str> {
        match self.values.get(key) {
            Some(Value::Code(c)) => Some(c),
            _ => None,
        }
    }

    /// A whole number or area cell; 0 when empty.
    pub fn int(&self, key: &str) -> i64 {
        match self.values.get(key) {
            Some(Value::Int(n) | Value::Area(n)) => *n,
            _ => 0,
        }
    }

    /// A decimal cell, written out.
    pub fn decimal(&self, key: &str) -> Option<String> {
        match self.values.get(key) {
            Some(Value::Decimal(d)) => Some(d.to_string()),
            _ => None,
        }
    }

    pub fn date(&self, key: &str) -> Option<NaiveDate> {
        match self.values.get(key) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        }
    }

    pub fn fen(&self, key: &str) -> Option<Fen> {
        match self.values.get(key) {
            Some(Value::Fen(f)) => Some(Fen(*f)),
            _ => None,
        }
    }
}

/// Every message key a cell error may carry.
pub const CELL_CODES: &[&str] = &[
    "import.required",
    "import.bad_cell",
    "import.too_long",
    "import.not_a_number",
    "import.not_integer",
    "import.negative",
    "import.chinese_numeral",
    "import.approximate",
    "import.bad_date",
    "import.bad_month",
    "import.bad_choice",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Which sheet was read ("CSV" for CSV text).
    pub sheet: String,
    /// 1-based.
    pub header_row: usize,
    /// Data rows after the header, in order. Rows with nothing in any recognised column are
    /// skipped: blank lines, and the pre-numbered "序号" rows many templates come with.
    pub rows: Vec<Row>,
    /// Headers of columns not imported.
    pub unknown_headers: Vec<String>,
    /// Lines not imported, and why: title lines, blank, total and repeated lines, lines with
    /// nothing in an imported column.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not a spreadsheet")]
    Unreadable,
    /// No row within the first 20 matches at least half of the required columns.
    #[error("no header row")]
    NoHeader,
    /// More than [`MAX_ROWS`] data rows (the count found).
    #[error("too many rows")]
    TooManyRows(usize),
    /// A bound on reading the upload was passed ([`crate::import::limits`]).
    #[error("upload refused")]
    Refused(Refusal),
}

impl ImportError {
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Unreadable => "import.unreadable",
            ImportError::NoHeader => "import.no_header",
            ImportError::TooManyRows(_) => "import.too_many_rows",
            ImportError::Refused(r) => r.code(),
        }
    }

    /// The response status: a refusal says its own (413, 422 or 503); the rest are 422.
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            ImportError::Refused(r) => r.status(),
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The message in `t`'s language, with the row counts.
    pub fn message(&self, t: &Tr) -> String {
        if let ImportError::Refused(r) = self {
            return r.message(t);
        }
        let rows = match self {
            ImportError::TooManyRows(n) => n.to_string(),
            _ => String::new(),
        };
        let max = MAX_ROWS.to_string();
        t.fmt(self.code(), &[("rows", &rows), ("max", &max)])
    }
}

/// Data rows one upload may hold: a county's roster, well past a province's station list.
pub const MAX_ROWS: usize = 150_000;
