//! The training pipeline: for each model of a [`TrainSpec`], validate its data, train and
//! evaluate it, record a run (parameters, metrics, dataset hash, git commit; model, report and
//! plots as content-addressed artifacts), register a version and promote it through the
//! champion gate; then mirror what is new to MLflow when one is configured.
//!
//! Order of writes makes a crash harmless: an artifact is stored before any row points at it,
//! and a run is marked finished only once its artifacts are in.

use crate::report::Metric;
use crate::spec::{DataSource, ModelParams, TrainSpec};
use crate::train::{Prepared, Previous, Trained, train_prepared};
use crate::validate::validate;
use anyhow::Context;
use nivesh_features::FeatureStore;
use nivesh_models::ModelKind;
use nivesh_store::mlflow::{MlflowClient, sync_pending};
use nivesh_store::registry::{RunInfo, RunStatus};
use nivesh_store::{ArtifactStore, Digest, Registry};
use serde::Serialize;
use std::time::Instant;

/// A model's champion as a training run reads it.
struct Champion {
    model: Previous,
    version: u32,
    /// Its run trained on the same data file with the same split.
    same_data: bool,
}

/// The run artifact holding a version's training profile (for drift checks).
pub const PROFILE_ARTIFACT: &str = "profile.json";

/// The training profile of `kind`'s champion, with its version (`None`: no champion, or a
/// version trained before profiles were stored).
pub fn champion_profile(
    registry: &Registry,
    artifacts: &ArtifactStore,
    kind: ModelKind,
) -> anyhow::Result<Option<(u32, nivesh_monitor::profile::Profile)>> {
    let Some(v) = registry.alias(kind.registry_name(), "champion")? else { return Ok(None) };
    let run = registry.run(&v.run_id)?;
    let Some((_, digest)) = run.artifacts.iter().find(|(n, _)| n == PROFILE_ARTIFACT) else { return Ok(None) };
    let profile = serde_json::from_slice(&artifacts.get(digest)?)
        .with_context(|| format!("{kind} v{}: the training profile does not read", v.version))?;
    Ok(Some((v.version, profile)))
}

/// The commit this build was made from, when it was built from a git checkout.
pub const GIT_COMMIT: Option<&str> = option_env!("NIVESH_GIT_COMMIT");

/// What the pipeline tells its caller as it goes (the CLI draws spinners and tables, the
/// server updates a job). Every method does nothing unless implemented.
pub trait Progress {
    /// The sample data is being generated into this directory (once).
    fn generating(&mut self, _dir: &std::path::Path) {}
    /// Model `index` of `of` (from 0) starts.
    fn started(&mut self, _kind: ModelKind, _index: usize, _of: usize) {}
    /// A model is trained and evaluated (before it is registered).
    fn trained(&mut self, _trained: &Trained) {}
    /// A model is done, one way or another.
    fn finished(&mut self, _outcome: &Outcome) {}
    /// The run was mirrored to MLflow (or MLflow did not answer).
    fn mirrored(&mut self, _mirror: &Mirror) {}
    /// Asked before each model: `true` stops the run there (the rest are skipped), e.g. when
    /// the server shuts down.
    fn cancelled(&self) -> bool {
        false
    }
}

/// A [`Progress`] that tells nothing.
pub struct Silent;

impl Progress for Silent {}

/// Where a newly registered version ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alias {
    /// It passed the gate and serves.
    Champion,
    /// It did not pass the gate; it is kept as the challenger.
    Challenger,
    /// Promotion was not asked for.
    NotPromoted,
}

impl Alias {
    pub fn as_str(self) -> &'static str {
        match self {
            Alias::Champion => "champion",
            Alias::Challenger => "challenger",
            Alias::NotPromoted => "(not promoted)",
        }
    }
}

/// How one model's training ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Succeeded {
        run_id: String,
        version: u32,
        metric: Metric,
        alias: Alias,
        /// Why the gate kept it out, when it did.
        #[serde(skip_serializing_if = "Option::is_none")]
        gate: Option<String>,
    },
    Failed {
        #[serde(skip_serializing_if = "Option::is_none")]
        run_id: Option<String>,
        /// The error and its causes, on one line.
        error: String,
    },
    /// Not run: an earlier model failed and the spec does not continue on error, or the run
    /// was cancelled.
    Skipped,
}

