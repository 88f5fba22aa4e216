/**
 * The constructs take the team's job-type catalog (`defineCatalog` of `@jobplane/sdk`): which
 * queues exist, their execution mode, their longest job (drain contract) and concurrency.
 */
import { isCatalog, type Catalog, type ExecutionMode, type QueueSpec } from '@jobplane/sdk';
import { PropValidationError } from './errors.js';

/** `value` must be a catalog made by `defineCatalog`. */
export function checkCatalog(prop: string, value: unknown): Catalog {
  if (!isCatalog(value)) {
    throw new PropValidationError(
      `'${prop}' (${value === null ? 'null' : typeof value}) must be a catalog made by defineCatalog of @jobplane/sdk`,
    );
  }
  return value;
}

function names(catalog: Catalog, mode: ExecutionMode): string {
  const qs = catalog
    .queues()
    .filter((q) => q.mode === mode)
    .map((q) => q.name);
  return qs.length > 0 ? qs.join(', ') : 'none';
}

/** `queue` must be a queue of `catalog` with execution mode `mode`. */
export function checkQueue(prop: string, catalog: Catalog, queue: string, mode: ExecutionMode): QueueSpec {
  const spec = catalog.queue(queue);
  const shown = typeof queue === 'string' ? `'${queue}'` : String(queue);
  if (!spec) {
    throw new PropValidationError(
      `'${prop}' (${shown}) is not a queue of catalog '${catalog.name}' (${mode} queues: ${names(catalog, mode)})`,
    );
  }
  if (spec.mode !== mode) {
    throw new PropValidationError(
      `'${prop}' (${shown}) is ${spec.mode} in catalog '${catalog.name}', not ${mode} (${mode} queues: ${names(catalog, mode)})`,
    );
  }
  return spec;
}
