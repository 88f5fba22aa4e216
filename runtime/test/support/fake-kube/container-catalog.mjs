// A catalog of container job types for the launcher tests (plain ESM, so child processes of the
// built CLI can load it with --catalog). The fake kubelet reads `script` from the payload file.
import { defineCatalog, defineContainerJobType } from '@jobplane/sdk';
import { z } from 'zod';

const payload = z.object({
  script: z.array(z.string()).min(1).default(['succeed']),
  value: z.number().optional(),
  /** How long the fake container runs (default: the kubelet's runMs). */
  runMs: z.number().int().min(0).max(60_000).optional(),
});

export const echo = defineContainerJobType({
  type: 'test.echo',
  queue: 'ctr',
  timeoutSeconds: 30,
  maxAttempts: 3,
  backoff: { type: 'fixed', delayMs: 50 },
  payload,
  result: z.object({ echo: z.number().nullable(), attempt: z.number(), index: z.number() }),
  container: {
    image: 'registry.example/echo:1.0.0',
    nonRetryableExitCodes: [3],
    maxPayloadBytes: 1024,
    resources: { limits: { memory: '64Mi' } },
  },
});

export const indexed = defineContainerJobType({
  type: 'test.indexed',
  queue: 'ctr',
  timeoutSeconds: 30,
  maxAttempts: 2,
  backoff: { type: 'fixed', delayMs: 50 },
  payload,
  container: {
    image: 'registry.example/echo:1.0.0',
    indexed: { completions: 3, parallelism: 2, backoffLimitPerIndex: 1, maxFailedIndexes: 0 },
  },
});

export const deadline = defineContainerJobType({
  type: 'test.deadline',
  queue: 'ctr',
  timeoutSeconds: 1,
  maxAttempts: 1,
  payload,
  container: { image: 'registry.example/echo@sha256:' + 'a'.repeat(64) },
});

export const catalog = defineCatalog({ name: 'container-tests', jobTypes: [echo, indexed, deadline] });
export default catalog;
