import { defineConfig } from 'vitest/config';

/**
 * One vitest run for the whole repo; each workspace is a project.
 * Integration and e2e tests use the real PostgreSQL and Redis (see README) and isolate themselves
 * with their own schema and queue prefix.
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'proto', include: ['proto/test/**/*.test.ts'] } },
      { test: { name: 'sdk', include: ['sdk/test/**/*.test.ts'] } },
      { test: { name: 'examples', include: ['examples/test/**/*.test.ts'] } },
      { test: { name: 'runtime-unit', include: ['runtime/test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'runtime-integration',
          include: ['runtime/test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'runtime-e2e',
          include: ['runtime/test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'runtime-faults',
          include: ['runtime/test/faults/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      { test: { name: 'infra', include: ['infra/test/**/*.test.ts'], testTimeout: 60_000 } },
      {
        test: {
          name: 'stacks',
          include: ['stacks/test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      { test: { name: 'repo', include: ['test/**/*.test.ts'], testTimeout: 120_000 } },
    ],
    coverage: {
      provider: 'v8',
      include: [
        'sdk/src/**/*.ts',
        'examples/src/**/*.ts',
        'runtime/src/**/*.ts',
        'infra/src/**/*.ts',
        'stacks/src/**/*.ts',
      ],
      exclude: ['**/*.d.ts', '**/dist/**'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: {
        'sdk/src/**': { lines: 80 },
        'examples/src/**': { lines: 80 },
        'runtime/src/**': { lines: 80 },
        'infra/src/**': { lines: 80 },
        'stacks/src/**': { lines: 80 },
      },
    },
  },
});
