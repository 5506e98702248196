//! `shegong bench --import`: a resident roster uploaded, previewed and committed through the real
//! pages against a database already holding 10^6 residents (issue 13 item 7; see
//! docs/performance.md). The server is this executable's `serve`, started as a child process on
//! the generated database, so the peak memory printed is the server's own. Prints rows/s of the
//! preview and of the commit, and that peak.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shegong_store::bench;
use shegong_store::statistics::counters;

use super::bench::{Browser, PASSWORD, account};
use super::load::{server_files, start_server, stop_server};
use super::{GIVEN, SURNAMES, Scale, World, generate, id_number, open_empty, resident_name};

/// 湖南: every township gets a station and a head; 10^6 residents; no service records (the
/// roster checks look at residents only).
const FILE: Scale = Scale {
    name: "import",
    region: "43",
    staff: 2_100,
    residents: 1_000_000,
    services: 0,
    numbered_names: false,
};

/// Whether the progress endpoint of the background flow answers (else the flow is synchronous).
async fn poll(b: &mut Browser, batch_at: &str, until: &[&str]) -> anyhow::Result<bool> {
    let progress = format!("{batch_at}/progress");
    let mut last = Instant::now();
    let started = Instant::now();
    loop {
        let (st, _, body) = b.send("GET", &progress, None).await?;
        if st != 200 {
            return Ok(false);
        }
        let v: serde_json::Value = serde_json::from_str(&body).context("progress JSON")?;
        let phase = v.get("phase").and_then(|p| p.as_str()).unwrap_or_default();
        if phase == "failed" {
            bail!("the import job failed: {body}");
        }
        if until.contains(&phase) {
            return Ok(true);
        }
        // A commit that never left the checked state did not start.
        if phase == "ready" && started.elapsed() > Duration::from_secs(30) {
            bail!("the commit did not start within 30 s: {body}");
        }
        if last.elapsed() > Duration::from_secs(10) {
            println!("  … {body}");
            last = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The roster: `rows` people in the townships of the file, a CSV with identity numbers, names,
/// birth dates, categories and addresses. About 1 % are people already on file by identity
/// number, 1 % are file records again without a number (likely duplicates); the rest are new.
pub(super) fn roster(w: &World, rows: usize, numbered: bool) -> anyhow::Result<(String, usize)> {
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let mut csv = String::with_capacity(rows * 110);
    csv.push_str("姓名,身份证号码,出生日期,对象类别,居住地区划代码,详细住址\n");
    let mut refused = 0;
    let pick = |v: &[char], n: usize| v.get(n % v.len().max(1)).copied().unwrap_or('明');
    for n in 0..rows {
        // A file record: resident `k` lives in township `k % townships` (see `create_residents`).
        let k = (n * 7_919) % w.residents.max(1);
        let i = if n % 100 < 2 { k } else { n } % w.townships.len().max(1);
        let township = w.townships.get(i).context("no townships")?;
        let county = township.get(..6).unwrap_or(township);
        let category = if n % 3 == 0 { "特困" } else { "低保" };
        let line = match n % 100 {
            0 => {
                refused += 1;
                let (idn, birth) = id_number(county, k)?;
                let name = resident_name(k, numbered);
                format!("{name},{idn},{birth},{category},{township},幸福路{n}号")
            }
            1 => {
                refused += 1;
                let (_, birth) = id_number(county, k)?;
                let name = resident_name(k, numbered);
                format!("{name},,{birth},{category},{township},幸福路{n}号")
            }
            _ => {
                let name: String = [
                    pick(&surnames, n),
                    pick(&given, n / 7),
                    pick(&given, n / 211),
                ]
                .into_iter()
                .take(if n % 5 == 0 { 2 } else { 3 })
                .collect();
                let (idn, birth) = id_number(county, 2_000_000 + n)?;
                format!("{name},{idn},{birth},{category},{township},和平街{n}号")
            }
        };
        csv.push_str(&line);
        csv.push('\n');
    }
    Ok((csv, refused))
}

/// Reset the peak resident memory of process `pid` (Linux: 5 → clear_refs resets VmHWM); the
/// resident memory it starts from, in MB.
fn reset_peak(pid: &str) -> u64 {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    crate::bench::status_kb(pid, "VmRSS:") / 1024
}

/// The peak resident memory of process `pid` since the last [`reset_peak`], in MB.
fn peak(pid: &str) -> u64 {
    crate::bench::status_kb(pid, "VmHWM:") / 1024
}

/// The server's resident memory before the upload and its peak in each phase, in MB.
#[derive(Default)]
struct Peaks {
    before: u64,
    upload: u64,
    check: u64,
    commit: u64,
}

impl Peaks {
    /// The peak since the last phase ended, starting the next phase's.
    fn phase(pid: &str) -> u64 {
        let mb = peak(pid);
        reset_peak(pid);
        mb
    }

    fn highest(&self) -> u64 {
        self.upload.max(self.check).max(self.commit)
    }
}

/// `shegong bench --import [--rows N] [--on-file N] [--numbered-names] [--target-url URL]`.
pub async fn import_command(
    url: Option<String>,
    rows: usize,
    on_file: usize,
    numbered_names: bool,
) -> anyhow::Result<()> {
    let file = Scale {
        residents: on_file,
        numbered_names,
        ..FILE
    };
    let given = url.clone();
    let (db, url) = open_empty(url).await?;
    let _scratch = super::Scratch::unless_given(given.as_deref(), &url);
    println!(
        "import bench on {} ({}): {} residents on file ({} names), a {rows}-row roster",
        db.backend().as_str(),
        shegong_store::db_url_redacted(&url),
        file.residents,
        if numbered_names { "numbered" } else { "varied" }
    );
    let w = generate(db, file, 0).await?;
    // The server process keeps the real clock.
    let now = chrono::Utc::now().timestamp_millis();
    account(&w, "roster_importer", file.region, now).await?;
    let dir = std::env::temp_dir().join(format!("shegong-import-{}", std::process::id()));
    // The bench's account signs in with its password alone (no second factor to enrol).
    let config = server_files(&dir, &w.spec, "twofactor_for_administrators = false\n")?;
    let exe = std::env::current_exe().context("this executable")?;
    let server = start_server(&exe, &url, &dir, &config).await?;
    let pid = server.pid.to_string();
    println!("server pid {pid} on {}", server.addr);
    let mut b = Browser::remote(server.addr);
    b.sign_in("roster_importer", PASSWORD).await?;
    let (csv, expected_refusals) = roster(&w, rows, numbered_names)?;
    let mut peaks = Peaks::default();
    let (preview_s, commit_s) = import_roster(&mut b, csv, |phase| match phase {
        Phase::Start => peaks.before = reset_peak(&pid),
        Phase::Uploaded => peaks.upload = Peaks::phase(&pid),
        Phase::Checked => peaks.check = Peaks::phase(&pid),
        Phase::Committed => peaks.commit = peak(&pid),
    })
    .await?;
    stop_server(server).await?;
    let _ = std::fs::remove_dir_all(&dir);
    report(&w, rows, expected_refusals, (preview_s, commit_s), &peaks).await?;
    engine_ceiling(&w, rows, preview_s + commit_s).await
}

/// Where an import through the pages has got to.
pub(super) enum Phase {
    /// About to upload.
    Start,
    Uploaded,
    /// The preview is ready.
    Checked,
    Committed,
}

/// Import `csv` through the pages as `b`'s account: upload, wait for the check, commit the
/// valid rows, wait for the commit; `phase_done` hears of each step. Returns the seconds of
/// upload + preview and of the commit.
pub(super) async fn import_roster(
    b: &mut Browser,
    csv: String,
    mut phase_done: impl FnMut(Phase),
) -> anyhow::Result<(f64, f64)> {
    let rows = csv.lines().count().saturating_sub(1);
    let body = upload_body(b, csv).await?;
    phase_done(Phase::Start);
    println!("uploading {rows} rows");
    let t = Instant::now();
    let (st, batch_at, text) = b
        .send(
            "POST",
            "/residents/import",
            Some((format!("multipart/form-data; boundary={BOUNDARY}"), body)),
        )
        .await?;
    if st != 303 {
        bail!(
            "upload answered {st}: {}",
            text.chars().take(400).collect::<String>()
        );
    }
    println!(
        "uploaded ({st} → {batch_at}) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    phase_done(Phase::Uploaded);
    // The batch's page starts the check (a progress page while it runs), then is the preview.
    let (st, _, _) = b.send("GET", &batch_at, None).await?;
    if st != 200 {
        bail!("the batch page answered {st}");
    }
    poll(b, &batch_at, &["ready"]).await?;
    let (st, _, preview) = b.send("GET", &batch_at, None).await?;
    if st != 200 {
        bail!("preview answered {st}");
    }
    let preview_s = t.elapsed().as_secs_f64();
    phase_done(Phase::Checked);
    let form = format!("_csrf={}&mode=valid", Browser::csrf(&preview));
    let t = Instant::now();
    let (st, committed_at, text) = b
        .send(
            "POST",
            &batch_at,
            Some((
                "application/x-www-form-urlencoded".into(),
                form.into_bytes(),
            )),
        )
        .await?;
    if st != 303 {
        bail!(
            "commit answered {st}: {}",
            text.chars().take(400).collect::<String>()
        );
    }
    println!("commit answered {st} → {committed_at}");
    // A background commit sends back to the batch's page; a synchronous one to the list.
    if committed_at == batch_at {
        poll(b, &batch_at, &["done"]).await?;
    }
    let commit_s = t.elapsed().as_secs_f64();
    phase_done(Phase::Committed);
    Ok((preview_s, commit_s))
}

/// Rows per transaction of the engine's own rate, as the import commits them.
const ENGINE_CHUNK: usize = 5_000;

/// The database's own rate for the same number of rows of this shape, copied within the
/// database (`bench::copy_residents`) into the residents table and into a copy of it with only
/// its two unique indexes: what the import's end-to-end rate compares with, and what the
/// table's secondary indexes cost.
async fn engine_ceiling(w: &World, rows: usize, import_s: f64) -> anyhow::Result<()> {
    let chunks = rows.div_ceil(ENGINE_CHUNK);
    let residents_s = copy_chunks(w, bench::CopyInto::Residents, chunks).await?;
    let t = Instant::now();
    let mut tx = w.db.begin().await?;
    bench::create_bare_residents(&mut tx).await?;
    tx.commit().await?;
    let copy_s = t.elapsed().as_secs_f64();
    let bare_s = copy_chunks(w, bench::CopyInto::Bare, chunks).await?;
    let n = (chunks * ENGINE_CHUNK) as f64;
    println!(
        "| the engine alone: the same number of resident rows copied within the database into residents, {ENGINE_CHUNK} per transaction | {residents_s:.1} s, {:.0} rows/s (the import end to end: {:.2}× this) |",
        n / residents_s,
        (rows as f64 / import_s) / (n / residents_s)
    );
    println!(
        "| the same into a copy of residents with only its two unique indexes (copy made in {copy_s:.1} s) | {bare_s:.1} s, {:.0} rows/s |",
        n / bare_s
    );
    Ok(())
}

/// Copies `chunks` chunks of residents into `into`, one durable transaction each; seconds taken.
async fn copy_chunks(w: &World, into: bench::CopyInto, chunks: usize) -> anyhow::Result<f64> {
    let t = Instant::now();
    for chunk in 0..chunks {
        let mut tx = w.db.begin().await?;
        let n = bench::copy_residents(&mut tx, into, chunk as i64, ENGINE_CHUNK as i64).await?;
        tx.commit().await?;
        if n < ENGINE_CHUNK as u64 {
            bail!("only {n} residents on file to copy in chunk {chunk}: use a larger --on-file");
        }
    }
    Ok(t.elapsed().as_secs_f64())
}

const BOUNDARY: &str = "----shegongimportbench";

/// The upload form's multipart body: the page's CSRF token and the roster as `roster.csv`.
async fn upload_body(b: &mut Browser, csv: String) -> anyhow::Result<Vec<u8>> {
    let (st, to, page) = b.send("GET", "/residents/import", None).await?;
    let token = Browser::csrf(&page);
    if st != 200 || token.is_empty() {
        bail!("the import page answered {st} {to} without a CSRF token");
    }
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n--{BOUNDARY}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"roster.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend(csv.into_bytes());
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());

    Ok(body)
}

/// Counts what was written, checks the counters and prints the results table.
async fn report(
    w: &World,
    rows: usize,
    expected_refusals: usize,
    (preview_s, commit_s): (f64, f64),
    peaks: &Peaks,
) -> anyhow::Result<()> {
    let mut c = w.db.read().await?;
    let written = bench::count_residents_created_by(&mut c, "roster_importer").await? as usize;
    drop(c);
    println!();
    println!("| measurement | figure |");
    println!("| --- | --- |");
    println!(
        "| upload + preview (read, identity numbers against the file and the register, likely duplicates) | {preview_s:.1} s, {:.0} rows/s |",
        rows as f64 / preview_s
    );
    println!(
        "| commit of the valid rows (checks again, then writes) | {commit_s:.1} s, {:.0} rows/s |",
        rows as f64 / commit_s
    );
    println!(
        "| end to end | {:.1} s, {:.0} rows/s |",
        preview_s + commit_s,
        rows as f64 / (preview_s + commit_s)
    );
    println!(
        "| rows written / refused (expected at least {expected_refusals} refused) | {written} / {} |",
        rows - written
    );
    println!(
        "| the server's peak resident memory during the import (before the upload) | {} MB ({} MB); by phase: upload {} MB, check {} MB, commit {} MB |",
        peaks.highest(),
        peaks.before,
        peaks.upload,
        peaks.check,
        peaks.commit
    );
    // PostgreSQL's pending deltas are folded first (the folder's own work, timed apart).
    let t = Instant::now();
    counters::fold(&w.db).await?;
    let fold_s = t.elapsed().as_secs_f64();
    let mut c = w.db.read().await?;
    let t = Instant::now();
    let diff = counters::verify(&mut c).await?;
    let verify_s = t.elapsed().as_secs_f64();
    println!(
        "| counters folded, then stats verify | fold {fold_s:.1} s; {} differences, {verify_s:.1} s |",
        diff.len()
    );
    if written + expected_refusals > rows || written == 0 {
        bail!("{written} of {rows} rows written, {expected_refusals} should have been refused");
    }
    Ok(())
}
