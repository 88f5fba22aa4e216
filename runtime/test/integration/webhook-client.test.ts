import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWebhook, type DeliveryClientOptions } from '../../src/adapters/webhooks/delivery-client.js';
import { parseAllowedCidrs } from '../../src/adapters/webhooks/ssrf.js';
import { verifyStandardWebhook } from '../../src/domain/webhook-signature.js';

/**
 * The outgoing webhook HTTP client against real local servers: signatures, the connection pinned
 * to the checked address (no second DNS answer), the response deadline and the response size cap.
 */

const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
let server: http.Server;
let port = 0;
let silent: net.Server;
let silentPort = 0;
const silentSockets = new Set<net.Socket>();
const seen: { host: string | undefined; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
let bigBodyBytesSent = 0;

const opts = (extra: Partial<DeliveryClientOptions> = {}): DeliveryClientOptions => ({
  allowed: parseAllowedCidrs('127.0.0.1/32'),
  connectTimeoutMs: 1000,
  responseTimeoutMs: 1000,
  maxResponseBytes: 1024,
  ...extra,
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ host: req.headers.host, headers: req.headers, body: Buffer.concat(chunks) });
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'z');
        const pump = () => {
          // Bounded: at most 64 MiB, stops as soon as the client goes away.
          while (bigBodyBytesSent < 64 * 1024 * 1024 && !res.destroyed) {
            bigBodyBytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
      } else if (req.url === '/status/503') res.writeHead(503).end('busy');
      else if (req.url === '/redirect') res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end();
      else res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  // Accepts connections and never answers.
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => silentSockets.delete(socket));
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  silentPort = (silent.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  for (const s of silentSockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
});

const send = (url: string, o = opts()) =>
  sendWebhook({ url, secret: SECRET, id: 'evt-1', body: '{"hello":"world"}', now: new Date() }, o);

describe('sendWebhook', () => {
  it('POSTs the signed CloudEvent; 2xx is success', async () => {
    const r = await send(`http://127.0.0.1:${port}/ok`);
    expect(r).toMatchObject({ ok: true, responseCode: 204, error: null });
    const got = seen.at(-1)!;
    expect(got.body.toString()).toBe('{"hello":"world"}');
    expect(
      verifyStandardWebhook({ secret: SECRET, headers: got.headers, rawBody: got.body, now: new Date() }).ok,
    ).toBe(true);
  });

  it('connects to the address it checked, keeping the URL host (no second resolution)', async () => {
    let calls = 0;
    const r = await send(
      `http://hooks.rebind.test:${port}/ok`,
      opts({
        resolve: async () => {
          calls++;
          // A rebinding resolver: the check sees 127.0.0.1 (allowed), any later lookup 10.0.0.1.
          return [{ address: calls === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
        },
      }),
    );
    expect(r).toMatchObject({ ok: true, responseCode: 204 });
    expect(calls).toBe(1);
    expect(seen.at(-1)!.host).toBe(`hooks.rebind.test:${port}`);
  });

  it('refuses a host that resolves to a refused range, without connecting', async () => {
    const before = seen.length;
    const r = await send(
      `http://internal.test:${port}/ok`,
      opts({ resolve: async () => [{ address: '10.0.0.1', family: 4 }] }),
    );
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(
      /^refused: 'url': host 'internal.test' resolves to 10.0.0.1, in a refused range \(private\)/,
    );
    expect(seen.length).toBe(before);
  });

  it('non-2xx and redirects are failures with the status', async () => {
    expect(await send(`http://127.0.0.1:${port}/status/503`)).toMatchObject({
      ok: false,
      responseCode: 503,
      error: 'HTTP 503',
    });
    expect(await send(`http://127.0.0.1:${port}/redirect`)).toMatchObject({
      ok: false,
      responseCode: 302,
      error: 'HTTP 302',
    });
  });

  it('a server that never answers fails at the response deadline', async () => {
    const r = await send(`http://127.0.0.1:${silentPort}/`, opts({ responseTimeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, responseCode: null, error: 'no complete response within 300 ms' });
  });

  it('reads at most maxResponseBytes of a huge response, then closes', async () => {
    const r = await send(
      `http://127.0.0.1:${port}/big`,
      opts({ maxResponseBytes: 4096, responseTimeoutMs: 10_000 }),
    );
    expect(r).toMatchObject({ ok: true, responseCode: 200 });
    // The server stopped long before its 64 MiB: the client went away.
    expect(bigBodyBytesSent).toBeLessThan(64 * 1024 * 1024);
  });

  it('a closed port fails with the connection error', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const p = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await send(`http://127.0.0.1:${p}/`);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^ECONNREFUSED/);
  });
});
