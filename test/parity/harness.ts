/**
 * The machinery of the PyTorch parity test: a parity case names an op (a registered op, run
 * through `runOp` with exactly the attributes PyTorch receives, or a composite such as `mean`
 * with its own `run`), describes seeded inputs, and states its tolerances. `materialise` turns
 * a case into data (a small host PRNG seeded by the case id, so each case's numbers stay the
 * same when cases are added or reordered), `runWiregrad` computes our output and the gradients
 * of sum(out · w) for random weights w, and `runTorch` sends every case to torch_ref.py in one
 * Python process (importing torch takes seconds).
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as wg from '../../engine/index.js';
import type { DType, Tensor } from '../../engine/index.js';
import type { Tolerance } from '../helpers/numeric.js';

/** Debian's interpreter, which has python3-torch; the first python3 on PATH may lack it. */
export const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./torch_ref.py', import.meta.url));

/** One input of a case: random values in [lo, hi), or explicit `data`. */
export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Floats: uniform in [lo, hi). Integers: uniform in [lo, hi - 1]. Bools: ignored. */
  readonly lo: number;
  readonly hi: number;
  /** Rounds floats to multiples of `step`, to get exact zeros and ties (relu, max, compare). */
  readonly step?: number;
  /** Whether the input's gradient is compared (default: float inputs of differentiable ops). */
  readonly grad?: boolean;
  readonly data?: readonly number[];
}

export interface ParityCase {
  /** Unique and stable: it names the test and seeds the case's numbers. */
  readonly id: string;
  /** The engine op (or composite function) this case covers; also torch_ref.py's key. */
  readonly op: string;
  readonly inputs: readonly InputSpec[];
  readonly attrs: Readonly<Record<string, unknown>>;
  /** How Wiregrad computes the case; default `runOp(op, inputs, attrs)`. */
  readonly run?: (xs: Tensor[]) => Tensor;
  /** Forward tolerance (default rtol 1e-5, atol 1e-6). */
  readonly tol?: Tolerance;
}

/** Float32 parity: 1e-5 relative; the absolute floor covers results that round to near 0. */
export const F32: Tolerance = { rtol: 1e-5, atol: 1e-6 };

/**
 * Results that are sums of k products (matmul, conv, reductions, the gradients of broadcasts):
 * the two libraries add in different orders, so float32 rounding differs by about
 * sqrt(k)·eps·|term|; the absolute floor grows with sqrt(k).
 */
export const longSum = (k: number): Tolerance => ({ rtol: 1e-5, atol: Math.sqrt(k) * 1e-6 });

/** An input materialised: what both sides receive. */
export interface InputData {
  readonly data: number[];
  readonly shape: number[];
  readonly dtype: DType;
  readonly requiresGrad: boolean;
}

/** A result, from either side. Values are flat; bools are 0/1. */
export interface Result {
  readonly out: number[];
  readonly outShape: number[];
  readonly outDType: DType;
  /** One entry per input: its gradient, or null where gradients are not compared. */
  readonly grads?: (number[] | null)[];
}

export interface Materialised {
  readonly inputs: InputData[];
}

/** FNV-1a: a stable seed from the case id. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, seeded and good enough for test data. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isFloatDType = (d: DType): boolean => d === 'f32' || d === 'f64';

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function inputData(spec: InputSpec, next: () => number, differentiable: boolean): InputData {
  const n = sizeOf(spec.shape);
  let data: number[];
  if (spec.data) {
    if (spec.data.length !== n)
      throw new Error(`input data has ${spec.data.length} values, shape needs ${n}`);
    data = [...spec.data];
  } else if (spec.dtype === 'bool') {
    data = Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
  } else if (spec.dtype === 'i32') {
    data = Array.from({ length: n }, () => spec.lo + Math.floor(next() * (spec.hi - spec.lo)));
  } else {
    data = Array.from({ length: n }, () => {
      let v = spec.lo + next() * (spec.hi - spec.lo);
      if (spec.step) v = Math.round(v / spec.step) * spec.step;
      // f32 cases send values exactly representable in float32, so both sides start equal.
      return spec.dtype === 'f32' ? Math.fround(v) : v;
    });
  }
  const requiresGrad = spec.grad ?? (differentiable && isFloatDType(spec.dtype));
  return { data, shape: [...spec.shape], dtype: spec.dtype, requiresGrad };
}

/**
 * Whether the case's op has a gradient to compare: registered ops say so in the registry (a
 * gradient rule, or a decomposition whose primitives have them).
 */
