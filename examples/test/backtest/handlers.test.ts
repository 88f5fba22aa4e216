import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isFanOut, UnrecoverableJobError, type ChildOutcome } from '@jobplane/sdk';
import chunkImpl from '../../src/backtest/chunk.handler.js';
import fullImpl from '../../src/backtest/full.handler.js';
import sweepImpl, { sweepChildren } from '../../src/backtest/sweep.handler.js';
import { parameterSets } from '../../src/backtest/grid.js';
import { SP500_CSV_URL } from '../../src/backtest/sp500.js';
import { catalog } from '../../src/catalog.js';
import { backtestChunk, backtestFull, backtestSweep } from '../../src/job-types.js';
import { fakeContext, finished, testHandler } from '../fake-context.js';

const backtestSweepHandler = testHandler(backtestSweep, sweepImpl);
const backtestChunkHandler = testHandler(backtestChunk, chunkImpl);
const backtestFullHandler = testHandler(backtestFull, fullImpl);

function parsed<P>(check: { ok: true; value: P } | { ok: false; problems: string[] }): P {
  if (!check.ok) throw new Error(check.problems.join('; '));
  return check.value;
}

function problems(check: { ok: boolean; problems?: string[] }): string[] {
  expect(check.ok).toBe(false);
  return check.problems ?? [];
}

const HAND_PRICES = [10, 11, 12, 11, 10, 11, 12, 13];

describe('backtest.sweep payload', () => {
  it('applies defaults', () => {
    const value = parsed(backtestSweepHandler.parsePayload({ series: { kind: 'random-walk', seed: 1 } }));
    expect(value).toMatchObject({
      chunkSize: 25,
      periodsPerYear: 12,
      top: 10,
      grid: { fast: { from: 2, to: 24, step: 2 }, slow: { from: 6, to: 60, step: 6 } },
      series: { kind: 'random-walk', seed: 1, length: 600, start: 100, drift: 0.005, volatility: 0.04 },
    });
  });

  it('wants exactly one of prices and series', () => {
    expect(problems(backtestSweepHandler.parsePayload({}))).toEqual([
      "give exactly one of 'prices' and 'series' (neither was given)",
    ]);
    expect(
      problems(backtestSweepHandler.parsePayload({ prices: HAND_PRICES, series: { kind: 'sp500' } })),
    ).toEqual(["give exactly one of 'prices' and 'series' (both were given)"]);
  });

  it('names the field and value of grid and series limits', () => {
    const tooBig = { from: 1, to: 200, step: 1 };
    expect(
      problems(
        backtestSweepHandler.parsePayload({
          series: { kind: 'random-walk', seed: 1, length: 100_000 },
          grid: { fast: tooBig, slow: { from: 2, to: 201, step: 1 } },
        }),
      ),
    ).toEqual(["'grid' has 20100 parameter sets with fast < slow; at most 10000 allowed"]);
    expect(
      problems(
        backtestSweepHandler.parsePayload({
          prices: HAND_PRICES,
          grid: { fast: { from: 1, to: 2 }, slow: { from: 3, to: 8 } },
        }),
      ),
    ).toEqual(["'grid.slow' window 8 must be < the series length (8 bars)"]);
    expect(
      problems(
        backtestSweepHandler.parsePayload({
          prices: HAND_PRICES,
          grid: { fast: { from: 5, to: 3 }, slow: { from: 0, to: 4 } },
        }),
      ),
    ).toEqual(["'grid.slow.from' (0) must be ≥ 1"]);
    expect(problems(backtestSweepHandler.parsePayload({ prices: 'abc', grid: { fast: 'x' } }))).toEqual([
      '\'prices\' ("abc") must be an array',
      '\'grid.fast\' ("x") must be an object',
    ]);
    expect(
      problems(
        backtestSweepHandler.parsePayload({
          prices: HAND_PRICES,
          grid: { fast: { from: 5, to: 3 }, slow: { from: 1, to: 4 } },
        }),
      ),
    ).toEqual(["'grid.fast.to' (3) must be ≥ 'grid.fast.from' (5)"]);
    expect(
      problems(
        backtestSweepHandler.parsePayload({
          prices: HAND_PRICES,
          grid: { fast: { from: 4, to: 5 }, slow: { from: 2, to: 3 } },
        }),
      ),
    ).toEqual(["'grid' yields no parameter set with fast < slow (fast 4..5, slow 2..3)"]);
    expect(
      problems(
        backtestSweepHandler.parsePayload({ series: { kind: 'random-walk', seed: 1, length: 100_001 } }),
      ),
    ).toEqual(["'series.length' (100001) must be ≤ 100000"]);
    expect(problems(backtestSweepHandler.parsePayload({ prices: [1, -2, 3] }))).toEqual([
      "'prices[1]' (-2) must be > 0",
    ]);
    expect(
      problems(backtestSweepHandler.parsePayload({ series: { kind: 'sp500', from: '1990-13' } })),
    ).toEqual(["'series.from' (\"1990-13\") must be a month 'YYYY-MM'"]);
    expect(
      problems(
        backtestSweepHandler.parsePayload({ series: { kind: 'sp500', from: '2020-01', to: '2010-01' } }),
      ),
    ).toEqual(["'series.to' (2010-01) must not be before 'series.from' (2020-01)"]);
    expect(problems(backtestSweepHandler.parsePayload({ series: { kind: 'weekly' } }))).toEqual([
      '\'series.kind\' ("weekly") must be one of "random-walk", "sp500"',
    ]);
  });

  it('refuses inline prices that would be copied into too many children', () => {
    const prices = Array.from({ length: 100_000 }, (_, i) => 100 + (i % 7));
    const [problem] = problems(
      backtestSweepHandler.parsePayload({
        prices,
        chunkSize: 1,
        grid: { fast: { from: 1, to: 5 }, slow: { from: 6, to: 10 } },
      }),
    );
    expect(problem).toContain("'prices' (100000 values) would be copied into 25 child jobs");
  });
});

