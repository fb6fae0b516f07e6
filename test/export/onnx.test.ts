/**
 * ONNX export and import against independent references. Exports of the examples, templates and
 * zoo graphs load in onnxruntime-node and give the engine's outputs; every edge carries its
 * shape in value_info; import of our own exports gives the graph back. ONNX files written by
 * PyTorch's torch.onnx.export (an MLP, a CNN, a residual block, with BatchNorm, GELU and
 * dynamic flattening, and a BatchNorm2d the exporter keeps) import without placeholders and give
 * PyTorch's outputs at two batch sizes. Batch norm exports in ONNX's inference form (running
 * statistics, the engine's eval mode) and imports back as a `batchNorm` node. Hand-built models put each imported ONNX op against onnxruntime. Ops Wiregrad lacks
 * import as placeholders named in the report; ops ONNX lacks are refused on export, naming the
 * node and the op.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import { type Graph, GraphBuilder, type Tensor } from '../../engine/index.js';
import { ExportError, ONNX_OPSET, exportGraph, importOnnx } from '../../engine/export/index.js';
import { attr, tensorProto } from '../../engine/export/onnx.js';
import {
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  decodeModel,
  encodeModel,
} from '../../engine/export/onnx-proto.js';
import { PYTHON, hasTorch } from '../helpers/torch.js';
import {
  batchNormCnn,
  batchNormParams,
  exampleGraphs,
  inputsFor,
  opZoo,
  templateGraphs,
  zooGraphs,
} from './graphs.js';

type Ort = typeof import('onnxruntime-node');
const ort = createRequire(import.meta.url)('onnxruntime-node') as Ort;

/** The largest difference over the largest reference magnitude. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

const numbers = (data: unknown): number[] => Array.from(data as ArrayLike<number | bigint>, Number);

/** Runs ONNX bytes in onnxruntime with engine tensors as the feeds. */
async function runOrt(
  bytes: Uint8Array,
  inputs: Record<string, Tensor>,
  int64 = new Set<string>(),
) {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const [name, t] of Object.entries(inputs)) {
    const data = t.dataSync();
    feeds[name] =
      t.dtype === 'i32'
        ? int64.has(name)
          ? new ort.Tensor(
              'int64',
              BigInt64Array.from(data, (v) => BigInt(v)),
              [...t.shape],
            )
          : new ort.Tensor('int32', Int32Array.from(data), [...t.shape])
        : new ort.Tensor('float32', Float32Array.from(data), [...t.shape]);
  }
  const out = await session.run(feeds);
  const result: Record<string, { dims: number[]; data: number[] }> = {};
  for (const [k, v] of Object.entries(out))
    result[k] = { dims: [...v.dims], data: numbers(v.data) };
  return result;
}

function engineOutputs(
  graph: Graph,
  inputs: Record<string, Tensor>,
  params?: ReadonlyMap<string, Tensor>,
) {
  return wg.noGrad(() =>
    wg.tidy(() => {
      const outs = graph.run(inputs, params ? { params } : {});
      const result: Record<string, { dims: number[]; data: number[] }> = {};
      for (const [k, t] of Object.entries(outs))
        result[k] = { dims: [...t.shape], data: Array.from(t.dataSync()) };
      return result;
    }),
  );
}

/** A graph with a transposed convolution (conv2dBackpropInput), which ONNX has. */
function transposedConv(): Graph {
  const b = new GraphBuilder('Transposed convolution');
  const x = b.input('x', [2, 3, 3, 3], 'f32', 'data');
  const w = b.parameter('w', [3, 2, 3, 3], { init: 'kaimingUniform' });
  const geometry = { stride: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 };
  b.output(
    'y',
    b.op('conv2dBackpropInput', [x, w], { ...geometry, inputShape: [2, 2, 6, 6] }, 'up'),
  );
  return b.build();
}

const exportable: [string, Graph][] = [
  ...exampleGraphs(),
  ...templateGraphs(),
  ['op-zoo (inference)', opZoo(true)],
  ...zooGraphs().filter(([name]) => name === 'conv-zoo'),
  ['transposed-conv', transposedConv()],
];

