#!/usr/bin/env bash
# Check the monitoring configuration with the real tools (Debian's `prometheus` package):
# promtool on the scrape config and the alert rules, the rules' unit tests, and a real
# Prometheus scraping a running `nivesh-ml serve` with the committed config (its target
# rewritten to the local port) and evaluating the rules on what it scraped: a server with no
# models is up, not ready, and NiveshMlNotReady is pending. Prints `prometheus: N passed, 0 failed`.
#
#   deploy/test-prometheus.sh [path/to/nivesh-ml]     (default target/debug/nivesh-ml)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(realpath "${1:-${NIVESH_ML_BIN:-target/debug/nivesh-ml}}")"
for tool in promtool prometheus curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install prometheus curl)" >&2; exit 1; }
done
passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*" >&2; echo "prometheus: $passed passed, 1 failed"; exit 1; }

promtool check config deploy/prometheus/prometheus.yml >/dev/null && ok "promtool check config" || fail "promtool check config"
promtool check rules deploy/prometheus/alerts.yml >/dev/null && ok "promtool check rules" || fail "promtool check rules"
promtool test rules deploy/prometheus/alerts.test.yml >/dev/null && ok "promtool test rules (drift, 5xx rate, down fire; not before their for)" \
  || { promtool test rules deploy/prometheus/alerts.test.yml; fail "promtool test rules"; }

TMP="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ML_PORT="$(free_port)"
PROM_PORT="$(free_port)"
mkdir -p "$TMP/ml"
(cd "$TMP/ml" && exec env NIVESH_DATA_DIR=store GRPC_PORT=0 LOG_LEVEL=warn "$BIN" serve --no-bootstrap --port "$ML_PORT") >"$TMP/ml.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$ML_PORT/health/live" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$ML_PORT/metrics" | grep -q '^nivesh_ready 0' && ok "nivesh-ml serve exports nivesh_ready 0 (no models)" \
  || { cat "$TMP/ml.log"; fail "the server's /metrics"; }

# the committed config, scraping the local server every second
sed -e "s/nivesh-ml:8000/127.0.0.1:$ML_PORT/" -e 's/scrape_interval: 15s/scrape_interval: 1s/' \
  -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' deploy/prometheus/prometheus.yml >"$TMP/prometheus.yml"
cp deploy/prometheus/alerts.yml "$TMP/"
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prometheus.log" 2>&1 &
PIDS+=($!)
query() { curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null || true; }
value() { python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true; }
up=""
for _ in $(seq 1 60); do
  up="$(query 'up{job="nivesh-ml"}' | value)"
  [ "$up" = "1" ] && break
  sleep 0.5
done
[ "$up" = "1" ] && ok "Prometheus scrapes nivesh-ml with the committed config (up 1)" || { tail -20 "$TMP/prometheus.log"; fail "no scrape"; }
[ "$(query 'nivesh_ready{job="nivesh-ml"}' | value)" = "0" ] && ok "nivesh_ready scraped" || fail "nivesh_ready not scraped"
state=""
for _ in $(seq 1 40); do
  state="$(curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/alerts" | python3 -c '
import json, sys
alerts = json.load(sys.stdin)["data"]["alerts"]
print(" ".join(sorted(a["labels"]["alertname"] + ":" + a["state"] for a in alerts)))' 2>/dev/null || true)"
  [[ "$state" == *"NiveshMlNotReady:pending"* ]] && break
  sleep 0.5
done
[[ "$state" == *"NiveshMlNotReady:pending"* ]] && ok "the rules run on the scraped series: NiveshMlNotReady pending ($state)" \
  || fail "NiveshMlNotReady is not pending: $state"
# every metric the alert rules and the Grafana dashboard use is one the server exports
curl -sf "http://127.0.0.1:$ML_PORT/metrics" >"$TMP/metrics.txt"
# (families without a sample yet — no prediction made — are taken from the server's registry)
python3 - "$TMP/metrics.txt" deploy/prometheus/alerts.yml deploy/grafana/dashboards/nivesh-ml.json \
  crates/server/src/prometheus.rs <<'PY' && ok "every metric in the alert rules and the dashboard is one the server exports" \
  || fail "unknown metrics"
import json, re, sys
exported = {l.split()[2] for l in open(sys.argv[1]) if l.startswith("# TYPE ")}
registered = {"nivesh_" + n for n in re.findall(r'registry\.register\(\s*"([a-z0-9_]+)"', open(sys.argv[4]).read())}
assert exported <= registered | {"target_info"}, sorted(exported - registered)
exported |= registered
def base(name):
    for suffix in ("_total", "_bucket", "_sum", "_count", "_created"):
        if name.endswith(suffix) and name[: -len(suffix)] in exported:
            return name[: -len(suffix)]
    return name
used = set(re.findall(r"\bnivesh_[a-z0-9_]+", open(sys.argv[2]).read()))
dash = json.load(open(sys.argv[3]))
for p in dash["panels"]:
    for t in p["targets"]:
        used |= set(re.findall(r"\bnivesh_[a-z0-9_]+", t["expr"]))
missing = sorted(n for n in used if base(n) not in exported)
if missing:
    sys.exit(f"not exported: {missing}")
print(f"{len(used)} metric names checked", file=sys.stderr)
PY
echo "prometheus: $passed passed, 0 failed"
