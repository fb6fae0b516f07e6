/**
 * Runs every example of docs/engine.md and docs/graph-format.md and asserts what the docs show.
 * Each example in the docs follows an `<!-- example: <name> -->` marker; here it is the body of
 * `it('<name>', …)`, the same code with the shown results turned into assertions:
 * `expr; // → value` is `expect(expr).toEqual(value)`, `expr; // ≈ value` is
 * `expectApprox(expr, value)`, `expr; // throws Kind` is `expect(() => expr).toThrow(wg.Kind)`,
 * and the lines of a `text` block after an example (its output, `…` standing for any text) are
 * asserted too. The last suite checks that the docs and this file agree: every example's lines
 * appear, in order, in its test (whitespace aside); every JSON block is read by a test; and the
 * op tables list exactly the registered ops with their attributes and gradient kinds.
 */

import { spawnSync } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as wg from '../engine/index.js';
import { GraphBuilder } from '../engine/graph/builder.js';
import { mnistDigits } from '../engine/node/mnist.js';
import { loadWeightsInto, saveWeights } from '../engine/node/weights.js';
import { Trainer, trainConfigOf } from '../engine/train/trainer.js';

const docsDir = dirname(fileURLToPath(import.meta.url));
const root = join(docsDir, '..');
const DOC_FILES = ['engine.md', 'graph-format.md'] as const;

// ---- reading the docs -------------------------------------------------------------------

interface DocBlock {
  readonly file: string;
  /** The `<!-- example: … -->` name before the block, when there is one. */
  readonly example: string | undefined;
  readonly lang: string;
  readonly code: string;
  /** The `text` block right after this one (its output), if any. */
  output?: string;
}

function readDoc(file: string): string {
  return readFileSync(join(docsDir, file), 'utf8');
}