/// One model's part of a pipeline run.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub model: ModelKind,
    pub seconds: f64,
    #[serde(flatten)]
    pub status: Status,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Status::Succeeded { .. })
    }
}

/// What mirroring to MLflow did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Mirror {
    Done {
        uri: String,
        runs: usize,
        versions: usize,
        aliases: usize,
        failures: Vec<String>,
    },
    /// MLflow did not answer; everything stays pending for `registry sync`.
    Unreachable {
        uri: String,
        error: String,
        pending_runs: usize,
    },
}

impl Mirror {
    /// Everything was sent.
    pub fn complete(&self) -> bool {
        matches!(self, Mirror::Done { failures, .. } if failures.is_empty())
    }
}

/// Send whatever is pending to the MLflow server at `uri`. An unreachable server is not an
/// error: the local registry has everything, and a later call sends it.
pub fn mirror(uri: &str, registry: &Registry, store: &ArtifactStore) -> anyhow::Result<Mirror> {
    let client = MlflowClient::new(uri);
    Ok(match sync_pending(&client, registry, store) {
        Ok(r) => Mirror::Done {
            uri: uri.to_string(),
            runs: r.runs,
            versions: r.versions,
            aliases: r.aliases,
            failures: r.failures,
        },
        Err(e) => Mirror::Unreachable {
            uri: uri.to_string(),
            error: nivesh_core::error_chain(&e),
            pending_runs: registry.pending_runs()?.len(),
        },
    })
}

/// Where the transaction models (anomaly, spending) get their training data.
#[derive(Clone, Copy)]
pub enum Features<'a> {
    /// Through the feature store: their file is ingested, the rows come back point in time.
    Store(&'a FeatureStore),
    /// From their files directly (a library user without a feature store).
    Files,
    /// A feature store is configured but could not be opened: these two models fail, saying why.
    Unavailable(&'a str),
}

/// What a pipeline run writes to: the registry and artifact store, where the transaction
/// models' data comes from, and the MLflow server to mirror to.
pub struct Pipeline<'a> {
    pub registry: &'a Registry,
    pub artifacts: &'a ArtifactStore,
    pub features: Features<'a>,
    pub mlflow_uri: Option<&'a str>,
}

