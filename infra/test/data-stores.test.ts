import { describe, expect, it } from 'vitest';
import { Postgres } from '../src/postgres.js';
import { Redis } from '../src/redis.js';
import type { AnyJson } from './helpers.js';
import { envOf, find, podSpec, synth } from './helpers.js';

describe('Redis', () => {
  const defaults = synth((s) => new Redis(s, 'r'));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('runs with AOF and noeviction, non-root, read-only root fs, data on a PVC', () => {
    const sts = find(defaults, 'StatefulSet', 'jobplane-redis');
    const pod = podSpec(sts);
    const c = pod.containers[0];
    const args: string[] = c.args;
    expect(args[args.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    // Half of the 512Mi limit: the rest is headroom for the AOF-rewrite fork.
    expect(args[args.indexOf('--maxmemory') + 1]).toBe('256mb');
    expect(c.resources.limits.memory).toBe('512Mi');
    expect(c.image).toBe('redis:7.4.2-alpine');
    expect(pod.securityContext).toMatchObject({ runAsUser: 999, fsGroup: 999, runAsNonRoot: true });
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect((sts['spec'] as AnyJson).volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    expect(find(defaults, 'Service', 'jobplane-redis')['spec']).toMatchObject({
      type: 'ClusterIP',
      ports: [{ name: 'redis', port: 6379, targetPort: 6379, protocol: 'TCP' }],
    });
  });

  it('honours storage, storage class, maxmemory and image', () => {
    const objs = synth(
      (s) =>
        new Redis(s, 'r', {
          storage: '3Gi',
          storageClassName: 'gp3',
          maxMemoryMb: 512,
          resources: { cpu: '100m', memory: '1Gi' },
          image: { repository: 'redis', tag: '7.4.3' },
        }),
    );
    const sts = find(objs, 'StatefulSet')['spec'] as AnyJson;
    expect(sts.volumeClaimTemplates[0].spec).toMatchObject({
      storageClassName: 'gp3',
      resources: { requests: { storage: '3Gi' } },
    });
    expect(sts.template.spec.containers[0].args).toContain('512mb');
    expect(sts.template.spec.containers[0].image).toBe('redis:7.4.3');
  });

  it('external: no objects, endpoint kept for policies', () => {
    let redis: Redis | undefined;
    const objs = synth((s) => {
      redis = new Redis(s, 'r', { external: { cidrs: ['10.0.0.0/16'], port: 6380 } });
    });
    expect(objs).toEqual([]);
    expect(redis!.port).toBe(6380);
    expect(redis!.resource).toBeUndefined();
  });

  it('rejects a tiny maxmemory, and one that leaves no headroom under the memory limit', () => {
    expect(() => synth((s) => new Redis(s, 'r', { maxMemoryMb: 1 }))).toThrow(
      `'maxMemoryMb' (1) must be an integer ≥ 16`,
    );
    expect(() =>
      synth((s) => new Redis(s, 'r', { maxMemoryMb: 200, resources: { cpu: '100m', memory: '256Mi' } })),
    ).toThrow(
      `'maxMemoryMb' (200) must be ≤ 60 % of 'resources.memory' ('256Mi' = 256 MiB): an AOF rewrite forks Redis and needs the headroom`,
    );
    expect(() => synth((s) => new Redis(s, 'r', { resources: { cpu: '100m', memory: 'lots' } }))).toThrow(
      `'resources.memory' ('lots') must be a positive quantity`,
    );
  });
});

describe('Postgres', () => {
  const defaults = synth((s) => new Postgres(s, 'p'));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('reads its password from a referenced Secret and runs as uid 70 with writable socket dir', () => {
    const sts = find(defaults, 'StatefulSet', 'jobplane-postgres');
    const pod = podSpec(sts);
    const c = pod.containers[0];
    expect(envOf(c)['POSTGRES_PASSWORD']).toEqual({
      secretKeyRef: { name: 'jobplane-postgres-credentials', key: 'POSTGRES_PASSWORD' },
    });
    expect(envOf(c)['POSTGRES_USER']).toBe('jobplane');
    expect(pod.securityContext).toMatchObject({ runAsUser: 70, fsGroup: 70 });
    expect(c.volumeMounts.map((m: AnyJson) => m.mountPath)).toEqual([
      '/tmp',
      '/var/lib/postgresql/data',
      '/var/run/postgresql',
    ]);
    expect(c.readinessProbe.exec.command).toContain('pg_isready');
    expect(defaults.some((o) => o.kind === 'Secret')).toBe(false);
  });

  it('honours user, database, password secret and storage', () => {
    const objs = synth(
      (s) =>
        new Postgres(s, 'p', {
          user: 'app',
          database: 'jobs',
          passwordSecret: { name: 'pw', key: 'p' },
          storage: '9Gi',
        }),
    );
    const c = podSpec(find(objs, 'StatefulSet')).containers[0];
    expect(envOf(c)).toMatchObject({
      POSTGRES_USER: 'app',
      POSTGRES_DB: 'jobs',
      POSTGRES_PASSWORD: { secretKeyRef: { name: 'pw', key: 'p' } },
    });
  });

  it('external: no objects', () => {
    expect(synth((s) => new Postgres(s, 'p', { external: { cidrs: ['10.0.0.0/16'] } }))).toEqual([]);
  });

  it('rejects an invalid database name', () => {
    expect(() => synth((s) => new Postgres(s, 'p', { database: 'Jobs!' }))).toThrow(
      `'database' ('Jobs!') must be a lowercase RFC 1123 label`,
    );
  });
});
