//! Mirroring of runs, model versions and aliases into an MLflow tracking server, through its
//! REST API (`MLFLOW_TRACKING_URI`). The local registry stays the source of truth: a run or
//! version is marked `pending` first, sent, then marked `synced`; whatever could not be sent
//! (server down, an error) stays `pending` and [`sync_pending`] sends it later
//! (`nivesh-ml registry sync`). Every step can be repeated safely: the MLflow run id is kept
//! as soon as the run exists there, metrics carry the run's own timestamps (a resend is an exact
//! duplicate, which MLflow ignores), artifacts are overwritten, and a model version is looked
//! up by run before one is created.

use crate::artifacts::ArtifactStore;
use crate::registry::{ModelVersion, Registry, RunRecord, RunStatus, StoreError, SyncState};
use serde_json::{Value, json};
use std::time::Duration;

/// MLflow's limits for one `runs/log-batch` request.
const MAX_METRICS_PER_BATCH: usize = 1000;
const MAX_PARAMS_PER_BATCH: usize = 100;
const MAX_TAGS_PER_BATCH: usize = 100;
const MAX_ENTITIES_PER_BATCH: usize = 1000;
const MAX_PARAM_VALUE: usize = 6000;

/// What went wrong talking to MLflow.
#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    #[error("MLflow at {uri} is unreachable")]
    Unreachable {
        uri: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("MLflow {endpoint}: HTTP {status}: {message}")]
    Api { endpoint: String, status: u16, error_code: String, message: String },
    #[error("MLflow: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A client of one MLflow server.
pub struct MlflowClient {
    base: String,
    agent: ureq::Agent,
}

/// What one sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub runs: usize,
    pub versions: usize,
    pub aliases: usize,
    /// Items left pending, with why.
    pub failures: Vec<String>,
}

fn millis(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp_millis()).unwrap_or(0)
}

/// `{"a": {"b": 1}, "c": "x"}` → `[("a.b", "1"), ("c", "x")]`.
fn flatten_params(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten_params(&key, v, out);
            }
        }
        Value::Null if prefix.is_empty() => {}
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Split metrics, params and tags into `runs/log-batch` bodies within MLflow's limits.
fn log_batches(run_id: &str, metrics: &[Value], params: &[Value], tags: &[Value]) -> Vec<Value> {
    let mut batches = Vec::new();
    let (mut m, mut p, mut t) = (0, 0, 0);
    while m < metrics.len() || p < params.len() || t < tags.len() || batches.is_empty() {
        let np = (params.len() - p).min(MAX_PARAMS_PER_BATCH);
        let nt = (tags.len() - t).min(MAX_TAGS_PER_BATCH);
        let nm = (metrics.len() - m).min(MAX_METRICS_PER_BATCH).min(MAX_ENTITIES_PER_BATCH - np - nt);
        batches.push(json!({
            "run_id": run_id,
            "metrics": &metrics[m..m + nm],
            "params": &params[p..p + np],
            "tags": &tags[t..t + nt],
        }));
        m += nm;
        p += np;
        t += nt;
    }
    batches
}

