//! Reading a spreadsheet as civil-affairs offices really keep it (xlsx, xls, ods, or UTF-8 CSV)
//! as a [`RawSheet`]: the header row an importer's [`Schema`] recognises, the data rows under it,
//! and the title, blank, total and repeated lines set aside with the reason. `import::mapping`
//! then maps its columns and parses every cell (see `import::cells`); `import::template`
//! builds the matching download.
//!
//! Real sheets carry title rows above the header, full-width digits, stray spaces, units inside
//! numbers ("1.5万", "30㎡") and dates in many spellings. All of that is accepted; anything else
//! becomes an error on its cell, never a panic.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{Cursor, Read, Seek};

use calamine::{Data, DataRef, Reader, SheetVisible, Sheets};
use chrono::NaiveDate;

use serde::{Deserialize, Serialize};

use crate::config::ImportLimits;
use crate::import::cells::parse_date;
use crate::import::header::match_header;
use crate::import::limits::Budget;
use crate::import::mapping::Mapping;
use crate::import::schema::{ImportError, MAX_ROWS, Parsed, Schema};

/// How far down the header row may be (below title, date and blank lines).
const HEADER_SCAN_ROWS: usize = 20;

/// Read the first visible sheet that has a header row for this schema (xlsx, xls, ods, or CSV
/// text in UTF-8 with or without BOM, comma- or tab-separated) within the default limits, and
/// import its columns as their headers name them. Uploads go through `import::stage::parse`,
/// which keeps the sheet as read ([`read_raw`]) so the user can map its columns, and bounds
/// time and concurrency.
pub fn read(schema: &'static Schema, bytes: &[u8]) -> Result<Parsed, ImportError> {
    read_with(schema, bytes, &ImportLimits::default())
}

/// [`read`] within `limits`.
pub fn read_with(
    schema: &'static Schema,
    bytes: &[u8],
    limits: &ImportLimits,
) -> Result<Parsed, ImportError> {
    let raw = read_raw(schema, bytes, limits)?;
    let mapping = Mapping::auto(schema, &raw.headers);
    Ok(mapping.rows(schema, &raw))
}

/// The sheet as read, within `limits`: the file size, the zip container (before calamine opens
/// it), each sheet's declared and real extent, the cells read and the time.
pub fn read_raw(
    schema: &Schema,
    bytes: &[u8],
    limits: &ImportLimits,
) -> Result<RawSheet, ImportError> {
    let mut budget = Budget::new(limits);
    budget.check_file(bytes.len())?;
    // Local file header or end of central directory (an empty zip): a zip container.
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        crate::import::limits::check_zip(bytes, &budget)?;
    }
    match calamine::open_workbook_auto_from_rs(Cursor::new(bytes)) {
        Ok(mut workbook) => read_workbook(schema, &mut workbook, &mut budget),
        // A zip or OLE container that calamine cannot open is a broken workbook, not CSV.
        Err(_)
            if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) =>
        {
            Err(ImportError::Unreadable)
        }
        Err(_) => read_csv(schema, bytes, &mut budget),
    }
}

