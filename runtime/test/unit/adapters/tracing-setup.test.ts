/**
 * The instrumentation module's switch (OTEL_* only) and what it loads: with no OTLP endpoint
 * nothing of the SDK or exporter is loaded, and the API stays the no-op; with one, the SDK runs.
 * Child processes run the built module (dist/), as the image does.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commandOf, defaultServiceName, tracingWanted } from '../../../src/adapters/tracing/otel-env.js';

const RUNTIME = fileURLToPath(new URL('../../..', import.meta.url));
const INSTRUMENT = fileURLToPath(new URL('../../../dist/main/instrument.js', import.meta.url));

/** Imports the instrumentation module in a fresh node and reports what it loaded. */
function probe(env: Record<string, string>): { otelModules: string[]; recording: boolean; active: boolean } {
  const code = `
    const { createRequire } = await import('node:module');
    const req = createRequire(${JSON.stringify(`${RUNTIME}/package.json`)});
    const api = await import(req.resolve('@opentelemetry/api'));
    const tracing = await import(${JSON.stringify(`${RUNTIME}/dist/adapters/tracing/tracing.js`)});
    const span = api.trace.getTracer('probe').startSpan('probe');
    const otelModules = Object.keys(req.cache).filter((k) => /@opentelemetry[\\\\/](sdk-|exporter-)/.test(k));
    console.log(JSON.stringify({ otelModules, recording: span.isRecording(), active: tracing.tracingActive() }));
    await tracing.shutdownTracing(1000);
  `;
  const r = spawnSync(process.execPath, ['--import', INSTRUMENT, '--input-type=module', '-e', code], {
    cwd: RUNTIME,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`probe failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ReturnType<typeof probe>;
}

describe('tracing setup', () => {
  it('is on only with an OTLP endpoint, and off when disabled or the exporter is none', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_SERVICE_NAME: 'x' })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBe(
      false,
    );
    expect(
      tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBe(false);
  });

  it('names the service after the command unless OTEL_SERVICE_NAME or service.name is set', () => {
    expect(commandOf(['node', 'cli.js', '--catalog', 'mod', 'worker'])).toBe('worker');
    expect(defaultServiceName({}, ['node', 'cli.js', 'relay'])).toBe('jobplane-relay');
    expect(defaultServiceName({}, ['node', 'cli.js'])).toBe('jobplane');
    expect(defaultServiceName({ OTEL_SERVICE_NAME: 'mine' }, ['node', 'cli.js', 'api'])).toBeUndefined();
    expect(
      defaultServiceName({ OTEL_RESOURCE_ATTRIBUTES: 'team=a,service.name=mine' }, ['node', 'cli.js', 'api']),
    ).toBeUndefined();
  });

  it('creates no SDK and no exporter when no endpoint is configured', () => {
    const off = probe({});
    expect(off).toEqual({ otelModules: [], recording: false, active: false });
    const disabled = probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' });
    expect(disabled).toEqual({ otelModules: [], recording: false, active: false });
  });

  it('runs the SDK with the OTLP exporter when an endpoint is configured', () => {
    const on = probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(on.active).toBe(true);
    expect(on.recording).toBe(true);
    expect(on.otelModules.some((m) => m.includes('sdk-node'))).toBe(true);
    expect(on.otelModules.some((m) => /exporter-trace-otlp/.test(m))).toBe(true);
  });

  it('resolves one copy of import-in-the-middle for the loader hook and every instrumentation', () => {
    // Two copies keep two hook registries: the hook wraps modules for one, the instrumentations
    // register with the other, and ESM-imported modules (ioredis) are never patched.
    const fromRuntime = createRequire(`${RUNTIME}/package.json`);
    const iitmOf = (pkgDir: string) =>
      createRequire(
        createRequire(`${pkgDir}/package.json`).resolve('@opentelemetry/instrumentation'),
      ).resolve('import-in-the-middle');
    const hook = iitmOf(RUNTIME);
    for (const pkg of [
      '@opentelemetry/instrumentation-ioredis',
      '@opentelemetry/instrumentation-pg',
      '@fastify/otel',
      '@opentelemetry/sdk-node',
    ]) {
      expect(iitmOf(dirname(fromRuntime.resolve(`${pkg}/package.json`))), pkg).toBe(hook);
    }
  });
});
