-- version 2: where each run and model version stands with a mirroring MLflow server.
-- mlflow_sync: 'none' (no server configured), 'pending' (to be sent), 'synced'.
ALTER TABLE runs ADD COLUMN mlflow_run_id TEXT;
ALTER TABLE model_versions ADD COLUMN mlflow_sync TEXT NOT NULL DEFAULT 'none';
-- MLflow numbers versions itself; aliases are set on its numbers
ALTER TABLE model_versions ADD COLUMN mlflow_version TEXT;
