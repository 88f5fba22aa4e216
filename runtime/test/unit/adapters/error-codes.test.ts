import { readFileSync } from 'node:fs';
import { codeToString } from '@connectrpc/connect/protocol-connect';
import { describe, expect, it } from 'vitest';
import { CONNECT_CODE_BY_ERROR } from '../../../src/adapters/http/edge/connect.plugin.js';
import { problem, statusOf } from '../../../src/adapters/http/problem.js';
import { ERROR_CODES, isErrorCode, type ErrorCode } from '../../../src/domain/errors.js';

const doc = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8');

/** Rows of the `| code | HTTP | Connect / gRPC | meaning |` table in docs/api.md. */
function documentedCodes(): Map<string, { status: number; connect: string }> {
  const section = doc.slice(doc.indexOf('## Error codes'));
  const rows = new Map<string, { status: number; connect: string }>();
  for (const m of section.matchAll(/^\| `([A-Z_.]+)` \| (\d{3}) \| `([a-z_]+)` \| .+ \|$/gm)) {
    rows.set(m[1]!, { status: Number(m[2]), connect: m[3]! });
  }
  return rows;
}

describe('the error code registry', () => {
  it('docs/api.md lists exactly the registered codes, with their HTTP status and Connect code', () => {
    const documented = documentedCodes();
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(documented.get(code), code).toEqual({
        status: info.status,
        connect: codeToString(CONNECT_CODE_BY_ERROR[code as ErrorCode]),
      });
    }
  });

  it('every code is AREA.REASON and a 4xx/5xx status', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*\.[A-Z0-9_]+$/);
      expect(info.status).toBeGreaterThanOrEqual(400);
      expect(info.status).toBeLessThan(600);
      expect(statusOf(code as ErrorCode)).toBe(info.status);
    }
    expect(isErrorCode('JOB.NOT_FOUND')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });

  it('problem() cuts long quoted values and long details', () => {
    const p = problem(
      400,
      'JOB.UNKNOWN_TYPE',
      `job type '${'z'.repeat(100_000)}' is not submittable (known: a)`,
      {
        problems: [`"${'y'.repeat(500)}" is bad`],
        instance: `/v1/jobs?${'q'.repeat(5000)}`,
      },
    );
    expect(p.detail).toMatch(/^job type 'z{64}… \(100000 characters\)' is not submittable \(known: a\)$/);
    expect(p.problems?.[0]).toMatch(/^"y{64}… \(500 characters\)" is bad$/);
    expect(p.instance!.length).toBeLessThanOrEqual(513);
    expect(problem(400, 'REQUEST.INVALID', 'x'.repeat(5000)).detail.length).toBeLessThanOrEqual(1025);
  });
});
