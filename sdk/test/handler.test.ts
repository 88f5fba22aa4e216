import { describe, expect, it } from 'vitest';
import { fanOut, isFanOut, toHandlerObject, UnrecoverableJobError, type JobContext } from '../src/index.js';

const ctx = {} as JobContext;

describe('toHandlerObject', () => {
  it('accepts a function, an object with run, or a module exporting either', async () => {
    const fn = async (p: number) => ({ doubled: p * 2 });
    for (const loaded of [fn, { run: fn }, { default: fn }, { default: { run: fn } }, { handler: fn }]) {
      expect(await toHandlerObject<number, unknown>('a.b', loaded).run(2, ctx)).toEqual({ doubled: 4 });
    }
  });

  it('keeps aggregate', async () => {
    const h = toHandlerObject('a.b', { run: () => fanOut([]), aggregate: () => ({ n: 1 }) });
    expect(await h.aggregate?.(undefined, [], ctx)).toEqual({ n: 1 });
  });

  it('names the job type when load() resolved to something else', () => {
    expect(() => toHandlerObject('a.b', { helper: 1 })).toThrow(
      "load() of job type 'a.b' must resolve to a handler function, an object with run(), or a module whose default export (or export 'handler') is one; got an object with keys [helper]",
    );
    expect(() => toHandlerObject('a.b', 42)).toThrow('got number');
    expect(() => toHandlerObject('a.b', { run: () => 1, aggregate: 3 })).toThrow(
      "handler of job type 'a.b': 'aggregate' must be a function",
    );
  });
});

describe('fan-out and errors', () => {
  it('recognizes a fan-out request', () => {
    const f = fanOut([{ type: 'a.child', payload: { i: 1 } }]);
    expect(isFanOut(f)).toBe(true);
    expect(isFanOut({ kind: 'fan-out' })).toBe(false);
    expect(isFanOut({ result: 1 })).toBe(false);
    expect(isFanOut(null)).toBe(false);
  });

  it('UnrecoverableJobError carries a code and a stable name', () => {
    const e = new UnrecoverableJobError('no such image', 'MEDIA.NOT_FOUND');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('UnrecoverableJobError');
    expect(e.code).toBe('MEDIA.NOT_FOUND');
    expect(new UnrecoverableJobError('x').code).toBe('HANDLER.UNRECOVERABLE');
  });
});
