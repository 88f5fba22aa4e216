#!/usr/bin/env bash
# Replays runtime/Dockerfile without Docker and runs the result: `jobplane --help` and one job end
# to end against PostgreSQL and Redis (DATABASE_URL, REDIS_URL; default 127.0.0.1). See
# scripts/image-smoke.ts for what is and is not covered. `--keep` leaves the replayed image on disk.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node_modules/.bin/tsx scripts/image-smoke.ts "$@"
