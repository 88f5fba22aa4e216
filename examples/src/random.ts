/**
 * Small, dependency-free deterministic randomness for handlers: a 32-bit integer hash and the
 * mulberry32 generator (public domain, Tommy Ettinger). Good enough for simulations and tests;
 * not for cryptography.
 */

/** Mixes any number of integers into one 32-bit unsigned integer (murmur3-style finalizer). */
export function hash32(...values: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v | 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ Math.floor(v / 0x1_0000_0000), 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform float in [0, 1) derived from the given integers only. */
export function uniformFrom(...values: readonly number[]): number {
  return hash32(...values) / 0x1_0000_0000;
}

/** mulberry32: returns a generator of uniform floats in [0, 1), fully determined by `seed`. */
export function mulberry32(seed: number): () => number {
  let state = hash32(seed);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** Standard normal variate from two uniforms (Box–Muller). */
export function gaussian(next: () => number): number {
  const u1 = 1 - next(); // (0, 1]: log stays finite
  const u2 = next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
