//! Excel export: one formatted sheet (bold frozen header, filters, sensible widths) from rows of
//! text and numbers. Import lives with the capabilities that need it.
//!
//! Text is written as string cells (`write_string`), which Excel never evaluates; no export writes
//! a formula. A text cell that would read as a formula once edited or saved as CSV (see
//! `ui::csv::is_formula_like`) also gets Excel's quote prefix: it shows as written and stays text.

use std::io;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use shegong_domain::Permission;
use shegong_store::Db;
use shegong_store::admin::audit::{self, Change, Event};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::xlsx::{self, Shared, SheetWriter};

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
    let write = || {
        let widths = xlsx::widths(headers, rows);
        let mut w = SheetWriter::start(Vec::new(), sheet, preamble, headers, &widths)?;
        rows.iter().try_for_each(|r| w.row(r))?;
        w.finish()
    };
    write().map_err(|e| WebError::Internal(anyhow::anyhow!("xlsx: {e}")))
}

/// An attachment response. `filename` may contain Chinese (RFC 5987 encoding).
pub fn download(filename: &str, bytes: Vec<u8>) -> Response {
    download_body(filename, Body::from(bytes))
}

fn download_body(filename: &str, body: Body) -> Response {
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
        body,
    )
        .into_response()
}

/// A permitted export. Only `Export::check` makes one, after checking the caller's permission,
/// and only `send` spends it, filing the audit entry with the file: an export handler can forget
/// neither. It holds one of the process's export slots until the file is sent.
pub struct Export<'a> {
    user: &'a CurrentUser,
    entity: &'static str,
    slot: OwnedSemaphorePermit,
}

/// Exports one server process produces at once. Each holds its rows (up to `MAX_ROWS` for an
/// export built in memory) or a streamed export's selection of ids and a page, so without a
/// bound a few users pressing 导出 together could take the memory a province's server is
/// budgeted (docs/performance.md, "Memory while serving").
pub const PARALLEL_EXPORTS: usize = 4;

/// A free export slot, or `WebError::Busy` at once: a download does not queue behind others
/// (the browser would wait on a blank tab), the user is told to export again later.
fn export_slot() -> WebResult<OwnedSemaphorePermit> {
    static SLOTS: std::sync::OnceLock<std::sync::Arc<Semaphore>> = std::sync::OnceLock::new();
    SLOTS
        .get_or_init(|| std::sync::Arc::new(Semaphore::new(PARALLEL_EXPORTS)))
        .clone()
        .try_acquire_owned()
        .map_err(|_| WebError::Busy("error.exports_busy"))
}

impl<'a> Export<'a> {
    /// An export of `entity` records, if the caller holds `permission` and the server has a
    /// free export slot.
    pub fn check(ctx: &'a Ctx, entity: &'static str, permission: Permission) -> WebResult<Self> {
        let user = ctx.user()?;
        user.require(permission)?;
        let slot = export_slot()?;
        Ok(Self { user, entity, slot })
    }

    /// File the export's audit entry: `export` of the entity, its `rows` and any `notes`.
    async fn audit(
        &self,
        state: &AppState,
        ctx: &Ctx,
        rows: usize,
        notes: Vec<Change>,
    ) -> WebResult<()> {
        let mut changes = vec![Change::new("rows", None::<String>, Some(rows))];
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
        Ok(())
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
        self.audit(state, ctx, rows.len(), notes).await?;
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
        let bytes = titled_workbook(sheet.name, sheet.preamble, sheet.headers, sheet.rows)?;
        self.audit(state, ctx, sheet.rows.len(), notes).await?;
        Ok(download(&format!("{}.xlsx", sheet.file), bytes))
    }
}

/// A streamed export's body: the pieces the writer sends, two at most waiting; an error ends it
/// as a failed body. (A channel, not `http_body_util`'s, whose body panics when polled again
/// after its end.)
struct Chunks(mpsc::Receiver<io::Result<Bytes>>);

impl Chunks {
    fn channel() -> (mpsc::Sender<io::Result<Bytes>>, Chunks) {
        let (sender, receiver) = mpsc::channel(2);
        (sender, Chunks(receiver))
    }
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<io::Result<http_body::Frame<Bytes>>>> {
        self.0
            .poll_recv(cx)
            .map(|piece| piece.map(|r| r.map(http_body::Frame::data)))
    }
}

