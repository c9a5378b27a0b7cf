//! The checks a dataset must pass before the pipeline trains a model on it.

use nivesh_core::dataset::read_records_lenient;
use nivesh_core::summary::DatasetSummary;
use nivesh_core::{CreditApplication, NerExample, Record, Transaction, Utterance};
use nivesh_models::ModelKind;
use std::path::Path;

/// A dataset that passed: its row count, and the transactions themselves for the models that
/// train on them (so the file is parsed once).
pub struct Validated {
    pub rows: usize,
    pub transactions: Option<Vec<Transaction>>,
}

fn check<T: Record>(path: &Path) -> anyhow::Result<(DatasetSummary, Vec<T>)> {
    let outcome = read_records_lenient::<T>(path)?;
    if let Some(first) = outcome.errors.first() {
        anyhow::bail!("{} bad records; the first: {first}", outcome.errors.len());
    }
    Ok((DatasetSummary::of(&outcome.records), outcome.records))
}

/// Every record valid, enough rows, and labels balanced enough to learn from.
pub fn validate(kind: ModelKind, path: &Path) -> anyhow::Result<Validated> {
    let (summary, min_rows, transactions) = match kind {
        ModelKind::Intent => (check::<Utterance>(path)?.0, 20, None),
        ModelKind::Ner => (check::<NerExample>(path)?.0, 20, None),
        ModelKind::Credit => (check::<CreditApplication>(path)?.0, 50, None),
        ModelKind::Anomaly | ModelKind::Spending => {
            let (summary, records) = check::<Transaction>(path)?;
            (summary, 100, Some(records))
        }
    };
    anyhow::ensure!(
        summary.rows >= min_rows,
        "{}: {} rows; at least {min_rows} are needed",
        path.display(),
        summary.rows
    );
    let total: usize = summary.labels.values().sum();
    match kind {
        ModelKind::Intent => {
            anyhow::ensure!(summary.labels.len() >= 2, "{}: fewer than 2 intents", path.display());
            if let Some((label, n)) = summary.labels.iter().find(|(_, n)| **n < 5) {
                anyhow::bail!("{}: intent {label:?} has {n} examples; at least 5 are needed", path.display());
            }
        }
        ModelKind::Credit => {
            let defaults = summary.labels.get("default").copied().unwrap_or(0);
            anyhow::ensure!(
                total == summary.rows && defaults >= 5 && total - defaults >= 5,
                "{}: every application needs a default label, with at least 5 of each class ({defaults} defaults in {total} labelled)",
                path.display()
            );
        }
        ModelKind::Ner | ModelKind::Anomaly | ModelKind::Spending => {}
    }
    Ok(Validated { rows: summary.rows, transactions })
}
