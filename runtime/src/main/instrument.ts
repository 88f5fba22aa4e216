/**
 * The instrumentation module: loaded before anything else (`node --import
 * @jobplane/runtime/dist/main/instrument.js …`, or first thing by bin/jobplane.js), so pg, ioredis
 * and fastify are patched when the CLI imports them. With no OTLP endpoint configured (or
 * `OTEL_SDK_DISABLED=true`) it does nothing: no SDK, no hooks, the no-op API.
 *
 * ESM needs the import-in-the-middle loader hook (`@opentelemetry/instrumentation/hook.mjs`):
 * require-time patching alone misses modules that `import` loads.
 */
import { register } from 'node:module';
import { tracingWanted } from '../adapters/tracing/otel-env.js';

if (tracingWanted(process.env)) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const { startTracing } = await import('../adapters/tracing/otel-sdk.js');
  startTracing(process.env, process.argv);
}
