//! Command-line interface: every command that exists, with its help text.

use clap::{Args, Parser, Subcommand};
pub use nivesh_models::ModelKind;
pub use nivesh_training::Input;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "nivesh-ml",
    version,
    about = "ML services of Nivesh, the personal-finance assistant: data, training, evaluation and configuration",
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
    /// Train one model and write its file, or (with no model named) run the pipeline: train,
    /// evaluate, track, register and promote every model on the bundled data.
    Train(Box<TrainArgs>),
    /// Inspect and change the model registry.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Evaluate a saved model on a labelled dataset.
    Evaluate(EvaluateArgs),
    /// The feature store: ingest events, materialize views, read online features.
    Features(FeaturesArgs),
    /// Serve the champions over HTTP (bootstrapping first what is missing).
    Serve(ServeArgs),
    /// Make what `serve` needs and is missing: sample data ending yesterday, a champion for each
    /// model (the pipeline), the feature store ingested and materialized. `serve` runs it in a
    /// child process; run it alone to prepare a data directory (e.g. in an init container).
    Bootstrap,
    /// Sentence embeddings for the intent classifier, from a local sentence encoder.
    #[command(subcommand)]
    Embeddings(EmbeddingsCommand),
    /// Drift of the served models' inputs and predictions (from the prediction log).
    #[command(subcommand)]
    Drift(DriftCommand),
    /// Score a file with a registered version (batch scoring): one output record per input
    /// record, in order, streamed; failed records go to --errors and the run goes on.
    Predict(PredictArgs),
    /// The Model Context Protocol server over stdio: the models as tools for an AI agent that
    /// starts this command (the server also speaks MCP over HTTP at /mcp).
    Mcp(McpArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct PredictArgs {
    /// The model.
    #[arg(value_enum)]
    pub model: ModelKind,
    /// The records: `.jsonl` (the JSON route's bodies, one per line) or `.csv` (credit: the
    /// applicant's fields; intent: `query`; ner: `text`, `reference_date`; anomaly: the
    /// transaction's fields and `user_id`).
    #[arg(long)]
    pub input: PathBuf,
    /// Where the answers go: `.csv`, else JSONL (default: standard output). Each has the input's
    /// `line`; a failed record has `error`.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// The records that failed, as JSONL `{line, error}`.
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// This registered version (default: the champion).
    #[arg(long, conflicts_with = "alias")]
    pub model_version: Option<u32>,
    /// The version with this alias (default: `champion`).
    #[arg(long)]
    pub alias: Option<String>,
    /// Scoring threads (default: the CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Score only part INDEX of COUNT (`--shard 2/4`, 0-based): a contiguous quarter of the
    /// records, so that the outputs of 0/4 … 3/4 concatenated are the one-shot output (CSV
    /// outputs each carry their header). For a Kubernetes Indexed Job:
    /// `--shard $(JOB_COMPLETION_INDEX)/N`.
    #[arg(long)]
    pub shard: Option<nivesh_core::shard::Shard>,
}

#[derive(Debug, Subcommand)]
pub enum DriftCommand {
    /// Compare each model's logged traffic in a window with its champion's training profile
    /// (or another window), with Evidently's default tests; keep the result in the history.
    Check(DriftCheckArgs),
    /// The last drift checks of a model.
    History {
        #[arg(long, value_enum)]
        model: ModelKind,
        /// How many, newest first.
        #[arg(long, default_value_t = 10)]
        last: usize,
    },
}

#[derive(Debug, Args)]
pub struct DriftCheckArgs {
    /// Only this model (default: every model with logged traffic).
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// The current window: the last 7d, 24h, 30m… (default DRIFT_WINDOW).
    #[arg(long)]
    pub window: Option<String>,
    /// `training` (the champion's training profile) or a window of the log, FROM..TO (RFC 3339
    /// or YYYY-MM-DD each).
    #[arg(long, default_value = "training")]
    pub reference: String,
    /// Also write the report: `.html` (one self-contained page, with histograms) or `.json`.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Retrain the models that drifted (the training pipeline; the champion gate decides).
    #[arg(long)]
    pub retrain: bool,
}

#[derive(Debug, Subcommand)]
pub enum EmbeddingsCommand {
    /// Distil a BERT sentence encoder (a local directory with config.json, model.safetensors
    /// and tokenizer.json, e.g. all-MiniLM-L6-v2) into static word-piece vectors.
    Distill {
        /// The encoder's directory. Nothing is downloaded: the files must be there.
        #[arg(long)]
        encoder: PathBuf,
        /// Where to write the vectors.
        #[arg(long)]
        out: PathBuf,
        /// Threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        #[command(flatten)]
        shrink: ShrinkArgs,
    },
    /// Shrink a table of static embeddings: its leading SVD directions and/or int8 values.
    Reduce {
        /// A file written by `embeddings distill`.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the smaller table.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        shrink: ShrinkArgs,
    },
    /// Describe a file of static embeddings.
    Info {
        /// The file written by `embeddings distill`.
        file: PathBuf,
    },
}

/// How `embeddings distill|reduce` shrink a table.
#[derive(Debug, Clone, clap::Args)]
pub struct ShrinkArgs {
    /// Keep this many leading directions (truncated SVD of the table, uncentred).
    #[arg(long)]
    pub dims: Option<usize>,
    /// Store int8 values with one scale per row (a quarter of f32, half of f16).
    #[arg(long)]
    pub int8: bool,
}

/// The limits of anything that answers requests (`serve`, `mcp`).
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Most inputs in one batch request (and user ids in one features read).
    #[arg(long, default_value_t = 256)]
    pub max_batch: usize,
    /// Largest request body, bytes.
    #[arg(long, default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// Per-request timeout, milliseconds (then 503).
    #[arg(long, default_value_t = 10_000)]
    pub request_timeout_ms: u64,
    /// Most requests in flight (then 429 "overloaded" at once); default 64 per CPU core: past
    /// that a CPU-bound request would wait longer for a core than it takes to refuse it, and a
    /// client (or its load balancer) is better served by a quick 429 and a retry elsewhere
    #[arg(long)]
    pub max_in_flight: Option<usize>,
    /// Requests per second per API key (or client IP); 0 disables the limit.
    #[arg(long, default_value_t = 1000.0)]
    pub rate_limit: f64,
    /// Burst allowance of the rate limit.
    #[arg(long, default_value_t = 2000.0)]
    pub rate_limit_burst: f64,
    /// Seconds between registry polls for new champions.
    #[arg(long, default_value_t = 10.0)]
    pub reload_interval: f64,
    /// Memory budget of the prediction cache, MiB (0 disables it).
    #[arg(long, default_value_t = 16)]
    pub cache_mb: u64,
    /// Which answers the prediction cache keeps: `repeated` (an answer to a request asked for
    /// before, since a filter emptied every 65,536 new requests last emptied: one-off requests
    /// do not fill the budget) or `all`.
    #[arg(long, value_enum, default_value_t = CacheAdmit::Repeated)]
    pub cache_admit: CacheAdmit,
    /// Open connections at most (past it, new ones wait in the listen backlog).
    #[arg(long, default_value_t = 10_000)]
    pub max_connections: usize,
    /// A request's headers must arrive within this many ms (slow or stalled clients are cut).
    #[arg(long, default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,
}

