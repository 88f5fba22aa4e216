/**
 * Submitting a container job type through the production API: accepted like any job (mode
 * container, the container queue), and a payload over the type's maxPayloadBytes is a 400
 * problem+json (it would travel in a Secret), never stored.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiApp } from '../../src/main/api.js';
import type { Core } from '../../src/main/context.js';
import { API_KEY_A, isolate, type Isolated } from './helpers.js';

let iso: Isolated;
let core: Core;
let app: FastifyInstance;

beforeAll(async () => {
  iso = await isolate('ctr-submit');
  core = iso.core('api');
  app = await buildApiApp(core);
});
afterAll(async () => {
  await app?.close();
  await iso?.cleanup();
});

const submit = (payload: unknown, key: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: {
      authorization: `Bearer ${API_KEY_A}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    payload: JSON.stringify({ type: 'text.stats', payload }),
  });

describe('submitting a container job type', () => {
  it('is accepted on its container queue', async () => {
    const res = await submit({ text: 'a b a' }, 'ctr-1');
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ job: { id: string } }>().job.id;
    const [row] = await iso.query<{ mode: string; queue: string; payload: unknown }>(
      'SELECT mode, queue, payload FROM jobs WHERE id = $1',
      [id],
    );
    expect(row).toEqual({ mode: 'container', queue: 'python', payload: { text: 'a b a', top: 5 } });
  });

  it('a payload over maxPayloadBytes is 400 JOB.PAYLOAD_TOO_LARGE, and nothing is stored', async () => {
    // 40 000 two-byte characters: within the schema's 50 000 characters, over 65 536 bytes of JSON.
    const res = await submit({ text: 'é'.repeat(40_000) }, 'ctr-2');
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, code: 'JOB.PAYLOAD_TOO_LARGE' });
    expect(res.json<{ detail: string }>().detail).toContain('at most 65536');
    const rows = await iso.query("SELECT id FROM jobs WHERE idempotency_key = 'ctr-2'");
    expect(rows).toEqual([]);
  });
});
