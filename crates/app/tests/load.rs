//! `shegong bench --load` end to end at a tiny rate: the generated world, the simulated users,
//! the server as a child process, the mix, the report and the checks afterwards.

// Integration tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Command;

#[test]
fn a_short_load_on_sqlite_answers_every_endpoint_and_writes_what_it_acknowledged() {
    let out = Command::new(env!("CARGO_BIN_EXE_shegong"))
        .args([
            "bench",
            "--load",
            "--scale",
            "tiny",
            "--rate",
            "40",
            "--duration",
            "3",
            "--connections",
            "4",
        ])
        .env("SHEGONG_LOG", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    // 120 requests, every one of them answered with a 2xx.
    let all = text
        .lines()
        .find(|l| l.starts_with("| **all** |"))
        .unwrap_or_else(|| panic!("no total row: {text}"));
    let cells: Vec<&str> = all.split('|').map(str::trim).collect();
    assert_eq!(cells[2], "120", "{text}");
    assert_eq!(cells[3], "0", "{text}");
    assert!(!text.contains("first error of"), "{text}");
    for endpoint in [
        "GET /api/v1/todo/count",
        "GET /api/v1/residents/{id}",
        "GET /stats/{code} (page)",
        "POST /api/v1/services (visit)",
        "POST /api/v1/cases/{id}/note",
    ] {
        assert!(
            text.contains(&format!("| {endpoint} |")),
            "{endpoint}: {text}"
        );
    }
    let written = text
        .lines()
        .find(|l| {
            l.starts_with(
                "| service records written / acknowledged / unanswered (written or not) |",
            )
        })
        .unwrap();
    let counts: Vec<&str> = written
        .split('|')
        .nth(2)
        .unwrap()
        .split('/')
        .map(str::trim)
        .collect();
    assert_eq!(counts[0], counts[1], "{text}");
    assert_ne!(counts[0], "0", "{text}");
    assert!(
        text.contains("| stats verify after the run | 0 differences |"),
        "{text}"
    );
    // The server's CPU per request of the schedule alone, read before the side work began.
    let early = text
        .lines()
        .find(|l| l.starts_with("| server CPU before the export and the import began"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        early.contains(" ms per request due) |") && !early.contains("NaN"),
        "{early}"
    );
    // Beside the schedule: the top administrator's export and an import through the pages
    // (the command fails when either does).
    assert!(
        text.contains("| beside the load: `GET /services/export.xlsx`"),
        "{text}"
    );
    assert!(
        text.contains("| beside the load: a 250-row resident roster imported through the pages |"),
        "{text}"
    );
}
