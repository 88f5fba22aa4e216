import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { checkPayload, fieldName, showValue } from '../src/index.js';

describe('checkPayload problems', () => {
  const schema = z.strictObject({
    name: z.string().min(2).max(4),
    tags: z.array(z.string()).min(1).max(2),
    ratio: z.number().gt(0).lt(1),
    mode: z.enum(['a', 'b']),
    email: z.email().optional(),
  });

  it('describes each kind of issue in plain English', () => {
    const check = checkPayload(schema, {
      name: 'x',
      tags: ['a', 'b', 'c'],
      ratio: 1,
      mode: 'c',
      email: 'nope',
    });
    expect(check).toEqual({
      ok: false,
      problems: [
        "'name' is shorter than 2 characters",
        "'tags' has 3 items; at most 2 allowed",
        "'ratio' (1) must be < 1",
        '\'mode\' ("c") must be one of "a", "b"',
        '\'email\' ("nope") must be a valid email',
      ],
    });
    expect(checkPayload(schema, { name: 'xxxxx', tags: [], ratio: 0, mode: 'a' })).toEqual({
      ok: false,
      problems: [
        "'name' is longer than 4 characters",
        "'tags' has 0 items; at least 1 required",
        "'ratio' (0) must be > 0",
      ],
    });
  });

  it('runs cross-field checks only on a well-typed payload', () => {
    const cross = (v: { n: number }) => (v.n % 2 === 0 ? [] : [`'n' (${v.n}) must be even`]);
    const even = z.object({ n: z.int() });
    expect(checkPayload(even, { n: 3 }, cross)).toEqual({ ok: false, problems: ["'n' (3) must be even"] });
    expect(checkPayload(even, { n: 'x' }, cross)).toEqual({
      ok: false,
      problems: ['\'n\' ("x") must be a number'],
    });
    expect(checkPayload(even, { n: 4 }, cross)).toEqual({ ok: true, value: { n: 4 } });
  });

  it('names nested fields and shows values briefly', () => {
    expect(fieldName([])).toBe('payload');
    expect(fieldName(['grid', 'fast', 'from'])).toBe('grid.fast.from');
    expect(fieldName(['params', 3, 'slow'])).toBe('params[3].slow');
    expect(showValue(undefined)).toBe('missing');
    expect(showValue(null)).toBe('null');
    expect(showValue(Number.NaN)).toBe('NaN');
    expect(showValue('y'.repeat(100))).toHaveLength(40);
  });
});
