#!/usr/bin/env bash
# `make dev`: the full local stack in Docker (docker-compose.yml): Redis, PostgreSQL, migrate, api,
# relay, worker, Prometheus and Grafana. Extra arguments go to `docker compose up`
# (e.g. `make dev ARGS="--scale worker=3"` or scripts/dev-docker.sh --scale worker=3).
# Without Docker, `make dev-local` runs the same processes against local Redis and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

no_docker() {
  {
    echo "make dev: $1"
    echo "  make dev runs docker-compose.yml and needs Docker with the compose plugin (or docker-compose)."
    echo "  Without Docker, use:  make dev-local   (api + relay + worker against local Redis and PostgreSQL)"
  } >&2
  exit 1
}

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif command -v docker >/dev/null 2>&1; then
  no_docker "the docker CLI is installed but has no compose plugin"
else
  no_docker "docker is not installed"
fi

if ! docker info >/dev/null 2>&1; then
  no_docker "cannot reach a Docker engine (is the daemon running, and may this user use it?)"
fi

GIT_SHA=$(git rev-parse --short HEAD 2>/dev/null || echo dev)
export GIT_SHA
echo "make dev: building jobplane:dev ($GIT_SHA) and starting the stack; Ctrl-C stops it."
echo "  api http://localhost:${JOBPLANE_API_PORT:-8080}  prometheus http://localhost:${PROMETHEUS_PORT:-9090}  grafana http://localhost:${GRAFANA_PORT:-3000}"
exec "${compose[@]}" -f docker-compose.yml up --build "$@"
