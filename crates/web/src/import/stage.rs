//! An uploaded sheet, read once and held between its preview and its commit: the sheet as read
//! (serialised, then sealed, since staff and resident sheets carry identity numbers), the
//! file's name and its SHA-256 for the audit entry, and the column mapping chosen for it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shegong_store::import as staging;

use crate::config::ImportLimits;
use crate::http::auth::CurrentUser;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::import::engine::{Importer, Rows};
use crate::import::limits;
use crate::import::mapping::{self, Mapping};
use crate::import::schema::{ImportError, Schema};
use crate::import::sheet::{self, RawRow, RawSheet};

const STAGING_FIELD: &str = "import_batches.content";

/// A staged sheet, opened.
#[derive(Clone)]
pub struct Staged {
    pub filename: String,
    pub sha256: String,
    pub raw: RawSheet,
    /// The sheet's data rows: `raw.rows.len()`, or more when `raw` holds only what a page
    /// shows of them.
    pub rows: usize,
    /// The mapping chosen in the preview, else the one remembered for these headers, else the
    /// headers' own.
    pub mapping: Mapping,
}

impl Staged {
    /// What a page shows of the sheet, its mapping table (every column, the first rows'
    /// values), without the other rows: the page's copy while a background job has the sheet.
    pub fn shown(&self) -> Staged {
        Staged {
            filename: self.filename.clone(),
            sha256: self.sha256.clone(),
            raw: shown(&self.raw),
            rows: self.rows,
            mapping: self.mapping.clone(),
        }
    }

    /// The rows as the mapping reads them, one at a time, each line as read let go once read.
    pub fn into_rows(self, schema: &'static Schema) -> Rows {
        let Self { raw, mapping, .. } = self;
        Box::new(mapping.into_rows(schema, &raw.headers, raw.rows))
    }
}

