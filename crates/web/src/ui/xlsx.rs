//! An .xlsx workbook of one sheet, written row by row into its zip as the rows come: an export
//! of 10^5 rows holds one page of its rows and the compressor's window, never the whole sheet
//! (rust_xlsxwriter, which the import templates use, keeps every cell until it saves). Nothing
//! touches the disk either, so a sheet of revealed identity numbers exists only as it is sent.
//!
//! The parts are the few Excel needs: the sheet, its styles (bold shaded header, the quote
//! prefix), the workbook with the sheet's filter range, their relationships and content types.
//! Text is written inline (`inlineStr`), as Excel's constant-memory writers do, so no shared
//! string table grows with the sheet. The output is what `ui::excel` used to build with
//! rust_xlsxwriter: a bold frozen header with filters, sensible widths, text never evaluated.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

use crate::ui::csv::is_formula_like;
use crate::ui::excel::Cell;

/// Widest column, in characters.
const MAX_WIDTH: usize = 60;
/// Longest text a cell holds, in UTF-16 units (Excel's limit); longer text is cut there.
const MAX_CELL_UNITS: usize = 32_767;

/// An output whose bytes so far can be taken while a `SheetWriter` still writes into it: the
/// streamed export sends each page's compressed bytes as they come.
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    /// The bytes written since the last `take`.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Style indexes in `STYLES`' `cellXfs`.
const STYLE_HEADER: u8 = 1;
const STYLE_TEXT: u8 = 2;

/// Column widths in characters: each header's and the widest text below it (CJK characters
/// are about two columns wide), at most `MAX_WIDTH`.
pub fn widths(headers: &[&str], rows: &[Vec<Cell>]) -> Vec<usize> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count() * 2 + 2).collect();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            if let (Cell::Text(s), Some(w)) = (cell, widths.get_mut(c)) {
                let width = s
                    .chars()
                    .map(|ch| if ch.is_ascii() { 1 } else { 2 })
                    .sum::<usize>();
                *w = (*w).max(width + 2);
            }
        }
    }
    widths.iter_mut().for_each(|w| *w = (*w).min(MAX_WIDTH));
    widths
}

