/**
 * Name rules shared by the SDK (which validates job types and catalogs), the runtime config (which
 * names queues and job types in env vars) and the constructs (which turn queue names into
 * Kubernetes object names and labels).
 */

/**
 * Longest queue name: the longest object name the constructs derive from a queue,
 * `jobplane-worker-<queue>-metrics` (a Service), must stay within the 63 characters of a DNS label.
 */
export const MAX_QUEUE_NAME_LENGTH = 39;

/** A queue name: a lowercase RFC 1123 label of at most {@link MAX_QUEUE_NAME_LENGTH} characters. */
export const QUEUE_NAME_PATTERN = new RegExp(
  `^[a-z0-9]([-a-z0-9]{0,${MAX_QUEUE_NAME_LENGTH - 2}}[a-z0-9])?$`,
);

/** A job-type name: lowercase dotted words, e.g. `media.thumbnail` (at most 128 characters). */
export const JOB_TYPE_PATTERN = /^(?=.{1,128}$)[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/;

/** What the runtime config and the constructs need to know of a catalog (a `Catalog` of `@jobplane/sdk` fits). */
export interface CatalogShape {
  readonly jobTypes: readonly {
    readonly type: string;
    readonly queue: string;
    readonly mode: 'pooled' | 'isolated' | 'container';
    readonly submittable: boolean;
  }[];
}
