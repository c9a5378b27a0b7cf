//! Training one model from a [`ModelSpec`]: read the data, split, fit, evaluate.

use crate::compare;
use crate::evaluate;
use crate::inputs;
use crate::items;
use crate::report::{AnomalyReport, Comparison, CreditReport, Report, SpendingReport};
use crate::spec::{Input, ModelParams, ModelSpec, Split};
use anyhow::Context;
use nivesh_core::rng::Rng;
use nivesh_core::{CreditApplication, Transaction};
use nivesh_models::algo::gbdt::BinaryGbdt;
use nivesh_models::anomaly::AnomalyModel;
use nivesh_models::credit::CreditModel;
use nivesh_models::credit::GroupFairness;
use nivesh_models::forecast::EffectSource;
use nivesh_models::intent::IntentClassifier;
use nivesh_models::metrics::Bootstrap;
use nivesh_models::ner::FinancialNer;
use nivesh_models::tabular::Tabular;
use nivesh_models::text::StaticEmbeddings;
use nivesh_models::{Fit, ModelKind, Persist};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A trained model: its bytes, its evaluation (when something was held out), the parameters
/// to record with the run, and a line saying what was trained.
pub struct Trained {
    pub kind: ModelKind,
    pub bytes: Vec<u8>,
    pub report: Option<Report>,
    pub params: serde_json::Value,
    pub summary: String,
    /// The credit model trained with nothing held out: fairness on its training rows instead.
    pub training_fairness: Option<TrainingFairness>,
    /// The model on its evaluation data as monitoring sees it (when something was held out).
    pub profile: Option<nivesh_monitor::profile::Profile>,
    /// The new model against the one it may replace (the pipeline's champion, `train
    /// --against`) on the same evaluation items, paired; none without either.
    pub comparison: Option<Comparison>,
}

/// A credit model's fairness on its own training rows, at its decision threshold.
pub struct TrainingFairness {
    pub threshold: f64,
    pub groups: Vec<GroupFairness>,
}

/// Training data the caller already has (the pipeline reads the transaction models' data
/// through the feature store) instead of reading `spec.input`.
pub enum Prepared {
    /// The anomaly detector's point-in-time rows and each row's time.
    Anomaly(Tabular, Vec<f64>),
    /// Every transaction, for the spending forecaster.
    Transactions(Vec<Transaction>),
}

/// A deterministic random split of `n` rows: (training indices, held-out indices).
fn holdout_indices(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut idx);
    let test = idx.split_off(n - ((n as f64) * fraction).round().min(n as f64) as usize);
    (idx, test)
}

/// How a booster's parameters were chosen, for the training summary (empty when not tuned).
fn tuned(g: &BinaryGbdt) -> String {
    let (Some(t), p) = (&g.tuning, &g.params) else { return String::new() };
    let Some(best) = t.best() else { return String::new() };
    format!(
        "; tuned by {}-fold CV over {} grid points: depth {}, learning rate {}, min leaf weight {}, class balance {}, \
         {} rounds (CV {} {:.4} ± {:.4})",
        t.folds,
        t.rows.len(),
        p.max_depth,
        p.learning_rate,
        p.min_leaf_weight,
        p.class_balance,
        p.iterations,
        t.metric,
        best.score,
        best.fold_sd
    )
}

/// The parameters a model was trained with, as recorded with its run: the chosen ones, with
/// the tuning's table when tuned.
fn chosen_params(params: impl serde::Serialize, g: Option<&BinaryGbdt>) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(params)?;
    add_param(&mut v, "tuning", g.and_then(|g| g.tuning.as_ref()))?;
    Ok(v)
}

/// Record `value` (when there is one) under `key` in a run's params object, beside the
/// model's own parameters: what training chose or used that the parameters do not say.
fn add_param(params: &mut serde_json::Value, key: &str, value: Option<impl serde::Serialize>) -> anyhow::Result<()> {
    if let (Some(value), Some(obj)) = (value, params.as_object_mut()) {
        obj.insert(key.into(), serde_json::to_value(value)?);
    }
    Ok(())
}

fn anomaly_params(model: &AnomalyModel) -> anyhow::Result<serde_json::Value> {
    let mut p = model.params().clone();
    if let Some(g) = model.gbdt() {
        p.gbdt = g.params.clone();
    }
    chosen_params(p, model.gbdt())
}

