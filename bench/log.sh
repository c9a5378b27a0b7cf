#!/usr/bin/env bash
# The prediction log's cost under load: bench/load.sh's prediction routes with the log off
# (PREDICTION_LOG_SAMPLE_RATE=0) and on (1), alternating for ROUNDS rounds (2 by default) on a
# fresh monitoring.db each time, then the mean req/s of each route either way, their ratio,
# the requests that failed, and the rows the log wrote and dropped.
#
#   bench/log.sh                   # DATA_DIR=./nivesh-data, ROUNDS=2, DURATION=10s
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-2}"
DATA="${DATA_DIR:-./nivesh-data}"
export ROUTES="${ROUTES:-intent|credit|ner|anomaly|spending}"
OUT="$(mktemp -d)"
for round in $(seq 1 "$ROUNDS"); do
  for rate in 0 1; do
    rm -f "$DATA"/monitoring.db "$DATA"/monitoring.db-wal "$DATA"/monitoring.db-shm
    PREDICTION_LOG_SAMPLE_RATE=$rate DATA_DIR="$DATA" bash bench/load.sh >"$OUT/$rate.$round" 2>&1
  done
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import sys, glob, re, statistics
out, rounds = sys.argv[1], int(sys.argv[2])
rps, failed, log = {}, {0: 0, 1: 0}, {}
for rate in (0, 1):
    for r in range(1, rounds + 1):
        for line in open(f"{out}/{rate}.{r}"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 7 and re.match(r"^[0-9.]+$", cells[2]):
                rps.setdefault(cells[0], {0: [], 1: []})[rate].append(float(cells[2]))
                failed[rate] += int(cells[5] or 0) + int(cells[6] or 0)
            m = re.match(r"^nivesh_prediction_log_(written|dropped)_rows (\d+)", line)
            if m and rate == 1:
                log.setdefault(m.group(1), []).append(int(m.group(2)))
print(f"| route | log off, req/s | log on, req/s | on / off |")
print("|---|---|---|---|")
ratios = []
for name, v in rps.items():
    off, on = statistics.mean(v[0]), statistics.mean(v[1])
    ratios.append(on / off)
    print(f"| {name} | {off:,.0f} | {on:,.0f} | {on / off:.3f} |")
print(f"| all routes (geometric mean) | | | {statistics.geometric_mean(ratios):.3f} |")
print(f"failed requests (non-2xx + socket errors): off {failed[0]}, on {failed[1]}")
w, d = sum(log.get("written", [0])), sum(log.get("dropped", [0]))
print(f"log on: {w:,} rows written, {d:,} dropped ({100 * d / max(w + d, 1):.1f} % of the predictions) over {rounds} rounds")
PY
