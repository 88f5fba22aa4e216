/**
 * `defineCatalog`: the job types one team runs, grouped, and the queues they imply. A catalog is
 * the one source of truth of the API (validation, OpenAPI), the workers (handler registry),
 * `run-one` and the constructs (worker pools, scalers, isolated Job templates, drain contract).
 */
import { isJobType, JobTypeDefinitionError, type AnyJobType, type ExecutionMode } from './job-type.js';

/** One queue: its mode, its job types and its longest job. A queue never mixes modes. */
export interface QueueSpec {
  readonly name: string;
  readonly mode: ExecutionMode;
  readonly jobTypes: readonly string[];
  /** Longest `timeoutSeconds` of the queue's job types. */
  readonly maxJobSeconds: number;
  /** Per-worker concurrency declared by the queue's job types (they must agree). */
  readonly concurrency?: number;
  /** `client` when the queue's job types declare `flow.fairness` (they must agree). */
  readonly fairness?: 'client';
  /** The queue's `flow.queueCap` (its job types must agree). */
  readonly queueCap?: number;
}

export interface Catalog {
  /** DNS-label-like name of the catalog (e.g. the team or product). */
  readonly name: string;
  readonly jobTypes: readonly AnyJobType[];
  get(type: string): AnyJobType | undefined;
  /** Every queue, in order of first appearance. */
  queues(): readonly QueueSpec[];
  queue(name: string): QueueSpec | undefined;
}

const CATALOG_BRAND = Symbol.for('jobplane.catalog');
export const CATALOG_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
export const MAX_CATALOG_NAME_LENGTH = 63;

export interface CatalogOptions {
  readonly name: string;
  readonly jobTypes: readonly AnyJobType[];
}

/**
 * Groups job types. Throws a `JobTypeDefinitionError` naming the field and the value when the name
 * is invalid, a type is listed twice, an entry is not a `defineJobType` result, a queue mixes
 * execution modes, or a queue's job types declare different concurrencies.
 */
export function defineCatalog(options: CatalogOptions): Catalog {
  const { name, jobTypes } = options ?? ({} as CatalogOptions);
  const label = `catalog '${String(name)}'`;
  if (typeof name !== 'string' || !CATALOG_NAME_PATTERN.test(name) || name.length > MAX_CATALOG_NAME_LENGTH) {
    throw new JobTypeDefinitionError(
      `catalog: 'name' (${JSON.stringify(name)}) must be a DNS label of at most ${MAX_CATALOG_NAME_LENGTH} characters (lowercase letters, digits, '-')`,
    );
  }
  if (!Array.isArray(jobTypes) || jobTypes.length === 0) {
    throw new JobTypeDefinitionError(
      `${label}: 'jobTypes' must be a non-empty array of defineJobType results`,
    );
  }
  const byType = new Map<string, AnyJobType>();
  jobTypes.forEach((def: unknown, i) => {
    if (!isJobType(def)) {
      throw new JobTypeDefinitionError(`${label}: 'jobTypes[${i}]' is not a defineJobType result`);
    }
    if (byType.has(def.type)) {
      throw new JobTypeDefinitionError(`${label}: 'jobTypes[${i}].type' ('${def.type}') is listed twice`);
    }
    byType.set(def.type, def);
  });
  const queues = buildQueues(label, [...byType.values()]);
  const byQueue = new Map(queues.map((q) => [q.name, q]));
  const catalog: Catalog = {
    name,
    jobTypes: Object.freeze([...byType.values()]),
    get: (type) => byType.get(type),
    queues: () => queues,
    queue: (q) => byQueue.get(q),
  };
  Object.defineProperty(catalog, CATALOG_BRAND, { value: 1 });
  return Object.freeze(catalog);
}

