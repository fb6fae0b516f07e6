/**
 * `gradients(output, wrt)` where one requested tensor depends on another: each result is the
 * total derivative (PyTorch's `torch.autograd.grad` semantics), so a target's gradient also
 * flows on to the targets behind it; and what no target needs is neither computed nor leaked.
 */

import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';

describe('gradients with targets that depend on each other', () => {
  it('gives the total gradient of a target behind another target', async () => {
    const a = wg.tensor([0.5, -1.5, 2], { requiresGrad: true });
    const b = wg.tensor([1.25, 0.75, -0.5], { requiresGrad: true });
    const ab = a.mul(b);
    const n = ab.tanh();
    const o = n.add(ab).sum();
    const [dn, dab, da] = wg.gradients(o, [n, ab, a]);
    const abv = [0.5 * 1.25, -1.5 * 0.75, 2 * -0.5];
    // o = Σ tanh(ab) + ab: ∂o/∂n = 1; ∂o/∂ab = 1 + (1 − tanh²(ab)); ∂o/∂a = ∂o/∂ab · b.
    const dabWant = abv.map((v) => 1 + (1 - Math.tanh(v) ** 2));
    expect(Array.from(await dn!.data())).toEqual([1, 1, 1]);
    Array.from(await dab!.data()).forEach((v, i) => expect(v).toBeCloseTo(dabWant[i]!, 6));
    const bv = [1.25, 0.75, -0.5];
    Array.from(await da!.data()).forEach((v, i) => expect(v).toBeCloseTo(dabWant[i]! * bv[i]!, 6));
    // The same as asking for each target alone.
    const [alone] = wg.gradients(o, [ab]);
    expect(Array.from(await alone!.data())).toEqual(Array.from(await dab!.data()));
  });

  it('leaks nothing, and leaves .grad untouched', () => {
    const a = wg.tensor([1, 2, 3], { requiresGrad: true });
    const c = wg.tensor([3, 1, 4], { requiresGrad: true });
    const before = wg.memory().tensors;
    const results = wg.tidy(() => {
      const h = a.mul(2).exp();
      // c is reached but not requested: its gradient must not be kept anywhere.
      const o = h.mul(c).add(h).sum();
      return wg.gradients(o, [h]);
    });
    expect(wg.memory().tensors).toBe(before + 1);
    expect(a.grad ?? null).toBeNull();
    expect(c.grad ?? null).toBeNull();
    wg.dispose(results);
    expect(wg.memory().tensors).toBe(before);
  });
});
