#!/usr/bin/env bash
# Build the image's runtime stage around a built binary and start it, with Debian's tools only
# (no image registry is reachable here): mmdebstrap makes a bookworm base with curl and CA
# certificates, buildah builds `--target runtime-prebuilt` on it (chroot isolation), and the
# image's own filesystem, user and environment then run: sample data and champions made in the
# data volume by the image's binary, `serve` started, `/health/ready` 200 and a prediction with
# the API key. (This machine's cgroup setup keeps podman/crun from starting containers, so the
# image runs under `buildah run --isolation chroot`: the same root filesystem, uid 10001, env,
# volume and entrypoint binary, without cgroup limits.) Prints `image: N passed, 0 failed`.
#
#   deploy/test-image.sh [path/to/nivesh-ml]    (default target/debug/nivesh-ml)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(realpath "${1:-target/debug/nivesh-ml}")"
need=()
for t in buildah mmdebstrap curl; do command -v "$t" >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*" >&2; echo "image: $passed passed, 1 failed"; exit 1; }
TMP="$(mktemp -d)"
CTR=""
PID=""
stop() { # SIGTERM to the server itself (buildah run does not forward it), as a container stop
  [ -n "$PID" ] || return 0
  local server
  server="$(pgrep -g "$PID" -x nivesh-ml || true)"
  [ -n "$server" ] && kill -TERM $server 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 -- "-$PID" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$PID" 2>/dev/null || true
  PID=""
}
cleanup() {
  stop
  [ -n "$CTR" ] && buildah rm "$CTR" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
BASE=localhost/nivesh-base:bookworm
if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  mmdebstrap --quiet --variant=minbase --include=ca-certificates,curl bookworm "$TMP/rootfs.tar"
  ctr="$(buildah from scratch)"
  mnt="$(buildah mount "$ctr")"
  tar -C "$mnt" -xf "$TMP/rootfs.tar"
  buildah umount "$ctr" >/dev/null
  buildah commit --quiet "$ctr" "$BASE" >/dev/null
  buildah rm "$ctr" >/dev/null
  rm -f "$TMP/rootfs.tar"
fi
ok "base image $BASE (mmdebstrap bookworm minbase + curl, CA certificates)"

# the build context: the Dockerfile, data/ and the binary (the repository's .dockerignore
# leaves target/ out, so the binary is staged beside them)
mkdir -p "$TMP/ctx"
cp Dockerfile "$TMP/ctx/"
cp -r data "$TMP/ctx/data"
rm -rf "$TMP/ctx/data/generated"
cp "$BIN" "$TMP/ctx/nivesh-ml"
buildah bud --quiet --format docker --isolation chroot --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
  --target runtime-prebuilt --build-arg RUNTIME_IMAGE="$BASE" --build-arg BINARY=nivesh-ml \
  -t localhost/nivesh-ml:test "$TMP/ctx" >/dev/null || fail "buildah bud"
ok "built localhost/nivesh-ml:test (runtime stage around $(basename "$BIN"), $(du -h "$BIN" | cut -f1) binary)"
config="$(buildah inspect --type image --format '{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}} {{.Docker.Config.StopSignal}}' localhost/nivesh-ml:test)"
[[ "$config" == "nivesh:nivesh [/usr/local/bin/nivesh-ml] [serve --host 0.0.0.0] SIGTERM" ]] \
  && ok "non-root user, entrypoint, default command, STOPSIGNAL ($config)" || fail "image config: $config"
health="$(buildah inspect --type image --format '{{.Docker.Config.Healthcheck.Test}}' localhost/nivesh-ml:test)"
[[ "$health" == *"/health/live"* ]] && ok "HEALTHCHECK on /health/live" || fail "healthcheck: $health"

CTR="$(buildah from localhost/nivesh-ml:test)"
mkdir -p "$TMP/data"
chown 10001:10001 "$TMP/data"
run() { buildah run --isolation chroot --user 10001:10001 --volume "$TMP/data:/data" "$@"; }
start="$(date -d '90 days ago' +%F)"
run "$CTR" -- sh -c "cd /data && nivesh-ml data generate --out gen --scale small --start $start && nivesh-ml train --data gen \
  && nivesh-ml features ingest --source gen/transactions.csv && nivesh-ml features materialize" >"$TMP/prepare.log" 2>&1 \
  || { tail -20 "$TMP/prepare.log"; fail "preparing the data volume with the image's binary"; }
ok "sample data, five champions and features made in the volume by the image's binary"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
KEY=image-test-key-1
setsid buildah run --isolation chroot --user 10001:10001 --volume "$TMP/data:/data" -e PORT="$PORT" -e GRPC_PORT=0 \
  -e ML_API_KEYS="$KEY" "$CTR" -- /usr/local/bin/nivesh-ml serve --host 0.0.0.0 >"$TMP/serve.log" 2>&1 &
PID=$!
code=""
for _ in $(seq 1 120); do
  code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready" || true)"
  [ "$code" = "200" ] && break
  sleep 0.5
done
[ "$code" = "200" ] && ok "the image serves: /health/ready 200" || { tail -20 "$TMP/serve.log"; fail "/health/ready $code"; }
answer="$(curl -s "http://127.0.0.1:$PORT/predict/intent" -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
  -d '{"query": "How much did I spend on Swiggy last month?"}')"
[[ "$answer" == *'"intent":'* && "$answer" == *'"model_version":"1"'* ]] && ok "a prediction from it: $answer" \
  || fail "prediction: $answer"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/predict/intent" -d '{}')" = "401" ] \
  && ok "without the key: 401" || fail "no key accepted"
stop
grep -q 'nivesh-ml: stopped' "$TMP/serve.log" && ok "SIGTERM: drained and stopped" || { tail -5 "$TMP/serve.log"; fail "no graceful stop"; }
echo "image: $passed passed, 0 failed"