describe('ONNX export runs in onnxruntime with the engine’s outputs', () => {
  it.each(exportable.map(([name]) => name))('%s', async (name) => {
    const graph = exportable.find(([n]) => n === name)![1];
    const { files, warnings } = await exportGraph(graph, 'onnx');
    expect(warnings).toEqual([]);
    const inputs = inputsFor(graph, 3, 11);
    const theirs = await runOrt(files[0]!.contents as Uint8Array, inputs);
    const ours = engineOutputs(graph, inputs);
    expect(Object.keys(theirs).sort()).toEqual(Object.keys(ours).sort());
    for (const [k, v] of Object.entries(ours)) {
      expect(theirs[k]!.dims, k).toEqual(v.dims);
      expect(relativeError(theirs[k]!.data, v.data), k).toBeLessThanOrEqual(1e-4);
    }
    wg.dispose(Object.values(inputs));
  });

  it('pins opset 17, stores weights as initializers and gives every edge a shape', async () => {
    const graph = exampleGraphs().find(([n]) => n === 'cnn-mnist.json')![1];
    const { files } = await exportGraph(graph, 'onnx');
    const model = decodeModel(files[0]!.contents as Uint8Array);
    expect(model.opsetImport).toEqual([{ domain: '', version: ONNX_OPSET }]);
    expect(ONNX_OPSET).toBeGreaterThanOrEqual(17);
    const g = model.graph!;
    expect(g.initializer!.map((t) => t.name)).toEqual(
      expect.arrayContaining(['conv1.weight', 'conv1.bias', 'fc2.weight', 'pixel_mean']),
    );
    const dims = (name: string) => {
      const info = [...g.valueInfo!, ...g.input!, ...g.output!].find((v) => v.name === name);
      return info?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam ?? d.dimValue);
    };
    expect(dims('x')).toEqual(['N', 1, 28, 28]);
    expect(dims('conv1')).toEqual(['N', 8, 24, 24]);
    expect(dims('flatten')).toEqual(['N', 256]);
    expect(dims('logits')).toEqual(['N', 10]);
    const named = new Set([...g.valueInfo!, ...g.output!].map((v) => v.name));
    for (const n of g.node!)
      for (const o of n.output!) expect(named.has(o), `value_info of ${o}`).toBe(true);
    // Layers read as ONNX layers: a biased Conv, a Gemm, ONNX's cross-entropy.
    const producer = (value: string) => g.node!.find((n) => n.output![0] === value)!;
    expect(producer('conv1').opType).toBe('Conv');
    expect(producer('conv1').input).toEqual(['standardised', 'conv1.weight', 'conv1.bias']);
    expect(producer('logits').opType).toBe('Gemm');
    expect(producer('loss').opType).toBe('SoftmaxCrossEntropyLoss');
  });

  it('exports only the outputs asked for (an inference model without the labels)', async () => {
    const graph = exampleGraphs().find(([n]) => n === 'mlp-spiral.json')![1];
    const { files } = await exportGraph(graph, 'onnx', { outputs: ['logits'] });
    const model = decodeModel(files[0]!.contents as Uint8Array);
    expect(model.graph!.input!.map((i) => i.name)).toEqual(['x']);
    expect(model.graph!.output!.map((o) => o.name)).toEqual(['logits']);
    const inputs = inputsFor(graph, 2, 5);
    const theirs = await runOrt(files[0]!.contents as Uint8Array, { x: inputs['x']! });
    const ours = engineOutputs(graph, inputs);
    expect(relativeError(theirs['logits']!.data, ours['logits']!.data)).toBeLessThanOrEqual(1e-5);
    wg.dispose(Object.values(inputs));
  });

  it('refuses ops ONNX lacks, naming the node and the op', async () => {
    const graph = zooGraphs().find(([n]) => n === 'conv-grads')![1];
    const error = await exportGraph(graph, 'onnx').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).node).toBe('dw');
    expect((error as ExportError).op).toBe('conv2dBackpropFilter');
    expect((error as Error).message).toMatch(/^node 'dw', op 'conv2dBackpropFilter': ONNX/);
  });
});

const roundTrip: [string, Graph][] = [
  ...exampleGraphs(),
  ...templateGraphs(),
  ['op-zoo (inference)', opZoo(true)],
  ...zooGraphs().filter(([name]) => name === 'conv-zoo'),
];

