//! Excel import engine: turns a spreadsheet as civil-affairs offices really keep it (xlsx, xls,
//! ods, or UTF-8 CSV) into validated rows with per-cell errors. A capability declares a
//! [`Schema`] of its columns and calls [`read`]; it does the database work itself. [`template`]
//! builds the matching download.
//!
//! Real sheets carry title rows above the header, full-width digits, stray spaces, units inside
//! numbers ("1.5万", "30㎡") and dates in many spellings. All of that is accepted; anything else
//! becomes an error on its cell, never a panic.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Cursor, Read, Seek};
use std::ops::RangeInclusive;

use calamine::{Data, DataRef, Reader, SheetVisible, Sheets};
use chrono::{Datelike, Days, NaiveDate};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Formula, Workbook,
    Worksheet, XlsxError, worksheet_range_absolute,
};

use crate::config::ImportLimits;
use crate::import::limits::{Budget, Refusal};
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

    fn hint(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.hint_zh,
            Lang::En => self.hint_en,
        }
    }

    /// The template header: required columns are marked with " *".
    fn header(&self, lang: Lang) -> String {
        let label = self.label(lang);
        if self.required {
            format!("{label} *")
        } else {
            label.to_owned()
        }
    }
}

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
    fn labels(&self, keys: &[&str], t: &Tr) -> String {
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

#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Which sheet was read ("CSV" for CSV text).
    pub sheet: String,
    /// 1-based.
    pub header_row: usize,
    /// Data rows after the header, in order. Rows with nothing in any recognised column are
    /// skipped: blank lines, and the pre-numbered "序号" rows many templates come with.
    pub rows: Vec<Row>,
    /// Headers that matched no column, or repeated one already matched (shown as a warning).
    pub unknown_headers: Vec<String>,
}

impl Parsed {
    /// The warning about ignored columns, if any.
    pub fn warning(&self, t: &Tr) -> Option<String> {
        (!self.unknown_headers.is_empty()).then(|| {
            let headers = self.unknown_headers.join(t.get("import.separator"));
            t.fmt("import.unknown_headers", &[("headers", &headers)])
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not a spreadsheet")]
    Unreadable,
    /// No row within the first 20 matches at least half of the required columns.
    #[error("no header row")]
    NoHeader,
    /// Required column keys with no header.
    #[error("missing columns")]
    MissingColumns(Vec<&'static str>),
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
            ImportError::MissingColumns(_) => "import.missing_columns",
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

    /// The message in `t`'s language, naming the missing columns or the row counts.
    pub fn message(&self, schema: &Schema, t: &Tr) -> String {
        if let ImportError::Refused(r) = self {
            return r.message(t);
        }
        let columns = match self {
            ImportError::MissingColumns(keys) => schema.labels(keys, t),
            _ => String::new(),
        };
        let rows = match self {
            ImportError::TooManyRows(n) => n.to_string(),
            _ => String::new(),
        };
        let max = MAX_ROWS.to_string();
        t.fmt(
            self.code(),
            &[("columns", &columns), ("rows", &rows), ("max", &max)],
        )
    }
}

pub const MAX_ROWS: usize = 20_000;

/// How far down the header row may be (below title, date and blank lines).
const HEADER_SCAN_ROWS: usize = 20;

/// Read the first visible sheet that has a header row for this schema: xlsx, xls, ods, or CSV
/// text in UTF-8 (with or without BOM; comma- or tab-separated), within the default limits.
/// Request handlers go through [`crate::import::limits::read`], which also bounds time and concurrency.
pub fn read(schema: &Schema, bytes: &[u8]) -> Result<Parsed, ImportError> {
    read_with(schema, bytes, &ImportLimits::default())
}

/// [`read`] within `limits`: the file size, the zip container (before calamine opens it), each
/// sheet's declared and real extent, the cells read and the time.
pub fn read_with(
    schema: &Schema,
    bytes: &[u8],
    limits: &ImportLimits,
) -> Result<Parsed, ImportError> {
    let mut budget = Budget::new(limits);
    budget.check_file(bytes.len())?;
    // Local file header or end of central directory (an empty zip): a zip container.
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        crate::import::limits::check_zip(bytes, &budget)?;
    }
    let names = header_names(schema);
    match calamine::open_workbook_auto_from_rs(Cursor::new(bytes)) {
        Ok(mut workbook) => read_workbook(schema, &names, &mut workbook, &mut budget),
        // A zip or OLE container that calamine cannot open is a broken workbook, not CSV.
        Err(_)
            if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) =>
        {
            Err(ImportError::Unreadable)
        }
        Err(_) => read_csv(schema, &names, bytes, &mut budget),
    }
}

fn read_workbook<RS: Read + Seek>(
    schema: &Schema,
    names: &HashMap<String, usize>,
    workbook: &mut Sheets<RS>,
    budget: &mut Budget<'_>,
) -> Result<Parsed, ImportError> {
    // Hidden sheets hold lookup lists or old data the user cannot see: never import from them.
    let sheets: Vec<String> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .collect();
    let mut readable = false;
    for sheet in sheets {
        budget.check_time()?;
        let grid = match &mut *workbook {
            // Streamed cell by cell: calamine's `worksheet_range` would allocate the sheet's
            // whole bounding box, which one far-away cell makes astronomically large.
            Sheets::Xlsx(xlsx) => match xlsx.worksheet_cells_reader(&sheet) {
                Ok(mut reader) => {
                    let dimensions = reader.dimensions();
                    budget.declared(&sheet, dimensions.start, dimensions.end)?;
                    Grid::stream(budget, || reader.next_cell().map_err(drop))?
                }
                // A chart sheet: readable, without cells (as `worksheet_range` answers).
                Err(calamine::XlsxError::NotAWorksheet(_)) => Some(Grid::default()),
                Err(_) => None,
            },
            Sheets::Xlsb(xlsb) => match xlsb.worksheet_cells_reader(&sheet) {
                Ok(mut reader) => {
                    let dimensions = reader.dimensions();
                    budget.declared(&sheet, dimensions.start, dimensions.end)?;
                    Grid::stream(budget, || reader.next_cell().map_err(drop))?
                }
                Err(_) => None,
            },
            // xls and ods have no streaming reader: calamine parsed them at open (bounded by the
            // file size, the zip checks for ods and, for xls, the format's 65,536 × 256 grid).
            other => match other.worksheet_range(&sheet) {
                Ok(range) => Some(Grid::from_range(&sheet, &range, budget)?),
                Err(_) => None,
            },
        };
        let Some(grid) = grid else {
            continue;
        };
        readable = true;
        if let Some(parsed) = grid.parse(schema, names, sheet) {
            return parsed;
        }
    }
    Err(if readable {
        ImportError::NoHeader
    } else {
        ImportError::Unreadable
    })
}

/// A sheet's cells, sparse: only rows that hold cells, each as wide as its own last cell,
/// columns counted from the leftmost cell of the sheet and rows from its top row, as calamine's
/// `Range` counts them (so header detection and row numbers are unchanged).
#[derive(Default)]
struct Grid {
    /// 0-based sheet row of the first row, and of the last.
    first_row: u32,
    last_row: u32,
    rows: BTreeMap<u32, Vec<Cell>>,
}

impl Grid {
    /// Read a sheet's cells in stream order within the budget. `None` when the stream breaks
    /// (the sheet is skipped, as a sheet calamine cannot read always was).
    fn stream<'d>(
        budget: &mut Budget<'_>,
        mut next: impl FnMut() -> Result<Option<calamine::Cell<DataRef<'d>>>, ()>,
    ) -> Result<Option<Grid>, ImportError> {
        let mut sparse: BTreeMap<u32, Vec<(u32, Cell)>> = BTreeMap::new();
        let mut first_col = u32::MAX;
        loop {
            let Ok(cell) = next() else {
                return Ok(None);
            };
            let Some(cell) = cell else { break };
            let (row, col) = cell.get_position();
            // An empty cell is not kept (calamine drops it too), so it does not widen the sheet.
            let filled = !matches!(cell.get_value(), DataRef::Empty);
            budget.cell(row, col, filled)?;
            if filled {
                first_col = first_col.min(col);
                let data = Data::from(cell.get_value().clone());
                sparse
                    .entry(row)
                    .or_default()
                    .push((col, Cell::from_data(&data)));
            }
        }
        let (Some(&first_row), Some(&last_row)) = (sparse.keys().next(), sparse.keys().last())
        else {
            return Ok(Some(Grid::default()));
        };
        let rows = sparse
            .into_iter()
            .map(|(row, mut cells)| {
                // Stream order within a row is column order in any sane file; sort anyway.
                // The sort is stable, so a repeated position keeps its last value, as calamine.
                cells.sort_by_key(|(col, _)| *col);
                let mut dense = Vec::new();
                for (col, cell) in cells {
                    let at = (col - first_col) as usize;
                    if dense.len() <= at {
                        dense.resize(at + 1, Cell::Empty);
                    }
                    dense[at] = cell;
                }
                (row, dense)
            })
            .collect();
        Ok(Some(Grid {
            first_row,
            last_row,
            rows,
        }))
    }

    /// A sheet calamine already holds as a grid (xls, ods), within the same limits.
    fn from_range(
        sheet: &str,
        range: &calamine::Range<Data>,
        budget: &mut Budget<'_>,
    ) -> Result<Grid, ImportError> {
        let (Some(start), Some(end)) = (range.start(), range.end()) else {
            return Ok(Grid::default());
        };
        budget.range(sheet, end, range.used_cells().count() as u64)?;
        budget.check_time()?;
        let rows = (start.0..)
            .zip(range.rows())
            .map(|(r, row)| (r, row.iter().map(Cell::from_data).collect()))
            .collect();
        Ok(Grid {
            first_row: start.0,
            last_row: end.0,
            rows,
        })
    }

    /// The table under the header for this schema, if this sheet has one.
    fn parse(
        mut self,
        schema: &Schema,
        names: &HashMap<String, usize>,
        sheet: String,
    ) -> Option<Result<Parsed, ImportError>> {
        if self.rows.is_empty() {
            return None;
        }
        let height = (self.last_row - self.first_row) as usize + 1;
        let head: Vec<Vec<Cell>> = (self.first_row..)
            .take(height.min(HEADER_SCAN_ROWS))
            .map(|r| self.rows.get(&r).cloned().unwrap_or_default())
            .collect();
        let header = find_header(schema, names, &head)?;
        let mut rows = std::mem::take(&mut self.rows);
        let body = (self.first_row + header as u32 + 1..=self.last_row)
            .map(move |r| rows.remove(&r).unwrap_or_default());
        let table = Table {
            sheet,
            header_row: self.first_row as usize + header + 1,
            header: &head[header],
        };
        Some(parse_table(schema, names, table, body))
    }
}

fn read_csv(
    schema: &Schema,
    names: &HashMap<String, usize>,
    bytes: &[u8],
    budget: &mut Budget<'_>,
) -> Result<Parsed, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::Unreadable)?;
    if text.contains('\0') {
        return Err(ImportError::Unreadable);
    }
    let rows: Vec<Vec<Cell>> = csv_records(text, budget)?
        .iter()
        .map(|record| record.iter().map(|field| Cell::text(field)).collect())
        .collect();
    let head = &rows[..rows.len().min(HEADER_SCAN_ROWS)];
    let header = find_header(schema, names, head).ok_or(ImportError::NoHeader)?;
    let table = Table {
        sheet: "CSV".to_owned(),
        header_row: header + 1,
        header: &rows[header],
    };
    parse_table(schema, names, table, rows[header + 1..].iter().cloned())
}

