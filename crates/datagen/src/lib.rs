//! `nivesh-datagen`: deterministic, realistic sample data for Indian personal finance.
//!
//! `generate(out_dir, seed, scale)` writes four datasets and a manifest. The same seed gives
//! byte-identical files (the generator uses [`nivesh_core::rng::Rng`], whose stream is pinned
//! by a test); a different seed gives different files.

pub mod credit;
pub mod intents;
pub mod ner;
pub mod surface;
pub mod transactions;

use chrono::NaiveDate;
use nivesh_core::RecordKind;
use nivesh_core::dataset::{DataError, write_records};
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use serde::Serialize;
use std::path::Path;

/// How much data to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// For tests: generates in well under two seconds.
    Small,
    /// The bundled training data.
    Full,
}

impl std::str::FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "small" => Ok(Scale::Small),
            "full" => Ok(Scale::Full),
            other => Err(format!("unknown scale '{other}' (allowed: small, full)")),
        }
    }
}

/// Sizes per scale.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sizes {
    pub utterances_per_intent: usize,
    pub ner_sentences: usize,
    pub users: usize,
    pub days: usize,
    pub credit_applications: usize,
}

impl Scale {
    pub fn sizes(self) -> Sizes {
        match self {
            Scale::Small => {
                Sizes { utterances_per_intent: 40, ner_sentences: 300, users: 20, days: 396, credit_applications: 600 }
            }
            // 500 days: every festival window (and its 30-day baseline) falls before the
            // spending backtest's last 90 days, so the model fitted before them has seen a
            // Diwali; 400 users keep the size of the 13 months × 500 users it replaced
            Scale::Full => Sizes {
                utterances_per_intent: 200,
                ner_sentences: 2000,
                users: 400,
                days: 500,
                credit_applications: 6000,
            },
        }
    }
}

/// File names inside the output directory.
pub const INTENTS_FILE: &str = RecordKind::Utterance.sample_file();
pub const NER_FILE: &str = RecordKind::Ner.sample_file();
pub const TRANSACTIONS_FILE: &str = RecordKind::Transaction.sample_file();
pub const CREDIT_FILE: &str = RecordKind::Credit.sample_file();
pub const MANIFEST_FILE: &str = "manifest.json";

/// The first day of generated transactions by default (covering Diwali 2024 and 2025).
pub fn transactions_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 10, 1).unwrap_or(NaiveDate::MIN)
}

#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    pub file: String,
    pub rows: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreditInfo {
    pub default_rate: f64,
    /// AUC of the true default logit on this set: the best AUC a model can reach.
    pub achievable_auc: f64,
    pub mechanism: &'static str,
}

/// What was generated, written as `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub generator: &'static str,
    pub seed: u64,
    pub scale: Scale,
    pub sizes: Sizes,
    pub files: Vec<FileInfo>,
    pub anomaly_rate: f64,
    pub credit: CreditInfo,
}

/// Generate every dataset into `out`, transactions from [`transactions_start`].
pub fn generate(out: &Path, seed: u64, scale: Scale) -> Result<Manifest, DataError> {
    generate_from(out, seed, scale, transactions_start())
}

/// Generate every dataset into `out`, transactions from `start` (e.g. so that the sample users'
/// history ends yesterday); the same seed and start give the same files.
pub fn generate_from(out: &Path, seed: u64, scale: Scale, start: NaiveDate) -> Result<Manifest, DataError> {
    generate_sized(out, seed, scale, scale.sizes(), start)
}

/// [`generate_from`] with the sizes of `scale` overridden (e.g. 20,000 users for a scale-out
/// benchmark). User `u`'s transactions depend only on the seed, `u` and the dates, so more
/// users add rows without changing the first ones.
pub fn generate_sized(
    out: &Path,
    seed: u64,
    scale: Scale,
    sizes: Sizes,
    start: NaiveDate,
) -> Result<Manifest, DataError> {
    let gazetteer = Gazetteer::builtin();
    let root = Rng::new(seed);
    let mut files = Vec::new();
    let mut record = |name: &str, rows: usize| -> Result<(), DataError> {
        let path = out.join(name);
        let bytes =
            std::fs::metadata(&path).map_err(|e| DataError::Io { path: path.display().to_string(), source: e })?.len();
        files.push(FileInfo { file: name.to_string(), rows, bytes });
        Ok(())
    };

    let utterances = intents::generate(&mut root.fork(1), sizes.utterances_per_intent, &gazetteer);
    write_records(&out.join(INTENTS_FILE), &utterances)?;
    record(INTENTS_FILE, utterances.len())?;

    let sentences = ner::generate(&mut root.fork(2), sizes.ner_sentences, &gazetteer);
    write_records(&out.join(NER_FILE), &sentences)?;
    record(NER_FILE, sentences.len())?;

    let txns = transactions::generate(&mut root.fork(3), sizes.users, start, sizes.days, &gazetteer);
    let anomalies = txns.iter().filter(|t| t.is_anomaly == Some(true)).count();
    write_records(&out.join(TRANSACTIONS_FILE), &txns)?;
    record(TRANSACTIONS_FILE, txns.len())?;

    let apps = credit::generate(&mut root.fork(4), sizes.credit_applications);
    write_records(&out.join(CREDIT_FILE), &apps)?;
    record(CREDIT_FILE, apps.len())?;
    let labels: Vec<bool> = apps.iter().map(|a| a.default == Some(true)).collect();
    let scores: Vec<f64> = apps.iter().map(credit::default_logit).collect();
    let round4 = |x: f64| (x * 1e4).round() / 1e4;

    let manifest = Manifest {
        generator: concat!("nivesh-datagen ", env!("CARGO_PKG_VERSION")),
        seed,
        scale,
        sizes,
        files,
        anomaly_rate: round4(anomalies as f64 / txns.len().max(1) as f64),
        credit: CreditInfo {
            default_rate: round4(labels.iter().filter(|&&l| l).count() as f64 / labels.len().max(1) as f64),
            achievable_auc: round4(nivesh_core::stats::auc(&scores, &labels)),
            mechanism: "default ~ Bernoulli(sigmoid(f(x) + N(0, 0.8^2))); f = nivesh_datagen::credit::default_logit",
        },
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| DataError::Io { path: MANIFEST_FILE.into(), source: std::io::Error::other(e) })?;
    let path = out.join(MANIFEST_FILE);
    nivesh_core::fsutil::atomic_write(&path, &json)
        .map_err(|e| DataError::Io { path: path.display().to_string(), source: e })?;
    Ok(manifest)
}
