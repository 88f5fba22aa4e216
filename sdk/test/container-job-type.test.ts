import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCatalog, defineContainerJobType, defineJobType, imageProblem } from '../src/index.js';

const base = {
  type: 'media.thumbnail',
  queue: 'media-ctr',
  timeoutSeconds: 60,
  payload: z.object({ url: z.string() }),
};

describe('defineContainerJobType', () => {
  it('declares a container job type with defaults', () => {
    const def = defineContainerJobType({ ...base, container: { image: 'ghcr.io/acme/thumbs:1.4.2' } });
    expect(def.mode).toBe('container');
    expect(def.maxAttempts).toBe(3);
    expect(def.container).toEqual({
      image: 'ghcr.io/acme/thumbs:1.4.2',
      ttlSecondsAfterFinished: 3600,
      maxPayloadBytes: 65536,
    });
    expect(Object.isFrozen(def.container)).toBe(true);
    return expect(def.load()).rejects.toThrow(/container job type/);
  });

  it.each([
    ['acme/thumbs', /'container.image' \("acme\/thumbs"\) must be pinned/],
    ['acme/thumbs:latest', /must be pinned/],
    ['Acme/Thumbs:1', /must be an image reference/],
  ])('refuses the image %s', (image, message) => {
    expect(() => defineContainerJobType({ ...base, container: { image } })).toThrow(message);
  });

  it('accepts a digest and a registry with a port', () => {
    expect(imageProblem(`repo@sha256:${'0'.repeat(64)}`)).toBeUndefined();
    expect(imageProblem('registry.local:5000/team/app:2026.1')).toBeUndefined();
  });

  it.each([
    [{ env: { JOBPLANE_X: 'a' } }, /'container.env.JOBPLANE_X'.*reserved/],
    [{ resources: { limits: { memory: 'lots' } } }, /'container.resources.limits.memory' \("lots"\)/],
    [
      { indexed: { completions: 2, parallelism: 3 } },
      /'container.indexed.parallelism' \(3\) must be an integer from 1 to 'indexed.completions' \(2\)/,
    ],
    [{ indexed: { completions: 2, maxFailedIndexes: 1 } }, /needs 'indexed.backoffLimitPerIndex'/],
    [{ nonRetryableExitCodes: [0] }, /'container.nonRetryableExitCodes'/],
    [
      { maxPayloadBytes: 10_000_000 },
      /'container.maxPayloadBytes' \(10000000\) must be an integer from 2 to 262144/,
    ],
    [{ kueueQueueName: 'Team A' }, /'container.kueueQueueName'/],
    [{ imagePullPolicy: 'Always' }, /'container.imagePullPolicy' \("Always"\) is not a known field/],
  ])('names the field and the value: %j', (extra, message) => {
    expect(() =>
      defineContainerJobType({ ...base, container: { image: 'acme/app:1', ...extra } as never }),
    ).toThrow(message);
  });

  it("defineJobType refuses mode 'container' (it has no container spec)", () => {
    expect(() => defineJobType({ ...base, mode: 'container', load: async () => async () => ({}) })).toThrow(
      /defineContainerJobType/,
    );
  });

  it('a catalog keeps container queues apart', () => {
    const ctr = defineContainerJobType({ ...base, container: { image: 'acme/app:1' } });
    expect(defineCatalog({ name: 'media', jobTypes: [ctr] }).queue('media-ctr')?.mode).toBe('container');
    const pooled = defineJobType({ ...base, type: 'media.other', load: async () => async () => ({}) });
    expect(() => defineCatalog({ name: 'media', jobTypes: [ctr, pooled] })).toThrow(/mixes execution modes/);
  });
});
