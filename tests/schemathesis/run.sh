#!/usr/bin/env bash
# schemathesis against a real `nivesh-ml serve`: every operation of /openapi.json, the default
# checks (no server error, status codes, content types, response schemas, schema-valid requests
# accepted, schema-violating ones refused), all four phases. Fails on any failure.
# tests/schemathesis/hooks.py leaves out the requests that break the three rules across fields
# that JSON Schema cannot say.
#
#   tests/schemathesis/run.sh SCHEMATHESIS BIN   # SCHEMATHESIS: the CLI; BIN: nivesh-ml
#   ST_MAX_EXAMPLES=100 (default) generated cases per operation and phase
set -euo pipefail
cd "$(dirname "$0")/../.."
ST=${1:?usage: tests/schemathesis/run.sh SCHEMATHESIS BIN}
BIN=$(realpath "${2:?usage: tests/schemathesis/run.sh SCHEMATHESIS BIN}")
WORK=$(mktemp -d)
PORT=${ST_PORT:-18660}
cleanup() {
  local rc=$?
  if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  [ $rc -eq 0 ] || { echo "--- server log"; tail -40 "$WORK/serve.log"; } >&2 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export NIVESH_DATA_DIR="$WORK/data" RUST_LOG=warn
unset DATABASE_URL REDIS_URL REDIS_HOST MLFLOW_TRACKING_URI ML_ADMIN_KEYS JWT_SECRET JWT_JWKS_FILE

# the small sample, every model trained, the online store materialized: requests reach the models
bash tests/small-store.sh "$BIN" "$NIVESH_DATA_DIR"

# with an API key, so that 401/403 are real answers; no rate limit (the tester is the only client)
export ML_API_KEYS=st-test-key
GRPC_PORT=0 "$BIN" serve --port "$PORT" --no-bootstrap --rate-limit 0 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do curl -sf "127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "127.0.0.1:$PORT/health/ready" >/dev/null || { echo "the server did not become ready" >&2; exit 1; }

cd "$WORK"
cp "$OLDPWD/tests/schemathesis/hooks.py" "$WORK/st_hooks.py"
SCHEMATHESIS_HOOKS=st_hooks PYTHONPATH="$WORK" "$ST" run "http://127.0.0.1:$PORT/openapi.json" \
  --header "X-API-Key: st-test-key" \
  --workers 2 \
  --max-examples "${ST_MAX_EXAMPLES:-100}" \
  --seed "${ST_SEED:-18}" \
  --suppress-health-check too_slow,filter_too_much \
  --report-dir "$WORK/report"