function buildQueues(label: string, defs: readonly AnyJobType[]): readonly QueueSpec[] {
  const names = [...new Set(defs.map((d) => d.queue))];
  return Object.freeze(
    names.map((queue) => {
      const types = defs.filter((d) => d.queue === queue);
      const modes = [...new Set(types.map((d) => d.mode))];
      if (modes.length !== 1) {
        const detail = types.map((d) => `${d.type}: ${d.mode}`).join(', ');
        throw new JobTypeDefinitionError(
          `${label}: queue '${queue}' mixes execution modes (${detail}); a queue must be all pooled or all isolated`,
        );
      }
      const declared = [
        ...new Set(types.flatMap((d) => (d.concurrency === undefined ? [] : [d.concurrency]))),
      ];
      if (declared.length > 1) {
        const detail = types
          .filter((d) => d.concurrency !== undefined)
          .map((d) => `${d.type}: ${d.concurrency}`)
          .join(', ');
        throw new JobTypeDefinitionError(
          `${label}: queue '${queue}' has job types with different 'concurrency' (${detail}); they share one worker`,
        );
      }
      const agreed = <T>(field: string, of: (d: AnyJobType) => T | undefined): T | undefined => {
        const values = [...new Set(types.map(of))];
        if (values.length > 1) {
          const detail = types.map((d) => `${d.type}: ${String(of(d) ?? 'none')}`).join(', ');
          throw new JobTypeDefinitionError(
            `${label}: queue '${queue}' has job types with different '${field}' (${detail}); they share one queue`,
          );
        }
        return values[0];
      };
      const fairness = agreed('flow.fairness', (d) => d.flow?.fairness);
      const queueCap = agreed('flow.queueCap', (d) => d.flow?.queueCap);
      const spec: QueueSpec = {
        name: queue,
        mode: modes[0] as ExecutionMode,
        jobTypes: Object.freeze(types.map((d) => d.type)),
        maxJobSeconds: Math.max(...types.map((d) => d.timeoutSeconds)),
        ...(declared.length === 1 ? { concurrency: declared[0] as number } : {}),
        ...(fairness ? { fairness } : {}),
        ...(queueCap !== undefined ? { queueCap } : {}),
      };
      return Object.freeze(spec);
    }),
  );
}

/** Whether `value` is a catalog made by `defineCatalog` (of this or another copy of the SDK). */
export function isCatalog(value: unknown): value is Catalog {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CATALOG_BRAND] === 1
  );
}

/**
 * The catalog a module exports: its default export, or its export `catalog`. Throws naming
 * `source` when there is none.
 */
export function catalogFromModule(mod: unknown, source: string): Catalog {
  const m = (mod ?? {}) as { default?: unknown; catalog?: unknown };
  if (isCatalog(m.default)) return m.default;
  if (isCatalog(m.catalog)) return m.catalog;
  const keys = typeof mod === 'object' && mod !== null ? Object.keys(mod).join(', ') : typeof mod;
  throw new CatalogLoadError(
    `catalog module '${source}' must export a defineCatalog() result as its default export or as 'catalog' (exports: ${keys || 'none'})`,
  );
}

/** A catalog module could not be found, imported or recognized. */
export class CatalogLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogLoadError';
  }
}

/**
 * The drain contract of one queue, derived in one place. On SIGTERM a worker stops fetching, aborts
 * nothing until `drainSeconds` have passed (in-flight jobs finish), then aborts and exits.
 * Kubernetes must wait longer than that before SIGKILL.
 */
export interface DrainContract {
  /** In-app drain budget: the longest job on the queue. */
  readonly drainSeconds: number;
  /** Delay in the preStop hook so endpoints/scalers see the pod leaving before SIGTERM. */
  readonly preStopSeconds: number;
  /** `terminationGracePeriodSeconds` = preStop + drain + margin. */
  readonly terminationGracePeriodSeconds: number;
  /** KEDA cooldown / HPA scale-down stabilization: never shorter than one drain. */
  readonly scaleDownStabilizationSeconds: number;
}

export const DRAIN_MARGIN_SECONDS = 15;
export const PRESTOP_SECONDS = 5;

export function drainContract(catalog: Catalog, queue: string): DrainContract {
  const spec = catalog.queue(queue);
  if (!spec) {
    throw new Error(
      `unknown queue '${queue}' in catalog '${catalog.name}' (known: ${catalog
        .queues()
        .map((q) => q.name)
        .join(', ')})`,
    );
  }
  const drainSeconds = spec.maxJobSeconds;
  return {
    drainSeconds,
    preStopSeconds: PRESTOP_SECONDS,
    terminationGracePeriodSeconds: PRESTOP_SECONDS + drainSeconds + DRAIN_MARGIN_SECONDS,
    scaleDownStabilizationSeconds: Math.max(300, drainSeconds + DRAIN_MARGIN_SECONDS),
  };
}