/// A sheet being written: `start` it (the lines above the table, the header), add each `row`,
/// then `finish` it.
pub struct SheetWriter<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
    name: String,
    columns: usize,
    /// The next row's index (0-based): the lines above, the header and the rows written so far.
    next: u32,
    /// The header row's index, when there is a header.
    header: Option<u32>,
    /// One row's XML, reused.
    xml: String,
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> SheetWriter<W> {
    /// Start sheet `name` (as Excel allows it: see `sheet_name`) with `preamble` lines (the first
    /// bold) above `headers`, columns `widths` wide.
    pub fn start(
        out: W,
        name: &str,
        preamble: &[String],
        headers: &[&str],
        widths: &[usize],
    ) -> io::Result<Self> {
        let mut zip = ZipWriter::new_stream(out);
        zip.start_file("xl/worksheets/sheet1.xml", deflated())
            .map_err(zip_error)?;
        let top = u32::try_from(preamble.len()).unwrap_or(u32::MAX);
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
             xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
             <sheetViews><sheetView tabSelected=\"1\" workbookViewId=\"0\">",
        );
        // The header (and the lines above it) stay in view.
        let _ = write!(
            xml,
            "<pane ySplit=\"{}\" topLeftCell=\"A{}\" activePane=\"bottomLeft\" state=\"frozen\"/>\
             <selection pane=\"bottomLeft\"/></sheetView></sheetViews>\
             <sheetFormatPr defaultRowHeight=\"15\"/>",
            top + 1,
            top + 2
        );
        if !widths.is_empty() {
            xml.push_str("<cols>");
            for (i, w) in widths.iter().enumerate() {
                // Excel stores a width of n characters (Calibri 11) as its pixels over 7, in
                // 256ths.
                let stored = ((*w as f64 * 7.0 + 5.0) / 7.0 * 256.0).trunc() / 256.0;
                let _ = write!(
                    xml,
                    "<col min=\"{n}\" max=\"{n}\" width=\"{stored}\" customWidth=\"1\"/>",
                    n = i + 1
                );
            }
            xml.push_str("</cols>");
        }
        xml.push_str("<sheetData>");
        zip.write_all(xml.as_bytes())?;
        let mut sheet = Self {
            zip,
            name: sheet_name(name),
            columns: headers.len(),
            next: 0,
            header: None,
            xml,
        };
        for (i, line) in preamble.iter().enumerate() {
            let style = if i == 0 { Some(STYLE_HEADER) } else { None };
            sheet.write_row(&[Cell::Text(line.clone())], style)?;
        }
        if !headers.is_empty() {
            sheet.header = Some(sheet.next);
            let cells: Vec<Cell> = headers.iter().map(|h| Cell::from(*h)).collect();
            sheet.write_row(&cells, Some(STYLE_HEADER))?;
        }
        Ok(sheet)
    }

    /// Add one row below the last.
    pub fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.write_row(cells, None)
    }

    /// Rows written below the header.
    pub fn rows_written(&self) -> u32 {
        self.next - self.header.map_or(0, |h| h + 1)
    }

    fn write_row(&mut self, cells: &[Cell], style: Option<u8>) -> io::Result<()> {
        if self.next >= 1_048_576 {
            return Err(io::Error::other("more rows than an Excel sheet holds"));
        }
        let number = self.next + 1;
        self.xml.clear();
        let _ = write!(self.xml, "<row r=\"{number}\">");
        for (c, cell) in cells.iter().enumerate() {
            let at = format!("{}{number}", column_name(c));
            match cell {
                Cell::Text(s) if s.is_empty() && style.is_none() => {}
                Cell::Text(s) => {
                    let s = within_cell(s);
                    let style = style.or(is_formula_like(s).then_some(STYLE_TEXT));
                    let _ = write!(self.xml, "<c r=\"{at}\"");
                    if let Some(st) = style {
                        let _ = write!(self.xml, " s=\"{st}\"");
                    }
                    self.xml.push_str(" t=\"inlineStr\"><is><t");
                    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
                        self.xml.push_str(" xml:space=\"preserve\"");
                    }
                    self.xml.push('>');
                    escape_into(&mut self.xml, s);
                    self.xml.push_str("</t></is></c>");
                }
                Cell::Int(n) => {
                    let _ = write!(self.xml, "<c r=\"{at}\"><v>{n}</v></c>");
                }
            }
        }
        self.xml.push_str("</row>");
        self.zip.write_all(self.xml.as_bytes())?;
        self.next += 1;
        Ok(())
    }

    /// Close the sheet (its filter over the header and every row), write the other parts and
    /// the zip's directory; the output is complete.
    pub fn finish(mut self) -> io::Result<W> {
        let filter = match (self.header, self.columns) {
            (Some(h), n) if n > 0 => Some(format!(
                "A{}:{}{}",
                h + 1,
                column_name(n - 1),
                self.next.max(h + 1)
            )),
            _ => None,
        };
        let mut tail = String::from("</sheetData>");
        if let Some(range) = &filter {
            let _ = write!(tail, "<autoFilter ref=\"{range}\"/>");
        }
        tail.push_str(
            "<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" \
             footer=\"0.3\"/></worksheet>",
        );
        self.zip.write_all(tail.as_bytes())?;
        let mut workbook = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
             xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
             <bookViews><workbookView/></bookViews><sheets><sheet name=\"",
        );
        escape_into(&mut workbook, &self.name);
        workbook.push_str("\" sheetId=\"1\" r:id=\"rId1\"/></sheets>");
        if let Some(range) = &filter {
            // Excel keeps a filter's range as this hidden name; `$` makes it absolute.
            let absolute: String = range
                .split(':')
                .map(|corner| {
                    let digits = corner.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
                    let (letters, number) = corner.split_at(digits);
                    format!("${letters}${number}")
                })
                .collect::<Vec<_>>()
                .join(":");
            workbook.push_str(
                "<definedNames><definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" \
                 hidden=\"1\">'",
            );
            escape_into(&mut workbook, &self.name.replace('\'', "''"));
            let _ = write!(workbook, "'!{absolute}</definedName></definedNames>");
        }
        workbook.push_str("</workbook>");
        let parts: [(&str, &str); 5] = [
            ("xl/workbook.xml", &workbook),
            ("xl/styles.xml", STYLES),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("_rels/.rels", ROOT_RELS),
            ("[Content_Types].xml", CONTENT_TYPES),
        ];
        for (path, text) in parts {
            self.zip.start_file(path, deflated()).map_err(zip_error)?;
            self.zip.write_all(text.as_bytes())?;
        }
        Ok(self.zip.finish().map_err(zip_error)?.into_inner())
    }
}

/// A sheet name Excel accepts: without `[ ] : * ? / \`, at most 31 characters, not empty.
pub fn sheet_name(name: &str) -> String {
    let name: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    let name = name.trim_matches('\'').to_owned();
    if name.is_empty() {
        "Sheet1".to_owned()
    } else {
        name
    }
}

/// Column letters: 0 → A, 25 → Z, 26 → AA.
fn column_name(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// `s` cut at Excel's cell limit (on a character boundary).
fn within_cell(s: &str) -> &str {
    let mut units = 0;
    for (i, ch) in s.char_indices() {
        units += ch.len_utf16();
        if units > MAX_CELL_UNITS {
            return s.get(..i).unwrap_or(s);
        }
    }
    s
}

/// `s` as XML text the way Excel writes it: `& < >` escaped, control characters (which XML
/// cannot hold) as `_xHHHH_`, and a literal `_xHHHH_` kept literal by escaping its underscore.
fn escape_into(out: &mut String, s: &str) {
    for (i, ch) in s.char_indices() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' => out.push(ch),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {
                let _ = write!(out, "_x{:04X}_", u32::from(ch));
            }
            '_' if s.get(i..).is_some_and(looks_escaped) => out.push_str("_x005F_"),
            _ => out.push(ch),
        }
    }
}

