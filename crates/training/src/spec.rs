//! What a training run is asked to do, as data. The CLI builds these from its arguments, the
//! server from a request body and its start-up configuration; they serialise (a server keeps
//! the spec of every job it ran).

use nivesh_models::ModelKind;
use nivesh_models::anomaly::AnomalyParams;
use nivesh_models::credit::CreditParams;
use nivesh_models::forecast::ForecastParams;
use nivesh_models::intent::IntentParams;
use nivesh_models::ner::NerParams;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How to read input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum InputFormat {
    /// Detect from the file: CLINC150 and NLU++ by their shape, else records by extension.
    #[default]
    Auto,
    /// The project's records in CSV, JSON or JSONL.
    Records,
    /// CLINC150 `data_full.json` (choose the split with --split).
    Clinc150,
    /// NLU++ fold files.
    Nlupp,
}

/// Files to train or evaluate on, and how to read them (with the `cli` feature, also the
/// binary's `--data`, `--format`, `--split`, `--label`, `--weight` and `--ignore` flags).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct Input {
    /// Input file(s); repeat or separate with commas to concatenate (e.g. NLU++ folds).
    #[cfg_attr(feature = "cli", arg(long = "data", value_name = "DATA", num_args = 1.., value_delimiter = ','))]
    pub paths: Vec<PathBuf>,
    /// Input format.
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t))]
    pub format: InputFormat,
    /// CLINC150 split to read (default: train when training, test when evaluating).
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long))]
    pub split: Option<String>,
    /// Tabular CSV: the label column (1 = positive: default, fraud). Selects generic tabular input.
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long))]
    pub label: Option<String>,
    /// Tabular CSV: a sample-weight column, used in training and in every metric.
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long))]
    pub weight: Option<String>,
    /// Tabular CSV: columns that are not features (ids, leaky columns).
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub ignore: Vec<String>,
}

impl Input {
    /// One file of the project's records (or any format detected from it).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Input { paths: vec![path.into()], ..Input::default() }
    }
}

/// What is kept out of training for the evaluation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Nothing: no report (the spending forecaster still backtests itself).
    None,
    /// A share of the rows: the latest by time for transactions (or by `time_column`), else a
    /// deterministic shuffle with `seed`.
    Holdout { fraction: f64, seed: u64 },
    /// Other files, read like the training input; `split` is their CLINC150 split (default `test`).
    Files { paths: Vec<PathBuf>, split: Option<String> },
}

impl Split {
    /// The pipeline's: 20 % held out, seed 42.
    pub const PIPELINE: Split = Split::Holdout { fraction: 0.2, seed: 42 };

    /// Refuse a fraction that leaves nothing to train or to test on.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Split::Holdout { fraction, .. } = self {
            anyhow::ensure!(
                *fraction > 0.0 && *fraction < 1.0,
                "--holdout {fraction}: expected a fraction between 0 and 1"
            );
        }
        Ok(())
    }
}

/// A text model's parameters and the static embeddings it is trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextSpec<P> {
    pub params: P,
    /// Intent: the word-piece vectors joined to the TF-IDF features (copied into the model).
    /// NER: the table its word clusters and near-gazetteer words are computed from (those are
    /// kept in the model, the table is not).
    #[serde(default)]
    pub embeddings: Embeddings,
}

/// The intent classifier's parameters and static embeddings.
pub type IntentSpec = TextSpec<IntentParams>;

/// The recogniser's parameters and static embeddings.
pub type NerSpec = TextSpec<NerParams>;

/// Which static embeddings a text model is trained with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Embeddings {
    /// The table compiled into the binary (`data/embeddings/`, distilled from all-MiniLM-L6-v2).
    #[default]
    Shipped,
    /// None: TF-IDF features only.
    None,
    /// A file written by `embeddings distill` or `embeddings reduce`.
    File(PathBuf),
    /// Intent only, the contextual mode: a BERT-style sentence encoder in a local directory
    /// (`config.json`, `tokenizer.json`, `model.safetensors`), copied into the model and run per
    /// query.
    Encoder(PathBuf),
}

