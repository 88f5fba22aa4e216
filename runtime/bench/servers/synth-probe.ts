/**
 * S: cdk8s synthesis timing, in a fresh process like `make synth` (nothing is written to disk).
 * Prints one JSON line: module import, all environments (cold), their schema verification, and
 * one environment with 1, 10 and 50 extra worker pools (warm, median of 3).
 */
import type * as Constructs from '../../../infra/src/index.js';
import { DEPLOYMENT } from '../../../infra/deploy/synth.js';

const started = performance.now();
const infra = (await import(
  new URL('../../../infra/dist/index.js', import.meta.url).href
)) as typeof Constructs;
const importMs = performance.now() - started;

const { catalog, environments } = DEPLOYMENT;
const tags = Object.fromEntries(
  environments.map((e) => [e.name, 'bench0000000000000000000000000000000000000']),
);
let t = performance.now();
const all = infra.synthesizeAll(catalog, tags, environments);
const allEnvironmentsMs = performance.now() - t;
const files = all.files.size;
t = performance.now();
let findings = 0;
for (const objects of all.environments.values())
  findings += (await infra.verifyManifests(objects, { catalog })).length;
const verifyMs = performance.now() - t;

const dev = environments[0];
if (!dev) throw new Error('no environment');
const pools: Record<string, number> = {};
for (const n of [1, 10, 50]) {
  const samples: number[] = [];
  for (let r = 0; r < 3; r++) {
    const extraWorkerPools = Array.from({ length: n }, (_, i) => ({
      name: `jobplane-worker-bench-${i}`,
      queue: 'default',
    }));
    t = performance.now();
    infra.synthesizeEnvironment(catalog, dev, 'bench', { extraWorkerPools });
    samples.push(performance.now() - t);
  }
  pools[`pools${n}Ms`] = samples.sort((a, b) => a - b)[1] as number;
}
console.log(JSON.stringify({ importMs, allEnvironmentsMs, verifyMs, findings, files, ...pools }));