impl MlflowClient {
    pub fn new(tracking_uri: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(3)))
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        MlflowClient { base: tracking_uri.trim_end_matches('/').to_string(), agent }
    }

    pub fn uri(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, e: ureq::Error) -> MlflowError {
        MlflowError::Unreachable { uri: self.base.clone(), source: Box::new(e) }
    }

    fn read(&self, endpoint: &str, mut resp: ureq::http::Response<ureq::Body>) -> Result<Value, MlflowError> {
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().map_err(|e| self.unreachable(e))?;
        let body: Value = if text.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&text).unwrap_or(json!({"message": text}))
        };
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(MlflowError::Api {
            endpoint: endpoint.to_string(),
            status,
            error_code: body["error_code"].as_str().unwrap_or("").to_string(),
            message: body["message"].as_str().unwrap_or("").chars().take(300).collect(),
        })
    }

    /// POST a JSON body to `api/2.0/mlflow/{endpoint}`.
    pub fn post(&self, endpoint: &str, body: &Value) -> Result<Value, MlflowError> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.base);
        let resp = self.agent.post(&url).send_json(body).map_err(|e| self.unreachable(e))?;
        self.read(endpoint, resp)
    }

    /// GET `api/2.0/mlflow/{endpoint}` with query parameters.
    pub fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Value, MlflowError> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.base);
        let mut req = self.agent.get(&url);
        for (k, v) in query {
            req = req.query(*k, *v);
        }
        let resp = req.call().map_err(|e| self.unreachable(e))?;
        self.read(endpoint, resp)
    }

    /// Is the server up? (`/health`.)
    pub fn health(&self) -> Result<(), MlflowError> {
        let resp = self.agent.get(&format!("{}/health", self.base)).call().map_err(|e| self.unreachable(e))?;
        self.read("health", resp).map(|_| ())
    }

    /// The id of the experiment called `name`, created if missing.
    pub fn experiment_id(&self, name: &str) -> Result<String, MlflowError> {
        match self.get("experiments/get-by-name", &[("experiment_name", name)]) {
            Ok(v) => v["experiment"]["experiment_id"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| MlflowError::Invalid(format!("experiments/get-by-name {name}: no experiment_id"))),
            Err(MlflowError::Api { error_code, .. }) if error_code == "RESOURCE_DOES_NOT_EXIST" => {
                let v = self.post("experiments/create", &json!({"name": name}))?;
                v["experiment_id"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| MlflowError::Invalid(format!("experiments/create {name}: no experiment_id")))
            }
            Err(e) => Err(e),
        }
    }

    /// Upload one artifact of a run (`mlflow-artifacts` proxy; the server's default).
    pub fn upload_artifact(&self, artifact_uri: &str, name: &str, bytes: &[u8]) -> Result<(), MlflowError> {
        // mlflow-artifacts:/1/<run>/artifacts or mlflow-artifacts://host:port/1/<run>/artifacts
        let rest = artifact_uri.strip_prefix("mlflow-artifacts:").ok_or_else(|| {
            MlflowError::Invalid(format!(
                "the run's artifact location {artifact_uri} is not served by the tracking server; start MLflow with artifact serving (the default in MLflow 3, or --serve-artifacts)"
            ))
        })?;
        let path = match rest.strip_prefix("//") {
            Some(hosted) => hosted.split_once('/').map(|(_, p)| p).unwrap_or(""),
            None => rest.trim_start_matches('/'),
        };
        let url = format!("{}/api/2.0/mlflow-artifacts/artifacts/{path}/{name}", self.base);
        let resp = self
            .agent
            .put(&url)
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .map_err(|e| self.unreachable(e))?;
        self.read("mlflow-artifacts/artifacts", resp).map(|_| ())
    }

    /// Mirror one finished (or failed) run: create it once, log params, metrics and tags in
    /// batches, upload its artifacts, set its status. Returns the MLflow run id.
    pub fn push_run(&self, run: &RunRecord, registry: &Registry, store: &ArtifactStore) -> Result<String, MlflowError> {
        let (run_id, artifact_uri) = match &run.mlflow_run_id {
            Some(id) => {
                let v = self.get("runs/get", &[("run_id", id)])?;
                (id.clone(), v["run"]["info"]["artifact_uri"].as_str().unwrap_or("").to_string())
            }
            None => {
                let experiment_id = self.experiment_id(&run.experiment)?;
                let v = self.post(
                    "runs/create",
                    &json!({
                        "experiment_id": experiment_id,
                        "run_name": format!("{}-{}", run.experiment, run.id),
                        "start_time": millis(&run.started_at),
                        "tags": [{"key": "nivesh.run_id", "value": run.id}],
                    }),
                )?;
                let id = v["run"]["info"]["run_id"]
                    .as_str()
                    .ok_or_else(|| MlflowError::Invalid("runs/create: no run_id".into()))?
                    .to_string();
                // kept at once, so a retry continues this run instead of making another
                registry.set_run_sync(&run.id, SyncState::Pending, Some(&id))?;
                (id, v["run"]["info"]["artifact_uri"].as_str().unwrap_or("").to_string())
            }
        };
        let timestamp = millis(run.ended_at.as_deref().unwrap_or(&run.started_at));
        let metrics: Vec<Value> = run
            .metrics
            .iter()
            .map(|(k, step, v)| json!({"key": k, "value": v, "timestamp": timestamp, "step": step}))
            .collect();
        let mut flat = Vec::new();
        flatten_params("", &run.params, &mut flat);
        let params: Vec<Value> = flat
            .into_iter()
            .map(|(k, v)| json!({"key": k, "value": v.chars().take(MAX_PARAM_VALUE).collect::<String>()}))
            .collect();
        let mut tags = vec![json!({"key": "nivesh.run_id", "value": run.id})];
        let mut tag = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                tags.push(json!({"key": k, "value": v}));
            }
        };
        tag("mlflow.source.git.commit", run.git_commit.clone());
        tag("nivesh.dataset_hash", run.dataset_hash.clone());
        tag("nivesh.dataset_rows", run.dataset_rows.map(|r| r.to_string()));
        // the run's own tags (the data path, `--tag`s) are the operator's words: no identifiers
        // or secrets leave for MLflow in them
        if let Some(map) = run.tags.as_object() {
            for (k, v) in map {
                let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                tag(k, Some(nivesh_core::redact::redact(&v)));
            }
        }
        for body in log_batches(&run_id, &metrics, &params, &tags) {
            self.post("runs/log-batch", &body)?;
        }
        for (name, digest) in &run.artifacts {
            let bytes = store.get(digest)?;
            self.upload_artifact(&artifact_uri, name, &bytes)?;
        }
        let status = match run.status {
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Running => "RUNNING",
        };
        let mut update = json!({"run_id": run_id, "status": status});
        if let Some(end) = &run.ended_at {
            update["end_time"] = json!(millis(end));
        }
        self.post("runs/update", &update)?;
        Ok(run_id)
    }

    /// Mirror one model version (its run must be mirrored already). Returns MLflow's number.
    pub fn push_version(&self, v: &ModelVersion, mlflow_run_id: &str) -> Result<String, MlflowError> {
        match self.post("registered-models/create", &json!({"name": v.model})) {
            Ok(_) => {}
            Err(MlflowError::Api { error_code, .. }) if error_code == "RESOURCE_ALREADY_EXISTS" => {}
            Err(e) => return Err(e),
        }
        // created before (a retry after a crash)? then reuse it
        let filter = format!("name='{}' and run_id='{mlflow_run_id}'", v.model.replace('\'', "''"));
        let found = self.get("model-versions/search", &[("filter", &filter)])?;
        if let Some(n) = found["model_versions"].as_array().and_then(|a| a.first()).and_then(|v| v["version"].as_str())
        {
            return Ok(n.to_string());
        }
        let run = self.get("runs/get", &[("run_id", mlflow_run_id)])?;
        let artifact_uri = run["run"]["info"]["artifact_uri"].as_str().unwrap_or("").to_string();
        let created = self.post(
            "model-versions/create",
            &json!({
                "name": v.model,
                "source": format!("{artifact_uri}/model"),
                "run_id": mlflow_run_id,
                "tags": [
                    {"key": "nivesh.version", "value": v.version.to_string()},
                    {"key": "nivesh.digest", "value": v.digest.0},
                    {"key": v.metric_name, "value": v.metric.to_string()},
                ],
                "description": format!("nivesh-ml {} v{}: {} {:.4}", v.model, v.version, v.metric_name, v.metric),
            }),
        )?;
        created["model_version"]["version"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| MlflowError::Invalid("model-versions/create: no version".into()))
    }

    /// Point `alias` of `model` at MLflow's version number.
    pub fn set_alias(&self, model: &str, alias: &str, mlflow_version: &str) -> Result<(), MlflowError> {
        self.post("registered-models/alias", &json!({"name": model, "alias": alias, "version": mlflow_version}))
            .map(|_| ())
    }
}

