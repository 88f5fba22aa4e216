import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import type { Redis } from 'ioredis';
import { DomainError } from '../../../domain/errors.js';
import { problem } from '../problem.js';
import { leasedRedisStore } from './leased-rate-store.js';

export interface PressureLimits {
  /**
   * Event-loop delay (ms) above which requests get 503, once it has lasted `sustainedSamples`
   * samples in a row. Default 1000.
   */
  readonly maxEventLoopDelayMs?: number;
  /**
   * Consecutive samples above `maxEventLoopDelayMs` before requests are refused. Default 2: one
   * stall (start-up compilation, a GC pause, the process descheduled on a busy machine) is over by
   * the time it is measured and is not overload; lag that persists is.
   */
  readonly sustainedSamples?: number;
  /**
   * Event-loop utilization (0–1) above which requests get 503. Default 0 (off): a busy but
   * responsive process (startup, a burst of serialization) reaches 0.98 without being overloaded;
   * the event-loop delay is the signal that clients actually wait.
   */
  readonly maxEventLoopUtilization?: number;
  /** Heap bytes above which requests get 503. Default: unlimited. */
  readonly maxHeapUsedBytes?: number;
  /** How often the process is sampled (ms). Default 1000. */
  readonly sampleIntervalMs?: number;
  /** Seconds in Retry-After of an overload 503. Default 10. */
  readonly retryAfterSeconds?: number;
}

export interface LimitsPluginOptions {
  /** Requests per minute per client. */
  readonly perMinute: number;
  /** Client id of an Authorization header (null = unauthenticated). */
  readonly authenticate: (authorization: string | undefined) => string | null;
  /** Shared counters across API replicas; without it counts are per process. */
  readonly redis?: Redis;
  /** Key prefix in Redis (the installation's queue prefix). */
  readonly redisPrefix?: string;
  readonly pressure?: PressureLimits;
}

/**
 * Lag of one sample window: the mean delay of a `resolution` ms timer beyond its period (as
 * @fastify/under-pressure measures it). A window without a single timer tick means the loop was
 * blocked throughout: its lag is how late the window closed.
 */
export function windowLagMs(
  ticks: number,
  meanDelayMs: number,
  elapsedMs: number,
  sampleIntervalMs: number,
  resolution: number,
): number {
  return ticks > 0 ? Math.max(0, meanDelayMs - resolution) : Math.max(0, elapsedMs - sampleIntervalMs);
}

/** Counts lagging sample windows in a row: one stall is not overload, lag that persists is. */
export class LagStreak {
  private over = 0;
  constructor(private readonly maxMs: number) {}
  /** Records one window's lag; returns how many windows in a row were above the limit. */
  record(lagMs: number): number {
    this.over = lagMs > this.maxMs ? this.over + 1 : 0;
    return this.over;
  }
  get consecutiveOver(): number {
    return this.over;
  }
}

/** Samples the event loop every `sampleIntervalMs` into a {@link LagStreak}. */
function lagMonitor(sampleIntervalMs: number, maxMs: number) {
  const resolution = 10;
  const histogram = monitorEventLoopDelay({ resolution });
  histogram.enable();
  const streak = new LagStreak(maxMs);
  let lag = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lag = windowLagMs(histogram.count, histogram.mean / 1e6, now - last, sampleIntervalMs, resolution);
    histogram.reset();
    last = now;
    streak.record(lag);
  }, sampleIntervalMs);
  timer.unref();
  return {
    lag: () => lag,
    consecutiveOver: () => streak.consecutiveOver,
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}

/** Liveness and scraping must keep answering under load; everything else is limited. */
const EXEMPT = new Set(['/healthz', '/metrics']);
/**
 * Not rate limited either: readiness must answer within the probe's budget, so it never waits on
 * the limiter's Redis round trip (a frozen Redis costs the limiter its command timeout).
 */
const NOT_RATE_LIMITED = new Set([...EXEMPT, '/readyz']);

/**
 * Rate key: the API client for authenticated calls, the peer address otherwise. Invalid keys are
 * limited by address (and counted as failed authentications, see auth.plugin.ts). Webhooks are
 * limited by their own route, after the signature is checked (webhooks.plugin.ts).
 */
function rateKey(authenticate: LimitsPluginOptions['authenticate']) {
  return (request: FastifyRequest): string => {
    const client = authenticate(request.headers.authorization);
    return client ? `client:${client}` : `ip:${request.ip}`;
  };
}

