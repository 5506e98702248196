//! Reading a spreadsheet as civil-affairs offices really keep it (xlsx, xls, ods, or UTF-8 CSV)
//! into checked rows with per-cell errors. An importer declares a [`Schema`] of its columns;
//! [`read_with`] finds the header row, matches the columns and parses every cell (see
//! `import::cells`); `import::template` builds the matching download.
//!
//! Real sheets carry title rows above the header, full-width digits, stray spaces, units inside
//! numbers ("1.5万", "30㎡") and dates in many spellings. All of that is accepted; anything else
//! becomes an error on its cell, never a panic.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Cursor, Read, Seek};

use calamine::{Data, DataRef, Reader, SheetVisible, Sheets};
use chrono::NaiveDate;

use crate::config::ImportLimits;
use crate::import::cells::{parse_cell, parse_date};
use crate::import::limits::Budget;
use crate::import::schema::{CellError, ImportError, MAX_ROWS, Parsed, Row, Schema};

/// How far down the header row may be (below title, date and blank lines).
const HEADER_SCAN_ROWS: usize = 20;

/// Read the first visible sheet that has a header row for this schema: xlsx, xls, ods, or CSV
/// text in UTF-8 (with or without BOM; comma- or tab-separated), within the default limits.
/// Uploads go through `import::stage::parse`, which also bounds time and concurrency.
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
                    if let Some(slot) = dense.get_mut(at) {
                        *slot = cell;
                    }
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
        let header_cells = head.get(header)?;
        let mut rows = std::mem::take(&mut self.rows);
        let body = (self.first_row + header as u32 + 1..=self.last_row)
            .map(move |r| rows.remove(&r).unwrap_or_default());
        let table = Table {
            sheet,
            header_row: self.first_row as usize + header + 1,
            header: header_cells,
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
    let head = rows.get(..HEADER_SCAN_ROWS).unwrap_or(&rows);
    let header = find_header(schema, names, head).ok_or(ImportError::NoHeader)?;
    let (header_cells, body) = rows
        .get(header..)
        .and_then(<[Vec<Cell>]>::split_first)
        .ok_or(ImportError::NoHeader)?;
    let table = Table {
        sheet: "CSV".to_owned(),
        header_row: header + 1,
        header: header_cells,
    };
    parse_table(schema, names, table, body.iter().cloned())
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
pub(crate) enum Cell {
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
    pub(crate) fn display(&self) -> String {
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
            .filter(|&&c| schema.columns.get(c).is_some_and(|c| c.required))
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
            Some(&c) if positions.get(c) == Some(&None) => {
                if let Some(p) = positions.get_mut(c) {
                    *p = Some(i);
                }
            }
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

#[cfg(test)]
#[path = "sheet_tests.rs"]
mod tests;
