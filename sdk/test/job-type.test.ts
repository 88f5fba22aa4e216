import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  childJob,
  defineJobType,
  isJobType,
  JobTypeDefinitionError,
  payloadJsonSchema,
  validatePayload,
  type PayloadInputOf,
  type PayloadOf,
  type ResultOf,
} from '../src/index.js';

const payload = z.strictObject({ url: z.string(), width: z.int().min(1).max(4096).default(256) });
const result = z.object({ bytes: z.int() });
const base = {
  type: 'media.thumbnail',
  queue: 'media',
  timeoutSeconds: 30,
  payload,
  result,
  load: async () => ({ default: async () => ({ bytes: 1 }) }),
};

describe('defineJobType', () => {
  it('keeps a validated flow with its defaults filled in', () => {
    const def = defineJobType({
      ...base,
      flow: {
        concurrency: { limit: 3, key: 'payload.url' },
        queueCap: 10,
        rateLimit: { limit: 10, intervalMs: 1000 },
        fairness: 'client',
      },
    });
    expect(def.flow).toEqual({
      concurrency: { limit: 3, key: 'payload.url' },
      queueCap: 10,
      rateLimit: { limit: 10, intervalMs: 1000, key: 'type' },
      fairness: 'client',
    });
    expect(defineJobType({ ...base, flow: { concurrency: { limit: 1 } } }).flow).toEqual({
      concurrency: { limit: 1, key: 'type' },
    });
    expect(defineJobType(base).flow).toBeUndefined();
  });

  it('applies defaults and keeps the data', () => {
    const def = defineJobType(base);
    expect(def).toMatchObject({
      type: 'media.thumbnail',
      queue: 'media',
      mode: 'pooled',
      timeoutSeconds: 30,
      maxAttempts: 3,
      submittable: true,
    });
    expect(def.backoff).toBeUndefined();
    expect(Object.isFrozen(def)).toBe(true);
    expect(isJobType(def)).toBe(true);
    expect(isJobType({ ...def })).toBe(false);
  });

  it('types payload, input and result from the schemas', () => {
    const def = defineJobType(base);
    const p: PayloadOf<typeof def> = { url: 'u', width: 3 };
    const i: PayloadInputOf<typeof def> = { url: 'u' };
    const r: ResultOf<typeof def> = { bytes: 2 };
    expect(def.payload.parse(i)).toEqual({ url: 'u', width: 256 });
    expect([p, r]).toHaveLength(2);
    // @ts-expect-error width is required after parsing
    const missing: PayloadOf<typeof def> = { url: 'u' };
    expect(missing).toBeDefined();
  });

  it.each([
    [{ type: 'Media.Thumb' }, '\'type\' ("Media.Thumb") must be lowercase dotted'],
    [{ type: 'media..thumb' }, '\'type\' ("media..thumb") must be lowercase dotted'],
    [{ type: `a.${'b'.repeat(130)}` }, 'must be at most 128 characters'],
    [{ queue: 'Media' }, '\'queue\' ("Media") must be a DNS label'],
    [{ queue: 'media-' }, '\'queue\' ("media-") must be a DNS label'],
    [{ queue: 'q'.repeat(40) }, 'must be at most 39 characters'],
    [{ mode: 'batch' }, "'mode' (\"batch\") must be one of 'pooled', 'isolated'"],
    [{ timeoutSeconds: 0 }, "'timeoutSeconds' (0) must be an integer from 1 to 86400"],
    [{ timeoutSeconds: 1.5 }, "'timeoutSeconds' (1.5) must be an integer"],
    [{ maxAttempts: 101 }, "'maxAttempts' (101) must be an integer from 1 to 100"],
    [{ concurrency: 0 }, "'concurrency' (0) must be an integer from 1 to 1000"],
    [{ submittable: 'yes' }, '\'submittable\' ("yes") must be a boolean'],
    [{ payload: { type: 'object' } }, '\'payload\' ({"type":"object"}) must be a zod schema'],
    [{ result: 42 }, "'result' (42) must be a zod schema"],
    [{ load: './handler.js' }, '\'load\' ("./handler.js") must be a function'],
    [{ backoff: { type: 'linear', delayMs: 1 } }, '\'backoff.type\' ("linear") must be one of'],
    [{ backoff: { type: 'fixed', delayMs: -1 } }, "'backoff.delayMs' (-1) must be an integer from 0"],
    [
      { backoff: { type: 'fixed', delayMs: 5, maxDelayMs: 9 } },
      "'backoff.maxDelayMs' (9) applies to 'exponential' only",
    ],
    [
      { backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 100 } },
      "'backoff.maxDelayMs' (100) must be an integer from 'backoff.delayMs' (500)",
    ],
    [
      { backoff: { type: 'fixed', delayMs: 1, jitter: true } },
      "'backoff.jitter' (true) is not a known field",
    ],
    [{ example: { url: 3 } }, "'example' ({\"url\":3}) does not match 'payload': url:"],
    [{ flow: 3 }, "'flow' (3) must be an object"],
    [
      { flow: { concurrency: { limit: 0 } } },
      "'flow.concurrency.limit' (0) must be an integer from 1 to 100000",
    ],
    [{ flow: { concurrency: { limit: -2 } } }, "'flow.concurrency.limit' (-2) must be an integer"],
    [{ flow: { concurrency: { limit: 1.5 } } }, "'flow.concurrency.limit' (1.5) must be an integer"],
    [
      { flow: { concurrency: { limit: 2, key: 'tenant' } } },
      "'flow.concurrency.key' (\"tenant\") must be 'type', 'client' or a payload field path like 'payload.tenantId'",
    ],
    [
      { flow: { concurrency: { limit: 2, key: 'payload.' } } },
      "'flow.concurrency.key' (\"payload.\") must be 'type', 'client' or a payload field path",
    ],
    [{ flow: { concurrency: { limit: 2, max: 3 } } }, "'flow.concurrency.max' (3) is not a known field"],
    [{ flow: { queueCap: 0 } }, "'flow.queueCap' (0) must be an integer from 1 to 100000"],
    [
      { flow: { rateLimit: { limit: 0, intervalMs: 1000 } } },
      "'flow.rateLimit.limit' (0) must be an integer",
    ],
    [
      { flow: { rateLimit: { limit: 10, intervalMs: 0 } } },
      "'flow.rateLimit.intervalMs' (0) must be an integer from 1 to 86400000",
    ],
    [
      { flow: { rateLimit: { limit: 10, intervalMs: 1000, key: 'tenant' } } },
      "'flow.rateLimit.key' (\"tenant\") must be one of 'type', 'client', 'concurrencyKey'",
    ],
    [{ flow: { fairness: 'weighted' } }, "'flow.fairness' (\"weighted\") must be 'client'"],
    [{ flow: { burst: 1 } }, "'flow.burst' (1) is not a known field"],
    [{ mode: 'isolated', flow: { queueCap: 2 } }, "'flow' ({\"queueCap\":2}) applies to mode 'pooled' only"],
  ])('rejects %j naming the field and the value', (patch, message) => {
    expect(() => defineJobType({ ...base, ...(patch as object) } as typeof base)).toThrow(
      JobTypeDefinitionError,
    );
    expect(() => defineJobType({ ...base, ...(patch as object) } as typeof base)).toThrow(message);
  });

  it('checks the example against the cross-field checks too', () => {
    expect(() =>
      defineJobType({
        ...base,
        example: { url: 'x', width: 2 },
        checks: (p) => (p.width % 2 === 0 ? [`'width' (${p.width}) must be odd`] : []),
      }),
    ).toThrow('\'example\' ({"url":"x","width":2}) does not pass \'checks\': \'width\' (2) must be odd');
  });

  it('normalizes backoff', () => {
    expect(defineJobType({ ...base, backoff: { type: 'exponential', delayMs: 200 } }).backoff).toEqual({
      type: 'exponential',
      delayMs: 200,
      maxDelayMs: 60_000,
    });
    expect(defineJobType({ ...base, backoff: { type: 'fixed', delayMs: 200 } }).backoff).toEqual({
      type: 'fixed',
      delayMs: 200,
    });
  });

  it('does not call load', () => {
    let loads = 0;
    defineJobType({
      ...base,
      load: async () => {
        loads++;
        return async () => ({ bytes: 0 });
      },
    });
    expect(loads).toBe(0);
  });
});

