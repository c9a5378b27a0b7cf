#!/usr/bin/env bash
# Load and soak: the server's maximum throughput on a mix of the five prediction routes, then
# 80 % of it held for SOAK seconds (errors, p99 and the server's RSS per slice), then 150 % of
# it with many connections (overload: 429s, never timeouts, 5xx or crashes). wrk (Debian
# package `wrk`) with a Lua script that mixes the routes and paces itself (LuaJIT's clock).
#
#   bench/soak.sh                       # release build, a fresh data dir, 10-minute soak
#   SOAK=60 SLICE=15 WARMUP=15 bench/soak.sh target/debug/nivesh-ml    # what .ci/run does
#
# The mix, per 20 requests: intent 6, credit-risk 4, anomaly 4, ner 4, spending 2, half of each
# the same body again (answered by the prediction cache) and half different every time (the
# model runs): different users (U0001-U0020), amounts, incomes, texts and spending histories
# (28 days sent inline).
# Variables: MAX_FOR (20 s: the unpaced run that measures the maximum), SOAK (600 s), SLICE
# (30 s: one wrk run, one row), WARMUP (60 s: RSS is compared with its value after this),
# LOAD (0.8), CONN (64), OVER (1.5), OVER_CONN (2048), OVER_FOR (20 s), DATA_DIR (a temporary
# one, bootstrapped), PORT (a free one), OUT (the report, default target/soak-report.md).
# Fails when: any request in the soak is not a 2xx or wrk saw a socket error or timeout; the
# RSS at the end is more than 10 % above the RSS after warm-up (runs of SOAK ≥ 300 s); the
# overload run gets no 429, or any 5xx, socket error or timeout; the server is not alive and
# ready at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_FOR=${MAX_FOR:-20}; SOAK=${SOAK:-600}; SLICE=${SLICE:-30}; WARMUP=${WARMUP:-60}
LOAD=${LOAD:-0.8}; CONN=${CONN:-64}; OVER=${OVER:-1.5}; OVER_CONN=${OVER_CONN:-2048}; OVER_FOR=${OVER_FOR:-20}
OUT=${OUT:-target/soak-report.md}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
BIN=${1:-}
if [ -z "$BIN" ]; then
  cargo build --release -q
  BIN=target/release/nivesh-ml
fi
BIN=$(realpath "$BIN")
WORK=$(mktemp -d)
DATA=${DATA_DIR:-$WORK/data}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
URL="http://127.0.0.1:$PORT"
cleanup() {
  if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# the server as a user runs it: bootstrapped on first start; no per-client rate limit (one
# load generator is one client); the in-flight limit (64 per core) answers overload with 429
env -u ML_API_KEYS -u DATABASE_URL -u REDIS_URL -u MLFLOW_TRACKING_URI GRPC_PORT=0 RUST_LOG=warn \
  "$BIN" serve --data-dir "$DATA" --port "$PORT" --rate-limit 0 ${SERVER_ARGS:-} >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do curl -sf "$URL/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "$URL/health/ready" >/dev/null || { tail -30 "$WORK/serve.log"; exit 1; }

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }

NOW=$(TZ=Asia/Kolkata date +%Y-%m-%dT%H:%M:%S+05:30)
# mix.lua RATE THREADS [heavy]: 0 runs unpaced (as fast as the server answers), else RATE
# requests/s in all; "heavy": only uncached spending forecasts (28 days inline, the slowest)
mix() {
  cat >"$WORK/mix.lua" <<LUA
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } nivesh_timespec;
int clock_gettime(int clk, nivesh_timespec *ts);
]]
local ts = ffi.new("nivesh_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local rate, nthreads, heavy = $1, $2, "${3:-}" == "heavy"
local interval = rate > 0 and 1000 * nthreads / rate or 0
local next_at = nil
if rate > 0 then
  function delay()
    local t = now_ms()
    -- a thread that fell more than a second behind does not burst to catch up
    if next_at == nil or next_at < t - 1000 then next_at = t end
    local d = next_at - t
    next_at = next_at + interval
    return d > 0 and d or 0
  end
end

local credit = '{"applicant_data": {"age": %d, "monthly_income": %d, "monthly_debt": 20000, "credit_limit": 200000, '
  .. '"credit_used": 50000, "loan_amount": 500000, "payments_missed": 1, "total_payments": 48, "months_employed": 60, '
  .. '"credit_history_months": 84, "num_credit_accounts": 4, "has_mortgage": false, "has_car_loan": true, '
  .. '"employment_type": "salaried", "education": "graduate"}}'
local anomaly = '{"user_id": "U%04d", "transaction": {"timestamp": "$NOW", "amount": %d, "merchant": "Amazon", '
  .. '"category": "shopping", "channel": "card"}}'
local n = 0
local headers = {["Content-Type"] = "application/json"}
local function post(path, body) return wrk.format("POST", path, headers, body) end
function request()
  n = n + 1
  local k = n * 64 + id
  local slot = heavy and 19 or n % 20
  if slot < 3 then return post("/predict/intent", '{"query": "how much did I spend on food last month"}')
  elseif slot < 6 then return post("/predict/intent", string.format('{"query": "how much did I spend on food in week %d of last year"}', k))
  elseif slot < 8 then return post("/predict/credit-risk", string.format(credit, 35, 80000))
  elseif slot < 10 then return post("/predict/credit-risk", string.format(credit, 21 + k % 60, 20000 + k % 150000))
  elseif slot < 12 then return post("/predict/anomaly", string.format(anomaly, 1, 700))
  elseif slot < 14 then return post("/predict/anomaly", string.format(anomaly, 1 + k % 20, 100 + k % 90000))
  elseif slot < 16 then return post("/predict/ner", '{"text": "Paid Rs 450 to Swiggy yesterday from my HDFC card", "reference_date": "2026-03-20"}')
  elseif slot < 18 then return post("/predict/ner", string.format('{"text": "Paid Rs %d to Swiggy yesterday from my HDFC card", "reference_date": "2026-03-20"}', k))
  elseif slot < 19 then return post("/predict/spending", '{"user_id": "U0001", "months": 3}')
  else
    -- the caller's own 28 days of history, different every time: the forecaster fits it
    local days = {}
    for d = 1, 28 do
      days[d] = string.format('{"timestamp": "2026-11-%02dT12:00:00+05:30", "amount": %d}', d, 100 + (k * d) % 900 + (d == 1 and k or 0))
    end
    return post("/predict/spending", '{"months": 3, "transactions": [' .. table.concat(days, ", ") .. ']}')
  end
end

c429, c4xx, c5xx = 0, 0, 0
function response(status, headers, body)
  if status == 429 then c429 = c429 + 1
  elseif status >= 500 then c5xx = c5xx + 1
  elseif status >= 400 then c4xx = c4xx + 1 end
end

function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("c429"); b = b + t:get("c4xx"); c = c + t:get("c5xx")
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.2f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f socket_errors=%d timeouts=%d c429=%d c4xx=%d c5xx=%d connect_errors=%d read_errors=%d write_errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect + e.read + e.write, e.timeout, a, b, c, e.connect, e.read, e.write))
end
LUA
}
# one wrk run; prints its RESULT line's fields as shell assignments
load() { # seconds connections rate [heavy]
  mix "$3" 2 "${4:-}"
  wrk -t 2 -c "$2" -d "${1}s" --timeout 5s -s "$WORK/mix.lua" "$URL" 2>&1 | sed -n 's/^RESULT //p'
}
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