/// Send everything still pending: runs, then versions, then the aliases of every model that
/// has mirrored versions. Stops at the first sign that the server is unreachable; other
/// errors leave that item pending and go on.
pub fn sync_pending(
    client: &MlflowClient,
    registry: &Registry,
    store: &ArtifactStore,
) -> Result<SyncReport, MlflowError> {
    let mut report = SyncReport::default();
    for id in registry.pending_runs()? {
        let run = registry.run(&id)?;
        match client.push_run(&run, registry, store) {
            Ok(mlflow_id) => {
                registry.set_run_sync(&id, SyncState::Synced, Some(&mlflow_id))?;
                report.runs += 1;
            }
            Err(e @ MlflowError::Unreachable { .. }) => return Err(e),
            Err(e) => report.failures.push(format!("run {id}: {e}")),
        }
    }
    let mut models = std::collections::BTreeSet::new();
    for v in registry.pending_versions()? {
        let run = registry.run(&v.run_id)?;
        let Some(mlflow_run) = run.mlflow_run_id.filter(|_| run.mlflow_sync == SyncState::Synced) else {
            report.failures.push(format!("{} v{}: its run {} is not mirrored yet", v.model, v.version, v.run_id));
            continue;
        };
        match client.push_version(&v, &mlflow_run) {
            Ok(n) => {
                registry.set_version_sync(&v.model, v.version, SyncState::Synced, Some(&n))?;
                report.versions += 1;
                models.insert(v.model.clone());
            }
            Err(e @ MlflowError::Unreachable { .. }) => return Err(e),
            Err(e) => report.failures.push(format!("{} v{}: {e}", v.model, v.version)),
        }
    }
    // aliases move without new versions (promote, rollback): set them for every mirrored model
    for model in registry.models()? {
        let versions = registry.versions(&model)?;
        if !models.contains(&model) && !versions.iter().any(|v| v.mlflow_version.is_some()) {
            continue;
        }
        for (alias, version) in registry.aliases(&model)? {
            let Some(n) = versions.iter().find(|v| v.version == version).and_then(|v| v.mlflow_version.clone()) else {
                continue;
            };
            match client.set_alias(&model, &alias, &n) {
                Ok(()) => report.aliases += 1,
                Err(e @ MlflowError::Unreachable { .. }) => return Err(e),
                Err(e) => report.failures.push(format!("{model} alias {alias}: {e}")),
            }
        }
    }
    Ok(report)
}

