import { afterEach, describe, expect, it } from 'vitest';
import * as wg from '../../index.js';
import { cpuBackend } from './index.js';
import { expectClose } from '../../../test/helpers/numeric.js';

/** Runs `f` once with the WebAssembly kernels and once with the reference kernels. */
function both(f: () => wg.Tensor): [Float32Array, Float32Array] {
  cpuBackend.variant = 'fast';
  const fast = wg.tidy(() => f().dataSync()) as Float32Array;
  cpuBackend.variant = 'reference';
  const ref = wg.tidy(() => f().dataSync()) as Float32Array;
  return [fast, ref];
}

afterEach(() => {
  cpuBackend.variant = 'fast';
});

describe('CPU fast kernels agree with the reference kernels', () => {
  it('are active on this host', () => {
    expect(cpuBackend.fastKernelInfo).toMatch(/WebAssembly SIMD/);
  });

  const mm: [number[], number[], wg.ops.MatmulOptions][] = [
    [[7, 13], [13, 5], {}],
    [[33, 65], [17, 65], { transposeB: true }],
    [[65, 33], [65, 17], { transposeA: true }],
    [[20, 9], [30, 20], { transposeA: true, transposeB: true }],
    [[2, 3, 8, 5], [3, 5, 6], {}],
    [[128, 200], [200, 10], {}],
  ];
  it.each(mm)('matmul %j @ %j %j', (sa, sb, opts) => {
    const [fast, ref] = both(() =>
      wg.ops.matmul(wg.randn(sa, { seed: 1 }), wg.randn(sb, { seed: 2 }), opts),
    );
    const k = opts.transposeA ? sa[sa.length - 2]! : sa[sa.length - 1]!;
    expectClose(fast, ref, { rtol: 1e-5, atol: 1e-6 * Math.sqrt(k) });
  });

  const binaries: [number[], number[]][] = [
    [[37], [37]],
    [[5, 9], []],
    [[], [5, 9]],
    [[6, 11], [11]],
    [
      [3, 4, 5],
      [1, 5],
    ],
    [
      [4, 3],
      [4, 1],
    ], // a column: declined, the reference kernel runs
  ];
  for (const op of ['add', 'sub', 'mul', 'div'] as const)
    it.each(binaries)(`${op} %j with %j`, (sa, sb) => {
      const [fast, ref] = both(() =>
        wg.ops[op](wg.randn(sa, { seed: 3 }), wg.rand(sb, { seed: 4 }).add(0.5)),
      );
      expectClose(fast, ref, { rtol: 1e-6, atol: 0 });
    });

  it('relu keeps NaN and maps -0 and negatives to 0', () => {
    const [fast, ref] = both(() => wg.tensor([NaN, -1, -0, 0, 2.5, Infinity, -Infinity]).relu());
    expect(Array.from(fast)).toEqual(Array.from(ref));
    expect(Number.isNaN(fast[0])).toBe(true);
  });
});

describe('GEMM convolution agrees with the reference kernels', () => {
  const cases: [string, number[], number[], wg.ops.Conv2dOptions][] = [
    ['plain', [2, 3, 9, 8], [4, 3, 3, 3], {}],
    ['stride 2, padding 1', [1, 2, 11, 10], [3, 2, 3, 3], { stride: 2, padding: 1 }],
    ['dilation 2, groups 2', [2, 4, 10, 9], [6, 2, 3, 2], { dilation: 2, groups: 2 }],
    ['1×1', [3, 5, 4, 4], [2, 5, 1, 1], {}],
  ];
  it.each(cases)('%s: forward, input and filter gradients', (_name, xs, ws, opts) => {
    const run = () => {
      const x = wg.randn(xs, { seed: 5 });
      const w = wg.randn(ws, { seed: 6 });
      x.requiresGrad = true;
      w.requiresGrad = true;
      const y = wg.ops.conv2d(x, w, opts);
      y.mul(wg.randn(y.shape, { seed: 7 }))
        .sum()
        .backward();
      return wg.ops.concat([y.reshape([-1]), x.grad!.reshape([-1]), w.grad!.reshape([-1])]);
    };
    const [fast, ref] = both(run);
    expectClose(fast, ref, { rtol: 1e-5, atol: 1e-5 });
  });
});
