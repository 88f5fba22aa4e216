/** Request input for the routes whose bodies and queries are proto3 JSON (jobs, schedules, subscriptions). */
import type { JsonValue } from '@bufbuild/protobuf';
import type { FastifyRequest } from 'fastify';
import { invalidRequest } from '../../../domain/errors.js';

/** Runs a proto JSON decode; its error becomes 400 REQUEST.INVALID prefixed with `what`. */
export function parse<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw invalidRequest(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The body as a JSON object, or 400 naming the message it should have been. */
export function objectBody(request: FastifyRequest, message: string): Record<string, JsonValue> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest(`the body must be a JSON object (${message})`);
  }
  return body as Record<string, JsonValue>;
}

/** The query string with each parameter given once (a repeated one is 400). */
export function queryOf(request: FastifyRequest): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(request.query as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalidRequest(`query parameter '${k}' must appear once`);
    out[k] = v;
  }
  return out;
}

export const idOf = (request: FastifyRequest): string => (request.params as { id: string }).id;