describe('ONNX import of our own exports gives the graph back', () => {
  it.each(roundTrip.map(([name]) => name))('%s', async (name) => {
    const graph = roundTrip.find(([n]) => n === name)![1];
    const { files } = await exportGraph(graph, 'onnx');
    const imported = importOnnx(files[0]!.contents as Uint8Array);
    expect(imported.report.placeholders).toEqual([]);
    const inputs = inputsFor(graph, 4, 3);
    const ours = engineOutputs(graph, inputs);
    const back = engineOutputs(imported.graph, inputs);
    for (const [k, v] of Object.entries(ours)) {
      expect(back[k]!.dims, k).toEqual(v.dims);
      expect(relativeError(back[k]!.data, v.data), k).toBeLessThanOrEqual(1e-5);
    }
    wg.dispose([...Object.values(inputs), ...imported.weights.values()]);
  });

  it('keeps layers as groups, so a re-export to PyTorch has nn.Conv2d and nn.Linear again', async () => {
    const graph = exampleGraphs().find(([n]) => n === 'cnn-mnist.json')![1];
    const { files } = await exportGraph(graph, 'onnx');
    const imported = importOnnx(files[0]!.contents as Uint8Array);
    const torch = await exportGraph(imported.graph, 'pytorch');
    const code = torch.files.find((f) => f.name === 'model.py')!.contents as string;
    expect(code).toContain('self.conv1 = nn.Conv2d(1, 8, kernel_size=5)');
    expect(code).toContain('self.fc1 = nn.Linear(256, 64)');
    wg.dispose(imported.weights.values());
  });
});

