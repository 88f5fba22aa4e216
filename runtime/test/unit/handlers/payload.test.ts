import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseSp500Csv } from '../../../src/handlers/backtest/sp500.js';
import { checkPayload, fieldName, showValue } from '../../../src/handlers/payload.js';

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

describe('parseSp500Csv', () => {
  it('reads the Date and SP500 columns', () => {
    expect(parseSp500Csv('Date,SP500,Dividend\n1871-01-01,4.44,0.26\n1871-02-01,4.5,0.26\n')).toEqual([
      { month: '1871-01', price: 4.44 },
      { month: '1871-02', price: 4.5 },
    ]);
  });

  it('rejects a missing column or a bad row, naming the line', () => {
    expect(() => parseSp500Csv('Date,Price\n')).toThrow('header must have Date and SP500');
    expect(() => parseSp500Csv('Date,SP500\n1871-01-01,0\n')).toThrow("line 2 ('1871-01-01,0')");
  });
});