/// Split off a deterministic share of records for evaluation (none without a holdout).
fn holdout<T: Clone>(data: Vec<T>, split: &Split) -> (Vec<T>, Vec<T>) {
    match split {
        Split::Holdout { fraction, seed } => {
            let (train, test) = holdout_indices(data.len(), *fraction, *seed);
            (train.iter().map(|&i| data[i].clone()).collect(), test.iter().map(|&i| data[i].clone()).collect())
        }
        _ => (data, Vec::new()),
    }
}

/// The `Input` of the evaluation files of a `Split::Files`, read like `input`.
fn eval_input(input: &Input, paths: &[PathBuf]) -> Input {
    Input { paths: paths.to_vec(), ..input.clone() }
}

/// Read a file written by `embeddings distill` (checksum verified).
pub fn load_embeddings(path: &Path) -> anyhow::Result<StaticEmbeddings> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    StaticEmbeddings::from_bytes(&bytes).with_context(|| format!("{} is not a static embeddings file", path.display()))
}

/// The table the intent classifier is trained with by default, compiled into the binary
/// (checksum verified like any file).
pub fn shipped_embeddings() -> anyhow::Result<StaticEmbeddings> {
    StaticEmbeddings::from_bytes(nivesh_models::text::SHIPPED_EMBEDDINGS)
        .context("the shipped static embeddings do not decode")
}

/// The table `choice` names, if any (an encoder is not a table: the NER refuses it).
pub fn embeddings(choice: &crate::spec::Embeddings) -> anyhow::Result<Option<StaticEmbeddings>> {
    match choice {
        crate::spec::Embeddings::Shipped => shipped_embeddings().map(Some),
        crate::spec::Embeddings::None => Ok(None),
        crate::spec::Embeddings::File(path) => load_embeddings(path).map(Some),
        crate::spec::Embeddings::Encoder(dir) => anyhow::bail!(
            "embeddings encoder:{} is the intent classifier's contextual mode; the NER reads a static table \
             (shipped, none or a file from `embeddings distill`)",
            dir.display()
        ),
    }
}

/// A BERT-style sentence encoder's files from a local directory: `config.json`,
/// `tokenizer.json` and `model.safetensors` (its source is the directory's name).
pub fn read_encoder_dir(dir: &Path) -> anyhow::Result<nivesh_models::text::EncoderFiles> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).with_context(|| {
            format!(
                "reading {} (the encoder directory needs config.json, model.safetensors and tokenizer.json)",
                path.display()
            )
        })
    };
    Ok(nivesh_models::text::EncoderFiles {
        source: dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned()),
        config_json: String::from_utf8(read("config.json")?).context("config.json is not UTF-8")?,
        tokenizer_json: String::from_utf8(read("tokenizer.json")?).context("tokenizer.json is not UTF-8")?,
        weights: read("model.safetensors")?,
    })
}

/// Train one model as `spec` says, reading its data from `spec.input`.
pub fn train(spec: &ModelSpec) -> anyhow::Result<Trained> {
    train_prepared(spec, None, None, None)
}

/// A previous model of the kind being trained, for the models that carry what they learned
/// across retrains ([`ModelParams::learns_from_previous`]).
#[derive(Debug, Clone)]
pub struct Previous {
    /// Its saved bytes.
    pub bytes: Vec<u8>,
    /// Where it came from, for errors and the run's params ("--previous FILE", "champion v3").
    pub source: String,
    /// `true`: a model that cannot be read fails the training (the user named it); `false`: the
    /// training goes on without it, with a warning (the pipeline's champion, which an older
    /// release may have written).
    pub required: bool,
}

impl Previous {
    /// Decode the bytes with `decode`; `None` when they cannot be read and the model is not
    /// required. `role` says what the model is for ("the previous model").
    fn decode<T>(&self, role: &str, decode: impl FnOnce(&[u8]) -> anyhow::Result<T>) -> anyhow::Result<Option<T>> {
        match decode(&self.bytes) {
            Ok(model) => Ok(Some(model)),
            Err(e) if self.required => Err(e.context(format!("reading {role} ({})", self.source))),
            Err(e) => {
                tracing::warn!(source = %self.source, error = %format!("{e:#}"), "{role} could not be read: going on without it");
                Ok(None)
            }
        }
    }