impl Pipeline<'_> {
    /// Run `spec`: one [`Outcome`] per model of the spec, in its order. An error is returned
    /// only when nothing could start (the data could not be generated, the registry is down).
    pub fn run(&self, spec: &TrainSpec, progress: &mut dyn Progress) -> anyhow::Result<Vec<Outcome>> {
        if let DataSource::Sample { dir } = &spec.data
            && !dir.join(nivesh_datagen::MANIFEST_FILE).exists()
        {
            progress.generating(dir);
            nivesh_datagen::generate(dir, 42, nivesh_datagen::Scale::Full)
                .with_context(|| format!("generating the sample data into {}", dir.display()))?;
        }
        let mut outcomes = Vec::with_capacity(spec.models.len());
        let mut stopped = false;
        for (i, params) in spec.models.iter().enumerate() {
            let kind = params.kind();
            if stopped || progress.cancelled() {
                let outcome = Outcome { model: kind, seconds: 0.0, status: Status::Skipped };
                progress.finished(&outcome);
                outcomes.push(outcome);
                continue;
            }
            progress.started(kind, i, spec.models.len());
            tracing::info!(model = kind.name(), step = i + 1, of = spec.models.len(), "pipeline: training");
            let started = Instant::now();
            let mut run_id = None;
            let result = self.run_one(spec, params, &mut run_id, progress);
            let seconds = started.elapsed().as_secs_f64();
            tracing::info!(model = kind.name(), seconds, ok = result.is_ok(), "pipeline: done");
            let status = match result {
                Ok(status) => status,
                Err(e) => {
                    stopped = !spec.continue_on_error;
                    Status::Failed { run_id, error: format!("{e:#}") }
                }
            };
            let outcome = Outcome { model: kind, seconds, status };
            progress.finished(&outcome);
            outcomes.push(outcome);
        }
        if let Some(uri) = self.mlflow_uri {
            progress.mirrored(&mirror(uri, self.registry, self.artifacts)?);
        }
        Ok(outcomes)
    }

    /// The transaction models train through the feature store: the file's events are ingested
    /// into the offline store (idempotent), the detector's rows come from its point-in-time
    /// join and the forecaster's history from the stored events.
    fn prepare(
        &self,
        kind: ModelKind,
        transactions: Option<Vec<nivesh_core::Transaction>>,
    ) -> anyhow::Result<Option<Prepared>> {
        let Some(events) = transactions else { return Ok(None) };
        let fs = match self.features {
            Features::Store(fs) => fs,
            Features::Files => return Ok(None),
            Features::Unavailable(why) => anyhow::bail!("the feature store is unavailable: {why}"),
        };
        let (inserted, skipped) = fs.ingest(&events).context("feature store: ingesting the events")?;
        tracing::info!(inserted, skipped, offline = fs.offline().location(), "feature store: events ingested");
        Ok(match kind {
            ModelKind::Anomaly => {
                let (table, times) = fs.anomaly_training_table()?;
                Some(Prepared::Anomaly(table, times))
            }
            ModelKind::Spending => {
                let mut by_user: Vec<_> = fs.events(None)?.into_iter().collect();
                by_user.sort_by(|a, b| a.0.cmp(&b.0));
                Some(Prepared::Transactions(by_user.into_iter().flat_map(|(_, v)| v).collect()))
            }
            ModelKind::Intent | ModelKind::Ner | ModelKind::Credit => None,
        })
    }

    /// `kind`'s champion (`None`: none, or its bytes could not be read; a champion that cannot
    /// be decoded is skipped with a warning by the training, see [`Previous::required`]), and
    /// whether its run trained on the same data file (`dataset_hash`) with the same split: only
    /// then are this run's held-out items ones it never trained on, so that it may be scored on
    /// them (a random split of changed data can hold out the champion's training rows).
    fn champion(&self, kind: ModelKind, dataset_hash: &str, split: &str) -> Option<Champion> {
        let read = || -> anyhow::Result<Option<Champion>> {
            let Some(v) = self.registry.alias(kind.registry_name(), "champion")? else { return Ok(None) };
            let bytes = self.artifacts.get(&v.digest)?;
            let digest = v.digest.0.get(..12).unwrap_or(&v.digest.0);
            let run = self.registry.run(&v.run_id)?;
            let same_data = run.dataset_hash.as_deref() == Some(dataset_hash)
                && run.tags.get("split").and_then(|t| t.as_str()) == Some(split);
            let model = Previous { bytes, source: format!("champion v{} ({digest})", v.version), required: false };
            Ok(Some(Champion { model, version: v.version, same_data }))
        };
        read().unwrap_or_else(|e| {
            tracing::warn!(model = kind.name(), error = %format!("{e:#}"), "the champion could not be read: training without it");
            None
        })
    }

    fn run_one(
        &self,
        spec: &TrainSpec,
        params: &ModelParams,
        run_id: &mut Option<String>,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<Status> {
        let kind = params.kind();
        let name = kind.registry_name();
        let model_spec = spec.model_spec(params);
        let data = spec.data.dir().join(kind.data_file());
        let raw = std::fs::read(&data).with_context(|| format!("reading {}", data.display()))?;
        let suites = crate::validate::suites(spec.suites.as_deref())?;
        let checked = validate(kind, &data, &suites).with_context(|| format!("validating {name}'s data"))?;
        let dataset_hash = Digest::of(&raw).0;
        // recorded with the run: a later run compares with this one only on the same data and split
        let split = serde_json::to_string(&spec.split)?;
        let info = RunInfo {
            git_commit: GIT_COMMIT.map(str::to_string),
            dataset_hash: Some(dataset_hash.clone()),
            dataset_rows: Some(checked.report.rows as u64),
            params: serde_json::Value::Null,
            tags: {
                let mut tags = serde_json::json!({"model": name, "data": data.display().to_string(), "split": split});
                for (k, v) in &spec.tags {
                    tags[k.as_str()] = serde_json::Value::String(v.clone());
                }
                tags
            },
        };
        let run = self.registry.start_run(name, &info)?;
        *run_id = Some(run.clone());
        // the validation report is kept with the run, passed or not
        let report_json = self.artifacts.put(&serde_json::to_vec_pretty(&checked.report)?)?;
        self.registry.log_artifact(&run, "validation.json", &report_json)?;
        let report_html = self.artifacts.put(nivesh_monitor::html::validation(&checked.report).as_bytes())?;
        self.registry.log_artifact(&run, "validation.html", &report_html)?;
        let champion = self.champion(kind, &dataset_hash, &split);
        let trained = if checked.report.passed {
            // the champion: the previous model of the models that learn from it, and scored on
            // the same held-out items when it trained on the same data (the gate); the
            // forecaster's parameters are refitted before the backtest's cut, on any data
            let previous = champion.as_ref().map(|c| &c.model).filter(|_| params.learns_from_previous());
            let against = champion.as_ref().filter(|c| c.same_data || params.compares_by_refitting()).map(|c| &c.model);
            self.prepare(kind, checked.transactions)
                .and_then(|prepared| train_prepared(&model_spec, prepared, previous, against))
        } else {
            Err(anyhow::anyhow!("validating {name}'s data: {}", checked.report.failures()))
        };
        let trained = match trained {
            Ok(t) => t,
            Err(e) => {
                self.registry.finish_run(&run, RunStatus::Failed)?;
                if self.mlflow_uri.is_some() {
                    nivesh_store::mlflow::mark_pending(self.registry, &run, &[])?;
                }
                return Err(e);
            }
        };
        progress.trained(&trained);
        let report = trained.report.as_ref().with_context(|| format!("{name}: training gave no evaluation"))?;
        let metric = report.primary_metric();
        anyhow::ensure!(metric.value.is_finite(), "the evaluation's {} is {}", metric.name, metric.value);
        for (k, v) in report.scalars() {
            self.registry.log_metric(&run, &k, v, 0)?;
        }
        // the champion on the same items: its value, the difference and the paired interval
        let paired = trained
            .comparison
            .as_ref()
            .and_then(|c| Some((c, c.metrics.iter().find(|d| d.metric == metric.name)?)))
            .filter(|(_, d)| d.value.is_finite() && d.baseline.is_finite());
        if let Some(c) = &trained.comparison {
            for d in &c.metrics {
                let bounds = d.ci95.map(|i| [("ci95_low", i.low()), ("ci95_high", i.high())]);
                for (k, v) in [("champion", d.baseline), ("difference", d.difference)]
                    .into_iter()
                    .chain(bounds.into_iter().flatten())
                    .filter(|(_, v)| v.is_finite())
                {
                    self.registry.log_metric(&run, &format!("vs_champion_{}_{k}", d.metric), v, 0)?;
                }
            }
            let digest = self.artifacts.put(&serde_json::to_vec_pretty(c)?)?;
            self.registry.log_artifact(&run, "comparison.json", &digest)?;
        }
        // the artifacts first: nothing points at them until they are complete on disk
        let digest = self.artifacts.put(&trained.bytes)?;
        self.registry.log_artifact(&run, "model", &digest)?;
        let report_digest = self.artifacts.put(&serde_json::to_vec_pretty(report)?)?;
        self.registry.log_artifact(&run, "metrics.json", &report_digest)?;
        for plot in crate::plots::for_report(report).with_context(|| format!("plotting {name}'s evaluation"))? {
            let digest = self.artifacts.put(&plot.png)?;
            self.registry.log_artifact(&run, &format!("plots/{}", plot.name), &digest)?;
        }
        if let Some(profile) = &trained.profile {
            let digest = self.artifacts.put(&serde_json::to_vec(profile)?)?;
            self.registry.log_artifact(&run, PROFILE_ARTIFACT, &digest)?;
        }
        self.registry.log_params(&run, &trained.params)?;
        self.registry.finish_run(&run, RunStatus::Finished)?;
        let version =
            self.registry.register(name, &run, &digest, metric.name, metric.value, metric.higher_is_better)?;
        let (alias, gate) = if spec.promote {
            // with the champion scored on the same items, the gate reads that paired difference
            // (the recorded metrics came from different held-out data); without, the recorded ones
            // ... and only while the champion is still the version compared with
            let current = self.registry.alias(name, "champion")?.map(|v| v.version);
            let paired = paired.filter(|_| current.is_some() && current == champion.as_ref().map(|c| c.version));
            let refused = paired.and_then(|(c, d)| paired_gate(c, d, spec.margin));
            let margin = if paired.is_some() { f64::INFINITY } else { spec.margin };
            let p = match refused {
                Some(reason) => nivesh_store::registry::Promotion { promoted: false, previous: None, reason },
                None => self.registry.promote_as(name, version, "champion", margin, false, Some("training"))?,
            };
            if p.promoted {
                (Alias::Champion, None)
            } else {
                self.registry.promote_as(name, version, "challenger", 0.0, false, Some("training"))?;
                (Alias::Challenger, Some(p.reason))
            }
        } else {
            (Alias::NotPromoted, None)
        };
        if self.mlflow_uri.is_some() {
            nivesh_store::mlflow::mark_pending(self.registry, &run, &[(name, version)])?;
        }
        Ok(Status::Succeeded { run_id: run, version, metric, alias, gate })
    }
}

