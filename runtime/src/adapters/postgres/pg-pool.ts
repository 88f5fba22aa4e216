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
 * Returns a function that stops listening. Reconnects are the caller's polling fallback.
 */
export async function listen(
  opts: PgOptions,
  channel: string,
  onNotify: () => void,
): Promise<() => Promise<void>> {
  const client = new pg.Client({
    connectionString: opts.connectionString,
    application_name: 'jobplane-listen',
  });
  client.on('error', () => undefined);
  await client.connect();
  client.on('notification', () => onNotify());
  await client.query(`LISTEN ${channel}`);
  return async () => {
    await client.end().catch(() => undefined);
  };
}
