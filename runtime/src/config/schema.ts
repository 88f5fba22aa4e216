/**
 * The runtime's env-var schema lives in `@jobplane/sdk/contract` (shared with the constructs).
 * Queue and job-type names in the config are checked against the loaded catalog at boot
 * (`checkConfigAgainstCatalog`, called by `jobplane` once `--catalog` / JOBPLANE_CATALOG is loaded).
 */
export * from '@jobplane/sdk/contract';
