//! The `nivesh-ml` binary: parses the command line, loads the configuration, sets up logging
//! and hands over to a command in [`commands`].

mod cli;
mod commands;
mod config;
mod logging;

use clap::Parser;
use std::process::ExitCode;

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