describe('BatchNorm in ONNX: the inference form, with the running statistics', () => {
  const graph = batchNormCnn();
  const params = batchNormParams(graph);
  let bytes: Uint8Array;
  let warnings: readonly string[];
  const inputs = inputsFor(graph, 4, 9);
  const evalMode = wg.noGrad(() =>
    wg.tidy(() => {
      const outs = graph.run(inputs, { params, training: false });
      return Array.from(outs['logits']!.dataSync());
    }),
  );
  beforeAll(async () => {
    const out = await exportGraph(graph, 'onnx', { params, outputs: ['logits'] });
    bytes = out.files[0]!.contents as Uint8Array;
    warnings = out.warnings;
  });
  afterAll(() => wg.dispose([...Object.values(inputs), ...params.values()]));

  it('writes BatchNormalization (training_mode 0) over initializers, and says it is for inference', () => {
    const g = decodeModel(bytes).graph!;
    const norms = g.node!.filter((n) => n.opType === 'BatchNormalization');
    expect(norms.map((n) => n.input)).toEqual([
      ['conv1', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var'],
      ['fc1', 'bn2.weight', 'bn2.bias', 'bn2.running_mean', 'bn2.running_var'],
    ]);
    const at = (n: OnnxNode, name: string) => n.attribute!.find((a) => a.name === name)!;
    for (const n of norms) expect(Number(at(n, 'training_mode').i)).toBe(0);
    // ONNX's momentum weighs the running value: 1 − the engine's 0.25.
    expect(at(norms[1]!, 'momentum').f).toBeCloseTo(0.75, 6);
    expect(at(norms[1]!, 'epsilon').f).toBeCloseTo(1e-3, 9);
    expect(g.initializer!.map((t) => t.name)).toEqual(
      expect.arrayContaining(['bn1.running_mean', 'bn1.running_var', 'bn2.running_var']),
    );
    expect(warnings).toEqual([
      expect.stringMatching(/^node 'bn1' \(batchNorm\) exports in inference form.*running/),
      expect.stringMatching(/^node 'bn2' \(batchNorm\)/),
    ]);
  });

  it("runs in onnxruntime with the engine's eval-mode outputs", async () => {
    const theirs = await runOrt(bytes, { x: inputs['x']! });
    expect(theirs['logits']!.dims).toEqual([4, 3]);
    expect(relativeError(theirs['logits']!.data, evalMode)).toBeLessThanOrEqual(1e-5);
    // Not the training mode's batch statistics.
    const trainMode = wg.noGrad(() =>
      wg.tidy(() => Array.from(graph.run(inputs, { params })['logits']!.dataSync())),
    );
    expect(relativeError(theirs['logits']!.data, trainMode)).toBeGreaterThan(1e-3);
  });

  it('imports back as batchNorm nodes in eval mode, with untrained running statistics', () => {
    const imported = importOnnx(bytes);
    expect(imported.report.placeholders).toEqual([]);
    const norms = imported.graph.nodes.filter((n) => n.op === 'batchNorm');
    expect(norms.map((n) => [n.id, n.group, n.attrs])).toEqual([
      ['bn1', 'bn1', { training: false, momentum: 0.1, eps: 1e-5 }],
      ['bn2', 'bn2', { training: false, momentum: 0.25, eps: 1e-3 }],
    ]);
    for (const n of norms) {
      const trainable = n.inputs.slice(1).map((id) => {
        const p = imported.graph.node(id);
        expect(p.op).toBe('parameter');
        return (p.attrs as { trainable?: boolean }).trainable !== false;
      });
      expect(trainable, n.id).toEqual([true, true, false, false]);
      expect(n.inputs.slice(3), n.id).toEqual([`${n.id}.running_mean`, `${n.id}.running_var`]);
    }
    const back = engineOutputs(imported.graph, { x: inputs['x']! });
    expect(relativeError(back['logits']!.data, evalMode)).toBeLessThanOrEqual(1e-5);
    wg.dispose(imported.weights.values());
  });

  it('re-exports the imported norms to PyTorch as BatchNorm layers again', async () => {
    const imported = importOnnx(bytes);
    const torch = await exportGraph(imported.graph, 'pytorch');
    const code = torch.files.find((f) => f.name === 'model.py')!.contents as string;
    expect(code).toContain(
      'self.bn1 = nn.BatchNorm2d(4)  # the graph normalises with the running statistics: call eval()',
    );
    expect(code).toContain('self.bn2 = nn.BatchNorm1d(8, eps=0.001, momentum=0.25)');
    expect(torch.module!.stored.map((s) => s.key)).toEqual(
      expect.arrayContaining(['bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked']),
    );
    wg.dispose(imported.weights.values());
  });
});

describe.skipIf(!hasTorch)(
  'ONNX files written by torch.onnx.export import and match PyTorch',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'wiregrad-onnx-'));
    let models: Record<
      string,
      { path: string; runs: { shape: number[]; x: number[]; y: number[] }[] }
    >;
    beforeAll(() => {
      const script = fileURLToPath(new URL('./torch_onnx.py', import.meta.url));
      const r = spawnSync(PYTHON, [script], {
        input: JSON.stringify({ dir }),
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`python3 failed (status ${r.status}):\n${r.stderr}`);
      models = JSON.parse(r.stdout) as typeof models;
    }, 120_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each(['mlp', 'cnn', 'residual', 'batchnorm'])('%s', (name) => {
      const m = models[name]!;
      const imported = importOnnx(readFileSync(m.path));
      expect(imported.report.placeholders).toEqual([]);
      expect(imported.report.producer).toMatch(/^pytorch/);
      for (const run of m.runs) {
        const x = wg.tensor(Float32Array.from(run.x), { shape: run.shape });
        const y = wg.noGrad(() => imported.graph.run({ x })['y']!);
        expect(y.shape[0]).toBe(run.shape[0]);
        expect(
          relativeError(Array.from(y.dataSync()), run.y),
          `batch ${run.shape[0]}`,
        ).toBeLessThanOrEqual(1e-4);
        wg.dispose([x, y]);
      }
      wg.dispose(imported.weights.values());
    });

    it('imports nn.BatchNorm2d as a batchNorm node with its eps, momentum and running statistics', () => {
      const imported = importOnnx(readFileSync(models['batchnorm']!.path));
      const norms = imported.graph.nodes.filter((n) => n.op === 'batchNorm');
      expect(norms.map((n) => n.attrs)).toEqual([{ training: false, momentum: 0.2, eps: 1e-3 }]);
      const [, weight, , mean, variance] = norms[0]!.inputs;
      expect(weight).toBe('bn.weight');
      for (const id of [mean!, variance!])
        expect((imported.graph.node(id).attrs as { trainable?: boolean }).trainable, id).toBe(
          false,
        );
      // PyTorch's values, not the init rule's zeros and ones.
      expect(Array.from(imported.weights.get(mean!)!.dataSync()).some((v) => v !== 0)).toBe(true);
      wg.dispose(imported.weights.values());
    });
  },
);

// ---- hand-built models: each imported op against onnxruntime -------------------------------

const FLOAT = 1;
const INT64 = 7;
const BOOL = 9;
const BIG = 2 ** 62;

function node(
  opType: string,
  input: string[],
  output: string,
  attribute: OnnxAttribute[] = [],
): OnnxNode {
  return { opType, input, output: [output], name: output, attribute };
}

const f32 = (name: string, dims: number[], values: number[]): OnnxTensor =>
  tensorProto(name, 'f32', dims, values);
const i64 = (name: string, dims: number[], values: number[]): OnnxTensor =>
  tensorProto(name, 'i64', dims, values);

/** Seeded values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

interface ImportCase {
  readonly inputs: readonly { name: string; dims: (number | 'N')[]; type: number }[];
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  /** Output names and element types. */
  readonly outputs: readonly [string, number][];
}

