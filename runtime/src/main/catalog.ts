/**
 * The user's catalog (`@jobplane/sdk`) as the runtime sees it: loaded from `--catalog <module>` /
 * `JOBPLANE_CATALOG`, turned into the job-type lookup of the use cases (payload validation, no
 * handler code) and into a handler registry that imports each handler on first use.
 */
import {
  CatalogLoadError,
  isFanOut,
  loadCatalog,
  showValue,
  toHandlerObject,
  UnrecoverableJobError,
  validatePayload,
  type AnyJobType,
  type Catalog,
  type JobHandlerObject,
} from '@jobplane/sdk';
import type { JobCatalog, JobTypeFlow, JobTypeInfo } from '../ports/job-catalog.port.js';
import type { HandlerRegistry, JobHandler } from '../ports/job-handler.port.js';

export type { Catalog } from '@jobplane/sdk';

/** Splits `--catalog <module>` / `--catalog=<module>` off the arguments. */
export function parseArgs(argv: readonly string[]): { rest: string[]; catalog?: string; problem?: string } {
  const rest: string[] = [];
  let catalog: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--catalog') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) return { rest, problem: '--catalog needs a module' };
      catalog = value;
      i++;
    } else if (arg.startsWith('--catalog=')) {
      catalog = arg.slice('--catalog='.length);
    } else {
      rest.push(arg);
    }
  }
  return catalog === undefined ? { rest } : { rest, catalog };
}

/** The catalog module a command runs: `--catalog <module>` wins over `JOBPLANE_CATALOG`. */
export function catalogSpecifier(flag: string | undefined, env: string | undefined): string | undefined {
  const value = (flag ?? env)?.trim();
  return value ? value : undefined;
}

/**
 * Loads the catalog module. Throws a `CatalogLoadError` whose message says what to do when none is
 * given, or names the module and the reason when it cannot be loaded or is not a catalog.
 */
export async function loadRuntimeCatalog(
  specifier: string | undefined,
  cwd = process.cwd(),
): Promise<Catalog> {
  if (!specifier) {
    throw new CatalogLoadError(
      'no job-type catalog: pass --catalog <module> or set JOBPLANE_CATALOG (a module path or package whose default export is defineCatalog(...) of @jobplane/sdk)',
    );
  }
  return loadCatalog(specifier, cwd);
}

/** The runtime's view of a validated `flow` (defaults filled in). */
function flowOf(flow: NonNullable<Catalog['jobTypes'][number]['flow']>): JobTypeFlow {
  return {
    ...(flow.concurrency
      ? { concurrency: { limit: flow.concurrency.limit, key: flow.concurrency.key ?? 'type' } }
      : {}),
    ...(flow.queueCap !== undefined ? { queueCap: flow.queueCap } : {}),
    ...(flow.rateLimit
      ? {
          rateLimit: {
            limit: flow.rateLimit.limit,
            intervalMs: flow.rateLimit.intervalMs,
            key: flow.rateLimit.key ?? 'type',
          },
        }
      : {}),
    ...(flow.fairness ? { fairness: flow.fairness } : {}),
  };
}

/** The use cases' job-type lookup: data and payload validation only, never handler code. */
export function jobCatalogOf(catalog: Catalog): JobCatalog {
  const infos = new Map<string, JobTypeInfo>();
  for (const def of catalog.jobTypes) {
    infos.set(def.type, {
      mode: def.mode,
      queue: def.queue,
      timeoutSeconds: def.timeoutSeconds,
      maxAttempts: def.maxAttempts,
      submittable: def.submittable,
      ...(def.backoff ? { backoff: def.backoff } : {}),
      ...(def.flow ? { flow: flowOf(def.flow) } : {}),
      ...(def.container?.maxPayloadBytes !== undefined
        ? { maxPayloadBytes: def.container.maxPayloadBytes }
        : {}),
      parsePayload: (input) => validatePayload(def, input),
    });
  }
  return (type) => infos.get(type);
}

/** Submittable job types, for error messages and the OpenAPI document. */
export function submittableTypes(catalog: Catalog): string[] {
  return catalog.jobTypes.filter((d) => d.submittable).map((d) => d.type);
}

/** Thrown when a job type's `load()` fails or resolves to something that is not a handler. */
export class HandlerLoadError extends Error {
  readonly code = 'HANDLER.LOAD_FAILED';
  constructor(type: string, cause: unknown) {
    super(
      `cannot load the handler of job type '${type}': ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`,
      { cause },
    );
    this.name = 'HandlerLoadError';
  }
}

/**
 * A handler registry over the catalog: each job type's `load()` runs once, the first time a job of
 * that type runs (a failed load is retried on the next job). Results are checked: a plain object,
 * matching the type's `result` schema when it has one (`HANDLER.RESULT_INVALID` otherwise).
 */
export function lazyHandlerRegistry(catalog: Catalog): HandlerRegistry {
  const loaded = new Map<string, Promise<JobHandler>>();
  const load = (def: AnyJobType): Promise<JobHandler> => {
    let p = loaded.get(def.type);
    if (!p) {
      p = (async () => {
        let impl: JobHandlerObject<unknown, unknown>;
        try {
          impl = toHandlerObject(def.type, await def.load());
        } catch (err) {
          throw new HandlerLoadError(def.type, err);
        }
        return wrapHandler(def, impl);
      })();
      loaded.set(def.type, p);
      p.catch(() => loaded.delete(def.type));
    }
    return p;
  };
  return {
    get: (type) => {
      const def = catalog.get(type);
      return def ? load(def) : undefined;
    },
    types: () => catalog.jobTypes.map((d) => d.type),
  };
}

function wrapHandler(def: AnyJobType, impl: JobHandlerObject<unknown, unknown>): JobHandler {
  const check = (output: unknown): unknown => {
    if (output === undefined) return {};
    if (typeof output !== 'object' || output === null || Array.isArray(output)) {
      throw new UnrecoverableJobError(
        `the handler of '${def.type}' returned ${showValue(output)}; a result must be a JSON object`,
        'HANDLER.RESULT_INVALID',
      );
    }
    if (def.result) {
      const parsed = validatePayload({ payload: def.result }, output);
      if (!parsed.ok) {
        throw new UnrecoverableJobError(
          `the result of '${def.type}' does not match its result schema: ${parsed.problems.join('; ')}`,
          'HANDLER.RESULT_INVALID',
        );
      }
    }
    return output;
  };
  const aggregate = impl.aggregate?.bind(impl);
  return {
    type: def.type,
    parsePayload: (input) => validatePayload(def, input),
    run: async (payload, ctx) => {
      const output = await impl.run(payload, ctx);
      if (isFanOut(output)) {
        if (!aggregate) {
          throw new UnrecoverableJobError(
            `job type '${def.type}' fanned out but its handler has no aggregate step`,
            'HANDLER.NO_AGGREGATE',
          );
        }
        return output;
      }
      return check(output);
    },
    ...(aggregate
      ? { aggregate: async (payload, children, ctx) => check(await aggregate(payload, children, ctx)) }
      : {}),
  };
}
