#!/usr/bin/env bash
# The Airflow DAGs with a real Airflow (PyPI apache-airflow 3): every DAG imports without error,
# and `airflow dags test` runs the master training DAG end to end against the built binary on the
# small sample data — every task succeeds and the registry has five champions.
# Prints `airflow: N passed, 0 failed`.
#
#   deploy/test-airflow.sh VENV [path/to/nivesh-ml]   (VENV: a venv with apache-airflow;
#                                                      default $NIVESH_TEST_AIRFLOW_VENV)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-${NIVESH_TEST_AIRFLOW_VENV:?a venv with apache-airflow (.ci/services.sh makes one)}}"
BIN="$(realpath "${2:-target/debug/nivesh-ml}")"
AIRFLOW="$VENV/bin/airflow"
passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*" >&2; echo "airflow: $passed passed, 1 failed"; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export AIRFLOW_HOME="$TMP/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/deploy/airflow/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW_VAR_NIVESH_EXECUTOR=bash
export AIRFLOW_VAR_NIVESH_ML_BIN="$BIN"
export AIRFLOW_VAR_NIVESH_DATA_DIR="$TMP/store"
export AIRFLOW_VAR_NIVESH_TRAINING_DATA="$TMP/training"
mkdir -p "$AIRFLOW_HOME"
quiet() { grep -v -i -e graphviz -e 'pip install' -e 'system packages' || true; }

"$AIRFLOW" db migrate >"$TMP/migrate.log" 2>&1 || { tail -20 "$TMP/migrate.log"; fail "airflow db migrate"; }
"$AIRFLOW" dags reserialize >"$TMP/parse.log" 2>&1 || { tail -20 "$TMP/parse.log"; fail "airflow dags reserialize"; }
errors="$("$AIRFLOW" dags list-import-errors 2>&1 | quiet)"
[[ "$errors" == *"No data found"* ]] && ok "airflow dags list-import-errors: none" || fail "import errors: $errors"
dags="$("$AIRFLOW" dags list 2>&1 | quiet | awk '/^nivesh_/ {print $1}' | sort | tr '\n' ' ')"
want="nivesh_data_pipeline nivesh_drift nivesh_train_anomaly nivesh_train_credit nivesh_train_intent nivesh_train_ner nivesh_train_spending nivesh_training "
[ "$dags" = "$want" ] && ok "eight DAGs: $dags" || fail "DAGs: $dags"

(cd "$TMP" && "$BIN" data generate --out "$TMP/training" --scale small --start "$(date -d '90 days ago' +%F)" >/dev/null)
"$AIRFLOW" dags test nivesh_training >"$TMP/test.log" 2>&1 || { grep -i -e error -e failed "$TMP/test.log" | tail -20; fail "airflow dags test nivesh_training"; }
grep -q "DagRun Finished: dag_id=nivesh_training.*state=success" "$TMP/test.log" \
  && ok "airflow dags test nivesh_training: the run succeeded" || { tail -20 "$TMP/test.log"; fail "the run did not succeed"; }
ran="$(grep -o "task_id='[a-z_]*'" "$TMP/test.log" | sort -u | wc -l)"
[ "$ran" -eq 12 ] && ok "$ran tasks ran: validate ×4, ingest, materialize, train ×5, report" || fail "only $ran tasks ran"
champions="$(NIVESH_DATA_DIR="$TMP/store" "$BIN" registry list | grep -c ' v1 ')"
[ "$champions" = "5" ] && ok "five champions registered by the run" || fail "$champions champions"
echo "airflow: $passed passed, 0 failed"
