#!/usr/bin/env bash
# Server CPU per request on one route: starts the server (release build, or $BIN) on DATA_DIR,
# runs bench/load.sh on the one route matching ROUTE, and divides the server process's
# user+system CPU time (from /proc) by the requests answered. Less noisy than req/s on a machine
# where the load generator shares the cores, since it does not depend on how the two share them.
#
#   bench/cpu.sh 'credit-risk \(uncached'            # DURATION in seconds (8s), DATA_DIR (./nivesh-data)
#   BIN=/tmp/other/nivesh-ml bench/cpu.sh '^no-op'   # another binary, for A/B
set -euo pipefail
ROUTE="${1:?usage: bench/cpu.sh ROUTE_REGEX [serve args]}"; shift
BIN="${BIN:-}"
[ -z "$BIN" ] || BIN="$(realpath "$BIN")"
cd "$(dirname "$0")/.."
if [ -z "$BIN" ]; then cargo build --release -q; BIN=./target/release/nivesh-ml; fi
D="${DURATION:-8s}"
[[ "$D" =~ ^[0-9]+s$ ]] || { echo "DURATION must be whole seconds, like 8s" >&2; exit 1; }
PORT=$((20000 + RANDOM % 20000))
GRPC_PORT=0 "$BIN" --data-dir "${DATA_DIR:-./nivesh-data}" serve --port "$PORT" --rate-limit 0 "$@" >/tmp/nivesh-cpu-server.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { tail -20 /tmp/nivesh-cpu-server.log; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
T0=$(ticks)
OUT=$(DURATION="$D" ROUTES="$ROUTE" bash bench/load.sh "http://127.0.0.1:$PORT")
T1=$(ticks)
ROWS=$(echo "$OUT" | grep '^| [a-z]' | grep -v '^| route' || true)
[ "$(echo "$ROWS" | grep -c .)" = 1 ] || { echo "ROUTE must match exactly one route of bench/load.sh:"; echo "$ROWS"; exit 1; } >&2
IFS='|' read -r _ NAME _ RPS _ _ NON2XX ERRORS _ <<<"$ROWS"
[ "$(echo $NON2XX)" = 0 ] && [ "$(echo $ERRORS)" = 0 ] || { echo "errors in the run: $ROWS" >&2; exit 1; }
python3 -c "r = float('$RPS'); print(f'$(echo $NAME): {r:,.0f} req/s, server CPU {($T1 - $T0) / $HZ * 1e6 / (r * ${D%s}):.1f} µs per request')"
