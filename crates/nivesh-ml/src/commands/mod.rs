//! One module per command group. Each command returns its exit code; errors bubble up as
//! `anyhow::Error` and are printed once by `main`.
//!
//! Imports between these modules point one way and form no cycle: every command may use the
//! shared leaves [`output`] (tables, progress, report files) and [`stores`] (opening what the
//! configuration points at); `serve` → `bootstrap` → `train` and `drift` → `train` (the pipeline
//! runner) are the only chains between commands.

mod bootstrap;
mod config;
mod data;
mod drift;
mod embeddings;
mod evaluate;
mod features;
mod mcp;
mod output;
mod predict;
mod registry;
mod serve;
mod stores;
mod train;

use crate::cli::{Command, ConfigCommand};
use crate::config::Config;
use std::process::ExitCode;

/// The global options a child process of this one must be started with to see the same
/// configuration (the environment is inherited).
#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub config: Option<std::path::PathBuf>,
    pub data_dir: Option<std::path::PathBuf>,
}

pub fn run(command: Command, config: &Config, globals: &Globals) -> anyhow::Result<ExitCode> {
    match command {
        Command::Config(ConfigCommand::Show { json }) => config::show(config, json),
        Command::Data(cmd) => data::run(cmd, config),
        Command::Train(args) => train::run(*args, config),
        Command::Evaluate(args) => evaluate::run(args, config),
        Command::Registry(cmd) => registry::run(cmd, config),
        Command::Features(args) => features::run(args, config),
        Command::Serve(args) => serve::run(args, config, globals),
        Command::Bootstrap => bootstrap::run(config),
        Command::Embeddings(cmd) => embeddings::run(cmd),
        Command::Drift(cmd) => drift::run(cmd, config),
        Command::Predict(args) => predict::run(args, config),
        Command::Mcp(args) => mcp::run(args, config),
    }
}
