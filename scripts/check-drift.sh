#!/usr/bin/env bash
# Fails when committed generated output differs from a fresh generation:
# proto/src/gen (buf generate) and charts-out/ + argocd/ (make synth).
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
# Compose Prometheus alert rules (deploy/prometheus/rules.yml) from jobplaneAlertRules().
node_modules/.bin/tsx scripts/generate-prometheus-rules.ts --check
# Compose Alertmanager config (deploy/alertmanager/alertmanager.yml) from jobplaneAlertmanagerConfig().
node_modules/.bin/tsx scripts/generate-alertmanager-config.ts --check

# charts-out/ and argocd/: synthesize into a temp dir with the committed image tags and compare.
(unset JOBPLANE_IMAGE_TAG; node_modules/.bin/tsx infra/deploy/synth.ts --out "$tmp/synth" >/dev/null) || {
  echo "drift: synth failed (run 'npx tsc -b' first); see 'npm run synth'" >&2
  exit 1
}
for dir in charts-out argocd; do
  if ! diff -r "$dir" "$tmp/synth/$dir" >/dev/null 2>&1; then
    echo "drift: $dir/ differs from a fresh synth; run 'make synth' and commit the result" >&2
    diff -r "$dir" "$tmp/synth/$dir" | head -20 >&2 || true
    exit 1
  fi
done
echo "drift: charts-out/ and argocd/ are in sync"