impl LimitArgs {
    /// The server configuration with these limits (and defaults for the rest).
    pub fn server_config(&self) -> nivesh_server::ServerConfig {
        nivesh_server::ServerConfig {
            max_batch: self.max_batch,
            max_body_bytes: self.max_body_bytes,
            request_timeout: std::time::Duration::from_millis(self.request_timeout_ms),
            max_in_flight: self
                .max_in_flight
                .unwrap_or_else(|| 64 * std::thread::available_parallelism().map_or(1, |n| n.get()))
                .max(1),
            rate_limit_per_second: self.rate_limit,
            rate_limit_burst: self.rate_limit_burst,
            reload_interval: std::time::Duration::from_secs_f64(self.reload_interval.max(0.1)),
            cache_bytes: self.cache_mb * 1024 * 1024,
            cache_admission: match self.cache_admit {
                CacheAdmit::Repeated => nivesh_server::cache::Admission::Repeated,
                CacheAdmit::All => nivesh_server::cache::Admission::All,
            },
            max_connections: self.max_connections.max(1),
            header_read_timeout: std::time::Duration::from_millis(self.header_read_timeout_ms.max(100)),
            ..nivesh_server::ServerConfig::default()
        }
    }
}

/// `serve --cache-admit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CacheAdmit {
    Repeated,
    All,
}

