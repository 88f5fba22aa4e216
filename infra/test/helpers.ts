import { App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { defineCatalog, defineJobType, type ExecutionMode } from '@jobplane/sdk';
import { z } from 'zod';
import type { ImageRef } from '../src/lib/image.js';
import type { Manifest } from '../src/verify/types.js';

export const IMAGE: ImageRef = { repository: 'jobplane/runtime', tag: '0123abc' };

/** A job type of the construct tests; its handler is never loaded. */
export function testJobType(
  type: string,
  queue: string,
  timeoutSeconds: number,
  mode: ExecutionMode = 'pooled',
  concurrency?: number,
) {
  return defineJobType({
    type,
    queue,
    mode,
    timeoutSeconds,
    ...(concurrency !== undefined ? { concurrency } : {}),
    payload: z.object({}),
    load: () => Promise.reject(new Error('the constructs never load handler code')),
  });
}

/**
 * The catalog of the construct tests: two pooled queues (`default`: longest job 120 s, `backtest`)
 * and one isolated queue (`backtest-full`, 900 s).
 */
export const TEST_CATALOG = defineCatalog({
  name: 'construct-tests',
  jobTypes: [
    testJobType('t.short', 'default', 60),
    testJobType('t.long', 'default', 120),
    testJobType('t.part', 'backtest', 120),
    testJobType('t.whole', 'backtest-full', 900, 'isolated'),
  ],
});

/** Synthesizes whatever `build` adds to a fresh chart. */
export function synth(build: (scope: Construct) => void): Manifest[] {
  const app = new App();
  const chart = new Chart(app, 'test');
  build(chart);
  return chart.toJson() as Manifest[];
}

export function find(objects: readonly Manifest[], kind: string, name?: string): Manifest {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o)
    throw new Error(
      `no ${kind}${name ? ` '${name}'` : ''} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
    );
  return o;
}

// Deep accessors for assertions on plain JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJson = any;
export function podSpec(o: Manifest): AnyJson {
  const spec = o['spec'] as AnyJson;
  return o.kind === 'ScaledJob' ? spec.jobTargetRef.template.spec : spec.template.spec;
}
export function envOf(container: AnyJson): Record<string, AnyJson> {
  return Object.fromEntries((container.env ?? []).map((e: AnyJson) => [e.name, e.value ?? e.valueFrom]));
}
