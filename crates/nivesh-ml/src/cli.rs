//! Command-line interface: every command that exists, with its help text.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "nivesh-ml",
    version,
    about = "ML services of Nivesh, the personal-finance assistant: sample data, validation and configuration",
    long_about = "nivesh-ml trains, serves and monitors the machine-learning models of Nivesh.\n\n\
                  Configuration comes from built-in defaults, then nivesh.toml, then .env, then the \
                  environment, then command-line flags (each overrides the one before). \
                  Run `nivesh-ml config show` to see the effective values and where they came from."
)]
pub struct Cli {
    /// Configuration file (TOML). Default: $NIVESH_CONFIG, else ./nivesh.toml if it exists.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Directory for everything nivesh-ml stores (overrides NIVESH_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Generate and validate datasets.
    #[command(subcommand)]
    Data(DataCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, secrets redacted, with the source of each value.
    Show {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Generate the sample datasets (intents, NER, transactions, credit applications).
    ///
    /// Output is deterministic: the same seed gives byte-identical files.
    Generate(GenerateArgs),
    /// Validate a dataset file and print a summary; exits with status 1 if any record is bad.
    ///
    /// Reads CSV, JSON (an array of records) or JSONL, chosen by the file extension.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output directory. Default: <data dir>/generated.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// `small` for tests (under 2 s) or `full` for training.
    #[arg(long, default_value = "full", value_parser = ["small", "full"])]
    pub scale: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The file to check.
    pub file: PathBuf,
    /// Record kind: intents, ner, transactions or credit. Default: guessed from the file name.
    #[arg(long)]
    pub kind: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// How many bad records to list (all are counted).
    #[arg(long, default_value_t = 20)]
    pub max_errors: usize,
}
