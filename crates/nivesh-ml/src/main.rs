//! The `nivesh-ml` binary: parses the command line, loads the configuration, sets up logging
//! and hands over to a command in [`commands`].

mod cli;
mod commands;
mod logging;
mod plots;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let opts = nivesh_core::config::LoadOptions {
        config_path: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        dotenv_path: None,
    };
    let config = match nivesh_core::config::load(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config);
    match commands::run(cli.command, &config) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