/// Mark a run and its registered versions as waiting for MLflow.
pub fn mark_pending(registry: &Registry, run: &str, versions: &[(&str, u32)]) -> Result<(), StoreError> {
    registry.set_run_sync(run, SyncState::Pending, None)?;
    for (model, version) in versions {
        registry.set_version_sync(model, *version, SyncState::Pending, None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_flatten_to_dotted_keys() {
        let mut out = Vec::new();
        flatten_params("", &json!({"c": 4, "gbdt": {"depth": 2, "lr": 0.075}, "name": "x", "list": [1, 2]}), &mut out);
        assert_eq!(
            out,
            vec![
                ("c".to_string(), "4".to_string()),
                ("gbdt.depth".to_string(), "2".to_string()),
                ("gbdt.lr".to_string(), "0.075".to_string()),
                ("name".to_string(), "x".to_string()),
                ("list".to_string(), "[1,2]".to_string()),
            ]
        );
        let mut none = Vec::new();
        flatten_params("", &Value::Null, &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn batches_respect_mlflow_limits() {
        let metrics: Vec<Value> = (0..2500).map(|i| json!({"key": "m", "value": i, "step": i})).collect();
        let params: Vec<Value> = (0..150).map(|i| json!({"key": format!("p{i}"), "value": "v"})).collect();
        let tags: Vec<Value> = (0..3).map(|i| json!({"key": format!("t{i}"), "value": "v"})).collect();
        let batches = log_batches("r", &metrics, &params, &tags);
        let count = |b: &Value, k: &str| b[k].as_array().map_or(0, Vec::len);
        for b in &batches {
            assert!(count(b, "metrics") <= 1000 && count(b, "params") <= 100 && count(b, "tags") <= 100);
            assert!(count(b, "metrics") + count(b, "params") + count(b, "tags") <= 1000);
            assert_eq!(b["run_id"], "r");
        }
        let total = |k: &str| batches.iter().map(|b| count(b, k)).sum::<usize>();
        assert_eq!((total("metrics"), total("params"), total("tags")), (2500, 150, 3));
        // every metric once, in order
        let steps: Vec<i64> = batches
            .iter()
            .flat_map(|b| b["metrics"].as_array().cloned().unwrap_or_default())
            .map(|m| m["step"].as_i64().unwrap())
            .collect();
        assert_eq!(steps, (0..2500).collect::<Vec<_>>());
        // an empty run still sends one (empty) batch
        assert_eq!(log_batches("r", &[], &[], &[]).len(), 1);
    }

    #[test]
    fn an_unreachable_server_is_reported_as_such() {
        let c = MlflowClient::new("http://127.0.0.1:1");
        assert!(matches!(c.health(), Err(MlflowError::Unreachable { .. })));
        assert!(matches!(c.experiment_id("x"), Err(MlflowError::Unreachable { .. })));
    }
}
