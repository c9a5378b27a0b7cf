"""One DAG per model (`nivesh_train_<model>`), triggered by hand or by the drift DAG: validate the
model's training file, then the training pipeline for that model alone (with the champion gate)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from nivesh_common import DATA_FILES, DEFAULT_ARGS, MODELS, cli, training_data


def model_dag(model: str):
    @dag(
        dag_id=f"nivesh_train_{model}",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=timedelta(hours=3),
        default_args=DEFAULT_ARGS,
        tags=["nivesh", "training", model],
        doc_md=f"Train the {model} model alone: validate `{DATA_FILES[model]}`, then the pipeline.",
    )
    def train_one():
        data = training_data()
        validate = cli("validate", ["data", "validate", f"{data}/{DATA_FILES[model]}"])
        train = cli("train", ["train", "--models", model, "--data", data], execution_timeout=timedelta(hours=2))
        validate >> train

    return train_one()


for m in MODELS:
    model_dag(m)
