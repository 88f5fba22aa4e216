import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  catalogFromModule,
  CatalogLoadError,
  defineCatalog,
  defineJobType,
  drainContract,
  isCatalog,
  JobTypeDefinitionError,
  loadCatalog,
} from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const empty = z.object({});
const noop = async () => async () => ({});
const jt = (type: string, queue: string, extra: Record<string, unknown> = {}) =>
  defineJobType({ type, queue, timeoutSeconds: 60, payload: empty, load: noop, ...extra });

describe('defineCatalog', () => {
  it("puts the types' agreed fairness and queue cap on the queue", () => {
    const c = defineCatalog({
      name: 'acme',
      jobTypes: [
        jt('a.b', 'q', { flow: { fairness: 'client', queueCap: 4 } }),
        jt('a.c', 'q', { flow: { fairness: 'client', queueCap: 4, concurrency: { limit: 1 } } }),
        jt('a.d', 'other'),
      ],
    });
    expect(c.queue('q')).toMatchObject({ fairness: 'client', queueCap: 4 });
    expect(c.queue('other')?.fairness).toBeUndefined();
    expect(c.queue('other')?.queueCap).toBeUndefined();
  });

  const catalog = defineCatalog({
    name: 'acme',
    jobTypes: [
      jt('media.thumbnail', 'media', { timeoutSeconds: 30, concurrency: 4 }),
      jt('media.transcode', 'media', { timeoutSeconds: 600 }),
      jt('report.monthly', 'reports', { mode: 'isolated', timeoutSeconds: 3600 }),
    ],
  });

  it('groups job types into queues', () => {
    expect(catalog.queues()).toEqual([
      {
        name: 'media',
        mode: 'pooled',
        jobTypes: ['media.thumbnail', 'media.transcode'],
        maxJobSeconds: 600,
        concurrency: 4,
      },
      { name: 'reports', mode: 'isolated', jobTypes: ['report.monthly'], maxJobSeconds: 3600 },
    ]);
    expect(catalog.get('media.transcode')?.timeoutSeconds).toBe(600);
    expect(catalog.get('nope')).toBeUndefined();
    expect(catalog.queue('reports')?.mode).toBe('isolated');
    expect(isCatalog(catalog)).toBe(true);
    expect(isCatalog({ ...catalog })).toBe(false);
  });

  it('derives the drain contract per queue from the longest job', () => {
    expect(drainContract(catalog, 'media')).toEqual({
      drainSeconds: 600,
      preStopSeconds: 5,
      terminationGracePeriodSeconds: 620,
      scaleDownStabilizationSeconds: 615,
    });
    expect(drainContract(defineCatalog({ name: 'x', jobTypes: [jt('a.b', 'q')] }), 'q')).toEqual({
      drainSeconds: 60,
      preStopSeconds: 5,
      terminationGracePeriodSeconds: 80,
      scaleDownStabilizationSeconds: 300,
    });
    expect(() => drainContract(catalog, 'video')).toThrow(
      "unknown queue 'video' in catalog 'acme' (known: media, reports)",
    );
  });

  it.each([
    [{ name: 'Acme', jobTypes: [jt('a.b', 'q')] }, 'catalog: \'name\' ("Acme") must be a DNS label'],
    [{ name: 'acme', jobTypes: [] }, "catalog 'acme': 'jobTypes' must be a non-empty array"],
    [
      { name: 'acme', jobTypes: [{ type: 'a.b', queue: 'q' }] },
      "catalog 'acme': 'jobTypes[0]' is not a defineJobType result",
    ],
    [
      { name: 'acme', jobTypes: [jt('a.b', 'q'), jt('a.b', 'r')] },
      "'jobTypes[1].type' ('a.b') is listed twice",
    ],
    [
      { name: 'acme', jobTypes: [jt('a.b', 'q'), jt('a.c', 'q', { mode: 'isolated' })] },
      "queue 'q' mixes execution modes (a.b: pooled, a.c: isolated)",
    ],
    [
      { name: 'acme', jobTypes: [jt('a.b', 'q', { concurrency: 2 }), jt('a.c', 'q', { concurrency: 3 })] },
      "queue 'q' has job types with different 'concurrency' (a.b: 2, a.c: 3)",
    ],
    [
      { name: 'acme', jobTypes: [jt('a.b', 'q', { flow: { fairness: 'client' } }), jt('a.c', 'q')] },
      "queue 'q' has job types with different 'flow.fairness' (a.b: client, a.c: none)",
    ],
    [
      {
        name: 'acme',
        jobTypes: [jt('a.b', 'q', { flow: { queueCap: 2 } }), jt('a.c', 'q', { flow: { queueCap: 3 } })],
      },
      "queue 'q' has job types with different 'flow.queueCap' (a.b: 2, a.c: 3)",
    ],
  ])('rejects %#', (options, message) => {
    expect(() => defineCatalog(options as never)).toThrow(JobTypeDefinitionError);
    expect(() => defineCatalog(options as never)).toThrow(message);
  });
});

describe('catalog modules', () => {
  const catalog = defineCatalog({ name: 'acme', jobTypes: [jt('a.b', 'q')] });

  it('takes the default export or the export catalog', () => {
    expect(catalogFromModule({ default: catalog }, 'm')).toBe(catalog);
    expect(catalogFromModule({ catalog }, 'm')).toBe(catalog);
    expect(() => catalogFromModule({ jobs: [] }, 'm.js')).toThrow(
      "catalog module 'm.js' must export a defineCatalog() result as its default export or as 'catalog' (exports: jobs)",
    );
  });

  it('loads a module by path relative to cwd without loading handler code', async () => {
    const loaded = await loadCatalog('./fixtures/catalog.fixture.js', here);
    expect(loaded.name).toBe('fixture');
    expect(loaded.jobTypes.map((d) => d.type)).toEqual(['fixture.echo']);
    expect((globalThis as { fixtureHandlerLoaded?: boolean }).fixtureHandlerLoaded).toBeUndefined();
    const handler = (await loaded.get('fixture.echo')!.load()) as { default: (p: unknown) => unknown };
    expect((globalThis as { fixtureHandlerLoaded?: boolean }).fixtureHandlerLoaded).toBe(true);
    expect(await handler.default({ x: 1 })).toEqual({ echoed: { x: 1 } });
  });

  it('fails with a message naming the module', async () => {
    await expect(loadCatalog('./fixtures/missing.js', here)).rejects.toThrow(CatalogLoadError);
    await expect(loadCatalog('./fixtures/missing.js', here)).rejects.toThrow(
      "cannot load catalog module './fixtures/missing.js': ",
    );
    await expect(loadCatalog('@acme/not-installed', here)).rejects.toThrow(
      "cannot load catalog module '@acme/not-installed'",
    );
    await expect(loadCatalog('./fixtures/not-a-catalog.fixture.js', here)).rejects.toThrow(
      "catalog module './fixtures/not-a-catalog.fixture.js' must export a defineCatalog() result",
    );
    await expect(loadCatalog('', here)).rejects.toThrow('no catalog module given');
  });
});