impl std::str::FromStr for Embeddings {
    type Err = String;
    /// `shipped`, `none`, `encoder:DIR`, or a file path.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" => Err("is empty: say shipped, none, encoder:DIR or a file path".into()),
            "shipped" => Ok(Embeddings::Shipped),
            "none" => Ok(Embeddings::None),
            "encoder:" => Err("encoder: needs a directory (encoder:DIR)".into()),
            path if path.starts_with("encoder:") => Ok(Embeddings::Encoder(PathBuf::from(&path["encoder:".len()..]))),
            path => Ok(Embeddings::File(PathBuf::from(path))),
        }
    }
}

/// One model's hyper-parameters: the variant says which model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelParams {
    Intent(IntentSpec),
    Ner(NerSpec),
    Spending(ForecastParams),
    Anomaly(AnomalyParams),
    Credit(CreditParams),
}

/// The defaults a deployment sets for every run (from its configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Defaults {
    pub intent_confidence_threshold: f64,
    pub intent_embeddings: Embeddings,
    #[serde(default)]
    pub ner_embeddings: Embeddings,
    pub anomaly_contamination: f64,
    pub credit_risk_threshold: f64,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            intent_confidence_threshold: IntentParams::default().confidence_threshold,
            intent_embeddings: Embeddings::Shipped,
            ner_embeddings: Embeddings::Shipped,
            anomaly_contamination: AnomalyParams::default().contamination,
            credit_risk_threshold: CreditParams::default().threshold,
        }
    }
}

impl ModelParams {
    /// The default parameters of `kind`, with the deployment's `defaults` applied.
    pub fn new(kind: ModelKind, defaults: &Defaults) -> Self {
        match kind {
            ModelKind::Intent => ModelParams::Intent(IntentSpec {
                params: IntentParams {
                    confidence_threshold: defaults.intent_confidence_threshold,
                    ..IntentParams::default()
                },
                embeddings: defaults.intent_embeddings.clone(),
            }),
            ModelKind::Ner => {
                ModelParams::Ner(NerSpec { params: NerParams::default(), embeddings: defaults.ner_embeddings.clone() })
            }
            ModelKind::Spending => ModelParams::Spending(ForecastParams::default()),
            ModelKind::Anomaly => ModelParams::Anomaly(AnomalyParams {
                contamination: defaults.anomaly_contamination,
                ..AnomalyParams::default()
            }),
            ModelKind::Credit => ModelParams::Credit(CreditParams {
                threshold: defaults.credit_risk_threshold,
                ..CreditParams::default()
            }),
        }
    }

    /// Whether training reads the previous model of its kind (the champion, or `train
    /// --previous FILE`): the spending forecaster carries the festival multipliers its
    /// training window no longer holds.
    pub fn learns_from_previous(&self) -> bool {
        match self {
            ModelParams::Spending(_) => true,
            ModelParams::Intent(_) | ModelParams::Ner(_) | ModelParams::Anomaly(_) | ModelParams::Credit(_) => false,
        }
    }

    /// Whether a comparison with another model refits that model's parameters on the new data
    /// (the forecaster's backtest) rather than scoring it on held-out items: it then holds on
    /// any data, not only the data the other model trained on.
    pub fn compares_by_refitting(&self) -> bool {
        match self {
            ModelParams::Spending(_) => true,
            ModelParams::Intent(_) | ModelParams::Ner(_) | ModelParams::Anomaly(_) | ModelParams::Credit(_) => false,
        }
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            ModelParams::Intent(_) => ModelKind::Intent,
            ModelParams::Ner(_) => ModelKind::Ner,
            ModelParams::Spending(_) => ModelKind::Spending,
            ModelParams::Anomaly(_) => ModelKind::Anomaly,
            ModelParams::Credit(_) => ModelKind::Credit,
        }
    }
}

/// One model's training: its parameters, its data and what is held out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub params: ModelParams,
    pub input: Input,
    pub split: Split,
    /// Tabular anomaly data: hold out the latest rows by this column instead of a shuffle.
    #[serde(default)]
    pub time_column: Option<String>,
    /// Bootstrap samples for the report's 95 % intervals (0: none).
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
}

