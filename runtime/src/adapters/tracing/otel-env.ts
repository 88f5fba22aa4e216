/**
 * Whether this process exports traces, read from the standard OpenTelemetry variables only
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/):
 * tracing is on when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unless `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none`. Without it no SDK, exporter or instrumentation is loaded: the
 * code's spans go to the no-op API.
 */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.includes('none')) return false;
  const endpoint = (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim();
  return endpoint !== '';
}

/** The `jobplane` subcommand in an argv (`node cli.js api …`), for the default service name. */
export function commandOf(argv: readonly string[]): string | null {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--catalog') i++;
    else if (!a.startsWith('-')) return a;
  }
  return null;
}

/**
 * `OTEL_SERVICE_NAME` when set (the SDK reads it), else `jobplane-<command>` so the api, relay and
 * worker of one deployment show as three services of one trace.
 */
export function defaultServiceName(env: NodeJS.ProcessEnv, argv: readonly string[]): string | undefined {
  if ((env.OTEL_SERVICE_NAME ?? '').trim() !== '') return undefined;
  if (/(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '')) return undefined;
  const cmd = commandOf(argv);
  return cmd ? `jobplane-${cmd}` : 'jobplane';
}
