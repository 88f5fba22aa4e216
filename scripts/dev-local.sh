#!/usr/bin/env bash
# make dev-local: build (TypeScript and the console UI), migrate, then run the API (with the outbox
# relay in-process) and one worker against a local PostgreSQL and Redis. No Docker.
#
# - Every variable below can be overridden from the environment (docs/operations.md lists them).
# - If a process cannot start (a port in use, PostgreSQL or Redis down) the script says which one,
#   stops the others and exits 1; it prints "running" only once the API is ready and the worker healthy.
# - Ctrl-C stops each process once (SIGTERM: they drain: a running job finishes or is re-queued).
# - Logs are one readable line per event (pino-pretty); the API logs warnings only (no line per
#   request), the worker logs every job. LOG_LEVEL / API_LOG_LEVEL change that.
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
API_LOG_LEVEL="${API_LOG_LEVEL:-warn}"
DEV_API_KEY="${DEV_API_KEY:-dev-local-key-0123456789abcdef}"
DEV_ADMIN_KEY="${DEV_ADMIN_KEY:-dev-local-admin-key-0123456789}"
export JOBPLANE_API_KEYS="${JOBPLANE_API_KEYS:-dev:${DEV_API_KEY}}"
# The admin key opens the queue dashboard (/admin/queues) and the console's every-client view.
export JOBPLANE_ADMIN_KEY="${JOBPLANE_ADMIN_KEY:-${DEV_ADMIN_KEY}}"
# The job types: the example package (demo.sleep, backtest.*); point it at your own catalog module.
export JOBPLANE_CATALOG="${JOBPLANE_CATALOG:-@jobplane/examples}"
# The client commands' variables (jobplane list, make demo) are not the server's: drop them here.
unset JP_API_URL JP_API_KEY

log() { printf '[dev-local] %s\n' "$*" >&2; }

npm run build --silent
# The OpenTelemetry instrumentation loads first (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set).
JOBPLANE=(node --import ./runtime/dist/main/instrument.js runtime/dist/main/cli.js)
"${JOBPLANE[@]}" migrate

# The log formatter ignores SIGINT: it must outlive Ctrl-C to print the processes' drain.
PRETTY=(bash -c 'trap "" INT; exec node_modules/.bin/pino-pretty --singleLine --colorize --ignore pid,hostname --translateTime SYS:HH:MM:ss.l')
[ -x node_modules/.bin/pino-pretty ] || PRETTY=(bash -c 'trap "" INT; exec cat')

# Job control: each process gets its own process group, so the terminal's Ctrl-C reaches only this
# script, which then sends each process one SIGTERM (not SIGINT from the terminal plus SIGTERM).
set -m
declare -A names=()
pids=()
stopping=0
stop() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap - INT TERM HUP
  log "stopping (each process drains; Ctrl-C again is ignored, wait for it)"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP
trap 'stop' EXIT

# A process that exited is a zombie until waited for: kill -0 would still succeed on it.
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}

start() { # name, command...
  local name=$1
  shift
  "$@" > >("${PRETTY[@]}") 2>&1 &
  pids+=($!)
  names[$!]=$name
}

LOG_LEVEL="$API_LOG_LEVEL" RELAY_IN_PROCESS=true start api "${JOBPLANE[@]}" api
# The dev worker also takes the isolated queue, so backtest.full runs without Kubernetes.
WORKER_QUEUES="${WORKER_QUEUES:-default,backtest,backtest-full}" start worker "${JOBPLANE[@]}" worker

# Up means: the API's /readyz answers 200 and the worker's /healthz 200, with both processes alive.
ready=0
for _ in $(seq 1 150); do
  for pid in "${pids[@]}"; do
    if ! alive "$pid"; then
      wait "$pid" && code=0 || code=$?
      log "FAILED: the ${names[$pid]} process exited (code $code) while starting; see its log above. Stopping the rest."
      exit 1
    fi
  done
  if curl -fsS --max-time 1 "http://${HOST}:${PORT}/readyz" >/dev/null 2>&1 &&
    curl -fsS --max-time 1 "http://${HOST}:${METRICS_PORT}/healthz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  log "FAILED: not ready after 30 s (API http://${HOST}:${PORT}/readyz, worker http://${HOST}:${METRICS_PORT}/healthz). Stopping."
  curl -sS --max-time 2 "http://${HOST}:${PORT}/readyz" >&2 || true
  exit 1
fi

base="http://${HOST}:${PORT}"
cat >&2 <<MSG

  Jobplane is running.
    Console:     ${base}/console      sign in with the API key (or the admin key: every client)
    API key:     ${DEV_API_KEY}   (client 'dev'; Authorization: Bearer <key>)
    Admin key:   ${JOBPLANE_ADMIN_KEY}
    API docs:    ${base}/docs
    Metrics:     ${base}/metrics   (worker: http://${HOST}:${METRICS_PORT}/metrics)
    Queues:      ${base}/admin/queues   (Bull Board, read-only; user any, password the admin key)
    CLI:         JP_API_KEY=${DEV_API_KEY} npx jobplane list   (or: npx jobplane top)
  Try:  make demo     Stop: Ctrl-C (drains once)

MSG
# Exit when either process dies (and stop the other), or on Ctrl-C.
wait -n "${pids[@]}" && code=0 || code=$?
if [ "$stopping" = 0 ]; then
  log "a process exited (code $code); stopping the rest"
  exit 1
fi
