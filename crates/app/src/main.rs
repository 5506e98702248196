//! The `shegong` binary: serve, migrate, users, tokens, regions, backup/restore, audit, keys, bench.

mod bench;
mod cli;
mod scale;

use std::process::ExitCode;

fn main() -> ExitCode {
    malloc_settings();
    run()
}

/// glibc gives threads that allocate at the same time arenas of their own (up to eight per core)
/// and keeps what is freed in each: with tokio's workers and a thread per SQLite connection, a
/// 50,000-row import peaked at 492 MB of resident memory with the default and at 369 MB with two
/// arenas. It also raises its mmap threshold each time a big buffer is freed, so that later big
/// buffers (a sheet's lines, a chunk of rows) come from the arenas and stay there; with the
/// threshold and the trim threshold fixed at 128 KiB a 100,000-row import's server peaked at
/// 272 MB instead of 339 MB on PostgreSQL (docs/performance.md, "Memory by phase"). glibc reads
/// these variables only when the process starts, so the binary starts itself again with them
/// set (same process id, arguments and environment), unless `MALLOC_ARENA_MAX` is set already;
/// a threshold set in the environment is kept.
#[cfg(target_os = "linux")]
fn malloc_settings() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MALLOC_ARENA_MAX";
    const FIXED: [(&str, &str); 2] = [
        ("MALLOC_MMAP_THRESHOLD_", "131072"),
        ("MALLOC_TRIM_THRESHOLD_", "131072"),
    ];
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut again = std::process::Command::new(exe);
    again.args(std::env::args_os().skip(1)).env(VAR, "2");
    for (var, value) in FIXED {
        if std::env::var_os(var).is_none() {
            again.env(var, value);
        }
    }
    let err = again.exec();
    // Reached only when the restart failed: go on with glibc's default.
    eprintln!("note: could not restart with {VAR}=2: {err}");
}

#[cfg(not(target_os = "linux"))]
fn malloc_settings() {}

#[tokio::main]
async fn run() -> ExitCode {
    cli::init_logging();
    match cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