#[derive(Debug, Clone, clap::Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to bind; default HOST (127.0.0.1).
    #[arg(long)]
    pub host: Option<String>,
    /// Port; default PORT (8000). 0 picks a free one.
    #[arg(long)]
    pub port: Option<u16>,
    /// Bind to a non-loopback address even though ML_API_KEYS is empty.
    #[arg(long)]
    pub allow_unauthenticated: bool,
    /// Do not train or materialize missing things at start; serve what the registry has.
    #[arg(long)]
    pub no_bootstrap: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Threads for blocking work at most: feature-store reads, models marked blocking, readiness
    /// probes, reloads, drift checks, training runs (default: 8 per core, at least 16). Past it,
    /// blocking work waits in line (a probe behind the requests' work already queued, at most
    /// --max-in-flight); each thread costs memory (its stack and its allocator cache).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub blocking_threads: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// Feature definitions (TOML); default: the shipped data/features.toml.
    #[arg(long, global = true)]
    pub definitions: Option<PathBuf>,
    #[command(subcommand)]
    pub command: FeaturesCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum FeaturesCommand {
    /// Append transactions (CSV/JSON/JSONL) to the offline store; already stored ids are skipped.
    Ingest {
        #[arg(long)]
        source: PathBuf,
    },
    /// Compute views' latest values and write them to the online store (incremental: only
    /// entities with new events, unless --full).
    Materialize {
        /// Only this view (repeatable); default: all.
        #[arg(long)]
        view: Vec<String>,
        /// The instant the values describe (RFC 3339 or YYYY-MM-DD); default: now.
        #[arg(long)]
        as_of: Option<String>,
        /// Recompute every entity.
        #[arg(long)]
        full: bool,
        /// Only the entities of part INDEX of COUNT (`--shard 1/4`, 0-based; by a stable hash
        /// of the entity id): COUNT processes with 0/COUNT … write what one run writes. Each
        /// shard keeps its own incremental cutoff.
        #[arg(long)]
        shard: Option<nivesh_core::shard::Shard>,
    },
    /// Print an entity's online features as JSON, with their age.
    Get {
        /// The entity, as user_id=U (repeatable).
        #[arg(long, required = true)]
        entity: Vec<String>,
        /// Only this view (repeatable); default: all.
        #[arg(long)]
        view: Vec<String>,
    },
    /// Views with versions, features, online entities and last materialization.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Default, Args)]
pub struct TrainArgs {
    /// Which model to train; without one, the pipeline trains every model in --models.
    #[arg(value_enum)]
    pub model: Option<ModelKind>,
    /// Pipeline: the models to train, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = ModelKind::ALL)]
    pub models: Vec<ModelKind>,
    /// Pipeline: go on with the other models when one fails.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Pipeline: register new versions but do not move the champion alias.
    #[arg(long)]
    pub no_promote: bool,
    /// Pipeline: how much worse than the champion (in its primary metric) a new version may be
    /// and still become champion.
    #[arg(long, default_value_t = 0.005)]
    pub margin: f64,
    #[command(flatten)]
    pub input: Input,
    /// Evaluate on these files after training (same formats as --data; repeat or use commas).
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    pub eval: Vec<PathBuf>,
    /// CLINC150 split of --eval (default: test).
    #[arg(long)]
    pub eval_split: Option<String>,
    /// Output directory for the model file. Default: MODEL_STORAGE_PATH.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Hold out this fraction of --data (shuffled with --seed) and evaluate on it.
    #[arg(long, conflicts_with = "eval")]
    pub holdout: Option<f64>,
    /// Tabular CSV: hold out the latest rows by this column instead of a random share
    /// (transactions are always split by time).
    #[arg(long)]
    pub time_column: Option<String>,
    /// Bootstrap samples for the 95 % intervals of the held-out report's headline metrics
    /// (percentile method, fixed seed); 0 for none.
    #[arg(long, default_value_t = nivesh_models::metrics::Bootstrap::DEFAULT_SAMPLES, value_parser = bootstrap_samples)]
    pub bootstrap: usize,
    /// Anomaly: trees in the isolation forest.
    #[arg(long)]
    pub n_trees: Option<usize>,
    /// Anomaly: rows sampled per isolation tree.
    #[arg(long)]
    pub sample_size: Option<usize>,
    /// Anomaly: train the supervised model on the labels instead of the isolation forest.
    #[arg(long)]
    pub supervised: bool,
    /// Seed of the --holdout shuffle (and of the boosting and its tuning folds).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// A tag on every run of the pipeline, KEY=VALUE (repeatable), beside `model` and `data`.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tag: Vec<(String, String)>,
    /// Write the evaluation metrics as JSON to this file, and its plots (PNG) beside it.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Intent: SVM regularisation C (larger fits the training data more closely).
    #[arg(long)]
    pub c: Option<f64>,
    /// Intent: drop n-grams seen in fewer training utterances.
    #[arg(long)]
    pub min_df: Option<usize>,
    /// Intent: static embeddings joined to the TF-IDF features (copied into the model file).
    /// NER: the table its word-cluster and near-gazetteer features are computed from. `shipped`
    /// (the table in the binary, the default), `none` (intent: TF-IDF only; NER: no such
    /// features) or a file from `embeddings distill`. Intent only: `encoder:DIR`, the
    /// contextual mode (a local sentence encoder, copied into the model and run per query).
    #[arg(long)]
    pub embeddings: Option<nivesh_training::spec::Embeddings>,
    /// Spending: how each series is forecast: auto (default: the combination unless ETS or
    /// Theta alone beats it beyond noise in a rolling-origin CV on the training users),
    /// combination (ETS, Theta and damped ETS weighted by their backtest), combination:N (N
    /// rolling origins), ets or theta.
    #[arg(long)]
    pub method: Option<nivesh_models::forecast::SeriesMethod>,
    /// Spending: the previous model file (the `spending.model` trained before this one). A festival
    /// whose window the data no longer holds keeps its multiplier; for the others it is the
    /// prior. The pipeline (`train` without a model) reads the registry's champion instead.
    #[arg(long, value_name = "FILE")]
    pub previous: Option<std::path::PathBuf>,
    /// Also score this model (file or directory, same kind; e.g. the one in production) on the
    /// same held-out items, and print each headline metric of both with the paired 95 %
    /// interval of the difference (spending: its parameters backtested on the same users and
    /// days). The pipeline does this with the champion by itself.
    #[arg(long, value_name = "PATH")]
    pub against: Option<std::path::PathBuf>,
    /// Intent: the intent answered below the confidence threshold (default general_question).
    /// Training utterances with this label are learned as a class of their own (e.g. CLINC150's
    /// `oos` with `--split train,oos_train --fallback-label oos`).
    #[arg(long)]
    pub fallback_label: Option<String>,
    /// Intent: norm of the embedding beside the unit-norm TF-IDF row (default 1.0).
    #[arg(long)]
    pub embedding_weight: Option<f64>,
    /// Credit, supervised anomaly: boosting rounds.
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Credit, supervised anomaly: learning rate of the boosting.
    #[arg(long)]
    pub learning_rate: Option<f32>,
    /// Credit, supervised anomaly: depth of each tree.
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Credit, supervised anomaly: minimum hessian sum in a leaf.
    #[arg(long)]
    pub min_leaf_weight: Option<f32>,
    /// Credit, supervised anomaly: class weighting in [0, 1] (0: rows as weighted, 1: both
    /// classes weigh the same; probabilities are corrected back to the data's prevalence).
    #[arg(long)]
    pub class_balance: Option<f64>,
    /// Credit, supervised anomaly: choose depth, learning rate, min leaf weight, class balance
    /// and rounds by stratified 5-fold cross-validation inside the training rows (seeded with
    /// --seed) before fitting; the report lists every grid point's score.
    #[arg(long)]
    pub tune: bool,
    /// With --tune: what the folds maximise, auc or log_loss (default: log_loss for credit,
    /// auc for anomalies).
    #[arg(long, requires = "tune")]
    pub tune_metric: Option<nivesh_models::algo::gbdt::TuneMetric>,
    /// Credit: one-hot encode categorical columns (default: ordinal codes).
    #[arg(long)]
    pub one_hot: bool,
    /// Credit: derive credit-bureau features from the table's columns (utilisation = balance
    /// over limit, payment-to-bill ratios, months late and the level and trend of monthly
    /// series such as BILL_AMT1..6, PAY_0..6); the model derives them again for every row it
    /// scores. Columns are recognised by name (README, "Credit-bureau tables").
    #[arg(long)]
    pub bureau_features: bool,
    /// Credit: share of the data held out to fit the Platt calibration (0: none).
    #[arg(long)]
    pub calibration_fraction: Option<f64>,
    /// NER: L1 regularisation of the CRF.
    #[arg(long)]
    pub c1: Option<f64>,
    /// NER: L2 regularisation of the CRF.
    #[arg(long)]
    pub c2: Option<f64>,
    /// NER: L-BFGS iterations of the CRF.
    #[arg(long)]
    pub max_iterations: Option<usize>,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Which model to evaluate.
    #[arg(value_enum)]
    pub model: ModelKind,
    /// Model file, a directory holding `<model>.model`, or a registered version:
    /// `registry:champion` (any alias) or `registry:v3`.
    #[arg(long = "model", value_name = "PATH")]
    pub model_path: PathBuf,
    #[command(flatten)]
    pub input: Input,
    /// Intent: out-of-scope examples (CLINC150 split, e.g. oos_test) scored for out-of-scope recall.
    #[arg(long)]
    pub oos_split: Option<String>,
    /// Intent: confidence threshold below which a query counts as out of scope.
    /// Default: INTENT_CONFIDENCE_THRESHOLD.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Also write the metrics as JSON to this file, and its plots (PNG) beside it.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Spending: a series benchmark, JSONL of {"id", "train": [..], "test": [..], "season_length"}.
    #[arg(long)]
    pub benchmark: Option<PathBuf>,
    /// Spending: forecast the benchmark with this method instead of the model's: ets, theta,
    /// combination, combination:N (N rolling origins) or auto (chosen on the series' training
    /// parts).
    #[arg(long)]
    pub method: Option<nivesh_models::forecast::SeriesMethod>,
    /// Run k-fold cross-validation over this column's values (retraining with the model's
    /// parameters on the other folds) and report the mean over folds.
    #[arg(long)]
    pub cv_column: Option<String>,
    /// Bootstrap samples for the 95 % intervals of the headline metrics (percentile method,
    /// fixed seed: the same intervals on every run); 0 for none.
    #[arg(long, default_value_t = nivesh_models::metrics::Bootstrap::DEFAULT_SAMPLES, value_parser = bootstrap_samples)]
    pub bootstrap: usize,
    /// Compare with this model (file, directory or `registry:ALIAS|vN`; same kind) on the same items: each headline
    /// metric of both, the difference and its paired 95 % interval (a challenger against the
    /// champion, tuned against defaults). Spending: a backtest on --data backtests both models'
    /// parameters on the same users and days (users drawn again); --benchmark compares that
    /// model's method on the same series. A method named here (ets, theta, combination,
    /// combination:N, auto) is the model's own parameters with that method.
    #[arg(long, value_name = "PATH")]
    pub against: Option<PathBuf>,
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
    /// Convert the NN5 weekly benchmark CSVs into series-benchmark JSONL (season 52, horizon 8).
    Nn5(Nn5Args),
    /// Validate a dataset file and print a summary; exits with status 1 if any record is bad.
    ///
    /// Reads CSV, JSON (an array of records) or JSONL, chosen by the file extension.
    Check(CheckArgs),
    /// Check a dataset against a validation suite (types, missing values, ranges, allowed
    /// values, uniqueness, duplicates, label balance, freshness); exits with status 1 if any
    /// expectation fails.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The file to check (CSV, JSON or JSONL).
    pub file: PathBuf,
    /// The suite to use; default: the one named after the file's record kind.
    #[arg(long)]
    pub suite: Option<String>,
    /// Suites file (TOML); default: VALIDATION_SUITES, else the shipped data/validation.toml.
    #[arg(long)]
    pub suites: Option<PathBuf>,
    /// Also write the report: `.html` (one self-contained page) or `.json`.
    #[arg(long)]
    pub report: Option<PathBuf>,
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
    /// First day of the transactions (YYYY-MM-DD; 500 days follow at full scale, 396 at small).
    /// Default 2024-10-01. Data ending yesterday: pass a start 500 (or 396) days ago.
    #[arg(long, value_name = "DATE")]
    pub start: Option<chrono::NaiveDate>,
    /// Override the scale's number of users (e.g. 20000 for a scale-out benchmark); user N's
    /// transactions are the same whatever the count.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub users: Option<u32>,
    /// Override the scale's number of days of transactions (500 at full scale, 396 at small).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: Option<u32>,
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

#[derive(Debug, Args)]
pub struct Nn5Args {
    /// `nn5_weekly_train.csv`: one series per line, comma-separated.
    #[arg(long)]
    pub train: PathBuf,
    /// `nn5_weekly_test.csv`: `;`-separated, a leading `1`, then the held-out weeks.
    #[arg(long)]
    pub test: PathBuf,
    /// Output JSONL file.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Registered models with their champion version and metric.
    List,
    /// Every version of a model, with metrics, runs and aliases.
    Show { model: String },
    /// Point an alias (default `champion`) at a version; the champion gate applies unless --force.
    Promote {
        model: String,
        version: u32,
        #[arg(long, default_value = "champion")]
        alias: String,
        /// Allowed worsening of the primary metric.
        #[arg(long, default_value_t = 0.005)]
        margin: f64,
        /// Promote even if the gate says no (recorded).
        #[arg(long)]
        force: bool,
    },
    /// Point an alias back at its previous version.
    Rollback {
        model: String,
        #[arg(long, default_value = "champion")]
        alias: String,
    },
    /// Send runs, versions and aliases still pending to the MLflow server (MLFLOW_TRACKING_URI).
    Sync,
}

/// `--tag KEY=VALUE`.
fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !["model", "data"].contains(&k.trim()) => {
            Ok((k.trim().to_string(), v.to_string()))
        }
        Some((k, _)) if ["model", "data"].contains(&k.trim()) => Err(format!("{k:?} is set by the pipeline")),
        _ => Err(format!("{s:?}: expected KEY=VALUE")),
    }
}

/// `--bootstrap N`: checked when the arguments are read, before any run is recorded.
fn bootstrap_samples(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|_| format!("{s:?} is not a number of samples"))?;
    nivesh_models::metrics::Bootstrap::with_samples(n).map(|b| b.samples).map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use clap::Parser;
    use nivesh_server::cache::Admission;

    fn admission(args: &[&str]) -> Result<Admission, String> {
        let cli = Cli::try_parse_from([&["nivesh-ml", "serve"], args].concat()).map_err(|e| e.to_string())?;
        let Command::Serve(serve) = cli.command else { panic!("not serve") };
        Ok(serve.limits.server_config().cache_admission)
    }

    #[test]
    fn the_cache_keeps_repeated_answers_unless_told_all() {
        assert_eq!(admission(&[]), Ok(Admission::Repeated));
        assert_eq!(admission(&["--cache-admit", "all"]), Ok(Admission::All));
        assert_eq!(admission(&["--cache-admit", "repeated"]), Ok(Admission::Repeated));
        let e = admission(&["--cache-admit", "twice"]).unwrap_err();
        assert!(e.contains("--cache-admit") && e.contains("repeated") && e.contains("all"), "{e}");
    }
}
