#!/usr/bin/env bash
# Check the compose stack with the real tool (Debian's `docker-compose` validates offline):
# the file is valid with .env.example's values, refuses to start without API keys, and every
# file it mounts or builds from is in the repository; the Grafana provisioning and dashboard
# parse. (The metrics the dashboard uses are checked against a running server by
# deploy/test-prometheus.sh.) Prints `compose: N passed, 0 failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker-compose >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }
}
passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*" >&2; echo "compose: $passed passed, 1 failed"; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
: >"$TMP/empty.env"
env -u ML_API_KEYS docker-compose -f deploy/compose.yaml -p nivesh --env-file .env.example config >"$TMP/config.yaml" 2>"$TMP/err" \
  && ok "docker-compose config: valid with .env.example" || { cat "$TMP/err"; fail "compose config"; }
if env -u ML_API_KEYS docker-compose -f deploy/compose.yaml -p nivesh --env-file "$TMP/empty.env" config -q 2>"$TMP/err"; then
  fail "the stack would start without ML_API_KEYS"
else
  grep -q "set ML_API_KEYS" "$TMP/err" && ok "without ML_API_KEYS it refuses, naming it" || fail "$(cat "$TMP/err")"
fi
python3 - "$TMP/config.yaml" <<'PY' || fail "compose contents"
import json, os, sys
import yaml  # python3-yaml comes with docker-compose
cfg = yaml.safe_load(open(sys.argv[1]))
services = cfg["services"]
want = {"nivesh-ml", "redis", "postgres", "mlflow", "prometheus", "grafana"}
assert want <= services.keys(), sorted(services)
print("ok   services:", ", ".join(sorted(services)))
for name, s in services.items():
    for v in s.get("volumes", []):
        src = v.get("source") if isinstance(v, dict) else v.split(":")[0]
        if v.get("type") == "bind" if isinstance(v, dict) else src.startswith(("/", ".")):
            assert os.path.exists(src), f"{name} mounts {src}, which is not in the repository"
    if "build" in s:
        ctx = s["build"]["context"]
        df = os.path.join(ctx, s["build"].get("dockerfile", "Dockerfile"))
        assert os.path.exists(df), f"{name} builds from {df}, which is missing"
env = services["nivesh-ml"]["environment"]
assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://"), env
print("ok   every mounted file and build context exists; nivesh-ml points at PostgreSQL, Redis, MLflow")
for f in ("deploy/grafana/provisioning/datasources/prometheus.yml", "deploy/grafana/provisioning/dashboards/nivesh.yml"):
    yaml.safe_load(open(f))
d = json.load(open("deploy/grafana/dashboards/nivesh-ml.json"))
assert d["uid"] and all(p["datasource"]["uid"] == "prometheus" and p["targets"] for p in d["panels"])
print(f"ok   Grafana provisioning parses; the dashboard has {len(d['panels'])} panels on the provisioned datasource")
PY
passed=$((passed + 3))
echo "compose: $passed passed, 0 failed"
