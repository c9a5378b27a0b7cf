#!/usr/bin/env bash
# Load benchmark of the running server: requests/s and latency percentiles per route with wrk
# (Debian package `wrk`), 64 connections for 10 s each by default.
#
#   bench/load.sh                 # starts `nivesh-ml serve` (release build) on a free port
#   bench/load.sh http://host:port
#
# Variables: DURATION (10s), CONNECTIONS (64), THREADS (2), DATA_DIR (./nivesh-data), ROUTES
# (a regular expression over the route names below; all by default). The server's own settings
# come from the environment as usual, e.g. PREDICTION_LOG_SAMPLE_RATE=0 for logging off.
# "cached" routes send one body again and again (the prediction cache keeps the second answer
# and serves the rest);
# "uncached" ones make every body different, so every request runs the model. The "oip" rows
# are the Open Inference Protocol (JSON tensors, every row different); a batch of 64 is one
# request, so its rows/s is 64 × req/s. The "mcp" rows are agent tool calls (JSON-RPC
# tools/call over MCP's streamable HTTP at /mcp), every call different. "anomaly (N users)"
# scores each request for another of the bootstrap's users (USERS, 400 by default: U0001…),
# each read from the online store, as real traffic would; "features/online (N users)" likewise.
# "spending (inline 120 days, uncached)" sends a 120-day history in the body, its last amount
# different each time: every request fits the served model's method on it.
# The server is started with --rate-limit 0: the per-client limit would otherwise cap one
# load generator at 1,000 req/s.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${DURATION:-10s}"; CONN="${CONNECTIONS:-64}"; THREADS="${THREADS:-2}"; USERS="${USERS:-400}"
[[ "$USERS" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "USERS must be 1-9999 (the bootstrap has 400)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
URL="${1:-}"
PID=""
if [ -z "$URL" ]; then
  cargo build --release -q
  PORT=$((20000 + RANDOM % 20000))
  GRPC_PORT="${GRPC_PORT:-0}" ./target/release/nivesh-ml --data-dir "${DATA_DIR:-./nivesh-data}" serve --port "$PORT" --rate-limit 0 >/tmp/nivesh-load-server.log 2>&1 &
  PID=$!
  trap 'kill $PID 2>/dev/null || true' EXIT
  URL="http://127.0.0.1:$PORT"
  for _ in $(seq 1 600); do curl -sf "$URL/health/ready" >/dev/null && break; sleep 0.5; done
  curl -sf "$URL/health/ready" >/dev/null || { tail -20 /tmp/nivesh-load-server.log; exit 1; }
fi
TMP="$(mktemp -d)"
CREDIT='{"applicant_data": {"age": AGE, "monthly_income": 80000, "monthly_debt": 20000, "credit_limit": 200000, "credit_used": 50000, "loan_amount": 500000, "payments_missed": 1, "total_payments": 48, "months_employed": 60, "credit_history_months": 84, "num_credit_accounts": 4, "has_mortgage": false, "has_car_loan": true, "employment_type": "salaried", "education": "graduate"}}'

# lua for a POST route; when $3 is "vary", NUM in the body becomes a per-request number; $4
# is the Accept header (default any)
lua() {
  local body="$2" vary="${3:-}" accept="${4:-*/*}"
  body="${body//\"/\\\"}"
  cat >"$TMP/$1.lua" <<LUA
-- id is the global that setup gives each thread (0, 1, …); a local of that name would
-- shadow it and give every thread the same bodies
local n = 0
local threads = {}
setup = function(thread) thread:set("id", #threads) table.insert(threads, thread) end
local template = "$body"
request = function()
  n = n + 1
  local body = template
  if "$vary" == "vary" then
    local k = n * 64 + (id or 0)
    body = string.gsub(template, "NUM", tostring(k))
    -- USER: one of the bootstrap's users U0001..U$USERS, a different one each request
    body = string.gsub(body, "USER", string.format("U%04d", k % $USERS + 1))
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Accept"] = "$accept"}, body)
end
LUA
}
lua intent_cached '{"query": "how much did I spend on food last month"}'
lua intent_uncached '{"query": "how much did I spend on food in week NUM of last year"}' vary
lua credit_cached "${CREDIT/AGE/35}"
CREDIT_VARY="${CREDIT/AGE/35}"
lua credit_uncached "${CREDIT_VARY/80000/NUM}" vary
lua ner_uncached '{"text": "Paid Rs NUM to Swiggy yesterday from my HDFC card", "reference_date": "2026-03-20"}' vary
# now: after the user's last event, so the online state answers (an older timestamp replays history)
NOW="$(TZ=Asia/Kolkata date +%Y-%m-%dT%H:%M:%S+05:30)"
lua anomaly_uncached "{\"user_id\": \"U0001\", \"transaction\": {\"timestamp\": \"$NOW\", \"amount\": NUM, \"merchant\": \"Amazon\", \"category\": \"shopping\", \"channel\": \"card\"}}" vary
lua anomaly_users "{\"user_id\": \"USER\", \"transaction\": {\"timestamp\": \"$NOW\", \"amount\": NUM, \"merchant\": \"Amazon\", \"category\": \"shopping\", \"channel\": \"card\"}}" vary
lua spending_cached '{"user_id": "U0001", "months": 3}'
# an inline history of 120 days (one debit a day, a weekly pattern; the last day's amount is NUM,
# so every body differs): the series is fitted per request by the served model's method
HIST=""
for d in $(seq 120 -1 1); do
  AMT=$(( 500 + (d % 7) * 150 + (d * 37 % 11) * 20 ))
  HIST+="{\"timestamp\": \"$(date -u -d "-$d days" +%Y-%m-%d)T12:00:00Z\", \"amount\": $AMT}, "
done
HIST+="{\"timestamp\": \"$(date -u +%Y-%m-%d)T12:00:00Z\", \"amount\": NUM}"
lua spending_inline "{\"transactions\": [$HIST], \"months\": 3}" vary
lua features_online '{"entity_ids": ["U0001"]}'
lua features_users '{"entity_ids": ["USER"]}' vary
# Open Inference Protocol bodies (JSON tensors): credit as one tensor per field, intent as texts;
# every row of a batch differs (NUM.k, "row k"), so no row comes from the cache
oip_body() { # model rows
  python3 - "$1" "$2" <<'PY'
import json, sys
model, n = sys.argv[1], int(sys.argv[2])
if model == "intent":
    t = [{"name": "text", "datatype": "BYTES", "shape": [n], "data": [f"how much did I spend on food in week NUM row {k}" for k in range(n)]}]
else:
    a = {"age": 35, "monthly_income": None, "monthly_debt": 20000.0, "credit_limit": 200000.0, "credit_used": 50000.0,
         "loan_amount": 500000.0, "payments_missed": 1, "total_payments": 48, "months_employed": 60,
         "credit_history_months": 84, "num_credit_accounts": 4, "has_mortgage": False, "has_car_loan": True,
         "employment_type": "salaried", "education": "graduate"}
    types = {bool: "BOOL", int: "INT64", float: "FP64", str: "BYTES"}
    t = [{"name": k, "datatype": types[type(v)], "shape": [n], "data": [v] * n} for k, v in a.items() if v is not None]
    t.append({"name": "monthly_income", "datatype": "FP64", "shape": [n], "data": [f"@NUM.{k + 10}@" for k in range(n)]})
print(json.dumps({"inputs": t}).replace('"@', "").replace('@"', ""))
PY
}
lua oip_intent_1 "$(oip_body intent 1)" vary
lua oip_intent_64 "$(oip_body intent 64)" vary
lua oip_credit_1 "$(oip_body credit 1)" vary
lua oip_credit_64 "$(oip_body credit 64)" vary

# MCP over streamable HTTP (stateless): a JSON-RPC tools/call per request, every one different
mcp_lua() { # name tool arguments-json
  lua "$1" "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tools/call\", \"params\": {\"name\": \"$2\", \"arguments\": $3}}" \
    vary "application/json, text/event-stream"
}
mcp_lua mcp_intent classify_intent '{"query": "how much did I spend on food in week NUM of last year"}'
mcp_lua mcp_credit assess_credit_risk "${CREDIT_VARY/80000/NUM}"

run() { # name path [lua]
  local name="$1" path="$2" script="${3:-}"
  [[ "$name" =~ ${ROUTES:-.} ]] || return 0
  local args=(--latency -d "$DUR" -c "$CONN" -t "$THREADS")
  [ -n "$script" ] && args+=(-s "$TMP/$script.lua")
  local out
  out="$(wrk "${args[@]}" "$URL$path" 2>&1)"
  local rps p50 p99 errs sock
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  errs="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
  # "Socket errors: connect 0, read 0, write 0, timeout 0"
  sock="$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")"
  printf '| %-22s | %-28s | %10s | %8s | %8s | %s | %s |\n' "$name" "$path" "$rps" "$p50" "$p99" "${errs:-0}" "${sock:-0}"
}

echo "wrk: $CONN connections, $THREADS threads, $DUR per route, against $URL ($(nproc) cores)"
echo "| route | path | req/s | p50 | p99 | non-2xx | socket errors |"
echo "|---|---|---|---|---|---|---|"
run "no-op (floor)" /noop
run "liveness" /health/live
run "intent (cached)" /predict/intent intent_cached
run "intent (uncached)" /predict/intent intent_uncached
run "credit-risk (cached)" /predict/credit-risk credit_cached
run "credit-risk (uncached)" /predict/credit-risk credit_uncached
run "ner (uncached)" /predict/ner ner_uncached
run "anomaly (uncached)" /predict/anomaly anomaly_uncached
run "anomaly (${USERS} users)" /predict/anomaly anomaly_users
run "spending (cached)" /predict/spending spending_cached
run "spending (inline 120 days, uncached)" /predict/spending spending_inline
run "features/online" /features/online features_online
run "features/online (${USERS} users)" /features/online features_users
run "oip intent, batch 1" /v2/models/intent/infer oip_intent_1
run "oip intent, batch 64" /v2/models/intent/infer oip_intent_64
run "oip credit, batch 1" /v2/models/credit/infer oip_credit_1
run "oip credit, batch 64" /v2/models/credit/infer oip_credit_64
run "mcp classify_intent" /mcp mcp_intent
run "mcp assess_credit_risk" /mcp mcp_credit
# the prediction log's counters (PREDICTION_LOG_SAMPLE_RATE=0 turns the log off)
curl -sf "$URL/metrics" | awk '/^nivesh_prediction_log_(written|dropped)_rows/ {printf "%s %s\n", $1, $2}' || true
if [ -n "$PID" ]; then
  echo "server RSS after the run: $(awk '/VmRSS/ {print $2, $3}' /proc/$PID/status)"
fi