/// The rows of a streamed export (`Export::stream`), read a page at a time.
pub trait Pages: Send + 'static {
    /// How many records the export selected (the audit entry's `rows`).
    fn selected(&self) -> usize;

    /// The next page of rows (at most `PAGE_ROWS`); an empty page once all are read.
    fn next(&mut self) -> impl Future<Output = WebResult<Vec<Vec<Cell>>>> + Send;
}

/// Rows a streamed export reads, converts and compresses at a time.
pub const PAGE_ROWS: usize = 500;

/// The ids a streamed export selected, handed out a page at a time.
pub struct Selection<T = String> {
    ids: std::vec::IntoIter<T>,
    selected: usize,
}

impl<T> Selection<T> {
    pub fn new(ids: Vec<T>) -> Self {
        Self {
            selected: ids.len(),
            ids: ids.into_iter(),
        }
    }

    /// How many ids were selected.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The next `PAGE_ROWS` ids (fewer at the end, none after it).
    pub fn next_page(&mut self) -> Vec<T> {
        self.ids.by_ref().take(PAGE_ROWS).collect()
    }
}

impl Export<'_> {
    /// Send a list too large to build in memory (up to `MAX_ROWS`): the audit entry first
    /// (`export` of the entity, `rows`: the records `pages` selected, and any `notes`), then the file
    /// as it is written, each page of `pages` compressed and sent before the next is read. The
    /// server holds a page, never the sheet. Column widths follow the header and the first page.
    /// A failure part-way (the database, the client gone) cuts the download off: the client
    /// gets an incomplete file, never a wrong one, and the log says why.
    pub async fn stream<P: Pages>(
        self,
        state: &AppState,
        ctx: &Ctx,
        title_key: &str,
        headers: &[&str],
        pages: P,
        notes: Vec<Change>,
    ) -> WebResult<Response> {
        let title = ctx.tr().get(title_key).to_owned();
        self.audit(state, ctx, pages.selected(), notes).await?;
        let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
        let body = spawn_sending(pages, title.clone(), headers, self.slot);
        Ok(download_body(&format!("{title}.xlsx"), Body::new(body)))
    }
}

/// Start writing `pages` into the returned body, holding `slot` until the last page is sent
/// (or the download is cut off). The pages are read where the request's reads go (a replica
/// for a plain download).
fn spawn_sending<P: Pages>(
    pages: P,
    sheet: String,
    headers: Vec<String>,
    slot: OwnedSemaphorePermit,
) -> Chunks {
    let (sender, body) = Chunks::channel();
    let sending = async move {
        send_pages(pages, sheet, headers, sender).await;
        drop(slot);
    };
    if Db::reading_on_replica() {
        tokio::spawn(Db::on_replica(sending));
    } else {
        tokio::spawn(sending);
    }
    body
}

async fn send_pages<P: Pages>(
    pages: P,
    sheet: String,
    headers: Vec<String>,
    mut sender: mpsc::Sender<io::Result<Bytes>>,
) {
    if let Err(e) = write_pages(pages, &sheet, &headers, &mut sender).await {
        tracing::warn!(error = %e, sheet, "export cut off");
        // The client sees the body fail (the connection cut), not a complete-looking file.
        let _ = tokio::time::timeout(CLIENT_PATIENCE, sender.send(Err(e))).await;
    }
}

async fn write_pages<P: Pages>(
    mut pages: P,
    sheet: &str,
    headers: &[String],
    sender: &mut mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let read = |e: WebError| io::Error::other(e.to_string());
    let joined = |e: tokio::task::JoinError| io::Error::other(e.to_string());
    let out = Shared::default();
    let mut page = pages.next().await.map_err(read)?;
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let widths = xlsx::widths(&headers, &page);
    let mut writer = SheetWriter::start(out.clone(), sheet, &[], &headers, &widths)?;
    while !page.is_empty() {
        // Converting and compressing a page is CPU work: off the threads that serve requests.
        writer = tokio::task::spawn_blocking(move || {
            let mut writer = writer;
            page.iter().try_for_each(|r| writer.row(r))?;
            Ok::<_, io::Error>(writer)
        })
        .await
        .map_err(joined)??;
        send(sender, out.take()).await?;
        page = pages.next().await.map_err(read)?;
    }
    tokio::task::spawn_blocking(move || writer.finish())
        .await
        .map_err(joined)??;
    send(sender, out.take()).await
}

/// How long a streamed export waits for the client to take the next piece before giving up
/// (a client that stops reading would otherwise hold its selection and a page for good).
const CLIENT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