describe('backtest.sweep run and aggregate', () => {
  const payload = parsed(
    backtestSweepHandler.parsePayload({
      series: { kind: 'sp500', from: '1950-01', to: '2020-12' },
      grid: { fast: { from: 2, to: 12, step: 2 }, slow: { from: 10, to: 40, step: 5 } },
      chunkSize: 7,
      top: 5,
    }),
  );

  async function runChildren(): Promise<ChildOutcome[]> {
    const out = await backtestSweepHandler.run(payload, fakeContext());
    if (!isFanOut(out)) throw new Error('expected a fan-out');
    return Promise.all(
      out.children.map(async (child, index) => {
        expect(child.type).toBe('backtest.chunk');
        const childPayload = parsed(backtestChunkHandler.parsePayload(child.payload));
        const result = finished(await backtestChunkHandler.run(childPayload, fakeContext()));
        return { jobId: `child-${index}`, index, state: 'succeeded' as const, result };
      }),
    );
  }

  it('fans out the grid in slices of chunkSize that cover every parameter set once', async () => {
    const all = parameterSets(payload.grid);
    const out = await backtestSweepHandler.run(payload, fakeContext());
    expect(isFanOut(out)).toBe(true);
    if (!isFanOut(out)) return;
    expect(out.children).toHaveLength(Math.ceil(all.length / 7));
    const covered = out.children.flatMap((c) => (c.payload as { params: unknown[] }).params);
    expect(covered).toEqual(all);
    expect(sweepChildren(payload)[0]).toMatchObject({ series: payload.series, periodsPerYear: 12 });
  });

  it('aggregates to the same answer as backtest.full on the same payload', async () => {
    const children = await runChildren();
    const swept = await backtestSweepHandler.aggregate?.(payload, children, fakeContext());
    const { chunkSize: _chunkSize, ...fullInput } = payload;
    const full = await backtestFullHandler.run(
      parsed(backtestFullHandler.parsePayload(fullInput)),
      fakeContext(),
    );
    expect(swept).toEqual(full);
    expect(swept?.top).toHaveLength(5);
    expect(swept?.evaluated).toBe(parameterSets(payload.grid).length);
    expect(swept?.series).toEqual({ kind: 'sp500', from: '1950-01', to: '2020-12', length: 852 });
    const top = swept?.top ?? [];
    for (let i = 1; i < top.length; i++) expect(top[i - 1]!.sharpe).toBeGreaterThanOrEqual(top[i]!.sharpe);
  });

  it('fails the sweep when a child did not succeed', async () => {
    const children = await runChildren();
    children[1] = {
      jobId: 'child-1',
      index: 1,
      state: 'dead_lettered',
      error: { code: 'HANDLER.TIMEOUT', message: 'took too long' },
    };
    await expect(backtestSweepHandler.aggregate?.(payload, children, fakeContext())).rejects.toThrow(
      '1 of 6 backtest chunks did not succeed: #1 dead_lettered (HANDLER.TIMEOUT: took too long)',
    );
  });

  it('refuses a malformed child result', async () => {
    const children = await runChildren();
    children[0] = { jobId: 'child-0', index: 0, state: 'succeeded', result: { results: [{ fast: 'x' }] } };
    await expect(backtestSweepHandler.aggregate?.(payload, children, fakeContext())).rejects.toMatchObject({
      code: 'BACKTEST.BAD_CHUNK_RESULT',
    });
  });

  it('fails the parent (not its children) when the S&P 500 range is shorter than the slow window', async () => {
    const short = parsed(
      backtestSweepHandler.parsePayload({
        series: { kind: 'sp500', from: '2020-01', to: '2020-12' },
        grid: { fast: { from: 2, to: 3 }, slow: { from: 10, to: 12 } },
      }),
    );
    const run = backtestSweepHandler.run(short, fakeContext());
    await expect(run).rejects.toBeInstanceOf(UnrecoverableJobError);
    await expect(backtestSweepHandler.run(short, fakeContext())).rejects.toThrow(
      "'grid.slow' window 12 must be < the series length (12 bars)",
    );
  });
});

