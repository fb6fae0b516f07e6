/**
 * PyTorch parity of the batch-norm layers as they train: `wg.nn.BatchNorm2d` and
 * `wg.nn.BatchNorm1d` against torch.nn.BatchNorm2d/1d (Debian's python3-torch, float32) over
 * three training steps (forward, backward of sum(y · w), SGD on weight and bias), then one eval
 * forward. Compared at every step: the output, the gradients of x, weight and bias, the running
 * mean and variance and num_batches_tracked; the state dict's names and values at the end.
 * Fails, never skips, when PyTorch is missing (CI installs it).
 */

import { describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import type { Tensor } from '../../engine/index.js';
import { expectClose } from '../helpers/numeric.js';
import { runTorch } from '../helpers/torch.js';
import { prng } from './harness.js';

const TORCH_SCRIPT = String.raw`
import json, sys, torch
torch.set_grad_enabled(True)
cases = json.load(sys.stdin)
out = []
for c in cases:
    Layer = torch.nn.BatchNorm2d if c["kind"] == "2d" else torch.nn.BatchNorm1d
    m = c["momentum"]
    bn = Layer(c["channels"], momentum=m, eps=c["eps"])
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(c["weight"]))
        bn.bias.copy_(torch.tensor(c["bias"]))
    opt = torch.optim.SGD(bn.parameters(), lr=c["lr"])
    steps = []
    bn.train()
    for s in c["steps"]:
        x = torch.tensor(s["x"], dtype=torch.float32).reshape(s["shape"]).requires_grad_(True)
        opt.zero_grad()
        y = bn(x)
        (y * torch.tensor(s["w"]).reshape(y.shape)).sum().backward()
        steps.append({
            "y": y.detach().flatten().tolist(),
            "dx": x.grad.flatten().tolist(),
            "dweight": bn.weight.grad.tolist(),
            "dbias": bn.bias.grad.tolist(),
        })
        opt.step()
        steps[-1].update({
            "running_mean": bn.running_mean.tolist(),
            "running_var": bn.running_var.tolist(),
            "num_batches_tracked": int(bn.num_batches_tracked),
        })
    bn.eval()
    e = c["eval"]
    with torch.no_grad():
        ye = bn(torch.tensor(e["x"], dtype=torch.float32).reshape(e["shape"]))
    state = {k: v.flatten().tolist() for k, v in bn.state_dict().items()}
    out.append({"steps": steps, "eval": ye.flatten().tolist(), "state": state})
print(json.dumps(out))
`;

interface Step {
  readonly x: number[];
  readonly shape: number[];
  readonly w: number[];
}

interface LayerCase {
  readonly kind: '1d' | '2d';
  readonly channels: number;
  readonly momentum: number;
  readonly eps: number;
  readonly lr: number;
  readonly weight: number[];
  readonly bias: number[];
  readonly steps: Step[];
  readonly eval: { readonly x: number[]; readonly shape: number[] };
}

interface TorchStep {
  readonly y: number[];
  readonly dx: number[];
  readonly dweight: number[];
  readonly dbias: number[];
  readonly running_mean: number[];
  readonly running_var: number[];
  readonly num_batches_tracked: number;
}

interface TorchResult {
  readonly steps: TorchStep[];
  readonly eval: number[];
  readonly state: Record<string, number[]>;
}

/** f32-exact uniforms in [lo, hi), seeded. */
function values(next: () => number, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => Math.fround(lo + next() * (hi - lo)));
}

function makeCase(
  kind: '1d' | '2d',
  channels: number,
  shapes: number[][],
  momentum: number,
  seed: number,
): LayerCase {
  const next = prng(seed);
  const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);
  // Each batch has its own offset and scale, so the running statistics move at every step.
  const steps = shapes.map((shape, k) => ({
    x: values(next, size(shape), -1 - k, 2 + 2 * k),
    shape,
    w: values(next, size(shape), -1, 1),
  }));
  const evalShape = shapes[0]!;
  return {
    kind,
    channels,
    momentum,
    eps: 1e-5,
    lr: 0.1,
    weight: values(next, channels, 0.5, 2),
    bias: values(next, channels, -1, 1),
    steps,
    eval: { x: values(next, size(evalShape), -2, 3), shape: evalShape },
  };
}

