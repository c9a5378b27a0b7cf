#!/usr/bin/env bash
# Scale-out of the nightly batch work: 1, 2 and 4 concurrent shards (`--shard i/N`, as the
# Kubernetes Indexed Job runs them) of `features materialize`, `predict spending` (one forecast
# per user, history read from the offline store) and `predict anomaly` (one day's transactions,
# state read from the online store), all against ONE PostgreSQL (registry + offline store) and
# ONE Redis (online store).
#
#   eval "$(.ci/services.sh)"            # PostgreSQL and Redis on loopback
#   bench/scale.sh [BIN]                 # default ./target/release/nivesh-ml
#   USERS=20000 DAYS=100 SHARDS="1 2 4" THREADS=1 bench/scale.sh
#
# Uses the database `nivesh_scale` (dropped and made again) on the server of
# NIVESH_TEST_DATABASE_URL and Redis database 3 of NIVESH_TEST_REDIS_URL's server (flushed).
# Each shard gets THREADS scoring threads (one pod's CPU). Prints a table; logs go to $WORK,
# which is removed at the end with the database unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-./target/release/nivesh-ml}")
USERS=${USERS:-20000}
DAYS=${DAYS:-100}
SHARDS=${SHARDS:-1 2 4}
THREADS=${THREADS:-1}
WORK=${WORK:-/tmp/nivesh-scale}
: "${NIVESH_TEST_DATABASE_URL:?run eval \"\$(.ci/services.sh)\" first}"
: "${NIVESH_TEST_REDIS_URL:?run eval \"\$(.ci/services.sh)\" first}"
PG_SERVER=${NIVESH_TEST_DATABASE_URL%/*}
REDIS_SERVER=${NIVESH_TEST_REDIS_URL%/*}
export DATABASE_URL="$PG_SERVER/nivesh_scale" REDIS_URL="$REDIS_SERVER/3" NIVESH_DATA_DIR="$WORK/data"
export RUST_LOG=warn

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
log() { echo "scale: $*" >&2; }

rm -rf "$WORK" && mkdir -p "$WORK"
psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS nivesh_scale" -c "CREATE DATABASE nivesh_scale" >&2
redis-cli -u "$REDIS_URL" flushdb >/dev/null

start=$(date -d "-$DAYS days" +%F)
as_of=$(date +%F)
log "generating $USERS users x $DAYS days from $start"
"$BIN" data generate --out "$WORK/big" --scale small --users "$USERS" --days "$DAYS" --start "$start" >&2
"$BIN" data generate --out "$WORK/train" --scale small --start "$(date -d '-396 days' +%F)" >/dev/null
rows=$(($(wc -l <"$WORK/big/transactions.csv") - 1))

log "training the models on the small sample (registry in PostgreSQL)"
"$BIN" train --data "$WORK/train" >"$WORK/train.log" 2>&1

log "ingesting $rows transactions into the offline store"
t0=$(now)
"$BIN" features ingest --source "$WORK/big/transactions.csv" >"$WORK/ingest.log" 2>&1
ingest=$(secs "$t0" "$(now)")

# spending: one request per user; anomaly: the last day's transactions
seq 1 "$USERS" | awk '{printf "{\"user_id\":\"U%04d\",\"months\":3}\n", $1}' >"$WORK/users.jsonl"
last=$(date -d yesterday +%F)
awk -F, -v d="$last" 'NR == 1 || index($0, d) > 0' "$WORK/big/transactions.csv" >"$WORK/day.csv"
day_rows=$(($(wc -l <"$WORK/day.csv") - 1))

# run N shards of a command at once; each shard's wall time goes to $WORK/<label>-N-i.time and
# an argument OUT becomes the shard's own output file
shards() { # label N args…
  local label=$1 n=$2 i a pids=()
  shift 2
  for i in $(seq 0 $((n - 1))); do
    local args=()
    for a in "$@"; do [ "$a" = OUT ] && args+=("$WORK/$label-$n-$i.jsonl") || args+=("$a"); done
    (
      s=$(now)
      "$BIN" "${args[@]}" --shard "$i/$n" >"$WORK/$label-$n-$i.log" 2>&1 ||
        { echo "shard $i/$n of $label failed:" >&2; tail -5 "$WORK/$label-$n-$i.log" >&2; exit 1; }
      secs "$s" "$(now)" >"$WORK/$label-$n-$i.time"
    ) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
}

printf '| step | shards | records | wall s | records/s total | records/s per shard (mean) |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
printf '| features ingest (offline store) | 1 | %d | %.1f | %.0f | — |\n' "$rows" "$ingest" "$(echo "$rows / $ingest" | bc -l)"
row() { # label n records wall [shown as]
  local label=$1 n=$2 recs=$3 wall=$4 shown=${5:-$1} per=0 i t
  for i in $(seq 0 $((n - 1))); do
    t=$(cat "$WORK/$label-$n-$i.time")
    per=$(echo "$per + ($recs / $n) / $t" | bc -l)
  done
  printf '| %s | %d | %d | %.1f | %.0f | %.0f |\n' "$shown" "$n" "$recs" "$wall" \
    "$(echo "$recs / $wall" | bc -l)" "$(echo "$per / $n" | bc -l)"
}
for n in $SHARDS; do
  redis-cli -u "$REDIS_URL" flushdb >/dev/null
  t0=$(now)
  shards materialize "$n" features materialize --full --as-of "$as_of"
  row materialize "$n" "$USERS" "$(secs "$t0" "$(now)")" "features materialize --full"
  keys=$(redis-cli -u "$REDIS_URL" dbsize)
  redis_mem=$(redis-cli -u "$REDIS_URL" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
  t0=$(now)
  shards spending "$n" predict spending --input "$WORK/users.jsonl" --output OUT --threads "$THREADS"
  row spending "$n" "$USERS" "$(secs "$t0" "$(now)")" "predict spending"
  t0=$(now)
  shards anomaly "$n" predict anomaly --input "$WORK/day.csv" --output OUT --threads "$THREADS"
  row anomaly "$n" "$day_rows" "$(secs "$t0" "$(now)")" "predict anomaly"
  # the shards' outputs, concatenated in shard order, are the same for every N
  for label in spending anomaly; do
    for i in $(seq 0 $((n - 1))); do cat "$WORK/$label-$n-$i.jsonl"; done >"$WORK/$label-$n.all"
    [ -f "$WORK/$label.first" ] || cp "$WORK/$label-$n.all" "$WORK/$label.first"
    cmp -s "$WORK/$label-$n.all" "$WORK/$label.first" || { log "$label: $n shards' output differs"; exit 1; }
  done
done
pg_size=$(psql "$DATABASE_URL" -tAc "SELECT pg_database_size(current_database())")
echo
[ -n "${KEEP:-}" ] || { rm -rf "$WORK"; psql "$PG_SERVER/postgres" -qc "DROP DATABASE nivesh_scale" >&2; redis-cli -u "$REDIS_URL" flushdb >/dev/null; }
echo "users $USERS, transactions $rows ($DAYS days), one day $day_rows; Redis: $keys keys, used_memory $redis_mem bytes after materializing all users; PostgreSQL nivesh_scale: $pg_size bytes; threads per shard $THREADS; $(nproc) CPUs"
