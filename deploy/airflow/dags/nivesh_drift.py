"""Drift, every six hours: check each model's logged traffic against its champion's training
profile (Evidently's default tests); the CLI keeps the result in the monitoring store and, with
the Variable ``nivesh_retrain_on_drift`` = ``true``, retrains the drifted models itself."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from nivesh_common import DEFAULT_ARGS, cli, setting


@dag(
    dag_id="nivesh_drift",
    schedule="15 */6 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args={**DEFAULT_ARGS, "execution_timeout": timedelta(minutes=30)},
    tags=["nivesh", "monitoring"],
    doc_md=__doc__,
)
def nivesh_drift():
    args = ["drift", "check", "--window", "7d"]
    if setting("nivesh_retrain_on_drift", "false") == "true":
        args.append("--retrain")
    cli("drift_check", args)


nivesh_drift()
