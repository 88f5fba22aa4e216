/**
 * Public configuration contract of `@jobplane/runtime` (`@jobplane/runtime/config`): the env-var
 * schema, the CLI subcommands, the job-type catalog with its drain contract, and metric names.
 * This is the only module of the runtime that `@jobplane/constructs` may import.
 */
export * from './schema.js';
export * from './job-types.js';
export * from './metric-names.js';
export * from './webhooks.js';