    /// A model's columns and this one's (decoded as `T`) must be the same for a comparison: an
    /// error when the model was named, `false` with a warning for the pipeline's champion
    /// (trained on other columns: gated by its recorded metric instead).
    fn same_columns(
        &self,
        new: &nivesh_models::tabular::Schema,
        own: &nivesh_models::tabular::Schema,
    ) -> anyhow::Result<bool> {
        if new == own {
            return Ok(true);
        }
        anyhow::ensure!(
            !self.required,
            "{}: its columns (or a categorical column's levels) differ from the new model's; compare the two on a \
             file with `evaluate --against`, which reads it for each model",
            self.source
        );
        tracing::warn!(source = %self.source, "the model to compare with was trained on other columns: not compared");
        Ok(false)
    }
}

/// The model to compare with on the evaluation items, decoded before anything is trained (`None`:
/// none given, or a champion that cannot be read).
fn baseline<T: Persist>(against: Option<&Previous>) -> anyhow::Result<Option<(T, &Previous)>> {
    let Some(p) = against else { return Ok(None) };
    Ok(p.decode("the model to compare with", |b| Ok(T::from_bytes(b)?))?.map(|m| (m, p)))
}

/// [`train`], with the training data given (`None`: read from `spec.input`) and the previous
/// model of the kind (`None`: none), for the models that carry what they learned across
/// retrains ([`ModelParams::learns_from_previous`]: the spending forecaster keeps the festival
/// multipliers that its training window no longer holds). The run's params name the previous
/// model used (`previous_model`). `against` (the champion, `train --against`) is evaluated on
/// the same items as the new model, paired ([`Trained::comparison`]); for the forecaster, its
/// parameters are backtested on the same users and origins.
pub fn train_prepared(
    spec: &ModelSpec,
    prepared: Option<Prepared>,
    previous: Option<&Previous>,
    against: Option<&Previous>,
) -> anyhow::Result<Trained> {
    spec.split.check()?;
    if let Some(a) = against.filter(|a| a.required) {
        anyhow::ensure!(
            // the forecaster backtests its last 90 days whatever the split
            !matches!(spec.split, Split::None) || matches!(spec.params, ModelParams::Spending(_)),
            "--against {}: nothing is held out to compare on; give --holdout or --eval",
            a.source
        );
    }
    let ci = &Bootstrap::with_samples(spec.bootstrap)?;
    let started = Instant::now();
    let secs = || started.elapsed().as_secs_f64();
    let input = &spec.input;
    let split = &spec.split;
    let mut training_fairness = None;
    let mut profile = None;
    let mut comparison = None;
    let (bytes, report, params, summary) = match &spec.params {
        ModelParams::Intent(intent) => {
            let data = inputs::utterances(input, "train")?;
            let (data, held) = holdout(data, split);
            tracing::info!(rows = data.len(), "training intent classifier");
            let base = baseline::<IntentClassifier>(against)?;
            let model = match &intent.embeddings {
                crate::spec::Embeddings::Encoder(dir) => {
                    let files = read_encoder_dir(dir)?;
                    intent
                        .params
                        .fit_with_encoder(&data, &files)
                        .with_context(|| format!("encoder {}", dir.display()))?
                }
                other => intent.params.fit_with_embeddings(&data, embeddings(other)?.as_ref())?,
            };
            let source = match (model.embeddings_source(), model.encoder_source()) {
                (Some(table), _) => Some(table.to_string()),
                (None, Some(encoder)) => Some(format!("encoder {encoder} (run per query)")),
                (None, None) => None,
            };
            let summary = format!(
                "trained intent classifier on {} utterances, {} intents, {} features in {:.2} s; embeddings: {}",
                data.len(),
                model.labels().len(),
                model.n_features(),
                secs(),
                source.as_deref().unwrap_or("none (TF-IDF only)")
            );
            let mut params = serde_json::to_value(&intent.params)?;
            add_param(&mut params, "embeddings", source)?;
            let eval = match split {
                Split::Files { paths, split } => {
                    inputs::utterances_from(paths, input.format, split.as_deref().unwrap_or("test"))?
                }
                _ => held,
            };
            let report =
                if eval.is_empty() { None } else { Some(Report::Intent(evaluate::intent(&model, &eval, &[], ci)?)) };
            if !eval.is_empty() {
                profile = Some(crate::profile::intent(&model, &eval)?);
            }
            if let Some((base, p)) = base.filter(|_| !eval.is_empty()) {
                let (x, y) = (items::intent_answers(&model, &eval, &[])?, items::intent_answers(&base, &eval, &[])?);
                let over = compare::drawn_again(eval.len(), "queries");
                comparison = Some(compare::comparison(&p.source, over, compare::intent(&x, &y, &eval, ci)));
            }
            (model.to_bytes()?, report, params, summary)
        }
        ModelParams::Ner(ner) => {
            let data = inputs::ner_examples(&input.paths, input.format)?;
            let (data, held) = holdout(data, split);
            let table = embeddings(&ner.embeddings)?;
            tracing::info!(rows = data.len(), "training NER");
            let base = baseline::<FinancialNer>(against)?;
            let model = ner.params.fit_with_embeddings(&data, table.as_ref())?;
            let summary = format!(
                "trained NER on {} sentences, labels {}, {} CRF state features in {:.2} s; word clusters: {}",
                data.len(),
                model.labels().join(", "),
                model.n_features(),
                secs(),
                model.clusters_source().unwrap_or("none")
            );
            let mut params = serde_json::to_value(&ner.params)?;
            let used = table.as_ref().map_or("none", |t| t.source());
            add_param(&mut params, "embeddings", Some(model.clusters_source().unwrap_or(used)))?;
            let eval = match split {
                Split::Files { paths, .. } => inputs::ner_examples(paths, input.format)?,
                _ => held,
            };
            let report = if eval.is_empty() { None } else { Some(Report::Ner(evaluate::ner(&model, &eval, ci)?)) };
            if !eval.is_empty() {
                profile = Some(crate::profile::ner(&model, &eval)?);
            }
            if let Some((base, p)) = base.filter(|_| !eval.is_empty()) {
                let ((gold, x, _), (_, y, _)) = (items::ner_spans(&model, &eval)?, items::ner_spans(&base, &eval)?);
                let over = compare::drawn_again(eval.len(), "sentences");
                comparison = Some(compare::comparison(&p.source, over, compare::ner(&gold, &x, &y, ci)));
            }
            (model.to_bytes()?, report, params, summary)
        }
        ModelParams::Credit(p) => {
            let data = inputs::credit_table(input, None, None)?;
            let (train, held, held_idx) = match split {
                Split::Holdout { fraction, seed } => {
                    let (train, test) = holdout_indices(data.rows, *fraction, *seed);
                    (data.subset(&train), Some(data.subset(&test)), test)
                }
                _ => (data, None, Vec::new()),
            };
            tracing::info!(rows = train.rows, "training credit model");
            let base = baseline::<CreditModel>(against)?;
            let model = p.fit(&train)?;
            let derived = model.bureau_features().map(|b| b.columns.iter().map(|d| d.name.clone()).collect::<Vec<_>>());
            let chosen = model.bureau_cv().map_or_else(String::new, |c| {
                let (verb, m) = (if c.kept { "kept" } else { "not kept" }, c.metric);
                format!(
                    "; {} credit-bureau features {verb} by CV ({m} {:.4} with, {:.4} without)",
                    c.derived, c.with, c.without
                )
            });
            let summary = format!(
                "trained credit model on {} rows, {} features{}, {} trees in {:.2} s{}{chosen}",
                train.rows,
                train.n_cols(),
                derived.as_ref().map_or_else(String::new, |d| format!(" (+{} credit-bureau features)", d.len())),
                model.n_trees(),
                secs(),
                tuned(model.gbdt())
            );
            let eval = match split {
                Split::Files { paths, .. } => {
                    Some(inputs::credit_table(&eval_input(input, paths), Some(model.schema()), None)?)
                }
                _ => held,
            };
            let report = match eval {
                Some(t) => {
                    let mut r = evaluate::credit(&model, &t, ci)?;
                    r.achievable_auc = achievable_credit_auc(input, &held_idx)?;
                    if let Some((base, p)) = base
                        && p.same_columns(model.schema(), base.schema())?
                    {
                        comparison = Some(compare::credit_rows(&p.source, &model, &base, &t, &t, ci)?);
                    }
                    profile = Some(crate::profile::credit(&model, &t)?);
                    Some(Report::Credit(CreditReport::Holdout(r)))
                }
                None => {
                    training_fairness =
                        Some(TrainingFairness { threshold: model.threshold(), groups: model.fairness(&train)? });
                    None
                }
            };
            let mut params = chosen_params(model.params(), Some(model.gbdt()))?;
            add_param(&mut params, "bureau_columns", derived)?;
            add_param(&mut params, "bureau_cv", model.bureau_cv())?;
            (model.to_bytes()?, report, params, summary)
        }
        ModelParams::Anomaly(p) => {
            let (data, times) = match prepared {
                Some(Prepared::Anomaly(table, times)) => (table, Some(times)),
                _ => inputs::anomaly_table(input, None, spec.time_column.as_deref(), None)?,
            };
            let (train, held) = match (split, &times) {
                (Split::Holdout { fraction, .. }, Some(times)) => {
                    // the latest share by time is held out: the model never sees the future
                    let mut idx: Vec<usize> = (0..data.rows).collect();
                    idx.sort_by(|&a, &b| times[a].total_cmp(&times[b]).then(a.cmp(&b)));
                    let cut = data.rows - ((data.rows as f64) * fraction).round() as usize;
                    (data.subset(&idx[..cut]), Some(data.subset(&idx[cut..])))
                }
                (Split::Holdout { fraction, seed }, None) => {
                    let (train, test) = holdout_indices(data.rows, *fraction, *seed);
                    (data.subset(&train), Some(data.subset(&test)))
                }
                _ => (data, None),
            };
            tracing::info!(rows = train.rows, mode = ?p.mode, "training anomaly detector");
            let base = baseline::<AnomalyModel>(against)?;
            let model = p.fit(&train)?;
            let summary = format!(
                "trained {:?} anomaly detector on {} rows, {} features in {:.2} s; threshold {:.4}{}",
                model.mode(),
                train.rows,
                train.n_cols(),
                secs(),
                model.threshold(),
                model.gbdt().map(tuned).unwrap_or_default()
            );
            let eval = match split {
                Split::Files { paths, .. } => {
                    Some(inputs::anomaly_table(&eval_input(input, paths), Some(model.schema()), None, None)?.0)
                }
                _ => held,
            };
            let report = match eval {
                Some(t) => {
                    profile = Some(crate::profile::anomaly(&model, &t));
                    if let Some((base, p)) = base
                        && p.same_columns(model.schema(), base.schema())?
                    {
                        comparison = Some(compare::anomaly_rows(&p.source, &model, &base, &t, &t, ci)?);
                    }
                    Some(Report::Anomaly(AnomalyReport::Holdout(evaluate::anomaly(&model, &t, ci)?)))
                }
                None => None,
            };
            (model.to_bytes()?, report, anomaly_params(&model)?, summary)
        }
        ModelParams::Spending(p) => {
            let txns: Vec<Transaction> = match prepared {
                Some(Prepared::Transactions(txns)) => txns,
                _ => {
                    anyhow::ensure!(!input.paths.is_empty(), "--data is required");
                    let mut all = Vec::new();
                    for path in &input.paths {
                        let mut records = nivesh_core::dataset::read_records(path)
                            .with_context(|| format!("reading {}", path.display()))?;
                        all.append(&mut records);
                    }
                    all
                }
            };
            // backtest first: effects learned before the cut, forecasts of the last 90 days
            // the previous model that could be read, and where it came from
            let (previous, previous_source) = match previous {
                Some(p) => match p
                    .decode("the previous model", |b| Ok(nivesh_models::forecast::SpendingForecaster::from_bytes(b)?))?
                {
                    Some(model) => (Some(model), Some(p.source.as_str())),
                    None => (None, None),
                },
                None => (None, None),
            };
            let base = baseline::<nivesh_models::forecast::SpendingForecaster>(against)?;
            // (with the previous model only when it was trained before the backtest's cut)
            let (report, ours) = evaluate::spending_backtest(p, &txns, 90, previous.as_ref(), ci)?;
            if let Some((base, b)) = &base {
                // its parameters on the same users and origins, with the same prior as ours: a
                // comparison of parameters
                match evaluate::backtest_against(&ours, (p, base.params()), &txns, previous.as_ref(), &b.source, ci) {
                    Ok(c) => comparison = Some(c),
                    Err(e) if !b.required => tracing::warn!(
                        source = %b.source, error = %format!("{e:#}"),
                        "the model to compare with could not be backtested: not compared"
                    ),
                    Err(e) => return Err(e.context(format!("backtesting {}", b.source))),
                }
            }
            let model = p.fit_with_previous(&txns, previous.as_ref())?;
            let summary = format!(
                "trained spending forecaster on {} transactions in {:.2} s; festival multipliers: {}",
                txns.len(),
                secs(),
                model
                    .effects
                    .iter()
                    .map(|e| match e.source {
                        EffectSource::Data => format!("{} ×{:.2}", e.festival, e.multiplier),
                        EffectSource::Previous => format!("{} ×{:.2} (previous model)", e.festival, e.multiplier),
                        EffectSource::Pooled => format!("{} ×{:.2} (pooled)", e.festival, e.multiplier),
                        EffectSource::None => format!("{} ×1 (no data)", e.festival),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ) + &model.chosen().map_or_else(String::new, |c| format!("; method auto → {c}"));
            profile = Some(nivesh_monitor::profile::Profile::build(ModelKind::Spending, &report.observations));
            let report = Some(Report::Spending(SpendingReport::Backtest(Box::new(report))));
            let mut params = serde_json::to_value(p)?;
            add_param(&mut params, "previous_model", previous_source)?;
            add_param(&mut params, "method_chosen", model.chosen())?;
            (model.to_bytes()?, report, params, summary)
        }
    };
    Ok(Trained { kind: spec.params.kind(), bytes, report, params, summary, training_fairness, profile, comparison })
}

/// For generated credit applications, the AUC of the generator's own default logit on the
/// held-out rows: the best any model can reach there.
fn achievable_credit_auc(input: &Input, held: &[usize]) -> anyhow::Result<Option<f64>> {
    if input.label.is_some() || held.is_empty() || input.paths.len() != 1 {
        return Ok(None);
    }
    let apps: Vec<CreditApplication> = nivesh_core::dataset::read_records(&input.paths[0])?;
    let scores: Vec<f64> = held.iter().map(|&i| nivesh_datagen::credit::default_logit(&apps[i])).collect();
    let labels: Vec<bool> = held.iter().map(|&i| apps[i].default == Some(true)).collect();
    let auc = nivesh_core::stats::auc(&scores, &labels);
    Ok(auc.is_finite().then_some(auc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nivesh_models::forecast::{ForecastParams, SpendingForecaster};

    fn spending_run(previous: Option<&Previous>) -> anyhow::Result<Trained> {
        let g = nivesh_core::gazetteer::Gazetteer::builtin();
        let start = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap_or_default();
        let txns = nivesh_datagen::transactions::generate(&mut Rng::new(5), 6, start, 150, &g);
        let spec = ModelSpec {
            params: ModelParams::Spending(ForecastParams::default()),
            input: Input::default(),
            split: Split::None,
            time_column: None,
            bootstrap: 0,
        };
        train_prepared(&spec, Some(Prepared::Transactions(txns)), previous, None)
    }

    #[test]
    fn a_previous_model_is_named_in_the_params_and_a_broken_one_fails_only_when_required() {
        let first = spending_run(None).unwrap();
        assert!(first.params.get("previous_model").is_none(), "{}", first.params);
        let previous = Previous { bytes: first.bytes.clone(), source: "champion v1 (abc)".into(), required: false };
        let second = spending_run(Some(&previous)).unwrap();
        assert_eq!(second.params["previous_model"], "champion v1 (abc)");
        assert!(SpendingForecaster::from_bytes(&second.bytes).is_ok());
        // undecodable: the pipeline's champion is skipped (same model as without one) ...
        let broken = Previous { bytes: b"not a model".to_vec(), source: "champion v2 (def)".into(), required: false };
        let skipped = spending_run(Some(&broken)).unwrap();
        assert!(skipped.params.get("previous_model").is_none(), "{}", skipped.params);
        assert_eq!(skipped.bytes, first.bytes);
        // ... a file the user named fails the training, naming it
        let named = Previous { source: "--previous old.model".into(), required: true, ..broken };
        let Err(err) = spending_run(Some(&named)) else { panic!("a broken --previous trained") };
        let err = format!("{err:#}");
        assert!(err.contains("reading the previous model (--previous old.model)"), "{err}");
    }
}
