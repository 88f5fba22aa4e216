/** P: the real platform (jobplane api + relay + worker from runtime/dist) — filled in below. */
import type { BenchEnv } from '../lib/env.js';
import type { Cell } from '../lib/harness.js';

export function platformCells(_env: BenchEnv, _quick: boolean): Cell[] {
  return [
    {
      id: 'P.platform',
      group: 'P',
      title: 'Jobplane api + relay + worker',
      method: 'not yet wired',
      notMeasured: 'the runtime CLI (runtime/src/main/cli.ts) has not landed yet',
      metrics: {},
      run: async () => ({}),
    },
  ];
}
