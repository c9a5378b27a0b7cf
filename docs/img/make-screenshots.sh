#!/usr/bin/env bash
# Makes the pictures in docs/MONITORING.md from a real run:
#   docs/img/drift-report.png       a drift report of the credit model after shifted traffic
#   docs/img/validation-report.png  the validation report of a transactions file with faults
# It serves the sample models from a fresh data directory (the first start bootstraps them,
# about a minute), sends the sample credit applications through the batch route with the
# income scaled by 1.5, the loan amounts doubled and every applicant self-employed, stops the
# server, runs `drift check --report` and `data validate --report`, and photographs both pages
# with headless Chromium (Debian package `chromium`).
#
#   docs/img/make-screenshots.sh            # KEEP=1 keeps the data directory
set -euo pipefail
cd "$(dirname "$0")/../.."
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$CHROMIUM" ] || { echo "chromium not found: apt-get install chromium" >&2; exit 1; }
cargo build --release -q
BIN=./target/release/nivesh-ml
DATA="$(mktemp -d)"
OUT=docs/img
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DATA"' EXIT
PORT=$((20000 + RANDOM % 20000))
"$BIN" --data-dir "$DATA" serve --port "$PORT" --rate-limit 0 >"$DATA/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { tail -20 "$DATA/serve.log"; kill $PID; exit 1; }

python3 - "$DATA/generated/credit_applications.csv" "http://127.0.0.1:$PORT" <<'PY'
import csv, json, sys, urllib.request
path, url = sys.argv[1], sys.argv[2]
def value(k, v):
    if v in ("true", "false"):
        return v == "true"
    try:
        return float(v) if "." in v else int(v)
    except ValueError:
        return v
rows = []
for r in csv.DictReader(open(path)):
    a = {k: value(k, v) for k, v in r.items() if k not in ("application_id", "default") and v != ""}
    a["monthly_income"] = a["monthly_income"] * 1.5
    a["loan_amount"] = a["loan_amount"] * 2
    a["employment_type"] = "self_employed"
    rows.append({"applicant_data": a})
for i in range(0, len(rows), 256):
    body = json.dumps({"inputs": rows[i:i + 256]}).encode()
    req = urllib.request.Request(f"{url}/predict/credit-risk/batch", body, {"content-type": "application/json"})
    urllib.request.urlopen(req).read()
print(f"sent {len(rows)} shifted credit applications", file=sys.stderr)
PY
kill -TERM $PID
wait $PID || true

"$BIN" --data-dir "$DATA" drift check --model credit --report "$DATA/drift.html" || true
# a transactions file with a duplicated id and a third of the merchants missing
python3 - "$DATA/generated/transactions.csv" "$DATA/bad.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))[:3000]
rows[10]["transaction_id"] = rows[9]["transaction_id"]
for i, r in enumerate(rows):
    if i % 3 == 0:
        r["merchant"] = ""
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=list(rows[0]))
w.writeheader()
w.writerows(rows)
PY
"$BIN" data validate "$DATA/bad.csv" --suite transactions --report "$DATA/validation.html" || true

shot() {
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,"$3" \
    --screenshot="$2" "file://$(realpath "$1")" >/dev/null 2>&1
  echo "wrote $2"
}
shot "$DATA/drift.html" "$OUT/drift-report.png" 1800
shot "$DATA/validation.html" "$OUT/validation-report.png" 1400