fn read_workbook<RS: Read + Seek>(
    schema: &Schema,
    workbook: &mut Sheets<RS>,
    budget: &mut Budget<'_>,
) -> Result<RawSheet, ImportError> {
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
            Sheets::Xlsx(xlsx) => {
                let grid = match xlsx.worksheet_cells_reader(&sheet) {
                    Ok(mut reader) => {
                        let dimensions = reader.dimensions();
                        budget.declared(&sheet, dimensions.start, dimensions.end)?;
                        Grid::stream(budget, || reader.next_cell().map_err(drop))?
                    }
                    // A chart sheet: readable, without cells (as `worksheet_range` answers).
                    Err(calamine::XlsxError::NotAWorksheet(_)) => Some(Grid::default()),
                    Err(_) => None,
                };
                match grid {
                    Some(mut grid) => {
                        budget.check_time()?;
                        // A sheet whose merges cannot be read is read without them.
                        let merged = xlsx.merge_cells_by_sheet_name(&sheet).unwrap_or_default();
                        grid.fill_merged(&merged, budget)?;
                        Some(grid)
                    }
                    None => None,
                }
            }
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
                Ok(range) => {
                    let mut grid = Grid::from_range(&sheet, &range, budget)?;
                    if let Sheets::Xls(xls) = other {
                        let merged = xls.merge_cells_by_sheet_name(&sheet).unwrap_or_default();
                        grid.fill_merged(&merged, budget)?;
                    }
                    Some(grid)
                }
                Err(_) => None,
            },
        };
        let Some(grid) = grid else {
            continue;
        };
        readable = true;
        if let Some(raw) = grid.raw(schema, sheet) {
            return raw;
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
    /// 0-based sheet column of each row's first cell.
    first_col: u32,
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
            first_col,
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
            first_col: start.1,
            rows,
        })
    }

    /// Merged cells read as their value: the top-left cell's value fills the region (a county
    /// merged down its townships' rows, say), within the sheet's rows and the cell budget.
    fn fill_merged(
        &mut self,
        merged: &[calamine::Dimensions],
        budget: &mut Budget<'_>,
    ) -> Result<(), ImportError> {
        for region in merged {
            let (top, left) = region.start;
            let (bottom, right) = region.end;
            if left < self.first_col || top < self.first_row {
                continue;
            }
            let at = |col: u32| (col - self.first_col) as usize;
            let Some(value) = self.rows.get(&top).and_then(|r| r.get(at(left))).cloned() else {
                continue;
            };
            if value == Cell::Empty {
                continue;
            }
            for row in top..=bottom.min(self.last_row) {
                let cells = self.rows.entry(row).or_default();
                for col in left..=right {
                    budget.cell(row, col, true)?;
                    if cells.len() <= at(col) {
                        cells.resize(at(col) + 1, Cell::Empty);
                    }
                    if let Some(slot) = cells.get_mut(at(col))
                        && *slot == Cell::Empty
                    {
                        *slot = value.clone();
                    }
                }
            }
        }
        Ok(())
    }

    /// The table under the header for this schema, if this sheet has one.
    fn raw(mut self, schema: &Schema, sheet: String) -> Option<Result<RawSheet, ImportError>> {
        if self.rows.is_empty() {
            return None;
        }
        let height = (self.last_row - self.first_row) as usize + 1;
        let head: Vec<Vec<Cell>> = (self.first_row..)
            .take(height.min(HEADER_SCAN_ROWS))
            .map(|r| self.rows.get(&r).cloned().unwrap_or_default())
            .collect();
        let header = find_header(schema, &head)?;
        let mut rows = std::mem::take(&mut self.rows);
        let first = self.first_row;
        let numbered = (first..=self.last_row)
            .map(move |r| (r as usize + 1, rows.remove(&r).unwrap_or_default()));
        Some(raw_sheet(sheet, header, numbered))
    }
}

fn read_csv(
    schema: &Schema,
    bytes: &[u8],
    budget: &mut Budget<'_>,
) -> Result<RawSheet, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::Unreadable)?;
    if text.contains('\0') {
        return Err(ImportError::Unreadable);
    }
    // Each record let go as it becomes cells: a big file is not held twice.
    let rows: Vec<Vec<Cell>> = csv_records(text, budget)?
        .into_iter()
        .map(|record| record.iter().map(|field| Cell::text(field)).collect())
        .collect();
    let head = rows.get(..HEADER_SCAN_ROWS).unwrap_or(&rows);
    let header = find_header(schema, head).ok_or(ImportError::NoHeader)?;
    raw_sheet(
        "CSV".to_owned(),
        header,
        rows.into_iter().enumerate().map(|(i, r)| (i + 1, r)),
    )
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cell {
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
    pub fn display(&self) -> String {
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

/// The row (index into `rows`) whose cells name the most columns of the schema, at least one;
/// the first such row on a tie. Title and note lines above it name none.
fn find_header(schema: &Schema, rows: &[Vec<Cell>]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, row) in rows.iter().enumerate() {
        let matched: BTreeSet<&'static str> = row
            .iter()
            .filter_map(|cell| match_header(schema, &cell.display()).map(|m| m.key))
            .collect();
        if !matched.is_empty() && best.is_none_or(|(_, most)| matched.len() > most) {
            best = Some((i, matched.len()));
        }
    }
    best.map(|(i, _)| i)
}

/// A sheet as read, before its columns are mapped (`import::mapping`): the header row found for
/// the schema, every data row under it, and the rows set aside with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawSheet {
    /// Which sheet was read ("CSV" for CSV text).
    pub sheet: String,
    /// 1-based.
    pub header_row: usize,
    /// Each column's header text, "" where there is none.
    pub headers: Vec<String>,
    pub rows: Vec<RawRow>,
    pub skipped: Vec<Skipped>,
}

