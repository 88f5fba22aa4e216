import { App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { ImageRef } from '../src/lib/image.js';
import type { Manifest } from '../src/verify/types.js';

export const IMAGE: ImageRef = { repository: 'jobplane/runtime', tag: '0123abc' };

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
