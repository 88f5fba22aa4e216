#!/usr/bin/env bash
# Fails when committed generated output differs from a fresh generation:
# proto/src/gen (buf generate) and, once the construct library lands, charts-out/ + argocd/.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd proto && ../node_modules/.bin/buf generate -o "$tmp/proto" >/dev/null)
if ! diff -r proto/src/gen "$tmp/proto/src/gen" >/dev/null; then
  echo "drift: proto/src/gen differs from 'npm run proto' output; run it and commit the result" >&2
  diff -r proto/src/gen "$tmp/proto/src/gen" | head -20 >&2
  exit 1
fi
echo "drift: proto/src/gen is in sync"

# Grafana dashboards (deploy/grafana/dashboards) from scripts/generate-dashboards.ts.
node_modules/.bin/tsx scripts/generate-dashboards.ts --check
