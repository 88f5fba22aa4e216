import { defineCatalog, defineJobType, fanOut } from '@jobplane/sdk';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  catalogSpecifier,
  jobCatalogOf,
  lazyHandlerRegistry,
  loadRuntimeCatalog,
  parseArgs,
  submittableTypes,
} from '../../../src/main/catalog.js';
import type { HandlerContext } from '../../../src/ports/job-handler.port.js';
import { EXAMPLES_CATALOG_MODULE } from '../../examples-catalog.js';

const ctx = {} as HandlerContext;

describe('catalog arguments', () => {
  it('splits --catalog off the command line, in both forms', () => {
    expect(parseArgs(['worker', '--catalog', './c.js'])).toEqual({ rest: ['worker'], catalog: './c.js' });
    expect(parseArgs(['--catalog=@acme/jobs', 'api'])).toEqual({ rest: ['api'], catalog: '@acme/jobs' });
    expect(parseArgs(['relay'])).toEqual({ rest: ['relay'] });
    expect(parseArgs(['api', '--catalog'])).toMatchObject({ problem: '--catalog needs a module' });
  });

  it('prefers the flag over JOBPLANE_CATALOG', () => {
    expect(catalogSpecifier('./a.js', './b.js')).toBe('./a.js');
    expect(catalogSpecifier(undefined, ' ./b.js ')).toBe('./b.js');
    expect(catalogSpecifier(undefined, '  ')).toBeUndefined();
  });

  it('says what to do when no catalog is given, and loads one by path', async () => {
    await expect(loadRuntimeCatalog(undefined)).rejects.toThrow(
      'no job-type catalog: pass --catalog <module> or set JOBPLANE_CATALOG',
    );
    expect((await loadRuntimeCatalog(EXAMPLES_CATALOG_MODULE)).name).toBe('examples');
  });
});

describe('the catalog as the runtime sees it', () => {
  let loads = 0;
  const echo = defineJobType({
    type: 'test.echo',
    queue: 'q',
    timeoutSeconds: 5,
    backoff: { type: 'fixed', delayMs: 10 },
    payload: z.object({ n: z.int().default(1) }),
    result: z.object({ n: z.int() }),
    load: async () => {
      loads++;
      return { default: async (p: { n: number }) => ({ n: p.n }) };
    },
  });
  const wrong = defineJobType({
    type: 'test.wrong',
    queue: 'q',
    timeoutSeconds: 5,
    submittable: false,
    payload: z.object({}),
    result: z.object({ n: z.int() }),
    load: async () => async () => ({ n: 'one' }) as unknown as { n: number },
  });
  const scalar = defineJobType({
    type: 'test.scalar',
    queue: 'q',
    timeoutSeconds: 5,
    payload: z.object({}),
    load: async () => async () => 42 as unknown as Record<string, unknown>,
  });
  const broken = defineJobType({
    type: 'test.broken',
    queue: 'q',
    timeoutSeconds: 5,
    payload: z.object({}),
    load: () => Promise.reject(new Error("Cannot find package 'sharp'")),
  });
  const parentless = defineJobType({
    type: 'test.fans',
    queue: 'q',
    timeoutSeconds: 5,
    payload: z.object({}),
    load: async () => async () => fanOut([{ type: 'test.echo', payload: {} }]),
  });
  const catalog = defineCatalog({ name: 'test', jobTypes: [echo, wrong, scalar, broken, parentless] });

  it('validates payloads with the schemas and never loads handlers for it', () => {
    const info = jobCatalogOf(catalog)('test.echo');
    expect(info).toMatchObject({ queue: 'q', mode: 'pooled', backoff: { type: 'fixed', delayMs: 10 } });
    expect(info?.parsePayload({})).toEqual({ ok: true, value: { n: 1 } });
    expect(info?.parsePayload({ n: 'x' })).toEqual({
      ok: false,
      problems: ['\'n\' ("x") must be a number'],
    });
    expect(jobCatalogOf(catalog)('nope')).toBeUndefined();
    expect(submittableTypes(catalog)).toEqual(['test.echo', 'test.scalar', 'test.broken', 'test.fans']);
    expect(loads).toBe(0);
  });

  it('loads a handler once, on first use, and checks its results', async () => {
    const registry = lazyHandlerRegistry(catalog);
    expect(registry.get('nope')).toBeUndefined();
    const h = await registry.get('test.echo');
    await registry.get('test.echo');
    expect(loads).toBe(1);
    expect(await h?.run({ n: 3 }, ctx)).toEqual({ n: 3 });
    await expect((await registry.get('test.wrong'))?.run({}, ctx)).rejects.toMatchObject({
      name: 'UnrecoverableJobError',
      code: 'HANDLER.RESULT_INVALID',
      message: "the result of 'test.wrong' does not match its result schema: 'n' (\"one\") must be a number",
    });
    await expect((await registry.get('test.scalar'))?.run({}, ctx)).rejects.toMatchObject({
      code: 'HANDLER.RESULT_INVALID',
      message: "the handler of 'test.scalar' returned 42; a result must be a JSON object",
    });
    await expect((await registry.get('test.fans'))?.run({}, ctx)).rejects.toMatchObject({
      code: 'HANDLER.NO_AGGREGATE',
    });
  });

  it('reports a handler that cannot be loaded, and tries again next time', async () => {
    const registry = lazyHandlerRegistry(catalog);
    await expect(registry.get('test.broken')).rejects.toMatchObject({
      code: 'HANDLER.LOAD_FAILED',
      message: "cannot load the handler of job type 'test.broken': Cannot find package 'sharp'",
    });
    await expect(registry.get('test.broken')).rejects.toThrow('Cannot find package');
  });
});
