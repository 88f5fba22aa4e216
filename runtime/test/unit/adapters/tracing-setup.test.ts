/**
 * The instrumentation module's switch (OTEL_* only), the service names, and one copy of the
 * loader hook. What the built module loads in a fresh process is
 * runtime/test/integration/tracing-probe.test.ts.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commandOf, defaultServiceName, tracingWanted } from '../../../src/adapters/tracing/otel-env.js';

const RUNTIME = fileURLToPath(new URL('../../..', import.meta.url));

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
