//! The five models as one enum. Every fact that differs per model and is needed outside the
//! model's own module lives here — names, artifact file, primary metric, cache lifetime, data
//! file — so a sixth model is a new variant, and every `match` on [`ModelKind`] in the
//! workspace (training, serving, the CLI) fails to compile until it handles it.

use nivesh_core::RecordKind;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One of nivesh-ml's models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ModelKind {
    /// Intent classifier (TF-IDF + linear SVM).
    Intent,
    /// Financial named-entity recogniser (CRF + rules).
    Ner,
    /// Spending forecaster (MSTL + AutoETS with festival effects).
    Spending,
    /// Transaction anomaly detector (isolation forest, or supervised trees).
    Anomaly,
    /// Credit-risk scorer (gradient-boosted trees with SHAP reason codes).
    Credit,
}

/// The metric a model is judged by (the champion gate compares it), and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrimaryMetric {
    /// Its key in the model's evaluation report.
    pub name: &'static str,
    pub higher_is_better: bool,
}

impl ModelKind {
    /// Every model, in the order the pipeline trains them.
    pub const ALL: [ModelKind; 5] =
        [ModelKind::Intent, ModelKind::Ner, ModelKind::Spending, ModelKind::Anomaly, ModelKind::Credit];

    /// The short name: CLI arguments, logs, metrics labels, JSON.
    pub const fn name(self) -> &'static str {
        match self {
            ModelKind::Intent => "intent",
            ModelKind::Ner => "ner",
            ModelKind::Spending => "spending",
            ModelKind::Anomaly => "anomaly",
            ModelKind::Credit => "credit",
        }
    }

    /// The registered model's name in the registry (and its MLflow mirror). It equals
    /// [`ModelKind::name`]; existing registries hold these names, so they must not change.
    pub const fn registry_name(self) -> &'static str {
        self.name()
    }

    /// What the model is, in a few words (CLI help).
    pub const fn description(self) -> &'static str {
        match self {
            ModelKind::Intent => "Intent classifier (TF-IDF + linear SVM)",
            ModelKind::Ner => "Financial named-entity recogniser (CRF + rules)",
            ModelKind::Spending => "Spending forecaster (MSTL + AutoETS with festival effects)",
            ModelKind::Anomaly => "Transaction anomaly detector (isolation forest, or supervised trees)",
            ModelKind::Credit => "Credit-risk scorer (gradient-boosted trees with SHAP reason codes)",
        }
    }

    /// File name of the model inside a model directory (`train MODEL --out DIR`).
    pub const fn artifact_file(self) -> &'static str {
        match self {
            ModelKind::Intent => "intent.model",
            ModelKind::Ner => "ner.model",
            ModelKind::Spending => "spending.model",
            ModelKind::Anomaly => "anomaly.model",
            ModelKind::Credit => "credit.model",
        }
    }

    /// The primary metric of the model's evaluation report.
    pub const fn primary_metric(self) -> PrimaryMetric {
        let (name, higher_is_better) = match self {
            ModelKind::Intent => ("accuracy", true),
            ModelKind::Ner => ("f1", true),
            ModelKind::Spending => ("mase", false),
            ModelKind::Anomaly | ModelKind::Credit => ("auc_roc", true),
        };
        PrimaryMetric { name, higher_is_better }
    }

    /// How long a served prediction may be answered from the cache (the original service's
    /// lifetimes: a forecast moves with new spending, an anomaly score with the next transaction).
    pub const fn cache_ttl(self) -> Duration {
        match self {
            ModelKind::Intent | ModelKind::Ner | ModelKind::Credit => Duration::from_secs(60 * 60),
            ModelKind::Spending => Duration::from_secs(30 * 60),
            ModelKind::Anomaly => Duration::from_secs(5 * 60),
        }
    }

    /// The records the model trains on.
    pub const fn record_kind(self) -> RecordKind {
        match self {
            ModelKind::Intent => RecordKind::Utterance,
            ModelKind::Ner => RecordKind::Ner,
            ModelKind::Spending | ModelKind::Anomaly => RecordKind::Transaction,
            ModelKind::Credit => RecordKind::Credit,
        }
    }

    /// The file the pipeline trains it from, inside a data directory.
    pub const fn data_file(self) -> &'static str {
        self.record_kind().sample_file()
    }

    /// Position in [`ModelKind::ALL`], for tables indexed by model.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The kinds' names joined with `", "` (for messages listing what is allowed).
    pub fn names() -> String {
        ModelKind::ALL.map(ModelKind::name).join(", ")
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of the models.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no model named {0:?} (models: {models})", models = ModelKind::names())]
pub struct UnknownModel(pub String);

impl std::str::FromStr for ModelKind {
    type Err = UnknownModel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| UnknownModel(s.to_string()))
    }
}

#[cfg(feature = "cli")]
impl clap::ValueEnum for ModelKind {
    fn value_variants<'a>() -> &'a [Self] {
        &ModelKind::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.description()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_indexes_follow_all() {
        for (i, k) in ModelKind::ALL.into_iter().enumerate() {
            assert_eq!(k.name().parse::<ModelKind>(), Ok(k));
            assert_eq!(k.index(), i);
            assert_eq!(serde_json::to_value(k).ok(), Some(serde_json::json!(k.name())));
        }
        let e = "shoes".parse::<ModelKind>().unwrap_err().to_string();
        assert_eq!(e, "no model named \"shoes\" (models: intent, ner, spending, anomaly, credit)");
        assert_eq!(ModelKind::Credit.data_file(), "credit_applications.csv");
        assert_eq!(ModelKind::Spending.primary_metric(), PrimaryMetric { name: "mase", higher_is_better: false });
    }
}
