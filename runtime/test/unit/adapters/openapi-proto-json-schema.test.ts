import { create, toJson, type DescMessage } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ExecutionMode,
  JobEventSchema,
  JobSchema,
  JobState,
  ListJobsRequestSchema,
  ListJobsResponseSchema,
  SubmitJobRequestSchema,
} from '@jobplane/proto';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  messageJsonSchema,
  parametersJsonSchema,
  scalarSchema,
} from '../../../src/adapters/http/edge/proto-json-schema.js';
import { ScalarType } from '@bufbuild/protobuf';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false }));

function strict(desc: DescMessage) {
  // additionalProperties:false everywhere, to prove every emitted field is described
  const tighten = (s: Record<string, unknown>): Record<string, unknown> => {
    if (s.type === 'object' && s.properties) {
      const props = Object.fromEntries(
        Object.entries(s.properties as Record<string, Record<string, unknown>>).map(([k, v]) => [
          k,
          tighten(v),
        ]),
      );
      return { ...s, properties: props, additionalProperties: false };
    }
    if (s.type === 'array' && s.items) return { ...s, items: tighten(s.items as Record<string, unknown>) };
    return s;
  };
  return ajv.compile(tighten(messageJsonSchema(desc)));
}

describe('proto → JSON Schema', () => {
  it('follows the proto3 JSON mapping for Job', () => {
    const s = messageJsonSchema(JobSchema) as { properties: Record<string, Record<string, unknown>> };
    expect(Object.keys(s.properties)).toContain('maxAttempts');
    expect(Object.keys(s.properties)).toContain('idempotencyKey');
    expect(s.properties.state).toEqual({
      type: 'string',
      enum: [
        'JOB_STATE_UNSPECIFIED',
        'JOB_STATE_QUEUED',
        'JOB_STATE_RUNNING',
        'JOB_STATE_SUCCEEDED',
        'JOB_STATE_FAILED',
        'JOB_STATE_DEAD_LETTERED',
        'JOB_STATE_CANCELLED',
      ],
    });
    expect(s.properties.createTime).toEqual({ type: 'string', format: 'date-time' });
    expect(s.properties.payload).toEqual({ type: 'object', additionalProperties: true });
    expect(s.properties.priority).toMatchObject({ type: 'integer', maximum: 2147483647 });
    expect(
      (s.properties.progress as { properties: Record<string, unknown> }).properties.percent,
    ).toMatchObject({
      type: 'integer',
      minimum: 0,
    });
  });

  it('maps 64-bit integers to strings, bytes to base64 and floats to numbers', () => {
    expect(scalarSchema(ScalarType.INT64)).toMatchObject({ type: 'string', pattern: '^-?[0-9]+$' });
    expect(scalarSchema(ScalarType.UINT64)).toMatchObject({ type: 'string', pattern: '^[0-9]+$' });
    expect(scalarSchema(ScalarType.BYTES)).toEqual({ type: 'string', format: 'byte' });
    expect(scalarSchema(ScalarType.DOUBLE)).toMatchObject({ type: 'number' });
    expect(scalarSchema(ScalarType.BOOL)).toEqual({ type: 'boolean' });
  });

  it('describes exactly what toJson emits (every field, nothing extra)', () => {
    const job = create(JobSchema, {
      id: 'a5b0d1c2-0000-4000-8000-000000000001',
      type: 'demo.sleep',
      payload: { seconds: 1, nested: { a: [1, 'x'] } },
      state: JobState.FAILED,
      priority: -3,
      runAt: timestampFromDate(new Date()),
      attempts: 2,
      maxAttempts: 3,
      progress: { percent: 40, message: 'half' },
      result: { ok: true },
      error: { code: 'HANDLER.FAILED', message: 'x', retryable: true },
      mode: ExecutionMode.ISOLATED,
      queue: 'default',
      idempotencyKey: 'k',
      parentId: 'p',
      createTime: timestampFromDate(new Date()),
      updateTime: timestampFromDate(new Date()),
      startTime: timestampFromDate(new Date()),
      finishTime: timestampFromDate(new Date()),
    });
    const validate = strict(JobSchema);
    expect(validate(toJson(JobSchema, job)), JSON.stringify(validate.errors)).toBe(true);
    const list = create(ListJobsResponseSchema, { jobs: [job], nextPageToken: 'n' });
    expect(strict(ListJobsResponseSchema)(toJson(ListJobsResponseSchema, list))).toBe(true);
    const ev = create(JobEventSchema, { id: '12', jobId: 'j', toState: JobState.QUEUED, details: { a: 1 } });
    expect(strict(JobEventSchema)(toJson(JobEventSchema, ev))).toBe(true);
    // and refuses what the mapping forbids
    expect(validate({ state: 4 })).toBe(false);
    expect(validate({ createTime: 'yesterday' })).toBe(false);
    expect(validate({ priority: 1.5 })).toBe(false);
  });

  it('accepts a SubmitJobRequest in JSON form', () => {
    const validate = ajv.compile(messageJsonSchema(SubmitJobRequestSchema));
    expect(
      validate({
        type: 'demo.sleep',
        payload: { seconds: 1 },
        runAt: '2026-01-01T00:00:00Z',
        maxAttempts: 2,
      }),
    ).toBe(true);
    expect(validate({ type: 7 })).toBe(false);
  });

  it('builds URL parameter schemas with enum aliases, and refuses non-scalar or unknown fields', () => {
    const q = parametersJsonSchema(ListJobsRequestSchema, ['state', 'pageSize'], {
      enumAliases: (_d, name) => [name.replace(/^JOB_STATE_/, '').toLowerCase()],
    }) as { properties: Record<string, { enum?: string[] }> };
    expect(Object.keys(q.properties)).toEqual(['state', 'pageSize']);
    expect(q.properties.state?.enum).toContain('queued');
    expect(q.properties.state?.enum).toContain('JOB_STATE_QUEUED');
    expect(q.properties.pageSize).toEqual({ type: 'string', pattern: '^-?[0-9]+$', format: 'int32' });
    expect(() => parametersJsonSchema(ListJobsRequestSchema, ['nope'])).toThrow(/has no field\(s\) nope/);
    expect(() => parametersJsonSchema(SubmitJobRequestSchema, ['payload'])).toThrow(
      /cannot be a URL parameter/,
    );
  });
});
