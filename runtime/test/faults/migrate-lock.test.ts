/**
 * Concurrent migrations wait for each other: node-pg-migrate refuses to start while another run
 * holds its advisory lock ("Another migration is already running"), which made parallel test files
 * (and two `jobplane migrate` Jobs) fail on a busy machine. Here another session holds the lock
 * for a while; the migration must wait for it and then apply.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { SILENT_LOGGER } from '../../src/ports/logger.port.js';
import { PrivateDatabase } from '../support/faults/private-postgres.js';

/** node-pg-migrate's advisory lock id (PG_MIGRATE_LOCK_ID). */
const LOCK_ID = '7241865325823964';

let db: PrivateDatabase;

describe('migrate waits for a concurrent migration', () => {
  beforeAll(async () => {
    db = await PrivateDatabase.create();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('applies once the other run releases the lock, instead of failing', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${LOCK_ID})`);
      const running = migrate(db.url, db.schema, SILENT_LOGGER, { lockWaitMs: 30_000 });
      let settled = false;
      void running.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((r) => setTimeout(r, 800));
      expect(settled, 'the migration waits while the lock is held').toBe(false);
      await holder.query(`SELECT pg_advisory_unlock(${LOCK_ID})`);
      expect(await running).toEqual(expect.arrayContaining([expect.stringMatching(/_jobs$/)]));
      const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM jobs');
      expect(Number(row?.n)).toBe(0);
    } finally {
      await holder.end();
    }
  });
});
