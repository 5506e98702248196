//! `shegong bench --import` end to end at a small size: the generated register, the server as a
//! child process, the roster uploaded, checked and committed through its pages, the report with
//! the server's own peak memory, and the counters checked afterwards.

// Integration tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Command;

/// The figure cell of the report row that starts with `label`.
fn figure<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("| {label}")))
        .unwrap_or_else(|| panic!("no row {label}: {text}"))
        .rsplit('|')
        .nth(1)
        .unwrap()
        .trim()
}

#[test]
fn a_small_roster_is_imported_through_a_server_process() {
    // A temporary directory of its own, to see that the bench leaves nothing in it.
    let tmp = std::env::temp_dir().join(format!("shegong-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shegong"))
        .args(["bench", "--import", "--rows", "400", "--on-file", "6000"])
        .env("SHEGONG_LOG", "warn")
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("server pid "), "{text}");
    // Rows 0 and 1 of every hundred are refused (on file, or a likely duplicate); a new person
    // may by chance be alike to someone on file too.
    let written: Vec<usize> = figure(&text, "rows written / refused")
        .split('/')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    assert_eq!(written[0] + written[1], 400, "{text}");
    assert!((360..=392).contains(&written[0]), "{text}");
    // The server's own memory, read from its process: some megabytes, not zero.
    let memory = figure(&text, "the server's peak resident memory");
    let peak: u64 = memory.split(" MB").next().unwrap().parse().unwrap();
    assert!(peak > 10, "{text}");
    assert!(
        figure(&text, "counters folded").contains("; 0 differences"),
        "{text}"
    );
    assert!(
        text.contains(&format!("sqlite://{}", tmp.display())),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "the bench left {left:?} behind");
    std::fs::remove_dir(&tmp).unwrap();
}
