import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCatalog, defineContainerJobType } from '@jobplane/sdk';
import { LAUNCHER_RULES, Launcher } from '../src/launcher.js';
import { verifyManifests } from '../src/verify/index.js';
import { checkLauncher } from '../src/verify/launcher-rules.js';
import { type AnyJson, IMAGE, TEST_CATALOG, envOf, find, podSpec, synth } from './helpers.js';

const CATALOG = defineCatalog({
  name: 'ctr',
  jobTypes: [
    defineContainerJobType({
      type: 'media.thumb',
      queue: 'media-ctr',
      timeoutSeconds: 60,
      payload: z.object({}),
      container: { image: 'acme/thumbs:1.0.0' },
    }),
  ],
});

describe('Launcher', () => {
  const objs = synth((s) => new Launcher(s, 'l', { image: IMAGE, catalog: CATALOG }));

  it('a `jobplane launcher` Deployment whose pods get their token (and only they)', () => {
    const dep = find(objs, 'Deployment', 'jobplane-launcher');
    expect((dep['spec'] as AnyJson).replicas).toBe(2);
    const spec = podSpec(dep);
    expect(spec.automountServiceAccountToken).toBe(true);
    expect(spec.serviceAccountName).toBe('jobplane-launcher');
    const c = spec.containers[0];
    expect(c.args).toEqual(['launcher']);
    expect(envOf(c)).toMatchObject({
      LAUNCHER_NAMESPACE: 'jobplane-jobs',
      DATABASE_URL: { secretKeyRef: { name: 'jobplane-postgres', key: 'DATABASE_URL' } },
    });
    expect(find(objs, 'ServiceAccount', 'jobplane-launcher')['automountServiceAccountToken']).toBe(false);
  });

  it('a Role in the jobs namespace only, with exactly the launcher rules, bound to its ServiceAccount', () => {
    const role = find(objs, 'Role', 'jobplane-launcher');
    expect(role.metadata.namespace).toBe('jobplane-jobs');
    expect(role['rules']).toEqual(
      LAUNCHER_RULES.map((r) => ({ apiGroups: [r.apiGroup], resources: [r.resource], verbs: [...r.verbs] })),
    );
    const rb = find(objs, 'RoleBinding', 'jobplane-launcher');
    expect(rb.metadata.namespace).toBe('jobplane-jobs');
    expect(rb['subjects']).toEqual([
      { apiGroup: '', kind: 'ServiceAccount', name: 'jobplane-launcher', namespace: 'jobplane' },
    ]);
    expect(objs.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
  });

  it('egress to the API server; the verifier passes and LR1/LR2 catch a broader Role or a missing policy', async () => {
    const np = find(objs, 'NetworkPolicy', 'jobplane-launcher-apiserver');
    expect((np['spec'] as AnyJson).egress[0].ports.map((p: AnyJson) => p.port)).toEqual([443, 6443]);
    expect(checkLauncher(objs)).toEqual([]);
    const broader = objs.map((o) =>
      o.kind === 'Role'
        ? {
            ...o,
            rules: [
              ...(o['rules'] as AnyJson[]),
              { apiGroups: [''], resources: ['pods'], verbs: ['create'] },
            ],
          }
        : o,
    );
    expect(checkLauncher(broader).map((f) => f.rule)).toEqual(['LR1']);
    expect(checkLauncher(objs.filter((o) => o.kind !== 'NetworkPolicy')).map((f) => f.rule)).toEqual(['LR2']);
    const security = (await verifyManifests(objs)).filter((f) => f.rule === 'RB1' || f.rule.startsWith('LR'));
    expect(security).toEqual([]);
  });

  it.each([
    [{ catalog: TEST_CATALOG }, /'catalog' \('.*'\) has no container job type/],
    [{ replicas: 3 }, /'replicas'/],
    [{ apiServer: { cidrs: ['10.0.0.300/32'] } }, /'apiServer.cidrs\[0\]' \("10.0.0.300\/32"\)/],
    [{ apiServer: { cidrs: [] } }, /'apiServer.cidrs'/],
    [{ jobsNamespace: 'jobplane' }, /'jobsNamespace' \('jobplane'\) must differ/],
  ])('validates props: %j', (extra, message) => {
    expect(() => synth((s) => new Launcher(s, 'l', { image: IMAGE, catalog: CATALOG, ...extra }))).toThrow(
      message,
    );
  });
});