/// A data row: its number as Excel shows it and its cells, without trailing empty ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawRow {
    pub number: usize,
    pub cells: Vec<Cell>,
}

/// A row not imported, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub number: usize,
    pub skip: Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Skip {
    /// A title, date or note line above the header.
    AboveHeader,
    /// An empty line between data rows.
    Blank,
    /// A 合计/小计/总计 line.
    Total,
    /// The same cells as an earlier row (its number).
    Repeat(usize),
    /// Nothing in any imported column (a pre-numbered 序号 line, say); decided by the mapping.
    NothingImported,
}

impl Skip {
    /// The message key of the reason.
    pub fn code(self) -> &'static str {
        match self {
            Skip::AboveHeader => "import.skip.above_header",
            Skip::Blank => "import.skip.blank",
            Skip::Total => "import.skip.total",
            Skip::Repeat(_) => "import.skip.repeat",
            Skip::NothingImported => "import.skip.nothing_imported",
        }
    }
}

/// Words that make a line a total line when a cell says only that (maybe with a region before
/// it: "全县合计").
const TOTAL_WORDS: [&str; 4] = ["合计", "小计", "总计", "累计"];

fn is_total(cells: &[Cell]) -> bool {
    cells
        .iter()
        .filter(|c| **c != Cell::Empty)
        .take(3)
        .any(|c| match c {
            Cell::Text(t) => {
                let compact: String = t
                    .chars()
                    .filter(|c| !c.is_whitespace() && !matches!(c, ':' | '：'))
                    .collect();
                compact.chars().count() <= 8 && TOTAL_WORDS.iter().any(|w| compact.ends_with(w))
            }
            _ => false,
        })
}

/// Split `rows` (numbered, the header at index `header`) into the header, the data rows and
/// the lines set aside: lines above the header, blank lines between data, total lines and
/// exact repeats of an earlier row. Merged cells were filled in by the reader.
fn raw_sheet(
    sheet: String,
    header: usize,
    rows: impl Iterator<Item = (usize, Vec<Cell>)>,
) -> Result<RawSheet, ImportError> {
    let mut out = RawSheet {
        sheet,
        header_row: 0,
        headers: Vec::new(),
        rows: Vec::new(),
        skipped: Vec::new(),
    };
    let mut blanks: Vec<usize> = Vec::new();
    let mut data: Vec<RawRow> = Vec::new();
    let mut count = 0;
    for (i, (number, mut cells)) in rows.enumerate() {
        while cells.last() == Some(&Cell::Empty) {
            cells.pop();
        }
        if i < header {
            if !cells.is_empty() {
                out.skipped.push(Skipped {
                    number,
                    skip: Skip::AboveHeader,
                });
            }
            continue;
        }
        if i == header {
            out.header_row = number;
            out.headers = cells.iter().map(Cell::display).collect();
            continue;
        }
        if cells.is_empty() {
            blanks.push(number);
            continue;
        }
        // Blank lines count only between data rows, not after the last one.
        out.skipped.extend(blanks.drain(..).map(|number| Skipped {
            number,
            skip: Skip::Blank,
        }));
        if is_total(&cells) {
            out.skipped.push(Skipped {
                number,
                skip: Skip::Total,
            });
            continue;
        }
        // Keep counting past the limit so the message can say how many rows there are.
        count += 1;
        if count <= MAX_ROWS {
            data.push(RawRow { number, cells });
        }
    }
    if count > MAX_ROWS {
        return Err(ImportError::TooManyRows(count));
    }
    let mut seen: HashMap<&[Cell], usize> = HashMap::new();
    let mut repeats = HashSet::new();
    for row in &data {
        match seen.get(row.cells.as_slice()) {
            Some(&first) => {
                out.skipped.push(Skipped {
                    number: row.number,
                    skip: Skip::Repeat(first),
                });
                repeats.insert(row.number);
            }
            None => {
                seen.insert(&row.cells, row.number);
            }
        }
    }
    drop(seen);
    out.rows = data
        .into_iter()
        .filter(|r| !repeats.contains(&r.number))
        .collect();
    out.skipped.sort_by_key(|s| s.number);
    Ok(out)
}

#[cfg(test)]
#[path = "sheet_tests.rs"]
mod tests;
