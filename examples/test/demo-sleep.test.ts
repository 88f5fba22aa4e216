import { describe, expect, it } from 'vitest';
import demoSleepImpl, { SimulatedFailureError } from '../src/demo-sleep/handler.js';
import { demoSleepDeadLetters, demoSleepFails } from '../src/demo-sleep/payload.js';
import { catalog, demoSleep } from '../src/catalog.js';
import { fakeContext, testHandler } from './fake-context.js';

const demoSleepHandler = testHandler(demoSleep, demoSleepImpl);

describe('demo.sleep payload', () => {
  it('applies the failureRate default', () => {
    expect(demoSleepHandler.parsePayload({ durationMs: 10 })).toEqual({
      ok: true,
      value: { durationMs: 10, failureRate: 0 },
    });
  });

  it('names the field and the value of every problem', () => {
    const check = demoSleepHandler.parsePayload({
      durationMs: 700_000,
      failureRate: 1.5,
      seed: 1.5,
      extra: 1,
    });
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems).toEqual(
      expect.arrayContaining([
        "'durationMs' (700000) must be ≤ 600000",
        "'failureRate' (1.5) must be ≤ 1",
        "'seed' (1.5) must be an integer",
        "unknown field 'extra'",
      ]),
    );
  });

  it('says when a field is missing or the payload is not an object', () => {
    const missing = demoSleepHandler.parsePayload({});
    expect(missing).toEqual({ ok: false, problems: ["'durationMs' is required (number)"] });
    const notObject = demoSleepHandler.parsePayload('soon');
    expect(notObject).toEqual({ ok: false, problems: ['\'payload\' ("soon") must be an object'] });
    expect(demoSleepHandler.parsePayload({ durationMs: -1 })).toEqual({
      ok: false,
      problems: ["'durationMs' (-1) must be ≥ 0"],
    });
  });
});

describe('demoSleepFails', () => {
  it('never fails at rate 0 and always fails at rate 1', () => {
    for (let seed = 0; seed < 50; seed++) {
      expect(demoSleepFails(seed, 1, 0)).toBe(false);
      expect(demoSleepFails(seed, 1, 1)).toBe(true);
    }
  });

  it('is deterministic in (seed, attempt) and varies with the attempt', () => {
    const a = Array.from({ length: 200 }, (_, seed) => demoSleepFails(seed, 1, 0.5));
    const b = Array.from({ length: 200 }, (_, seed) => demoSleepFails(seed, 1, 0.5));
    const c = Array.from({ length: 200 }, (_, seed) => demoSleepFails(seed, 2, 0.5));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('fails at about the requested rate', () => {
    const n = 10_000;
    let failures = 0;
    for (let seed = 0; seed < n; seed++) if (demoSleepFails(seed, 1, 0.3)) failures++;
    // Binomial(10000, 0.3): standard deviation ≈ 46, so ±300 is more than 6 sigma.
    expect(failures).toBeGreaterThan(2_700);
    expect(failures).toBeLessThan(3_300);
  });

  it('dead-letters exactly when every attempt fails', () => {
    for (let seed = 0; seed < 100; seed++) {
      const expected = [1, 2, 3].every((attempt) => demoSleepFails(seed, attempt, 0.6));
      expect(demoSleepDeadLetters(seed, 3, 0.6)).toBe(expected);
    }
  });
});

describe('demo.sleep run', () => {
  it('sleeps, reports progress up to 100 and returns the attempt', async () => {
    const ctx = fakeContext({ attempt: 2 });
    const started = performance.now();
    const result = await demoSleepHandler.run({ durationMs: 250, failureRate: 0 }, ctx);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(result).toEqual({ sleptMs: 250, attempt: 2 });
    expect(ctx.progressCalls.length).toBeGreaterThan(1);
    expect(ctx.progressCalls.at(-1)?.percent).toBe(100);
    const percents = ctx.progressCalls.map((p) => p.percent);
    expect([...percents].sort((x, y) => x - y)).toEqual(percents);
  });

  it('fails with a retryable error exactly when demoSleepFails says so', async () => {
    const seed = Array.from({ length: 100 }, (_, i) => i).find(
      (s) => demoSleepFails(s, 1, 0.5) && !demoSleepFails(s, 2, 0.5),
    );
    expect(seed).toBeDefined();
    const payload = { durationMs: 0, failureRate: 0.5, seed: seed as number };
    await expect(demoSleepHandler.run(payload, fakeContext({ attempt: 1 }))).rejects.toBeInstanceOf(
      SimulatedFailureError,
    );
    await expect(demoSleepHandler.run(payload, fakeContext({ attempt: 2 }))).resolves.toEqual({
      sleptMs: 0,
      attempt: 2,
    });
  });

  it('stops promptly when the signal aborts', async () => {
    const controller = new AbortController();
    const ctx = fakeContext({ signal: controller.signal });
    const started = performance.now();
    setTimeout(() => controller.abort(), 50);
    await expect(demoSleepHandler.run({ durationMs: 600_000, failureRate: 0 }, ctx)).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('does not start when already aborted', async () => {
    const ctx = fakeContext({ signal: AbortSignal.abort() });
    await expect(demoSleepHandler.run({ durationMs: 10, failureRate: 0 }, ctx)).rejects.toThrow();
    expect(ctx.progressCalls).toEqual([]);
  });
});

describe('catalog', () => {
  it('finds demo.sleep by type and loads its handler lazily', async () => {
    expect(catalog.get('demo.sleep')).toBe(demoSleep);
    expect(((await demoSleep.load()) as { default: unknown }).default).toBe(demoSleepImpl);
    expect(catalog.get('no.such.type')).toBeUndefined();
  });
});
