/**
 * The PyTorch export, checked by running it: for every example graph, every template and the
 * op zoos, the exported module (run by Debian's python3-torch on the same inputs and weights)
 * gives the engine's outputs and parameter gradients to a relative error of 1e-4 (the largest
 * difference over the largest magnitude, per tensor); its state dict loads strictly; the
 * synthetic datasets train.py draws are the engine's points; and ops PyTorch lacks are refused
 * naming the node and the op. One Python process runs every model. BatchNorm layers are checked
 * in both of the module's modes: train() against the engine's training mode (batch statistics,
 * and the running statistics after the step), eval() against its eval mode (running statistics).
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import { type Graph, GraphBuilder } from '../../engine/index.js';
import { ExportError, exportGraph } from '../../engine/export/index.js';
import { saveSafetensors } from '../../engine/nn/safetensors.js';
import {
  isTrainable,
  runUpdatingStats,
  runningStatsNodes,
} from '../../engine/train/running-stats.js';
import { PYTHON, hasTorch } from '../helpers/torch.js';
import {
  batchNormCnn,
  batchNormParams,
  exampleGraphs,
  inputsFor,
  templateGraphs,
  zooGraphs,
} from './graphs.js';

const SCRIPT = fileURLToPath(new URL('./run_exported.py', import.meta.url));
const BATCH = 3;

interface TorchRun {
  readonly outputs: Record<string, number[]>;
  readonly grads: Record<string, number[]>;
  readonly buffers: Record<string, number[]>;
  readonly missing: string[];
  readonly unexpected: string[];
}

interface EngineRun {
  readonly outputs: Record<string, number[]>;
  /** Gradients by state-dict key. */
  readonly grads: Record<string, number[]>;
}

/** The largest difference over the largest reference magnitude. */
function relativeError(actual: readonly number[], expected: readonly number[]): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

const cases: [string, Graph][] = [
  ...exampleGraphs(),
  ...templateGraphs(),
  ...zooGraphs(),
  ['batchnorm-cnn', batchNormCnn()],
];

