/**
 * Name rules shared by the SDK (which validates job types and catalogs), the runtime config (which
 * names queues and job types in env vars) and the constructs (which turn queue names into
 * Kubernetes object names and labels).
 */

/**
 * A queue name: a lowercase RFC 1123 label of at most 40 characters, so that derived object names
 * (`jobplane-worker-<queue>`, `jobplane-run-<queue>`) stay within 63 characters.
 */
export const QUEUE_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;

/** A job-type name: lowercase dotted words, e.g. `media.thumbnail` (at most 128 characters). */
export const JOB_TYPE_PATTERN = /^(?=.{1,128}$)[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/;

/** What the runtime config and the constructs need to know of a catalog (a `Catalog` of `@jobplane/sdk` fits). */
export interface CatalogShape {
  readonly jobTypes: readonly {
    readonly type: string;
    readonly queue: string;
    readonly mode: 'pooled' | 'isolated';
    readonly submittable: boolean;
  }[];
}
