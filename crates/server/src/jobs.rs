//! Training runs started over HTTP (`POST /admin/train`): one at a time, in the background,
//! through `nivesh-training`'s pipeline; each job's state and per-model outcome are kept (the
//! last [`KEPT`] jobs) for `GET /admin/train/{id}`.

use nivesh_models::ModelKind;
use nivesh_training::pipeline::{Alias, Outcome, Progress, Status};
use nivesh_training::report::Metric;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use utoipa::ToSchema;

/// Jobs kept for inspection; older ones are forgotten.
pub const KEPT: usize = 50;

/// Where a job, or one model in it, stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// A model not trained because an earlier one failed.
    Skipped,
}

/// One model's part of a job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelProgress {
    #[schema(value_type = String)]
    pub model: ModelKind,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The registered version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metric: Option<Metric>,
    /// `champion` (it serves now), `challenger` (the gate kept it out) or `not_promoted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub alias: Option<Alias>,
    /// Why the champion gate kept it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ModelProgress {
    fn queued(model: ModelKind) -> Self {
        ModelProgress {
            model,
            state: State::Queued,
            seconds: None,
            run_id: None,
            version: None,
            metric: None,
            alias: None,
            gate: None,
            error: None,
        }
    }

    fn finish(&mut self, o: &Outcome) {
        self.seconds = Some(o.seconds);
        match &o.status {
            Status::Succeeded { run_id, version, metric, alias, gate } => {
                self.state = State::Succeeded;
                self.run_id = Some(run_id.clone());
                self.version = Some(*version);
                self.metric = Some(*metric);
                self.alias = Some(*alias);
                self.gate = gate.clone();
            }
            Status::Failed { run_id, error } => {
                self.state = State::Failed;
                self.run_id = run_id.clone();
                self.error = Some(error.clone());
            }
            Status::Skipped => {
                self.state = State::Skipped;
                self.seconds = None;
            }
        }
    }
}

/// A training run started over HTTP.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Job {
    pub id: String,
    pub state: State,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub models: Vec<ModelProgress>,
    /// Why the whole run failed before or after its models (data, registry, MLflow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A job being run, shared between the runner and readers.
pub type JobHandle = Arc<Mutex<Job>>;

/// The jobs, newest first, and whether one is running.
#[derive(Default)]
pub struct Jobs {
    inner: Mutex<(VecDeque<JobHandle>, bool, u64)>,
}

impl Jobs {
    /// A new queued job for `models`, unless one is running (then the running job's id).
    pub fn start(&self, models: &[ModelKind]) -> Result<JobHandle, String> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (jobs, running, counter) = &mut *guard;
        if *running {
            let id = jobs.front().and_then(|j| j.lock().ok().map(|j| j.id.clone())).unwrap_or_default();
            return Err(id);
        }
        *running = true;
        *counter += 1;
        let id = format!("train-{}-{counter}", chrono::Utc::now().format("%Y%m%dT%H%M%S"));
        let job = Arc::new(Mutex::new(Job {
            id,
            state: State::Queued,
            created_at: now(),
            started_at: None,
            finished_at: None,
            models: models.iter().map(|&m| ModelProgress::queued(m)).collect(),
            error: None,
        }));
        jobs.push_front(job.clone());
        jobs.truncate(KEPT);
        Ok(job)
    }

    /// The job is over (whatever its state): another may start.
    pub fn release(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).1 = false;
    }

    pub fn get(&self, id: &str) -> Option<Job> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.iter().filter_map(|j| j.lock().ok().map(|j| j.clone())).find(|j| j.id == id)
    }

    /// Every kept job, newest first.
    pub fn list(&self) -> Vec<Job> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.iter().filter_map(|j| j.lock().ok().map(|j| j.clone())).collect()
    }
}

/// Update a job as its pipeline goes.
pub struct JobProgress(pub JobHandle);

impl JobProgress {
    fn with(&self, f: impl FnOnce(&mut Job)) {
        if let Ok(mut j) = self.0.lock() {
            f(&mut j);
        }
    }

    /// The pipeline starts.
    pub fn running(&self) {
        self.with(|j| {
            j.state = State::Running;
            j.started_at = Some(now());
        });
    }

    /// The pipeline is over (and the new champions are loaded): succeeded only if every model did.
    pub fn done(&self, error: Option<String>) {
        self.with(|j| {
            let all_ok = j.models.iter().all(|m| m.state == State::Succeeded);
            j.state = if error.is_none() && all_ok { State::Succeeded } else { State::Failed };
            j.error = error;
            j.finished_at = Some(now());
        });
    }

    /// The models that succeeded (their champions may have moved).
    pub fn succeeded(&self) -> Vec<ModelKind> {
        self.0
            .lock()
            .map(|j| j.models.iter().filter(|m| m.state == State::Succeeded).map(|m| m.model).collect())
            .unwrap_or_default()
    }
}

impl Progress for JobProgress {
    fn started(&mut self, kind: ModelKind, _index: usize, _of: usize) {
        self.with(|j| {
            if let Some(m) = j.models.iter_mut().find(|m| m.model == kind) {
                m.state = State::Running;
            }
        });
    }
    fn finished(&mut self, outcome: &Outcome) {
        self.with(|j| {
            if let Some(m) = j.models.iter_mut().find(|m| m.model == outcome.model) {
                m.finish(outcome);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_job_at_a_time_and_only_the_last_ones_kept() {
        let jobs = Jobs::default();
        let first = jobs.start(&[ModelKind::Credit]).unwrap();
        let id = first.lock().unwrap().id.clone();
        assert_eq!(jobs.start(&[ModelKind::Intent]).err(), Some(id.clone()));
        let p = JobProgress(first);
        p.running();
        p.done(None);
        // the credit model never finished, so the job did not succeed
        assert_eq!(jobs.get(&id).unwrap().state, State::Failed);
        jobs.release();
        for _ in 0..KEPT + 5 {
            jobs.start(&[ModelKind::Intent]).unwrap();
            jobs.release();
        }
        assert_eq!(jobs.list().len(), KEPT);
        assert!(jobs.get(&id).is_none());
    }
}
