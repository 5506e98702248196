//! Bounded reading of uploaded spreadsheets: limits on the container, the sheet and the time.
//!
//! An xlsx of 1.7 KB with one cell at XFD1048576 made calamine's `worksheet_range` allocate the
//! whole grid (512 GiB) and the process abort; a zip bomb of 1 MB cost 1 GB. So, in order:
//! the file size is checked; a zip container (xlsx, xlsb, ods) has its entry count, declared
//! sizes and compression ratios checked, then every entry is inflated into a counter to prove the
//! declared sizes true (nothing is kept); xlsx/xlsb sheets are streamed cell by cell
//! ([`Budget::cell`]) instead of being built as a grid; every loop watches a deadline; and
//! parsing runs on a blocking thread behind a process-wide semaphore ([`bounded`]), so that a
//! panic is an error response and concurrent uploads cannot multiply the memory.
//! The configuration lives in [`ImportLimits`]; what stays unbounded is in
//! docs/configuration.md.

use std::io::{Cursor, Read};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use crate::config::ImportLimits;
use crate::import::schema::ImportError;
use crate::ui::i18n::Tr;

/// Entries smaller than this are not held to the ratio: short, repetitive XML parts (styles,
/// content types) legitimately compress far better than sheet data.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Why an upload was refused before or while it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    FileBytes {
        found: u64,
        max: u64,
    },
    ZipEntries {
        found: u64,
        max: u64,
    },
    EntryBytes {
        entry: String,
        found: u64,
        max: u64,
    },
    Uncompressed {
        found: u64,
        max: u64,
    },
    /// Compression ratio of an entry (uncompressed ÷ compressed, rounded down).
    Ratio {
        entry: String,
        found: u64,
        max: u64,
    },
    /// The entry inflates to more than its header declares: a lie meant to pass the checks.
    SizeMismatch {
        entry: String,
        declared: u64,
    },
    /// An xlsx sheet's `<dimension>`, as rows and columns from A1.
    Declared {
        sheet: String,
        rows: u64,
        columns: u64,
        max_rows: u64,
        max_columns: u64,
    },
    /// The area an xlsx sheet declares, in cells.
    DeclaredCells {
        sheet: String,
        found: u64,
        max: u64,
    },
    /// A parsed (xls, ods) sheet's range, as rows and columns from A1.
    Range {
        sheet: String,
        rows: u64,
        columns: u64,
        max_rows: u64,
        max_columns: u64,
    },
    /// A cell beyond the row or column limit, e.g. "XFD1048576".
    CellOutside {
        cell: String,
        max_rows: u64,
        max_columns: u64,
    },
    Cells {
        max: u64,
    },
    /// CSV: more records than the row limit.
    Rows {
        max: u64,
    },
    /// CSV: a record with more fields than the column limit (1-based record number).
    Columns {
        row: u64,
        found: u64,
        max: u64,
    },
    Time {
        seconds: u64,
    },
    /// Every parse slot stayed taken for the whole wait.
    Busy,
    /// The reader panicked on this file.
    Crashed,
}

