import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BatchItemError,
  GroupCommitter,
  type GroupCommitOptions,
} from '../../../src/adapters/postgres/group-commit.js';

/** A flush the test completes by hand: records each batch and resolves it on `release(n)`. */
function manualFlush() {
  const batches: {
    items: number[];
    done: (out: Array<number | BatchItemError>) => void;
    fail: (e: unknown) => void;
  }[] = [];
  const flush = (items: readonly number[]) =>
    new Promise<ReadonlyArray<number | BatchItemError>>((resolve, reject) => {
      batches.push({ items: [...items], done: resolve, fail: reject });
    });
  return { batches, flush };
}

const turn = () => new Promise<void>((r) => setImmediate(r));
const opts = (o: Partial<GroupCommitOptions> = {}): GroupCommitOptions => ({
  maxBatch: 100,
  maxWaitMs: 2,
  maxInFlight: 1,
  ...o,
});

describe('GroupCommitter', () => {
  // The max-wait timer is faked (advanced by hand); turns of the event loop (setImmediate) are real.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the items of one turn of the event loop as one batch, and answers each with its own outcome', async () => {
    const m = manualFlush();
    const g = new GroupCommitter(m.flush, opts());
    const p = [1, 2, 3].map((i) => g.submit(i));
    await turn();
    expect(m.batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    m.batches[0]!.done([10, 20, 30]);
    expect(await Promise.all(p)).toEqual([10, 20, 30]);
  });

  it('does not answer before the batch carrying the item has finished', async () => {
    const m = manualFlush();
    const g = new GroupCommitter(m.flush, opts());
    let settled = false;
    const p = g.submit(1).then(() => (settled = true));
    await turn();
    await turn();
    expect(settled).toBe(false);
    m.batches[0]!.done([1]);
    await p;
    expect(settled).toBe(true);
  });

  it('while maxInFlight batches run, later items wait and then go together', async () => {
    const m = manualFlush();
    const g = new GroupCommitter(m.flush, opts({ maxInFlight: 1, maxWaitMs: 2 }));
    const first = g.submit(1);
    await turn();
    const later = [2, 3, 4].map((i) => g.submit(i));
    await turn();
    expect(m.batches).toHaveLength(1);
    m.batches[0]!.done([1]);
    await first;
    // The finished batch schedules the next one on the following turn.
    await turn();
    await turn();
    expect(m.batches.map((b) => b.items)).toEqual([[1], [2, 3, 4]]);
    m.batches[1]!.done([2, 3, 4]);
    expect(await Promise.all(later)).toEqual([2, 3, 4]);
  });

  it('an item that waited maxWaitMs goes even while maxInFlight batches still run', async () => {
    const m = manualFlush();
    const g = new GroupCommitter(m.flush, opts({ maxInFlight: 1, maxWaitMs: 2 }));
    const first = g.submit(1);
    await turn();
    const later = g.submit(2);
    await turn();
    vi.advanceTimersByTime(1);
    expect(m.batches).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(m.batches.map((b) => b.items)).toEqual([[1], [2]]);
    m.batches[1]!.done([2]);
    m.batches[0]!.done([1]);
    expect(await Promise.all([first, later])).toEqual([1, 2]);
  });

  it('flushes a full batch at once and splits at maxBatch', async () => {
    const m = manualFlush();
    const g = new GroupCommitter(m.flush, opts({ maxBatch: 2, maxInFlight: 1 }));
    const p = [1, 2, 3, 4, 5].map((i) => g.submit(i));
    // Two full batches went synchronously; the fifth item waits for a trigger.
    expect(m.batches.map((b) => b.items)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    m.batches[0]!.done([1, 2]);
    m.batches[1]!.done([3, 4]);
    await Promise.all(p.slice(0, 4));
    await turn();
    await turn();
    expect(m.batches[2]?.items).toEqual([5]);
    m.batches[2]!.done([5]);
    expect(await p[4]).toBe(5);
  });

  it('an item error fails that item only; a thrown error fails the whole batch', async () => {
    const m = manualFlush();
    const g = new GroupCommitter(m.flush, opts());
    const a = [1, 2, 3].map((i) => g.submit(i));
    await turn();
    const boom = new Error('row refused');
    m.batches[0]!.done([1, new BatchItemError(boom), 3]);
    expect(await Promise.allSettled(a)).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 3 },
    ]);
    const b = [4, 5].map((i) => g.submit(i));
    await turn();
    const down = new Error('connection lost');
    m.batches[1]!.fail(down);
    expect((await Promise.allSettled(b)).map((r) => r.status === 'rejected' && r.reason)).toEqual([
      down,
      down,
    ]);
    expect({ batches: g.batches, items: g.items }).toEqual({ batches: 2, items: 5 });
  });

  it('refuses options out of range, naming the option and the value', () => {
    const flush = async (items: readonly number[]) => items;
    expect(() => new GroupCommitter(flush, opts({ maxBatch: 0 }))).toThrow(
      "'maxBatch' (0) must be an integer ≥ 1",
    );
    expect(() => new GroupCommitter(flush, opts({ maxWaitMs: 5 }))).toThrow(
      "'maxWaitMs' (5) must be at most 2 ms",
    );
    expect(() => new GroupCommitter(flush, opts({ maxInFlight: 1.5 }))).toThrow(
      "'maxInFlight' (1.5) must be an integer ≥ 1",
    );
  });
});