/// RFC 4180 records: quoted fields may hold separators, doubled quotes and line breaks. Each
/// record is held to the row, column and cell limits as it ends (and to the column limit as it
/// grows), so a hostile file is refused before it is all split.
fn csv_records(text: &str, budget: &mut Budget<'_>) -> Result<Vec<Vec<String>>, ImportError> {
    // Tab-separated text (as pasted out of a spreadsheet) is as common as comma-separated.
    let (tabs, commas) = text
        .lines()
        .take(HEADER_SCAN_ROWS)
        .fold((0, 0), |(t, c), line| {
            (
                t + line.matches('\t').count(),
                c + line.matches(',').count(),
            )
        });
    let separator = if tabs > commas { '\t' } else { ',' };
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
        } else if c == '"' && field.is_empty() {
            quoted = true;
        } else if c == separator {
            record.push(std::mem::take(&mut field));
            if record.len() as u64 > budget.limits.max_columns {
                budget.record(records.len() as u64 + 1, record.len() as u64)?;
            }
        } else if c == '\r' || c == '\n' {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            record.push(std::mem::take(&mut field));
            budget.record(records.len() as u64 + 1, record.len() as u64)?;
            records.push(std::mem::take(&mut record));
        } else {
            field.push(c);
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        budget.record(records.len() as u64 + 1, record.len() as u64)?;
        records.push(record);
    }
    Ok(records)
}

/// A cell as read, before its column decides what it means.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Empty,
    /// Normalised, non-empty text.
    Text(String),
    /// A number cell, written as Excel shows it (see [`number_text`]).
    Number(String),
    Date(NaiveDate),
    /// An error value such as "#N/A".
    Error(String),
}

