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
    /// The mapping chosen in the preview, else the one remembered for these headers, else the
    /// headers' own.
    pub mapping: Mapping,
}

impl Staged {
    /// What a page shows of the sheet, its mapping table (every column, the first rows'
    /// values), without the other rows: the page's copy while a background job has the sheet.
    pub fn shown(&self) -> Staged {
        let raw = &self.raw;
        let mut rows: Vec<RawRow> = raw
            .rows
            .iter()
            .take(mapping::SAMPLE_ROWS)
            .cloned()
            .collect();
        let width = |rows: &[RawRow]| rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
        // The widest row, so the table has as many columns as the whole sheet.
        if let Some(widest) = raw.rows.iter().max_by_key(|r| r.cells.len())
            && widest.cells.len() > width(&rows)
        {
            rows.push(widest.clone());
        }
        Staged {
            filename: self.filename.clone(),
            sha256: self.sha256.clone(),
            raw: RawSheet {
                sheet: raw.sheet.clone(),
                header_row: raw.header_row,
                headers: raw.headers.clone(),
                rows,
                skipped: raw.skipped.clone(),
            },
            mapping: self.mapping.clone(),
        }
    }

    /// The rows as the mapping reads them, one at a time, each line as read let go once read.
    pub fn into_rows(self, schema: &'static Schema) -> Rows {
        let Self { raw, mapping, .. } = self;
        Box::new(mapping.into_rows(schema, &raw.headers, raw.rows))
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    sha256: String,
    raw: RawSheet,
}

/// Read the upload for `schema` (bounded, off the async runtime, see `import::limits`) and
/// serialise the sheet as read, ready to be staged.
pub async fn parse(
    schema: &'static Schema,
    bytes: Vec<u8>,
    limits_: &ImportLimits,
) -> Result<Vec<u8>, ImportError> {
    let owned = limits_.clone();
    limits::bounded(limits_, move || {
        let raw = sheet::read_raw(schema, &bytes, &owned)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        // Plain data of strings and dates: serialising it cannot fail.
        Ok(serde_json::to_vec(&Stored { sha256, raw }).unwrap_or_default())
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

/// This user's staged sheet, opened; `None` when it is gone (replaced, or imported: then
/// [`staging::result`] has what the import did).
pub async fn get(
    state: &AppState,
    user: &CurrentUser,
    importer: &dyn Importer,
    batch: &str,
) -> WebResult<Option<Staged>> {
    let mut c = state.db.read().await?;
    let found = match staging::staged(&mut c, &user.user.id, importer.kind(), batch).await {
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
            mapping: Mapping::default(),
        };
        let shown = staged.shown();
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
        })
        .unwrap();
        let stored: Stored = serde_json::from_slice(&bytes).unwrap();
        assert_eq!((stored.sha256.as_str(), stored.raw), ("ab", raw));
    }
}
