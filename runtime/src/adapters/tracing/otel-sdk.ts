/**
 * The OpenTelemetry Node SDK for one jobplane process, configured by the standard `OTEL_*`
 * variables (exporter protocol, endpoint, headers, sampler, batch sizes, resource attributes).
 * Imported only when tracing is wanted (main/instrument.ts): without an endpoint none of this loads.
 *
 * Traces only: metrics stay on Prometheus (`/metrics`) and logs on stdout, so the SDK's metric
 * and log exporters are switched off whatever `OTEL_METRICS_EXPORTER`/`OTEL_LOGS_EXPORTER` say.
 */
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { defaultServiceName } from './otel-env.js';
import { setTracingShutdown } from './tracing.js';

/** Routes that get no request span (probes and scrapes would drown the traces of jobs). */
const UNTRACED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

export function startTracing(env: NodeJS.ProcessEnv, argv: readonly string[]): NodeSDK {
  const serviceName = defaultServiceName(env, argv);
  const sdk = new NodeSDK({
    ...(serviceName ? { serviceName } : {}),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // Only inside a span: the relay's polls and BullMQ's blocking fetches would each start a trace.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: (route: { url: string }) => UNTRACED_ROUTES.has(route.url),
      }),
    ],
  });
  sdk.start();
  setTracingShutdown(() => sdk.shutdown());
  return sdk;
}
