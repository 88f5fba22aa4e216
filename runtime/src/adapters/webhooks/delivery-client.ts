import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { BlockList } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { DeliveryAttemptRecord } from '../../domain/events.js';
import { checkTarget, UrlRefused } from './ssrf.js';

export interface DeliveryClientOptions {
  readonly allowed: BlockList;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly maxResponseBytes: number;
  /** DNS resolution (default: the system resolver, all addresses); tests inject answers. */
  readonly resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

export interface OutgoingWebhook {
  readonly url: string;
  /** `whsec_<base64>`. */
  readonly secret: string;
  /** `webhook-id`: the event id (the same on every retry, receivers de-duplicate on it). */
  readonly id: string;
  readonly body: string;
  readonly now: Date;
}

/** The headers of one signed delivery (Standard Webhooks). */
export function signedHeaders(
  w: Pick<OutgoingWebhook, 'secret' | 'id' | 'body' | 'now'>,
): Record<string, string> {
  const signature = new Webhook(w.secret).sign(w.id, w.now, w.body);
  return {
    'content-type': 'application/cloudevents+json; charset=utf-8',
    'user-agent': 'jobplane-webhooks/1',
    'webhook-id': w.id,
    'webhook-timestamp': String(Math.floor(w.now.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/**
 * Sends one webhook: resolves and checks the host (ssrf.ts), connects to exactly that address (a
 * second DNS answer cannot redirect the connection), with a connect timeout, a deadline for the
 * whole response and a cap on the bytes read. Redirects are not followed. 2xx is success; anything
 * else (or no answer) is a failure with the reason in `error`. Never throws.
 */
export async function sendWebhook(
  w: OutgoingWebhook,
  opts: DeliveryClientOptions,
): Promise<DeliveryAttemptRecord> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
  let target;
  try {
    target = await checkTarget(w.url, opts.allowed, 'url', opts.resolve);
  } catch (err) {
    const message = err instanceof UrlRefused ? err.message : String(err);
    return { ok: false, responseCode: null, durationMs: elapsed(), error: `refused: ${message}` };
  }
  const { url, address, family } = target;
  const pinned: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) {
      (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address, family },
      ]);
    } else cb(null, address, family);
  };
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<DeliveryAttemptRecord>((resolve) => {
    let settled = false;
    const finish = (r: Omit<DeliveryAttemptRecord, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(connectTimer);
      resolve({ ...r, durationMs: elapsed() });
    };
    const req = mod.request(url, {
      method: 'POST',
      headers: { ...signedHeaders(w), 'content-length': String(Buffer.byteLength(w.body)) },
      lookup: pinned,
      agent: false,
    });
    const deadline = setTimeout(() => {
      finish({
        ok: false,
        responseCode: null,
        error: `no complete response within ${opts.responseTimeoutMs} ms`,
      });
      req.destroy();
    }, opts.responseTimeoutMs);
    const connectTimer = setTimeout(() => {
      finish({ ok: false, responseCode: null, error: `connect timeout after ${opts.connectTimeoutMs} ms` });
      req.destroy();
    }, opts.connectTimeoutMs);
    req.on('socket', (socket) => {
      const connected = () => clearTimeout(connectTimer);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    req.on('error', (err) => {
      const code = (err as { code?: string }).code;
      finish({ ok: false, responseCode: null, error: code ? `${code}: ${err.message}` : err.message });
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > opts.maxResponseBytes) {
          // Enough: the status decides; the rest is not read.
          finish({
            ok: status >= 200 && status < 300,
            responseCode: status,
            error: status >= 200 && status < 300 ? null : `HTTP ${status}`,
          });
          res.destroy();
        }
      });
      res.on('end', () =>
        finish({
          ok: status >= 200 && status < 300,
          responseCode: status,
          error: status >= 200 && status < 300 ? null : `HTTP ${status}`,
        }),
      );
      res.on('error', (err) => finish({ ok: false, responseCode: status, error: err.message }));
    });
    req.end(w.body);
  });
}