pub(crate) fn default_bootstrap() -> usize {
    nivesh_models::metrics::Bootstrap::DEFAULT_SAMPLES
}

/// Where the pipeline's data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// The sample data in `dir`, generated there first (seed 42, full scale) if it is missing.
    Sample { dir: PathBuf },
    /// A directory holding files with the sample data's names (`intents.jsonl`, …).
    Directory { dir: PathBuf },
}

impl DataSource {
    pub fn dir(&self) -> &Path {
        match self {
            DataSource::Sample { dir } | DataSource::Directory { dir } => dir,
        }
    }
}

/// A pipeline run: for each model, validate its data, train, evaluate, track, register, and
/// promote through the champion gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSpec {
    pub data: DataSource,
    /// The models to train, in order, with their parameters.
    pub models: Vec<ModelParams>,
    /// What each model holds out for its report (the forecaster backtests instead).
    pub split: Split,
    /// The champion gate: how much worse than the champion (in its primary metric) a new
    /// version may be and still become champion.
    pub margin: f64,
    /// Move the champion alias through the gate; `false` registers versions only.
    pub promote: bool,
    /// Go on with the other models when one fails.
    pub continue_on_error: bool,
    /// Validation suites to check each model's data with (default: `data/validation.toml`).
    #[serde(default)]
    pub suites: Option<PathBuf>,
    /// Extra tags on every run (`--tag team=risk`), beside `model` and `data`.
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    /// Bootstrap samples for each report's 95 % intervals (0: none).
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
}

impl TrainSpec {
    /// Every model with its default parameters, on `data`, as the pipeline trains them by default.
    pub fn all(data: DataSource, defaults: &Defaults) -> Self {
        TrainSpec {
            data,
            models: ModelKind::ALL.iter().map(|&k| ModelParams::new(k, defaults)).collect(),
            split: Split::PIPELINE,
            margin: 0.005,
            promote: true,
            continue_on_error: false,
            suites: None,
            tags: Default::default(),
            bootstrap: default_bootstrap(),
        }
    }

    /// The same run for only the models in `kinds`, in that order, each with its parameters
    /// here. Fails naming a model this spec does not list.
    pub fn with_models(&self, kinds: &[ModelKind]) -> anyhow::Result<Self> {
        let models = kinds
            .iter()
            .map(|&k| {
                self.models
                    .iter()
                    .find(|p| p.kind() == k)
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("{k} is not among this spec's models"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(TrainSpec { models, ..self.clone() })
    }

    /// The training of one of the models: its file in the data directory, the spec's split
    /// (none for the forecaster, which backtests).
    pub fn model_spec(&self, params: &ModelParams) -> ModelSpec {
        let kind = params.kind();
        let split = match kind {
            ModelKind::Spending => Split::None,
            ModelKind::Intent | ModelKind::Ner | ModelKind::Anomaly | ModelKind::Credit => self.split.clone(),
        };
        ModelSpec {
            params: params.clone(),
            input: Input::file(self.data.dir().join(kind.data_file())),
            split,
            time_column: None,
            bootstrap: self.bootstrap,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_through_json_and_name_their_model() {
        let spec = TrainSpec::all(DataSource::Directory { dir: "gen".into() }, &Defaults::default());
        let json = serde_json::to_string(&spec).unwrap();
        let back: TrainSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec);
        assert_eq!(spec.models.iter().map(ModelParams::kind).collect::<Vec<_>>(), ModelKind::ALL);
        let one = spec.with_models(&[ModelKind::Credit]).unwrap();
        assert!(one.with_models(&[ModelKind::Intent]).is_err());
        assert_eq!(one.models.len(), 1);
        let m = one.model_spec(&one.models[0]);
        assert_eq!(m.input.paths, vec![PathBuf::from("gen/credit_applications.csv")]);
        assert_eq!(m.split, Split::PIPELINE);
        assert_eq!(spec.model_spec(&spec.models[2]).split, Split::None, "the forecaster backtests");
        assert!(Split::Holdout { fraction: 1.0, seed: 1 }.check().is_err());
    }
}
