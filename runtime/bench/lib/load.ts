/**
 * HTTP load generators.
 * - `closedLoop`: autocannon with a fixed number of connections and a request count; every request
 *   gets a unique body/headers (e.g. an Idempotency-Key) through `setupRequest`.
 * - `openLoop`: requests sent on a fixed schedule whatever the answers do; latency is measured from
 *   the scheduled send time, so a stalled server cannot hide its queueing (no coordinated omission).
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { percentile } from './stats.js';

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface ClosedLoopResult {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly total: number;
  readonly seconds: number;
  /** Answers by HTTP status, e.g. `{ "202": 4991, "503": 9 }`. */
  readonly statuses: Record<string, number>;
}

export async function closedLoop(options: {
  readonly url: string;
  readonly connections: number;
  readonly amount?: number;
  readonly durationSeconds?: number;
  readonly request: (i: number) => RequestSpec;
}): Promise<ClosedLoopResult> {
  let i = 0;
  const first = options.request(0);
  const started = performance.now();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    ...(options.amount !== undefined
      ? { amount: options.amount }
      : { duration: options.durationSeconds ?? 5 }),
    method: first.method,
    requests: [
      {
        setupRequest: (req) => {
          const spec = options.request(i++);
          return {
            ...req,
            method: spec.method,
            path: spec.path,
            headers: { ...spec.headers },
            ...(spec.body !== undefined ? { body: spec.body } : {}),
          };
        },
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  const total = result.requests.total;
  return {
    requestsPerSec: options.amount !== undefined ? total / seconds : result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total,
    seconds,
    statuses: Object.fromEntries(
      Object.entries(
        (result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {},
      ).map(([code, v]) => [code, v.count]),
    ),
  };
}

export interface OpenLoopResult {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Requests that completed per second of schedule. */
  readonly achievedRate: number;
}

export async function openLoop(options: {
  readonly url: string;
  readonly rate: number;
  readonly durationSeconds: number;
  readonly request: (i: number) => RequestSpec;
  /** Give up a request after this long (counted as failed). */
  readonly timeoutMs?: number;
}): Promise<OpenLoopResult> {
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const total = Math.round(options.rate * options.durationSeconds);
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now() + 20;

  const fire = (i: number, scheduled: number) =>
    new Promise<void>((resolve) => {
      const spec = options.request(i);
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: spec.method,
          path: spec.path,
          headers: {
            ...(spec.body !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) }
              : {}),
            ...spec.headers,
          },
          timeout: options.timeoutMs ?? 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - scheduled);
            if ((res.statusCode ?? 0) < 300) ok++;
            else failed++;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        failed++;
        resolve();
      });
      if (spec.body !== undefined) req.write(spec.body);
      req.end();
    });

  let next = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && t0 + next * interval <= now) {
      pending.push(fire(next, t0 + next * interval));
      next++;
    }
    // Sleep until the next send instead of spinning: the server shares this machine's cores.
    const wait = t0 + next * interval - performance.now();
    await new Promise((r) => (wait > 0.2 ? setTimeout(r, Math.max(1, Math.floor(wait))) : setImmediate(r)));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  return {
    sent: total,
    ok,
    failed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? Math.max(...latencies) : Number.NaN,
    achievedRate: ok / elapsed,
  };
}

/** One request after another over one keep-alive connection; latencies in ms (sub-ms resolution). */
export async function sequentialLatency(options: {
  readonly url: string;
  readonly requests: number;
  readonly request: RequestSpec;
}): Promise<{ p50Ms: number; p99Ms: number; non2xx: number }> {
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let non2xx = 0;
  for (let i = 0; i < options.requests; i++) {
    const started = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: options.request.method,
          path: options.request.path,
          headers: options.request.headers,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(options.request.body);
    });
    latencies.push(performance.now() - started);
    if (status >= 300) non2xx++;
  }
  agent.destroy();
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), non2xx };
}
