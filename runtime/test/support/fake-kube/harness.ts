/**
 * One container-jobs test environment: a private PostgreSQL schema and queue prefix, the fake
 * Kubernetes API with its simulated cluster, an in-process relay, and launchers (in-process, or
 * child processes of the built CLI for `kill -9`).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { isolate, waitFor, type Isolated } from '../../integration/helpers.js';
import { runLauncher, type LauncherOverrides, type RunningLauncher } from '../../../src/main/launcher.js';
import { startRelayLoop, type RelayLoop } from '../../../src/main/relay-loop.js';
import type { Core } from '../../../src/main/context.js';
import { freePort } from '../faults/net.js';
import { catalog } from './container-catalog.mjs';
import { FakeCluster, type KubeletOptions } from './kubelet.js';
import { FakeKubeApi } from './server.js';

export const CATALOG_PATH = fileURLToPath(new URL('./container-catalog.mjs', import.meta.url));
export const ADMIN_KEY = 'admin-key-0123456789abcdef';

export interface ContainerEnv {
  readonly iso: Isolated;
  readonly api: FakeKubeApi;
  readonly cluster: FakeCluster;
  /** Env of a launcher (in-process or child) of this test. */
  launcherEnv(extra?: Record<string, string>): Promise<Record<string, string>>;
  startLauncher(extra?: Record<string, string>, overrides?: LauncherOverrides): Promise<RunningLauncher>;
  submit(type: string, payload: Record<string, unknown>, maxAttempts?: number): Promise<string>;
  job(id: string): Promise<Record<string, unknown>>;
  events(
    id: string,
  ): Promise<
    { reason: string; attempt: number; to_state: string; details: Record<string, unknown> | null }[]
  >;
  /** Jobs the fake API created for `jobId`, by attempt label. */
  jobsCreated(jobId: string): Map<string, number>;
  waitForState(id: string, state: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** What CancelJob does: the state change, then the notification. */
  cancel(id: string): Promise<void>;
  /** What RetryJob does (from the dead letters). */
  retry(id: string): Promise<void>;
  close(): Promise<void>;
}

export async function containerEnv(name: string, kubelet: KubeletOptions = {}): Promise<ContainerEnv> {
  const iso = await isolate(name);
  const api = new FakeKubeApi();
  await api.start();
  const cluster = new FakeCluster(api, kubelet);
  const launchers: RunningLauncher[] = [];
  const cores: Core[] = [];
  const installation = `t-${iso.prefix.slice(-8)}`;
  const base = {
    LAUNCHER_NAMESPACE: 'jobs',
    LAUNCHER_INSTALLATION: installation,
    LAUNCHER_RECONCILE_INTERVAL_MS: '400',
    LAUNCHER_RECONCILE_GRACE_MS: '1500',
    LAUNCHER_LEADER_POLL_MS: '100',
    LAUNCHER_WATCH_TIMEOUT_SECONDS: '5',
    LAUNCHER_KUBE_TIMEOUT_MS: '1000',
    LAUNCHER_IMAGE_PULL_GRACE_SECONDS: '1',
    LOCK_DURATION_MS: '2000',
    STALLED_INTERVAL_MS: '1000',
    RETRY_BASE_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '100',
    RELAY_POLL_MS: '100',
    JOBPLANE_ADMIN_KEY: ADMIN_KEY,
    HOST: '127.0.0.1',
  };
  const relayCore = iso.core('relay', { catalog, logger: pino({ level: 'silent' }) }, base);
  const relay: RelayLoop = await startRelayLoop(relayCore);
  const env: ContainerEnv = {
    iso,
    api,
    cluster,
    async launcherEnv(extra = {}) {
      return { ...iso.env, ...base, METRICS_PORT: String(await freePort()), ...extra };
    },
    async startLauncher(extra = {}, overrides = {}) {
      const e = await env.launcherEnv(extra);
      const core = iso.core(
        'launcher',
        { catalog, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }) },
        e,
      );
      cores.push(core);
      const l = await runLauncher(core, { kubeConfig: api.kubeConfig(), tickMs: 100, ...overrides });
      launchers.push(l);
      return l;
    },
    async submit(type, payload, maxAttempts = 0) {
      const def = catalog.get(type);
      if (!def) throw new Error(`no type ${type}`);
      const parsed = def.payload.parse(payload) as Record<string, unknown>;
      const { job } = await relayCore.store.insert({
        id: randomUUID(),
        clientId: 'alice',
        idempotencyKey: randomUUID(),
        requestHash: 'h',
        type,
        payload: parsed,
        priority: 0,
        runAt: new Date(),
        maxAttempts: maxAttempts || def.maxAttempts,
        mode: 'container',
        queue: def.queue,
        requestId: null,
      });
      return job.id;
    },
    async job(id) {
      const [row] = await iso.query('SELECT * FROM jobs WHERE id = $1', [id]);
      return row as Record<string, unknown>;
    },
    async events(id) {
      return iso.query(
        'SELECT reason, attempt, to_state, details FROM job_events WHERE job_id = $1 ORDER BY id',
        [id],
      );
    },
    jobsCreated(jobId) {
      const out = new Map<string, number>();
      for (const c of api.createdJobs) {
        if (c.labels['jobplane.dev/job-id'] !== jobId) continue;
        const a = c.labels['jobplane.dev/attempt'] ?? '?';
        out.set(a, (out.get(a) ?? 0) + 1);
      }
      return out;
    },
    async waitForState(id, state, timeoutMs = 20_000) {
      return waitFor(async () => {
        const row = await env.job(id);
        return row.state === state ? row : null;
      }, timeoutMs);
    },
    async cancel(id) {
      await relayCore.store.cancel('alice', id);
      await relayCore.cancelBus.publish(id);
    },
    async retry(id) {
      await relayCore.store.retry('alice', id);
    },
    async close() {
      for (const l of launchers) await l.stop().catch(() => undefined);
      await relay.stop();
      cluster.stop();
      await api.stop();
      await relayCore.queue
        .queue('ctr')
        .obliterate({ force: true })
        .catch(() => undefined);
      for (const c of cores) await c.close().catch(() => undefined);
      await iso.cleanup();
    },
  };
  return env;
}

/** Every attempt of the job got exactly one Kubernetes Job. */
export function exactlyOnePerAttempt(created: Map<string, number>, attempts: number): boolean {
  if (created.size !== attempts) return false;
  for (let a = 1; a <= attempts; a++) if (created.get(String(a)) !== 1) return false;
  return true;
}