describe.skipIf(!hasTorch)('PyTorch export runs in PyTorch with the engine’s numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wiregrad-pytorch-'));
  const engine = new Map<string, EngineRun>();
  const code = new Map<string, string>();
  let torch: {
    models: Record<string, TorchRun>;
    datasets: Record<string, { x: number[]; y: number[] }>;
  };

  beforeAll(async () => {
    const models: { name: string; dir: string; inputs: string }[] = [];
    for (const [name, graph] of cases) {
      const result = await exportGraph(graph, 'pytorch');
      const out = join(dir, name.replace(/\.json$/, ''));
      mkdirSync(out, { recursive: true });
      for (const f of result.files) writeFileSync(join(out, f.name), f.contents);
      code.set(name, result.files.find((f) => f.name === 'model.py')!.contents as string);
      const inputs = inputsFor(graph, BATCH, name.length);
      writeFileSync(
        join(out, 'inputs.safetensors'),
        saveSafetensors(new Map(Object.entries(inputs))),
      );
      const params = graph.initParameters();
      const run = wg.tidy(() => {
        const outs = graph.run(inputs);
        outs['loss']!.backward();
        const grads: Record<string, number[]> = {};
        for (const s of result.module!.stored) {
          // Running statistics and batch counts are buffers in PyTorch, not parameters.
          if (s.role !== undefined || !isTrainable(graph, s.node)) continue;
          const p = params.get(s.node);
          if (p) grads[s.key] = Array.from(p.grad?.dataSync() ?? new Float32Array(p.size));
        }
        const values: Record<string, number[]> = {};
        for (const [k, t] of Object.entries(outs)) values[k] = Array.from(t.dataSync());
        return { outputs: values, grads };
      });
      engine.set(name, run);
      wg.dispose(Object.values(inputs));
      models.push({ name, dir: out, inputs: join(out, 'inputs.safetensors') });
    }
    const r = spawnSync(PYTHON, [SCRIPT], {
      input: JSON.stringify({
        models,
        datasets: { dir: join(dir, 'mlp-spiral'), n: 301, seed: 5 },
      }),
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`python3 failed (status ${r.status}):\n${r.stderr}`);
    torch = JSON.parse(r.stdout) as typeof torch;
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(cases.map(([name]) => name))(
    '%s: outputs and parameter gradients match (relative error <= 1e-4)',
    (name) => {
      const ours = engine.get(name)!;
      const theirs = torch.models[name]!;
      expect(theirs.missing, 'state-dict keys the weights file lacks').toEqual([]);
      expect(theirs.unexpected, 'weights the module does not have').toEqual([]);
      expect(Object.keys(theirs.outputs).sort()).toEqual(Object.keys(ours.outputs).sort());
      for (const [k, v] of Object.entries(ours.outputs)) {
        expect(theirs.outputs[k]!.length, `output ${k}`).toBe(v.length);
        expect(relativeError(theirs.outputs[k]!, v), `output ${k}`).toBeLessThanOrEqual(1e-4);
      }
      expect(Object.keys(theirs.grads).sort()).toEqual(Object.keys(ours.grads).sort());
      for (const [k, g] of Object.entries(ours.grads))
        expect(relativeError(theirs.grads[k]!, g), `gradient of ${k}`).toBeLessThanOrEqual(1e-4);
    },
  );

  it('writes layers as nn modules with PyTorch state-dict names, one line per node', () => {
    const cnn = code.get('cnn-mnist.json')!;
    expect(cnn).toContain('self.conv1 = nn.Conv2d(1, 8, kernel_size=5)');
    expect(cnn).toContain('self.fc2 = nn.Linear(64, 10)');
    expect(cnn).toContain('conv1 = self.conv1(standardised)  # [N, 8, 24, 24]');
    expect(cnn).toContain('pool1 = F.max_pool2d(relu1, 2)');
    expect(cnn).toContain('loss = F.cross_entropy(fc2, y.long())');
    const zoo = code.get('op-zoo')!;
    expect(zoo).toContain('self.emb = nn.Embedding(10, 6)');
    expect(zoo).toContain('self.norm = nn.LayerNorm(6)');
    expect(zoo).toContain('_dropout(leaky, 0.25, 7, self.training)');
    const conv = code.get('conv-zoo')!;
    expect(conv).toContain('self.c1 = nn.Conv2d(4, 6, kernel_size=3, stride=2, padding=1)');
    expect(conv).toContain('self.c3 = nn.Conv2d(6, 6, kernel_size=3, stride=2, bias=False)');
    expect(conv).toContain('F.conv2d(F.pad(r1, (1, 0, 0, 1)), self.w2, dilation=2, groups=2)');
    const shared = code.get('batchnorm-functional')!;
    expect(shared).toContain(
      'a = F.batch_norm(x, self.mean, self.variance, self.g, self.beta, training=False, eps=0.001)',
    );
    expect(shared).toContain('n = F.batch_norm(a, None, None, self.g, self.beta, training=True)');
    const grads = code.get('conv-grads')!;
    expect(grads).toContain(
      'torch.nn.grad.conv2d_input((2, 2, 6, 6), self.w, conv, stride=2, padding=1)',
    );
  });

  it("train.py draws the engine's synthetic datasets (Wiregrad's seeded generator, ported)", () => {
    const makers = {
      spiral: wg.data.spiral,
      moons: wg.data.moons,
      circles: wg.data.circles,
      xor: wg.data.xor,
      gaussians: wg.data.gaussians,
    };
    // The regression set's targets are numbers: compared as x is (sin in Python and in
    // JavaScript may differ in the last bit of a double).
    {
      const ours = wg.data.sine(301, { seed: 5 });
      const theirs = torch.datasets['sine']!;
      expect(relativeError(theirs.x, Array.from(ours.x.dataSync()))).toBeLessThanOrEqual(1e-6);
      expect(relativeError(theirs.y, Array.from(ours.y.dataSync()))).toBeLessThanOrEqual(1e-6);
      expect(theirs.y.length).toBe(301);
      wg.dispose([ours.x, ours.y]);
    }
    for (const [name, make] of Object.entries(makers)) {
      const ours = make(301, { seed: 5 });
      const theirs = torch.datasets[name]!;
      expect(theirs.y, name).toEqual(Array.from(ours.y.dataSync()));
      const x = Array.from(ours.x.dataSync());
      expect(theirs.x.length).toBe(x.length);
      expect(relativeError(theirs.x, x), name).toBeLessThanOrEqual(1e-6);
      wg.dispose([ours.x, ours.y]);
    }
  });
});

describe('PyTorch export refuses what PyTorch lacks', () => {
  it('names the node and the op (a pooling gradient)', async () => {
    const b = new GraphBuilder('pool grad');
    const x = b.input('x', [2, 1, 4, 4], 'f32', 'data');
    const dy = b.input('dy', [2, 1, 2, 2], 'f32', 'data');
    const pool = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] };
    b.output('dx', b.op('maxPool2dGrad', [x, dy], pool, 'pool_backward'));
    const error = await exportGraph(b.build(), 'pytorch').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).node).toBe('pool_backward');
    expect((error as ExportError).op).toBe('maxPool2dGrad');
    expect((error as Error).message).toMatch(/node 'pool_backward', op 'maxPool2dGrad': .*PyTorch/);
  });

  it('keeps free parameters and their init rules when no layer matches', async () => {
    const b = new GraphBuilder('free');
    const x = b.input('x', [-1, 3], 'f32', 'data');
    const w = b.parameter('weights.main', [3, 2], { init: 'uniform', bound: 0.5 });
    b.output(
      'loss',
      b.op(
        'sum',
        [b.op('matmul', [x, w], { transposeA: false, transposeB: false }, 'mm')],
        { axes: [0, 1], keepDims: false },
        'loss',
      ),
    );
    const result = await exportGraph(b.build(), 'pytorch');
    const code = result.files.find((f) => f.name === 'model.py')!.contents as string;
    expect(code).toContain(
      'self.weights_main = nn.Parameter(nn.init.uniform_(torch.empty((3, 2), dtype=torch.float32), -0.5, 0.5))  # uniform',
    );
    expect(result.module!.stored).toEqual([{ key: 'weights_main', node: 'weights.main' }]);
  });
});

