//! One module per command group. Each command returns its exit code; errors bubble up as
//! `anyhow::Error` and are printed once by `main`.

mod config;
mod data;
mod embeddings;
mod evaluate;
pub mod features;
mod inputs;
mod pipeline;
mod registry;
mod serve;
mod train;

use crate::cli::{Command, ConfigCommand};
use nivesh_core::config::Config;
use std::process::ExitCode;

pub fn run(command: Command, config: &Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Config(ConfigCommand::Show { json }) => config::show(config, json),
        Command::Data(cmd) => data::run(cmd, config),
        Command::Train(args) => train::run(*args, config),
        Command::Evaluate(args) => evaluate::run(args, config),
        Command::Registry(cmd) => registry::run(cmd, config),
        Command::Features(args) => features::run(args, config),
        Command::Serve(args) => serve::run(args, config),
        Command::Embeddings(cmd) => embeddings::run(cmd),
    }
}

/// A table with the house style.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}