impl Refusal {
    /// 413 for what is too large (or too long to read), 422 for a container that lies or is a
    /// bomb, 503 when the server is busy.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Ratio { .. } | Refusal::SizeMismatch { .. } | Refusal::Crashed => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Refusal::Busy => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Refusal::FileBytes { .. } => "import.limit.file_bytes",
            Refusal::ZipEntries { .. } => "import.limit.zip_entries",
            Refusal::EntryBytes { .. } => "import.limit.entry_bytes",
            Refusal::Uncompressed { .. } => "import.limit.uncompressed",
            Refusal::Ratio { .. } => "import.limit.ratio",
            Refusal::SizeMismatch { .. } => "import.limit.size_mismatch",
            Refusal::Declared { .. } => "import.limit.declared",
            Refusal::DeclaredCells { .. } => "import.limit.declared_cells",
            Refusal::Range { .. } => "import.limit.range",
            Refusal::CellOutside { .. } => "import.limit.cell_outside",
            Refusal::Cells { .. } => "import.limit.cells",
            Refusal::Rows { .. } => "import.limit.rows",
            Refusal::Columns { .. } => "import.limit.columns",
            Refusal::Time { .. } => "import.limit.time",
            Refusal::Busy => "import.limit.busy",
            Refusal::Crashed => "import.limit.crashed",
        }
    }

    /// The message naming the limit and the value found.
    pub fn message(&self, t: &Tr) -> String {
        let n = |v: &u64| grouped(*v);
        let args: Vec<(&str, String)> = match self {
            Refusal::FileBytes { found, max } | Refusal::Uncompressed { found, max } => {
                vec![("found", bytes(*found)), ("max", bytes(*max))]
            }
            Refusal::ZipEntries { found, max } => vec![("found", n(found)), ("max", n(max))],
            Refusal::EntryBytes { entry, found, max } => vec![
                ("entry", entry.clone()),
                ("found", bytes(*found)),
                ("max", bytes(*max)),
            ],
            Refusal::Ratio { entry, found, max } => {
                vec![
                    ("entry", entry.clone()),
                    ("found", n(found)),
                    ("max", n(max)),
                ]
            }
            Refusal::SizeMismatch { entry, declared } => {
                vec![("entry", entry.clone()), ("declared", bytes(*declared))]
            }
            Refusal::Declared {
                sheet,
                rows,
                columns,
                max_rows,
                max_columns,
            }
            | Refusal::Range {
                sheet,
                rows,
                columns,
                max_rows,
                max_columns,
            } => vec![
                ("sheet", sheet.clone()),
                ("rows", n(rows)),
                ("columns", n(columns)),
                ("max_rows", n(max_rows)),
                ("max_columns", n(max_columns)),
            ],
            Refusal::DeclaredCells { sheet, found, max } => {
                vec![
                    ("sheet", sheet.clone()),
                    ("found", n(found)),
                    ("max", n(max)),
                ]
            }
            Refusal::CellOutside {
                cell,
                max_rows,
                max_columns,
            } => vec![
                ("cell", cell.clone()),
                ("max_rows", n(max_rows)),
                ("max_columns", n(max_columns)),
            ],
            Refusal::Cells { max } | Refusal::Rows { max } => vec![("max", n(max))],
            Refusal::Columns { row, found, max } => {
                vec![("row", n(row)), ("found", n(found)), ("max", n(max))]
            }
            Refusal::Time { seconds } => vec![("seconds", n(seconds))],
            Refusal::Busy | Refusal::Crashed => vec![],
        };
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        t.fmt(self.code(), &args)
    }
}

impl From<Refusal> for ImportError {
    fn from(r: Refusal) -> Self {
        ImportError::Refused(r)
    }
}