/** Swagger UI and Bull Board are the only HTML pages; both need inline scripts and styles. */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'", 'https:'],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'https:', 'data:'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  hsts: { maxAge: 31_536_000, includeSubDomains: true },
};

/**
 * The headers helmet sets for `options`, computed once. Helmet's headers depend on its options
 * only (no nonces here), and building them is most of its cost: @fastify/helmet rebuilt them,
 * CSP directives parsed anew, on every request.
 */
export function securityHeaders(options: HelmetOptions): ReadonlyArray<readonly [string, string]> {
  const out: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: string) {
      out.push([name, value]);
    },
    removeHeader(name: string) {
      for (let i = out.length - 1; i >= 0; i--)
        if (out[i]![0].toLowerCase() === name.toLowerCase()) out.splice(i, 1);
    },
  };
  helmet(options)({} as never, recorder as never, (err?: unknown) => {
    if (err) throw err;
  });
  return out;
}

/**
 * Security headers (helmet), per-client rate limiting (@fastify/rate-limit: 429
 * RATE_LIMIT.EXCEEDED with Retry-After) and overload protection (@fastify/under-pressure: 503
 * SERVICE.OVERLOADED with Retry-After), all as problem+json. A pre-plugin: it must wrap every route.
 * The rate limiter fails open when Redis is unreachable or does not answer within its connection's
 * command timeout (availability over strictness).
 */
export function limitsPlugin(opts: LimitsPluginOptions): FastifyPluginAsync {
  const p = opts.pressure ?? {};
  const retryAfter = p.retryAfterSeconds ?? 10;
  return fp(async (app) => {
    const headers = securityHeaders(HELMET_OPTIONS);
    app.addHook('onRequest', (_request, reply, done) => {
      // On the raw response, as helmet itself does: hijacked replies (SSE streams) keep them too.
      for (const [name, value] of headers) reply.raw.setHeader(name, value);
      done();
    });
    const overloaded = (request: FastifyRequest, reply: FastifyReply, type: string, value: unknown) => {
      request.log.warn({ type, value }, 'overloaded: request refused');
      reply.status(503).header('retry-after', String(retryAfter)).type('application/problem+json');
      return problem(
        503,
        'SERVICE.OVERLOADED',
        `the server is overloaded (${type}); retry after ${retryAfter} s`,
        {
          instance: request.url,
        },
      );
    };
    // Event-loop delay is judged here rather than by under-pressure, which refuses work after a
    // single lagging sample: on a busy machine one stall made the next second of requests 503.
    const maxDelay = p.maxEventLoopDelayMs ?? 1000;
    const sustained = p.sustainedSamples ?? 2;
    const lag = maxDelay > 0 ? lagMonitor(p.sampleIntervalMs ?? 1000, maxDelay) : null;
    if (lag) {
      app.addHook('onClose', async () => lag.stop());
      app.addHook('onRequest', async (request, reply) => {
        if (lag.consecutiveOver() < sustained || EXEMPT.has(request.url.split('?')[0] ?? '')) return;
        return reply.send(overloaded(request, reply, 'eventLoopDelay', lag.lag()));
      });
    }
    await app.register(underPressure, {
      maxEventLoopDelay: 0,
      maxEventLoopUtilization: p.maxEventLoopUtilization ?? 0,
      maxHeapUsedBytes: p.maxHeapUsedBytes ?? 0,
      sampleInterval: p.sampleIntervalMs ?? 1000,
      retryAfter,
      pressureHandler: (request, reply, type, value) => {
        if (EXEMPT.has(request.url.split('?')[0] ?? '')) return undefined;
        // under-pressure sends a non-null return value as the response (its typings say void).
        return overloaded(request, reply, type, value) as unknown as void;
      },
    });
    await app.register(rateLimit, {
      global: true,
      max: opts.perMinute,
      timeWindow: 60_000,
      keyGenerator: rateKey(opts.authenticate),
      allowList: (request) => NOT_RATE_LIMITED.has(request.url.split('?')[0] ?? ''),
      // Counts shared in Redis, leased in chunks (leased-rate-store.ts) rather than one round trip
      // per request.
      ...(opts.redis
        ? { store: leasedRedisStore(opts.redis, `${opts.redisPrefix ?? 'jobplane'}:ratelimit:`) }
        : {}),
      skipOnError: true,
      errorResponseBuilder: (_request, ctx) =>
        Object.assign(
          new DomainError(
            'RATE_LIMIT.EXCEEDED',
            `more than ${ctx.max} requests per minute for this client; retry after ${ctx.after}`,
          ),
          { statusCode: 429 },
        ),
    });
  });
}
