import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import { examplesCatalog } from '../../examples-catalog.js';

const base = {
  DATABASE_URL: 'postgres://localhost/test',
  REDIS_URL: 'redis://localhost:6379',
  JOBPLANE_API_KEYS: 'c1:0123456789abcdef0123',
};
const whsec = `whsec_${randomBytes(32).toString('base64')}`;

function load(webhooks: unknown) {
  return loadConfig(
    { ...base, JOBPLANE_WEBHOOKS: typeof webhooks === 'string' ? webhooks : JSON.stringify(webhooks) },
    'api',
    examplesCatalog,
  );
}

function problems(webhooks: unknown): string {
  try {
    load(webhooks);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('JOBPLANE_WEBHOOKS', () => {
  it('parses sources', () => {
    const cfg = load({
      stripe: { scheme: 'standard', secret: whsec, jobType: 'demo.sleep' },
      gh: { scheme: 'github', secret: 'a-github-secret-of-some-length', jobType: 'backtest.sweep' },
    });
    expect(cfg.JOBPLANE_WEBHOOKS).toEqual({
      stripe: { scheme: 'standard', secret: whsec, jobType: 'demo.sleep' },
      gh: { scheme: 'github', secret: 'a-github-secret-of-some-length', jobType: 'backtest.sweep' },
    });
  });

  it('is optional', () => {
    expect(loadConfig(base, 'api').JOBPLANE_WEBHOOKS).toBeUndefined();
  });

  it('refuses an empty secret, naming the source', () => {
    expect(problems({ s1: { scheme: 'github', secret: '', jobType: 'demo.sleep' } })).toMatch(
      /JOBPLANE_WEBHOOKS.*source 's1': 'secret' must not be empty/,
    );
  });

  it('refuses an unknown or unsubmittable job type', () => {
    expect(problems({ s1: { scheme: 'standard', secret: whsec, jobType: 'nope' } })).toMatch(
      /source 's1': 'jobType' \('nope'\) must be a submittable job type/,
    );
    expect(problems({ s1: { scheme: 'standard', secret: whsec, jobType: 'backtest.chunk' } })).toMatch(
      /must be a submittable/,
    );
  });

  it('refuses bad secrets without echoing them', () => {
    const weak = 'whsec_' + randomBytes(4).toString('base64');
    const p = problems({
      s1: { scheme: 'standard', secret: weak, jobType: 'demo.sleep' },
      s2: { scheme: 'github', secret: 'short', jobType: 'demo.sleep' },
    });
    expect(p).toMatch(/source 's1': a standard webhook secret must decode to at least 16 bytes/);
    expect(p).toMatch(/source 's2': a github webhook secret must be at least 16 characters/);
    expect(p).not.toContain(weak);
    expect(p).not.toContain('short"');
  });

  it('refuses unknown schemes, unknown fields, bad names and bad JSON', () => {
    expect(problems({ s1: { scheme: 'svix', secret: whsec, jobType: 'demo.sleep' } })).toMatch(
      /source 's1': 'scheme'/,
    );
    expect(problems({ s1: { scheme: 'standard', secret: whsec, jobType: 'demo.sleep', extra: 1 } })).toMatch(
      /source 's1'/,
    );
    expect(problems({ 'Bad Name': { scheme: 'standard', secret: whsec, jobType: 'demo.sleep' } })).toMatch(
      /source 'Bad Name' must match/,
    );
    expect(problems('{not json')).toMatch(/must be a JSON object/);
    expect(problems('[]')).toMatch(/must be a JSON object/);
  });
});
