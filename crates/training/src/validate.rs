//! The pipeline's dataset check: the model's file against its validation suite
//! (`nivesh-monitor`'s suites, `data/validation.toml` or the spec's own file).

use nivesh_core::{CreditApplication, NerExample, Transaction, Utterance};
use nivesh_models::ModelKind;
use nivesh_monitor::validate::{Suites, ValidationReport, validate_records};
use std::path::Path;

/// A dataset's validation: the report (a run artifact), its rows, and the transactions
/// themselves for the models that train on them (so the file is parsed once).
pub struct Validated {
    pub report: ValidationReport,
    pub transactions: Option<Vec<Transaction>>,
}

/// The suites of a spec: its file, else the shipped ones.
pub fn suites(file: Option<&Path>) -> anyhow::Result<Suites> {
    match file {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?;
            Suites::parse(&text, &p.display().to_string()).map_err(anyhow::Error::msg)
        }
        None => Suites::builtin().map_err(anyhow::Error::msg),
    }
}

/// Check `kind`'s training file `path` with the suite of its record kind.
pub fn validate(kind: ModelKind, path: &Path, suites: &Suites) -> anyhow::Result<Validated> {
    let name = kind.record_kind().name();
    let (name, suite) = suites.pick(Some(name), path).map_err(anyhow::Error::msg)?;
    let now = chrono::Utc::now();
    let run = |r: Result<ValidationReport, String>| r.map_err(anyhow::Error::msg);
    Ok(match kind {
        ModelKind::Intent => Validated {
            report: run(validate_records::<Utterance>(path, &name, suite, now).map(|r| r.0))?,
            transactions: None,
        },
        ModelKind::Ner => Validated {
            report: run(validate_records::<NerExample>(path, &name, suite, now).map(|r| r.0))?,
            transactions: None,
        },
        ModelKind::Credit => Validated {
            report: run(validate_records::<CreditApplication>(path, &name, suite, now).map(|r| r.0))?,
            transactions: None,
        },
        ModelKind::Anomaly | ModelKind::Spending => {
            let (report, records) =
                validate_records::<Transaction>(path, &name, suite, now).map_err(anyhow::Error::msg)?;
            Validated { report, transactions: Some(records) }
        }
    })
}
