/**
 * `jobplane api` refuses to start when a webhook source is misconfigured, with a message naming
 * the source and the rule, exit code 2, and no secret in the output. Runs the compiled CLI.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXAMPLES_CATALOG_MODULE } from '../examples-catalog.js';

const CLI = fileURLToPath(new URL('../../dist/main/cli.js', import.meta.url));
const base = {
  PATH: process.env.PATH ?? '',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JOBPLANE_API_KEYS: 'c1:0123456789abcdef0123',
  JOBPLANE_CATALOG: EXAMPLES_CATALOG_MODULE,
};

function run(webhooks: unknown) {
  return spawnSync(process.execPath, [CLI, 'api'], {
    env: { ...base, JOBPLANE_WEBHOOKS: JSON.stringify(webhooks) },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('jobplane api with JOBPLANE_WEBHOOKS', () => {
  it('refuses an empty secret', () => {
    const r = run({ stripe: { scheme: 'standard', secret: '', jobType: 'demo.sleep' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/JOBPLANE_WEBHOOKS.*source 'stripe': 'secret' must not be empty/);
  });

  it('refuses an unknown job type and never prints the secret', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const r = run({ gh: { scheme: 'standard', secret, jobType: 'no.such.type' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/source 'gh': 'jobType' \('no\.such\.type'\) must be a submittable job type/);
    expect(r.stderr).not.toContain(secret.slice(6));
  });
});
