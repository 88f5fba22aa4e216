/**
 * EAGER_PUBLISH: the API publishes the outbox rows of its own submissions right after they commit,
 * and their inserts do not wake the relays; whatever it cannot publish stays for the relays, which
 * it wakes. Real PostgreSQL and Redis, no relay running.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiApp } from '../../src/main/api.js';
import type { Core } from '../../src/main/context.js';
import { API_KEY_A, DATABASE_URL, isolate, waitFor, type Isolated } from './helpers.js';

const CHANNEL = 'jobplane_outbox';
const auth = { authorization: `Bearer ${API_KEY_A}` };
const body = { type: 'demo.sleep', payload: { durationMs: 1 } };

/** One POST /v1/jobs under a fresh key. */
const submitOne = (app: FastifyInstance) =>
  app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { ...auth, 'idempotency-key': randomUUID() },
    payload: body,
  });

/** Every NOTIFY on the outbox channel, in commit order; `mark` fences what came before it. */
async function listener() {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  const payloads: string[] = [];
  client.on('notification', (n) => payloads.push(n.payload ?? ''));
  await client.query(`LISTEN ${CHANNEL}`);
  return {
    payloads,
    /** Resolves with the payloads that arrived before a marker NOTIFY sent now. */
    async before(): Promise<string[]> {
      const marker = `marker-${randomUUID()}`;
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      await admin.query(`SELECT pg_notify($1, $2)`, [CHANNEL, marker]);
      await admin.end();
      await waitFor(async () => payloads.includes(marker));
      const seen = payloads.slice(0, payloads.indexOf(marker));
      payloads.length = 0;
      return seen;
    },
    close: () => client.end(),
  };
}

describe('eager publish (EAGER_PUBLISH)', () => {
  let iso: Isolated;
  const apps: FastifyInstance[] = [];
  const build = async (extra: Record<string, string>): Promise<{ core: Core; app: FastifyInstance }> => {
    const core = iso.core('api', {}, extra);
    const app = await buildApiApp(core);
    apps.push(app);
    return { core, app };
  };
  const outbox = async () =>
    Number((await iso.query<{ n: string }>('SELECT count(*) AS n FROM outbox'))[0]!.n);

  beforeAll(async () => {
    iso = await isolate('eager');
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await iso?.cleanup();
  });

  it('the API publishes its submissions (single and batch) without a relay, and wakes no relay', async () => {
    const { core, app } = await build({});
    const listen = await listener();
    try {
      const one = await submitOne(app);
      expect(one.statusCode, one.body).toBe(202);
      const batch = await app.inject({
        method: 'POST',
        url: '/v1/jobs:batch',
        headers: auth,
        payload: { jobs: [1, 2, 3].map(() => ({ idempotencyKey: randomUUID(), job: body })) },
      });
      expect(batch.statusCode, batch.body).toBe(202);
      const ids = [
        one.json().job.id as string,
        ...(batch.json().results as { job: { id: string } }[]).map((r) => r.job.id),
      ];
      await waitFor(async () => (await outbox()) === 0);
      for (const id of ids)
        expect(await core.queue.inspect('default', 'run', id, 0)).toMatchObject({ present: true });
      expect(await listen.before(), 'the submissions woke no relay').not.toContain(iso.schema);
    } finally {
      await listen.close();
    }
  });

  it('with EAGER_PUBLISH=false the rows wait in the outbox and the relays are woken', async () => {
    const { core, app } = await build({ EAGER_PUBLISH: 'false' });
    const listen = await listener();
    try {
      const r = await submitOne(app);
      expect(r.statusCode, r.body).toBe(202);
      expect(await listen.before()).toContain(iso.schema);
      expect(await outbox()).toBe(1);
      expect(await core.queue.inspect('default', 'run', r.json().job.id, 0)).toEqual({ present: false });
      await iso.query('DELETE FROM outbox');
    } finally {
      await listen.close();
    }
  });

  it('Redis unreachable: 202 all the same, the row stays in the outbox and the relays are woken', async () => {
    const { app } = await build({ REDIS_URL: 'redis://127.0.0.1:1' });
    const listen = await listener();
    try {
      const r = await submitOne(app);
      expect(r.statusCode, r.body).toBe(202);
      await waitFor(async () => listen.payloads.includes(iso.schema));
      expect(await outbox()).toBe(1);
      const [row] = await iso.query<{ job_id: string }>('SELECT job_id FROM outbox');
      expect(row?.job_id).toBe(r.json().job.id);
    } finally {
      await listen.close();
    }
  });
});
