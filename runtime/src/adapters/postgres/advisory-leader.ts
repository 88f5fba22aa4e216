/**
 * Exactly one active launcher among replicas: a PostgreSQL session-level advisory lock held on a
 * dedicated connection. A standby tries again every `pollMs`; when the leader dies (even `kill -9`)
 * its connection closes, PostgreSQL releases the lock, and a standby takes over at its next try.
 */
import pg from 'pg';

export interface LeaderOptions {
  readonly connectionString: string;
  /** Lock name; the lock key is `hashtext(name)`. */
  readonly name: string;
  readonly pollMs: number;
  readonly onError?: (err: unknown) => void;
}

export interface Leadership {
  /** Resolves when leadership is lost (the connection broke): stop acting as the leader. */
  readonly lost: Promise<unknown>;
  release(): Promise<void>;
}

/** Waits until this process holds the lock (or `signal` aborts: rejects). */
export async function acquireLeadership(opts: LeaderOptions, signal: AbortSignal): Promise<Leadership> {
  for (;;) {
    if (signal.aborted) throw new Error('stopped before becoming the leader');
    const client = new pg.Client({
      connectionString: opts.connectionString,
      application_name: 'jobplane-launcher-lock',
    });
    let lostResolve!: (err: unknown) => void;
    const lost = new Promise<unknown>((resolve) => (lostResolve = resolve));
    client.on('error', (err) => lostResolve(err));
    client.on('end', () => lostResolve(new Error('the leader connection ended')));
    try {
      await client.connect();
      for (;;) {
        if (signal.aborted) break;
        const res = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
          [opts.name],
        );
        if (res.rows[0]?.locked) {
          // Keep-alive: a broken connection is noticed within pollMs even when idle.
          const keepAlive = setInterval(() => {
            client.query('SELECT 1').catch((err: unknown) => lostResolve(err));
          }, opts.pollMs);
          keepAlive.unref();
          void lost.then(() => clearInterval(keepAlive));
          return {
            lost,
            release: async () => {
              clearInterval(keepAlive);
              await client
                .query('SELECT pg_advisory_unlock(hashtext($1))', [opts.name])
                .catch(() => undefined);
              await client.end().catch(() => undefined);
            },
          };
        }
        await new Promise((r) => setTimeout(r, opts.pollMs));
      }
    } catch (err) {
      opts.onError?.(err);
    }
    await client.end().catch(() => undefined);
    if (signal.aborted) throw new Error('stopped before becoming the leader');
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}
