import { createServer as createHttp1Server } from 'node:http';
import { createServer as createH2cServer, type ServerHttp2Session } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** The HTTP/2 client connection preface starts with this (RFC 9113 §3.4); no HTTP/1 method does. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0');

/** How long a new connection may stay silent before its first byte. */
export const FIRST_BYTE_TIMEOUT_MS = 10_000;

export interface DualProtocolListener {
  /** `http://host:port` */
  readonly url: string;
  close(graceMs?: number): Promise<void>;
}

/**
 * Serves one Fastify app over HTTP/1.1 and cleartext HTTP/2 (h2c, prior knowledge) on the same
 * port, so gRPC clients (which require HTTP/2) and everything else share the API's listener. Each
 * connection is routed by its first bytes; both servers hand requests to `app.routing`.
 * In a cluster, TLS (and ALPN) terminate at the ingress; h2c is the hop behind it.
 */
export async function listenDualProtocol(
  app: FastifyInstance,
  port: number,
  host: string,
  opts: { readonly firstByteTimeoutMs?: number } = {},
): Promise<DualProtocolListener> {
  await app.ready();
  const handler = app.routing.bind(app) as unknown as Parameters<typeof createHttp1Server>[1] & object;
  const h1 = createHttp1Server(handler);
  // Behave like the server Fastify would have created: its timeouts, and its handler for
  // requests the HTTP parser refuses (bad header bytes → 400 problem+json, not a dropped socket).
  h1.keepAliveTimeout = app.server.keepAliveTimeout;
  h1.headersTimeout = app.server.headersTimeout;
  h1.requestTimeout = app.server.requestTimeout;
  h1.timeout = app.server.timeout;
  h1.maxRequestsPerSocket = app.server.maxRequestsPerSocket;
  h1.on('clientError', (err, socket) => app.server.emit('clientError', err, socket));
  const h2 = createH2cServer(handler as unknown as Parameters<typeof createH2cServer>[1]);
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // A connection that never sends a byte is not handed to either server (whose timeouts would
    // otherwise apply): drop it after FIRST_BYTE_TIMEOUT_MS.
    socket.setTimeout(opts.firstByteTimeoutMs ?? FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      const h2c = chunk
        .subarray(0, H2_PREFACE.length)
        .equals(H2_PREFACE.subarray(0, Math.min(chunk.length, H2_PREFACE.length)));
      if (h2c) {
        // The HTTP/2 session takes over the native handle and the buffered bytes; the JS stream
        // must stay paused or it would swallow frames.
        h2.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
        socket.resume();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => resolve());
  });
  const addr = tcp.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const sessions = new Set<ServerHttp2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    url: `http://${shownHost}:${addr.port}`,
    /** Stops accepting, lets in-flight requests finish (idle keep-alive and HTTP/2 sessions close at once), then forces after `graceMs`. */
    async close(graceMs = 10_000) {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      h1.closeIdleConnections();
      for (const session of sessions) session.close();
      // HTTP/1 connections that finish their request close instead of idling.
      h1.on('request', (_req, res) => res.setHeader('connection', 'close'));
      const idle = setInterval(() => h1.closeIdleConnections(), 100);
      const force = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, graceMs);
      await closed;
      clearInterval(idle);
      clearTimeout(force);
    },
  };
}
