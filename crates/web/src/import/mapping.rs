//! Which column of a sheet is imported as which field. The headers a sheet brings are matched to
//! an importer's columns ([`Mapping::auto`]); the user can change any match in the preview and
//! give one value for all rows of a field the sheet lacks ([`Mapping::from_form`]); the mapping
//! is remembered for the next sheet with the same headers ([`signature`]). [`Mapping::rows`]
//! then parses every cell by the field it was mapped to.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::import::cells::parse_cell_with;
use crate::import::header::{self, header_key, match_header};
use crate::import::schema::{CellError, Column, Kind, Parsed, Row, Schema, Value};
use crate::import::sheet::{Cell, RawRow, RawSheet, Skip, Skipped};
use crate::ui::forms::FormData;

/// A sheet's columns as fields of one importer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// For each sheet column by position, the field it is imported as; `None`: not imported.
    pub columns: Vec<Option<String>>,
    /// For fields no column is imported as, one choice code for every row.
    pub defaults: BTreeMap<String, String>,
}

impl Mapping {
    /// Each header matched to the field it names; a field named twice keeps its first column.
    pub fn auto(schema: &Schema, headers: &[String]) -> Self {
        let columns = headers
            .iter()
            .map(|h| match_header(schema, h).map(|m| m.key.to_owned()))
            .collect();
        Self {
            columns,
            defaults: BTreeMap::new(),
        }
        .checked(schema, headers.len())
    }

    /// The mapping the preview's form posts: `column.{i}` = a field key or "" for each sheet
    /// column, `default.{key}` = a choice code or "".
    pub fn from_form(schema: &Schema, width: usize, f: &FormData) -> Self {
        let value = |name: String| f.get(&name).to_owned();
        let columns = (0..width)
            .map(|i| Some(value(format!("column.{i}"))).filter(|k| !k.is_empty()))
            .collect();
        let defaults = schema
            .columns
            .iter()
            .map(|c| (c.key.to_owned(), value(format!("default.{}", c.key))))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Self { columns, defaults }.checked(schema, width)
    }

    /// Only fields of `schema`, each imported from one column at most (the first), exactly
    /// `width` columns, and defaults only for choice fields no column gives, with a valid code.
    pub fn checked(mut self, schema: &Schema, width: usize) -> Self {
        self.columns.resize(width, None);
        let mut taken = Vec::new();
        for slot in &mut self.columns {
            let keep = slot
                .as_deref()
                .is_some_and(|k| schema.column(k).is_some() && !taken.contains(&k.to_owned()));
            match slot {
                Some(k) if keep => taken.push(k.clone()),
                _ => *slot = None,
            }
        }
        self.defaults.retain(|key, code| {
            !taken.contains(key) && schema.column(key).and_then(|c| choice(c, code)).is_some()
        });
        self
    }

    /// The sheet column imported as `key`.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.as_deref() == Some(key))
    }

    /// Every data row read by the mapping: each mapped cell parsed by its field, each default
    /// given, each required field without a value an error on its row. A row with nothing in
    /// any imported column is set aside.
    pub fn rows(&self, schema: &'static Schema, raw: &RawSheet) -> Parsed {
        let reading = Reading::new(self, schema, &raw.headers);
        let unknown_headers = raw
            .headers
            .iter()
            .enumerate()
            .filter(|(i, h)| !h.is_empty() && self.columns.get(*i).is_none_or(Option::is_none))
            .map(|(_, h)| h.clone())
            .collect();
        Parsed {
            sheet: raw.sheet.clone(),
            header_row: raw.header_row,
            rows: raw.rows.iter().filter_map(|r| reading.row(r)).collect(),
            unknown_headers,
            skipped: self.skipped(schema, raw),
        }
    }

    /// [`Mapping::rows`] one row at a time, each line as read let go once it is read: a big
    /// sheet is then never held twice, as read and as parsed.
    pub fn into_rows(
        &self,
        schema: &'static Schema,
        headers: &[String],
        rows: Vec<RawRow>,
    ) -> impl Iterator<Item = Row> + Send + 'static {
        let reading = Reading::new(self, schema, headers);
        rows.into_iter().filter_map(move |r| reading.row(&r))
    }

    /// The lines not imported, in order: those the sheet's reader set aside and those with
    /// nothing in any imported column.
    pub fn skipped(&self, schema: &'static Schema, raw: &RawSheet) -> Vec<Skipped> {
        let reading = Reading::new(self, schema, &raw.headers);
        let mut skipped = raw.skipped.clone();
        skipped.extend(
            raw.rows
                .iter()
                .filter(|r| !reading.imported(r))
                .map(|r| Skipped {
                    number: r.number,
                    skip: Skip::NothingImported,
                }),
        );
        skipped.sort_by_key(|s| s.number);
        skipped
    }
}