describe('backtest.full', () => {
  it('finds the hand-computed result on a tiny series', async () => {
    // See strategy.test.ts: fast 1 / slow 2 on these prices → total −14/144, drawdown 1/6, 2 trades.
    const payload = parsed(
      backtestFullHandler.parsePayload({
        prices: HAND_PRICES,
        grid: { fast: { from: 1, to: 1 }, slow: { from: 2, to: 2 } },
      }),
    );
    const result = finished(await backtestFullHandler.run(payload, fakeContext()));
    expect(result.evaluated).toBe(1);
    expect(result.best.totalReturn).toBeCloseTo(-14 / 144, 12);
    expect(result.best.maxDrawdown).toBeCloseTo(1 / 6, 12);
    expect(result.best.trades).toBe(2);
    // buy and hold 10 → 13 = +30 %
    expect(result.buyAndHold.totalReturn).toBeCloseTo(0.3, 12);
  });

  it('flags the pairs that never trade', async () => {
    // Falling, then rising for the last bars: only fast windows short enough to see the turn trade.
    const prices = [...Array.from({ length: 30 }, (_, i) => 100 - i), 75, 80, 85];
    const payload = parsed(
      backtestFullHandler.parsePayload({
        prices,
        grid: { fast: { from: 1, to: 3 }, slow: { from: 20, to: 21 } },
      }),
    );
    const result = finished(await backtestFullHandler.run(payload, fakeContext()));
    const idle = result.top.filter((r) => r.trades === 0).map((r) => ({ fast: r.fast, slow: r.slow }));
    // fast 1 sees the turn against both slow windows; fast 2 and 3 never rise above them.
    expect(result.neverTraded).toEqual({
      count: 4,
      pairs: [
        { fast: 2, slow: 20 },
        { fast: 2, slow: 21 },
        { fast: 3, slow: 20 },
        { fast: 3, slow: 21 },
      ],
    });
    expect(idle).toHaveLength(4);
  });

  it('rejects chunkSize (it does not fan out)', () => {
    expect(problems(backtestFullHandler.parsePayload({ series: { kind: 'sp500' }, chunkSize: 5 }))).toEqual([
      "unknown field 'chunkSize'",
    ]);
  });
});

describe('backtest.chunk', () => {
  it('reports progress once per parameter set and stops when aborted', async () => {
    const payload = parsed(
      backtestChunkHandler.parsePayload({
        series: { kind: 'random-walk', seed: 3, length: 300 },
        params: Array.from({ length: 10 }, (_, i) => ({ fast: i + 1, slow: 20 })),
      }),
    );
    const ctx = fakeContext();
    const result = finished(await backtestChunkHandler.run(payload, ctx));
    expect(result.results).toHaveLength(10);
    expect(ctx.progressCalls.map((p) => p.percent)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    await expect(
      backtestChunkHandler.run(payload, fakeContext({ signal: AbortSignal.abort() })),
    ).rejects.toThrow();
  });

  it('refuses a parameter set with fast ≥ slow', () => {
    expect(
      problems(backtestChunkHandler.parsePayload({ prices: HAND_PRICES, params: [{ fast: 3, slow: 3 }] })),
    ).toEqual(["'params[0]' fast window (3) must be < slow window (3)"]);
  });
});

describe('catalog and packaging', () => {
  it('lazily loads a handler for every job type', async () => {
    expect(catalog.jobTypes.map((d) => d.type)).toEqual([
      'demo.sleep',
      'backtest.sweep',
      'backtest.chunk',
      'backtest.full',
      'text.stats',
    ]);
    // text.stats is a container job type: an image, no handler module.
    for (const def of catalog.jobTypes.filter((d) => d.mode !== 'container')) {
      const loaded = (await def.load()) as { default: { run: unknown } };
      expect(typeof loaded.default.run).toBe('function');
    }
    expect(catalog.queues().map((q) => [q.name, q.mode, q.maxJobSeconds])).toEqual([
      ['default', 'pooled', 120],
      ['backtest', 'pooled', 120],
      ['backtest-full', 'isolated', 900],
      ['python', 'container', 120],
    ]);
  });

  it('ships the S&P 500 data next to dist/ in the npm package', () => {
    const csv = fileURLToPath(SP500_CSV_URL);
    expect(csv.replaceAll('\\', '/')).toMatch(/examples\/data\/sp500-monthly\.csv$/);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      files: string[];
    };
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'data']));
  });
});
