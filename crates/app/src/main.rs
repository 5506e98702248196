//! The `shegong` binary: serve, migrate, users, tokens, regions, backup/restore, audit, keys, bench.

mod bench;
mod cli;
mod scale;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    cli::init_logging();
    match cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
