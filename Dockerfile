# syntax=docker/dockerfile:1
# The nivesh-ml image. Stages:
#   chef     the Rust toolchain with cargo-chef
#   planner  the dependency recipe (changes only when Cargo.toml/Cargo.lock do)
#   builder  dependencies built from the recipe (a cached layer), then the release binary
#   runtime  a slim Debian with the binary, the bundled data/, a non-root user
# `docker build .` builds all of them. With a binary built outside (or where no Rust image can be
# pulled), build only the runtime stage around it: `--target runtime-prebuilt --build-arg
# BINARY=target/release/nivesh-ml` (deploy/test-image.sh does, on a locally made base image).
# Base images are arguments, so a build can use a local or mirrored base.
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS chef
# make: the allocator crate (tikv-jemalloc-sys) builds jemalloc's C sources with it
RUN (command -v make >/dev/null \
        || (apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*)) \
    && cargo install cargo-chef --locked --version 0.1.73
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin nivesh-ml && cp target/release/nivesh-ml /nivesh-ml

FROM ${RUNTIME_IMAGE} AS runtime-base
# curl for the HEALTHCHECK; CA certificates for an https MLflow or Redis (already there in a
# base made with them, e.g. by deploy/test-image.sh: then nothing is fetched)
RUN (command -v curl >/dev/null && [ -e /etc/ssl/certs/ca-certificates.crt ] \
        || (apt-get update && apt-get install -y --no-install-recommends ca-certificates curl)) \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 nivesh \
    && useradd --system --uid 10001 --gid nivesh --home-dir /data --shell /usr/sbin/nologin nivesh \
    && mkdir -p /data && chown nivesh:nivesh /data
WORKDIR /app
COPY data/ /app/data/
ENV NIVESH_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8000 \
    GRPC_PORT=8001 \
    LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000 8001
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/health/live" || exit 1
USER nivesh:nivesh
ENTRYPOINT ["/usr/local/bin/nivesh-ml"]
# without ML_API_KEYS the server binds loopback only (set keys, or add --allow-unauthenticated)
CMD ["serve", "--host", "0.0.0.0"]

# the image built here: the binary from the builder stage
FROM runtime-base AS runtime-prebuilt
ARG BINARY=target/release/nivesh-ml
COPY --chmod=0755 ${BINARY} /usr/local/bin/nivesh-ml

FROM runtime-base AS runtime
COPY --from=builder --chmod=0755 /nivesh-ml /usr/local/bin/nivesh-ml
