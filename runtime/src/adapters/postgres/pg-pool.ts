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

/** Runs `fn` in a transaction on one pooled client. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
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
