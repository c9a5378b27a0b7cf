//! Training runs started over HTTP (`POST /admin/train`): one at a time, in the background,
//! through `nivesh-training`'s pipeline; each job's state and per-model outcome are kept (the
//! last [`KEPT`] jobs) for `GET /admin/train/{id}`.

use nivesh_models::ModelKind;
use nivesh_training::pipeline::{Alias, Outcome, Progress, Status};
use nivesh_training::report::Metric;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Set when the server shuts down: a running job stops after its current model.
    cancel: Arc<AtomicBool>,
}

impl Jobs {
    /// A new queued job for `models`, unless one is running (then the running job's id).
    pub fn start(&self, models: &[ModelKind]) -> Result<JobHandle, String> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (jobs, running, counter) = &mut *guard;
        if *running || self.cancel.load(Ordering::Acquire) {
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

    /// The job is over: its final state (succeeded only if every model did and there is no
    /// `error`) and, in the same step, room for the next one.
    pub fn finish(&self, job: &JobHandle, error: Option<String>) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(mut j) = job.lock() {
            let all_ok = j.models.iter().all(|m| m.state == State::Succeeded);
            j.state = if error.is_none() && all_ok { State::Succeeded } else { State::Failed };
            j.error = error;
            j.finished_at = Some(now());
        }
        guard.1 = false;
    }

    /// Stop a running job after its current model (at shutdown); no job starts afterwards.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Release);
    }

    /// A progress reporter for `job`.
    pub fn progress(&self, job: &JobHandle) -> JobProgress {
        JobProgress { job: job.clone(), cancel: self.cancel.clone() }
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
pub struct JobProgress {
    job: JobHandle,
    cancel: Arc<AtomicBool>,
}

impl JobProgress {
    fn with(&self, f: impl FnOnce(&mut Job)) {
        if let Ok(mut j) = self.job.lock() {
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

    /// The models that succeeded (their champions may have moved).
    pub fn succeeded(&self) -> Vec<ModelKind> {
        self.job
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
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Acquire)
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
        let p = jobs.progress(&first);
        p.running();
        assert_eq!(jobs.get(&id).unwrap().state, State::Running);
        jobs.finish(&first, None);
        // the credit model never finished, so the job did not succeed
        assert_eq!(jobs.get(&id).unwrap().state, State::Failed);
        for _ in 0..KEPT + 5 {
            let j = jobs.start(&[ModelKind::Intent]).unwrap();
            jobs.finish(&j, None);
        }
        assert_eq!(jobs.list().len(), KEPT);
        assert!(jobs.get(&id).is_none());
        // at shutdown the running job is told to stop, and none starts
        let p = jobs.progress(&jobs.start(&[ModelKind::Intent]).unwrap());
        assert!(!p.cancelled());
        jobs.cancel();
        assert!(p.cancelled());
    }
}