/// How a mapping reads the lines of one sheet: for each of the importer's columns, the sheet
/// column it comes from, the unit its header states and the value given for every row.
struct Reading {
    schema: &'static Schema,
    positions: Vec<Option<usize>>,
    units: Vec<Option<header::Unit>>,
    defaults: Vec<Option<Value>>,
}

impl Reading {
    fn new(mapping: &Mapping, schema: &'static Schema, headers: &[String]) -> Self {
        let positions: Vec<Option<usize>> = schema
            .columns
            .iter()
            .map(|c| mapping.position(c.key))
            .collect();
        // The unit each column's header states, where it fits the field ("配备资金（万元）").
        let units = schema
            .columns
            .iter()
            .zip(&positions)
            .map(|(c, p)| {
                let h = headers.get((*p)?)?;
                header::unit_in(h).filter(|u| u.fits(c.kind))
            })
            .collect();
        let defaults = schema
            .columns
            .iter()
            .map(|c| {
                let code = mapping.defaults.get(c.key)?;
                choice(c, code).map(Value::Code)
            })
            .collect();
        Self {
            schema,
            positions,
            units,
            defaults,
        }
    }

    /// The line's cell for each of the importer's columns.
    fn cells<'r>(&self, r: &'r RawRow) -> Vec<&'r Cell> {
        self.positions
            .iter()
            .map(|p| p.and_then(|p| r.cells.get(p)).unwrap_or(&Cell::Empty))
            .collect()
    }

    /// Whether the line has something in an imported column.
    fn imported(&self, r: &RawRow) -> bool {
        self.any_imported(&self.cells(r))
    }

    /// Whether any of the line's cells (as [`Reading::cells`] gives them) is in an imported
    /// column and not empty.
    fn any_imported(&self, cells: &[&Cell]) -> bool {
        self.positions
            .iter()
            .zip(cells)
            .any(|(p, c)| p.is_some() && **c != Cell::Empty)
    }

    /// The line read, or `None` when it has nothing in any imported column.
    fn row(&self, r: &RawRow) -> Option<Row> {
        let cells = self.cells(r);
        if !self.any_imported(&cells) {
            return None;
        }
        let mut row = Row {
            number: r.number,
            values: BTreeMap::new(),
            errors: Vec::new(),
        };
        let fields = self.schema.columns.iter().zip(&self.units).zip(&cells);
        for (((column, unit), cell), default) in fields.zip(&self.defaults) {
            let parsed = match default {
                Some(v) if **cell == Cell::Empty => Ok(Some(v.clone())),
                _ => parse_cell_with(column, *unit, cell),
            };
            match parsed {
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
        Some(row)
    }
}

/// The choice code `code` names in a choice column.
fn choice(column: &Column, code: &str) -> Option<&'static str> {
    match column.kind {
        Kind::Choice(choices) => choices.iter().find(|(c, _)| *c == code).map(|(c, _)| *c),
        _ => None,
    }
}

/// What identifies a sheet's layout: its headers, normalised, hashed. Sheets with the same
/// headers in the same order get the same remembered mapping.
pub fn signature(headers: &[String]) -> String {
    let mut hash = Sha256::new();
    for h in headers {
        hash.update(header_key(h).as_bytes());
        hash.update([0x1f]);
    }
    hex::encode(hash.finalize())
}

/// The rows the mapping table takes its values from.
pub const SAMPLE_ROWS: usize = 50;

/// Up to three values of each sheet column, for the mapping table.
pub fn samples(raw: &RawSheet) -> HashMap<usize, Vec<String>> {
    let mut out: HashMap<usize, Vec<String>> = HashMap::new();
    for r in raw.rows.iter().take(SAMPLE_ROWS) {
        for (i, c) in r.cells.iter().enumerate() {
            let shown = out.entry(i).or_default();
            if *c != Cell::Empty && shown.len() < 3 {
                shown.push(c.display());
            }
        }
    }
    out
}
