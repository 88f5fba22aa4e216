import pg from 'pg';

export interface PgOptions {
  readonly connectionString: string;
  readonly schema: string;
  readonly max: number;
  readonly applicationName?: string;
}

/** A pool whose sessions resolve unqualified table names in Jobplane's schema. */
export function createPgPool(opts: PgOptions): pg.Pool {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema))
    throw new Error(`'schema' (${opts.schema}) is not a plain identifier`);
  return new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    application_name: opts.applicationName ?? 'jobplane',
    options: `-c search_path=${opts.schema}`,
  });
}

/**
 * Checks a client out of the pool with an `error` listener for as long as it is held: a backend
 * that dies between two queries (pg_terminate_backend, failover) makes the client emit `error`,
 * which would crash the process without a listener. The broken client is destroyed on release.
 */
export async function checkout(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: () => void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  return {
    client,
    release: () => {
      client.off('error', onError);
      client.release(broken ?? false);
    },
  };
}

/** Runs `fn` in a transaction on one pooled client. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const { client, release } = await checkout(pool);
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    release();
  }
}

/**
 * LISTENs on `channel` with a dedicated connection and calls `onNotify` for each notification.
 * A lost connection is re-established every `retryMs` (polling covers the gap; `onNotify` is
 * called after each reconnect so nothing that committed meanwhile waits for the next poll).
 * Returns a function that stops listening.
 */
export async function listen(
  opts: PgOptions,
  channel: string,
  onNotify: () => void,
  retryMs = 1000,
): Promise<() => Promise<void>> {
  let stopped = false;
  let current: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  const connect = async (initial: boolean): Promise<void> => {
    const client = new pg.Client({
      connectionString: opts.connectionString,
      application_name: 'jobplane-listen',
    });
    const lost = () => {
      if (current !== client) return;
      current = null;
      void client.end().catch(() => undefined);
      if (!stopped) timer = setTimeout(() => void connect(false), retryMs);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => onNotify());
    current = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      if (initial) {
        current = null;
        await client.end().catch(() => undefined);
        throw err;
      }
      lost();
      return;
    }
    onNotify();
  };
  await connect(true);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const c = current;
    current = null;
    await c?.end().catch(() => undefined);
  };
}