impl Cell {
    fn from_data(data: &Data) -> Cell {
        match data {
            Data::Empty => Cell::Empty,
            Data::String(s) | Data::DurationIso(s) => Cell::text(s),
            Data::Int(n) => Cell::Number(n.to_string()),
            Data::Float(f) => Cell::Number(number_text(*f)),
            Data::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.to_owned()),
            Data::DateTime(dt) => {
                let (year, month, day, ..) = dt.to_ymd_hms_milli();
                match NaiveDate::from_ymd_opt(year.into(), month.into(), day.into()) {
                    Some(date) if dt.is_datetime() => Cell::Date(date),
                    // Durations and Excel's phantom 1900-02-29 have no calendar date.
                    _ => Cell::Number(number_text(dt.as_f64())),
                }
            }
            Data::DateTimeIso(s) => parse_date(s).map_or_else(|| Cell::text(s), Cell::Date),
            Data::Error(e) => Cell::Error(e.to_string()),
        }
    }

    fn text(s: &str) -> Cell {
        let s = normalize(s);
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    /// The cell as the user sees it.
    fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) | Cell::Number(s) | Cell::Error(s) => s.clone(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// Excel stores numbers as doubles. Whole ones are written without ".0" or an exponent (an
/// ID-like code 430203001 arrives as 4.30203001E8); others with Excel's 15 significant digits,
/// which hides binary noise such as 0.30000000000000004.
fn number_text(v: f64) -> String {
    if v.fract() == 0.0 {
        return format!("{:.0}", v + 0.0); // + 0.0 turns -0 into 0
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (14 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Normalise text as every capability needs it: full-width ASCII (U+FF01–FF5E) → half-width,
/// ideographic space and NBSP → space, zero-width characters removed, trimmed, runs of
/// whitespace collapsed to one space.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space_pending = false;
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' | '\u{A0}' => ' ',
            '\u{200B}'..='\u{200D}' | '\u{FEFF}' => continue,
            c => c,
        };
        if c.is_whitespace() {
            space_pending = !out.is_empty();
        } else {
            if space_pending {
                out.push(' ');
                space_pending = false;
            }
            out.push(c);
        }
    }
    out
}

/// A header cell reduced to what identifies it: no spaces or line breaks, half-width
/// parentheses, no required/optional markers, ASCII lower case.
fn header_key(s: &str) -> String {
    const MARKERS: [&str; 3] = ["*", "(必填)", "(选填)"];
    let compact: String = normalize(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut key = compact.as_str();
    while let Some(rest) = MARKERS.iter().find_map(|m| key.strip_suffix(m)) {
        key = rest;
    }
    key.trim_start_matches('*').to_ascii_lowercase()
}

/// Every accepted header (label in either language, synonym, key) → column index. When two
/// columns claim the same header the first keeps it.
fn header_names(schema: &Schema) -> HashMap<String, usize> {
    let mut names = HashMap::new();
    for (i, column) in schema.columns.iter().enumerate() {
        let spellings = [column.label_zh, column.label_en, column.key];
        for spelling in spellings.iter().chain(column.synonyms) {
            let key = header_key(spelling);
            if !key.is_empty() {
                names.entry(key).or_insert(i);
            }
        }
    }
    names
}

/// The row (index into `rows`) matching the most columns, among those matching at least half of
/// the required ones; the first such row on a tie.
fn find_header(
    schema: &Schema,
    names: &HashMap<String, usize>,
    rows: &[Vec<Cell>],
) -> Option<usize> {
    let required = schema.columns.iter().filter(|c| c.required).count();
    let mut best: Option<(usize, usize)> = None;
    for (i, row) in rows.iter().enumerate() {
        let matched: BTreeSet<usize> = row
            .iter()
            .filter_map(|cell| names.get(&header_key(&cell.display())).copied())
            .collect();
        let required_matched = matched
            .iter()
            .filter(|&&c| schema.columns[c].required)
            .count();
        let qualifies = !matched.is_empty() && required_matched * 2 >= required;
        if qualifies && best.is_none_or(|(_, most)| matched.len() > most) {
            best = Some((i, matched.len()));
        }
    }
    best.map(|(i, _)| i)
}

/// Where the header was found.
struct Table<'a> {
    sheet: String,
    /// 1-based.
    header_row: usize,
    header: &'a [Cell],
}

fn parse_table(
    schema: &Schema,
    names: &HashMap<String, usize>,
    table: Table<'_>,
    body: impl Iterator<Item = Vec<Cell>>,
) -> Result<Parsed, ImportError> {
    // For each schema column, the index of its cell within a row.
    let mut positions: Vec<Option<usize>> = vec![None; schema.columns.len()];
    let mut unknown_headers = Vec::new();
    for (i, cell) in table.header.iter().enumerate() {
        let text = cell.display();
        if text.is_empty() {
            continue;
        }
        match names.get(&header_key(&text)) {
            Some(&c) if positions[c].is_none() => positions[c] = Some(i),
            _ => unknown_headers.push(text),
        }
    }
    let missing: Vec<&'static str> = schema
        .columns
        .iter()
        .zip(&positions)
        .filter(|(column, position)| column.required && position.is_none())
        .map(|(column, _)| column.key)
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns(missing));
    }

    let mut rows = Vec::new();
    let mut count = 0;
    for (i, cells) in body.enumerate() {
        let row_cells: Vec<&Cell> = positions
            .iter()
            .map(|p| p.and_then(|p| cells.get(p)).unwrap_or(&Cell::Empty))
            .collect();
        if row_cells.iter().all(|c| **c == Cell::Empty) {
            continue;
        }
        // Keep counting past the limit so the message can say how many rows there are.
        count += 1;
        if count <= MAX_ROWS {
            rows.push(parse_row(schema, table.header_row + 1 + i, &row_cells));
        }
    }
    if count > MAX_ROWS {
        return Err(ImportError::TooManyRows(count));
    }
    Ok(Parsed {
        sheet: table.sheet,
        header_row: table.header_row,
        rows,
        unknown_headers,
    })
}

/// `cells` holds one cell per schema column.
fn parse_row(schema: &Schema, number: usize, cells: &[&Cell]) -> Row {
    let mut row = Row {
        number,
        values: BTreeMap::new(),
        errors: Vec::new(),
    };
    for (column, cell) in schema.columns.iter().zip(cells) {
        match parse_cell(column, cell) {
            Ok(Some(value)) => {
                row.values.insert(column.key, value);
            }
            Ok(None) => {}
            Err(code) => row.errors.push(CellError {
                column: column.key,
                code,
                raw: cell.display(),
            }),
        }
    }
    row
}

/// The cell's value (None when empty and optional), or the message key of what is wrong.
fn parse_cell(column: &Column, cell: &Cell) -> Result<Option<Value>, &'static str> {
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

/// A decimal read digit by digit, so amounts are exact ("0.1万" is 1000 yuan, not 999.99…).
#[derive(Debug, Clone, Copy)]
struct Exact {
    negative: bool,
    digits: u128,
    /// Digits after the decimal point.
    scale: u32,
}

