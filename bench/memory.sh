#!/usr/bin/env bash
# Memory (VmRSS) of `nivesh-ml serve` when ready and after bench/load.sh, for a bootstrap start
# (an empty data directory: sample data, training and feature store first) and a plain start
# (the same directory again), for each binary given (default: the release build).
#
#   bench/memory.sh                                 # ./target/release/nivesh-ml
#   bench/memory.sh /tmp/nivesh-old ./target/release/nivesh-ml
#
# Prints one line per start; each start's wrk table goes to /tmp/nivesh-memory-<n>-<start>.txt.
set -u
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { cargo build --release -q; set -- ./target/release/nivesh-ml; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
run() { # label bin dir port
  local label=$1 bin=$2 dir=$3 port=$4 t0 t1 pid idle after
  t0=$(date +%s.%N)
  "$bin" --data-dir "$dir" serve --port "$port" --rate-limit 0 >"/tmp/nivesh-memory-$label.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -sf "localhost:$port/health/ready" >/dev/null && break; sleep 0.5; done
  t1=$(date +%s.%N)
  idle=$(rss $pid)
  bash bench/load.sh "http://127.0.0.1:$port" >"/tmp/nivesh-memory-$label.txt" 2>&1
  after=$(rss $pid)
  printf '%s: ready after %.1f s, RSS %s kB ready, %s kB after load\n' "$label" "$(echo "$t1 - $t0" | bc)" "$idle" "$after"
  kill $pid; wait $pid 2>/dev/null
}
n=0
for bin in "$@"; do
  n=$((n + 1))
  dir=$(mktemp -d)
  run "$n-bootstrap" "$bin" "$dir" $((18700 + 2 * n))
  run "$n-plain" "$bin" "$dir" $((18701 + 2 * n))
  rm -rf "$dir"
done
