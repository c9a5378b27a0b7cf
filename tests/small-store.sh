#!/usr/bin/env bash
# A small trained store for the scripted tests (schemathesis, the CI soak): the small generated
# sample (13 months to yesterday), every model trained and promoted, the transactions ingested
# and materialized to the embedded online store. Seconds, not the bootstrap's minutes.
#
#   tests/small-store.sh BIN DATA_DIR
set -euo pipefail
BIN=${1:?usage: tests/small-store.sh BIN DATA_DIR}
export NIVESH_DATA_DIR=${2:?usage: tests/small-store.sh BIN DATA_DIR}
unset DATABASE_URL REDIS_URL REDIS_HOST MLFLOW_TRACKING_URI
mkdir -p "$NIVESH_DATA_DIR"
GEN="$NIVESH_DATA_DIR/generated"
"$BIN" data generate --out "$GEN" --scale small --start "$(date -d '-396 days' +%F)" >/dev/null
"$BIN" train --data "$GEN" >"$NIVESH_DATA_DIR/train.log" 2>&1 || { tail -20 "$NIVESH_DATA_DIR/train.log" >&2; exit 1; }
"$BIN" features ingest --source "$GEN/transactions.csv" >/dev/null
"$BIN" features materialize >/dev/null