/// 1048576 → "1,048,576".
fn grouped(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count as people read it: "1,733 B", "200.0 MB".
fn bytes(v: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if v >= MB {
        format!("{:.1} MB", v as f64 / MB as f64)
    } else if v >= KB {
        format!("{:.1} KB", v as f64 / KB as f64)
    } else {
        format!("{} B", grouped(v))
    }
}

/// Column index (0-based) → Excel letters: 0 → "A", 16383 → "XFD".
fn column_name(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// The limits of one read and what it has used so far.
pub(crate) struct Budget<'a> {
    pub limits: &'a ImportLimits,
    deadline: Instant,
    cells: u64,
}

impl<'a> Budget<'a> {
    /// The clock starts now: on the blocking thread, not while waiting for a slot.
    pub fn new(limits: &'a ImportLimits) -> Self {
        Self {
            limits,
            deadline: Instant::now() + Duration::from_secs(limits.parse_seconds),
            cells: 0,
        }
    }

    pub fn check_time(&self) -> Result<(), ImportError> {
        if Instant::now() > self.deadline {
            return Err(Refusal::Time {
                seconds: self.limits.parse_seconds,
            }
            .into());
        }
        Ok(())
    }

    pub fn check_file(&self, len: usize) -> Result<(), ImportError> {
        let found = len as u64;
        if found > self.limits.max_file_bytes {
            return Err(Refusal::FileBytes {
                found,
                max: self.limits.max_file_bytes,
            }
            .into());
        }
        Ok(())
    }

    /// An xlsx sheet's declared `<dimension>` (start and end as (row, column), 0-based).
    pub fn declared(
        &self,
        sheet: &str,
        start: (u32, u32),
        end: (u32, u32),
    ) -> Result<(), ImportError> {
        let (rows, columns) = (u64::from(end.0) + 1, u64::from(end.1) + 1);
        let l = self.limits;
        if rows > l.max_rows || columns > l.max_columns {
            return Err(Refusal::Declared {
                sheet: sheet.to_owned(),
                rows,
                columns,
                max_rows: l.max_rows,
                max_columns: l.max_columns,
            }
            .into());
        }
        // A malformed dimension may end before it starts: saturate instead of underflowing.
        let area = (u64::from(end.0.saturating_sub(start.0)) + 1)
            * (u64::from(end.1.saturating_sub(start.1)) + 1);
        if area > l.max_cells {
            return Err(Refusal::DeclaredCells {
                sheet: sheet.to_owned(),
                found: area,
                max: l.max_cells,
            }
            .into());
        }
        Ok(())
    }

    /// A parsed sheet's extent (xls, ods: already in memory, but held to the same limits).
    pub fn range(&self, sheet: &str, end: (u32, u32), used: u64) -> Result<(), ImportError> {
        let (rows, columns) = (u64::from(end.0) + 1, u64::from(end.1) + 1);
        let l = self.limits;
        if rows > l.max_rows || columns > l.max_columns {
            return Err(Refusal::Range {
                sheet: sheet.to_owned(),
                rows,
                columns,
                max_rows: l.max_rows,
                max_columns: l.max_columns,
            }
            .into());
        }
        if used > l.max_cells {
            return Err(Refusal::Cells { max: l.max_cells }.into());
        }
        Ok(())
    }

    /// One more cell read from a stream; `filled` when it has a value (an empty one is not kept,
    /// so its position does not matter, but reading it still counts and takes time).
    pub fn cell(&mut self, row: u32, col: u32, filled: bool) -> Result<(), ImportError> {
        self.cells += 1;
        let l = self.limits;
        if self.cells > l.max_cells {
            return Err(Refusal::Cells { max: l.max_cells }.into());
        }
        if filled && (u64::from(row) >= l.max_rows || u64::from(col) >= l.max_columns) {
            return Err(Refusal::CellOutside {
                cell: format!("{}{}", column_name(col), u64::from(row) + 1),
                max_rows: l.max_rows,
                max_columns: l.max_columns,
            }
            .into());
        }
        if self.cells.is_multiple_of(1024) {
            self.check_time()?;
        }
        Ok(())
    }

    /// One more CSV record of `fields` fields (`row` 1-based).
    pub fn record(&mut self, row: u64, fields: u64) -> Result<(), ImportError> {
        let l = self.limits;
        if row > l.max_rows {
            return Err(Refusal::Rows { max: l.max_rows }.into());
        }
        if fields > l.max_columns {
            return Err(Refusal::Columns {
                row,
                found: fields,
                max: l.max_columns,
            }
            .into());
        }
        self.cells += fields;
        if self.cells > l.max_cells {
            return Err(Refusal::Cells { max: l.max_cells }.into());
        }
        if row.is_multiple_of(256) {
            self.check_time()?;
        }
        Ok(())
    }
}

/// Check a zip container (xlsx, xlsb, ods) before any reader opens it: entry count, declared
/// sizes and ratios from the central directory, then every entry inflated into a counter that
/// stops one byte past what it may hold, so a header that lies is caught without keeping
/// anything. A container that cannot be opened is `Unreadable`, as before.
pub(crate) fn check_zip(bytes: &[u8], budget: &Budget<'_>) -> Result<(), ImportError> {
    let l = budget.limits;
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ImportError::Unreadable)?;
    let entries = archive.len() as u64;
    if entries > l.max_zip_entries {
        return Err(Refusal::ZipEntries {
            found: entries,
            max: l.max_zip_entries,
        }
        .into());
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|_| ImportError::Unreadable)?;
        let name = entry_name(&entry);
        let (size, packed) = (entry.size(), entry.compressed_size());
        if size > l.max_entry_bytes {
            return Err(Refusal::EntryBytes {
                entry: name,
                found: size,
                max: l.max_entry_bytes,
            }
            .into());
        }
        total = total.saturating_add(size);
        if total > l.max_uncompressed_bytes {
            return Err(Refusal::Uncompressed {
                found: total,
                max: l.max_uncompressed_bytes,
            }
            .into());
        }
        let ratio = size / packed.max(1);
        if size > RATIO_FLOOR && ratio > l.max_ratio {
            return Err(Refusal::Ratio {
                entry: name,
                found: ratio,
                max: l.max_ratio,
            }
            .into());
        }
    }
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        budget.check_time()?;
        let mut entry = archive.by_index(i).map_err(|_| ImportError::Unreadable)?;
        let name = entry_name(&entry);
        let declared = entry.size();
        let mut counter = (&mut entry).take(declared + 1);
        let mut read: u64 = 0;
        let mut checkpoint: u64 = 16 * 1024 * 1024;
        loop {
            match counter.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => read += n as u64,
                // The zip reader's own guard against an entry longer than declared fires on the
                // chunk that crosses it; the counter below is the check that does not depend on it.
                Err(e)
                    if e.kind() == std::io::ErrorKind::InvalidData
                        && e.to_string().contains("larger than its declared") =>
                {
                    read = declared + 1;
                    break;
                }
                Err(_) => return Err(ImportError::Unreadable),
            }
            if read > declared {
                break;
            }
            if read >= checkpoint {
                budget.check_time()?;
                checkpoint = read + 16 * 1024 * 1024;
            }
        }
        if read > declared {
            return Err(Refusal::SizeMismatch {
                entry: name,
                declared,
            }
            .into());
        }
    }
    Ok(())
}

