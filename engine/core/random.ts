/**
 * Counter-based random numbers: the value at index i of a tensor drawn with seed s is a pure
 * function of (s, i), built from 32-bit integer hashing only. Every device can compute the
 * same bits (WGSL has the same u32 multiply), so the same seed gives the same numbers on every
 * device and run, in any order and in parallel.
 */

/** A 32-bit integer finaliser with low bias (triple32-style xorshift-multiply rounds). */
export function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** 32 random bits for element `index` of the stream `seed`. */
export function randomBits(seed: number, index: number): number {
  const key = hash32((seed ^ 0x9e3779b9) >>> 0);
  return hash32((hash32((index + key) >>> 0) ^ seed) >>> 0);
}

/** A uniform number in [0, 1) with 24 random bits (exact in float32). */
export function uniformAt(seed: number, index: number): number {
  return (randomBits(seed, index) >>> 8) * 5.960464477539063e-8;
}

/** A standard normal number for element `index`, by Box–Muller on two uniform draws. */
export function normalAt(seed: number, index: number): number {
  const u1 = ((randomBits(seed, 2 * index) >>> 8) + 1) * 5.960464477539063e-8; // (0, 1]
  const u2 = (randomBits(seed, 2 * index + 1) >>> 8) * 5.960464477539063e-8;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

let globalSeed = 0;
let drawn = 0;

/** Sets the seed that random ops use when none is given, making whole programs reproducible. */
export function setSeed(seed: number): void {
  globalSeed = seed >>> 0;
  drawn = 0;
}

/** The next seed for a random op called without one. */
export function nextSeed(): number {
  return hash32((globalSeed + Math.imul(++drawn, 0x9e3779b1)) >>> 0);
}
