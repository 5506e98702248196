//! An uploaded sheet, parsed once and held between its preview and its commit: the rows as read
//! (serialised, then sealed, since staff and resident sheets carry identity numbers), the
//! file's name and its SHA-256 for the audit entry.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shegong_store::import as staging;

use crate::config::ImportLimits;
use crate::http::auth::CurrentUser;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::import::engine::Importer;
use crate::import::limits;
use crate::import::schema::{CELL_CODES, CellError, ImportError, Kind, Parsed, Row, Schema, Value};
use crate::import::sheet;

const STAGING_FIELD: &str = "import_batches.content";

/// A staged sheet, opened.
pub struct Staged {
    pub filename: String,
    pub sha256: String,
    pub parsed: Parsed,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    sha256: String,
    sheet: String,
    header_row: usize,
    unknown_headers: Vec<String>,
    rows: Vec<StoredRow>,
}

#[derive(Serialize, Deserialize)]
struct StoredRow {
    number: usize,
    values: Vec<(String, StoredValue)>,
    /// (column key, message key, cell text)
    errors: Vec<(String, String, String)>,
}

#[derive(Serialize, Deserialize)]
enum StoredValue {
    Text(String),
    Int(i64),
    Fen(i64),
    Area(i64),
    Decimal(f64),
    Date(NaiveDate),
    Month(i32, u32),
    Code(String),
}

/// Parse the upload for `schema` (bounded, off the async runtime, see `import::limits`) and
/// serialise what was read, ready to be staged.
pub async fn parse(
    schema: &'static Schema,
    bytes: Vec<u8>,
    limits_: &ImportLimits,
) -> Result<Vec<u8>, ImportError> {
    let owned = limits_.clone();
    limits::bounded(limits_, move || {
        let parsed = sheet::read_with(schema, &bytes, &owned)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        // Plain data of strings and numbers: serialising it cannot fail.
        Ok(serde_json::to_vec(&Stored::new(sha256, parsed)).unwrap_or_default())
    })
    .await
}

impl Stored {
    fn new(sha256: String, parsed: Parsed) -> Self {
        let rows = parsed
            .rows
            .into_iter()
            .map(|r| StoredRow {
                number: r.number,
                values: r
                    .values
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), StoredValue::from(v)))
                    .collect(),
                errors: r
                    .errors
                    .into_iter()
                    .map(|e| (e.column.to_owned(), e.code.to_owned(), e.raw))
                    .collect(),
            })
            .collect();
        Self {
            sha256,
            sheet: parsed.sheet,
            header_row: parsed.header_row,
            unknown_headers: parsed.unknown_headers,
            rows,
        }
    }

    /// Back to rows of `schema`; `None` if it was staged for another schema or version.
    fn open(self, schema: &'static Schema) -> Option<(String, Parsed)> {
        let rows = self
            .rows
            .into_iter()
            .map(|r| r.open(schema))
            .collect::<Option<Vec<Row>>>()?;
        Some((
            self.sha256,
            Parsed {
                sheet: self.sheet,
                header_row: self.header_row,
                rows,
                unknown_headers: self.unknown_headers,
            },
        ))
    }
}

impl StoredRow {
    fn open(self, schema: &'static Schema) -> Option<Row> {
        let mut row = Row {
            number: self.number,
            values: Default::default(),
            errors: Vec::new(),
        };
        for (key, value) in self.values {
            let column = schema.columns.iter().find(|c| c.key == key)?;
            row.values.insert(column.key, value.open(column.kind)?);
        }
        for (key, code, raw) in self.errors {
            let column = match schema.columns.iter().find(|c| c.key == key) {
                Some(c) => c.key,
                None if key.is_empty() => "",
                None => return None,
            };
            let code = CELL_CODES.iter().find(|c| **c == code)?;
            row.errors.push(CellError { column, code, raw });
        }
        Some(row)
    }
}

impl From<Value> for StoredValue {
    fn from(v: Value) -> Self {
        match v {
            Value::Text(s) => StoredValue::Text(s),
            Value::Int(n) => StoredValue::Int(n),
            Value::Fen(n) => StoredValue::Fen(n),
            Value::Area(n) => StoredValue::Area(n),
            Value::Decimal(d) => StoredValue::Decimal(d),
            Value::Date(d) => StoredValue::Date(d),
            Value::Month(y, m) => StoredValue::Month(y, m),
            Value::Code(c) => StoredValue::Code(c.to_owned()),
        }
    }
}

