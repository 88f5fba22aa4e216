import { randomBytes } from 'node:crypto';
import { EXAMPLES_CATALOG_MODULE } from '../../examples-catalog.js';
import { freePort, httpStatus, waitFor } from './net.js';
import { PrivateDatabase } from './private-postgres.js';
import { PrivateRedis } from './private-redis.js';
import { type ManagedProcess, STARTUP_MS, Supervisor } from './supervisor.js';

/** Timings short enough that stalls and reconciles happen within a test, long enough for a busy 2-core box. */
export const FAULT_TIMINGS = {
  LOCK_DURATION_MS: 2000,
  STALLED_INTERVAL_MS: 1000,
  // the runtime default: a job interrupted twice by a neighbour's crash is not given up on
  MAX_STALLED_COUNT: 2,
  RECONCILE_INTERVAL_SECONDS: 2,
  RELAY_POLL_MS: 200,
  DRAIN_TIMEOUT_SECONDS: 10,
} as const;

export interface ClusterOptions {
  readonly workers?: number;
  readonly relay?: boolean;
  /** Env for every process (overrides the defaults). */
  readonly env?: Record<string, string>;
  readonly workerEnv?: Record<string, string>;
  readonly apiEnv?: Record<string, string>;
}

/**
 * One private Jobplane installation: its own redis-server, its own PostgreSQL database, and
 * `jobplane api | relay | worker` child processes wired to them. `stop()` kills everything and
 * drops the database.
 */
export class FaultCluster {
  readonly sup = new Supervisor();
  readonly apiKey = randomBytes(24).toString('hex');
  readonly prefix = `faults-${randomBytes(4).toString('hex')}`;
  readonly workers: ManagedProcess[] = [];
  /** Set by a failing test: the process logs are kept (their paths are printed in `sup.dump`). */
  keepLogs = process.env.FAULTS_KEEP_LOGS === '1';
  api!: ManagedProcess;
  relay: ManagedProcess | undefined;
  apiUrl = '';

  private constructor(
    readonly redis: PrivateRedis,
    readonly db: PrivateDatabase,
    private readonly opts: ClusterOptions,
  ) {}

  static async start(opts: ClusterOptions = {}): Promise<FaultCluster> {
    const [redis, db] = await Promise.all([PrivateRedis.start(), PrivateDatabase.create()]);
    const c = new FaultCluster(redis, db, opts);
    try {
      await c.migrate();
      await c.boot();
    } catch (err) {
      console.error(c.sup.dump(60));
      await c.stop();
      throw err;
    }
    return c;
  }

  /** Env every process gets. */
  baseEnv(): Record<string, string> {
    const env: Record<string, string> = {
      DATABASE_URL: this.db.url,
      DATABASE_SCHEMA: this.db.schema,
      DATABASE_POOL_MAX: '4',
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX: this.prefix,
      LOG_LEVEL: 'info',
      JOBPLANE_API_KEYS: `faults:${this.apiKey}`,
      HOST: '127.0.0.1',
      JOBPLANE_CATALOG: EXAMPLES_CATALOG_MODULE,
    };
    for (const [k, v] of Object.entries(FAULT_TIMINGS)) env[k] = String(v);
    return { ...env, ...this.opts.env };
  }

  private async migrate(): Promise<void> {
    const m = this.sup.add({ name: 'migrate', command: 'migrate', env: this.baseEnv() });
    m.start();
    const exit = await m.waitExit(60_000);
    if (exit?.code !== 0) throw new Error(`jobplane migrate failed: ${JSON.stringify(exit)}\n${m.tail(40)}`);
  }

  private async boot(): Promise<void> {
    const port = await freePort();
    this.apiUrl = `http://127.0.0.1:${port}`;
    this.api = this.sup.add({
      name: 'api',
      command: 'api',
      env: {
        ...this.baseEnv(),
        PORT: String(port),
        METRICS_PORT: String(await freePort()),
        ...this.opts.apiEnv,
      },
      healthUrl: `${this.apiUrl}/healthz`,
    });
    this.api.start();
    // Like a load balancer, clients start only once the API is ready (PostgreSQL and Redis answer).
    const starting: Promise<unknown>[] = [
      this.api.waitHealthy(STARTUP_MS).then(() =>
        waitFor(async () => (await httpStatus(`${this.apiUrl}/readyz`)) === 200, {
          timeoutMs: STARTUP_MS,
          message: 'api /readyz 200',
        }),
      ),
    ];
    if (this.opts.relay ?? true) {
      const mport = await freePort();
      this.relay = this.sup.add({
        name: 'relay',
        command: 'relay',
        env: { ...this.baseEnv(), METRICS_PORT: String(mport) },
        healthUrl: `http://127.0.0.1:${mport}/healthz`,
      });
      this.relay.start();
      starting.push(this.relay.waitHealthy(STARTUP_MS));
    }
    for (let i = 0; i < (this.opts.workers ?? 1); i++)
      starting.push(this.addWorker().then((w) => w.waitHealthy(STARTUP_MS)));
    await Promise.all(starting);
  }

  /** Starts one more worker (its own metrics/health port). */
  async addWorker(
    env: Record<string, string> = {},
    nodeArgs: readonly string[] = [],
  ): Promise<ManagedProcess> {
    const mport = await freePort();
    const w = this.sup.add({
      name: `worker-${this.workers.length + 1}`,
      command: 'worker',
      env: { ...this.baseEnv(), METRICS_PORT: String(mport), ...this.opts.workerEnv, ...env },
      healthUrl: `http://127.0.0.1:${mport}/healthz`,
      nodeArgs,
    });
    this.workers.push(w);
    w.start();
    return w;
  }

  /** Authorized JSON request to the API. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  }

  async stop(): Promise<void> {
    await this.sup.stopAll().catch(() => undefined);
    await Promise.allSettled([this.redis.stop(), this.db.drop()]);
    if (!this.keepLogs) this.sup.removeLogs();
  }
}