impl Exact {
    /// "-1,234.50": optional sign, optional thousands separators (groups of three), optional
    /// fraction.
    fn parse(s: &str) -> Option<Exact> {
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
            scale: frac.len() as u32,
        })
    }

    fn is_negative(self) -> bool {
        self.negative && self.digits != 0
    }

    /// Whether the value times 10^shift is whole.
    fn is_whole(self, shift: u32) -> bool {
        shift >= self.scale || self.digits.is_multiple_of(10u128.pow(self.scale - shift))
    }

    /// The value times 10^shift, rounded half up (away from zero), if it fits an i64.
    fn scaled(self, shift: u32) -> Option<i64> {
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

/// Splits "1.5 万元" into the number "1.5" and the unit "万元".
fn split_unit(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+')))
        .unwrap_or(s.len());
    (&s[..end], s[end..].trim())
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
    let text = text.trim_start_matches(['¥', '￥']).trim_start();
    let (number, unit) = split_unit(text);
    let shift = match unit {
        "" | "元" => 2,
        "万" | "万元" => 6,
        _ => return Err("import.not_a_number"),
    };
    let value = Exact::parse(number).ok_or("import.not_a_number")?;
    if value.is_negative() {
        return Err("import.negative");
    }
    value
        .scaled(shift)
        .map(Value::Fen)
        .ok_or("import.not_a_number")
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
        let number = text[..at].trim();
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        Some((
            number.parse().ok()?,
            text[at + mark.len_utf8()..].trim_start(),
        ))
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

fn parse_date(text: &str) -> Option<NaiveDate> {
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
        let [year, month, day] = parts[..] else {
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
fn first_labels(choices: &[(&'static str, &'static [&'static str])]) -> Vec<String> {
    choices
        .iter()
        .map(|(code, labels)| labels.first().unwrap_or(code).to_string())
        .collect()
}

fn choice_labels(choices: &[(&'static str, &'static [&'static str])], t: &Tr) -> String {
    first_labels(choices).join(t.get("import.separator"))
}

/// Data rows the template prepares dropdowns and input messages for (rows 2..=1001).
const TEMPLATE_ROWS: u32 = 1000;
/// The hidden sheet holding dropdown lists too long to write inline.
const LIST_SHEET: &str = "lists";

/// A downloadable template: the header row on sheet 1 (bold, frozen, with dropdowns and input
/// messages), the instructions on sheet 2. `extra_lists` adds dropdowns whose values come from
/// the database, e.g. the townships in the user's scope: (column key, values).
pub fn template(
    schema: &Schema,
    chinese: bool,
    extra_lists: &[(&str, Vec<String>)],
) -> Result<Vec<u8>, anyhow::Error> {
    let t = Tr::new(if chinese { Lang::Zh } else { Lang::En });
    if let Some((key, _)) = extra_lists.iter().find(|(k, _)| schema.column(k).is_none()) {
        anyhow::bail!("no column {key} in the {} import schema", schema.name_en);
    }
    let header = header_format();
    // Codes typed into text columns must stay text: Excel turns 430203001001 into 4.30203E+11.
    let as_text = Format::new().set_num_format("@");
    let mut data = Worksheet::new();
    data.set_name(schema.name(t.lang))?;
    let mut lists = Worksheet::new();
    lists.set_name(LIST_SHEET)?.set_hidden(true);
    let mut list_count: u16 = 0;
    for (i, column) in schema.columns.iter().enumerate() {
        let col = u16::try_from(i)?;
        let label = column.header(t.lang);
        data.write_string_with_format(0, col, &label, &header)?;
        data.set_column_width(col, (display_width(&label) + 4).clamp(10, 40) as f64)?;
        if matches!(column.kind, Kind::Text { .. } | Kind::Region) {
            data.set_column_format(col, &as_text)?;
        }
        let choices = dropdown(column, extra_lists);
        let mut validation = if choices.is_empty() {
            DataValidation::new().allow_any_value()
        } else {
            let validation = if fits_inline(&choices) {
                DataValidation::new().allow_list_strings(&choices)?
            } else {
                for (row, choice) in choices.iter().enumerate() {
                    lists.write_string(u32::try_from(row)?, list_count, choice)?;
                }
                let last = u32::try_from(choices.len() - 1)?;
                let range = worksheet_range_absolute(LIST_SHEET, 0, list_count, last, list_count);
                list_count += 1;
                DataValidation::new().allow_list_formula(Formula::new(range))
            };
            // A warning, not a stop: the importer also accepts other spellings of a choice.
            validation
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_error_title(t.get("import.template.not_in_list_title"))?
                .set_error_message(t.get("import.template.not_in_list"))?
        };
        let hint = column.hint(t.lang);
        if !hint.is_empty() {
            validation = validation
                .set_input_title(truncate_utf16(column.label(t.lang), 32))?
                .set_input_message(truncate_utf16(hint, 255))?;
        }
        data.add_data_validation(1, col, TEMPLATE_ROWS, col, &validation)?;
    }
    data.set_freeze_panes(1, 0)?;

    let mut workbook = Workbook::new();
    workbook.push_worksheet(data);
    workbook.push_worksheet(instructions(schema, &t, extra_lists)?);
    if list_count > 0 {
        workbook.push_worksheet(lists);
    }
    Ok(workbook.save_to_buffer()?)
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color("#E8EEF6")
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
}

/// The dropdown values for a column: the caller's list, else the first label of each choice.
fn dropdown(column: &Column, extra_lists: &[(&str, Vec<String>)]) -> Vec<String> {
    match (
        extra_lists.iter().find(|(k, _)| *k == column.key),
        column.kind,
    ) {
        (Some((_, values)), _) => values.clone(),
        (None, Kind::Choice(choices)) => first_labels(choices),
        (None, _) => Vec::new(),
    }
}

/// Excel limits an inline list to 255 characters including the separating commas, and an item
/// cannot contain a comma.
fn fits_inline(choices: &[String]) -> bool {
    let length: usize = choices.iter().map(|c| c.encode_utf16().count() + 1).sum();
    length <= 256 && !choices.iter().any(|c| c.contains(','))
}

/// Column width in Excel units: CJK characters take two.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Excel counts dialog text limits in UTF-16 units.
fn truncate_utf16(s: &str, max: usize) -> String {
    let mut used = 0;
    s.chars()
        .take_while(|c| {
            used += c.len_utf16();
            used <= max
        })
        .collect()
}

fn instructions(
    schema: &Schema,
    t: &Tr,
    extra_lists: &[(&str, Vec<String>)],
) -> Result<Worksheet, XlsxError> {
    let mut sheet = Worksheet::new();
    sheet.set_name(t.get("import.template.instructions"))?;
    let title = t.fmt("import.template.title", &[("name", schema.name(t.lang))]);
    sheet.write_string_with_format(0, 0, &title, &Format::new().set_bold())?;
    let max = MAX_ROWS.to_string();
    sheet.write_string(1, 0, t.get("import.template.note_header"))?;
    sheet.write_string(2, 0, t.fmt("import.template.note_rows", &[("max", &max)]))?;
    sheet.write_string(3, 0, t.get("import.template.note_dropdown"))?;

    let table_top = 5;
    let header = header_format();
    let headings = [
        "import.template.column",
        "import.template.required",
        "import.template.format",
        "import.template.hint",
    ];
    for (col, key) in (0u16..).zip(headings) {
        sheet.write_string_with_format(table_top, col, t.get(key), &header)?;
    }
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for (row, column) in (table_top + 1..).zip(schema.columns) {
        let required = if column.required {
            "import.template.yes"
        } else {
            "import.template.no"
        };
        let mut format = format_description(column, t);
        if extra_lists.iter().any(|(k, _)| *k == column.key) {
            format = format!("{format} {}", t.get("import.format.list"));
        }
        let cells = [
            column.label(t.lang),
            t.get(required),
            &format,
            column.hint(t.lang),
        ];
        for (col, text) in (0u16..).zip(cells) {
            sheet.write_string_with_format(row, col, text, &wrap)?;
        }
    }
    for (col, width) in (0u16..).zip([24, 10, 48, 48]) {
        sheet.set_column_width(col, width)?;
    }
    Ok(sheet)
}

/// What a column accepts, for the instructions sheet.
fn format_description(column: &Column, t: &Tr) -> String {
    let key = match column.kind {
        Kind::Text { max_chars } => {
            return t.fmt("import.format.text", &[("max", &max_chars.to_string())]);
        }
        Kind::Choice(choices) => {
            let choices = choice_labels(choices, t);
            return t.fmt("import.format.choice", &[("choices", &choices)]);
        }
        Kind::Integer => "import.format.integer",
        Kind::Money => "import.format.money",
        Kind::Area => "import.format.area",
        Kind::Decimal => "import.format.decimal",
        Kind::Date => "import.format.date",
        Kind::Month => "import.format.month",
        Kind::Region => "import.format.region",
    };
    t.get(key).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::ExcelDateTime;

    const STATUS: &[(&str, &[&str])] = &[
        ("built", &["已建成", "建成"]),
        ("building", &["在建", "建设中"]),
        ("planned", &["规划", "未建"]),
    ];

    const fn column(
        key: &'static str,
        label_zh: &'static str,
        synonyms: &'static [&'static str],
        required: bool,
        kind: Kind,
    ) -> Column {
        Column {
            key,
            label_zh,
            label_en: key,
            synonyms,
            required,
            kind,
            hint_zh: "",
            hint_en: "",
        }
    }

    static COLUMNS: &[Column] = &[
        Column {
            label_en: "Station name",
            hint_zh: "填写社工站全称。",
            hint_en: "The station's full name.",
            ..column(
                "name",
                "社工站名称",
                &["站点名称", "名称"],
                true,
                Kind::Text { max_chars: 20 },
            )
        },
        column(
            "township",
            "所在乡镇（街道）",
            &["乡镇街道", "乡镇", "街道", "township"],
            true,
            Kind::Region,
        ),
        column("code", "区划代码", &[], false, Kind::Text { max_chars: 12 }),
        column("staff", "驻站社工人数", &[], false, Kind::Integer),
        column(
            "funding",
            "建设资金（元）",
            &["建设资金"],
            false,
            Kind::Money,
        ),
        column("area", "场地面积（㎡）", &["场地面积"], false, Kind::Area),
        column("opened", "挂牌日期", &[], false, Kind::Date),
        column("month", "统计月份", &[], false, Kind::Month),
        column("status", "建设状态", &["状态"], true, Kind::Choice(STATUS)),
        column("longitude", "经度", &[], false, Kind::Decimal),
    ];

    static SCHEMA: Schema = Schema {
        name_zh: "社工站",
        name_en: "Stations",
        columns: COLUMNS,
    };

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    fn row(
        number: usize,
        values: Vec<(&'static str, Value)>,
        errors: &[(&'static str, &'static str, &str)],
    ) -> Row {
        Row {
            number,
            values: values.into_iter().collect(),
            errors: errors
                .iter()
                .map(|&(column, code, raw)| CellError {
                    column,
                    code,
                    raw: raw.to_owned(),
                })
                .collect(),
        }
    }

    /// Writes rows from `top` down, cells separated by "|"; an empty cell stays empty.
    fn write_rows(sheet: &mut Worksheet, top: u32, rows: &[&str]) {
        for (r, cells) in (top..).zip(rows) {
            for (c, cell) in (0u16..).zip(cells.split('|')) {
                if !cell.is_empty() {
                    sheet.write_string(r, c, cell).unwrap();
                }
            }
        }
    }

    fn xlsx(sheets: Vec<Worksheet>) -> Vec<u8> {
        let mut workbook = Workbook::new();
        for sheet in sheets {
            workbook.push_worksheet(sheet);
        }
        workbook.save_to_buffer().unwrap()
    }

    fn sheet(name: &str, rows: &[&str]) -> Worksheet {
        let mut sheet = Worksheet::new();
        sheet.set_name(name).unwrap();
        write_rows(&mut sheet, 0, rows);
        sheet
    }

    #[test]
    fn reads_a_messy_real_world_sheet() {
        let mut ws = sheet("汇总", &[]);
        let title = "株洲市社工站建设情况统计表（2024年）";
        ws.merge_range(0, 0, 0, 10, title, &Format::new()).unwrap();
        // Excel row 3 stays blank, row 6 too.
        let rows = [
            "填报日期：2024年3月1日",
            "",
            "社工站名称 *|乡镇街道|区划代码|驻站社工\n人数|建设资金|场地面积|挂牌日期(选填)|统计月份|建设状态＊| 经  度 |备注",
            "芦淞区建宁街道社工站| 建宁街道 ||１２|1.5万|30㎡|2023-01-05|2023-01|已建成|112°58′48″|新建",
            "",
            "荷塘区月塘街道社工站|月塘街道|430202006|3人|15,000元|30.5平方米|2023/1/5|2023年1月|建设中",
            "石峰区清水塘街道社工站|清水塘\u{3000}街道||||30 m2|2023年1月5日||BUILT|112.98",
            "天元区嵩山路街道社工站|嵩山路街道|||||20230105|202301|规划",
            "渌口区渌口镇社工站|渌口镇|||0.1万||||在建",
            "|||三人|-100|abc|2023-02-30|2023-13|拆除",
            "株洲市天元区群丰镇社会工作服务站（试点站）|群丰镇|||||||已建成",
        ];
        write_rows(&mut ws, 1, &rows);
        // An ID-like code stored as a number (Excel shows 4.30203001E8 in narrow columns).
        ws.write_number(4, 2, 430203001.0).unwrap();
        ws.write_number(7, 3, 3.0).unwrap();
        ws.write_number(7, 4, 15000.5).unwrap();
        ws.write_number(6, 9, 113.1).unwrap();
        let jan5 = ExcelDateTime::from_ymd(2023, 1, 5).unwrap();
        ws.write_datetime_with_format(7, 7, &jan5, &Format::new().set_num_format("yyyy-mm"))
            .unwrap();
        ws.write_datetime_with_format(9, 6, &jan5, &Format::new().set_num_format("yyyy-mm-dd"))
            .unwrap();
        ws.write_formula(10, 9, Formula::new("=NA()").set_result("#N/A"))
            .unwrap();

        let parsed = read(&SCHEMA, &xlsx(vec![ws])).unwrap();
        assert_eq!(parsed.sheet, "汇总");
        assert_eq!(parsed.header_row, 4);
        assert_eq!(parsed.unknown_headers, ["备注"]);
        let jan = || Value::Month(2023, 1);
        let expected = vec![
            row(
                5,
                vec![
                    ("name", text("芦淞区建宁街道社工站")),
                    ("township", text("建宁街道")),
                    ("code", text("430203001")),
                    ("staff", Value::Int(12)),
                    ("funding", Value::Fen(1_500_000)),
                    ("area", Value::Area(30)),
                    ("opened", Value::Date(date(2023, 1, 5))),
                    ("month", jan()),
                    ("status", Value::Code("built")),
                    ("longitude", Value::Decimal(112.98)),
                ],
                &[],
            ),
            row(
                7,
                vec![
                    ("name", text("荷塘区月塘街道社工站")),
                    ("township", text("月塘街道")),
                    ("code", text("430202006")),
                    ("staff", Value::Int(3)),
                    ("funding", Value::Fen(1_500_000)),
                    ("area", Value::Area(31)),
                    ("opened", Value::Date(date(2023, 1, 5))),
                    ("month", jan()),
                    ("status", Value::Code("building")),
                    ("longitude", Value::Decimal(113.1)),
                ],
                &[],
            ),
            row(
                8,
                vec![
                    ("name", text("石峰区清水塘街道社工站")),
                    ("township", text("清水塘 街道")),
                    ("staff", Value::Int(3)),
                    ("funding", Value::Fen(1_500_050)),
                    ("area", Value::Area(30)),
                    ("opened", Value::Date(date(2023, 1, 5))),
                    ("month", jan()),
                    ("status", Value::Code("built")),
                    ("longitude", Value::Decimal(112.98)),
                ],
                &[],
            ),
            row(
                9,
                vec![
                    ("name", text("天元区嵩山路街道社工站")),
                    ("township", text("嵩山路街道")),
                    ("opened", Value::Date(date(2023, 1, 5))),
                    ("month", jan()),
                    ("status", Value::Code("planned")),
                ],
                &[],
            ),
            row(
                10,
                vec![
                    ("name", text("渌口区渌口镇社工站")),
                    ("township", text("渌口镇")),
                    ("funding", Value::Fen(100_000)),
                    ("opened", Value::Date(date(2023, 1, 5))),
                    ("status", Value::Code("building")),
                ],
                &[],
            ),
            row(
                11,
                vec![],
                &[
                    ("name", "import.required", ""),
                    ("township", "import.required", ""),
                    ("staff", "import.not_a_number", "三人"),
                    ("funding", "import.negative", "-100"),
                    ("area", "import.not_a_number", "abc"),
                    ("opened", "import.bad_date", "2023-02-30"),
                    ("month", "import.bad_month", "2023-13"),
                    ("status", "import.bad_choice", "拆除"),
                    ("longitude", "import.bad_cell", "#N/A"),
                ],
            ),
            row(
                12,
                vec![
                    ("township", text("群丰镇")),
                    ("status", Value::Code("built")),
                ],
                &[(
                    "name",
                    "import.too_long",
                    "株洲市天元区群丰镇社会工作服务站(试点站)",
                )],
            ),
        ];
        assert_eq!(parsed.rows, expected);
    }

    #[test]
    fn reads_the_first_visible_sheet_with_a_header() {
        let notes = sheet("说明", &["请在“社工站”表中填写。"]);
        let mut hidden = sheet("旧数据", &["社工站名称|乡镇|建设状态", "旧站|旧镇|已建成"]);
        hidden.set_hidden(true);
        let data = sheet(
            "社工站",
            &[
                "社工站名称(必填)|所在乡镇（街道）|所在乡镇(街道)|建设状态",
                "建宁街道社工站|建宁街道|重复的列|已建成",
            ],
        );
        let parsed = read(&SCHEMA, &xlsx(vec![notes, hidden, data])).unwrap();
        assert_eq!(parsed.sheet, "社工站");
        assert_eq!(parsed.header_row, 1);
        assert_eq!(parsed.unknown_headers, ["所在乡镇(街道)"]);
        assert_eq!(
            parsed.rows,
            [row(
                2,
                vec![
                    ("name", text("建宁街道社工站")),
                    ("township", text("建宁街道")),
                    ("status", Value::Code("built")),
                ],
                &[],
            )]
        );
    }

    #[test]
    fn reads_csv_with_bom_and_quoted_fields() {
        let csv = "\u{FEFF}序号,社工站名称,乡镇,建设状态,场地面积\r\n\
                   1,\"建宁街道社工站\",\"建宁街道\",已建成,\"1,200平米\"\r\n\
                   2,,,,\r\n\
                   3,\"月塘\"\"新\"\"站\",\"月塘\n街道\",在建,\n";
        let parsed = read(&SCHEMA, csv.as_bytes()).unwrap();
        assert_eq!(parsed.sheet, "CSV");
        assert_eq!(parsed.header_row, 1);
        assert_eq!(parsed.unknown_headers, ["序号"]);
        // Row 3 holds only a sequence number, as pre-numbered templates do: skipped.
        assert_eq!(
            parsed.rows,
            [
                row(
                    2,
                    vec![
                        ("name", text("建宁街道社工站")),
                        ("township", text("建宁街道")),
                        ("status", Value::Code("built")),
                        ("area", Value::Area(1200)),
                    ],
                    &[],
                ),
                row(
                    4,
                    vec![
                        ("name", text("月塘\"新\"站")),
                        ("township", text("月塘 街道")),
                        ("status", Value::Code("building")),
                    ],
                    &[],
                ),
            ]
        );
    }

    #[test]
    fn template_reads_back_with_its_header_and_no_rows() {
        let townships: Vec<String> = (1..=80).map(|i| format!("第{i}街道")).collect();
        for chinese in [true, false] {
            let bytes = template(&SCHEMA, chinese, &[("township", townships.clone())]).unwrap();
            let parsed = read(&SCHEMA, &bytes).unwrap();
            let expected = Parsed {
                sheet: if chinese { "社工站" } else { "Stations" }.to_owned(),
                header_row: 1,
                rows: vec![],
                unknown_headers: vec![],
            };
            assert_eq!(parsed, expected);

            // The township list is too long to inline: it lives on a hidden sheet.
            let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(&bytes)).unwrap();
            let sheets: Vec<_> = workbook
                .sheets_metadata()
                .iter()
                .map(|s| (s.name.clone(), s.visible))
                .collect();
            let instructions = if chinese {
                "填写说明"
            } else {
                "Instructions"
            };
            assert_eq!(
                sheets,
                [
                    (expected.sheet.clone(), SheetVisible::Visible),
                    (instructions.to_owned(), SheetVisible::Visible),
                    (LIST_SHEET.to_owned(), SheetVisible::Hidden),
                ]
            );
            let lists = workbook.worksheet_range(LIST_SHEET).unwrap();
            assert_eq!(lists.height(), 80);
            assert_eq!(
                lists.get((79, 0)),
                Some(&Data::String("第80街道".to_owned()))
            );
        }
        assert!(template(&SCHEMA, true, &[("nope", vec![])]).is_err());
    }

    #[test]
    fn garbage_is_unreadable() {
        assert_eq!(
            read(&SCHEMA, b"\x00\x9f\x92\x96garbage\xff"),
            Err(ImportError::Unreadable)
        );
        assert_eq!(
            read(&SCHEMA, b"PK\x03\x04truncated zip"),
            Err(ImportError::Unreadable)
        );
    }

    #[test]
    fn a_sheet_without_a_matching_header_has_no_header() {
        let bytes = xlsx(vec![sheet("人员", &["姓名|年龄", "张三|30"])]);
        assert_eq!(read(&SCHEMA, &bytes), Err(ImportError::NoHeader));
    }

    #[test]
    fn missing_required_columns_are_named() {
        let bytes = xlsx(vec![sheet("社工站", &["名称|乡镇", "A站|建宁街道"])]);
        assert_eq!(
            read(&SCHEMA, &bytes),
            Err(ImportError::MissingColumns(vec!["status"]))
        );
    }

    #[test]
    fn too_many_rows_are_refused_with_their_count() {
        let mut csv = String::from("社工站名称,乡镇,建设状态\n");
        for i in 0..=MAX_ROWS {
            csv.push_str(&format!("站{i},镇,已建成\n"));
        }
        assert_eq!(
            read(&SCHEMA, csv.as_bytes()),
            Err(ImportError::TooManyRows(MAX_ROWS + 1))
        );
    }

    /// `xlsx` with its first sheet's XML passed through `edit` (entries copied as they are).
    fn rewrite_sheet(xlsx: &[u8], edit: impl Fn(String) -> String) -> Vec<u8> {
        use std::io::Write;
        let mut archive = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let name = entry.name().unwrap().into_owned();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            if name == "xl/worksheets/sheet1.xml" {
                content = edit(String::from_utf8(content).unwrap()).into_bytes();
            }
            out.start_file(name, options).unwrap();
            out.write_all(&content).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    /// A header row, one station and one cell at XFD1048576 (Excel's last cell).
    fn far_cell_xlsx() -> Vec<u8> {
        let mut ws = sheet(
            "社工站",
            &["社工站名称|乡镇|建设状态", "建宁站|建宁街道|已建成"],
        );
        ws.write_string(1_048_575, 16_383, "x").unwrap();
        xlsx(vec![ws])
    }

    fn set_dimension(xml: String, to: &str) -> String {
        let start = xml.find("<dimension ref=\"").unwrap() + "<dimension ref=\"".len();
        let end = start + xml[start..].find('"').unwrap();
        format!("{}{to}{}", &xml[..start], &xml[end..])
    }

    fn refusal(result: Result<Parsed, ImportError>) -> Refusal {
        match result {
            Err(ImportError::Refused(r)) => r,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_cell_at_xfd1048576_is_refused_without_building_the_grid() {
        // As written, the sheet declares A1:XFD1048576: refused before a cell is read.
        let bytes = far_cell_xlsx();
        assert!(bytes.len() < 8 * 1024, "{}", bytes.len());
        let r = refusal(read(&SCHEMA, &bytes));
        assert_eq!(
            r,
            Refusal::Declared {
                sheet: "社工站".into(),
                rows: 1_048_576,
                columns: 16_384,
                max_rows: 200_000,
                max_columns: 256
            }
        );
        // Declaring a small sheet does not help: the cell itself is refused while streaming
        // (calamine's `worksheet_range` allocated 512 GiB here and aborted the process).
        let lying = rewrite_sheet(&bytes, |xml| set_dimension(xml, "A1:C2"));
        let r = refusal(read(&SCHEMA, &lying));
        assert_eq!(
            r,
            Refusal::CellOutside {
                cell: "XFD1048576".into(),
                max_rows: 200_000,
                max_columns: 256
            }
        );
        assert_eq!(r.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            r.message(&Tr::new(Lang::Zh)),
            "单元格 XFD1048576 超出上限 200,000 行 × 256 列。请删除表格右侧或下方多余的内容后重新导入。"
        );
        // Without any dimension at all, the same.
        let bare = rewrite_sheet(&bytes, |xml| {
            let start = xml.find("<dimension").unwrap();
            let end = start + xml[start..].find("/>").unwrap() + 2;
            format!("{}{}", &xml[..start], &xml[end..])
        });
        assert!(matches!(
            refusal(read(&SCHEMA, &bare)),
            Refusal::CellOutside { .. }
        ));
    }

    #[test]
    fn a_declared_huge_dimension_with_two_cells_is_refused() {
        let small = xlsx(vec![sheet("社工站", &["社工站名称|乡镇"])]);
        let declared = rewrite_sheet(&small, |xml| set_dimension(xml, "A1:XFD1048576"));
        let r = refusal(read(&SCHEMA, &declared));
        assert!(
            matches!(
                r,
                Refusal::Declared {
                    rows: 1_048_576,
                    columns: 16_384,
                    ..
                }
            ),
            "{r:?}"
        );
        // Within rows and columns but over the cell count.
        let limits = ImportLimits {
            max_cells: 1_000,
            ..ImportLimits::default()
        };
        let wide = rewrite_sheet(&small, |xml| set_dimension(xml, "A1:J200"));
        assert_eq!(
            refusal(read_with(&SCHEMA, &wide, &limits)),
            Refusal::DeclaredCells {
                sheet: "社工站".into(),
                found: 2_000,
                max: 1_000
            }
        );
    }

    #[test]
    fn a_bomb_and_a_lying_entry_are_refused_before_calamine_opens_them() {
        let normal = xlsx(vec![sheet("社工站", &["社工站名称|乡镇|建设状态"])]);
        // 200 MB of spaces after the sheet's XML: a few hundred KB compressed.
        let bomb = rewrite_sheet(&normal, |xml| xml + &" ".repeat(200 * 1024 * 1024));
        assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
        let r = refusal(read(&SCHEMA, &bomb));
        assert!(matches!(r, Refusal::Ratio { .. }), "{r:?}");
        assert_eq!(r.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        let limits = ImportLimits {
            max_ratio: 100_000,
            ..ImportLimits::default()
        };
        let limits = ImportLimits {
            max_entry_bytes: 64 * 1024 * 1024,
            ..limits
        };
        assert!(matches!(
            refusal(read_with(&SCHEMA, &bomb, &limits)),
            Refusal::EntryBytes { .. }
        ));

        // The sheet entry declares 50 bytes fewer than it holds.
        // (Rewritten first: rust_xlsxwriter leaves the local header's sizes to a data descriptor.)
        let mut lying = rewrite_sheet(&normal, |xml| xml);
        let name = b"xl/worksheets/sheet1.xml";
        for signature in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
            // The local header (size at +22, name at +30) and the central entry (+24, +46).
            let (size_at, name_at) = if signature == b"PK\x03\x04" {
                (22, 30)
            } else {
                (24, 46)
            };
            let at = (0..lying.len() - name_at - name.len())
                .find(|&i| {
                    lying[i..].starts_with(signature) && lying[i + name_at..].starts_with(name)
                })
                .unwrap();
            let field = at + size_at;
            let size = u32::from_le_bytes(lying[field..field + 4].try_into().unwrap());
            lying[field..field + 4].copy_from_slice(&(size - 50).to_le_bytes());
        }
        let r = refusal(read(&SCHEMA, &lying));
        assert!(
            matches!(&r, Refusal::SizeMismatch { entry, .. } if entry == "xl/worksheets/sheet1.xml"),
            "{r:?}"
        );
    }

    #[test]
    fn a_normal_workbook_reads_at_its_limits_and_not_past_them() {
        let rows = [
            "社工站名称|乡镇|建设状态",
            "建宁站|建宁街道|已建成",
            "月塘站|月塘街道|在建",
        ];
        let bytes = xlsx(vec![sheet("社工站", &rows)]);
        let exact = ImportLimits {
            max_rows: 3,
            max_columns: 3,
            max_cells: 9,
            ..ImportLimits::default()
        };
        let parsed = read_with(&SCHEMA, &bytes, &exact).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed, read(&SCHEMA, &bytes).unwrap());
        let fewer_rows = ImportLimits {
            max_rows: 2,
            ..exact.clone()
        };
        assert!(matches!(
            refusal(read_with(&SCHEMA, &bytes, &fewer_rows)),
            Refusal::Declared { rows: 3, .. }
        ));
        let fewer_cells = ImportLimits {
            max_cells: 8,
            ..exact.clone()
        };
        assert!(matches!(
            refusal(read_with(&SCHEMA, &bytes, &fewer_cells)),
            Refusal::DeclaredCells { found: 9, .. }
        ));
        let small_file = ImportLimits {
            max_file_bytes: 1_000,
            ..exact
        };
        assert!(matches!(
            refusal(read_with(&SCHEMA, &bytes, &small_file)),
            Refusal::FileBytes { max: 1_000, .. }
        ));
    }

    #[test]
    fn sparse_sheets_keep_their_offsets_and_row_numbers() {
        // Data from column C, a title in row 2, the header in row 5, a far row at 40: the same
        // table calamine's grid gave.
        let mut ws = sheet("社工站", &[]);
        ws.write_string(1, 3, "统计表").unwrap();
        write_rows(&mut ws, 4, &[]);
        for (c, h) in (2u16..).zip(["社工站名称", "乡镇", "建设状态"]) {
            ws.write_string(4, c, h).unwrap();
        }
        for (c, v) in (2u16..).zip(["建宁站", "建宁街道", "已建成"]) {
            ws.write_string(39, c, v).unwrap();
        }
        let parsed = read(&SCHEMA, &xlsx(vec![ws])).unwrap();
        assert_eq!(parsed.header_row, 5);
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].number, 40);
        assert_eq!(parsed.rows[0].values["name"], text("建宁站"));
    }

    #[test]
    fn csv_is_bounded_while_it_is_split() {
        let limits = ImportLimits {
            max_rows: 3,
            max_columns: 4,
            ..ImportLimits::default()
        };
        let csv = "社工站名称,乡镇,建设状态\n建宁站,建宁街道,已建成\n";
        assert_eq!(
            read_with(&SCHEMA, csv.as_bytes(), &limits)
                .unwrap()
                .rows
                .len(),
            1
        );
        let long = format!("{csv}a,b,c\nd,e,f\n");
        assert_eq!(
            refusal(read_with(&SCHEMA, long.as_bytes(), &limits)),
            Refusal::Rows { max: 3 }
        );
        // A record of a million separators is refused at the fifth field, not after splitting.
        let wide = format!("{csv}{}\n", ",".repeat(1_000_000));
        assert_eq!(
            refusal(read_with(&SCHEMA, wide.as_bytes(), &limits)),
            Refusal::Columns {
                row: 3,
                found: 5,
                max: 4
            }
        );
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

    #[test]
    fn normalizes_text_and_headers() {
        assert_eq!(
            normalize("\u{3000}ＡＢＣ１２\u{A0}\u{A0}x\u{200B}y \n z\u{FEFF} "),
            "ABC12 xy z"
        );
        assert_eq!(header_key("所在乡镇（街道）＊"), "所在乡镇(街道)");
        assert_eq!(header_key(" 建设\n状态 (必填)"), "建设状态");
        assert_eq!(header_key("*Township (选填) *"), "township");
    }

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(number_text(4.30203001e8), "430203001");
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(15000.5), "15000.5");
        assert_eq!(number_text(0.000123), "0.000123");
        assert_eq!(number_text(1e15 + 0.5), "1000000000000000");
    }

    #[test]
    fn messages_fill_in_their_details() {
        let zh = Tr::new(Lang::Zh);
        let error = |column, code| CellError {
            column,
            code,
            raw: String::new(),
        };
        assert_eq!(
            error("name", "import.too_long").message(&SCHEMA, &zh),
            "内容过长，最多 20 个字。"
        );
        assert_eq!(
            error("status", "import.bad_choice").message(&SCHEMA, &zh),
            "不是可选的值，应为以下之一：已建成、在建、规划。"
        );
        assert_eq!(
            ImportError::MissingColumns(vec!["township", "status"]).message(&SCHEMA, &zh),
            "缺少必填列：所在乡镇（街道）、建设状态。请在表头中补上这些列。"
        );
        let en = Tr::new(Lang::En);
        assert!(
            ImportError::TooManyRows(20_001)
                .message(&SCHEMA, &en)
                .contains("20001")
        );
        let parsed = Parsed {
            sheet: String::new(),
            header_row: 1,
            rows: vec![],
            unknown_headers: vec!["序号".into(), "备注".into()],
        };
        assert_eq!(
            parsed.warning(&zh).unwrap(),
            "以下表头未能识别，这些列已忽略：序号、备注。"
        );
    }

    /// Every "import.*" key this file uses is in both catalogues (which have the same keys).
    #[test]
    fn every_message_key_exists() {
        let source = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/import/sheet.rs"));
        let keys: BTreeSet<&str> = source
            .split('"')
            .filter(|s| {
                s.starts_with("import.")
                    && !s.ends_with('.')
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
            })
            .collect();
        assert!(keys.len() > 30, "{keys:?}");
        for key in keys {
            assert!(
                crate::ui::i18n::ZH.contains_key(key),
                "{key} missing in zh-CN/import.toml"
            );
            assert!(
                crate::ui::i18n::EN.contains_key(key),
                "{key} missing in en/import.toml"
            );
        }
    }
}