async fn send(sender: &mut mpsc::Sender<io::Result<Bytes>>, bytes: Vec<u8>) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    match tokio::time::timeout(CLIENT_PATIENCE, sender.send(Ok(Bytes::from(bytes)))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(io::Error::other("the client went away")),
        Err(_) => Err(io::Error::other("the client stopped reading")),
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
    use http_body_util::BodyExt;

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

    /// Every row of the first sheet, each cell as text.
    fn sheet_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
        use calamine::Reader;
        let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
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
        // Both formula-like cells are text with the quote-prefix style; "plain" is not.
        let cell = |r: &str| {
            xml.split("<c ")
                .find(|c| c.starts_with(&format!("r=\"{r}\"")))
                .unwrap()
                .to_owned()
        };
        for quoted in ["A2", "A3"] {
            assert!(
                cell(quoted).contains("t=\"inlineStr\"") && cell(quoted).contains(" s=\"2\""),
                "{}",
                cell(quoted)
            );
        }
        assert!(cell("B3").contains("t=\"inlineStr\"") && !cell("B3").contains(" s=\""));
        assert!(!cell("B2").contains("t=\""), "a number stays a number");
    }

    /// Rows 0..n, `PAGE_ROWS` a page, each with text that compresses poorly; `asked` counts
    /// the pages handed out.
    struct Numbered {
        rows: usize,
        next: usize,
        asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    fn noise(i: usize) -> String {
        let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 29;
        format!("{x:016x}{:016x}", x.wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }

    impl Pages for Numbered {
        fn selected(&self) -> usize {
            self.rows
        }

        async fn next(&mut self) -> WebResult<Vec<Vec<Cell>>> {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let end = (self.next + PAGE_ROWS).min(self.rows);
            let page = (self.next..end)
                .map(|i| vec![Cell::from(noise(i)), Cell::Int(i as i64)])
                .collect();
            self.next = end;
            Ok(page)
        }
    }

    #[tokio::test]
    async fn a_streamed_sheet_is_read_as_the_client_takes_it() {
        let rows = PAGE_ROWS * 40 + 34;
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (mut sender, mut body) = Chunks::channel();
        let pages = Numbered {
            rows,
            next: 0,
            asked: asked.clone(),
        };
        let headers = vec!["编号".to_owned(), "序号".to_owned()];
        let writer =
            tokio::spawn(async move { write_pages(pages, "流式", &headers, &mut sender).await });
        // A client that stops after the first piece: the writer waits for it instead of
        // reading on (and holding) the rest of the sheet.
        let first = body.frame().await.unwrap().unwrap();
        let mut bytes = first.data_ref().unwrap().to_vec();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let read_ahead = asked.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            read_ahead < 41 / 2,
            "{read_ahead} of 41 pages read while the client held the first piece"
        );
        while let Some(frame) = body.frame().await {
            bytes.extend_from_slice(frame.unwrap().data_ref().unwrap());
        }
        writer.await.unwrap().unwrap();
        // Asked again after its end (as the server's layers may), the body just stays ended.
        assert!(body.frame().await.is_none());
        assert!(body.frame().await.is_none());
        let read = sheet_rows(bytes);
        assert_eq!(read.len(), rows + 1);
        assert_eq!(read[0], vec!["编号", "序号"]);
        for (i, row) in read.iter().skip(1).enumerate() {
            assert_eq!(row, &vec![noise(i), i.to_string()]);
        }
    }

    #[tokio::test]
    async fn a_streamed_export_holds_its_slot_until_the_client_has_the_file() {
        let held: Vec<_> = (1..PARALLEL_EXPORTS)
            .map(|_| export_slot().unwrap())
            .collect();
        let pages = Numbered {
            rows: PAGE_ROWS * 8,
            next: 0,
            asked: Default::default(),
        };
        let headers = vec!["编号".to_owned(), "序号".to_owned()];
        let mut body = spawn_sending(pages, "流式".into(), headers, export_slot().unwrap());
        // The client has taken a piece and stopped: the export is still running, every slot
        // is taken, and one more export is refused with the message that says why.
        body.frame().await.unwrap().unwrap();
        let refused = export_slot().err().map(|e| e.info());
        assert!(
            refused
                .as_ref()
                .is_some_and(|i| i.status == axum::http::StatusCode::SERVICE_UNAVAILABLE
                    && i.code == "error.exports_busy"),
            "{refused:?}"
        );
        while let Some(frame) = body.frame().await {
            frame.unwrap();
        }
        // The writer lets its slot go once the last piece is sent.
        let mut freed = None;
        for _ in 0..100 {
            freed = export_slot().ok();
            if freed.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(
            freed.is_some(),
            "the finished export's slot was not given back"
        );
        drop(held);
    }
}
