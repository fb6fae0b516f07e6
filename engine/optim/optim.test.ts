import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { Tensor } from '../index.js';
import { expectClose } from '../../test/helpers/numeric.js';
import { hasTorch, runTorch } from '../../test/helpers/torch.js';
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  LinearWarmup,
  type Optimizer,
  SGD,
  StepLR,
} from './index.js';

const SHAPES = [[3, 4], [5]];

/** Deterministic f32 values in [-1, 1) from the engine's counter-based generator. */
function values(n: number, seed: number): number[] {
  return Array.from(wg.rand([n], { seed }).mul(2).sub(1).dataSync());
}

interface Case {
  readonly name: string;
  readonly kind: 'sgd' | 'adam' | 'adamw';
  /** PyTorch keyword arguments. */
  readonly torch: Record<string, number | boolean | number[]>;
  readonly make: (params: Tensor[]) => Optimizer<{ lr: number }>;
}

const CASES: Case[] = [
  { name: 'SGD', kind: 'sgd', torch: { lr: 0.1 }, make: (p) => new SGD(p, { lr: 0.1 }) },
  {
    name: 'SGD momentum, dampening, weight decay',
    kind: 'sgd',
    torch: { lr: 0.05, momentum: 0.9, dampening: 0.3, weight_decay: 0.01 },
    make: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 }),
  },
  {
    name: 'SGD Nesterov',
    kind: 'sgd',
    torch: { lr: 0.05, momentum: 0.8, nesterov: true, weight_decay: 0.1 },
    make: (p) => new SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.1 }),
  },
  { name: 'Adam defaults', kind: 'adam', torch: { lr: 0.001 }, make: (p) => new Adam(p) },
  {
    name: 'Adam with L2 and custom betas',
    kind: 'adam',
    torch: { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weight_decay: 0.05 },
    make: (p) => new Adam(p, { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05 }),
  },
  {
    name: 'Adam amsgrad',
    kind: 'adam',
    torch: { lr: 0.01, amsgrad: true },
    make: (p) => new Adam(p, { lr: 0.01, amsgrad: true }),
  },
  { name: 'AdamW defaults', kind: 'adamw', torch: { lr: 0.001 }, make: (p) => new AdamW(p) },
  {
    name: 'AdamW strong decay',
    kind: 'adamw',
    torch: { lr: 0.02, weight_decay: 0.3, betas: [0.85, 0.95] },
    make: (p) => new AdamW(p, { lr: 0.02, weightDecay: 0.3, betas: [0.85, 0.95] }),
  },
];

const STEPS = 5;
const INIT = SHAPES.map((s, i) =>
  values(
    s.reduce((a, b) => a * b, 1),
    100 + i,
  ),
);
/** Gradients per step and parameter; parameter 1 has none at step 2 (it must be skipped). */
const GRADS: (number[] | null)[][] = Array.from({ length: STEPS }, (_, k) =>
  SHAPES.map((s, i) =>
    k === 2 && i === 1
      ? null
      : values(
          s.reduce((a, b) => a * b, 1),
          1000 + 10 * k + i,
        ).map((v) => v * (k + 1)),
  ),
);

/** Our parameter values after each step. */
function runOurs(c: Case): number[][][] {
  const params = INIT.map((v, i) =>
    wg.keep(wg.tensor(Float32Array.from(v), { shape: SHAPES[i]!, requiresGrad: true })),
  );
  const opt = c.make(params);
  const out: number[][][] = [];
  for (const step of GRADS) {
    params.forEach((p, i) => {
      const g = step[i];
      p.grad = g ? wg.keep(wg.tensor(Float32Array.from(g), { shape: SHAPES[i]! })) : null;
    });
    opt.step();
    out.push(params.map((p) => Array.from(p.dataSync())));
    opt.zeroGrad();
  }
  opt.dispose();
  wg.dispose(params);
  return out;
}

