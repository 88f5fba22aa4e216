import { z } from 'zod';
import { QUEUE_NAME_PATTERN, type CatalogShape } from './names.js';
import { webhookSourcesSchema } from './webhooks.js';

/**
 * The runtime's configuration: one schema, validated at boot by every `jobplane` subcommand.
 * Only environment variables listed here are read; `@jobplane/constructs` checks that the env vars
 * it sets on every container are exactly keys of this schema.
 *
 * The schema does not know the job-type catalog (a team brings its own): queue and job-type names
 * are checked for their form here, and against the loaded catalog by `checkConfigAgainstCatalog`.
 */

/** `jobplane` subcommands; the container image's entrypoint is `jobplane`, these are its arguments. */
export const JOBPLANE_COMMANDS = ['migrate', 'api', 'worker', 'relay', 'run-one', 'launcher'] as const;
export type JobplaneCommand = (typeof JOBPLANE_COMMANDS)[number];

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

function urlWithScheme(schemes: string[]) {
  return z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${schemes.join(' or ')}` },
  );
}

/** `client:key` pairs separated by commas. Keys must be at least 16 characters. */
const apiKeys = z.string().transform((raw, ctx) => {
  const map = new Map<string, string>();
  for (const pair of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const idx = pair.indexOf(':');
    const client = pair.slice(0, idx);
    const key = pair.slice(idx + 1);
    if (idx <= 0 || !/^[a-zA-Z0-9_.-]{1,64}$/.test(client) || key.length < 16) {
      ctx.addIssue({
        code: 'custom',
        message: `entry '${client || pair.slice(0, 8)}…' must be client:key with a client of [a-zA-Z0-9_.-] and a key of at least 16 characters`,
      });
      return z.NEVER;
    }
    if ([...map.values()].includes(client)) {
      ctx.addIssue({ code: 'custom', message: `client '${client}' is listed twice` });
      return z.NEVER;
    }
    map.set(key, client);
  }
  return map;
});

const queueName = z.string().regex(QUEUE_NAME_PATTERN, {
  message: `must be a queue name (${QUEUE_NAME_PATTERN.source})`,
});

const queueList = z.string().transform((raw, ctx) => {
  const names = raw
    .split(',')
    .map((q) => q.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!QUEUE_NAME_PATTERN.test(n)) {
      ctx.addIssue({
        code: 'custom',
        message: `queue '${n.slice(0, 64)}' must be a queue name (${QUEUE_NAME_PATTERN.source})`,
      });
      return z.NEVER;
    }
  }
  return names;
});

/** Every environment variable the runtime reads, with its default. */
export const configSchema = z.object({
  /** PostgreSQL connection string (authoritative job state). */
  DATABASE_URL: urlWithScheme(['postgres', 'postgresql']),
  /** PostgreSQL schema holding Jobplane's tables. */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('jobplane'),
  DATABASE_POOL_MAX: positiveInt.max(200).default(10),
  /**
   * API: server-side `statement_timeout` of its sessions (a lock or a stuck query answers 503
   * instead of holding the request); the client gives up 1 s later if the server is silent.
   */
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.max(600_000).default(5000),
  /** API: how long a request waits for a PostgreSQL connection (a new one, or a free one of the pool). */
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt.max(600_000).default(2000),
  /** Redis connection string for BullMQ. Redis must run with `maxmemory-policy noeviction`. */
  REDIS_URL: urlWithScheme(['redis', 'rediss']),
  /**
   * API: timeout of every command on its Redis connections (rate limiter, queue, cancel): a Redis
   * that stops answering fails the command (the rate limiter then fails open) instead of hanging
   * the request. Workers and the relay block on Redis by design and have none.
   */
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.max(600_000).default(1000),
  /** Budget of each readiness check (`/readyz` answers within it; the probes time out at 2 s). */
  READINESS_TIMEOUT_MS: positiveInt.max(60_000).default(1500),
  /** BullMQ key prefix; lets several installations (or tests) share one Redis. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/)
    .default('jobplane'),
  /** API listen port. */
  PORT: port.default(8080),
  HOST: z.string().default('0.0.0.0'),
  /** Port of the worker/relay metrics and health server. */
  METRICS_PORT: port.default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * The job-type catalog module: an ES module specifier or file path whose default export (or
   * export `catalog`) is a `Catalog` of `@jobplane/sdk`. `--catalog <module>` overrides it.
   */
  JOBPLANE_CATALOG: z.string().min(1).optional(),
  /** `client:key` pairs; callers send `Authorization: Bearer <key>`. */
  JOBPLANE_API_KEYS: apiKeys.optional(),
  /** Key for admin routes (queue dashboard). Unset disables them. */
  JOBPLANE_ADMIN_KEY: z.string().min(16).optional(),
  /** Prometheus base URL the console reads firing alerts from (`/api/v1/alerts`). Unset: no alerts page data. */
  PROMETHEUS_URL: urlWithScheme(['http', 'https']).optional(),
  /** Grafana base URL the console links its dashboards to. */
  GRAFANA_URL: urlWithScheme(['http', 'https']).optional(),
  /** Webhook sources as JSON: {"<source>": {"scheme", "secret", "jobType"}}. */
  JOBPLANE_WEBHOOKS: webhookSourcesSchema.optional(),
  /**
   * Lifecycle events (docs/events.md). NATS server URL(s), comma-separated: the relay publishes every
   * job event to JetStream. Unset: no events are kept for NATS (the relay disables the sink).
   */
  NATS_URL: z
    .string()
    .refine((v) => v.split(',').every((u) => /^(nats|tls):\/\/[^\s/]+(:\d+)?\/?$/.test(u.trim())), {
      message: 'must be nats://host:port or tls://host:port, comma-separated',
    })
    .optional(),
  /** JetStream stream the events go to; created (subjects `<NATS_SUBJECT_PREFIX>.>`) if missing. */
  NATS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('JOBPLANE_EVENTS'),
  /** Subject prefix: events go to `<prefix>.<event>` (`jobs.succeeded`). */
  NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/)
    .default('jobs'),
  /** JetStream de-duplication window of a stream the relay creates (Nats-Msg-Id = event id). */
  NATS_DUPLICATE_WINDOW_SECONDS: positiveInt.max(86_400).default(120),
  /** Outgoing webhooks: CIDRs delivery URLs may point at despite the SSRF rules (e.g. `10.1.0.0/16`). */
  WEBHOOK_DELIVERY_ALLOWED_CIDRS: z
    .string()
    .refine(
      (v) =>
        v
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean)
          .every((e) => {
            const m = /^([0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)\/([0-9]{1,3})$/.exec(e);
            return m !== null && Number(m[2]) <= (m[1]!.includes(':') ? 128 : 32);
          }),
      { message: 'must be comma-separated CIDRs, e.g. 10.1.0.0/16,fd00::/8' },
    )
    .optional(),
  /** Outgoing webhooks: TCP (and TLS) connect timeout. */
  WEBHOOK_DELIVERY_CONNECT_TIMEOUT_MS: positiveInt.max(60_000).default(5000),
  /** Outgoing webhooks: the whole response must arrive within this. */
  WEBHOOK_DELIVERY_RESPONSE_TIMEOUT_MS: positiveInt.max(120_000).default(10000),
  /** Outgoing webhooks: response bytes read at most (the rest is dropped, the connection closed). */
  WEBHOOK_DELIVERY_MAX_RESPONSE_BYTES: positiveInt.max(10_485_760).default(65536),
  /** Outgoing webhooks: retry backoff, equal jitter over min(max, base · 2^(attempt-1)). */
  WEBHOOK_DELIVERY_RETRY_BASE_MS: positiveInt.default(5000),
  WEBHOOK_DELIVERY_RETRY_MAX_DELAY_MS: positiveInt.default(3_600_000),
  /** Outgoing webhooks: a delivery failing this long after its event is given up; the subscription is disabled. */
  WEBHOOK_DELIVERY_GIVE_UP_SECONDS: positiveInt.default(86_400),
  /** Outgoing webhooks: deliveries in flight at once per relay. */
  WEBHOOK_DELIVERY_CONCURRENCY: positiveInt.max(256).default(16),
  /** Run the outbox relay and reconciler inside the API process (local use). */
  RELAY_IN_PROCESS: bool.default(false),
  /**
   * The API publishes the outbox rows of its own submissions to the queue right after they commit
   * (the relays publish whatever it does not: Redis down, a crash after the commit).
   */
  EAGER_PUBLISH: bool.default(true),
  /** Outbox poll interval when no notification arrives. */
  RELAY_POLL_MS: positiveInt.default(1000),
  /** Reconciler period: re-enqueue non-terminal jobs missing from Redis. */
  RECONCILE_INTERVAL_SECONDS: positiveInt.default(60),
  /** The reconciler leaves jobs changed within this window alone (the relay or a worker is on them). */
  RECONCILE_GRACE_MS: positiveInt.default(10000),
  /** Run the schedule scheduler in the relay process (docs/schedules.md). */
  SCHEDULER_ENABLED: bool.default(true),
  /** How often the scheduler looks for due schedules. */
  SCHEDULER_POLL_MS: positiveInt.max(60_000).default(1000),
  /** A fire at most this late is on time; later ones were missed and follow the catch-up policy. */
  SCHEDULER_GRACE_SECONDS: positiveInt.max(86_400).default(60),
  /** Retry backoff: full jitter over min(max, base · 2^(attempt-1)). */
  RETRY_BASE_DELAY_MS: positiveInt.default(1000),
  RETRY_MAX_DELAY_MS: positiveInt.default(60000),
  /** Queues a worker consumes (default: every pooled queue). */
  WORKER_QUEUES: queueList.optional(),
  WORKER_CONCURRENCY: positiveInt.max(1000).default(10),
  /** In-app drain budget on SIGTERM; constructs derive it from the job types' timeouts. */
  DRAIN_TIMEOUT_SECONDS: positiveInt.default(30),
  /** BullMQ lock duration and stalled-job check interval. */
  LOCK_DURATION_MS: positiveInt.default(30000),
  STALLED_INTERVAL_MS: positiveInt.default(30000),
  MAX_STALLED_COUNT: z.coerce.number().int().min(0).default(2),
  /** Completed/failed jobs BullMQ keeps per queue (PostgreSQL holds the history). */
  QUEUE_RETENTION_COUNT: positiveInt.default(1000),
  /** Queue-depth cap per queue; submissions beyond it get 503. */
  QUEUE_MAX_DEPTH: positiveInt.default(100000),
  /** Requests per minute per client. */
  RATE_LIMIT_PER_MINUTE: positiveInt.default(6000),
  /** Maximum request body in bytes. */
  BODY_LIMIT_BYTES: positiveInt.default(1048576),
  /** Queue `jobplane run-one` takes exactly one job from (isolated mode). */
  RUN_ONE_QUEUE: queueName.optional(),
  /** How long `run-one` waits for a job before exiting with code 3. */
  RUN_ONE_WAIT_SECONDS: positiveInt.default(30),
  /** Launcher: namespace its Kubernetes Jobs (container job types) run in. */
  LAUNCHER_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: 'must be a DNS label' })
    .default('jobplane-jobs'),
  /** Launcher: label value separating installations sharing a jobs namespace. */
  LAUNCHER_INSTALLATION: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: 'must be a DNS label' })
    .default('jobplane'),
  /** Launcher: container queues it consumes (default: every container queue of the catalog). */
  LAUNCHER_QUEUES: queueList.optional(),
  /** Launcher: reconciler period (PostgreSQL against the Kubernetes Jobs). */
  LAUNCHER_RECONCILE_INTERVAL_MS: positiveInt.default(30000),
  /** Launcher: attempts started more recently are not reconciled (their Job may be being created). */
  LAUNCHER_RECONCILE_GRACE_MS: positiveInt.default(30000),
  /** Launcher: how long a pod may fail to pull its image before the attempt fails. */
  LAUNCHER_IMAGE_PULL_GRACE_SECONDS: positiveInt.default(120),
  /** Launcher: how often a standby tries to take the leader lock (take-over time after a crash). */
  LAUNCHER_LEADER_POLL_MS: positiveInt.default(2000),
  /** Launcher: the API server ends each watch after this long; the watcher resumes from its resourceVersion. */
  LAUNCHER_WATCH_TIMEOUT_SECONDS: positiveInt.max(3600).default(300),
  /** Launcher: timeout of each Kubernetes API call. */
  LAUNCHER_KUBE_TIMEOUT_MS: positiveInt.max(600_000).default(10000),
  /** Launcher: service account of the container jobs' pods (default: the namespace's default; no token is mounted). */
  LAUNCHER_JOB_SERVICE_ACCOUNT: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/)
    .optional(),
});

export type JobplaneConfig = z.output<typeof configSchema>;
/** Names of every env var the runtime accepts. */
export const CONFIG_ENV_VARS = Object.keys(configSchema.shape) as (keyof typeof configSchema.shape)[];
export type ConfigEnvVar = (typeof CONFIG_ENV_VARS)[number];

/** Env vars a subcommand cannot start without (beyond the schema's own required keys). */
export const REQUIRED_ENV: Readonly<Record<JobplaneCommand, readonly ConfigEnvVar[]>> = {
  migrate: ['DATABASE_URL'],
  api: ['DATABASE_URL', 'REDIS_URL', 'JOBPLANE_API_KEYS'],
  worker: ['DATABASE_URL', 'REDIS_URL'],
  relay: ['DATABASE_URL', 'REDIS_URL'],
  'run-one': ['DATABASE_URL', 'REDIS_URL', 'RUN_ONE_QUEUE'],
  launcher: ['DATABASE_URL', 'REDIS_URL'],
};

/** Thrown when the environment does not satisfy the schema; lists every problem. */
export class ConfigError extends Error {
  readonly code = 'CONFIG.INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `env` for `command`. Unknown `JOBPLANE_*` variables are refused (typos must not be
 * silently ignored); other unrelated variables (PATH, HOME…) are ignored. With `catalog`, queue and
 * job-type names are also checked against it (see {@link checkConfigAgainstCatalog}).
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  command: JobplaneCommand,
  catalog?: CatalogShape,
): JobplaneConfig {
  const problems: string[] = [];
  const known = new Set<string>(CONFIG_ENV_VARS);
  for (const key of Object.keys(env)) {
    if (key.startsWith('JOBPLANE_') && !known.has(key)) problems.push(`${key}: unknown variable`);
  }
  // Only the schema's keys are validated; empty strings count as unset.
  const input: Record<string, string> = {};
  for (const key of CONFIG_ENV_VARS) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  for (const key of REQUIRED_ENV[command]) {
    if (input[key] === undefined) problems.push(`${key}: required by 'jobplane ${command}'`);
  }
  const partial = configSchema.partial({ DATABASE_URL: true, REDIS_URL: true }).safeParse(input);
  if (!partial.success) {
    for (const issue of partial.error.issues) {
      const key = issue.path.join('.');
      const value = input[key];
      const shown =
        value === undefined
          ? ''
          : ` (${/KEY|SECRET|WEBHOOK|URL/.test(key) ? redact(key, value) : JSON.stringify(value)})`;
      problems.push(`${key}${shown}: ${issue.message}`);
    }
  }
  if (catalog !== undefined) {
    // Each key on its own, so catalog problems are listed next to the others.
    const shape = configSchema.shape;
    const parsed = <K extends 'WORKER_QUEUES' | 'RUN_ONE_QUEUE' | 'LAUNCHER_QUEUES' | 'JOBPLANE_WEBHOOKS'>(
      key: K,
    ) => {
      const r = shape[key].safeParse(input[key]);
      return r.success ? (r.data as z.output<(typeof shape)[K]>) : undefined;
    };
    problems.push(
      ...catalogProblems(
        {
          workerQueues: parsed('WORKER_QUEUES'),
          runOneQueue: parsed('RUN_ONE_QUEUE'),
          launcherQueues: parsed('LAUNCHER_QUEUES'),
          webhooks: parsed('JOBPLANE_WEBHOOKS'),
        },
        catalog,
      ),
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return partial.data as JobplaneConfig;
}

interface CatalogFields {
  readonly workerQueues?: readonly string[] | undefined;
  readonly runOneQueue?: string | undefined;
  readonly launcherQueues?: readonly string[] | undefined;
  readonly webhooks?: Readonly<Record<string, { readonly jobType: string }>> | undefined;
}

/** Problems of the config values that name queues and job types, against `catalog`. */
function catalogProblems(values: CatalogFields, catalog: CatalogShape): string[] {
  const problems: string[] = [];
  const modeOf = new Map<string, string>();
  for (const t of catalog.jobTypes) modeOf.set(t.queue, t.mode);
  const queuesOf = (mode: string) =>
    [...modeOf]
      .filter(([, m]) => m === mode)
      .map(([q]) => q)
      .join(', ') || 'none';
  // Any queue of the catalog: a worker may also consume an isolated queue (make dev-local does,
  // so isolated job types run without Kubernetes).
  for (const q of values.workerQueues ?? []) {
    if (!modeOf.has(q))
      problems.push(
        `WORKER_QUEUES: unknown queue '${q}' (worker queues: ${
          [...modeOf]
            .filter(([, m]) => m !== 'container')
            .map(([name]) => name)
            .join(', ') || 'none'
        })`,
      );
    else if (modeOf.get(q) === 'container')
      problems.push(`WORKER_QUEUES: '${q}' is a container queue; 'jobplane launcher' runs it`);
  }
  const runOne = values.runOneQueue;
  if (runOne !== undefined && modeOf.get(runOne) !== 'isolated') {
    problems.push(`RUN_ONE_QUEUE: unknown queue '${runOne}' (isolated queues: ${queuesOf('isolated')})`);
  }
  for (const q of values.launcherQueues ?? []) {
    if (modeOf.get(q) !== 'container')
      problems.push(`LAUNCHER_QUEUES: unknown queue '${q}' (container queues: ${queuesOf('container')})`);
  }
  const submittable = catalog.jobTypes.filter((t) => t.submittable).map((t) => t.type);
  for (const [name, source] of Object.entries(values.webhooks ?? {})) {
    if (!submittable.includes(source.jobType)) {
      problems.push(
        `JOBPLANE_WEBHOOKS: source '${name}': 'jobType' ('${source.jobType}') must be a submittable job type (${submittable.join(', ')})`,
      );
    }
  }
  return problems;
}

/**
 * Checks the parts of a loaded config that name queues and job types against the catalog the
 * process runs: `WORKER_QUEUES` must be queues of the catalog, `RUN_ONE_QUEUE` an isolated queue, and every
 * webhook source's `jobType` a submittable job type. Throws a {@link ConfigError} listing every problem.
 */
export function checkConfigAgainstCatalog(config: JobplaneConfig, catalog: CatalogShape): void {
  const problems = catalogProblems(
    {
      workerQueues: config.WORKER_QUEUES,
      runOneQueue: config.RUN_ONE_QUEUE,
      launcherQueues: config.LAUNCHER_QUEUES,
      webhooks: config.JOBPLANE_WEBHOOKS,
    },
    catalog,
  );
  if (problems.length > 0) throw new ConfigError(problems);
}

function redact(key: string, value: string): string {
  if (key.endsWith('_URL')) {
    try {
      const u = new URL(value);
      if (u.password) u.password = '***';
      return JSON.stringify(u.toString());
    } catch {
      return '"<not a URL>"';
    }
  }
  return '"<redacted>"';
}