function differentiable(c: ParityCase): boolean {
  const def = wg.listOps().find((d) => d.name === c.op);
  return def ? def.gradient !== undefined || def.decompose !== undefined : true;
}

export function materialise(c: ParityCase): Materialised {
  const next = prng(hashId(c.id));
  const diff = differentiable(c);
  return { inputs: c.inputs.map((spec) => inputData(spec, next, diff)) };
}

function typedArray(
  dtype: DType,
  data: readonly number[],
): Float32Array | Float64Array | Int32Array | Uint8Array {
  switch (dtype) {
    case 'f32':
      return Float32Array.from(data);
    case 'f64':
      return Float64Array.from(data);
    case 'i32':
      return Int32Array.from(data);
    case 'bool':
      return Uint8Array.from(data);
    default:
      return dtype satisfies never;
  }
}

/** Gradient weights for a case: seeded from its id, f32-exact, in [-1, 1). */
export function gradWeights(id: string, size: number): number[] {
  const next = prng(hashId(id) ^ 0x9e3779b9);
  return Array.from({ length: size }, () => Math.fround(next() * 2 - 1));
}

/** Our side: the output, and the gradients of sum(out · w) where inputs require them. */
export function runWiregrad(
  c: ParityCase,
  m: Materialised,
): { result: Result; weights: number[] | null } {
  return wg.tidy(() => {
    const xs = m.inputs.map((x) => {
      const t = wg.tensor(typedArray(x.dtype, x.data), { shape: x.shape, dtype: x.dtype });
      t.requiresGrad = x.requiresGrad;
      return t;
    });
    const y = c.run ? c.run(xs) : wg.runOp(c.op, xs, c.attrs);
    const out = Array.from(y.dataSync());
    const result: Result = { out, outShape: [...y.shape], outDType: y.dtype };
    if (!isFloatDType(y.dtype) || !m.inputs.some((x) => x.requiresGrad))
      return { result, weights: null };
    const weights = gradWeights(c.id, y.size);
    if (y.requiresGrad)
      y.backward(wg.tensor(typedArray(y.dtype, weights), { shape: y.shape, dtype: y.dtype }));
    const grads = xs.map((x, i) => {
      if (!m.inputs[i]!.requiresGrad) return null;
      return x.grad ? Array.from(x.grad.dataSync()) : new Array<number>(x.size).fill(0);
    });
    return { result: { ...result, grads }, weights };
  });
}

/** What torch_ref.py receives for one case. */
export interface TorchCase {
  readonly id: string;
  readonly op: string;
  readonly attrs: object;
  readonly inputs: readonly InputData[];
  readonly grad_weights: readonly number[] | null;
}

/** Torch's side, for every case at once. Throws with what to install if torch is missing. */
export function runTorch(cases: readonly TorchCase[]): Map<string, Result | { error: string }> {
  const input = JSON.stringify(cases, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
  const proc = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (proc.error)
    throw new Error(
      `cannot run ${PYTHON} (${proc.error.message}): the parity tests need Debian's python3 ` +
        `with python3-torch (apt-get install python3-torch)`,
    );
  if (proc.status !== 0)
    throw new Error(
      `${PYTHON} ${SCRIPT} exited with ${proc.status}` +
        (proc.status === 3 ? ' (PyTorch is missing: apt-get install python3-torch)' : '') +
        `:\n${proc.stderr}`,
    );
  const parsed = JSON.parse(proc.stdout, (_k, v: unknown) =>
    v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
  ) as Record<string, Result | { error: string }>;
  return new Map(Object.entries(parsed));
}