function encode(c: ImportCase, opset = 17): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'test',
    graph: {
      name: 'case',
      node: [...c.nodes],
      initializer: [...c.initializers],
      input: c.inputs.map((i) => ({
        name: i.name,
        type: {
          tensorType: {
            elemType: i.type,
            shape: { dim: i.dims.map((d) => (d === 'N' ? { dimParam: 'N' } : { dimValue: d })) },
          },
        },
      })),
      output: c.outputs.map(([name, elemType]) => ({ name, type: { tensorType: { elemType } } })),
    },
  });
}

const CASES: Record<string, ImportCase> = {
  elementwise: {
    inputs: [{ name: 'x', dims: ['N', 5], type: FLOAT }],
    initializers: [
      f32('one', [], [1]),
      f32('zero', [], [0]),
      f32('two', [], [2]),
      f32('lo', [], [-0.5]),
      f32('hi', [], [0.5]),
    ],
    nodes: [
      node('Abs', ['x'], 'a'),
      node('Add', ['a', 'one'], 'a1'),
      node('Sqrt', ['a1'], 'sqrt'),
      node('Neg', ['x'], 'neg'),
      node('Exp', ['neg'], 'exp'),
      node('Sigmoid', ['x'], 'sigmoid'),
      node('Tanh', ['x'], 'tanh'),
      node('Erf', ['x'], 'erf'),
      node('LeakyRelu', ['x'], 'leaky', [attr.float('alpha', 0.3)]),
      node('Relu', ['x'], 'relu'),
      node('Reciprocal', ['a1'], 'recip'),
      node('Clip', ['x', 'lo', 'hi'], 'clip'),
      node('Pow', ['x', 'two'], 'pow'),
      node('Max', ['sqrt', 'exp', 'sigmoid'], 'max3'),
      node('Min', ['sqrt', 'exp'], 'min2'),
      node('Sum', ['sigmoid', 'tanh', 'erf'], 'sum3'),
      node('Mean', ['sigmoid', 'tanh'], 'mean2'),
      node('Greater', ['x', 'zero'], 'gt'),
      node('Where', ['gt', 'x', 'neg'], 'where'),
      node('Log', ['a1'], 'log'),
      node('Div', ['x', 'a1'], 'div'),
      node('Sub', ['x', 'one'], 'sub'),
      node('Mul', ['x', 'x'], 'mul'),
      node('Less', ['x', 'zero'], 'less'),
      node('Cast', ['less'], 'less_f', [attr.int('to', FLOAT)]),
      node('Identity', ['mul'], 'identity'),
    ],
    outputs: [
      'sqrt',
      'exp',
      'sigmoid',
      'tanh',
      'erf',
      'leaky',
      'relu',
      'recip',
      'clip',
      'pow',
      'max3',
      'min2',
      'sum3',
      'mean2',
      'where',
      'log',
      'div',
      'sub',
      'less_f',
      'identity',
    ].map((n) => [n, FLOAT]),
  },
  shapes: {
    inputs: [{ name: 'x', dims: ['N', 2, 3, 4], type: FLOAT }],
    initializers: [
      i64('zero_minus1', [2], [0, -1]),
      i64('scalar0', [], [0]),
      i64('axes0', [1], [0]),
      i64('axes1', [1], [1]),
      i64('minus1', [1], [-1]),
      i64('s1', [1], [1]),
      i64('eBig', [1], [BIG]),
      i64('axes3', [1], [3]),
      i64('sNeg2', [1], [-2]),
      i64('e3', [1], [3]),
      i64('axes2', [1], [2]),
      i64('pads', [8], [0, 0, 1, 0, 0, 0, 0, 2]),
      f32('half', [], [0.5]),
      i64('pick', [3], [2, 0, -1]),
      i64('r0', [], [0]),
      i64('r3', [], [3]),
      i64('r1', [], [1]),
      i64('shape34', [2], [3, 4]),
    ],
    nodes: [
      node('Flatten', ['x'], 'flatten', [attr.int('axis', 2)]),
      node('Reshape', ['x', 'zero_minus1'], 'reshape0'),
      node('Shape', ['x'], 'shape'),
      node('Gather', ['shape', 'scalar0'], 'batch'),
      node('Unsqueeze', ['batch', 'axes0'], 'batch1'),
      node('Concat', ['batch1', 'minus1'], 'target', [attr.int('axis', 0)]),
      node('Reshape', ['x', 'target'], 'reshape_dynamic'),
      node('Transpose', ['x'], 'transpose', [attr.ints('perm', [0, 2, 1, 3])]),
      node('Unsqueeze', ['x', 'axes1'], 'unsqueezed'),
      node('Squeeze', ['unsqueezed', 'axes1'], 'squeezed'),
      node('Slice', ['x', 's1', 'eBig', 'axes3'], 'slice_tail'),
      node('Slice', ['x', 'sNeg2', 'e3', 'axes2'], 'slice_neg'),
      node('Concat', ['slice_tail', 'x'], 'concat', [attr.int('axis', -1)]),
      node('Pad', ['x', 'pads', 'half'], 'pad'),
      node('Gather', ['x', 'pick'], 'gather', [attr.int('axis', 3)]),
      node('Range', ['r0', 'r3', 'r1'], 'range'),
      node('Gather', ['x', 'range'], 'gather_range', [attr.int('axis', 2)]),
      node('ReduceSum', ['x', 'axes1'], 'channel_sum', [attr.int('keepdims', 1)]),
      node('Expand', ['channel_sum', 'shape'], 'expand'),
      node('Cast', ['x'], 'as_int', [attr.int('to', 6)]),
      node('Cast', ['as_int'], 'as_float', [attr.int('to', FLOAT)]),
      node('ConstantOfShape', ['shape34'], 'filled', [attr.tensor('value', f32('v', [1], [1.5]))]),
      node('Add', ['x', 'filled'], 'plus_filled'),
    ],
    outputs: [
      'flatten',
      'reshape0',
      'reshape_dynamic',
      'transpose',
      'squeezed',
      'slice_tail',
      'slice_neg',
      'concat',
      'pad',
      'gather',
      'gather_range',
      'expand',
      'as_float',
      'plus_filled',
    ].map((n) => [n, FLOAT]),
  },
  reductions: {
    inputs: [{ name: 'x', dims: ['N', 3, 4], type: FLOAT }],
    initializers: [i64('axes2', [1], [2])],
    nodes: [
      node('ReduceSum', ['x', 'axes2'], 'sum', [attr.int('keepdims', 0)]),
      node('ReduceMean', ['x'], 'mean1', [attr.ints('axes', [1])]),
      node('ReduceMax', ['x'], 'max', [attr.ints('axes', [1, 2]), attr.int('keepdims', 0)]),
      node('ReduceMin', ['x'], 'min', [attr.ints('axes', [-1])]),
      node('ReduceMean', ['x'], 'mean_all', [attr.int('keepdims', 0)]),
      node('ArgMax', ['x'], 'argmax', [attr.int('axis', 1), attr.int('keepdims', 0)]),
      node('Softmax', ['x'], 'softmax', [attr.int('axis', 1)]),
      node('LogSoftmax', ['x'], 'log_softmax'),
    ],
    outputs: [
      ['sum', FLOAT],
      ['mean1', FLOAT],
      ['max', FLOAT],
      ['min', FLOAT],
      ['mean_all', FLOAT],
      ['argmax', INT64],
      ['softmax', FLOAT],
      ['log_softmax', FLOAT],
    ],
  },
  layers: {
    inputs: [
      { name: 'x', dims: ['N', 6], type: FLOAT },
      { name: 'img', dims: ['N', 3, 7, 7], type: FLOAT },
    ],
    initializers: [
      f32('fc.weight', [4, 6], values(24, 1)),
      f32('fc.bias', [4], values(4, 2)),
      f32('w2', [6, 4], values(24, 3)),
      f32('c2', [4], values(4, 4)),
      f32('w3', [6, 3], values(18, 5)),
      f32('conv.weight', [4, 3, 3, 3], values(108, 6)),
      f32('conv.bias', [4], values(4, 7)),
      f32('grouped', [6, 1, 3, 3], values(54, 8)),
      f32('ln.weight', [7], values(7, 9)),
      f32('ln.bias', [7], values(7, 10)),
      f32('bn.weight', [3], [0.5, 1, 1.5]),
      f32('bn.bias', [3], [0.1, -0.2, 0.3]),
      f32('bn.running_mean', [3], [0.05, -0.1, 0.2]),
      f32('bn.running_var', [3], [0.5, 1.5, 2]),
    ],
    nodes: [
      node('Gemm', ['x', 'fc.weight', 'fc.bias'], 'linear', [attr.int('transB', 1)]),
      node('Gemm', ['x', 'w2', 'c2'], 'gemm', [attr.float('alpha', 0.5), attr.float('beta', 2)]),
      node('MatMul', ['x', 'w3'], 'matmul'),
      node('Conv', ['img', 'conv.weight', 'conv.bias'], 'conv', [
        attr.ints('strides', [2, 2]),
        attr.string('auto_pad', 'SAME_UPPER'),
      ]),
      node('Conv', ['img', 'grouped'], 'conv_grouped', [
        attr.int('group', 3),
        attr.ints('pads', [1, 0, 1, 2]),
      ]),
      node('AveragePool', ['img'], 'avg_pad', [
        attr.ints('kernel_shape', [3, 3]),
        attr.ints('strides', [2, 2]),
        attr.ints('pads', [1, 1, 1, 1]),
        attr.int('count_include_pad', 1),
      ]),
      node('AveragePool', ['img'], 'avg', [attr.ints('kernel_shape', [2, 2])]),
      node('MaxPool', ['img'], 'max_pool', [
        attr.ints('kernel_shape', [3, 3]),
        attr.ints('strides', [2, 2]),
        attr.ints('pads', [1, 1, 1, 1]),
      ]),
      node('GlobalAveragePool', ['img'], 'gap'),
      node('GlobalMaxPool', ['img'], 'gmp'),
      node('LayerNormalization', ['img', 'ln.weight', 'ln.bias'], 'layer_norm', [
        attr.float('epsilon', 1e-3),
      ]),
      node(
        'BatchNormalization',
        ['img', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'],
        'batch_norm',
        [attr.float('epsilon', 1e-4)],
      ),
    ],
    outputs: [
      'linear',
      'gemm',
      'matmul',
      'conv',
      'conv_grouped',
      'avg_pad',
      'avg',
      'max_pool',
      'gap',
      'gmp',
      'layer_norm',
      'batch_norm',
    ].map((n) => [n, FLOAT]),
  },
  indices: {
    inputs: [
      { name: 'tok', dims: ['N'], type: INT64 },
      { name: 'x', dims: ['N', 3], type: FLOAT },
    ],
    initializers: [
      i64('depth', [1], [5]),
      f32('on_off', [2], [0, 2]),
      f32('table', [5, 3], values(15, 11)),
      i64('two', [], [2]),
      i64('axes1', [1], [1]),
    ],
    nodes: [
      node('OneHot', ['tok', 'depth', 'on_off'], 'one_hot'),
      node('Gather', ['table', 'tok'], 'embedded', [attr.int('axis', 0)]),
      node('Equal', ['tok', 'two'], 'is_two'),
      node('Unsqueeze', ['is_two', 'axes1'], 'is_two_col'),
      node('Neg', ['x'], 'neg'),
      node('Where', ['is_two_col', 'x', 'neg'], 'where'),
      node('Add', ['embedded', 'where'], 'sum'),
    ],
    outputs: [
      ['one_hot', FLOAT],
      ['sum', FLOAT],
      ['is_two', BOOL],
    ],
  },
};

describe('ONNX import: each op against onnxruntime', () => {
  it.each(Object.keys(CASES))('%s', async (name) => {
    const c = CASES[name]!;
    const bytes = encode(c);
    const imported = importOnnx(bytes);
    expect(imported.report.placeholders).toEqual([]);
    for (const batch of [3, 1]) {
      const inputs: Record<string, Tensor> = {};
      const int64 = new Set<string>();
      c.inputs.forEach((i, k) => {
        const shape = i.dims.map((d) => (d === 'N' ? batch : d));
        const size = shape.reduce((p, d) => p * d, 1);
        if (i.type === INT64) {
          int64.add(i.name);
          inputs[i.name] = wg.tensor(
            Int32Array.from(values(size, 20 + k), (v) => Math.floor((v + 1) * 2.5)),
            { shape, dtype: 'i32' },
          );
        } else inputs[i.name] = wg.tensor(Float32Array.from(values(size, 30 + k)), { shape });
      });
      const theirs = await runOrt(bytes, inputs, int64);
      const ours = engineOutputs(imported.graph, inputs);
      for (const [k] of c.outputs) {
        expect(ours[k]!.dims, `${k} at batch ${batch}`).toEqual(theirs[k]!.dims);
        expect(
          relativeError(ours[k]!.data, theirs[k]!.data),
          `${k} at batch ${batch}`,
        ).toBeLessThanOrEqual(1e-5);
      }
      wg.dispose(Object.values(inputs));
    }
    wg.dispose(imported.weights.values());
  });

  it('turns ops Wiregrad lacks into placeholders named in the report, not a crash', () => {
    const bytes = encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'partly supported',
        node: [
          node('Relu', ['x'], 'r1'),
          node('Elu', ['r1'], 'elu', [attr.float('alpha', 1)]),
          node('Relu', ['elu'], 'r2'),
          { ...node('Mystery', ['r2'], 'mystery'), domain: 'com.example' },
          node('Tanh', ['mystery'], 'after'),
        ],
        input: [
          {
            name: 'x',
            type: {
              tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 4 }] } },
            },
          },
        ],
        valueInfo: [
          {
            name: 'elu',
            type: {
              tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 4 }] } },
            },
          },
        ],
        output: [
          { name: 'r2', type: { tensorType: { elemType: FLOAT } } },
          { name: 'after', type: { tensorType: { elemType: FLOAT } } },
        ],
      },
    });
    const imported = importOnnx(bytes);
    const report = imported.report.placeholders;
    expect(report.map((p) => [p.node, p.op])).toEqual([
      ['elu', 'Elu'],
      ['mystery', 'Mystery'],
      ['after', 'Tanh'],
    ]);
    expect(report[0]!.reason).toContain("no op for the ONNX op 'Elu'");
    expect(report[1]!.reason).toContain('com.example');
    expect(report[2]!.reason).toContain('placeholder');
    // The graph is whole: the placeholder with a declared shape keeps shapes flowing past it,
    // so only the one without a shape shows a problem on the canvas.
    expect(imported.graph.check({ batch: 2 }).map((d) => d.node)).toEqual(['mystery']);
    const x = wg.tensor(Float32Array.from([1, -2, 3, -4]), { shape: [1, 4] });
    expect(() => imported.graph.run({ x })).toThrow(
      /node 'elu', op 'placeholder': cannot run: .*'onnx:Elu'/,
    );
    x.dispose();
  });

  it('imports RandomUniform and RandomNormal as seeded engine ops (same shape and range)', () => {
    const bytes = encode({
      inputs: [],
      initializers: [],
      nodes: [
        node('RandomUniform', [], 'u', [
          attr.ints('shape', [200, 3]),
          attr.float('low', 2),
          attr.float('high', 5),
          attr.float('seed', 7),
        ]),
        node('RandomNormal', [], 'n', [
          attr.ints('shape', [4000]),
          attr.float('mean', 1),
          attr.float('scale', 0.5),
        ]),
      ],
      outputs: [
        ['u', FLOAT],
        ['n', FLOAT],
      ],
    });
    const imported = importOnnx(bytes);
    expect(imported.report.placeholders).toEqual([]);
    const { u, n } = engineOutputs(imported.graph, {});
    expect(u!.dims).toEqual([200, 3]);
    expect(Math.min(...u!.data)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u!.data)).toBeLessThan(5);
    const mean = n!.data.reduce((p, v) => p + v, 0) / n!.data.length;
    const sd = Math.sqrt(n!.data.reduce((p, v) => p + (v - mean) ** 2, 0) / n!.data.length);
    expect(Math.abs(mean - 1)).toBeLessThan(0.05);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.05);
  });

  it('refuses bytes that are not an ONNX model with a readable error', () => {
    expect(() => importOnnx(new Uint8Array([0x0a, 0xff, 0x01]))).toThrow(/^ONNX: /);
    expect(() => importOnnx(new TextEncoder().encode('{"format": "wiregrad.graph"}'))).toThrow(
      /ONNX: .*(not an ONNX model|no graph)/,
    );
  });

  it('reads the opset-11 forms too (Squeeze axes as an attribute, Softmax on the last axis)', async () => {
    const c: ImportCase = {
      inputs: [{ name: 'x', dims: ['N', 1, 5], type: FLOAT }],
      initializers: [],
      nodes: [
        node('Squeeze', ['x'], 'squeezed', [attr.ints('axes', [1])]),
        node('Softmax', ['squeezed'], 'softmax', [attr.int('axis', 1)]),
        node('Unsqueeze', ['softmax'], 'back', [attr.ints('axes', [1])]),
      ],
      outputs: [['back', FLOAT]],
    };
    const bytes = encode(c, 11);
    const imported = importOnnx(bytes);
    expect(imported.report.opset).toBe(11);
    expect(imported.report.placeholders).toEqual([]);
    const x = wg.tensor(Float32Array.from(values(10, 3)), { shape: [2, 1, 5] });
    const theirs = await runOrt(bytes, { x });
    const ours = engineOutputs(imported.graph, { x });
    expect(relativeError(ours['back']!.data, theirs['back']!.data)).toBeLessThanOrEqual(1e-6);
    x.dispose();
  });
});
