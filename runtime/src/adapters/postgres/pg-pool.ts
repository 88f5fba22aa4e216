import pg from 'pg';
import { DomainError } from '../../domain/errors.js';

export interface PgOptions {
  readonly connectionString: string;
  readonly schema: string;
  readonly max: number;
  readonly applicationName?: string;
  /**
   * Server-side `statement_timeout` of every session (a statement waiting on a lock or running
   * long is cancelled); the client also gives up `CLIENT_GRACE_MS` later when the server is silent.
   */
  readonly statementTimeoutMs?: number;
  /** How long a query waits for a connection: a new one, or a free one of an exhausted pool. */
  readonly connectTimeoutMs?: number;
}

/** How much longer than `statement_timeout` the client waits for a silent server. */
export const CLIENT_GRACE_MS = 1000;

/** A pool whose sessions resolve unqualified table names in Jobplane's schema. */
export function createPgPool(opts: PgOptions): pg.Pool {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema))
    throw new Error(`'schema' (${opts.schema}) is not a plain identifier`);
  for (const [name, v] of [
    ['statementTimeoutMs', opts.statementTimeoutMs],
    ['connectTimeoutMs', opts.connectTimeoutMs],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0))
      throw new Error(`'${name}' (${v}) must be a positive integer of milliseconds`);
  }
  return new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    application_name: opts.applicationName ?? 'jobplane',
    options: `-c search_path=${opts.schema}`,
    ...(opts.statementTimeoutMs
      ? {
          statement_timeout: opts.statementTimeoutMs,
          query_timeout: opts.statementTimeoutMs + CLIENT_GRACE_MS,
        }
      : {}),
    ...(opts.connectTimeoutMs ? { connectionTimeoutMillis: opts.connectTimeoutMs } : {}),
  });
}

/**
 * Whether `err` says PostgreSQL did not answer in time or is unreachable (not that it refused the
 * statement): a statement or lock timeout, no connection within the connect timeout (including a
 * pool with every connection busy), a dropped connection, a server shutting down.
 */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // 57014 query_canceled (statement_timeout), 55P03 lock_not_available, 57P0x shutdown/terminated,
    // 53300 too_many_connections, class 08 connection exceptions, socket errors.
    if (/^(57014|55P03|57P0\d|53300|08...)$/.test(code)) return true;
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND)$/.test(code)) return true;
  }
  return /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection timeout/i.test(
    err.message,
  );
}

/** PostgreSQL did not answer: 503 SERVICE.UNAVAILABLE for the caller (never a 500). */
export function unavailable(err: unknown): unknown {
  if (!isUnavailable(err)) return err;
  const mapped = new DomainError('SERVICE.UNAVAILABLE', 'PostgreSQL did not answer in time; retry later');
  mapped.cause = err;
  return mapped;
}

/**
 * Checks a client out of the pool with an `error` listener for as long as it is held: a backend
 * that dies between two queries (pg_terminate_backend, failover) makes the client emit `error`,
 * which would crash the process without a listener. The broken client is destroyed on release.
 */
export async function checkout(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: () => void }> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw unavailable(err);
  }
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
    throw unavailable(err);
  } finally {
    release();
  }
}

/**
 * LISTENs on `channel` with a dedicated connection and calls `onNotify` for each notification
 * (with `payload`, only for notifications carrying that payload or none, e.g. the outbox trigger's
 * schema name). A lost connection is re-established every `retryMs` (polling covers the gap;
 * `onNotify` is called after each reconnect so nothing that committed meanwhile waits for the next
 * poll). Returns a function that stops listening.
 */
export async function listen(
  opts: PgOptions,
  channel: string,
  onNotify: (payload?: string) => void,
  retryMs = 1000,
  payload?: string,
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
    client.on('notification', (n) => {
      if (payload === undefined || !n.payload || n.payload === payload) onNotify(n.payload);
    });
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