/// Does `s` start with `_xHHHH_`?
fn looks_escaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 7
        && b.starts_with(b"_x")
        && b.get(6) == Some(&b'_')
        && b.get(2..6)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
}

const STYLES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
<fonts count=\"2\"><font><sz val=\"11\"/><color rgb=\"FF000000\"/><name val=\"Calibri\"/><family val=\"2\"/></font>\
<font><b/><sz val=\"11\"/><color rgb=\"FF000000\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>\
<fills count=\"3\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill>\
<fill><patternFill patternType=\"solid\"><fgColor rgb=\"FFE8EEF6\"/><bgColor indexed=\"64\"/></patternFill></fill></fills>\
<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
<cellXfs count=\"3\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
<xf numFmtId=\"0\" fontId=\"1\" fillId=\"2\" borderId=\"0\" xfId=\"0\" applyFont=\"1\" applyFill=\"1\"/>\
<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" quotePrefix=\"1\"/></cellXfs>\
<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
<dxfs count=\"0\"/><tableStyles count=\"0\" defaultTableStyle=\"TableStyleMedium9\" defaultPivotStyle=\"PivotStyleLight16\"/>\
</styleSheet>";

const WORKBOOK_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>\
</Relationships>";

const ROOT_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>\
</Relationships>";

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
<Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>\
</Types>";

#[cfg(test)]
mod tests {
    use super::*;

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut xml).unwrap();
        xml
    }

    #[test]
    fn a_sheet_reads_back_as_written() {
        use calamine::{Data, Reader};
        let rows = vec![
            vec![Cell::from(" 前后有空格 "), Cell::Int(-7), Cell::from("")],
            vec![
                Cell::from("a<b & c>d \"q\""),
                Cell::Int(0),
                Cell::from("_x0041_ 与 \u{1} 与 \u{FFFF}"),
            ],
        ];
        let preamble = vec!["标题".to_owned(), "单位：人".to_owned()];
        let headers = ["名称", "数量", "备注"];
        let mut w = SheetWriter::start(
            Vec::new(),
            "统计/表[1]",
            &preamble,
            &headers,
            &widths(&headers, &rows),
        )
        .unwrap();
        rows.iter().for_each(|r| w.row(r).unwrap());
        assert_eq!(w.rows_written(), 2);
        let bytes = w.finish().unwrap();

        let mut wb =
            calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
        assert_eq!(wb.sheet_names(), vec!["统计表1".to_owned()]);
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(cell(0, 0), Data::String("标题".into()));
        assert_eq!(cell(1, 0), Data::String("单位：人".into()));
        assert_eq!(cell(2, 1), Data::String("数量".into()));
        assert_eq!(cell(3, 0), Data::String(" 前后有空格 ".into()));
        assert_eq!(cell(3, 1), Data::Float(-7.0));
        assert_eq!(cell(3, 2), Data::Empty, "empty text is no cell");
        assert_eq!(cell(4, 0), Data::String("a<b & c>d \"q\"".into()));
        assert_eq!(cell(4, 1), Data::Float(0.0));

        let sheet = part(&bytes, "xl/worksheets/sheet1.xml");
        // Excel's escapes: control characters as _xHHHH_, a literal one kept literal.
        assert!(
            sheet.contains("_x005F_x0041_ 与 _x0001_ 与 _xFFFF_"),
            "{sheet}"
        );
        assert!(sheet.contains("<autoFilter ref=\"A3:C5\"/>"), "{sheet}");
        assert!(
            sheet.contains("<pane ySplit=\"3\" topLeftCell=\"A4\""),
            "{sheet}"
        );
        let workbook = part(&bytes, "xl/workbook.xml");
        assert!(
            workbook.contains(">'统计表1'!$A$3:$C$5</definedName>"),
            "{workbook}"
        );
        for name in [
            "xl/styles.xml",
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/_rels/workbook.xml.rels",
        ] {
            assert!(part(&bytes, name).starts_with("<?xml"), "{name}");
        }
    }

    #[test]
    fn widths_follow_the_widest_text_up_to_a_limit() {
        let rows = vec![
            vec![Cell::from("abcdefghij"), Cell::from("x".repeat(500))],
            vec![Cell::from("湖南省株洲市"), Cell::Int(123_456_789)],
        ];
        assert_eq!(widths(&["名称", "b"], &rows), vec![14, MAX_WIDTH]);
    }

    #[test]
    fn column_names_run_past_z() {
        let names: Vec<String> = [0, 25, 26, 51, 52, 701, 702].map(column_name).to_vec();
        assert_eq!(names, ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn text_longer_than_a_cell_is_cut_at_excels_limit() {
        let long = "好".repeat(MAX_CELL_UNITS + 10);
        assert_eq!(within_cell(&long).chars().count(), MAX_CELL_UNITS);
        // An astral character counts two units and is never split.
        let astral = "𝄞".repeat(MAX_CELL_UNITS);
        assert_eq!(within_cell(&astral).chars().count(), MAX_CELL_UNITS / 2);
        assert_eq!(within_cell("short"), "short");
    }
}
