/**
 * A real Prometheus (the Debian `prometheus` binary) scrapes a running `jobplane api` and
 * `jobplane worker` (compiled CLI, started as a user would), and a PromQL query over its HTTP API
 * returns the submitted count. Needs `npx tsc -b` first (the CLI runs from dist/).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
  createEdgeEnv,
  destroyEdgeEnv,
  freePort,
  waitFor,
  type EdgeEnv,
} from '../support/edge-harness.js';

const CLI = fileURLToPath(new URL('../../dist/main/cli.js', import.meta.url));
/** Start-up budget of api, worker and Prometheus together (within the e2e hook timeout of 60 s). */
const STARTUP_MS = 50_000;
const PROMETHEUS = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).stdout.trim();

function start(cmd: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(cmd, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`);
  });
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

describe('Prometheus scrapes api and worker (e2e)', () => {
  let env: EdgeEnv;
  let api: ChildProcess;
  let worker: ChildProcess;
  let prom: ChildProcess;
  let dir: string;
  let apiPort: number;
  let workerPort: number;
  let promPort: number;

  beforeAll(async () => {
    if (PROMETHEUS === '') throw new Error('the prometheus binary is required (Debian package `prometheus`)');
    [apiPort, workerPort, promPort] = [await freePort(), await freePort(), await freePort()];
    env = await createEdgeEnv({ HOST: '127.0.0.1', RELAY_IN_PROCESS: 'true', RELAY_POLL_MS: '200' });
    const base = { ...env.env, LOG_LEVEL: 'warn' };
    api = start(process.execPath, [CLI, 'api'], { ...base, PORT: String(apiPort) });
    worker = start(process.execPath, [CLI, 'worker'], {
      ...base,
      METRICS_PORT: String(workerPort),
      WORKER_QUEUES: 'default',
    });
    dir = mkdtempSync(join(tmpdir(), 'jobplane-prom-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        `  - job_name: jobplane-api`,
        `    static_configs: [{ targets: ['127.0.0.1:${apiPort}'] }]`,
        `  - job_name: jobplane-worker`,
        `    static_configs: [{ targets: ['127.0.0.1:${workerPort}'] }]`,
        '',
      ].join('\n'),
    );
    prom = start(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      {},
    );
    // The three start together and compete for the CPU: on a busy 2-core box the API alone took
    // 7–14 s to listen (load average 18–20). Wait for each to be ready (the API's /readyz, as a
    // load balancer would) in parallel, and stop at once if one of them exits.
    const ready = (child: ChildProcess, url: string) =>
      waitFor(
        async () => {
          if (child.exitCode !== null || child.signalCode !== null)
            throw new Error(`${url}: the process exited (${child.exitCode ?? child.signalCode})`);
          return (await fetch(url).catch(() => null))?.ok;
        },
        STARTUP_MS,
        200,
      );
    await Promise.all([
      ready(api, `http://127.0.0.1:${apiPort}/readyz`),
      ready(worker, `http://127.0.0.1:${workerPort}/readyz`),
      ready(prom, `http://127.0.0.1:${promPort}/-/ready`),
    ]);
  });

  afterAll(async () => {
    await Promise.all([stop(prom), stop(api), stop(worker)]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (env) await destroyEdgeEnv(env);
  });

  async function query(
    promql: string,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await r.json()) as {
      status: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    expect(body.status).toBe('success');
    return body.data.result;
  }

  it('a PromQL query returns the submitted and completed counts', async () => {
    const N = 4;
    for (let i = 0; i < N; i++) {
      const r = await fetch(`http://127.0.0.1:${apiPort}/v1/jobs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${API_KEY}`,
          'idempotency-key': `e2e-${i}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ type: 'demo.sleep', payload: { durationMs: 10 } }),
      });
      const text = await r.text();
      expect(r.status, text).toBe(202);
    }
    const submitted = await waitFor(
      async () => {
        const res = await query('sum(jobplane_jobs_submitted_total{job="jobplane-api",type="demo.sleep"})');
        return res[0] && Number(res[0].value[1]) === N ? res : null;
      },
      60_000,
      500,
    );
    expect(Number(submitted[0]?.value[1])).toBe(N);
    const completed = await waitFor(
      async () => {
        const res = await query(
          'sum(jobplane_jobs_completed_total{job="jobplane-worker",outcome="succeeded"})',
        );
        return res[0] && Number(res[0].value[1]) === N ? res : null;
      },
      60_000,
      500,
    );
    expect(Number(completed[0]?.value[1])).toBe(N);
    // both targets up, queue gauges scraped from both
    const up = await query('up');
    expect(up.map((s) => [s.metric.job, s.value[1]]).sort()).toEqual([
      ['jobplane-api', '1'],
      ['jobplane-worker', '1'],
    ]);
    const depth = await query('max by (queue) (jobplane_queue_jobs{state="prioritized"})');
    expect(depth.map((s) => s.metric.queue)).toContain('default');
  });
});