/// What a page shows of a sheet: every column, the first rows' values and the widest row (so the
/// mapping table has as many columns as the whole sheet), without the other rows.
fn shown(raw: &RawSheet) -> RawSheet {
    let mut rows: Vec<RawRow> = raw
        .rows
        .iter()
        .take(mapping::SAMPLE_ROWS)
        .cloned()
        .collect();
    let width = |rows: &[RawRow]| rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    if let Some(widest) = raw.rows.iter().max_by_key(|r| r.cells.len())
        && widest.cells.len() > width(&rows)
    {
        rows.push(widest.clone());
    }
    RawSheet {
        sheet: raw.sheet.clone(),
        header_row: raw.header_row,
        headers: raw.headers.clone(),
        rows,
        skipped: raw.skipped.clone(),
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    sha256: String,
    raw: RawSheet,
    /// The sheet's data rows when `raw` holds only what a page shows; absent for a whole sheet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rows: Option<usize>,
}

/// A sheet as read, serialised: the whole of it, and what its page shows (`Staged::shown`),
/// staged side by side so that a page view opens only the second.
pub struct Serialised {
    pub whole: Vec<u8>,
    pub shown: Vec<u8>,
}

/// Read the upload for `schema` (bounded, off the async runtime, see `import::limits`) and
/// serialise the sheet as read, ready to be staged.
pub async fn parse(
    schema: &'static Schema,
    bytes: Vec<u8>,
    limits_: &ImportLimits,
) -> Result<Serialised, ImportError> {
    let owned = limits_.clone();
    limits::bounded(limits_, move || {
        let raw = sheet::read_raw(schema, &bytes, &owned)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let page = Stored {
            sha256: sha256.clone(),
            raw: shown(&raw),
            rows: Some(raw.rows.len()),
        };
        // Plain data of strings and dates: serialising it cannot fail.
        Ok(Serialised {
            shown: serde_json::to_vec(&page).unwrap_or_default(),
            whole: serde_json::to_vec(&Stored {
                sha256,
                raw,
                rows: None,
            })
            .unwrap_or_default(),
        })
    })
    .await
}

/// Who a remembered mapping belongs to: the user's organisation, else their region.
pub fn mapping_owner(user: &CurrentUser) -> String {
    match &user.user.org_id {
        Some(org) => format!("org:{org}"),
        None => format!("region:{}", user.user.region_code),
    }
}

/// Stage the parsed sheet for this user (replacing the one staged before): the batch id.
pub async fn put(
    state: &AppState,
    user: &CurrentUser,
    importer: &dyn Importer,
    filename: &str,
    sheet: &Serialised,
) -> WebResult<String> {
    let whole = state.keys.seal_bytes(STAGING_FIELD, &sheet.whole);
    let shown = state.keys.seal_bytes(STAGING_FIELD, &sheet.shown);
    let mut tx = state.db.begin().await?;
    let batch = staging::stage(
        &mut tx,
        &user.user.id,
        importer.kind(),
        filename,
        (&whole, &shown),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(batch)
}

/// This user's staged sheet, opened; `None` when it is gone (replaced, or imported: then
/// [`staging::result`] has what the import did).
pub async fn get(
    state: &AppState,
    user: &CurrentUser,
    importer: &dyn Importer,
    batch: &str,
) -> WebResult<Option<Staged>> {
    open(state, user, importer, batch, Part::Whole).await
}

/// What a page shows of this user's staged sheet (`Staged::shown`), opened without reading the
/// rest; `None` when it is gone. Enough for the mapping and the batch's page while a check or
/// commit runs or once its check is done, not for checking or writing the rows.
pub async fn get_shown(
    state: &AppState,
    user: &CurrentUser,
    importer: &dyn Importer,
    batch: &str,
) -> WebResult<Option<Staged>> {
    open(state, user, importer, batch, Part::Shown).await
}

enum Part {
    Whole,
    Shown,
}

async fn open(
    state: &AppState,
    user: &CurrentUser,
    importer: &dyn Importer,
    batch: &str,
    part: Part,
) -> WebResult<Option<Staged>> {
    let mut c = state.db.read().await?;
    let (id, kind) = (&user.user.id, importer.kind());
    let read = match part {
        Part::Whole => staging::staged(&mut c, id, kind, batch).await,
        Part::Shown => staging::staged_shown(&mut c, id, kind, batch).await,
    };
    let found = match read {
        Ok(found) if found.result.is_none() => found,
        Ok(_) | Err(shegong_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let bytes = state
        .keys
        .open_bytes(STAGING_FIELD, &found.content)
        .map_err(|e| WebError::Internal(e.into()))?;
    let schema = importer.schema();
    let opened = tokio::task::spawn_blocking(move || serde_json::from_slice::<Stored>(&bytes).ok())
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let Some(stored) = opened else {
        return Ok(None);
    };
    let width = stored.raw.headers.len();
    let chosen = found
        .mapping
        .and_then(|m| serde_json::from_str::<Mapping>(&m).ok());
    let mapping = match chosen {
        Some(m) => m.checked(schema, width),
        None => {
            let owner = mapping_owner(user);
            let signature = mapping::signature(&stored.raw.headers);
            let remembered = staging::remembered(&mut c, &owner, importer.kind(), &signature)
                .await?
                .and_then(|m: String| serde_json::from_str::<Mapping>(&m).ok());
            match remembered {
                Some(m) => m.checked(schema, width),
                None => Mapping::auto(schema, &stored.raw.headers),
            }
        }
    };
    Ok(Some(Staged {
        filename: found.filename,
        sha256: stored.sha256,
        rows: stored.rows.unwrap_or(stored.raw.rows.len()),
        raw: stored.raw,
        mapping,
    }))
}

/// Keep `mapping` for this batch and remember it for the next sheet with the same headers.
pub async fn choose(
    state: &AppState,
    user: &CurrentUser,
    importer: &dyn Importer,
    batch: &str,
    staged: &Staged,
    mapping: &Mapping,
) -> WebResult<()> {
    let json = serde_json::to_string(mapping).map_err(|e| WebError::Internal(e.into()))?;
    let mut tx = state.db.begin().await?;
    staging::set_mapping(&mut tx, &user.user.id, batch, &json).await?;
    staging::remember(
        &mut tx,
        &staging::Remembered {
            owner: &mapping_owner(user),
            kind: importer.kind(),
            signature: &mapping::signature(&staged.raw.headers),
            mapping: &json,
            by: &user.user.id,
        },
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::sheet::{Cell, RawRow, Skip, Skipped};

    #[test]
    fn the_page_copy_keeps_what_the_mapping_table_shows() {
        let row = |number: usize, width: usize| RawRow {
            number,
            cells: (0..width)
                .map(|i| Cell::Text(format!("{number}-{i}")))
                .collect(),
        };
        let mut rows: Vec<RawRow> = (2..200).map(|n| row(n, 2)).collect();
        rows[120] = row(122, 4);
        let staged = Staged {
            filename: "名单.csv".into(),
            sha256: "ab".into(),
            raw: RawSheet {
                sheet: "CSV".into(),
                header_row: 1,
                headers: vec!["姓名".into(), "身份证号".into()],
                rows,
                skipped: Vec::new(),
            },
            rows: 198,
            mapping: Mapping::default(),
        };
        let shown = staged.shown();
        assert_eq!(shown.rows, 198, "the sheet's row count stays");
        assert_eq!(shown.raw.rows.len(), mapping::SAMPLE_ROWS + 1);
        assert_eq!(mapping::samples(&shown.raw), mapping::samples(&staged.raw));
        let widest = |s: &Staged| s.raw.rows.iter().map(|r| r.cells.len()).max();
        assert_eq!(widest(&shown), Some(4));
        assert_eq!(
            (shown.filename, shown.raw.headers, shown.mapping),
            (staged.filename, staged.raw.headers, staged.mapping)
        );
    }

    #[test]
    fn a_staged_sheet_reads_back_as_it_was_read() {
        let raw = RawSheet {
            sheet: "汇总".into(),
            header_row: 2,
            headers: vec!["名称".into(), "".into(), "经费（万元）".into()],
            rows: vec![RawRow {
                number: 3,
                cells: vec![
                    Cell::Text("建宁".into()),
                    Cell::Empty,
                    Cell::Number("1.5".into()),
                    Cell::Date(chrono::NaiveDate::from_ymd_opt(2023, 1, 5).unwrap()),
                    Cell::Error("#N/A".into()),
                ],
            }],
            skipped: vec![Skipped {
                number: 1,
                skip: Skip::AboveHeader,
            }],
        };
        let bytes = serde_json::to_vec(&Stored {
            sha256: "ab".into(),
            raw: raw.clone(),
            rows: None,
        })
        .unwrap();
        let stored: Stored = serde_json::from_slice(&bytes).unwrap();
        assert_eq!((stored.sha256.as_str(), stored.raw), ("ab", raw));
        assert_eq!(stored.rows, None);
    }
}
