import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/schema.js';
import { examplesCatalog } from '../../examples-catalog.js';

const base = { DATABASE_URL: 'postgres://u:secretpw@db:5432/app', REDIS_URL: 'redis://r:6379' };

function problems(env: Record<string, string>, command: Parameters<typeof loadConfig>[1]): string[] {
  try {
    loadConfig(env, command, examplesCatalog);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('loadConfig', () => {
  it('applies defaults, including the runtime timing keys', () => {
    const c = loadConfig(base, 'worker');
    expect(c).toMatchObject({
      DATABASE_SCHEMA: 'jobplane',
      QUEUE_PREFIX: 'jobplane',
      WORKER_CONCURRENCY: 10,
      RETRY_BASE_DELAY_MS: 1000,
      RETRY_MAX_DELAY_MS: 60000,
      RECONCILE_GRACE_MS: 10000,
      RELAY_IN_PROCESS: false,
    });
  });

  it('requires what each command needs', () => {
    expect(problems({ DATABASE_URL: base.DATABASE_URL }, 'migrate')).toEqual([]);
    expect(problems(base, 'api')).toContain("JOBPLANE_API_KEYS: required by 'jobplane api'");
    expect(problems(base, 'run-one')).toContain("RUN_ONE_QUEUE: required by 'jobplane run-one'");
  });

  it('refuses unknown JOBPLANE_ variables and bad values without echoing secrets', () => {
    const p = problems(
      { ...base, JOBPLANE_API_KEY: 'x', DATABASE_URL: 'mysql://u:secretpw@db/app', WORKER_QUEUES: 'nope' },
      'worker',
    );
    expect(p.some((x) => x.startsWith('JOBPLANE_API_KEY: unknown variable'))).toBe(true);
    expect(p.some((x) => x.startsWith('DATABASE_URL'))).toBe(true);
    expect(p.join('\n')).not.toContain('secretpw');
    expect(p.some((x) => x.includes("unknown queue 'nope'"))).toBe(true);
  });

  it('parses API keys into a key → client map', () => {
    const c = loadConfig(
      { ...base, JOBPLANE_API_KEYS: 'alice:aaaaaaaaaaaaaaaa, bob:bbbbbbbbbbbbbbbb' },
      'api',
    );
    expect([...(c.JOBPLANE_API_KEYS ?? new Map()).entries()]).toEqual([
      ['aaaaaaaaaaaaaaaa', 'alice'],
      ['bbbbbbbbbbbbbbbb', 'bob'],
    ]);
    expect(problems({ ...base, JOBPLANE_API_KEYS: 'alice:short' }, 'api').length).toBe(1);
  });
});
