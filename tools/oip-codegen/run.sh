#!/usr/bin/env bash
# Regenerate crates/server/src/oip/grpc/inference.rs from crates/server/proto/*.proto.
set -euo pipefail
cd "$(dirname "$0")"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/oip-codegen-target}" cargo run -q
