/** B2: bare Fastify in its own process — hello world and a schema-validated POST. */
import { fileURLToPath } from 'node:url';
import type { Cell } from '../lib/harness.js';
import { closedLoop, openLoop } from '../lib/load.js';
import { startChild, TSX_NODE_ARGS } from '../lib/proc.js';
import type { Child } from '../lib/proc.js';

const SERVER = fileURLToPath(new URL('../servers/fastify-bare.ts', import.meta.url));
const BODY = JSON.stringify({ type: 'demo.sleep', payload: { durationMs: 0 } });

/** The bare Fastify server of B2 in its own process. */
export async function startBareFastify(): Promise<{ child: Child; url: string }> {
  const child = await startChild('fastify-bare', process.execPath, [...TSX_NODE_ARGS, SERVER], {
    env: { ...process.env, PORT: '0' },
    ready: /listening \d+/,
  });
  const port = /listening (\d+)/.exec(child.output())?.[1];
  return { child, url: `http://127.0.0.1:${port}` };
}

export function fastifyCells(quick: boolean): Cell[] {
  let server: { child: Child; url: string } | undefined;
  const seconds = quick ? 1 : 5;
  const fixedRate = quick ? 200 : 1_000;
  const hello: Cell = {
    id: 'B2.hello',
    group: 'B2',
    title: 'Fastify hello world (GET)',
    method: `autocannon, 50 connections, ${seconds} s, server in its own process`,
    metrics: {
      requestsPerSec: { unit: 'req/s', better: 'higher' },
      p50Ms: { unit: 'ms', better: 'lower' },
      p99Ms: { unit: 'ms', better: 'lower' },
    },
    async setup() {
      server = await startBareFastify();
    },
    async run() {
      const r = await closedLoop({
        url: (server as { url: string }).url,
        connections: 50,
        durationSeconds: seconds,
        request: () => ({ method: 'GET', path: '/hello' }),
      });
      return { requestsPerSec: r.requestsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms };
    },
  };
  const post: Cell = {
    id: 'B2.post',
    group: 'B2',
    title: 'Fastify schema-validated POST (touches nothing)',
    method: `autocannon, 50 connections, ${seconds} s; then open loop ${fixedRate} req/s for ${seconds} s`,
    metrics: {
      requestsPerSec: { unit: 'req/s', better: 'higher' },
      p50Ms: { unit: 'ms', better: 'lower' },
      p99Ms: { unit: 'ms', better: 'lower' },
      fixedRateP50Ms: { unit: 'ms (fixed rate)', better: 'lower' },
      fixedRateP99Ms: { unit: 'ms (fixed rate)', better: 'lower' },
    },
    async run(ctx) {
      const url = (server as { url: string }).url;
      const request = (i: number) => ({
        method: 'POST' as const,
        path: '/v1/jobs',
        headers: { 'content-type': 'application/json', 'idempotency-key': `b2-r${ctx.round}-${i}` },
        body: BODY,
      });
      const r = await closedLoop({ url, connections: 50, durationSeconds: seconds, request });
      if (r.non2xx > 0) throw new Error(`${r.non2xx} non-2xx answers`);
      const fixed = await openLoop({ url, rate: fixedRate, durationSeconds: seconds, request });
      return {
        requestsPerSec: r.requestsPerSec,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        fixedRateP50Ms: fixed.p50Ms,
        fixedRateP99Ms: fixed.p99Ms,
      };
    },
    async teardown() {
      await server?.child.stop();
    },
  };
  return [hello, post];
}
