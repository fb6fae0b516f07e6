/**
 * The optimisers' fused steps (Adam/AdamW: three fused kernels per parameter; SGD: one, two
 * with momentum) against the same updates written op by op: equal to the bit on the CPU, over
 * several steps, and with far fewer kernels.
 */

import { describe, expect, it, vi } from 'vitest';
import * as wg from '../index.js';
import { cpuBackend } from '../backend/cpu/index.js';

/**
 * The unfused Adam update (no amsgrad; `decay`, AdamW's decoupled weight decay), as
 * torch.optim.Adam/AdamW compute it.
 */
function reference(
  p: Float32Array,
  grads: Float32Array[],
  lr: number,
  [beta1, beta2]: readonly [number, number],
  eps: number,
  decay = 0,
): Float32Array {
  let param = wg.tensor(p);
  let m: wg.Tensor | null = null;
  let v: wg.Tensor | null = null;
  grads.forEach((gData, i) => {
    const t = i + 1;
    if (decay !== 0) param = param.mul(1 - lr * decay);
    const g = wg.tensor(gData);
    const gScaled = g.mul(1 - beta1);
    const g2Scaled = g.mul(g).mul(1 - beta2);
    m = m ? m.mul(beta1).add(gScaled) : gScaled;
    v = v ? v.mul(beta2).add(g2Scaled) : g2Scaled;
    const denom = v
      .sqrt()
      .div(Math.sqrt(1 - beta2 ** t))
      .add(eps);
    param = param.sub(m.mul(lr / (1 - beta1 ** t)).div(denom));
  });
  return param.dataSync() as Float32Array;
}

const values = (n: number, seed: number): Float32Array =>
  wg.randn([n], { seed }).dataSync() as Float32Array;

describe('fused optimiser steps', () => {
  it('equals the op-by-op update to the bit over five steps', () => {
    const start = values(1000, 1);
    const grads = Array.from({ length: 5 }, (_, k) => values(1000, 10 + k));
    for (const options of [
      { lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8 },
      { lr: 0.05, betas: [0.8, 0.95] as const, eps: 1e-6 },
    ]) {
      const want = wg.tidy(() => reference(start, grads, options.lr, options.betas, options.eps));
      const p = wg.tensor(start);
      p.requiresGrad = true;
      const opt = new wg.optim.Adam([p], options);
      for (const g of grads) {
        p.grad = wg.keep(wg.tensor(g));
        opt.step();
      }
      expect(Array.from(p.dataSync())).toEqual(Array.from(want));
    }
  });

  it('AdamW, with its decoupled decay, equals the op-by-op update to the bit too', () => {
    const start = values(500, 2);
    const grads = Array.from({ length: 4 }, (_, k) => values(500, 20 + k));
    const want = wg.tidy(() => reference(start, grads, 0.01, [0.9, 0.999], 1e-8, 0.05));
    const p = wg.tensor(start);
    p.requiresGrad = true;
    const opt = new wg.optim.AdamW([p], { lr: 0.01, weightDecay: 0.05 });
    for (const g of grads) {
      p.grad = wg.keep(wg.tensor(g));
      opt.step();
    }
    expect(Array.from(p.dataSync())).toEqual(Array.from(want));
  });

  it('runs three fused kernels and two scalars per parameter after the first step', () => {
    const p = wg.tensor(values(64, 3));
    p.requiresGrad = true;
    const opt = new wg.optim.Adam([p], { lr: 0.01 });
    p.grad = wg.keep(wg.tensor(values(64, 4)));
    opt.step(); // the first step creates the moments op by op
    const spy = vi.spyOn(cpuBackend, 'run');
    try {
      opt.step();
      const ops = spy.mock.calls.map((c) => c[0]);
      expect(ops.filter((op) => op === 'fusedElementwise')).toHaveLength(3);
      expect(ops.filter((op) => op !== 'fusedElementwise' && op !== 'fill')).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it("keeps the op-by-op path for Adam's L2 penalty and for amsgrad", () => {
    for (const options of [{ weightDecay: 0.01 }, { amsgrad: true }]) {
      const p = wg.tensor(values(8, 5));
      p.requiresGrad = true;
      const opt = new wg.optim.Adam([p], { lr: 0.01, ...options });
      p.grad = wg.keep(wg.tensor(values(8, 6)));
      opt.step();
      const spy = vi.spyOn(cpuBackend, 'run');
      try {
        opt.step();
        expect(spy.mock.calls.some((c) => c[0] === 'fusedElementwise')).toBe(false);
      } finally {
        spy.mockRestore();
      }
    }
  });

  it('SGD, plain and with momentum and dampening, equals the op-by-op update to the bit', () => {
    const start = values(300, 7);
    const grads = Array.from({ length: 4 }, (_, k) => values(300, 30 + k));
    for (const { momentum, dampening } of [
      { momentum: 0, dampening: 0 },
      { momentum: 0.9, dampening: 0.1 },
    ]) {
      const want = wg.tidy(() => {
        let p = wg.tensor(start);
        let buf: wg.Tensor | null = null;
        for (const gData of grads) {
          const g = wg.tensor(gData);
          let step = g;
          if (momentum !== 0) {
            buf = buf ? buf.mul(momentum).add(g.mul(1 - dampening)) : g;
            step = buf;
          }
          p = p.sub(step.mul(0.05));
        }
        return Array.from(p.dataSync());
      });
      const p = wg.tensor(start);
      p.requiresGrad = true;
      const opt = new wg.optim.SGD([p], { lr: 0.05, momentum, dampening });
      // The first step makes the momentum buffer op by op; the later ones are fused: one kernel
      // (two with momentum) and their scalars, nothing else.
      p.grad = wg.keep(wg.tensor(grads[0]!));
      opt.step();
      const spy = vi.spyOn(cpuBackend, 'run');
      try {
        for (const g of grads.slice(1)) {
          p.grad = wg.keep(wg.tensor(g));
          opt.step();
        }
        const ops = spy.mock.calls.map((c) => c[0]).filter((op) => op !== 'fill');
        expect(ops).toEqual(Array<string>(momentum === 0 ? 3 : 6).fill('fusedElementwise'));
      } finally {
        spy.mockRestore();
      }
      expect(Array.from(p.dataSync())).toEqual(want);
    }
  });
});
