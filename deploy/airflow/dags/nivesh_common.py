"""What every nivesh-ml DAG shares: how a task runs the CLI.

Each task is one `nivesh-ml` command — the CLI owns every rule (validation suites, the champion
gate, sharding); the DAGs only order the commands and give them retries, timeouts and schedules.
Airflow Variables choose how they run:

- ``nivesh_executor``: ``bash`` (default; a BashOperator on the worker, which has the binary) or
  ``kubernetes`` (a KubernetesPodOperator running the nivesh-ml image, as deploy/k8s does);
- ``nivesh_ml_bin``: the binary for ``bash`` (default ``nivesh-ml`` on the PATH);
- ``nivesh_data_dir``: ``NIVESH_DATA_DIR`` for the commands (default ``/var/lib/nivesh``);
- ``nivesh_training_data``: the directory of the training files (default ``<data dir>/training``);
- ``nivesh_image``, ``nivesh_namespace``: the image and namespace for ``kubernetes``.
"""

from __future__ import annotations

import shlex
from datetime import timedelta

from airflow.sdk import Variable

MODELS = ["intent", "ner", "spending", "anomaly", "credit"]

# the training files each model's data comes from (validated before training)
DATA_FILES = {
    "intent": "intents.jsonl",
    "ner": "ner.jsonl",
    "spending": "transactions.csv",
    "anomaly": "transactions.csv",
    "credit": "credit_applications.csv",
}

DEFAULT_ARGS = {
    "owner": "nivesh-ml",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
    "execution_timeout": timedelta(hours=1),
}


def setting(name: str, default: str) -> str:
    return Variable.get(name, default=default)


def data_dir() -> str:
    return setting("nivesh_data_dir", "/var/lib/nivesh")


def training_data() -> str:
    return setting("nivesh_training_data", f"{data_dir()}/training")


def cli(task_id: str, args: list[str], **kwargs):
    """A task running `nivesh-ml ARGS`: its exit status is the task's."""
    if setting("nivesh_executor", "bash") == "kubernetes":
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

        return KubernetesPodOperator(
            task_id=task_id,
            name=f"nivesh-{task_id.replace('_', '-')}",
            namespace=setting("nivesh_namespace", "nivesh"),
            image=setting("nivesh_image", "nivesh-ml:0.1.0"),
            arguments=args,
            env_vars={"NIVESH_DATA_DIR": "/data"},
            env_from=None,
            get_logs=True,
            on_finish_action="delete_succeeded_pod",
            **kwargs,
        )
    from airflow.providers.standard.operators.bash import BashOperator

    command = " ".join(shlex.quote(a) for a in [setting("nivesh_ml_bin", "nivesh-ml"), *args])
    return BashOperator(
        task_id=task_id,
        bash_command=command,
        env={"NIVESH_DATA_DIR": data_dir(), "LOG_FORMAT": "json"},
        append_env=True,
        **kwargs,
    )
