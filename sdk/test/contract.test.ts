import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeStandardSecret } from '../../runtime/src/domain/webhook-signature.js';
import {
  ConfigError,
  JOB_TYPE_PATTERN,
  MAX_QUEUE_NAME_LENGTH,
  QUEUE_NAME_PATTERN,
  checkConfigAgainstCatalog,
  loadConfig,
  standardSecretProblem,
  type CatalogShape,
} from '../src/contract/index.js';

const base = { DATABASE_URL: 'postgres://u:pw@db:5432/app', REDIS_URL: 'redis://r:6379' };
const catalog: CatalogShape = {
  jobTypes: [
    { type: 'media.thumbnail', queue: 'media', mode: 'pooled', submittable: true },
    { type: 'media.part', queue: 'media', mode: 'pooled', submittable: false },
    { type: 'media.transcode', queue: 'transcode', mode: 'isolated', submittable: true },
  ],
};

function problems(run: () => unknown): string[] {
  try {
    run();
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('@jobplane/sdk/contract', () => {
  it('checks queue names for their form only when no catalog is given', () => {
    expect(loadConfig({ ...base, WORKER_QUEUES: 'media, anything' }, 'worker').WORKER_QUEUES).toEqual([
      'media',
      'anything',
    ]);
    expect(problems(() => loadConfig({ ...base, WORKER_QUEUES: 'Media' }, 'worker'))).toEqual([
      expect.stringMatching(/^WORKER_QUEUES .*queue 'Media' must be a queue name/),
    ]);
    expect(problems(() => loadConfig({ ...base, RUN_ONE_QUEUE: 'a_b' }, 'run-one'))).toEqual([
      expect.stringMatching(/^RUN_ONE_QUEUE .*must be a queue name/),
    ]);
  });

  it('checks queues and webhook job types against the catalog, next to the other problems', () => {
    const whsec = 'whsec_' + randomBytes(24).toString('base64');
    const env = {
      ...base,
      JOBPLANE_TYPO: '1',
      WORKER_QUEUES: 'media,transcode,nope',
      JOBPLANE_WEBHOOKS: JSON.stringify({
        ok: { scheme: 'standard', secret: whsec, jobType: 'media.thumbnail' },
        child: { scheme: 'standard', secret: whsec, jobType: 'media.part' },
      }),
    };
    const p = problems(() => loadConfig(env, 'worker', catalog));
    expect(p).toEqual([
      'JOBPLANE_TYPO: unknown variable',
      "WORKER_QUEUES: unknown queue 'nope' (worker queues: media, transcode)",
      "JOBPLANE_WEBHOOKS: source 'child': 'jobType' ('media.part') must be a submittable job type (media.thumbnail, media.transcode)",
    ]);
    expect(p.join('\n')).not.toContain(whsec);
    const { JOBPLANE_TYPO: _typo, ...clean } = env;
    void _typo;
    const config = loadConfig({ ...clean, WORKER_QUEUES: 'media' }, 'worker');
    expect(problems(() => checkConfigAgainstCatalog(config, catalog))).toEqual([
      expect.stringMatching(/source 'child': 'jobType' \('media.part'\) must be a submittable/),
    ]);
    expect(problems(() => loadConfig({ ...base, RUN_ONE_QUEUE: 'media' }, 'run-one', catalog))).toEqual([
      "RUN_ONE_QUEUE: unknown queue 'media' (isolated queues: transcode)",
    ]);
    expect(loadConfig({ ...base, RUN_ONE_QUEUE: 'transcode' }, 'run-one', catalog).RUN_ONE_QUEUE).toBe(
      'transcode',
    );
  });

  it('name rules: queues fit Kubernetes object names, job types are lowercase dotted', () => {
    expect(MAX_QUEUE_NAME_LENGTH).toBe(63 - 'jobplane-worker-'.length - '-metrics'.length);
    for (const ok of ['default', 'backtest-full', 'q1', 'a'.repeat(MAX_QUEUE_NAME_LENGTH)])
      expect(ok).toMatch(QUEUE_NAME_PATTERN);
    for (const bad of ['', 'Media', 'a_b', '-a', 'a-', 'a.b', 'a'.repeat(MAX_QUEUE_NAME_LENGTH + 1)])
      expect(bad).not.toMatch(QUEUE_NAME_PATTERN);
    for (const ok of ['demo.sleep', 'media.thumbnail', 'a', 'backtest.chunk_v2'])
      expect(ok).toMatch(JOB_TYPE_PATTERN);
    for (const bad of ['', 'Demo.sleep', 'demo.', '.demo', 'demo..sleep', '1demo', 'a'.repeat(129)])
      expect(bad).not.toMatch(JOB_TYPE_PATTERN);
  });

  it('accepts exactly the Standard Webhooks secrets the runtime can decode', () => {
    const candidates = ['nope', 'whsec_', 'whsec_!!!!', 'whsec_A', 'whsec_AAAA=', 'whsec_AA=='];
    for (let n = 0; n <= 40; n++) {
      const b64 = randomBytes(n).toString('base64');
      candidates.push(`whsec_${b64}`, `whsec_${b64.replace(/=+$/, '')}`);
    }
    for (const secret of candidates) {
      let decodes = true;
      try {
        decodeStandardSecret(secret);
      } catch {
        decodes = false;
      }
      expect({ secret, ok: standardSecretProblem(secret) === undefined }).toEqual({ secret, ok: decodes });
    }
  });

  it('lifecycle event settings: NATS URLs and allow-listed CIDRs are checked at boot', () => {
    const c = loadConfig({ ...base, NATS_URL: 'nats://a:4222,nats://b:4222' }, 'relay');
    expect(c).toMatchObject({
      NATS_STREAM: 'JOBPLANE_EVENTS',
      NATS_SUBJECT_PREFIX: 'jobs',
      NATS_DUPLICATE_WINDOW_SECONDS: 120,
    });
    expect(problems(() => loadConfig({ ...base, NATS_URL: 'http://a:4222' }, 'relay'))[0]).toMatch(
      /^NATS_URL .*must be nats:\/\/host:port/,
    );
    expect(
      loadConfig({ ...base, WEBHOOK_DELIVERY_ALLOWED_CIDRS: '127.0.0.1/32, fd00::/8' }, 'relay'),
    ).toMatchObject({
      WEBHOOK_DELIVERY_ALLOWED_CIDRS: '127.0.0.1/32, fd00::/8',
      WEBHOOK_DELIVERY_GIVE_UP_SECONDS: 86_400,
    });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', 'nope/8', '::1/129'])
      expect(
        problems(() => loadConfig({ ...base, WEBHOOK_DELIVERY_ALLOWED_CIDRS: bad }, 'relay'))[0],
      ).toMatch(/^WEBHOOK_DELIVERY_ALLOWED_CIDRS .*must be comma-separated CIDRs/);
  });
});
