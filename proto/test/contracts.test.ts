import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { create, fromJson, toJson } from '@bufbuild/protobuf';
import { JobSchema, JobState, SubmitJobRequestSchema } from '../src/index.js';

const run = promisify(execFile);
const protoDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const buf = join(protoDir, '..', 'node_modules', '.bin', 'buf');

async function withCopy<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'jobplane-proto-'));
  try {
    await cp(join(protoDir, 'jobprocessing'), join(dir, 'jobprocessing'), { recursive: true });
    await cp(join(protoDir, 'buf.yaml'), join(dir, 'buf.yaml'));
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('jobprocessing.v1 contracts', () => {
  it('pass buf lint (STANDARD)', async () => {
    await expect(run(buf, ['lint'], { cwd: protoDir })).resolves.toBeDefined();
  });

  it('are not broken against the committed baseline', async () => {
    await expect(
      run(buf, ['breaking', '--against', 'baseline/jobprocessing-v1.binpb'], { cwd: protoDir }),
    ).resolves.toBeDefined();
  });

  it('buf breaking reports a deleted field', async () => {
    await withCopy(async (dir) => {
      const file = join(dir, 'jobprocessing', 'v1', 'job.proto');
      const source = await readFile(file, 'utf8');
      const edited = source.replace(/^\s*int32 max_attempts = 8;\n/m, '');
      expect(edited).not.toBe(source);
      await writeFile(file, edited);
      const baseline = join(protoDir, 'baseline', 'jobprocessing-v1.binpb');
      const result = await run(buf, ['breaking', '--against', baseline], { cwd: dir }).then(
        () => ({ code: 0, out: '' }),
        (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
      );
      expect(result.code).not.toBe(0);
      expect(result.out).toMatch(
        /Previously present field "8" with name "max_attempts" on message "Job" was deleted/,
      );
    });
  });

  it('generated code round-trips the proto3 JSON mapping strictly', () => {
    const job = fromJson(JobSchema, {
      id: '7d1f0c52-5a8e-4a53-9b7c-2f1f3f7f1a10',
      type: 'demo.sleep',
      state: 'JOB_STATE_QUEUED',
      maxAttempts: 3,
      payload: { durationMs: 10 },
      createTime: '2026-11-24T10:00:00Z',
    });
    expect(job.state).toBe(JobState.QUEUED);
    expect(toJson(JobSchema, job)).toMatchObject({ state: 'JOB_STATE_QUEUED', maxAttempts: 3 });
    expect(() => fromJson(SubmitJobRequestSchema, { type: 'x', bogus: 1 })).toThrow(/bogus/);
    expect(create(SubmitJobRequestSchema, { type: 'x' }).priority).toBe(0);
  });
});
