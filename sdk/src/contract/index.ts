/**
 * `@jobplane/sdk/contract`: what the constructs (and any tool) must know about the `jobplane`
 * image without depending on the runtime: the env-var schema and its loader, the CLI subcommands,
 * the metric names and label values, and the name rules for queues and job types.
 */
export * from './names.js';
export * from './schema.js';
export * from './metric-names.js';
export * from './webhooks.js';
