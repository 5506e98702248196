//! CSV downloads. Every CSV the server writes goes through `Csv`: the `csv` crate quotes what
//! needs quoting (commas, quotes, line breaks), and a cell a spreadsheet would run as a formula
//! is neutralised with a leading `'`.
//!
//! Formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
//! read as a formula by Excel, LibreOffice and others (`=HYPERLINK(…)`, `@SUM(…)`, `-1+2`). Such a
//! cell is written as `'` followed by the text. The one exception is a plain number as the
//! server writes them, an optional `-`, digits and an optional decimal part (`-3`, `12.50`): it
//! stays a number so that figures add up. `+1` is not one of them (the server never writes a
//! `+`), so it is neutralised like any other text.

use std::borrow::Cow;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::http::error::{WebError, WebResult};

/// Whether a spreadsheet would take `cell` as a formula (see the module comment).
pub fn is_formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(cell)
}

/// `-?[0-9]+(\.[0-9]+)?`: a number as the server writes counts and money.
fn is_plain_number(cell: &str) -> bool {
    let unsigned = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

/// `cell` as it is safe to write: prefixed with `'` when it would run as a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if is_formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV file being written: a header, then rows.
pub struct Csv {
    out: csv::Writer<Vec<u8>>,
}

impl Csv {
    pub fn new(header: &[&str]) -> WebResult<Self> {
        let mut csv = Self {
            out: csv::Writer::from_writer(Vec::new()),
        };
        csv.row(header)?;
        Ok(csv)
    }

    /// Add one row; every cell is neutralised.
    pub fn row<I>(&mut self, cells: I) -> WebResult<()>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for cell in cells {
            self.out
                .write_field(neutralise(cell.as_ref()).as_bytes())
                .map_err(csv_error)?;
        }
        // An empty record ends the fields written one by one.
        self.out.write_record(None::<&[u8]>).map_err(csv_error)
    }

    /// The text written so far.
    pub fn finish(self) -> WebResult<String> {
        let bytes = self
            .out
            .into_inner()
            .map_err(|e| WebError::Internal(anyhow::anyhow!("csv: {}", e.error())))?;
        String::from_utf8(bytes).map_err(|e| WebError::Internal(anyhow::anyhow!("csv: {e}")))
    }

    /// The file as a download named `filename` (ASCII).
    pub fn download(self, filename: &str) -> WebResult<Response> {
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            self.finish()?,
        )
            .into_response())
    }
}

fn csv_error(e: csv::Error) -> WebError {
    WebError::Internal(anyhow::anyhow!("csv: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(rows: &[&[&str]]) -> String {
        let (header, rows) = rows.split_first().unwrap();
        let mut csv = Csv::new(header).unwrap();
        for row in rows {
            csv.row(*row).unwrap();
        }
        csv.finish().unwrap()
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://evil.example\",\"x\")"),
            "'=HYPERLINK(\"http://evil.example\",\"x\")"
        );
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-1+2"), "'-1+2");
        assert_eq!(neutralise("@SUM(A1:A9)"), "'@SUM(A1:A9)");
        assert_eq!(neutralise("\t=1"), "'\t=1");
        assert_eq!(neutralise("\r=1"), "'\r=1");
        assert_eq!(neutralise("-"), "'-");
        assert_eq!(neutralise("-.5"), "'-.5");
        assert_eq!(neutralise("1-"), "1-");
    }

    #[test]
    fn plain_numbers_and_text_stay_as_they_are() {
        for cell in [
            "-3",
            "0",
            "42",
            "12.50",
            "-0.01",
            "",
            "建宁站",
            "a=b",
            "2026-05",
        ] {
            assert_eq!(neutralise(cell), cell);
        }
    }

    #[test]
    fn cells_are_quoted_where_they_need_it() {
        assert_eq!(
            written(&[
                &["name", "note"],
                &["a,b", "say \"hi\""],
                &["two\nlines", "=1+1"],
                &["-3", "x"]
            ]),
            "name,note\n\"a,b\",\"say \"\"hi\"\"\"\n\"two\nlines\",'=1+1\n-3,x\n"
        );
    }
}
