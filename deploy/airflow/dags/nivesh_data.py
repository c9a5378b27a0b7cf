"""The data pipeline, every hour: validate the latest transactions export, ingest it into the
offline feature store (ids already stored are skipped), and materialize the online store
(incremental: only users with new events)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from nivesh_common import DEFAULT_ARGS, cli, training_data


@dag(
    dag_id="nivesh_data_pipeline",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=50),
    default_args={**DEFAULT_ARGS, "execution_timeout": timedelta(minutes=30)},
    tags=["nivesh", "features"],
    doc_md=__doc__,
)
def nivesh_data_pipeline():
    source = f"{training_data()}/transactions.csv"
    validate = cli("validate", ["data", "validate", source])
    ingest = cli("ingest", ["features", "ingest", "--source", source])
    materialize = cli("materialize", ["features", "materialize"])
    validate >> ingest >> materialize


nivesh_data_pipeline()