/** Every fenced block of a doc, with its example name and output block. */
function docBlocks(file: string): DocBlock[] {
  const lines = readDoc(file).split('\n');
  const blocks: DocBlock[] = [];
  let example: string | undefined;
  let sinceBlock = Infinity; // non-blank lines since the last block ended
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const marker = /^<!-- example: (.+) -->$/.exec(line);
    if (marker) {
      example = marker[1];
      continue;
    }
    const fence = /^```(\w*)$/.exec(line);
    if (!fence) {
      if (line.trim() !== '') {
        sinceBlock++;
        example = undefined;
      }
      continue;
    }
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    const block: DocBlock = { file, example, lang: fence[1]!, code: body.join('\n') };
    const previous = blocks[blocks.length - 1];
    if (block.lang === 'text' && previous && sinceBlock === 0 && !example)
      previous.output = block.code;
    else blocks.push(block);
    example = undefined;
    sinceBlock = 0;
  }
  return blocks;
}

/** The code of the example `name` in `file`. */
function docBlock(file: string, name: string): string {
  const block = docBlocks(file).find((b) => b.example === name);
  if (!block) throw new Error(`${file} has no example '${name}'`);
  return block.code;
}

// ---- helpers the examples use -----------------------------------------------------------

/** Numbers equal to within the rounding the docs show (1e-3, relative above 1). */
function expectApprox(actual: unknown, expected: unknown): void {
  if (typeof expected === 'number') {
    expect(typeof actual).toBe('number');
    const a = actual as number;
    expect(Math.abs(a - expected)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(expected)));
    return;
  }
  expect(Array.isArray(actual) && Array.isArray(expected)).toBe(true);
  const a = actual as unknown[];
  const e = expected as unknown[];
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => expectApprox(v, e[i]));
}

interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npx wiregrad <args>` (the bin script) from the repository root. */
function cli(args: string): CliResult {
  const result = spawnSync(process.execPath, [join(root, 'bin/wiregrad.mjs'), ...args.split(' ')], {
    cwd: root,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const affineDocument: unknown = JSON.parse(docBlock('engine.md', 'graphs document'));

// ---- docs/engine.md ---------------------------------------------------------------------

describe('docs/engine.md examples', () => {
  it('tensors create', () => {
    const a = wg.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toEqual('f32');
    expect(a.size).toEqual(6);
    expect(a.toString()).toEqual('Tensor([2, 3], f32, cpu)');
    expect(wg.tensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] }).dtype).toEqual('i32');
    expect(wg.zeros([2, 2]).arraySync()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(wg.full([3], 7, { dtype: 'i32' }).arraySync()).toEqual([7, 7, 7]);
    expect(wg.arange(4).arraySync()).toEqual([0, 1, 2, 3]);
    expect(wg.arange(0, 1, 0.25).arraySync()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(wg.onesLike(a).shape).toEqual([2, 3]);
    expect(wg.scalar(2.5).item()).toEqual(2.5);
  });

  it('tensors dtypes', () => {
    const i = wg.tensor([1, 2, 3], { dtype: 'i32' });
    expect(i.mul(2).dtype).toEqual('i32');
    expect(i.add(0.5).arraySync()).toEqual([1.5, 2.5, 3.5]);
    expect(i.div(2).arraySync()).toEqual([0.5, 1, 1.5]);
    expect(i.add(wg.tensor([0.5, 0.5, 0.5])).dtype).toEqual('f32');
    expect(i.greater(1).arraySync()).toEqual([false, true, true]);
    expect(i.cast('f32').exp().dtype).toEqual('f32');
    expect(() => i.exp()).toThrow(wg.DTypeError);
    expect(() => i.exp()).toThrow(
      "op 'exp': expects floating-point inputs, got i32 [3]; cast it first (x.cast('f32'))",
    );
  });

  it('tensors seeds', () => {
    expectApprox(wg.rand([3], { seed: 7 }).arraySync(), [0.4933, 0.8932, 0.7702]);
    expectApprox(wg.rand([2], { seed: 7 }).arraySync(), [0.4933, 0.8932]);
    expectApprox(wg.randn([2], { seed: 7 }).arraySync(), [0.931, -0.1429]);
    wg.setSeed(42);
    const first = wg.rand([2]).arraySync();
    wg.setSeed(42);
    expect(wg.rand([2]).arraySync()).toEqual(first);
  });

  it('ops broadcasting', () => {
    const col = wg.tensor([[1], [2]]); // [2, 1]
    const row = wg.tensor([10, 20, 30]); // [3]
    expect(col.add(row).arraySync()).toEqual([
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expect(wg.ops.sub(1, row).arraySync()).toEqual([-9, -19, -29]);
    expect(wg.ops.where(row.greater(15), row, 0).arraySync()).toEqual([0, 20, 30]);
    expect(wg.ones([5, 2, 3]).matmul(wg.ones([3, 4])).shape).toEqual([5, 2, 4]);
  });

  it('ops movement', () => {
    const m = wg.arange(6).reshape([2, 3]); // i32 [[0, 1, 2], [3, 4, 5]]
    expect(m.sum(1).arraySync()).toEqual([3, 12]);
    expect(m.sum(1, true).shape).toEqual([2, 1]);
    expect(m.mean().item()).toEqual(2.5);
    expect(m.max().item()).toEqual(5);
    expect(m.argmax(1).arraySync()).toEqual([2, 2]);
    expect(m.transpose().arraySync()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(m.slice([0, 1]).arraySync()).toEqual([
      [1, 2],
      [4, 5],
    ]);
    expect(m.slice([1], [1]).arraySync()).toEqual([[3, 4, 5]]);
    expect(m.pad([0, 0, 1, 0]).arraySync()).toEqual([
      [0, 0, 1, 2],
      [0, 3, 4, 5],
    ]);
    expect(m.unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(wg.ops.concat([m, m], 0).shape).toEqual([4, 3]);
    expect(wg.ops.stack([m, m]).shape).toEqual([2, 2, 3]);
    const idx = wg.tensor([2, 0], { dtype: 'i32' });
    expect(m.gather(idx, 1).arraySync()).toEqual([
      [2, 0],
      [5, 3],
    ]);
    expect(wg.ops.oneHot(idx, 3).arraySync()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
  });

  it('ops nn', () => {
    const logits = wg.tensor([
      [2, 0, -1],
      [0.5, 0.5, 3],
    ]);
    const labels = wg.tensor([0, 2], { dtype: 'i32' });
    expectApprox(logits.softmax().sum(1).arraySync(), [1, 1]);
    // By hand: log(1 + e⁻² + e⁻³) = 0.16985 and 3 − logsumexp(0.5, 0.5, 3) = −0.15201.
    expectApprox(wg.ops.crossEntropy(logits, labels).item(), 0.1609);
    const opts = { reduction: 'none' } as const;
    expectApprox(wg.ops.crossEntropy(logits, labels, opts).arraySync(), [0.1698, 0.152]);
    const img = wg.randn([1, 3, 8, 8], { seed: 0 });
    const w = wg.randn([4, 3, 3, 3], { seed: 1 });
    expect(wg.ops.conv2d(img, w, { padding: 'same' }).shape).toEqual([1, 4, 8, 8]);
    expect(wg.ops.conv2d(img, w, { stride: 2 }).shape).toEqual([1, 4, 3, 3]);
    expect(wg.ops.maxPool2d(img, { kernelSize: 2 }).shape).toEqual([1, 3, 4, 4]);
    expect(wg.ops.linear(wg.ones([5, 3]), wg.ones([2, 3]), wg.zeros([2])).shape).toEqual([5, 2]);
  });

  it('autodiff backward', () => {
    const x = wg.tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).add(x).sum().backward(); // d/dx (x² + x) = 2x + 1
    expect(x.grad!.arraySync()).toEqual([3, 5, 7]);
    x.mul(2).sum().backward(); // accumulates: + 2
    expect(x.grad!.arraySync()).toEqual([5, 7, 9]);
    wg.dispose(x.grad);
    x.grad = null;
  });

  it('autodiff vjp', () => {
    const w = wg.tensor([1, 2], { requiresGrad: true });
    w.mul(3).backward(wg.tensor([1, 10]));
    expect(w.grad!.arraySync()).toEqual([3, 30]);
    expect(() => w.mul(3).backward()).toThrow(wg.WiregradError);
    expect(() => w.mul(3).backward()).toThrow(
      'backward() without a gradient needs a scalar output, got [2]; reduce it (e.g. .sum() or .mean()) or pass the upstream gradient',
    );
  });

  it('autodiff grad', () => {
    const f = (x: wg.Tensor) => x.pow(3).sum();
    const df = wg.grad(f); // 3x²
    const d2f = wg.grad((x) => df(x).sum()); // 6x
    expect(df(wg.tensor([3])).arraySync()).toEqual([27]);
    expect(d2f(wg.tensor([3])).arraySync()).toEqual([18]);
    const dot = (a: wg.Tensor, b: wg.Tensor) => a.mul(b).sum();
    const a = wg.tensor([1, 2]);
    const b = wg.tensor([3, 4]);
    const { value, grads } = wg.valueAndGrad(dot, [0, 1])(a, b);
    expect(value.item()).toEqual(11);
    expect(grads[0]!.arraySync()).toEqual([3, 4]);
    expect(grads[1]!.arraySync()).toEqual([1, 2]);
    expect(wg.grad(dot, [0, 1])(a, b).length).toEqual(2);
  });

  it('autodiff gradients', () => {
    const u = wg.tensor([3], { requiresGrad: true });
    const [du] = wg.gradients(u.pow(2).sum(), [u], { createGraph: true });
    expect(du!.arraySync()).toEqual([6]);
    du!.sum().backward(); // d(2u)/du
    expect(u.grad!.arraySync()).toEqual([2]);
    const frozen = wg.noGrad(() => u.mul(3));
    expect(frozen.requiresGrad).toEqual(false);
    const v = wg.tensor([2], { requiresGrad: true });
    v.mul(v.detach()).sum().backward(); // only one factor sees v
    expect(v.grad!.arraySync()).toEqual([2]);
  });

  it('memory tidy', () => {
    const before = wg.memory().tensors;
    const total = wg.tidy(() => {
      const ones = wg.ones([1000]);
      return ones.mul(3).add(1).sum(); // the intermediates are freed
    });
    expect(wg.memory().tensors - before).toEqual(1);
    expect(total.item()).toEqual(4000);
    let kept: wg.Tensor | undefined;
    wg.tidy(() => {
      kept = wg.keep(wg.ones([2]));
      wg.ones([3]); // freed at the end of the scope
    });
    expect(kept!.isDisposed).toEqual(false);
    wg.dispose([total, kept]);
    expect(wg.memory().tensors - before).toEqual(0);
    expect(() => total.add(1)).toThrow(wg.DisposedError);
    expect(() => total.add(1)).toThrow(/^op 'add': tensor #\d+ \[\] was disposed/);
    expect(() => total.add(1)).toThrow(
      ' [] was disposed (explicitly, or by the tidy scope that created it) and cannot be used; return it from the scope or call keep()',
    );
  });

  it('nn sequential', () => {
    const model = new wg.nn.Sequential(
      new wg.nn.Linear(2, 16, { seed: 1 }),
      new wg.nn.ReLU(),
      new wg.nn.Linear(16, 3, { seed: 2 }),
    );
    expect(model.forward(wg.zeros([5, 2])).shape).toEqual([5, 3]);
    expect(model.parameterCount()).toEqual(99);
    expect(model.namedParameters().map(([name]) => name)).toEqual([
      '0.weight',
      '0.bias',
      '2.weight',
      '2.bias',
    ]);
    expect(model.toString().split('\n')[1]).toEqual('  (0): Linear(in=2, out=16, bias=true)');
    expect(model.eval().training).toEqual(false);
    expect(model.train().at(0)!.training).toEqual(true);
  });

  it('nn custom module', () => {
    class Scaled extends wg.nn.Module {
      readonly body: wg.nn.Linear;
      readonly scale: wg.Tensor;
      constructor() {
        super();
        this.body = this.registerModule('body', new wg.nn.Linear(4, 2, { seed: 0 }));
        this.scale = this.registerParameter('scale', wg.ones([2]));
      }
      forward(x: wg.Tensor): wg.Tensor {
        return this.body.forward(x).mul(this.scale);
      }
    }
    const net = new Scaled();
    expect([...net.stateDict().keys()]).toEqual(['scale', 'body.weight', 'body.bias']);
    expect(net.scale.requiresGrad).toEqual(true);
    expect(net.forward(wg.ones([3, 4])).shape).toEqual([3, 2]);
    net.dispose();
    expect(net.body.weight.isDisposed).toBe(true);
  });

  it('nn safetensors', () => {
    const source = new wg.nn.BatchNorm1d(3);
    expect([...source.stateDict().keys()].join(' ')).toEqual(
      'weight bias running_mean running_var num_batches_tracked',
    );
    const bytes = wg.nn.saveSafetensors(source.stateDict(), { epoch: '3' });
    expect(wg.nn.safetensorsMetadata(bytes)).toEqual({ epoch: '3' });
    const target = new wg.nn.BatchNorm1d(3);
    const loaded = wg.nn.loadSafetensors(bytes);
    expect(target.loadStateDict(loaded)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    wg.dispose([...loaded.values()]);
    expect(() => new wg.nn.BatchNorm1d(4).loadStateDict(source.stateDict())).toThrow(
      wg.WiregradError,
    );
    expect(() => new wg.nn.BatchNorm1d(4).loadStateDict(source.stateDict())).toThrow(
      "BatchNorm1d.loadStateDict: 'weight' has shape [3] in the state dict but [4] in the module; 'bias' has shape [3] in the state dict but [4] in the module; 'running_mean' has shape [3] in the state dict but [4] in the module; 'running_var' has shape [3] in the state dict but [4] in the module. Nothing was loaded",
    );
  });

  it('nn weights files', async () => {
    const path = join(tmpdir(), 'linear.safetensors');
    const saved = new wg.nn.Linear(3, 2, { seed: 1 });
    await saveWeights(path, saved, { note: 'example' });
    const restored = new wg.nn.Linear(3, 2, { seed: 2 });
    expect(restored.weight.arraySync()).not.toEqual(saved.weight.arraySync());
    await loadWeightsInto(restored, path);
    expect(restored.weight.arraySync()).toEqual(saved.weight.arraySync());
    expect(restored.bias!.arraySync()).toEqual(saved.bias!.arraySync());
    unlinkSync(path);
  });

  it('optim training loop', () => {
    const { x, y } = wg.data.moons(400, { seed: 0 });
    const loader = new wg.data.DataLoader(new wg.data.TensorDataset(x, y), {
      batchSize: 32,
      shuffle: true,
    });
    const net = new wg.nn.Sequential(
      new wg.nn.Linear(2, 32, { seed: 1 }),
      new wg.nn.Tanh(),
      new wg.nn.Linear(32, 2, { seed: 2 }),
    );
    const opt = new wg.optim.Adam(net.parameters(), { lr: 0.02 });
    const live: number[] = [];
    for (let epoch = 0; epoch < 30; epoch++) {
      for (const batch of loader) {
        wg.tidy(() => {
          const loss = wg.ops.crossEntropy(net.forward(batch.x), batch.y);
          opt.zeroGrad();
          loss.backward();
          opt.step();
          return loss.item();
        });
      }
      live.push(wg.memory().tensors);
    }
    expect(Math.max(...live) - Math.min(...live)).toEqual(0);
    const accuracy = wg.tidy(() =>
      wg.noGrad(() => net.forward(x).argmax(1).equal(y).cast('f32').mean().item()),
    );
    expect(accuracy > 0.95).toEqual(true);
    net.dispose();
    opt.dispose();
  });

  it('optim schedules', () => {
    const p = [wg.zeros([1], { requiresGrad: true })];
    const sgd = new wg.optim.SGD(p, { lr: 0.1, momentum: 0.9 });
    const schedule = new wg.optim.StepLR(sgd, { stepSize: 2, gamma: 0.5 });
    expect([0, 1, 2, 3, 4].map((e) => schedule.lrAt(e))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    schedule.step();
    schedule.step();
    expect(sgd.lr).toEqual(0.05);
    const cosine = new wg.optim.CosineAnnealingLR(new wg.optim.SGD(p, { lr: 1 }), { tMax: 4 });
    expect([0, 2, 4].map((e) => cosine.lrAt(e))).toEqual([1, 0.5, 0]);
    const warm = new wg.optim.LinearWarmup(new wg.optim.SGD(p, { lr: 0.3 }), { steps: 3 });
    expectApprox(
      [0, 3, 10].map((e) => warm.lrAt(e)),
      [0.1, 0.3, 0.3],
    );
  });

  it('data loaders', () => {
    const set = wg.data.spiral(300, { classes: 3, seed: 0 });
    expect(set.x.shape).toEqual([300, 2]);
    expect(set.y.dtype).toEqual('i32');
    const all = new wg.data.TensorDataset(set.x, set.y);
    const { train, test } = wg.data.trainTestSplit(all, { testFraction: 0.2 });
    expect([train.length, test.length]).toEqual([240, 60]);
    const loader = new wg.data.DataLoader(train, { batchSize: 64, shuffle: true });
    expect(loader.length).toEqual(4);
    expect([...loader].length).toEqual(4);
    expect(loader.epoch).toEqual(1);
    const sizes: number[] = [];
    for (const batch of loader) sizes.push(batch.x.shape[0]!);
    expect(sizes).toEqual([64, 64, 64, 48]);
  });

  it('data mnist', { timeout: 30_000 }, async () => {
    const digits = await mnistDigits({ train: 1000, test: 200 });
    expect(digits.train.x.shape).toEqual([1000, 1, 28, 28]);
    expect(digits.test.y.shape).toEqual([200]);
  });

  it('data idx', () => {
    // Two 2×2 u8 images: magic 0 0, type 0x08 (u8), 3 dimensions, sizes big-endian, data.
    const bytes = new Uint8Array([
      0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 51, 102, 255, 255, 0, 0,
    ]);
    const idx = wg.data.parseIdx(bytes, 'tiny-images');
    expect([idx.type, idx.shape]).toEqual(['u8', [2, 2, 2]]);
    const images = wg.data.idxImagesToTensor(idx);
    expect(images.shape).toEqual([2, 1, 2, 2]);
    expectApprox(images.arraySync(), [
      [
        [
          [0, 1],
          [0.2, 0.4],
        ],
      ],
      [
        [
          [1, 1],
          [0, 0],
        ],
      ],
    ]);
    expect(() => wg.data.parseIdx(bytes.slice(0, 20), 'tiny-images')).toThrow(wg.WiregradError);
    expect(() => wg.data.parseIdx(bytes.slice(0, 20), 'tiny-images')).toThrow(
      'tiny-images: shape [2, 2, 2] of u8 needs 8 bytes of data but the file has 4; it is truncated',
    );
  });

  it('graphs trace', () => {
    const w = wg.tensor(
      [
        [1, -1],
        [2, 0.5],
      ],
      { requiresGrad: true },
    );
    w.name = 'w';
    const scores = (x: wg.Tensor) => x.matmul(w).relu().sum(1);
    const graph = wg.trace(scores, [{ shape: [-1, 2], name: 'x' }]);
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'input_1',
      'parameter_1',
      'matmul_1',
      'relu_1',
      'sum_1',
    ]);
    expect(graph.outputs).toEqual([{ name: 'output', node: 'sum_1' }]);
    const x = wg.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(graph.run({ x }).output!.arraySync()).toEqual([5, 11]);
    expect(scores(x).arraySync()).toEqual([5, 11]);
    expect(graph.node('parameter_1').name).toBe('w');
  });

  it('graphs load and check', () => {
    const affine = wg.Graph.fromJSON(affineDocument);
    expect(affine.symbolicShapes().get('y')).toEqual({ shape: ['N', 2], dtype: 'f32' });
    expect(affine.inferShapes({ batch: 4 }).get('act')!.shape).toEqual([4, 2]);
    expect(affine.check()).toEqual([]);
    expect(affine.toJSON()).toEqual(affineDocument);
  });

  it('graphs run', () => {
    const affine = wg.Graph.fromJSON(affineDocument);
    const out = affine.run({ x: wg.ones([4, 3]) }).out!;
    expect(out.shape).toEqual([4, 2]);
    const params = affine.initParameters();
    expect([...params.keys()]).toEqual(['w', 'b']);
    const w = params.get('w')!;
    expect(w.abs().max().item() <= 1 / Math.sqrt(3)).toEqual(true);
    const zeroW = new Map([['w', wg.zerosLike(w)]]);
    expect(affine.run({ x: wg.ones([1, 3]) }, { params: zeroW }).out!.arraySync()).toEqual([
      [0, 0],
    ]);
    out.sum().backward();
    expect(w.grad!.shape).toEqual([2, 3]);
  });

  it('graphs weights', () => {
    const trained = wg.Graph.fromJSON(affineDocument);
    trained
      .initParameters()
      .get('b')!
      .assign(wg.full([2], 0.5)); // as if trained
    const file = wg.nn.saveSafetensors(trained.initParameters());
    const fresh = wg.Graph.fromJSON(affineDocument);
    const x = wg.zeros([1, 3]);
    expect(fresh.run({ x }).out!.arraySync()).toEqual([[0, 0]]);
    const weights = wg.nn.loadSafetensors(file);
    expect(fresh.run({ x }, { params: weights }).out!.arraySync()).toEqual([[0.5, 0.5]]);
  });

  it('graphs differentiate', () => {
    const w = wg.tensor(
      [
        [1, -1],
        [2, 0.5],
      ],
      { requiresGrad: true },
    );
    const lossGraph = wg.trace(
      (x: wg.Tensor) => ({ loss: x.matmul(w).relu().sum() }),
      [{ shape: [-1, 2], name: 'x' }],
    );
    const backward = wg.differentiate(lossGraph, { loss: 'loss', batch: 2 });
    expect(backward.outputs.map((o) => o.name)).toEqual(['loss', 'grad:parameter_1']);
    const x = wg.tensor([
      [1, 2],
      [3, 4],
    ]);
    const result = backward.run({ x });
    // loss = relu([5, 0]) + relu([11, -1]) summed; only the first column is active, so
    // dloss/dw = xᵀ·[[1, 0], [1, 0]].
    expect(result.loss!.item()).toEqual(16);
    expect(result['grad:parameter_1']!.arraySync()).toEqual([
      [4, 0],
      [6, 0],
    ]);
  });

  it('graphs builder', () => {
    const b = new GraphBuilder('logistic regression', { seed: 1 });
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const y = b.input('y', [-1], 'i32', 'label');
    const logits = b.linear(x, 2, 2, 'fc');
    b.output('logits', logits);
    b.output('loss', b.op('crossEntropy', [logits, y]));
    const graph = b.build();
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'x',
      'y',
      'fc.weight',
      'fc.bias',
      'fc',
      'crossEntropy',
    ]);
    expect(graph.node('fc.weight').group).toEqual('fc');
    expect(graph.symbolicShapes().get('fc')!.shape).toEqual(['N', 2]);
  });

  it('training trainer', () => {
    const b = new GraphBuilder('logistic regression', { seed: 1 });
    const logits = b.linear(b.input('x', [-1, 2], 'f32', 'data'), 2, 2, 'fc');
    b.output('logits', logits);
    b.output('loss', b.op('crossEntropy', [logits, b.input('y', [-1], 'i32', 'label')]));
    const graph = b.build({ training: { epochs: 5, optimizer: { type: 'sgd', lr: 0.5 } } });
    const config = trainConfigOf(graph);
    expect([config.epochs, config.batchSize, config.optimizer.type]).toEqual([5, 32, 'sgd']);
    const trainer = new Trainer(graph, config);
    const { x, y } = wg.data.moons(400, { seed: 0 });
    const loader = new wg.data.DataLoader(new wg.data.TensorDataset(x, y), { shuffle: true });
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      for (const batch of loader) trainer.step(batch.x, batch.y);
      trainer.endEpoch();
    }
    expect(trainer.stepCount).toEqual(65);
    expect(trainer.evaluate(x, y).accuracy > 0.8).toEqual(true);
    // The meta.training block the guide shows is the one in examples/mlp-mnist.json.
    const file = readFileSync(join(root, 'examples/mlp-mnist.json'), 'utf8');
    const shown: unknown = JSON.parse(docBlock('engine.md', 'training meta'));
    expect((JSON.parse(file) as { meta: { training: unknown } }).meta.training).toEqual(shown);
  });

  it('cli info', { timeout: 30_000 }, () => {
    const { status, stdout } = cli('info examples/mlp-spiral.json');
    expect(status).toBe(0);
    const lines = [
      'x                        input                [N, 2] f32',
      'y                        input                [N] i32',
      'fc1.weight               parameter            [64, 2] f32',
      'fc1.bias                 parameter            [64] f32',
      'fc1                      linear               [N, 64] f32',
      'relu1                    relu                 [N, 64] f32',
      'fc2.weight               parameter            [64, 64] f32',
      'fc2.bias                 parameter            [64] f32',
      'fc2                      linear               [N, 64] f32',
      'relu2                    relu                 [N, 64] f32',
      'fc3.weight               parameter            [3, 64] f32',
      'fc3.bias                 parameter            [3] f32',
      'fc3                      linear               [N, 3] f32',
      'loss                     crossEntropy         [] f32',
      '14 nodes, 4547 parameters',
    ];
    expect(stdout).toBe(lines.join('\n') + '\n');
  });

  it('cli train', { timeout: 60_000 }, () => {
    const { status, stdout, stderr } = cli(
      'train examples/mlp-spiral.json --dataset spiral --epochs 3 --json',
    );
    expect(status).toBe(0);
    expect(stderr).toMatch(
      /^epoch 1\/3 {2}train_loss \S+ {2}test_loss \S+ {2}test_accuracy \S+%$/m,
    );
    expect(stderr).toContain('epoch 1/3  train_loss ');
    expect(stderr).toContain('  test_loss ');
    expect(stderr).toContain('  test_accuracy ');
    expect(stderr).toMatch(/test_accuracy \d+\.\d+%$/m);
    expect(
      stdout.startsWith('{"dataset":"spiral","epochs":3,"steps":282,"final_batch_loss":'),
    ).toBe(true);
    const metrics = JSON.parse(stdout) as Record<string, number>;
    expect(Object.keys(metrics)).toEqual([
      'dataset',
      'epochs',
      'steps',
      'final_batch_loss',
      'test_loss',
      'test_accuracy',
      'test_count',
      'seconds',
    ]);
    expect(stdout).toContain(',"test_loss":');
    expect(stdout).toContain(',"test_accuracy":');
    expect(stdout).toContain(',"test_count":1000,"seconds":');
    expect(stdout.trimEnd().endsWith('}')).toBe(true);
    expect(metrics.test_accuracy).toBeGreaterThan(0.9);
    // The exit codes the guide states.
    expect(cli('--version').status).toBe(0);
    expect(cli('--help').status).toBe(0);
    expect(cli('train examples/mlp-spiral.json').status).toBe(2);
    const failed = cli('info examples/missing.json');
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^wiregrad: cannot read graph file 'examples\/missing.json'/);
  });

  it('errors eager', () => {
    const a = wg.zeros([2, 3]);
    expect(() => a.matmul(wg.zeros([2, 3]))).toThrow(wg.ShapeError);
    expect(() => a.add(wg.zeros([2, 2]))).toThrow(wg.ShapeError);
    expect(() => a.matmul(wg.zeros([2, 3]))).toThrow(
      "op 'matmul': inner dimensions differ: a [2, 3] has 3 along its last axis but b [2, 3] has 2 along its second-to-last axis; did you mean transposeB: true (or transpose b) or transposeA: true (or transpose a)?",
    );
    expect(() => a.add(wg.zeros([2, 2]))).toThrow(
      "op 'add': shapes [2, 3] and [2, 2] cannot be broadcast together (dimension -1 is 3 vs 2)",
    );
    try {
      a.add(wg.zeros([2, 2]));
    } catch (e) {
      expect(e).toBeInstanceOf(wg.ShapeError);
      expect((e as wg.ShapeError).op).toBe('add');
      expect((e as wg.ShapeError).node).toBeUndefined();
    }
  });

  it('errors graph', () => {
    const broken = wg.Graph.fromJSON({
      format: 'wiregrad.graph',
      version: 1,
      nodes: [
        { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 3], dtype: 'f32', role: 'data' } },
        { id: 'y', op: 'softmax', inputs: ['x'], attrs: { axis: 2 } },
      ],
      outputs: [{ name: 'y', node: 'y' }],
    });
    expect(broken.check()).toEqual([
      {
        node: 'y',
        message: "node 'y', op 'softmax': axis 2 is out of range for a tensor of rank 2",
      },
    ]);
    expect(() => broken.run({ x: wg.zeros([4, 2]) })).toThrow(wg.GraphError);
    expect(() => broken.run({ x: wg.zeros([4, 2]) })).toThrow(
      "node 'x', op 'input': input 'x' has shape [4, 2], but the graph declares [N, 3] (N is the batch size, any size)",
    );
    try {
      broken.inferShapes();
    } catch (e) {
      expect(e).toBeInstanceOf(wg.ShapeError);
      expect((e as wg.ShapeError).node).toBe('y');
      expect((e as wg.ShapeError).op).toBe('softmax');
    }
  });

  it('limitations traced mean', () => {
    const spec = [{ shape: [-1, 2], name: 'x' }];
    const traced = wg.trace((x: wg.Tensor) => x.mean(), spec);
    const batch = wg.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(batch.mean().item()).toEqual(2.5);
    expect(traced.run({ x: batch }).output!.item()).toEqual(5);
    const exact = wg.trace((x: wg.Tensor) => x.mean(), spec, { batch: 2 });
    expect(exact.run({ x: batch }).output!.item()).toEqual(2.5);
  });
});

// ---- docs/graph-format.md ---------------------------------------------------------------

const exampleDocument: unknown = JSON.parse(docBlock('graph-format.md', 'format example'));
const nonFiniteDocument: unknown = JSON.parse(docBlock('graph-format.md', 'format non-finite'));

describe('docs/graph-format.md examples', () => {
  it('format example runs', () => {
    const graph = wg.Graph.fromJSON(exampleDocument);
    expect(graph.symbolicShapes().get('fc')).toEqual({ shape: ['N', 3], dtype: 'f32' });
    expect(graph.inputs.map((n) => n.name ?? n.id)).toEqual(['features', 'y']);
    const features = wg.ones([2, 4]);
    const labels = wg.tensor([0, 2], { dtype: 'i32' });
    const { logits, loss } = graph.run({ features, y: labels });
    expect(logits!.shape).toEqual([2, 3]);
    expect(loss!.shape).toEqual([]);
    expect(graph.toJSON()).toEqual(exampleDocument);
    expect(trainConfigOf(graph).batchSize).toBe(16);
  });

  it('format init rules', () => {
    const parameter = (attrs: Record<string, unknown>) =>
      wg.Graph.fromJSON({
        format: 'wiregrad.graph',
        version: 1,
        nodes: [{ id: 'p', op: 'parameter', inputs: [], attrs }],
        outputs: [{ name: 'p', node: 'p' }],
      })
        .initParameters()
        .get('p')!;
    const attrs = { shape: [4], dtype: 'f32', init: 'uniform', bound: 0.5, seed: 3 };
    const p = parameter(attrs).arraySync();
    expect(p).toEqual(wg.rand([4], { seed: 3 }).mul(1).sub(0.5).arraySync());
    expect(parameter(attrs).arraySync()).toEqual(p);
    const k = parameter({ ...attrs, init: 'kaimingUniform', shape: [2, 16] });
    expect(k.abs().max().item() < 1 / Math.sqrt(16)).toEqual(true);
    expect(() => parameter({ ...attrs, init: 'constant' })).toThrow(wg.GraphError);
    expect(() => parameter({ ...attrs, init: 'constant' })).toThrow(
      "node 'p', op 'parameter': init 'constant' needs a value attribute",
    );
    // The other rules, against their formulas.
    const big = { shape: [64, 8, 3, 3], dtype: 'f32', seed: 5 };
    const fanIn = 8 * 9;
    const fanOut = 64 * 9;
    const xavier = parameter({ ...big, init: 'xavierUniform' });
    const bound = Math.sqrt(6 / (fanIn + fanOut));
    expectApprox(
      xavier.arraySync(),
      wg
        .rand(big.shape, { seed: 5 })
        .mul(2 * bound)
        .sub(bound)
        .arraySync(),
    );
    const kaiming = parameter({ ...big, init: 'kaimingUniform' });
    expect(kaiming.abs().max().item()).toBeLessThan(1 / Math.sqrt(fanIn));
    expect(kaiming.abs().max().item()).toBeGreaterThan(0.95 / Math.sqrt(fanIn));
    const bias = parameter({ shape: [64], dtype: 'f32', init: 'kaimingUniform', seed: 6 });
    expect(bias.abs().max().item()).toBeGreaterThan(0.9 / Math.sqrt(64)); // fanIn = shape[0]
    const normal = parameter({ ...big, init: 'normal', std: 0.1 });
    expectApprox(normal.arraySync(), wg.randn(big.shape, { seed: 5 }).mul(0.1).arraySync());
    expect(
      parameter({ ...big, init: 'constant', value: 3 })
        .min()
        .item(),
    ).toBe(3);
    expect(parameter({ ...big, init: 'ones' }).requiresGrad).toBe(true);
    expect(parameter({ shape: [2], dtype: 'i32', init: 'ones', seed: 0 }).requiresGrad).toBe(false);
    expect(() => parameter({ ...big, shape: [4, 0], init: 'kaimingUniform' })).toThrow(
      /its fan-in is 0; set the fanIn attribute/,
    );
  });

  it('format non-finite runs', () => {
    const graph = wg.Graph.fromJSON(nonFiniteDocument);
    expect(graph.run({}).m!.arraySync()).toEqual([1, Infinity, NaN]);
    expect(graph.toJSON().nodes[0]!.attrs.data).toEqual([1, 'Infinity', 'NaN']);
    expect(graph.toJSON()).toEqual(nonFiniteDocument);
  });

  it('format migrations', () => {
    const v0 = {
      format: 'wiregrad.graph',
      version: 0,
      nodes: [
        { id: 'x', op: 'input', inputs: [], attrs: { shape: [2], dtype: 'f32', role: 'data' } },
        { id: 'r', op: 'rectify', inputs: ['x'], attrs: {} },
      ],
      outputs: [{ name: 'r', node: 'r' }],
    };
    expect(() => wg.Graph.fromJSON(v0)).toThrow(wg.GraphError);
    expect(() => wg.Graph.fromJSON(v0)).toThrow(
      'no migration from graph format version 0 to 1; this file is too old for this version of Wiregrad',
    );
    wg.registerGraphMigration(0, (doc) => ({
      ...doc,
      nodes: (doc.nodes as { op: string }[]).map((n) =>
        n.op === 'rectify' ? { ...n, op: 'relu' } : n,
      ),
    }));
    const migrated = wg.Graph.fromJSON(v0).toJSON();
    expect(migrated.version).toEqual(1);
    expect(migrated.nodes[1]!.op).toEqual('relu');
    expect(() => wg.Graph.fromJSON({ ...v0, version: 2 })).toThrow(wg.GraphError);
    expect(() => wg.Graph.fromJSON({ ...v0, version: 2 })).toThrow(
      'this graph was written by a newer Wiregrad (format version 2; this version reads up to 1): update Wiregrad to open it',
    );
  });

  it('differentiate gives a composite node’s id to its first primitive', () => {
    // What the format reference says of differentiate's output (not an example of its own).
    const b = new GraphBuilder('logistic regression', { seed: 1 });
    const logits = b.linear(b.input('x', [-1, 2], 'f32', 'data'), 2, 2, 'fc');
    b.output('logits', logits);
    b.output('loss', b.op('crossEntropy', [logits, b.input('y', [-1], 'i32', 'label')]));
    const backward = wg.differentiate(b.build(), { loss: 'loss' });
    expect(backward.node('fc').op).toBe('matmul');
    expect(backward.node('crossEntropy').op).toBe('logSoftmax');
    const out = backward.outputs.find((o) => o.name === 'logits')!;
    expect(out.node).toMatch(/^add_\d+$/);
    expect(backward.node('x').attrs.shape).toEqual([1, 2]);
    expect(backward.outputs.map((o) => o.name)).toEqual([
      'logits',
      'loss',
      'grad:fc.weight',
      'grad:fc.bias',
    ]);
  });

  it('format checks', () => {
    const doc = {
      format: 'wiregrad.graph',
      version: 1,
      nodes: [
        { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 3], dtype: 'f32', role: 'data' } },
        { id: 'r', op: 'relu', inputs: ['x', 'x'], attrs: {} },
      ],
      outputs: [{ name: 'r', node: 'r' }],
    };
    expect(() => wg.Graph.fromJSON(doc)).toThrow(wg.GraphError);
    expect(() => wg.Graph.fromJSON(doc)).toThrow(
      "node 'r', op 'relu': takes 1 input, but 2 are connected",
    );
    const sum = { id: 's', op: 'sum', inputs: ['x'], attrs: { axes: [1] } };
    expect(() => wg.Graph.fromJSON({ ...doc, nodes: [doc.nodes[0], sum] })).toThrow(wg.GraphError);
    expect(() => wg.Graph.fromJSON({ ...doc, nodes: [doc.nodes[0], sum] })).toThrow(
      "node 's', op 'sum': missing attribute 'keepDims' (true or false): keep reduced axes as size 1",
    );
    const wrongConstant = {
      id: 'c',
      op: 'constant',
      inputs: [],
      attrs: { shape: [2], dtype: 'f32', data: [1] },
    };
    const loaded = wg.Graph.fromJSON({ ...doc, nodes: [doc.nodes[0], wrongConstant], outputs: [] });
    expect(loaded.check().map((d) => d.node)).toEqual(['c']);
  });
});

