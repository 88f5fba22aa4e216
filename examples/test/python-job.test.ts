/**
 * The Python container job's script, run with python3 as the container would run it: the payload
 * file in, the result in the termination-log file, exit 3 for a payload it cannot process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { textStats } from '../src/catalog.js';

const SCRIPT = fileURLToPath(new URL('../python-job/main.py', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(payload: string) {
  const dir = mkdtempSync(join(tmpdir(), 'python-job-'));
  dirs.push(dir);
  const payloadFile = join(dir, 'payload.json');
  const resultFile = join(dir, 'termination-log');
  writeFileSync(payloadFile, payload);
  writeFileSync(resultFile, '');
  const p = spawnSync('python3', [SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '',
      JOBPLANE_PAYLOAD_FILE: payloadFile,
      JOBPLANE_RESULT_FILE: resultFile,
      JOBPLANE_ATTEMPT: '1',
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: p.status, result: readFileSync(resultFile, 'utf8'), stderr: p.stderr };
}

describe('examples/python-job (text.stats)', () => {
  it('reads the payload file and writes a result that matches the catalog schema', () => {
    const payload = textStats.payload.parse({ text: 'The cat and the hat. The end!', top: 2 });
    const { code, result } = run(JSON.stringify(payload));
    expect(code).toBe(0);
    const parsed = JSON.parse(result) as unknown;
    expect(parsed).toEqual({
      characters: 29,
      words: 7,
      distinct: 5,
      top: [
        { word: 'the', count: 3 },
        { word: 'cat', count: 1 },
      ],
    });
    expect(textStats.result!.safeParse(parsed).success).toBe(true);
    expect(Buffer.byteLength(result)).toBeLessThanOrEqual(4096);
  });

  it('exits 3 (non-retryable in the catalog) with the reason in the termination log', () => {
    const bad = run(JSON.stringify({ text: 42 }));
    expect(bad.code).toBe(3);
    expect(bad.result).toContain("'text' must be a string");
    expect(textStats.container?.nonRetryableExitCodes).toContain(3);
    expect(run('not json').code).toBe(3);
  });
});