const TORCH_OPTIMIZERS = `
import sys, json, torch
inp = json.load(sys.stdin)
out = []
for c in inp['cases']:
    ps = [torch.tensor(v, dtype=torch.float32).reshape(s).requires_grad_()
          for v, s in zip(inp['init'], inp['shapes'])]
    cls = {'sgd': torch.optim.SGD, 'adam': torch.optim.Adam, 'adamw': torch.optim.AdamW}[c['kind']]
    opt = cls(ps, foreach=False, **c['torch'])
    steps = []
    for g in inp['grads']:
        for p, gv, s in zip(ps, g, inp['shapes']):
            p.grad = None if gv is None else torch.tensor(gv, dtype=torch.float32).reshape(s)
        opt.step()
        steps.append([p.detach().reshape(-1).tolist() for p in ps])
    out.append(steps)

from torch.optim import lr_scheduler as S
def rates(make, n):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    s = make(opt)
    lrs = [opt.param_groups[0]['lr']]
    for _ in range(n):
        opt.step(); s.step(); lrs.append(opt.param_groups[0]['lr'])
    return lrs
print(json.dumps({'steps': out, 'rates': [
    rates(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12),
    rates(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01), 25),
    rates(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 8),
]}))
`;

describe.skipIf(!hasTorch)('optimizers match torch.optim (PyTorch via python3)', () => {
  const reference = hasTorch
    ? (runTorch(TORCH_OPTIMIZERS, {
        cases: CASES.map((c) => ({ kind: c.kind, torch: c.torch })),
        init: INIT,
        shapes: SHAPES,
        grads: GRADS,
      }) as { steps: number[][][][]; rates: number[][] })
    : { steps: [], rates: [] };

  CASES.forEach((c, ci) => {
    it(`${c.name}: ${STEPS} steps agree to 1e-6 relative`, () => {
      const ours = runOurs(c);
      for (let k = 0; k < STEPS; k++)
        for (let i = 0; i < SHAPES.length; i++)
          expectClose(
            ours[k]![i]!,
            reference.steps[ci]![k]![i]!,
            { rtol: 1e-6, atol: 1e-7 },
            `step ${k + 1}, param ${i}`,
          );
    });
  });

  it('schedules give torch.optim.lr_scheduler rates epoch by epoch', () => {
    const torchRates = reference.rates;
    const ours = (make: (o: SGD) => { step(): number }, n: number): number[] => {
      const p = wg.zeros([1], { requiresGrad: true });
      const opt = new SGD([p], { lr: 0.5 });
      const s = make(opt);
      const out = [opt.lr];
      for (let e = 0; e < n; e++) out.push(s.step());
      p.dispose();
      return out;
    };
    expectClose(
      ours((o) => new StepLR(o, { stepSize: 3, gamma: 0.5 }), 12),
      torchRates[0]!,
      { rtol: 1e-12 },
    );
    expectClose(
      ours((o) => new CosineAnnealingLR(o, { tMax: 10, etaMin: 0.01 }), 25),
      torchRates[1]!,
      {
        rtol: 1e-9,
        atol: 1e-12,
      },
    );
    expectClose(
      ours((o) => new LinearWarmup(o, { steps: 4, startFactor: 0.25 }), 8),
      torchRates[2]!,
      {
        rtol: 1e-12,
      },
    );
  });
});