const CASES: readonly LayerCase[] = [
  makeCase(
    '2d',
    3,
    [
      [4, 3, 5, 5],
      [2, 3, 5, 5],
      [3, 3, 4, 6],
    ],
    0.1,
    11,
  ),
  makeCase(
    '1d',
    4,
    [
      [8, 4],
      [5, 4],
      [6, 4],
    ],
    0.3,
    12,
  ),
  makeCase(
    '1d',
    2,
    [
      [3, 2, 7],
      [4, 2, 7],
      [2, 2, 7],
    ],
    0.1,
    13,
  ),
];

const TOL = { rtol: 1e-5, atol: 1e-5 };

function data(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function runOurs(c: LayerCase): {
  steps: TorchStep[];
  eval: number[];
  state: Map<string, number[]>;
} {
  return wg.tidy(() => {
    const bn =
      c.kind === '2d'
        ? new wg.nn.BatchNorm2d(c.channels, { momentum: c.momentum, eps: c.eps })
        : new wg.nn.BatchNorm1d(c.channels, { momentum: c.momentum, eps: c.eps });
    bn.weight!.assign(wg.tensor(c.weight));
    bn.bias!.assign(wg.tensor(c.bias));
    const opt = new wg.optim.SGD(bn.parameters(), { lr: c.lr });
    bn.train();
    const steps = c.steps.map((s) =>
      wg.tidy(() => {
        const x = wg.tensor(Float32Array.from(s.x), { shape: s.shape, requiresGrad: true });
        opt.zeroGrad();
        const y = bn.forward(x);
        y.mul(wg.tensor(Float32Array.from(s.w), { shape: s.shape }))
          .sum()
          .backward();
        const step = {
          y: data(y),
          dx: data(x.grad!),
          dweight: data(bn.weight!.grad!),
          dbias: data(bn.bias!.grad!),
        };
        opt.step();
        return {
          ...step,
          running_mean: data(bn.runningMean),
          running_var: data(bn.runningVar),
          num_batches_tracked: bn.numBatchesTracked.item(),
        };
      }),
    );
    bn.eval();
    const e = c.eval;
    const ye = wg.noGrad(() => bn.forward(wg.tensor(Float32Array.from(e.x), { shape: e.shape })));
    const state = new Map([...bn.stateDict()].map(([k, v]) => [k, data(v)] as const));
    return { steps, eval: data(ye), state };
  });
}

describe('batch-norm layers match torch.nn.BatchNorm over three training steps', () => {
  const theirs = runTorch(TORCH_SCRIPT, CASES) as TorchResult[];

  it.each(CASES.map((c, i) => [`BatchNorm${c.kind} ${JSON.stringify(c.steps[0]!.shape)}`, i]))(
    '%s',
    (_name, i) => {
      const c = CASES[i as number]!;
      const ref = theirs[i as number]!;
      const ours = runOurs(c);
      expect(ours.steps).toHaveLength(3);
      ours.steps.forEach((s, k) => {
        const r = ref.steps[k]!;
        const at = `step ${k + 1}`;
        expectClose(s.y, r.y, TOL, `${at} output`);
        expectClose(s.dx, r.dx, TOL, `${at} gradient of x`);
        expectClose(s.dweight, r.dweight, TOL, `${at} gradient of weight`);
        expectClose(s.dbias, r.dbias, TOL, `${at} gradient of bias`);
        expectClose(s.running_mean, r.running_mean, TOL, `${at} running_mean`);
        expectClose(s.running_var, r.running_var, TOL, `${at} running_var`);
        expect(s.num_batches_tracked, `${at} num_batches_tracked`).toBe(r.num_batches_tracked);
      });
      // The statistics really moved: the test would not pass with them frozen at 0 and 1.
      expect(ours.steps[2]!.running_mean.some((v) => Math.abs(v) > 0.05)).toBe(true);
      expectClose(ours.eval, ref.eval, TOL, 'eval output');
      expect([...ours.state.keys()].sort()).toEqual(Object.keys(ref.state).sort());
      for (const [name, v] of ours.state) expectClose(v, ref.state[name]!, TOL, name);
    },
  );
});
