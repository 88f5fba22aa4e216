/**
 * Container job types: any image, in any language, run as one Kubernetes `batch/v1` Job per
 * attempt. The platform's launcher creates the Job, hands the payload over as a file and reads the
 * result from the container's termination message. See docs/container-jobs.md.
 */
import type { z } from 'zod';
import {
  CONTAINER_SPEC,
  defineJobType,
  JobTypeDefinitionError,
  type BackoffSpec,
  type JobTypeDefinition,
} from './job-type.js';
import type { ContainerSpec } from './container-spec.js';

export type { ContainerResourceList, ContainerSpec, IndexedSpec } from './container-spec.js';

export const DEFAULT_CONTAINER_TTL_SECONDS = 3600;
export const DEFAULT_MAX_PAYLOAD_BYTES = 65_536;
/** A Secret holds at most 1 MiB; the payload stays well below. */
export const MAX_PAYLOAD_BYTES_LIMIT = 262_144;
export const MAX_COMPLETIONS = 10_000;
/** Where the payload file is mounted in the container (`payload.json` inside). */
export const PAYLOAD_MOUNT_PATH = '/var/run/jobplane';
export const PAYLOAD_FILE = `${PAYLOAD_MOUNT_PATH}/payload.json`;
/** Kubernetes reads at most 4096 bytes of the termination message. */
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const MAX_RESULT_BYTES = 4096;

const IMAGE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUANTITY = /^[0-9]+(?:\.[0-9]+)?(?:m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const KNOWN_FIELDS = [
  'image',
  'command',
  'args',
  'env',
  'resources',
  'nonRetryableExitCodes',
  'indexed',
  'ttlSecondsAfterFinished',
  'kueueQueueName',
  'maxPayloadBytes',
];

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function intIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Problem of an image reference, or undefined when it is pinned (a tag other than `latest`, or a digest). */
export function imageProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image.length > 255 || !IMAGE.test(image)) {
    return "must be an image reference such as 'ghcr.io/acme/thumbs:1.4.2' or 'repo@sha256:<64 hex>'";
  }
  const digest = image.includes('@sha256:');
  const lastSegment = image.split('@')[0]!.split('/').pop()!;
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  if (!digest && (tag === undefined || tag === 'latest')) {
    return "must be pinned: a tag other than 'latest' or a digest (an unpinned image changes under a retry)";
  }
  return undefined;
}

