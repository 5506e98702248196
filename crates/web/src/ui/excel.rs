//! Excel export: one formatted sheet (bold frozen header, filters, sensible widths) from rows of
//! text and numbers. Import lives with the capabilities that need it.
//!
//! Text is written as string cells (`write_string`), which Excel never evaluates; no export writes
//! a formula. A text cell that would read as a formula once edited or saved as CSV (see
//! `ui::csv::is_formula_like`) also gets Excel's quote prefix: it shows as written and stays text.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook};

use shegong_domain::Permission;
use shegong_store::admin::audit::{self, Change, Event};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::csv::is_formula_like;

pub enum Cell {
    Text(String),
    Int(i64),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}
impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

/// Most rows one export may hold; a filter narrows anything larger.
pub const MAX_ROWS: i64 = 100_000;

pub fn workbook(sheet: &str, headers: &[&str], rows: &[Vec<Cell>]) -> WebResult<Vec<u8>> {
    titled_workbook(sheet, &[], headers, rows)
}

/// A sheet whose first rows say what it is (`preamble`: a title, the unit, the period, when it
/// was generated), then the header and the rows.
pub fn titled_workbook(
    sheet: &str,
    preamble: &[String],
    headers: &[&str],
    rows: &[Vec<Cell>],
) -> WebResult<Vec<u8>> {
    let err = |e: rust_xlsxwriter::XlsxError| WebError::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(err)?;
    let bold = Format::new().set_bold().set_background_color("#E8EEF6");
    let as_text = Format::new().set_quote_prefix();
    let plain = Format::new();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count() * 2 + 2).collect();
    let top = preamble.len() as u32;
    for (i, line) in preamble.iter().enumerate() {
        let f = if i == 0 { &bold } else { &plain };
        ws.write_string_with_format(i as u32, 0, line, f)
            .map_err(err)?;
    }
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(top, c as u16, *h, &bold)
            .map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (row_i, col_i) = (top + r as u32 + 1, c as u16);
            match cell {
                Cell::Text(s) => {
                    if is_formula_like(s) {
                        ws.write_string_with_format(row_i, col_i, s, &as_text)
                            .map_err(err)?;
                    } else {
                        ws.write_string(row_i, col_i, s).map_err(err)?;
                    }
                    if let Some(w) = widths.get_mut(c) {
                        // CJK characters are about two columns wide.
                        let width = s
                            .chars()
                            .map(|ch| if ch.is_ascii() { 1 } else { 2 })
                            .sum::<usize>();
                        *w = (*w).max(width + 2);
                    }
                }
                Cell::Int(n) => {
                    ws.write_number(row_i, col_i, *n as f64).map_err(err)?;
                }
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w).min(60) as f64)
            .map_err(err)?;
    }
    ws.set_freeze_panes(top + 1, 0).map_err(err)?;
    if !headers.is_empty() {
        ws.autofilter(top, 0, top + rows.len() as u32, headers.len() as u16 - 1)
            .map_err(err)?;
    }
    wb.save_to_buffer().map_err(err)
}

/// An attachment response. `filename` may contain Chinese (RFC 5987 encoding).
pub fn download(filename: &str, bytes: Vec<u8>) -> Response {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = crate::http::render::urlencode(filename).replace('+', "%20");
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A permitted export. Only `Export::check` makes one, after checking the caller's permission,
/// and only `send` spends it, filing the audit entry with the file: an export handler can forget
/// neither.
pub struct Export<'a> {
    user: &'a CurrentUser,
    entity: &'static str,
}

impl<'a> Export<'a> {
    /// An export of `entity` records, if the caller holds `permission`.
    pub fn check(ctx: &'a Ctx, entity: &'static str, permission: Permission) -> WebResult<Self> {
        let user = ctx.user()?;
        user.require(permission)?;
        Ok(Self { user, entity })
    }

    /// The caller, whose scope the rows are read in.
    pub fn user(&self) -> &'a CurrentUser {
        self.user
    }

    /// Send the list: one sheet titled by `title_key`, an audit entry (`export` of the entity with
    /// the row count and any `notes`), then the file.
    pub async fn send(
        self,
        state: &AppState,
        ctx: &Ctx,
        title_key: &str,
        headers: &[&str],
        rows: &[Vec<Cell>],
        notes: Vec<Change>,
    ) -> WebResult<Response> {
        let t = ctx.tr();
        let title = t.get(title_key);
        let bytes = workbook(title, headers, rows)?;
        let mut changes = vec![Change::new("rows", None::<String>, Some(rows.len()))];
        changes.extend(notes);
        let mut tx = state.db.begin().await?;
        audit::record(
            &mut tx,
            state.db.backend(),
            &ctx.actor(),
            Event::new("export", self.entity, None).changes(changes),
            state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(download(&format!("{title}.xlsx"), bytes))
    }

    /// Send one titled sheet (`Sheet`: its file name, sheet name, the lines above the table),
    /// audited like `send`.
    pub async fn send_sheet(
        self,
        state: &AppState,
        ctx: &Ctx,
        sheet: Sheet<'_>,
        notes: Vec<Change>,
    ) -> WebResult<Response> {
        let name: String = sheet
            .name
            .chars()
            .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
            .take(31)
            .collect();
        let bytes = titled_workbook(&name, sheet.preamble, sheet.headers, sheet.rows)?;
        let mut changes = vec![Change::new("rows", None::<String>, Some(sheet.rows.len()))];
        changes.extend(notes);
        let mut tx = state.db.begin().await?;
        audit::record(
            &mut tx,
            state.db.backend(),
            &ctx.actor(),
            Event::new("export", self.entity, None).changes(changes),
            state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(download(&format!("{}.xlsx", sheet.file), bytes))
    }
}

/// A titled sheet: the file's name (without `.xlsx`), the sheet's name, the lines above the
/// table (title, unit, period, generated time), the header and the rows.
pub struct Sheet<'a> {
    pub file: &'a str,
    pub name: &'a str,
    pub preamble: &'a [String],
    pub headers: &'a [&'a str],
    pub rows: &'a [Vec<Cell>],
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sheet's XML as text.
    fn sheet_xml(bytes: Vec<u8>) -> String {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
            &mut xml,
        )
        .unwrap();
        xml
    }

    #[test]
    fn text_that_looks_like_a_formula_stays_text() {
        let rows = vec![
            vec![
                Cell::from("=HYPERLINK(\"http://evil.example\")"),
                Cell::Int(-3),
            ],
            vec![Cell::from("@SUM(A1:A2)"), Cell::from("plain")],
        ];
        let xml = sheet_xml(workbook("t", &["a", "b"], &rows).unwrap());
        assert!(!xml.contains("<f>"), "no formula in the sheet: {xml}");
        // Both formula-like cells are strings (t="s") with the quote-prefix style; "plain" is not.
        let styled = |r: &str| {
            xml.split("<c ")
                .find(|c| c.starts_with(&format!("r=\"{r}\"")))
                .unwrap()
                .to_owned()
        };
        assert!(styled("A2").contains("t=\"s\"") && styled("A2").contains(" s=\""));
        assert!(styled("A3").contains("t=\"s\"") && styled("A3").contains(" s=\""));
        assert!(styled("B3").contains("t=\"s\"") && !styled("B3").contains(" s=\""));
        assert!(!styled("B2").contains("t=\"s\""), "a number stays a number");
    }
}