fn entry_name<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> String {
    let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
    // Names are shown to the user: keep them short and printable.
    name.chars().filter(|c| !c.is_control()).take(80).collect()
}

/// Slots for parsing, process-wide because memory is: the first configuration read sets the
/// count (one server per process; tests share the default).
fn slots(limits: &ImportLimits) -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| Arc::new(Semaphore::new(limits.parallel_parses.max(1))))
        .clone()
}

/// Run `parse` on a blocking thread holding a parse slot, waiting at most `parse_seconds` for a
/// slot and for the result. The slot goes with the thread: a parse that outlives the timeout
/// keeps its slot until its own deadline stops it, so timed-out parses cannot pile up.
pub(crate) async fn bounded<T, F>(limits: &ImportLimits, parse: F) -> Result<T, ImportError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ImportError> + Send + 'static,
{
    let wait = Duration::from_secs(limits.parse_seconds);
    let permit = match tokio::time::timeout(wait, slots(limits).acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => return Err(Refusal::Busy.into()),
    };
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        parse()
    });
    // A little grace over the inner deadline, which normally fires first with the same message.
    match tokio::time::timeout(wait + Duration::from_secs(1), task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "spreadsheet parse failed");
            Err(Refusal::Crashed.into())
        }
        Err(_) => Err(Refusal::Time {
            seconds: limits.parse_seconds,
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::Lang;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn limits() -> ImportLimits {
        ImportLimits::default()
    }

    /// A zip of (name, content) entries, deflated.
    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9));
        for (name, content) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(content).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn numbers_and_cells_read_as_people_write_them() {
        assert_eq!(grouped(1_048_576), "1,048,576");
        assert_eq!(grouped(200_000), "200,000");
        assert_eq!(grouped(999), "999");
        assert_eq!(bytes(1733), "1.7 KB");
        assert_eq!(bytes(200 * 1024 * 1024), "200.0 MB");
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16_383), "XFD");
    }

    #[test]
    fn the_declared_range_message_names_limit_and_value() {
        let l = limits();
        let budget = Budget::new(&l);
        let err = budget
            .declared("Sheet1", (0, 0), (1_048_575, 16_383))
            .unwrap_err();
        let ImportError::Refused(r) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.message(&Tr::new(Lang::Zh)).starts_with(
            "工作表“Sheet1”声明的范围 1,048,576 行 × 16,384 列超过上限 200,000 行 × 256 列。"
        ));
        assert!(
            r.message(&Tr::new(Lang::En))
                .contains("1,048,576 rows × 16,384 columns")
        );
        // A dimension that ends before it starts is refused or passed, never a panic.
        budget.declared("Sheet1", (10, 10), (0, 0)).unwrap();
    }

    #[test]
    fn a_deflate_bomb_is_refused_by_its_ratio_before_inflating() {
        // 64 MB here; import.rs runs the 200 MB one through the whole read.
        let spaces = vec![b' '; 64 * 1024 * 1024];
        let bomb = zip_of(&[("xl/worksheets/sheet1.xml", &spaces)]);
        assert!(bomb.len() < 256 * 1024, "{}", bomb.len());
        let l = limits();
        let started = Instant::now();
        let err = check_zip(&bomb, &Budget::new(&l)).unwrap_err();
        assert!(
            matches!(&err, ImportError::Refused(Refusal::Ratio { found, .. }) if *found > 100),
            "{err:?}"
        );
        // Refused from the central directory alone: nothing was inflated.
        assert!(started.elapsed() < Duration::from_secs(2));
        // Without the ratio, the total is the next wall.
        let l = ImportLimits {
            max_ratio: 10_000,
            max_entry_bytes: 32 * 1024 * 1024,
            max_uncompressed_bytes: 32 * 1024 * 1024,
            ..limits()
        };
        let err = check_zip(&bomb, &Budget::new(&l)).unwrap_err();
        assert!(
            matches!(err, ImportError::Refused(Refusal::EntryBytes { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn too_many_entries_and_too_much_in_total_are_refused() {
        let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let zip = zip_of(&entries);
        let l = ImportLimits {
            max_zip_entries: 10,
            ..limits()
        };
        assert_eq!(
            check_zip(&zip, &Budget::new(&l)),
            Err(Refusal::ZipEntries { found: 20, max: 10 }.into())
        );
        let l = ImportLimits {
            max_uncompressed_bytes: 15,
            ..limits()
        };
        assert_eq!(
            check_zip(&zip, &Budget::new(&l)),
            Err(Refusal::Uncompressed { found: 16, max: 15 }.into())
        );
        check_zip(&zip, &Budget::new(&limits())).unwrap();
    }

    /// An entry whose header declares fewer bytes than it inflates to.
    fn lying_zip() -> Vec<u8> {
        let content = vec![b'a'; 5000];
        let mut zip = zip_of(&[("xl/worksheets/sheet1.xml", &content)]);
        // Rewrite the uncompressed size (5000) in the local header (offset 22) and the central
        // directory entry (offset 24 from its signature) to 50.
        let patch = |zip: &mut Vec<u8>, at: usize| {
            assert_eq!(
                u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()),
                5000
            );
            zip[at..at + 4].copy_from_slice(&50u32.to_le_bytes());
        };
        patch(&mut zip, 22);
        let central = zip
            .windows(4)
            .position(|w| w == b"PK\x01\x02")
            .expect("central directory");
        patch(&mut zip, central + 24);
        zip
    }

    #[test]
    fn an_entry_larger_than_declared_is_refused() {
        let err = check_zip(&lying_zip(), &Budget::new(&limits())).unwrap_err();
        assert_eq!(
            err,
            Refusal::SizeMismatch {
                entry: "xl/worksheets/sheet1.xml".into(),
                declared: 50
            }
            .into()
        );
        let ImportError::Refused(r) = err else {
            unreachable!()
        };
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn csv_records_are_bounded() {
        let l = ImportLimits {
            max_rows: 3,
            max_columns: 2,
            max_cells: 5,
            ..limits()
        };
        let mut b = Budget::new(&l);
        b.record(1, 2).unwrap();
        assert_eq!(
            b.record(2, 3),
            Err(Refusal::Columns {
                row: 2,
                found: 3,
                max: 2
            }
            .into())
        );
        b.record(2, 2).unwrap();
        assert_eq!(b.record(3, 2), Err(Refusal::Cells { max: 5 }.into()));
        assert_eq!(b.record(4, 1), Err(Refusal::Rows { max: 3 }.into()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_or_a_slow_parse_is_an_error_not_a_crash() {
        let l = ImportLimits {
            parse_seconds: 1,
            ..limits()
        };
        let panicked: Result<(), _> = bounded(&l, || panic!("reader bug")).await;
        assert_eq!(panicked, Err(Refusal::Crashed.into()));
        let slow: Result<(), _> = bounded(&l, || {
            std::thread::sleep(Duration::from_secs(3));
            Ok(())
        })
        .await;
        assert_eq!(slow, Err(Refusal::Time { seconds: 1 }.into()));
        // The slot is held until the slow thread ends, then free again.
        let ok = bounded(&limits(), || Ok(7)).await;
        assert_eq!(ok, Ok(7));
    }
}
