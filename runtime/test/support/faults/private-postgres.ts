import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The shared PostgreSQL the tests use; trust auth on loopback. */
export const ADMIN_URL =
  process.env.FAULTS_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A PostgreSQL database of our own (plus the schema name the runtime is told to use).
 * PostgreSQL is shared with the other suites, so faults are aimed only at this database's
 * backends: `terminateBackends()` filters `pg_stat_activity` by `datname`, which no other suite uses.
 */
export class PrivateDatabase {
  readonly schema = 'jobplane';
  private constructor(readonly name: string) {}

  static async create(): Promise<PrivateDatabase> {
    const name = `faults_${randomBytes(5).toString('hex')}`;
    await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
    return new PrivateDatabase(name);
  }

  /** Connection string handed to the runtime processes. */
  get url(): string {
    const base = new URL(ADMIN_URL);
    base.pathname = `/${this.name}`;
    base.searchParams.set('application_name', `jobplane-${this.name}`);
    return base.toString();
  }

  /** Runs `fn` with a short-lived client on this database (search_path set to the runtime's schema). */
  async withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const base = new URL(ADMIN_URL);
    base.pathname = `/${this.name}`;
    const c = new pg.Client({
      connectionString: base.toString(),
      application_name: 'jobplane-faults-checker',
    });
    await c.connect();
    try {
      await c.query(`SET search_path TO ${this.schema}, public`);
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    return this.withClient(async (c) => (await c.query<R>(sql, params)).rows);
  }

  /** pg_terminate_backend on every backend of this database except checkers; returns how many died. */
  async terminateBackends(): Promise<number> {
    return withAdmin(async (c) => {
      const r = await c.query<{ n: string }>(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'jobplane-faults-checker'`,
        [this.name],
      );
      return Number(r.rows[0]?.n ?? 0);
    });
  }

  async backendCount(): Promise<number> {
    return withAdmin(async (c) => {
      const r = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1`,
        [this.name],
      );
      return Number(r.rows[0]?.n ?? 0);
    });
  }

  async drop(): Promise<void> {
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, application_name: 'jobplane-faults-admin' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
