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
use crate::import::sheet::{Cell, RawSheet, Skip, Skipped};
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
        let positions: Vec<Option<usize>> = schema
            .columns
            .iter()
            .map(|c| self.position(c.key))
            .collect();
        // The unit each column's header states, where it fits the field ("配备资金（万元）").
        let units: Vec<Option<header::Unit>> = schema
            .columns
            .iter()
            .zip(&positions)
            .map(|(c, p)| {
                let h = raw.headers.get((*p)?)?;
                header::unit_in(h).filter(|u| u.fits(c.kind))
            })
            .collect();
        let defaults: Vec<Option<Value>> = schema
            .columns
            .iter()
            .map(|c| {
                let code = self.defaults.get(c.key)?;
                choice(c, code).map(Value::Code)
            })
            .collect();
        let mut rows = Vec::with_capacity(raw.rows.len());
        let mut skipped = raw.skipped.clone();
        for r in &raw.rows {
            let cells: Vec<&Cell> = positions
                .iter()
                .map(|p| p.and_then(|p| r.cells.get(p)).unwrap_or(&Cell::Empty))
                .collect();
            let imported = positions
                .iter()
                .zip(&cells)
                .any(|(p, c)| p.is_some() && **c != Cell::Empty);
            if !imported {
                skipped.push(Skipped {
                    number: r.number,
                    skip: Skip::NothingImported,
                });
                continue;
            }
            let mut row = Row {
                number: r.number,
                values: BTreeMap::new(),
                errors: Vec::new(),
            };
            let fields = schema.columns.iter().zip(&units).zip(&cells).zip(&defaults);
            for (((column, unit), cell), default) in fields {
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
            rows.push(row);
        }
        skipped.sort_by_key(|s| s.number);
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
            rows,
            unknown_headers,
            skipped,
        }
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

/// Up to three values of each sheet column, for the mapping table.
pub fn samples(raw: &RawSheet) -> HashMap<usize, Vec<String>> {
    let mut out: HashMap<usize, Vec<String>> = HashMap::new();
    for r in raw.rows.iter().take(50) {
        for (i, c) in r.cells.iter().enumerate() {
            let shown = out.entry(i).or_default();
            if *c != Cell::Empty && shown.len() < 3 {
                shown.push(c.display());
            }
        }
    }
    out
}
