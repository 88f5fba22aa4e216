import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auth,
  createEdgeEnv,
  destroyEdgeEnv,
  newKey,
  startEdgeApi,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

interface OpenApiDoc {
  openapi: string;
  paths: Record<
    string,
    Record<string, { summary?: string; requestBody?: unknown; responses: Record<string, unknown> }>
  >;
}

describe('OpenAPI document and Swagger UI', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  const routes: { method: string; url: string; hidden: boolean }[] = [];
  beforeAll(async () => {
    env = await createEdgeEnv({ JOBPLANE_ADMIN_KEY: 'admin-key-0123456789abcdef' });
    api = await startEdgeApi(env, {
      onRoute: (r: RouteOptions) => {
        for (const m of Array.isArray(r.method) ? r.method : [r.method]) {
          routes.push({
            method: m,
            url: r.url,
            hidden: Boolean((r.schema as { hide?: boolean } | undefined)?.hide),
          });
        }
      },
    });
  });
  afterAll(async () => {
    await api?.close();
    if (env) await destroyEdgeEnv(env);
  });

  // @fastify/swagger writes :param as {param}, a trailing wildcard as {*} and `::` (find-my-way's
  // literal colon) as `:`.
  const openapiPath = (url: string) =>
    url
      .split('::')
      .map((part) => part.replace(/:([A-Za-z0-9_]+)/g, '{$1}'))
      .join(':')
      .replace(/\*$/, '{*}');

  it('documents every registered route', async () => {
    const doc = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as OpenApiDoc;
    expect(doc.openapi).toBe('3.0.3');
    const visible = routes.filter((r) => !r.hidden && r.method !== 'HEAD' && r.method !== 'OPTIONS');
    expect(visible.length).toBeGreaterThanOrEqual(8);
    const missing = visible.filter((r) => !doc.paths[openapiPath(r.url)]?.[r.method.toLowerCase()]);
    expect(missing).toEqual([]);
    // and documents nothing that does not exist
    const registered = new Set(visible.map((r) => `${r.method.toLowerCase()} ${openapiPath(r.url)}`));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops).filter((m) => m !== 'head'))
        expect(registered, `${method} ${path}`).toContain(`${method} ${path}`);
    }
    // Hidden: Swagger UI's own assets and Bull Board's internal API and assets, nothing else.
    const hidden = routes.filter((r) => r.hidden && !r.url.startsWith('/docs'));
    expect(hidden.length).toBeGreaterThan(0);
    expect(hidden.filter((r) => !r.url.startsWith('/admin/queues/'))).toEqual([]);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/admin'))).toEqual(['/admin/queues']);
    expect(doc.paths['/jobprocessing.v1.JobService/SubmitJob']?.post).toBeDefined();
    expect(doc.paths['/jobprocessing.v1.JobService/SubmitJobs']?.post).toBeDefined();
    expect(doc.paths['/v1/jobs:batch']?.post?.requestBody).toBeDefined();
  });

  it('documents the submit request per job type of the catalog: a union by type with payload schema and example', async () => {
    const doc = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as OpenApiDoc & {
      components: { schemas: Record<string, { properties: Record<string, unknown>; example?: unknown }> };
    };
    const body = (
      doc.paths['/v1/jobs']?.post as unknown as {
        requestBody: { content: Record<string, { schema: Record<string, unknown> }> };
      }
    ).requestBody.content['application/json']!.schema;
    const submittable = ['demo.sleep', 'backtest.sweep', 'backtest.full', 'text.stats'];
    expect(body).toEqual({
      oneOf: submittable.map((t) => ({ $ref: `#/components/schemas/SubmitJobRequest.${t}` })),
      discriminator: {
        propertyName: 'type',
        mapping: Object.fromEntries(
          submittable.map((t) => [t, `#/components/schemas/SubmitJobRequest.${t}`]),
        ),
      },
    });
    const sleep = doc.components.schemas['SubmitJobRequest.demo.sleep']!;
    expect(Object.keys(sleep.properties)).toEqual([
      'type',
      'payload',
      'priority',
      'runAt',
      'maxAttempts',
      'concurrencyKey',
      'concurrencyLimit',
    ]);
    expect(sleep.properties.type).toEqual({ type: 'string', enum: ['demo.sleep'] });
    expect(sleep.properties.payload).toMatchObject({
      type: 'object',
      properties: { durationMs: { type: 'integer', minimum: 0, maximum: 600000 } },
      required: ['durationMs'],
      additionalProperties: false,
    });
    expect(sleep.example).toEqual({ type: 'demo.sleep', payload: { durationMs: 500, failureRate: 0 } });
    // child-only types are not submittable, so not documented
    expect(doc.components.schemas['SubmitJobRequest.backtest.chunk']).toBeUndefined();
    // the example really is accepted
    const r = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth, 'idempotency-key': newKey() },
      payload: sleep.example as Record<string, unknown>,
    });
    expect(r.statusCode, r.body).toBe(202);
  });

  it('describes the JSON API with schemas generated from the proto', async () => {
    const doc = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as OpenApiDoc;
    const submit = doc.paths['/v1/jobs']?.post as unknown as {
      requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
      responses: Record<
        string,
        {
          content: Record<
            string,
            { schema: { properties: { job: { properties: Record<string, { enum?: string[] }> } } } }
          >;
        }
      >;
      parameters: { in: string; name: string; required: boolean }[];
    };
    const job = submit.responses['2XX']!.content['application/json']!.schema.properties.job.properties;
    expect(job.state?.enum).toContain('JOB_STATE_SUCCEEDED');
    expect(submit.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'idempotency-key', required: true }),
    );
    expect(doc.paths['/v1/jobs/{id}']?.get?.responses).toHaveProperty('404');
  });

  it('validates requests with the generated schemas (problem+json with a stable code)', async () => {
    const r = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth, 'idempotency-key': newKey() },
      payload: { type: 'demo.sleep', priority: 'high' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('REQUEST.INVALID');
    expect(r.json().detail).toMatch(/body\/priority must be integer/); // Ajv, from the generated schema
    // no type coercion: proto3 JSON refuses a bool for an int32
    const coerced = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth, 'idempotency-key': newKey() },
      payload: { type: 'demo.sleep', payload: { durationMs: 1 }, priority: true },
    });
    expect(coerced.statusCode).toBe(400);
    expect(coerced.json().detail).toMatch(/body\/priority must be integer/);
    const ok = await api.app.inject({
      method: 'GET',
      url: '/v1/jobs?state=queued&pageSize=5',
      headers: auth,
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('serves Swagger UI at /docs', async () => {
    const r = await api.app.inject({ method: 'GET', url: '/docs/' });
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatch(/swagger/i);
  });
});
