/**
 * SIGTERM drains the API without waiting out its drain budget because a client holds an idle
 * keep-alive connection (every HTTP client pool, every load balancer does): idle HTTP/1
 * connections are closed at once, a request in flight finishes (with `connection: close`), and
 * the process exits. The budget here is 30 s, so an exit within half of it cannot be the budget.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FaultCluster } from '../support/faults/cluster.js';
import { recordFigure } from '../support/faults/report.js';

const DRAIN_BUDGET_S = 30;

let cluster: FaultCluster;

/** One request over `agent`; resolves the response (body read) and the socket it used. */
function get(
  agent: Agent,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ res: IncomingMessage; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request(`${cluster.apiUrl}${path}`, { agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ res, body, socket: req.socket! }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('API drain on SIGTERM with keep-alive clients', () => {
  beforeAll(async () => {
    cluster = await FaultCluster.start({
      workers: 0,
      relay: false,
      apiEnv: { DRAIN_TIMEOUT_SECONDS: String(DRAIN_BUDGET_S) },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('closes idle keep-alive connections at once, lets a request in flight finish, and exits', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(40));
    });
    const idleAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const busyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(idleAgent, '/healthz');
      expect(first.res.statusCode).toBe(200);
      expect(first.res.headers.connection).toBe('keep-alive');
      const idleClosed = new Promise<number>((resolve) =>
        first.socket.once('close', () => resolve(Date.now())),
      );
      // A request in flight when the signal comes: its headers are sent, half of its body is not.
      const body = JSON.stringify({ type: 'demo.sleep', payload: { durationMs: 10 } });
      const inFlight = request(`${cluster.apiUrl}/v1/jobs`, {
        method: 'POST',
        agent: busyAgent,
        headers: {
          authorization: `Bearer ${cluster.apiKey}`,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'idempotency-key': crypto.randomUUID(),
        },
      });
      const answered = new Promise<{ status: number; connection: string | undefined; text: string }>(
        (resolve, reject) => {
          inFlight.on('response', (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }),
            );
          });
          inFlight.on('error', reject);
        },
      );
      inFlight.write(body.slice(0, 10));
      await sleep(500);
      const started = Date.now();
      cluster.api.signal('SIGTERM');
      await sleep(500);
      inFlight.end(body.slice(10));
      const res = await answered;
      expect(res.status, res.text).toBe(202);
      expect(res.connection, 'a request finishing during the drain closes its connection').toBe('close');
      const exit = await cluster.api.waitExit(DRAIN_BUDGET_S * 1000 + 5000);
      const exitMs = Date.now() - started;
      expect(exit, 'the API exited').toBeDefined();
      expect(exit?.code, 'clean exit').toBe(0);
      const closedMs = (await idleClosed) - started;
      expect(closedMs, 'the idle keep-alive connection was closed by the server').toBeLessThan(
        (DRAIN_BUDGET_S * 1000) / 2,
      );
      expect(exitMs, 'the API did not wait out its drain budget').toBeLessThan((DRAIN_BUDGET_S * 1000) / 2);
      console.log(`[faults] api drain: idle keep-alive closed after ${closedMs} ms, exit after ${exitMs} ms`);
      recordFigure({
        suite: 'api-drain',
        fault: 'SIGTERM to the API with an idle keep-alive client and a request in flight',
        injections: 1,
        accepted: 1,
        lost: 0,
        duplicateExecutions: 0,
        recoveryMs: [exitMs],
        notes: `idle connection closed after ${closedMs} ms; drain budget ${DRAIN_BUDGET_S} s`,
      });
    } finally {
      idleAgent.destroy();
      busyAgent.destroy();
    }
  });
});
