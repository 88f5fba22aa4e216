#!/usr/bin/env bash
# make dev-local: build, migrate, then run the API (with the outbox relay in-process) and one
# worker against a local PostgreSQL and Redis. No Docker. Ctrl-C stops both (they drain first).
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export DATABASE_SCHEMA="${DATABASE_SCHEMA:-jobplane}"
export QUEUE_PREFIX="${QUEUE_PREFIX:-jobplane-dev}"
export PORT="${PORT:-8080}"
export HOST="${HOST:-127.0.0.1}"
export METRICS_PORT="${METRICS_PORT:-9464}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
DEV_API_KEY="${DEV_API_KEY:-dev-local-key-0123456789abcdef}"
export JOBPLANE_API_KEYS="${JOBPLANE_API_KEYS:-dev:${DEV_API_KEY}}"
# The job types: the example package (demo.sleep, backtest.*); point it at your own catalog module.
export JOBPLANE_CATALOG="${JOBPLANE_CATALOG:-@jobplane/examples}"

npx tsc -b
node runtime/dist/main/cli.js migrate

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop INT TERM EXIT

RELAY_IN_PROCESS=true node runtime/dist/main/cli.js api &
pids+=($!)
# The dev worker also takes the isolated queue, so backtest.full runs without Kubernetes.
WORKER_QUEUES="${WORKER_QUEUES:-default,backtest,backtest-full}" node runtime/dist/main/cli.js worker &
pids+=($!)

for _ in $(seq 1 50); do
  curl -fsS "http://${HOST}:${PORT}/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
cat >&2 <<MSG

  Jobplane is running.
    API:      http://${HOST}:${PORT}   (readiness: /readyz)
    API key:  ${DEV_API_KEY}   (client 'dev'; send Authorization: Bearer <key>)
    Worker:   health and metrics on http://${HOST}:${METRICS_PORT}
  Try:  make demo     Stop: Ctrl-C

MSG
wait
