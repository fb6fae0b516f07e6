/**
 * Seeded synthetic 2-D classification sets for notebooks and tests: `spiral` (CS231n's
 * interleaved arms), `moons` and `circles` (as scikit-learn's make_moons/make_circles),
 * `xor` (quadrants) and `gaussians` (blobs on a circle). Each returns x [n, 2] f32, labels
 * y [n] i32 and the class count; the same options give the same points on every run. Points
 * are grouped by class; shuffle with a DataLoader or trainTestSplit. One regression set,
 * `sine`, gives numbers to predict instead: x [n, 1] and y = sin(x) + noise [n, 1], both f32.
 */

import { WiregradError } from '../core/errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { HostRandom } from './host-random.js';

export interface ClassificationSet {
  /** Points [n, 2], f32. */
  readonly x: Tensor;
  /** Labels [n], i32 in [0, classes). */
  readonly y: Tensor;
  readonly classes: number;
}

export interface SyntheticOptions {
  /** Standard deviation of the Gaussian noise (each set has its own default). */
  readonly noise?: number;
  /** Default 0. */
  readonly seed?: number;
}

function checkCount(name: string, n: number, classes: number): void {
  if (!Number.isInteger(n) || n < 0)
    throw new WiregradError(`${name}: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(classes) || classes < 1)
    throw new WiregradError(`${name}: classes must be a positive integer, got ${classes}`);
}

/** How many of n points class j gets when they are split as evenly as possible. */
const share = (n: number, classes: number, j: number): number =>
  Math.floor(n / classes) + (j < n % classes ? 1 : 0);

/** NumPy's linspace(start, stop, count): count points, both ends included. */
const linspace = (start: number, stop: number, count: number, i: number): number =>
  count === 1 ? start : start + ((stop - start) * i) / (count - 1);

class Builder {
  private readonly xs: Float32Array;
  private readonly ys: Int32Array;
  private k = 0;
  constructor(n: number) {
    this.xs = new Float32Array(2 * n);
    this.ys = new Int32Array(n);
  }
  push(a: number, b: number, label: number): void {
    this.xs[2 * this.k] = a;
    this.xs[2 * this.k + 1] = b;
    this.ys[this.k++] = label;
  }
  build(classes: number): ClassificationSet {
    const n = this.ys.length;
    return {
      x: tensor(this.xs, { shape: [n, 2], dtype: 'f32' }),
      y: tensor(this.ys, { shape: [n], dtype: 'i32' }),
      classes,
    };
  }
}

/**
 * Interleaved spiral arms (CS231n): class j has radii 0..1 and angles 4j..4(j+1) radians, with
 * Gaussian noise of std `noise` (default 0.2) on the angle.
 */
export function spiral(
  n: number,
  options: SyntheticOptions & { readonly classes?: number } = {},
): ClassificationSet {
  const { classes = 3, noise = 0.2, seed = 0 } = options;
  checkCount('spiral', n, classes);
  const rng = new HostRandom(seed);
  const out = new Builder(n);
  for (let j = 0; j < classes; j++) {
    const count = share(n, classes, j);
    for (let i = 0; i < count; i++) {
      const r = linspace(0, 1, count, i);
      const t = linspace(4 * j, 4 * (j + 1), count, i) + noise * rng.normal();
      out.push(r * Math.sin(t), r * Math.cos(t), j);
    }
  }
  return out.build(classes);
}

/** Two interleaved half circles (scikit-learn's make_moons); noise default 0.1. */
export function moons(n: number, options: SyntheticOptions = {}): ClassificationSet {
  const { noise = 0.1, seed = 0 } = options;
  checkCount('moons', n, 2);
  const rng = new HostRandom(seed);
  const out = new Builder(n);
  const outer = Math.floor(n / 2);
  const inner = n - outer;
  for (let i = 0; i < outer; i++) {
    const t = linspace(0, Math.PI, outer, i);
    out.push(Math.cos(t) + noise * rng.normal(), Math.sin(t) + noise * rng.normal(), 0);
  }
  for (let i = 0; i < inner; i++) {
    const t = linspace(0, Math.PI, inner, i);
    out.push(1 - Math.cos(t) + noise * rng.normal(), 0.5 - Math.sin(t) + noise * rng.normal(), 1);
  }
  return out.build(2);
}

/**
 * Two concentric circles (scikit-learn's make_circles): radius 1 (class 0) and `factor`
 * (default 0.5, class 1); noise default 0.05.
 */
export function circles(
  n: number,
  options: SyntheticOptions & { readonly factor?: number } = {},
): ClassificationSet {
  const { noise = 0.05, factor = 0.5, seed = 0 } = options;
  checkCount('circles', n, 2);
  if (!(factor >= 0 && factor < 1))
    throw new WiregradError(`circles: factor must be in [0, 1), got ${factor}`);
  const rng = new HostRandom(seed);
  const out = new Builder(n);
  const outer = Math.floor(n / 2);
  const inner = n - outer;
  for (const [count, radius, label] of [
    [outer, 1, 0],
    [inner, factor, 1],
  ] as const)
    for (let i = 0; i < count; i++) {
      const t = (2 * Math.PI * i) / count;
      out.push(
        radius * Math.cos(t) + noise * rng.normal(),
        radius * Math.sin(t) + noise * rng.normal(),
        label,
      );
    }
  return out.build(2);
}

/**
 * Points uniform in [−1, 1]², labelled 1 where exactly one coordinate is positive (the XOR of
 * the signs), then moved by Gaussian noise (default 0).
 */
export function xor(n: number, options: SyntheticOptions = {}): ClassificationSet {
  const { noise = 0, seed = 0 } = options;
  checkCount('xor', n, 2);
  const rng = new HostRandom(seed);
  const out = new Builder(n);
  for (let i = 0; i < n; i++) {
    const a = rng.range(-1, 1);
    const b = rng.range(-1, 1);
    out.push(a + noise * rng.normal(), b + noise * rng.normal(), a > 0 !== b > 0 ? 1 : 0);
  }
  return out.build(2);
}

/**
 * Gaussian blobs: class j centred at angle 2πj/classes on a circle of `radius` (default 2),
 * with standard deviation `std` (default 0.5) per coordinate.
 */
export function gaussians(
  n: number,
  options: {
    readonly classes?: number;
    readonly std?: number;
    readonly radius?: number;
    readonly seed?: number;
  } = {},
): ClassificationSet {
  const { classes = 3, std = 0.5, radius = 2, seed = 0 } = options;
  checkCount('gaussians', n, classes);
  const rng = new HostRandom(seed);
  const out = new Builder(n);
  for (let j = 0; j < classes; j++) {
    const angle = (2 * Math.PI * j) / classes;
    const [cx, cy] = [radius * Math.cos(angle), radius * Math.sin(angle)];
    for (let i = 0, count = share(n, classes, j); i < count; i++)
      out.push(cx + std * rng.normal(), cy + std * rng.normal(), j);
  }
  return out.build(classes);
}

/** A set of numbers to predict: inputs x [n, features] f32 and targets y [n, 1] f32. */
export interface RegressionSet {
  readonly x: Tensor;
  readonly y: Tensor;
}

/**
 * A noisy sine curve to fit (a 1-D regression): x uniform in [−range, range] (default 3, so
 * about one period), y = amplitude·sin(x) (amplitude default 1) plus Gaussian noise of std
 * `noise` (default 0.1). Shapes x [n, 1] and y [n, 1], both f32; points in random order.
 */
export function sine(
  n: number,
  options: SyntheticOptions & { readonly amplitude?: number; readonly range?: number } = {},
): RegressionSet {
  const { noise = 0.1, amplitude = 1, range = 3, seed = 0 } = options;
  checkCount('sine', n, 1);
  if (!(range > 0 && Number.isFinite(range)))
    throw new WiregradError(`sine: range must be a positive number, got ${range}`);
  if (!(noise >= 0)) throw new WiregradError(`sine: noise must be 0 or more, got ${noise}`);
  const rng = new HostRandom(seed);
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = rng.range(-range, range);
    ys[i] = amplitude * Math.sin(xs[i]!) + noise * rng.normal();
  }
  return {
    x: tensor(xs, { shape: [n, 1], dtype: 'f32' }),
    y: tensor(ys, { shape: [n, 1], dtype: 'f32' }),
  };
}
