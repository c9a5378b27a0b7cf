//! The `nivesh-ml` binary: parses the command line, loads the configuration, sets up logging
//! and hands over to a command in [`commands`].

mod cli;
mod commands;
mod config;
mod logging;

use clap::Parser;
use std::process::ExitCode;

/// jemalloc rather than glibc's malloc: glibc keeps what the server frees after a burst (the
/// cache's evicted answers, the prediction log's written rows) in its arenas until asked to
/// trim, and trimming freed only ~8 MB of it; jemalloc returns a page to the system as soon as it
/// is unused. Measured (docs/BENCHMARKS.md, "The allocator"): 16-21 MB less resident after a load
/// run and faster uncached predict routes (NER and the 64-row OIP intent batch most). It is also
/// the process's `malloc` (the `unprefixed_malloc_on_supported_platforms` feature), so the C
/// code linked in (SQLite above all, called from every blocking thread) allocates from it too
/// instead of from glibc's per-thread arenas: 1.7 MB less resident when ready and after a run.
/// Linux with glibc only, where it was measured; elsewhere the system allocator stays. The
/// settings are the build's (`.cargo/config.toml`, read when cargo runs inside this
/// repository): an `export_name` static would carry them anywhere, but the workspace forbids
/// `unsafe_code`, which that attribute counts as.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let opts = crate::config::LoadOptions {
        config_path: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        dotenv_path: None,
    };
    let config = match crate::config::load(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    logging::init(&config);
    let globals = commands::Globals { config: cli.config.clone(), data_dir: cli.data_dir.clone() };
    match commands::run(cli.command, &config, &globals) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
