/**
 * A workload added outside the built-in constructs registers its own rule and check; both then
 * take part in every verifyManifests run (and in `disable`), and a finding under an id that is
 * not in the table is refused.
 */
import { describe, expect, it } from 'vitest';
import {
  type Manifest,
  allRules,
  registerCheck,
  registerRule,
  verifyManifests,
} from '../src/verify/index.js';

const launcherWithoutDeadline = (objects: readonly Manifest[]) =>
  objects
    .filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.['example.dev/launcher'] === 'true')
    .filter((o) => (o['data'] as Record<string, string> | undefined)?.['maxRuntimeSeconds'] === undefined)
    .map((o) => ({
      rule: 'EXT-launcher',
      object: `ConfigMap/${o.metadata.namespace}/${o.metadata.name}`,
      message: 'launcher settings without maxRuntimeSeconds',
    }));

const config = (data: Record<string, string>): Manifest => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'launcher',
    namespace: 'jobplane',
    labels: { 'example.dev/launcher': 'true' },
    annotations: { 'argocd.argoproj.io/sync-wave': '-2' },
  },
  data,
});

describe('registerRule / registerCheck', () => {
  it('adds a rule to the table and its check to every run', async () => {
    registerRule({
      id: 'EXT-launcher',
      area: 'contract',
      checks: 'launcher settings bound the runtime',
      message: 'launcher settings without maxRuntimeSeconds',
    });
    registerCheck(launcherWithoutDeadline);
    expect(allRules().map((r) => r.id)).toContain('EXT-launcher');
    expect((await verifyManifests([config({})])).map((f) => f.rule)).toEqual(['EXT-launcher']);
    expect(await verifyManifests([config({ maxRuntimeSeconds: '600' })])).toEqual([]);
    expect(await verifyManifests([config({})], { disable: ['EXT-launcher'] })).toEqual([]);
  });

  it('refuses a duplicate id, and findings under an id outside the table', async () => {
    expect(() => registerRule({ id: 'P3', area: 'security', checks: 'x', message: 'x' })).toThrow(
      "verifier rule 'P3' already exists",
    );
    registerCheck((objects) =>
      objects.some((o) => o.metadata.name === 'rogue')
        ? [{ rule: 'NOT-A-RULE', object: 'x', message: 'x' }]
        : [],
    );
    await expect(
      verifyManifests([
        {
          ...config({ maxRuntimeSeconds: '1' }),
          metadata: {
            name: 'rogue',
            namespace: 'jobplane',
            annotations: { 'argocd.argoproj.io/sync-wave': '-2' },
          },
        },
      ]),
    ).rejects.toThrow("verifier finding with rule 'NOT-A-RULE', which is not in the rule table");
  });
});