describe.skipIf(!hasTorch)('BatchNorm export follows train() and eval() like the engine', () => {
  const graph = batchNormCnn();
  const dir = mkdtempSync(join(tmpdir(), 'wiregrad-batchnorm-'));
  const BN_BATCH = 5;
  let code = '';
  let theirs: Record<'train' | 'eval', TorchRun>;
  const ours = {} as Record<'train' | 'eval', EngineRun>;
  const updated: Record<string, number[]> = {};

  beforeAll(async () => {
    const params = batchNormParams(graph);
    const result = await exportGraph(graph, 'pytorch', { params });
    for (const f of result.files) writeFileSync(join(dir, f.name), f.contents);
    code = result.files.find((f) => f.name === 'model.py')!.contents as string;
    const inputs = inputsFor(graph, BN_BATCH, 17);
    writeFileSync(
      join(dir, 'inputs.safetensors'),
      saveSafetensors(new Map(Object.entries(inputs))),
    );

    for (const mode of ['train', 'eval'] as const) {
      ours[mode] = wg.tidy(() => {
        for (const p of params.values()) p.grad = null;
        const outs = graph.run(inputs, { params, training: mode === 'train' });
        outs['loss']!.backward();
        const grads: Record<string, number[]> = {};
        for (const s of result.module!.stored)
          if (s.role === undefined && isTrainable(graph, s.node))
            grads[s.key] = Array.from(params.get(s.node)!.grad!.dataSync());
        const outputs: Record<string, number[]> = {};
        for (const [k, t] of Object.entries(outs)) outputs[k] = Array.from(t.dataSync());
        return { outputs, grads };
      });
    }
    // The running statistics after one training step, as the engine's trainer updates them.
    wg.tidy(() => runUpdatingStats(graph, inputs, params, runningStatsNodes(graph)));
    for (const s of result.module!.stored)
      if (s.role === undefined && !isTrainable(graph, s.node))
        updated[s.key] = Array.from(params.get(s.node)!.dataSync());
    wg.dispose(Object.values(inputs));

    const r = spawnSync(PYTHON, [SCRIPT], {
      input: JSON.stringify({
        models: (['train', 'eval'] as const).map((mode) => ({
          name: mode,
          dir,
          inputs: join(dir, 'inputs.safetensors'),
          mode,
        })),
      }),
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`python3 failed (status ${r.status}):\n${r.stderr}`);
    theirs = (JSON.parse(r.stdout) as { models: typeof theirs }).models;
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes nn.BatchNorm2d and nn.BatchNorm1d with eps and momentum', () => {
    expect(code).toContain('self.conv1 = nn.Conv2d(3, 4, kernel_size=3, padding=1, bias=False)');
    expect(code).toContain('self.bn1 = nn.BatchNorm2d(4)');
    expect(code).toContain('self.bn2 = nn.BatchNorm1d(8, eps=0.001, momentum=0.25)');
    expect(code).toContain('bn1 = self.bn1(conv1)  # [N, 4, 6, 6]');
    // The graph nodes of the weights file: the batch count is no graph value.
    expect(code).toContain("'bn1.running_var': 'bn1.running_var',");
    expect(code).not.toContain("'bn1.num_batches_tracked':");
  });

  it.each(['train', 'eval'] as const)(
    '%s(): outputs and gradients match the engine (relative error <= 1e-5)',
    (mode) => {
      const t = theirs[mode];
      expect(t.missing, 'state-dict keys the weights file lacks').toEqual([]);
      expect(t.unexpected, 'weights the module does not have').toEqual([]);
      for (const [k, v] of Object.entries(ours[mode].outputs))
        expect(relativeError(t.outputs[k]!, v), `output ${k}`).toBeLessThanOrEqual(1e-5);
      expect(Object.keys(t.grads).sort()).toEqual(Object.keys(ours[mode].grads).sort());
      for (const [k, g] of Object.entries(ours[mode].grads))
        expect(relativeError(t.grads[k]!, g), `gradient of ${k}`).toBeLessThanOrEqual(1e-5);
    },
  );

  it('train() updates the running statistics as the engine does; eval() leaves them', () => {
    expect(Object.keys(updated).sort()).toEqual([
      'bn1.running_mean',
      'bn1.running_var',
      'bn2.running_mean',
      'bn2.running_var',
    ]);
    for (const [k, v] of Object.entries(updated)) {
      expect(relativeError(theirs.train.buffers[k]!, v), k).toBeLessThanOrEqual(1e-5);
      // eval() kept the exported values, which the step changed.
      expect(relativeError(theirs.eval.buffers[k]!, v), k).toBeGreaterThan(1e-3);
    }
  });
});