/** Validates a container spec; throws a `JobTypeDefinitionError` naming the field and the value. */
export function checkContainerSpec(label: string, spec: unknown): ContainerSpec {
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new JobTypeDefinitionError(`${label}: 'container.${field}' (${show(value)}) ${rule}`);
  };
  if (typeof spec !== 'object' || spec === null) {
    throw new JobTypeDefinitionError(`${label}: 'container' must be an object with at least 'image'`);
  }
  const c = spec as Record<string, unknown>;
  for (const key of Object.keys(c))
    if (!KNOWN_FIELDS.includes(key)) fail(key, c[key], 'is not a known field');
  const img = imageProblem(c.image);
  if (img) fail('image', c.image, img);
  for (const field of ['command', 'args'] as const) {
    const v = c[field];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length > 256 || v.some((x) => typeof x !== 'string' || x.length > 4096)) {
      fail(field, v, 'must be an array of at most 256 strings');
    }
  }
  if (c.env !== undefined) {
    if (typeof c.env !== 'object' || c.env === null || Array.isArray(c.env))
      fail('env', c.env, 'must be an object of strings');
    for (const [k, v] of Object.entries(c.env as Record<string, unknown>)) {
      if (!ENV_NAME.test(k) || k.startsWith('JOBPLANE_')) {
        fail(`env.${k}`, v, "has a name that is not a C identifier or starts with 'JOBPLANE_' (reserved)");
      }
      if (typeof v !== 'string') fail(`env.${k}`, v, 'must be a string');
    }
  }
  if (c.resources !== undefined) {
    const r = c.resources as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) fail('resources', r, 'must be an object');
    for (const [kind, list] of Object.entries(r)) {
      if (kind !== 'requests' && kind !== 'limits') fail(`resources.${kind}`, list, 'is not a known field');
      if (typeof list !== 'object' || list === null) fail(`resources.${kind}`, list, 'must be an object');
      for (const [res, q] of Object.entries(list as Record<string, unknown>)) {
        if (res !== 'cpu' && res !== 'memory')
          fail(`resources.${kind}.${res}`, q, "must be 'cpu' or 'memory'");
        if (typeof q !== 'string' || !QUANTITY.test(q)) {
          fail(`resources.${kind}.${res}`, q, "must be a Kubernetes quantity such as '500m' or '256Mi'");
        }
      }
    }
  }
  if (c.nonRetryableExitCodes !== undefined) {
    const codes = c.nonRetryableExitCodes;
    if (!Array.isArray(codes) || codes.length > 255 || codes.some((x) => !intIn(x, 1, 255))) {
      fail('nonRetryableExitCodes', codes, 'must be an array of integers from 1 to 255');
    }
  }
  if (c.indexed !== undefined) {
    const i = c.indexed as Record<string, unknown>;
    if (typeof i !== 'object' || i === null) fail('indexed', i, 'must be an object with completions');
    for (const key of Object.keys(i)) {
      if (!['completions', 'parallelism', 'backoffLimitPerIndex', 'maxFailedIndexes'].includes(key)) {
        fail(`indexed.${key}`, i[key], 'is not a known field');
      }
    }
    if (!intIn(i.completions, 1, MAX_COMPLETIONS)) {
      fail('indexed.completions', i.completions, `must be an integer from 1 to ${MAX_COMPLETIONS}`);
    }
    const completions = i.completions as number;
    if (i.parallelism !== undefined && !intIn(i.parallelism, 1, completions)) {
      fail(
        'indexed.parallelism',
        i.parallelism,
        `must be an integer from 1 to 'indexed.completions' (${completions})`,
      );
    }
    if (i.backoffLimitPerIndex !== undefined && !intIn(i.backoffLimitPerIndex, 0, 100)) {
      fail('indexed.backoffLimitPerIndex', i.backoffLimitPerIndex, 'must be an integer from 0 to 100');
    }
    if (i.maxFailedIndexes !== undefined) {
      if (i.backoffLimitPerIndex === undefined) {
        fail('indexed.maxFailedIndexes', i.maxFailedIndexes, "needs 'indexed.backoffLimitPerIndex'");
      }
      if (!intIn(i.maxFailedIndexes, 0, completions)) {
        fail(
          'indexed.maxFailedIndexes',
          i.maxFailedIndexes,
          `must be an integer from 0 to 'indexed.completions' (${completions})`,
        );
      }
    }
  }
  if (c.ttlSecondsAfterFinished !== undefined && !intIn(c.ttlSecondsAfterFinished, 0, 604_800)) {
    fail(
      'ttlSecondsAfterFinished',
      c.ttlSecondsAfterFinished,
      'must be an integer from 0 to 604800 (a week)',
    );
  }
  if (
    c.kueueQueueName !== undefined &&
    (typeof c.kueueQueueName !== 'string' || !DNS_LABEL.test(c.kueueQueueName))
  ) {
    fail('kueueQueueName', c.kueueQueueName, 'must be a DNS label (a Kueue LocalQueue name)');
  }
  if (c.maxPayloadBytes !== undefined && !intIn(c.maxPayloadBytes, 2, MAX_PAYLOAD_BYTES_LIMIT)) {
    fail('maxPayloadBytes', c.maxPayloadBytes, `must be an integer from 2 to ${MAX_PAYLOAD_BYTES_LIMIT}`);
  }
  const copy = JSON.parse(JSON.stringify(c)) as ContainerSpec;
  return Object.freeze({
    ...copy,
    ttlSecondsAfterFinished: copy.ttlSecondsAfterFinished ?? DEFAULT_CONTAINER_TTL_SECONDS,
    maxPayloadBytes: copy.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
  });
}

/** Options of `defineContainerJobType`: a job type's data and schemas, plus the container. */
export interface ContainerJobTypeOptions<S extends z.ZodType, RS extends z.ZodType> {
  readonly type: string;
  readonly queue: string;
  /** One attempt's deadline: the Job's `activeDeadlineSeconds`. */
  readonly timeoutSeconds: number;
  /** Attempts: one Kubernetes Job each (default 3). */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffSpec;
  readonly submittable?: boolean;
  readonly description?: string;
  readonly payload: S;
  /** The termination message is checked against it (`HANDLER.RESULT_INVALID` when it does not match). */
  readonly result?: RS;
  readonly example?: z.input<S>;
  readonly checks?: (payload: z.output<S>) => readonly string[];
  readonly container: ContainerSpec;
}

/**
 * Declares a container job type (mode `container`). Validates every field like `defineJobType`,
 * and the container spec (pinned image, env names, quantities, Indexed Job limits).
 */
export function defineContainerJobType<
  S extends z.ZodType,
  RS extends z.ZodType = z.ZodType<Record<string, unknown>>,
>(options: ContainerJobTypeOptions<S, RS>): JobTypeDefinition<z.output<S>, z.output<RS>, z.input<S>> {
  if (typeof options !== 'object' || options === null) {
    throw new JobTypeDefinitionError('defineContainerJobType needs an options object');
  }
  const label = typeof options.type === 'string' ? `job type '${options.type}'` : 'job type';
  const spec = checkContainerSpec(label, (options as { container?: unknown }).container);
  const { container: _container, ...rest } = options;
  return defineJobType<S, RS>({
    ...rest,
    mode: 'container',
    load: () =>
      Promise.reject(
        new Error(
          `job type '${options.type}' is a container job type: the launcher runs it as a Kubernetes Job`,
        ),
      ),
    [CONTAINER_SPEC]: spec,
  } as Parameters<typeof defineJobType<S, RS>>[0]);
}