/// The champion gate on the same items: why the new version stays out (it is worse than the
/// champion by more than `margin` in the primary metric, both scored on the same held-out
/// items), or `None` to promote it.
fn paired_gate(c: &crate::report::Comparison, d: &crate::report::Difference, margin: f64) -> Option<String> {
    let worse_by = if d.higher_is_better { -d.difference } else { d.difference };
    (worse_by > margin).then(|| {
        format!(
            "{} {:.4} is worse than {}'s {:.4} on the same {} by {:.4} (margin {margin}; 95 % interval of the difference {}); \
             use --force to promote anyway",
            d.metric,
            d.value,
            c.against,
            d.baseline,
            c.paired_over.trim_end_matches(" drawn again"),
            worse_by,
            d.ci95.map_or_else(|| "none".to_string(), |i| format!("{i:.4}")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::paired_gate;
    use crate::report::{Comparison, Difference};
    use nivesh_models::metrics::Interval;

    fn gate(metric: &'static str, value: f64, baseline: f64, higher: bool) -> Option<String> {
        let d = Difference::new(metric, value, baseline, Some(Interval(-0.02, 0.01)), higher);
        let c = Comparison {
            against: "champion v1 (abc)".into(),
            paired_over: "120 rows drawn again".into(),
            metrics: vec![],
        };
        paired_gate(&c, &d, 0.005)
    }

    #[test]
    fn the_paired_gate_refuses_only_what_is_worse_by_more_than_the_margin() {
        // higher is better: 0.004 worse passes, 0.006 worse is refused and says why
        assert_eq!(gate("auc_roc", 0.796, 0.80, true), None);
        let why = gate("auc_roc", 0.794, 0.80, true).unwrap();
        assert!(
            why.starts_with("auc_roc 0.7940 is worse than champion v1 (abc)'s 0.8000 on the same 120 rows by 0.0060"),
            "{why}"
        );
        assert!(why.contains("(margin 0.005; 95 % interval of the difference [-0.0200, 0.0100])"), "{why}");
        // lower is better: a higher MASE is worse
        assert!(gate("mase", 0.90, 0.89, false).is_some());
        assert_eq!(gate("mase", 0.88, 0.89, false), None);
        // better by any amount passes
        assert_eq!(gate("auc_roc", 0.9, 0.8, true), None);
    }
}