impl StoredValue {
    /// The value, with a choice's code taken from the column's own list.
    fn open(self, kind: Kind) -> Option<Value> {
        Some(match self {
            StoredValue::Text(s) => Value::Text(s),
            StoredValue::Int(n) => Value::Int(n),
            StoredValue::Fen(n) => Value::Fen(n),
            StoredValue::Area(n) => Value::Area(n),
            StoredValue::Decimal(d) => Value::Decimal(d),
            StoredValue::Date(d) => Value::Date(d),
            StoredValue::Month(y, m) => Value::Month(y, m),
            StoredValue::Code(c) => match kind {
                Kind::Choice(choices) => Value::Code(choices.iter().find(|(k, _)| *k == c)?.0),
                _ => return None,
            },
        })
    }
}

/// Stage the parsed sheet for this user (replacing the one staged before): the batch id.
pub async fn put(
    state: &AppState,
    user: &CurrentUser,
    importer: &dyn Importer,
    filename: &str,
    stored: &[u8],
) -> WebResult<String> {
    let sealed = state.keys.seal_bytes(STAGING_FIELD, stored);
    let mut tx = state.db.begin().await?;
    let batch = staging::stage(
        &mut tx,
        &user.user.id,
        importer.kind(),
        filename,
        &sealed,
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(batch)
}

/// This user's staged sheet, opened; `None` when it is gone (already imported or replaced).
pub async fn get(
    state: &AppState,
    user: &CurrentUser,
    importer: &dyn Importer,
    batch: &str,
) -> WebResult<Option<Staged>> {
    let mut c = state.db.read().await?;
    let (filename, sealed) =
        match staging::staged(&mut c, &user.user.id, importer.kind(), batch).await {
            Ok(found) => found,
            Err(shegong_store::StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
    drop(c);
    let bytes = state
        .keys
        .open_bytes(STAGING_FIELD, &sealed)
        .map_err(|e| WebError::Internal(e.into()))?;
    let schema = importer.schema();
    let opened = tokio::task::spawn_blocking(move || {
        serde_json::from_slice::<Stored>(&bytes)
            .ok()
            .and_then(|s| s.open(schema))
    })
    .await
    .map_err(|e| WebError::Internal(e.into()))?;
    Ok(opened.map(|(sha256, parsed)| Staged {
        filename,
        sha256,
        parsed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::schema::{Column, col};

    const STATUS: &[(&str, &[&str])] = &[("built", &["已建成"])];
    static COLUMNS: &[Column] = &[
        col!(
            "name",
            "名称",
            "Name",
            [],
            true,
            Kind::Text { max_chars: 20 },
            "",
            ""
        ),
        col!(
            "status",
            "状态",
            "Status",
            [],
            false,
            Kind::Choice(STATUS),
            "",
            ""
        ),
        col!("funding", "经费", "Funding", [], false, Kind::Money, "", ""),
        col!("opened", "日期", "Opened", [], false, Kind::Date, "", ""),
    ];
    static SCHEMA: Schema = Schema {
        name_zh: "站",
        name_en: "Stations",
        columns: COLUMNS,
    };

    fn parsed() -> Parsed {
        let row = Row {
            number: 3,
            values: [
                ("name", Value::Text("建宁".into())),
                ("status", Value::Code("built")),
                ("funding", Value::Fen(1_500_000)),
                (
                    "opened",
                    Value::Date(NaiveDate::from_ymd_opt(2023, 1, 5).unwrap()),
                ),
            ]
            .into_iter()
            .collect(),
            errors: vec![CellError {
                column: "funding",
                code: "import.negative",
                raw: "-1".into(),
            }],
        };
        Parsed {
            sheet: "汇总".into(),
            header_row: 2,
            rows: vec![row],
            unknown_headers: vec!["备注".into()],
        }
    }

    #[test]
    fn a_staged_sheet_reads_back_as_it_was_parsed() {
        let bytes = serde_json::to_vec(&Stored::new("ab".into(), parsed())).unwrap();
        let stored: Stored = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(stored.open(&SCHEMA), Some(("ab".to_owned(), parsed())));
    }

    #[test]
    fn rows_of_another_schema_do_not_open() {
        static OTHER: Schema = Schema {
            name_zh: "别的",
            name_en: "Other",
            columns: &[],
        };
        let stored = Stored::new(String::new(), parsed());
        assert!(stored.open(&OTHER).is_none());
    }
}
