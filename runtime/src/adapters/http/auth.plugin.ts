import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { ErrorCode } from '../../domain/errors.js';
import { ADMIN_PREFIX, CONNECT_PREFIX } from './edge/route-schemas.js';
import type { FailureCounter } from './failure-counter.js';
import { problem, sendProblem } from './problem.js';

/**
 * Who may call a route. Every route gets one (see `policyOf`):
 * - `client`: an API key (`Authorization: Bearer`), sets `request.clientId`;
 * - `admin`: the admin key (Bearer, or the Basic password so browsers get a prompt);
 * - `public`: nobody needs a key (liveness, readiness, metrics, the OpenAPI document, and webhooks,
 *   whose authentication is the signature their route checks);
 * - `console`: the console's API: an API key (sets `request.clientId`, scoped to that client) or the
 *   admin key as Bearer (sets `request.consoleAdmin`: every client's jobs).
 */
export type AuthPolicy = 'client' | 'admin' | 'public' | 'console';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on a route to override the policy derived from its URL. */
    auth?: AuthPolicy;
  }
  interface FastifyRequest {
    /**
     * Set on a Connect/gRPC route whose caller sent no valid API key: the RPC layer answers in its
     * own protocol (grpc-status 16) instead of an HTTP 401.
     */
    authFailed?: ErrorCode;
    /** Set on a `console` route called with the admin key (sees every client). */
    consoleAdmin?: boolean;
  }
}

const PUBLIC = new Set(['/healthz', '/readyz', '/metrics', '/v1/webhooks/:source']);

/** The policy of a route that sets none: public operations routes, admin, otherwise a client key. */
export function policyOf(url: string): AuthPolicy {
  if (PUBLIC.has(url) || url === '/docs' || url.startsWith('/docs/')) return 'public';
  if (url === ADMIN_PREFIX || url.startsWith(`${ADMIN_PREFIX}/`)) return 'admin';
  return 'client';
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The presented admin key: Bearer, or the password of Basic auth (any user name). */
function presentedAdminKey(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer?.[1]) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

export interface AuthPluginOptions {
  /** Maps an Authorization header to a client id (null = not a valid key). */
  readonly authenticate: (authorization: string | undefined) => string | null;
  /** JOBPLANE_ADMIN_KEY; without it `admin` routes answer 403 to everyone. */
  readonly adminKey?: string;
  /**
   * Failed authentications per source address. Past its limit every failed attempt from the
   * address gets 429 instead of 401/403 until the window ends. Valid keys keep working: behind an
   * ingress many clients share one address, and one guessing client must not lock them all out
   * (each guess still costs a request of the per-address rate limit).
   */
  readonly failures?: FailureCounter;
}

/**
 * The one authentication hook of the app: every route family (JSON API, Connect/gRPC, SSE, admin
 * dashboard, metrics and health) goes through it, with the policy its route declares or derives
 * from its URL. Failed attempts are counted per source address before the 401/403 is sent.
 */
export function authPlugin(opts: AuthPluginOptions): FastifyPluginAsync {
  const adminDigest = opts.adminKey ? digest(opts.adminKey) : null;
  return fp(async (app) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      route.config = { ...route.config, auth: route.config?.auth ?? policyOf(route.url) };
    });

    const tooMany = (request: FastifyRequest, reply: FastifyReply, retryAfter: number) => {
      request.log.warn({ ip: request.ip }, 'too many failed authentications: request refused');
      reply.header('retry-after', String(retryAfter));
      return sendProblem(
        reply,
        problem(
          429,
          'RATE_LIMIT.EXCEEDED',
          `too many failed authentications from this address; retry after ${retryAfter} s`,
          { instance: request.url },
        ),
      );
    };

    /**
     * Counts a failure; returns the 429 once the address is past its limit, otherwise null. A
     * blocked address is answered from memory (no Redis call per guess).
     */
    const fail = async (request: FastifyRequest, reply: FastifyReply, code: ErrorCode) => {
      request.log.info({ ip: request.ip, code }, 'authentication failed');
      if (!opts.failures) return null;
      const already = opts.failures.blockedFor(request.ip);
      const blocked = already > 0 ? already : await opts.failures.fail(request.ip);
      return blocked > 0 ? tooMany(request, reply, blocked) : null;
    };

    app.addHook('onRequest', async (request, reply) => {
      const policy = request.routeOptions.config.auth;
      // Unmatched requests (404) and public routes need no key.
      if (policy === undefined || policy === 'public') return undefined;
      const header = request.headers.authorization;
      if (policy === 'admin') {
        const key = presentedAdminKey(header);
        if (key !== null && adminDigest && timingSafeEqual(digest(key), adminDigest)) return undefined;
        const limited = await fail(request, reply, key === null ? 'AUTH.UNAUTHENTICATED' : 'AUTH.FORBIDDEN');
        if (limited) return limited;
        if (key === null) {
          reply.header('www-authenticate', 'Basic realm="jobplane-admin", charset="UTF-8"');
          return sendProblem(
            reply,
            problem(401, 'AUTH.UNAUTHENTICATED', 'send the admin key (Bearer, or Basic password)'),
          );
        }
        return sendProblem(
          reply,
          problem(403, 'AUTH.FORBIDDEN', 'this key may not open the queue dashboard'),
        );
      }
      if (policy === 'console' && adminDigest) {
        const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
        if (bearer !== undefined && timingSafeEqual(digest(bearer), adminDigest)) {
          request.consoleAdmin = true;
          return undefined;
        }
      }
      const client = opts.authenticate(header);
      if (client) {
        request.clientId = client;
        return undefined;
      }
      const limited = await fail(request, reply, 'AUTH.UNAUTHENTICATED');
      if (limited) return limited;
      if (request.url.startsWith(CONNECT_PREFIX)) {
        // Answered by the RPC layer in the caller's protocol, before its body is read.
        request.authFailed = 'AUTH.UNAUTHENTICATED';
        return undefined;
      }
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(reply, problem(401, 'AUTH.UNAUTHENTICATED', 'send Authorization: Bearer <api key>'));
    });
  });
}