// ---- the docs and this file agree -------------------------------------------------------

const testSource = readFileSync(fileURLToPath(import.meta.url), 'utf8');

/** Whitespace and trailing commas do not matter: Prettier wraps lines by their indentation. */
function normalize(code: string): string {
  return code.replace(/\s+/g, '').replace(/,([\])}])/g, '$1');
}

/** The body of `it('<name>', …)` in this file. */
function testRegion(name: string): string {
  const lines = testSource.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  it('${name}',`));
  if (start < 0) return '';
  const end = lines.indexOf('  });', start);
  return lines.slice(start, end + 1).join('\n');
}

/** What an example line must look like in its test. */
function expectedLine(line: string): string {
  const shown = /^(.*?);\s*\/\/ (→|≈|throws) (.*)$/.exec(line);
  if (!shown) return line;
  const [, expr, kind, value] = shown;
  if (kind === '→') return `expect(${expr}).toEqual(${value});`;
  if (kind === '≈') return `expectApprox(${expr}, ${value});`;
  return `expect(() => ${expr}).toThrow(wg.${value});`;
}

/** Checks that `fragments` occur in `region` in order; returns the first one missing. */
function firstMissing(region: string, fragments: readonly string[]): string | null {
  const haystack = normalize(region);
  let from = 0;
  for (const fragment of fragments) {
    const needle = normalize(fragment).replace(/,$/, '');
    if (needle === '') continue;
    const at = haystack.indexOf(needle, from);
    if (at < 0) return fragment;
    from = at + needle.length;
  }
  return null;
}

/** `import { a, b } from 'x'` / `import * as a from 'x'`: the names and the module. */
function importsOf(code: string): { names: string[]; from: string }[] {
  const found: { names: string[]; from: string }[] = [];
  for (const m of code.matchAll(/^import\s+(?:\{([^}]*)\}|\*\s+as\s+(\w+))\s+from\s+'([^']+)';/gm))
    found.push({
      names: m[1] !== undefined ? m[1].split(',').map((s) => s.trim()) : [m[2]!],
      from: m[3]!.replace(/^\.\/engine\//, '../engine/'),
    });
  return found;
}

describe('the docs and their tests agree', () => {
  const testImports = importsOf(testSource);

  for (const file of DOC_FILES) {
    const blocks = docBlocks(file);

    it(`every code block of ${file} is an example with a test`, () => {
      for (const block of blocks) {
        const where = `${file}: ${block.lang} block '${block.example ?? block.code.slice(0, 40)}'`;
        expect(block.example, `${where} needs an <!-- example: … --> marker`).toBeDefined();
        expect(['ts', 'sh', 'json'], `${where} has an unchecked language`).toContain(block.lang);
        if (block.lang === 'json') {
          expect(testSource, where).toContain(`docBlock('${file}', '${block.example}')`);
          expect(() => JSON.parse(block.code) as unknown, where).not.toThrow();
          continue;
        }
        for (const { names, from } of importsOf(block.code))
          for (const name of names)
            expect(
              testImports.some((t) => t.from === from && t.names.includes(name)),
              `${where} imports ${name} from ${from}`,
            ).toBe(true);
        const code = block.code.split('\n').filter((l) => !l.startsWith('import '));
        if (code.every((l) => l.trim() === '')) continue; // only imports
        const region = testRegion(block.example!);
        expect(region, `${where} has no test named '${block.example}'`).not.toBe('');
        const fragments =
          block.lang === 'sh'
            ? code.map((l) => l.replace(/^npx wiregrad (.*)$/, "cli('$1')"))
            : code.map(expectedLine);
        expect(firstMissing(region, fragments), `${where}: line not in its test`).toBeNull();
        const outputs = (block.output ?? '').split('\n').flatMap((l) => l.split('…'));
        expect(firstMissing(region, outputs), `${where}: output not asserted`).toBeNull();
      }
    });
  }

  it('the op tables of engine.md list every registered op as the registry defines it', () => {
    const rows = readDoc('engine.md')
      .split('\n')
      .filter((l) => /^\| `\w+` +\|/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()));
    const listed = rows.map((cells) => cells[1]!.replace(/`/g, ''));
    expect([...listed].sort()).toEqual(
      wg
        .listOps()
        .map((d) => d.name)
        .sort(),
    );
    const functions = new Set<string>();
    for (const cells of rows) {
      const def = wg.getOp(cells[1]!.replace(/`/g, ''));
      const attrs = [...cells[3]!.matchAll(/`(\w+)(\?)?`/g)].map((m) => m[1]! + (m[2] ?? ''));
      const declared = Object.entries(def.attrs).map(([k, s]) => k + (s.optional ? '?' : ''));
      expect(attrs, `attributes of ${def.name}`).toEqual(declared);
      const gradient = def.decompose ? 'decomposed' : def.gradient ? 'yes' : 'none';
      expect(cells[4], `gradient of ${def.name}`).toBe(gradient);
      for (const [, call] of cells[2]!.matchAll(/`([^`]+)`/g)) {
        const method = /^x\.(\w+)\(/.exec(call!);
        if (method)
          expect(typeof Reflect.get(wg.Tensor.prototype, method[1]!), call).toBe('function');
        else functions.add(/^(\w+)\(/.exec(call!)![1]!);
      }
    }
    // With the functions that are not ops, the docs name every function of wg.ops.
    const doc = readDoc('engine.md');
    const start = doc.indexOf('**Functions that are not ops**');
    const paragraph = doc.slice(start, doc.indexOf('\n\n', start));
    const notOps = [...paragraph.matchAll(/`(\w+)[`(]/g)].map((m) => m[1]!);
    const documented = new Set([...functions, ...notOps]);
    const exported = Object.keys(wg.ops);
    expect(
      exported.filter((f) => !documented.has(f)),
      'wg.ops functions the docs do not mention',
    ).toEqual([]);
    expect(
      [...documented].filter((f) => !exported.includes(f)),
      'functions the docs mention that wg.ops lacks',
    ).toEqual([]);
  });
});
