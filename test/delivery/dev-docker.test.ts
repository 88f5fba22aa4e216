import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support.js';

/**
 * `make dev` front: scripts/dev-docker.sh with a PATH we control. The docker stand-ins below are
 * the environment of the script under test (present / missing / broken Docker), not the feature.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function binDir(docker?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobplane-devdocker-'));
  dirs.push(dir);
  for (const tool of ['bash', 'dirname', 'git', 'make', 'grep', 'awk', 'env']) {
    const found = ['/usr/bin', '/bin', '/usr/local/bin'].map((d) => join(d, tool));
    for (const f of found) {
      try {
        symlinkSync(f, join(dir, tool));
        readFileSync(join(dir, tool)); // dangling links throw here and the next candidate is tried
        break;
      } catch {
        rmSync(join(dir, tool), { force: true });
      }
    }
  }
  if (docker !== undefined) {
    writeFileSync(join(dir, 'docker'), `#!/usr/bin/env bash\n${docker}\n`);
    chmodSync(join(dir, 'docker'), 0o755);
  }
  return dir;
}

function runDev(bin: string, cmd: string[], extraEnv: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      cmd[0] as string,
      cmd.slice(1),
      { cwd: ROOT, env: { PATH: bin, HOME: tmpdir(), ...extraEnv } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const script = join(ROOT, 'scripts', 'dev-docker.sh');

describe('make dev (scripts/dev-docker.sh)', () => {
  it('without Docker: exits non-zero and points to make dev-local', async () => {
    const bin = binDir();
    const r = await runDev(bin, [join(bin, 'make'), '-s', 'dev']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('docker is not installed');
    expect(r.stderr).toContain('make dev-local');
  });

  it('with a docker CLI but no compose plugin: says so and points to make dev-local', async () => {
    const bin = binDir(
      '[ "$1" = compose ] && { echo "unknown command: docker compose" >&2; exit 1; }; exit 0',
    );
    const r = await runDev(bin, [script]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has no compose plugin');
    expect(r.stderr).toContain('make dev-local');
  });

  it('with compose but no reachable engine: says so and points to make dev-local', async () => {
    const bin = binDir(
      'case "$1" in compose) exit 0;; info) echo "Cannot connect to the Docker daemon" >&2; exit 1;; esac',
    );
    const r = await runDev(bin, [script]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach a Docker engine');
    expect(r.stderr).toContain('make dev-local');
  });

  it('with Docker: runs `docker compose up --build` on docker-compose.yml, passing extra arguments and GIT_SHA', async () => {
    const bin = binDir(
      'echo "$@" >> "$RECORD"; [ "$2" = up ] || [ "$4" = up ] && echo "GIT_SHA=$GIT_SHA" >> "$RECORD"; exit 0',
    );
    const record = join(bin, 'record.txt');
    const r = await runDev(bin, [script, '--scale', 'worker=3'], { RECORD: record });
    expect(r.code).toBe(0);
    const calls = readFileSync(record, 'utf8').trim().split('\n');
    expect(calls).toContain('compose -f docker-compose.yml up --build --scale worker=3');
    expect(calls.find((c) => c.startsWith('GIT_SHA='))).toMatch(/^GIT_SHA=[0-9a-f]{7,}$/);
  });
});
