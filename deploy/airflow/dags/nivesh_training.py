"""The master training DAG, nightly: validate every training file → ingest the transactions into
the feature store → materialize the online store → train each model (the pipeline: its own
validation suite, train, evaluate, register, and the champion gate that decides promotion) →
report the registry. Serving replicas load new champions from the registry by themselves."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from nivesh_common import DATA_FILES, DEFAULT_ARGS, MODELS, cli, training_data


@dag(
    dag_id="nivesh_training",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=DEFAULT_ARGS,
    tags=["nivesh", "training"],
    doc_md=__doc__,
)
def nivesh_training():
    data = training_data()
    validate = [
        cli(f"validate_{f.split('.')[0]}", ["data", "validate", f"{data}/{f}"], execution_timeout=timedelta(minutes=20))
        for f in sorted(set(DATA_FILES.values()))
    ]
    ingest = cli("ingest", ["features", "ingest", "--source", f"{data}/transactions.csv"])
    materialize = cli("materialize", ["features", "materialize"])
    train = [
        cli(f"train_{m}", ["train", "--models", m, "--data", data], execution_timeout=timedelta(hours=2))
        for m in MODELS
    ]
    report = cli("report", ["registry", "list"], retries=0)
    validate >> ingest >> materialize >> train[0]
    for a, b in zip(train, train[1:]):
        a >> b  # one training run at a time: they share the machine
    train[-1] >> report


nivesh_training()