{
  echo "# Soak report"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores, ${BIN#"$PWD"/}, wrk -t 2, mix of 20: intent 6, credit-risk 4, anomaly 4, ner 4, spending 2 (half cached, half uncached)"
  echo
  r=$(load "$MAX_FOR" "$CONN" 0)
  max=$(awk -v n="$(field "$r" requests)" -v s="$(field "$r" seconds)" 'BEGIN {printf "%d", n / s}')
  echo "**Maximum** (unpaced, $CONN connections, ${MAX_FOR} s): **$max req/s**, p50 $(field "$r" p50_ms) ms, p99 $(field "$r" p99_ms) ms; RSS $(rss_mb) MB"
  target=$(awk -v m="$max" -v l="$LOAD" 'BEGIN {printf "%d", m * l}')
  echo
  echo "**Soak** at $LOAD × maximum = $target req/s for $SOAK s, $CONN connections, one row per ${SLICE} s:"
  echo
  echo "| t (s) | req/s | p50 ms | p99 ms | max ms | non-2xx | socket errors + timeouts | RSS MB |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  t=0; warm_rss=""; total=0; bad=0
  while [ "$t" -lt "$SOAK" ]; do
    r=$(load "$SLICE" "$CONN" "$target")
    t=$((t + SLICE))
    rss=$(rss_mb)
    n=$(field "$r" requests); s=$(field "$r" seconds)
    non2xx=$(( $(field "$r" c429) + $(field "$r" c4xx) + $(field "$r" c5xx) ))
    sock=$(( $(field "$r" socket_errors) + $(field "$r" timeouts) ))
    total=$((total + n)); bad=$((bad + non2xx + sock))
    printf '| %d | %s | %s | %s | %s | %d | %d | %s |\n' "$t" "$(awk -v n="$n" -v s="$s" 'BEGIN {printf "%d", n / s}')" \
      "$(field "$r" p50_ms)" "$(field "$r" p99_ms)" "$(field "$r" max_ms)" "$non2xx" "$sock" "$rss"
    if [ -z "$warm_rss" ] && [ "$t" -ge "$WARMUP" ]; then warm_rss=$rss; fi
  done
  end_rss=$(rss_mb)
  growth=$(awk -v a="${warm_rss:-$end_rss}" -v b="$end_rss" 'BEGIN {printf "%.1f", (b - a) / a * 100}')
  echo
  echo "Soak: $total requests, $bad failed; RSS after warm-up (${WARMUP} s) ${warm_rss:-$end_rss} MB, at the end $end_rss MB ($growth %)."
  # overload: the slowest route (uncached spending forecasts, CPU on the blocking pool) offered
  # at OVER × its own maximum over many connections, so that work piles up past the in-flight
  # limit; a fast route's excess waits in the kernel's socket buffers instead (see RELIABILITY.md)
  r=$(load "$MAX_FOR" "$CONN" 0 heavy)
  heavy_max=$(awk -v n="$(field "$r" requests)" -v s="$(field "$r" seconds)" 'BEGIN {printf "%d", n / s}')
  over=$(awk -v m="$heavy_max" -v o="$OVER" 'BEGIN {printf "%d", m * o}')
  r=$(load "$OVER_FOR" "$OVER_CONN" "$over" heavy)
  n=$(field "$r" requests)
  echo
  echo "**Overload**: uncached spending forecasts, maximum $heavy_max req/s; $OVER × that = $over req/s offered over $OVER_CONN connections for ${OVER_FOR} s: $n answered, $(field "$r" c429) × 429, $(field "$r" c5xx) × 5xx, $(field "$r" c4xx) other 4xx, $(field "$r" socket_errors) socket errors, $(field "$r" timeouts) timeouts, p99 $(field "$r" p99_ms) ms; RSS $(rss_mb) MB (socket errors by kind: connect $(field "$r" connect_errors), read $(field "$r" read_errors), write $(field "$r" write_errors))"
  sleep 1
  if curl -sf "$URL/health/live" >/dev/null && curl -sf "$URL/health/ready" >/dev/null; then
    echo "After: alive and ready; RSS $(rss_mb) MB."
  else
    echo "After: NOT alive and ready."
  fi
} | tee "$WORK/report.md"
mkdir -p "$(dirname "$OUT")"
cp "$WORK/report.md" "$OUT"
fail=()
# the verdicts, from the report (its lines are the figures checked)
if grep -qE "^Soak: [0-9]+ requests, [1-9]" "$OUT"; then fail+=("requests failed in the soak"); fi
growth=$(sed -n 's/.*MB (\(-\?[0-9.]*\) %)\.$/\1/p' "$OUT")
# RSS is judged on runs of 5 minutes or more (a short run's warm-up is still filling the caches)
if [ "$SOAK" -ge 300 ]; then
  awk -v g="${growth:-0}" 'BEGIN {exit !(g > 10)}' && fail+=("RSS grew ${growth} % after warm-up")
fi
grep -qE "answered, 0 × 429" "$OUT" && fail+=("overload gave no 429")
grep -qE "429, [1-9][0-9]* × 5xx" "$OUT" && fail+=("overload gave 5xx")
grep -qE "other 4xx, [1-9][0-9]* socket errors|socket errors, [1-9][0-9]* timeouts" "$OUT" && fail+=("overload gave socket errors or timeouts")
grep -q "^After: alive and ready" "$OUT" || fail+=("the server is not alive and ready after the overload")
if [ "${#fail[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${fail[@]}" >&2
  tail -20 "$WORK/serve.log" >&2
  exit 1
fi
echo "soak passed; report in $OUT"
