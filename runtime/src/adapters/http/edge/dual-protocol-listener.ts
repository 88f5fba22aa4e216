import { createServer as createHttp1Server, type ServerResponse } from 'node:http';
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
  // The HTTP/1 server is handed its sockets (it never listens), so it tracks none of them and its
  // closeIdleConnections() does nothing: track each socket's requests in flight here instead. A
  // socket is idle once it has answered a request and has none in flight (a keep-alive client
  // waiting); a socket still on its first request is left to finish it.
  const h1Sockets = new Map<Socket, { inFlight: Set<ServerResponse>; served: boolean }>();
  let draining = false;
  /** A response finishing while draining closes its connection instead of leaving it idle. */
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  h1.on('request', (req, res) => {
    const state = h1Sockets.get(req.socket);
    if (!state) return;
    state.inFlight.add(res);
    if (draining) closeAfter(res);
    res.once('close', () => {
      state.inFlight.delete(res);
      state.served = true;
      if (draining && state.inFlight.size === 0) req.socket.destroySoon();
    });
  });
  /** At drain start: idle HTTP/1 connections end now, busy ones after their last response. */
  const drainH1 = () => {
    draining = true;
    for (const [socket, state] of h1Sockets) {
      for (const res of state.inFlight) closeAfter(res);
      if (state.served && state.inFlight.size === 0) socket.destroySoon();
    }
  };
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
        h1Sockets.set(socket, { inFlight: new Set(), served: false });
        socket.once('close', () => h1Sockets.delete(socket));
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
      drainH1();
      for (const session of sessions) session.close();
      const force = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, graceMs);
      await closed;
      clearTimeout(force);
    },
  };
}