describe('validatePayload', () => {
  const def = defineJobType({
    ...base,
    checks: (p) => (p.url.startsWith('https://') ? [] : [`'url' (${JSON.stringify(p.url)}) must be https`]),
  });

  it('applies defaults', () => {
    expect(validatePayload(def, { url: 'https://x' })).toEqual({
      ok: true,
      value: { url: 'https://x', width: 256 },
    });
  });

  it('names the field and the value', () => {
    expect(validatePayload(def, { url: 'https://x', width: 0 })).toEqual({
      ok: false,
      problems: ["'width' (0) must be ≥ 1"],
    });
    expect(validatePayload(def, { url: 'https://x', extra: 1 })).toEqual({
      ok: false,
      problems: ["unknown field 'extra'"],
    });
    expect(validatePayload(def, {})).toEqual({ ok: false, problems: ["'url' is required (string)"] });
  });

  it('runs the checks on a well-typed payload only', () => {
    expect(validatePayload(def, { url: 'http://x' })).toEqual({
      ok: false,
      problems: ['\'url\' ("http://x") must be https'],
    });
  });
});

describe('childJob', () => {
  it('builds a typed child', () => {
    const def = defineJobType(base);
    expect(childJob(def, { url: 'https://x' })).toEqual({
      type: 'media.thumbnail',
      payload: { url: 'https://x' },
    });
    // @ts-expect-error url must be a string
    expect(childJob(def, { url: 3 }).type).toBe('media.thumbnail');
  });
});

describe('payloadJsonSchema', () => {
  it('gives the JSON Schema of what a client submits (defaults optional), for OpenAPI 3.0', () => {
    const def = defineJobType(base);
    expect(payloadJsonSchema(def)).toEqual({
      type: 'object',
      properties: {
        url: { type: 'string' },
        width: { type: 'integer', minimum: 1, maximum: 4096, default: 256 },
      },
      required: ['url'],
      additionalProperties: false,
    });
  });
});

describe('defineJobType view', () => {
  it('keeps a view loader and refuses one that is not a function, naming the field', async () => {
    const { defineJobType, resultViewBuilderOf } = await import('../src/index.js');
    const { z } = await import('zod');
    const base = {
      type: 'a.b',
      queue: 'q',
      timeoutSeconds: 1,
      payload: z.object({}),
      load: async () => async () => ({}),
    };
    const view = () => Promise.resolve({ default: () => ({ title: 't', panels: [] }) });
    expect(defineJobType({ ...base, view }).view).toBe(view);
    expect(defineJobType(base).view).toBeUndefined();
    expect(() => defineJobType({ ...base, view: 'x' as never })).toThrow(
      /job type 'a.b': 'view' \("x"\) must be a function/,
    );
    expect(resultViewBuilderOf(await view())({ type: 'a.b', payload: {}, result: {}, children: [] })).toEqual(
      { title: 't', panels: [] },
    );
    expect(() => resultViewBuilderOf({} as never)).toThrow(/must export a function/);
  });
});
