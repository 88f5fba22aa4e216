import type { DomainError } from '../../domain/errors.js';
import { invalidRequest } from '../../domain/errors.js';
import type { SubmitJob, SubmitJobs } from '../../application/submit-job.use-case.js';

/**
 * Checks on untrusted input shared by the JSON API, Connect/gRPC and webhooks, applied before a
 * value reaches SQL or a parser, so that no input can make PostgreSQL (or anything else) fail with
 * an error the API would have to answer with a 5xx.
 */

/** Longest quoted value echoed back whole in an error message; longer ones are cut. */
export const MAX_ECHOED_VALUE = 64;
/** Longest error detail sent to a client. */
export const MAX_DETAIL = 1024;

const cut = (v: string): string =>
  v.length > MAX_ECHOED_VALUE ? `${v.slice(0, MAX_ECHOED_VALUE)}… (${v.length} characters)` : v;

/**
 * Replaces unpaired surrogates with U+FFFD: an error message built from input can carry one (or
 * a cut can split a pair), and gRPC's percent-encoded `grpc-message` trailer cannot encode it.
 */
export function wellFormed(text: string): string {
  return text.replace(/\p{Cs}/gu, '\uFFFD');
}

/**
 * Shortens every quoted value (`'…'`, `"…"`) longer than {@link MAX_ECHOED_VALUE} characters, then
 * the whole message to {@link MAX_DETAIL}: a 100 kB job type is not echoed back whole.
 */
export function truncateValues(message: string): string {
  const out = message
    .replace(/'([^']{65,})'/g, (_m, v: string) => `'${cut(v)}'`)
    .replace(/"([^"]{65,})"/g, (_m, v: string) => `"${cut(v)}"`);
  return wellFormed(out.length > MAX_DETAIL ? `${out.slice(0, MAX_DETAIL)}…` : out);
}

/** A UTF-16 surrogate not part of a pair (not representable in UTF-8). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A JSON value PostgreSQL can store as `jsonb`: no NUL character (`\u0000`) and no unpaired
 * surrogate in any string or key (both make the insert fail).
 */
export function checkStorableJson(value: unknown, where: string): void {
  const bad = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);
  const visit = (v: unknown, path: string, depth: number): void => {
    if (depth > 200) return; // deeper values are refused by the parsers and the payload schemas
    if (typeof v === 'string') {
      if (bad(v)) throw nulError(path);
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, `${path}[${i}]`, depth + 1));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        if (bad(k)) throw nulError(`${path} (a key)`);
        visit(item, `${path}.${k}`, depth + 1);
      }
    }
  };
  visit(value, where, 0);
}

const nulError = (path: string): DomainError =>
  invalidRequest(`'${cut(path)}' contains a NUL character or an unpaired surrogate, which cannot be stored`);

/**
 * The one value of a header that must appear at most once (`undefined` when absent). Node joins
 * repeated headers into `"A, B"`, so the raw header list is counted instead.
 */
export function singleHeader(
  rawHeaders: readonly string[],
  name: string,
  onRepeated: () => DomainError,
): string | undefined {
  let value: string | undefined;
  let seen = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) {
      seen++;
      value = rawHeaders[i + 1];
    }
  }
  if (seen > 1) throw onRepeated();
  return value;
}

/**
 * Wraps the submit use case for every entry point (JSON API, Connect/gRPC, webhooks): the payload
 * must be storable before it reaches the use case and PostgreSQL.
 */
export function withStorablePayload(submit: SubmitJob): SubmitJob {
  return async (cmd) => {
    checkStorableJson(cmd.payload, 'payload');
    return submit(cmd);
  };
}

/**
 * The same check for every entry of a batch (`POST /v1/jobs:batch`, SubmitJobs), all or nothing:
 * every unstorable payload or key is listed (`jobs[i]: …`) and nothing reaches the use case. Keys
 * come from a JSON body here (not a header), so a lone surrogate in one is refused too.
 */
export function withStorablePayloads(submit: SubmitJobs): SubmitJobs {
  return async (cmd) => {
    const problems: string[] = [];
    cmd.jobs.forEach((item, i) => {
      try {
        checkStorableJson(item.payload, 'payload');
        if (item.idempotencyKey !== undefined) checkStorableJson(item.idempotencyKey, 'idempotencyKey');
      } catch (err) {
        problems.push(`jobs[${i}]: REQUEST.INVALID: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    if (problems.length > 0) {
      throw invalidRequest(
        `${problems.length} of ${cmd.jobs.length} jobs are invalid; none was stored: ${problems.join(' | ')}`,
        problems,
      );
    }
    return submit(cmd);
  };
}
