/**
 * Seeded randomness for the fault suite: every random choice (which worker to kill, when) comes
 * from one PRNG seeded by FAULTS_SEED, or by a fresh seed that is printed, so a failing run can be
 * replayed with `FAULTS_SEED=<seed> npx vitest run <file>`.
 */
import { randomInt } from 'node:crypto';

/** mulberry32: a small, fast 32-bit PRNG; plenty for picking fault timings. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeededRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
}

/** A PRNG for one test file; logs `[faults] <suite> seed=<n>` so the run can be replayed. */
export function seededRandom(suite: string, env = process.env.FAULTS_SEED): SeededRandom {
  const fromEnv = env !== undefined && env !== '' ? Number(env) : NaN;
  if (env !== undefined && env !== '' && !Number.isInteger(fromEnv))
    throw new Error(`FAULTS_SEED (${env}) must be an integer`);
  const seed = Number.isInteger(fromEnv) ? fromEnv >>> 0 : randomInt(0, 2 ** 32);
  console.log(`[faults] ${suite} seed=${seed} (replay: FAULTS_SEED=${seed})`);
  const next = mulberry32(seed);
  return { seed, next, int: (n) => Math.floor(next() * n) };
}
