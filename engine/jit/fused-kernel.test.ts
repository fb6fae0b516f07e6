import { afterEach, describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { cpuBackend } from '../backend/cpu/index.js';
import { expectClose, uniform } from '../../test/helpers/numeric.js';
import { formatProgram, parseProgram } from './program.js';

type T = wg.Tensor;

afterEach(() => {
  cpuBackend.variant = 'fast';
});

/** Runs a program with the generated SIMD kernel and with the interpreter. */
function bothKernels(program: string, inputs: T[]): { simd: Float32Array; interp: Float32Array } {
  cpuBackend.variant = 'fast';
  const simd = wg.runOp('fusedElementwise', inputs, { program }).dataSync() as Float32Array;
  cpuBackend.variant = 'reference';
  const interp = wg.runOp('fusedElementwise', inputs, { program }).dataSync() as Float32Array;
  cpuBackend.variant = 'fast';
  return { simd, interp };
}

const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-40, 1.17549435e-38, 3.4e38];

/** A sweep over [-range, range] plus the special values, as f32. */
function sweep(range: number, n = 20001): T {
  const xs = Float32Array.from({ length: n }, (_, i) => -range + (2 * range * i) / (n - 1));
  return wg.tensor(Float32Array.from([...SPECIALS, ...xs]));
}

describe('fused programs', () => {
  it('parse to a canonical text and reject malformed programs with a clear message', () => {
    const p = parseProgram('add(x0,x1) ;  leakyRelu(t0, alpha=0.2);cast(t1, dtype=bool)');
    expect(p.text).toBe('add(x0, x1); leakyRelu(t0, alpha=0.2); cast(t1, dtype=bool)');
    expect(p.inputCount).toBe(2);
    expect(
      formatProgram([
        {
          op: 'mul',
          args: [
            { kind: 'input', index: 0 },
            { kind: 'const', value: -0 },
          ],
        },
      ]),
    ).toBe('mul(x0, -0)');
    expect(() => parseProgram('matmul(x0, x1)')).toThrow(/'matmul' cannot be fused/);
    expect(() => parseProgram('add(x0, t3)')).toThrow(/t3 is used before it is computed/);
    expect(() => parseProgram('exp(x0, x1)')).toThrow(/exp takes 1 operands, got 2/);
    expect(() =>
      wg.runOp('fusedElementwise', [uniform([2], 1)], { program: 'add(x0, x1)' }),
    ).toThrow(/reads 2 inputs, but 1 are connected/);
    expect(() =>
      wg.runOp('fusedElementwise', [uniform([2], 1), uniform([3], 2)], { program: 'add(x0, x1)' }),
    ).toThrow(/t0 = add\(x0, x1\).*\[2\].*\[3\]/);
  });
});

describe('the SIMD kernel against the interpreter (which equals the unfused reference kernels)', () => {
  it('is bit-identical for exactly rounded ops, on every layout, with tails', () => {
    const program =
      'add(x0, x1); mul(t0, x2); sub(t1, 0.25); div(t2, x1); maximum(t3, x0); minimum(t4, x2); ' +
      'sqrt(t5); neg(t6); abs(t7); relu(t8); sign(t0); add(t9, t10); leakyRelu(t11, alpha=0.01)';
    for (const [rows, cols] of [
      [1, 1],
      [1, 7],
      [3, 5],
      [4, 8],
      [2, 33],
    ] as const) {
      const x = wg.tensor(
        Float32Array.from({ length: rows * cols }, (_, i) => SPECIALS[i % 10]! || i - 7),
        { shape: [rows, cols] },
      );
      const row = uniform([cols], 2, 0.5, 2);
      const s = wg.scalar(1.5);
      for (const inputs of [
        [x, row, s],
        [x, x, row],
        [x, s, x],
      ]) {
        const { simd, interp } = bothKernels(program, inputs);
        expect(Array.from(simd)).toEqual(Array.from(interp));
      }
    }
  });

  it('reads and writes bool values (masks) exactly', () => {
    const x = uniform([37], 3);
    const m = uniform([37], 4).greater(0);
    const program =
      'greater(x0, 0); equal(t0, x1); where(t1, x0, -1); less(t2, 0.5); cast(t3, dtype=f32); less(t4, x0)';
    cpuBackend.variant = 'fast';
    const simd = wg.runOp('fusedElementwise', [x, m], { program }).dataSync();
    cpuBackend.variant = 'reference';
    const interp = wg.runOp('fusedElementwise', [x, m], { program }).dataSync();
    expect(Array.from(simd)).toEqual(Array.from(interp));
  });

  it('exp, log, tanh and sigmoid are within 2e-6 relative over the float range, specials exact', () => {
    const cases: [string, T][] = [
      ['exp(x0)', sweep(88)],
      ['exp(x0)', sweep(1)],
      ['log(x0)', sweep(1e30)],
      ['log(x0)', sweep(4)],
      ['tanh(x0)', sweep(12)],
      ['tanh(x0)', sweep(0.7)],
      ['sigmoid(x0)', sweep(90)],
      ['sigmoid(x0)', sweep(2)],
    ];
    for (const [program, x] of cases) {
      const { simd, interp } = bothKernels(program, [x]);
      // Results in the subnormal range have absolute precision 1.4e-45, not relative.
      expectClose(simd, interp, { rtol: 2e-6, atol: 3e-45 }, program);
      for (let i = 0; i < SPECIALS.length; i++)
        expect(
          Object.is(simd[i], interp[i]) ||
            Math.abs(simd[i]! - interp[i]!) <= 2e-6 * Math.abs(interp[i]!),
          `${program} at ${SPECIALS[i]}`,
        ).toBe(true);
    }
  });

  it('declines what it does not cover, and the interpreter runs instead', () => {
    // A column broadcast and erf: the interpreter's results, which equal the unfused ops'.
    const x = uniform([3, 4], 5);
    const col = uniform([3, 1], 6);
    const fused = wg.runOp('fusedElementwise', [x, col], { program: 'mul(x0, x1); erf(t0)' });
    expect(Array.from(fused.dataSync())).toEqual(Array.from(wg.ops.erf(x.mul(col)).dataSync()));
  });
});
