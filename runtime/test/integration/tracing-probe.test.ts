/**
 * What the built instrumentation module (dist/, as the image runs it) loads in a fresh node
 * process: with no OTLP endpoint nothing of the SDK or exporter is loaded, and the API stays the
 * no-op; with one, the SDK runs. Child processes: an integration test, not a unit test (loading
 * the SDK takes seconds on a busy machine).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RUNTIME = fileURLToPath(new URL('../..', import.meta.url));
const INSTRUMENT = fileURLToPath(new URL('../../dist/main/instrument.js', import.meta.url));

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
    // Within the project's test timeout, so a hung probe fails with its own message.
    timeout: 25_000,
  });
  if (r.status !== 0) throw new Error(`probe failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ReturnType<typeof probe>;
}

describe('tracing setup in a fresh process', () => {
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
});
