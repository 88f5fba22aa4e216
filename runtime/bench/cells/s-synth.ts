/** S: cdk8s synthesis time of all environments and its growth with worker pools. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Cell } from '../lib/harness.js';
import { TSX_NODE_ARGS } from '../lib/proc.js';

const run = promisify(execFile);
const PROBE = fileURLToPath(new URL('../servers/synth-probe.ts', import.meta.url));
const INFRA_DIST = fileURLToPath(new URL('../../../infra/dist/index.js', import.meta.url));
const SYNTH_ENTRY = fileURLToPath(new URL('../../../infra/deploy/synth.ts', import.meta.url));

export function synthCell(quick = false): Cell {
  const notMeasured = existsSync(INFRA_DIST)
    ? undefined
    : 'infra/dist/index.js is missing: run `npx tsc -b` (or `npm run build`) first';
  return {
    id: 'S.synth',
    group: 'S',
    title: 'cdk8s synthesis (in a fresh process, nothing written)',
    method:
      '`synthesizeAll` of @jobplane/constructs for every environment (cold, first call in a new process), plus ' +
      'schema verification of them, the dev environment with 1, 10 and 50 extra worker pools (`extraWorkerPools`, warm, median of 3); ' +
      'and the whole synth command (`tsx infra/deploy/synth.ts --out <temp dir>`: synth + verify + write)',
    ...(notMeasured ? { notMeasured } : {}),
    metrics: {
      synthCommandMs: { unit: 'ms (synth + verify + write)', better: 'lower' },
      processMs: { unit: 'ms (node start → done)', better: 'lower' },
      verifyMs: { unit: 'ms', better: 'lower' },
      importMs: { unit: 'ms', better: 'lower' },
      allEnvironmentsMs: { unit: 'ms', better: 'lower' },
      pools1Ms: { unit: 'ms', better: 'lower' },
      pools10Ms: { unit: 'ms', better: 'lower' },
      pools50Ms: { unit: 'ms', better: 'lower' },
      msPerExtraPool: { unit: 'ms/pool', better: 'lower' },
    },
    async run(): Promise<Record<string, number>> {
      const out = mkdtempSync(path.join(os.tmpdir(), 'jobplane-synth-'));
      const t0 = performance.now();
      try {
        await run(process.execPath, [...TSX_NODE_ARGS, SYNTH_ENTRY, '--out', out], { maxBuffer: 16 << 20 });
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
      const synthCommandMs = performance.now() - t0;
      // Quick mode: the synth command only (the in-process breakdown takes a few more seconds).
      if (quick) return { synthCommandMs };
      const started = performance.now();
      const { stdout } = await run(process.execPath, [...TSX_NODE_ARGS, PROBE], { maxBuffer: 1 << 20 });
      const processMs = performance.now() - started;
      const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
      const p1 = r['pools1Ms'] ?? Number.NaN;
      const p50 = r['pools50Ms'] ?? Number.NaN;
      return {
        synthCommandMs,
        processMs,
        verifyMs: r['verifyMs'] ?? Number.NaN,
        importMs: r['importMs'] ?? Number.NaN,
        allEnvironmentsMs: r['allEnvironmentsMs'] ?? Number.NaN,
        pools1Ms: p1,
        pools10Ms: r['pools10Ms'] ?? Number.NaN,
        pools50Ms: p50,
        msPerExtraPool: (p50 - p1) / 49,
      };
    },
  };
}
