#!/usr/bin/env bash
# The dashboard in a real browser: Debian's Chromium driven headless by Playwright for Python
# (tests/ui/browser.py) against a real `nivesh-ml serve` on the small sample data, with API and
# admin keys set. Screenshots go to $UI_ARTIFACTS (default target/ui-screenshots).
#
#   tests/ui/run.sh PYTHON BIN        # PYTHON: a venv's python with playwright; BIN: nivesh-ml
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${1:?usage: tests/ui/run.sh PYTHON BIN}
BIN=$(realpath "${2:?usage: tests/ui/run.sh PYTHON BIN}")
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -x "$CHROMIUM" ] || { echo "chromium not found (apt-get install chromium)" >&2; exit 1; }
OUT=$(realpath -m "${UI_ARTIFACTS:-target/ui-screenshots}")
mkdir -p "$OUT"
WORK=$(mktemp -d)
PORT=${UI_PORT:-18650}
cleanup() {
  local rc=$?
  if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null || true; fi
  wait 2>/dev/null
  [ $rc -eq 0 ] || { echo "--- server log"; grep -v "^ " "$WORK/serve.log" | tail -40; } >&2
  rm -rf "$WORK"
}
trap cleanup EXIT
export NIVESH_DATA_DIR="$WORK/data" RUST_LOG=warn
unset DATABASE_URL REDIS_URL REDIS_HOST MLFLOW_TRACKING_URI ML_API_KEYS ML_ADMIN_KEYS

"$BIN" data generate --out "$WORK/gen" --scale small --start "$(date -d '-396 days' +%F)" >/dev/null
# every model once, credit twice (a version to promote); one run tagged with markup
"$BIN" train --data "$WORK/gen" --tag 'note=<script>window.__xss=1</script>' >"$WORK/train.log" 2>&1
"$BIN" train --data "$WORK/gen" --models credit --no-promote >>"$WORK/train.log" 2>&1
"$BIN" features ingest --source "$WORK/gen/transactions.csv" >/dev/null 2>&1
"$BIN" features materialize >/dev/null 2>&1

export ML_API_KEYS=ui-test-key ML_ADMIN_KEYS=ui-admin-key
GRPC_PORT=0 "$BIN" serve --port "$PORT" --no-bootstrap --rate-limit 0 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do curl -sf "127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "127.0.0.1:$PORT/health/ready" >/dev/null || { tail -30 "$WORK/serve.log"; exit 1; }
# traffic, outcomes fed back and two drift checks, so the overview and drift pages have data
api() { curl -sf -H "X-API-Key: ui-test-key" -H 'Content-Type: application/json' "$@"; }
for round in 1 2; do
  for i in $(seq 1 30); do
    id=$(api -d "{\"query\": \"how much did I spend on food in month $round$i\"}" "127.0.0.1:$PORT/predict/intent" |
      sed 's/.*"prediction_id":"\([^"]*\)".*/\1/')
    echo "$id" >>"$WORK/ids"
  done
  sleep 1.5
  api -X POST "127.0.0.1:$PORT/monitoring/drift/intent/check?window=1h" >/dev/null
done
while read -r id; do
  api -d "{\"prediction_id\": \"$id\", \"outcome\": \"spending_analysis\"}" "127.0.0.1:$PORT/feedback" >/dev/null
done <"$WORK/ids"

UI_URL="http://127.0.0.1:$PORT" UI_KEY=ui-test-key UI_ADMIN_KEY=ui-admin-key UI_ARTIFACTS="$OUT" \
  CHROMIUM="$CHROMIUM" "$PY" tests/ui/browser.py