describe('optimizers', () => {
  it('SGD with momentum follows the update by hand', () => {
    // p = 1, g = 2 then 3, momentum 0.5, lr 0.1: b1 = 2, p = 0.8; b2 = 0.5·2 + 3 = 4, p = 0.4.
    const p = wg.tensor([1], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
    for (const g of [2, 3]) {
      p.grad = wg.tensor([g]);
      opt.step();
    }
    expectClose(p.dataSync(), [0.4], { rtol: 1e-6 });
  });

  it('Adam’s first step moves every coordinate by lr against the gradient’s sign', () => {
    // After one step m̂ = g and v̂ = g², so the update is lr·g/(|g| + ε) ≈ lr·sign(g).
    const p = wg.tensor([0, 0, 0], { requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = wg.tensor([3, -0.5, 1e-3]);
    opt.step();
    expectClose(p.dataSync(), [-0.1, 0.1, -0.1], { rtol: 1e-4 });
  });

  it('step updates parameters in place, keeps them leaves and frees every intermediate', () => {
    const p = wg.keep(wg.rand([4, 4], { seed: 1, requiresGrad: true }));
    const id = p.id;
    const opt = new AdamW([p], { lr: 0.01 });
    const step = () => {
      wg.tidy(() => p.mul(p).sum().backward());
      opt.step();
      opt.zeroGrad();
    };
    step();
    const before = wg.memory();
    for (let i = 0; i < 50; i++) step();
    expect(wg.memory()).toEqual(before);
    expect(p.id).toBe(id);
    expect(p.requiresGrad).toBe(true);
    expect(p.producer).toBeNull();
    opt.dispose();
    p.dispose();
  });

  it('stateDict and loadStateDict resume training exactly', () => {
    const make = () => wg.tensor([0.5, -1, 2], { requiresGrad: true });
    const gradAt = (k: number) => wg.tensor([0.1 * k, -0.2, 0.3 + k]);
    const straight = make();
    const a = new Adam([straight], { lr: 0.05, amsgrad: true });
    for (let k = 0; k < 5; k++) {
      straight.grad = gradAt(k);
      a.step();
    }
    const resumed = make();
    const b = new Adam([resumed], { lr: 0.05, amsgrad: true });
    for (let k = 0; k < 3; k++) {
      resumed.grad = gradAt(k);
      b.step();
    }
    const saved = b.stateDict();
    expect([...saved.state.get(0)!.tensors.keys()].sort()).toEqual([
      'exp_avg',
      'exp_avg_sq',
      'max_exp_avg_sq',
    ]);
    const c = new Adam([resumed], { lr: 0.9 });
    c.loadStateDict(saved);
    b.dispose(); // the loaded state must not depend on b's tensors
    expect(c.lr).toBe(0.05);
    for (let k = 3; k < 5; k++) {
      resumed.grad = gradAt(k);
      c.step();
    }
    expect(Array.from(resumed.dataSync())).toEqual(Array.from(straight.dataSync()));
  });

  it('loadStateDict refuses state from another kind of optimizer or other shapes', () => {
    const p = wg.tensor([1, 2], { requiresGrad: true });
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = wg.tensor([1, 1]);
    sgd.step();
    expect(() => new Adam([p]).loadStateDict(sgd.stateDict())).toThrow(
      /Adam\.loadStateDict: the options .* are not Adam's/,
    );
    const q = wg.tensor([1, 2, 3], { requiresGrad: true });
    expect(() => new SGD([q], { lr: 0.1, momentum: 0.9 }).loadStateDict(sgd.stateDict())).toThrow(
      /momentum_buffer' of parameter 0 has shape \[2\], but the parameter is \[3\]/,
    );
  });

  it('rejects bad hyper-parameters with the optimizer and option named', () => {
    const p = wg.tensor([1], { requiresGrad: true });
    expect(() => new SGD([p], { lr: -1 })).toThrow(/SGD: lr must be >= 0/);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum needs/);
    expect(() => new Adam([p], { betas: [0.9, 1] })).toThrow(
      /Adam: betas\[1\] must be in \[0, 1\)/,
    );
    expect(() => new AdamW([])).toThrow(/AdamW: got an empty parameter list/);
    expect(() => new SGD([p, p], { lr: 1 })).toThrow(/appears more than once/);
  });

  it('a schedule sets the optimizer’s rate from construction on and resumes from its epoch', () => {
    const p = wg.tensor([1], { requiresGrad: true });
    const opt = new SGD([p], { lr: 1 });
    const s = new LinearWarmup(opt, { steps: 4, startFactor: 0.2 });
    expect(opt.lr).toBeCloseTo(0.2, 12);
    s.step();
    s.step();
    expect(opt.lr).toBeCloseTo(0.6, 12);
    const again = new LinearWarmup(new SGD([p], { lr: 1 }), { steps: 4, startFactor: 0.2 });
    again.loadStateDict(s.stateDict());
    expect(again.optimizer.lr).toBeCloseTo(0.6, 12);
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(/StepLR: stepSize must be a positive/);
  });
});
