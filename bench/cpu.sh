#!/usr/bin/env bash
# Server CPU per request on one route: starts the server (release build, or $BIN) on DATA_DIR,
# runs bench/load.sh on the routes matching ROUTE, and divides the server process's user+system
# CPU time (from /proc) by the requests answered. Less noisy than req/s on a machine where the
# load generator shares the cores, since it does not depend on how the two share them.
#
#   bench/cpu.sh 'credit-risk \(uncached'            # DURATION (8s), DATA_DIR (./nivesh-data)
#   BIN=/tmp/other/nivesh-ml bench/cpu.sh '^no-op'   # another binary, for A/B
set -euo pipefail
cd "$(dirname "$0")/.."
ROUTE="${1:?usage: bench/cpu.sh ROUTE_REGEX [serve args]}"; shift
BIN="${BIN:-./target/release/nivesh-ml}"
[ -n "${BIN_BUILT:-}" ] || [ "$BIN" != ./target/release/nivesh-ml ] || cargo build --release -q
PORT=$((20000 + RANDOM % 20000))
GRPC_PORT=0 "$BIN" --data-dir "${DATA_DIR:-./nivesh-data}" serve --port "$PORT" --rate-limit 0 "$@" >/tmp/nivesh-cpu-server.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.5; done
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
T0=$(ticks)
OUT=$(DURATION="${DURATION:-8s}" ROUTES="$ROUTE" bash bench/load.sh "http://127.0.0.1:$PORT")
T1=$(ticks)
D="${DURATION:-8s}"; D="${D%s}"
echo "$OUT" | grep '^| [a-z]' | grep -v '^| route' | while IFS='|' read -r _ name _ rps _; do
  python3 -c "r = float('$rps'); print(f'$name: {r:,.0f} req/s, server CPU {($T1 - $T0) / $HZ * 1e6 / (r * $D):.1f} µs per request')"
done
