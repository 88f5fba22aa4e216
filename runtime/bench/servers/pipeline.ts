/**
 * B3: the deliberately tiny durable pipeline the platform is compared with. Written for the
 * benchmark only; it has none of the platform's features (auth, idempotency replay, retries,
 * events, fencing, metrics). Two roles, each a child process:
 *   api    — POST /jobs → one transaction (jobs row + outbox row) → 202; an in-process relay moves
 *            outbox rows to BullMQ (addBulk with jobId = row id, then DELETE, in one transaction).
 *   worker — BullMQ Worker with a no-op handler → one UPDATE (state, started_at, finished_at).
 * Env: DATABASE_URL, REDIS_URL, PORT (api), CONCURRENCY (worker). Prints `ready <port>`.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Queue, Worker } from 'bullmq';
import pg from 'pg';

const role = process.argv[2];
const databaseUrl = process.env['DATABASE_URL'] as string;
const redis = new URL(process.env['REDIS_URL'] as string);
const connection = { host: redis.hostname, port: Number(redis.port), maxRetriesPerRequest: null };
const prefix = 'bench-b3';

export const B3_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS b3;
CREATE TABLE IF NOT EXISTS b3.jobs (
  id uuid PRIMARY KEY, idempotency_key text NOT NULL UNIQUE, payload jsonb NOT NULL, state text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(), started_at timestamptz, finished_at timestamptz);
CREATE TABLE IF NOT EXISTS b3.outbox (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job_id uuid NOT NULL);
`;

async function api(): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query(B3_SCHEMA_SQL);
  const queue = new Queue('b3', { connection, prefix });
  const app = Fastify({ logger: false });

  let wake: (() => void) | undefined;
  let pending = false;
  const nudge = () => {
    pending = true;
    wake?.();
  };

  app.post(
    '/jobs',
    {
      schema: {
        body: {
          type: 'object',
          required: ['type', 'payload'],
          properties: { type: { type: 'string' }, payload: { type: 'object' } },
        },
        headers: {
          type: 'object',
          required: ['idempotency-key'],
          properties: { 'idempotency-key': { type: 'string' } },
        },
      },
    },
    async (request, reply) => {
      const id = randomUUID();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          'INSERT INTO b3.jobs (id, idempotency_key, payload, state) VALUES ($1, $2, $3, $4)',
          [id, request.headers['idempotency-key'], (request.body as { payload: unknown }).payload, 'queued'],
        );
        await client.query('INSERT INTO b3.outbox (job_id) VALUES ($1)', [id]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      } finally {
        client.release();
      }
      nudge();
      return reply.code(202).send({ job: { id, state: 'JOB_STATE_QUEUED' } });
    },
  );

  // Relay: one transaction per batch; woken by the API, polling every second as a fallback.
  void (async () => {
    for (;;) {
      pending = false;
      const client = await pool.connect();
      let moved = 0;
      try {
        await client.query('BEGIN');
        const rows = await client.query<{ id: string; job_id: string }>(
          'SELECT id, job_id FROM b3.outbox ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED',
        );
        moved = rows.rowCount ?? 0;
        if (moved > 0) {
          await queue.addBulk(
            rows.rows.map((r) => ({
              name: 'noop',
              data: { jobId: r.job_id },
              opts: { jobId: r.job_id, removeOnComplete: 1000, removeOnFail: 1000 },
            })),
          );
          await client.query('DELETE FROM b3.outbox WHERE id = ANY($1::bigint[])', [
            rows.rows.map((r) => r.id),
          ]);
        }
        await client.query('COMMIT');
      } catch {
        await client.query('ROLLBACK').catch(() => undefined);
      } finally {
        client.release();
      }
      if (moved === 0 && !pending) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  })();

  await app.listen({ port: Number(process.env['PORT'] ?? 0), host: '127.0.0.1' });
  const address = app.server.address();
  console.log(`ready ${typeof address === 'object' && address ? address.port : 0}`);
}

async function worker(): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const w = new Worker(
    'b3',
    async (job) => {
      const startedAt = new Date();
      await pool.query(
        "UPDATE b3.jobs SET state = 'succeeded', started_at = $1, finished_at = clock_timestamp() WHERE id = $2",
        [startedAt, (job.data as { jobId: string }).jobId],
      );
    },
    { connection, prefix, concurrency: Number(process.env['CONCURRENCY'] ?? 50) },
  );
  await w.waitUntilReady();
  console.log('ready 0');
  process.on('SIGTERM', () => void w.close().then(() => process.exit(0)));
}

if (role === 'api') await api();
else if (role === 'worker') await worker();
else {
  console.error(`usage: pipeline.ts api|worker (got '${role}')`);
  process.exit(2);
}
