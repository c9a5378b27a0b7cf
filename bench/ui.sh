#!/usr/bin/env bash
# The dashboard's server time: the overview (`/ui`) and its refreshing part (`/ui/live`) with
# 1,000 runs in the registry and 100,000 predictions in the log, measured from curl's time to
# first byte over loopback (200 sequential requests each: p50, p99, max) and wrk's throughput
# (4 connections, 10 s). The runs are written into the SQLite registry directly (each with
# params, tags and three metrics), the predictions sent through the server with the log on.
#
#   bench/ui.sh [BIN]            # default ./target/release/nivesh-ml
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-./target/release/nivesh-ml}")
RUNS=${RUNS:-1000}
LOGGED=${LOGGED:-100000}
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export NIVESH_DATA_DIR="$WORK/data" RUST_LOG=warn
unset DATABASE_URL REDIS_URL MLFLOW_TRACKING_URI ML_API_KEYS ML_ADMIN_KEYS
"$BIN" data generate --out "$WORK/gen" --scale small --start "$(date -d '-396 days' +%F)" >/dev/null
"$BIN" train --data "$WORK/gen" >/dev/null 2>&1
"$BIN" features ingest --source "$WORK/gen/transactions.csv" >/dev/null 2>&1
"$BIN" features materialize >/dev/null 2>&1
python3 - "$WORK/data/registry.db" "$RUNS" <<'PY'
import sqlite3, sys, json, datetime, random
db, n = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
exp = {name: i for i, name in db.execute("SELECT id, name FROM experiments").fetchall()}
names = sorted(exp)
t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
for i in range(n):
    m = names[i % len(names)]
    start = t0 + datetime.timedelta(minutes=40 * i)
    rid = f"bench{i:06d}"
    db.execute("INSERT INTO runs (id, experiment_id, status, started_at, ended_at, git_commit, dataset_hash, dataset_rows, params, tags, mlflow_sync)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'none')",
               (rid, exp[m], "failed" if i % 17 == 0 else "finished", start.isoformat().replace("+00:00", "Z"),
                (start + datetime.timedelta(seconds=30)).isoformat().replace("+00:00", "Z"), "0123456789abcdef",
                "f00d", 6000, json.dumps({"c": 1.0, "seed": i}), json.dumps({"model": m, "trigger": "bench"})))
    for k in ("accuracy", "macro_f1", "auc_roc"):
        db.execute("INSERT INTO metrics (run_id, key, step, value) VALUES (?, ?, 0, ?)", (rid, k, random.random()))
db.commit()
print(f"registry: {db.execute('SELECT COUNT(*) FROM runs').fetchone()[0]} runs")
PY
PREDICTION_LOG_SAMPLE_RATE=1 "$BIN" serve --port "$PORT" --no-bootstrap --rate-limit 0 >"$WORK/serve.log" 2>&1 &
SERVER=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 600); do curl -sf "$URL/health/ready" >/dev/null && break; sleep 0.5; done
cat >"$WORK/p.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/predict/intent", nil, '{"query": "how much did I spend on food in week ' .. n .. '"}')
end
LUA
count() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM prediction_log').fetchone()[0])" "$WORK/data/monitoring.db"; }
while [ "$(count)" -lt "$LOGGED" ]; do wrk -t2 -c32 -d5s -s "$WORK/p.lua" "$URL" >/dev/null; sleep 1.5; done
echo "prediction log: $(count) rows"
for path in /ui /ui/live; do
  for _ in $(seq 1 200); do curl -s -o /dev/null -w '%{time_starttransfer}\n' "$URL$path"; done | sort -n >"$WORK/t"
  python3 - "$WORK/t" "$path" <<'PY'
import sys
t = [float(x) * 1000 for x in open(sys.argv[1])]
p = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f"{sys.argv[2]}: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {t[-1]:.1f} ms (200 requests, time to first byte)")
PY
  wrk -t1 -c4 -d10s "$URL$path" | awk -v p="$path" '/Requests\/sec/ {print p ": " $2 " req/s (wrk, 4 connections)"}'
done
