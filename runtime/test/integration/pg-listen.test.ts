import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/adapters/postgres/pg-pool.js';
import { DATABASE_URL, isolate, waitFor } from './helpers.js';

const channel = `jpt_listen_${randomBytes(4).toString('hex')}`;
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });

afterAll(async () => {
  await admin.end();
});

describe('LISTEN with reconnect', () => {
  it('keeps receiving notifications after its backend is terminated', async () => {
    let notified = 0;
    const stop = await listen(
      { connectionString: DATABASE_URL, schema: 'public', max: 1 },
      channel,
      () => notified++,
      100,
    );
    try {
      const initial = notified;
      await admin.query(`NOTIFY ${channel}`);
      await waitFor(async () => notified > initial);
      // Only our backend: the one whose last statement LISTENed on this test's unique channel.
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
        [`LISTEN ${channel}`],
      );
      expect(killed.rowCount).toBe(1);
      // Reconnected: the reconnect itself notifies, and later NOTIFYs arrive again.
      await waitFor(async () => {
        const r = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE query = $1 AND state = 'idle'`, [
          `LISTEN ${channel}`,
        ]);
        return r.rowCount === 1;
      }, 10_000);
      const before = notified;
      await admin.query(`NOTIFY ${channel}`);
      await waitFor(async () => notified > before);
    } finally {
      await stop();
    }
  });

  it('with a payload, wakes only for notifications naming it (or naming nothing)', async () => {
    const ch = `${channel}_p`;
    const seen: (string | undefined)[] = [];
    const stop = await listen(
      { connectionString: DATABASE_URL, schema: 'public', max: 1 },
      ch,
      (p) => seen.push(p),
      100,
      'mine',
    );
    try {
      expect(seen).toEqual([undefined]); // the connect itself
      for (const p of ['theirs', 'mine', '', 'other', 'mine'])
        await admin.query('SELECT pg_notify($1, $2)', [ch, p]);
      // Notifications arrive in order: once the last 'mine' is in, every earlier one was decided.
      await waitFor(async () => seen.filter((p) => p === 'mine').length === 2);
      expect(seen).toEqual([undefined, 'mine', '', 'mine']);
    } finally {
      await stop();
    }
  });

  it("the outbox trigger's notification names its schema", async () => {
    const iso = await isolate('listen');
    const seen: (string | undefined)[] = [];
    const stop = await listen(
      { connectionString: DATABASE_URL, schema: iso.schema, max: 1 },
      'jobplane_outbox',
      (p) => seen.push(p),
      100,
      iso.schema,
    );
    try {
      await iso.query(
        `INSERT INTO outbox (job_id, queue, kind, run_at) VALUES ('00000000-0000-4000-8000-000000000001', 'default', 'run', now())`,
      );
      await waitFor(async () => seen.includes(iso.schema));
    } finally {
      await stop();
      await iso.cleanup();
    }
  });
});
