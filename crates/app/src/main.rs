//! The `shegong` binary: serve, migrate, users, tokens, regions, backup/restore, audit, keys, bench.

mod bench;
mod cli;
mod scale;

use std::process::ExitCode;

fn main() -> ExitCode {
    few_malloc_arenas();
    run()
}

/// glibc gives threads that allocate at the same time arenas of their own (up to eight per core)
/// and keeps what is freed in each: with tokio's workers and a thread per SQLite connection, a
/// 50,000-row import peaked at 492 MB of resident memory with the default and at 369 MB with two
/// arenas (docs/performance.md). glibc reads `MALLOC_ARENA_MAX` only when the process starts, so
/// the binary starts itself again with it set (same process id, arguments and environment),
/// unless the variable is set already.
#[cfg(target_os = "linux")]
fn few_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MALLOC_ARENA_MAX";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(VAR, "2")
        .exec();
    // Reached only when the restart failed: go on with glibc's default.
    eprintln!("note: could not restart with {VAR}=2: {err}");
}

#[cfg(not(target_os = "linux"))]
fn few_malloc_arenas() {}

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
