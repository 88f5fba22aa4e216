/**
 * The runtime's configuration: the env-var schema, the CLI subcommands, metric names and webhook
 * sources. All of it is the contract of `@jobplane/sdk/contract`, re-exported for the runtime's
 * own imports; tools and the constructs import `@jobplane/sdk/contract` directly.
 */
export * from './schema.js';
export * from './metric-names.js';
export * from './webhooks.js';
