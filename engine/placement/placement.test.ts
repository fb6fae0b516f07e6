/**
 * Placement: the earliest-finish-time placer on a cost model with fixed numbers (finish times
 * checked against hand arithmetic), pins and policies, the executed plan's transfer nodes, and
 * an MLP placed half on the CPU and half on WebGPU (Dawn + SwiftShader) that trains to the
 * same losses as eager all-CPU training with the engine's own SGD, within 1e-4 relative.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { Graph, GraphBuilder, type GraphJSON, type NodeJSON } from '../index.js';
import type { WebGPUBackend } from '../backend/webgpu/index.js';
import { initNodeWebGPU } from '../node/webgpu.js';
import { expectClose } from '../../test/helpers/numeric.js';
import { CostModel, measureCostModel } from './cost-model.js';
import { applyPlacement, placeGraph, scheduleEarliestFinish } from './place.js';
import { type TransferNode, planExecution } from './plan.js';
import { placeParameters, runPlan } from './run.js';
import { PlacedTrainer } from './train.js';

/** A fast GPU behind a slow link: 100× the CPU's FLOP/s, 20 µs launches, 100 µs transfers. */
const fixedModel = new CostModel({
  devices: {
    cpu: { flopsPerSecond: 1e9, bytesPerSecond: 1e10, launchSeconds: 1e-6 },
    webgpu: { flopsPerSecond: 1e11, bytesPerSecond: 1e11, launchSeconds: 2e-5 },
  },
  links: { 'cpu->webgpu': { bytesPerSecond: 1e9, latencySeconds: 1e-4 } },
});

const node = (id: string, op: string, inputs: string[], attrs = {}): NodeJSON => ({
  id,
  op,
  inputs,
  attrs,
});
const input = (id: string, shape: number[]): NodeJSON =>
  node(id, 'input', [], { shape, dtype: 'f32', role: 'data' });
const mm = { transposeA: false, transposeB: false };

/**
 * A large matmul x·w ([512, 512]²) next to a tiny chain on [4]: relu and exp pinned to the
 * CPU around an unpinned neg, and sigmoid and tanh pinned to WebGPU around an unpinned neg.
 */
function mixedGraph(): Graph {
  const json: GraphJSON = {
    format: 'wiregrad.graph',
    version: 1,
    nodes: [
      input('x', [512, 512]),
      node('w', 'parameter', [], { shape: [512, 512], dtype: 'f32', init: 'zeros', seed: 1 }),
      node('big', 'matmul', ['x', 'w'], mm),
      input('a', [4]),
      { ...node('cpuBefore', 'relu', ['a']), device: 'cpu' },
      node('tinyCpu', 'neg', ['cpuBefore']),
      { ...node('cpuAfter', 'exp', ['tinyCpu']), device: 'cpu' },
      { ...node('gpuBefore', 'sigmoid', ['a']), device: 'webgpu' },
      node('tinyGpu', 'neg', ['gpuBefore']),
      { ...node('gpuAfter', 'tanh', ['tinyGpu']), device: 'webgpu' },
    ],
    outputs: [
      { name: 'big', node: 'big' },
      { name: 'c', node: 'cpuAfter' },
      { name: 'g', node: 'gpuAfter' },
    ],
  };
  return Graph.fromJSON(json);
}

describe('placeGraph', () => {
  it("'auto' puts a large matmul on WebGPU and a tiny op beside its neighbours", () => {
    const g = mixedGraph();
    const placement = placeGraph(g, 'auto', { costModel: fixedModel });
    expect(placement.get('big')).toBe('webgpu');
    // The weight has no pin: it lives where its reader runs.
    expect(placement.get('w')).toBe('webgpu');
    expect(placement.get('x')).toBe('cpu');
    expect(placement.get('tinyCpu')).toBe('cpu');
    expect(placement.get('tinyGpu')).toBe('webgpu');
    // Hand arithmetic: x (1 MiB) crosses the link, 100 µs + 2²⁰ B / 1 GB/s; then the matmul,
    // 20 µs + 2·512³ / 1e11 FLOP/s (its 3 MiB at 1e11 B/s take less).
    const schedule = scheduleEarliestFinish(g, {}, fixedModel);
    const arrive = 1e-4 + 2 ** 20 / 1e9;
    expect(schedule.finish.get('big')).toBeCloseTo(arrive + 2e-5 + (2 * 512 ** 3) / 1e11, 12);
    // On the CPU relu then neg, each a 1 µs launch plus 4 FLOPs at 1e9 FLOP/s (their 32 bytes
    // at 1e10 B/s take less).
    expect(schedule.finish.get('tinyCpu')).toBeCloseTo(2 * (1e-6 + 4 / 1e9), 15);
  });

  it('with a slow GPU, auto keeps the matmul on the CPU', () => {
    const slowGpu = new CostModel({
      devices: {
        cpu: { flopsPerSecond: 1e10, bytesPerSecond: 1e10, launchSeconds: 1e-6 },
        webgpu: { flopsPerSecond: 1e9, bytesPerSecond: 1e10, launchSeconds: 2e-5 },
      },
      links: { 'cpu->webgpu': { bytesPerSecond: 1e9, latencySeconds: 1e-4 } },
    });
    expect(placeGraph(mixedGraph(), 'auto', { costModel: slowGpu }).get('big')).toBe('cpu');
  });

  it('respects pins over the policy and over the document, and checks them', () => {
    const g = mixedGraph();
    const pins = { big: 'cpu', tinyCpu: 'webgpu', gpuBefore: 'cpu' } as const;
    const auto = placeGraph(g, 'auto', { costModel: fixedModel, pins });
    expect([auto.get('big'), auto.get('tinyCpu'), auto.get('gpuBefore')]).toEqual([
      'cpu',
      'webgpu',
      'cpu',
    ]);
    const allGpu = placeGraph(g, 'webgpu', { pins: { big: 'cpu' } });
    expect(allGpu.get('big')).toBe('cpu');
    expect(allGpu.get('tinyCpu')).toBe('webgpu');
    expect(allGpu.get('cpuBefore')).toBe('cpu'); // the document's own device field
    expect(placeGraph(g, 'cpu').get('gpuAfter')).toBe('webgpu');
    expect(placeGraph(g, 'cpu').get('tinyGpu')).toBe('cpu');

    expect(() => placeGraph(g, 'cpu', { pins: { ghost: 'cpu' } })).toThrow(
      /pins names 'ghost', which is not a node/,
    );
    expect(() => placeGraph(g, 'auto')).toThrow(/'auto' needs a costModel/);
    const cpuOnly = new CostModel({
      devices: { cpu: { flopsPerSecond: 1e9, bytesPerSecond: 1e9, launchSeconds: 0 } },
    });
    expect(() => placeGraph(g, 'auto', { costModel: cpuOnly })).toThrow(
      /node 'gpuBefore'.*pinned to 'webgpu', which the cost model does not know/,
    );
  });
});

describe('planExecution', () => {
  it('inserts one transfer per (tensor, destination), read by every reader there', () => {
    const g = Graph.fromJSON({
      format: 'wiregrad.graph',
      version: 1,
      nodes: [
        input('x', [2]),
        node('r', 'relu', ['x']),
        node('s', 'sigmoid', ['r']),
        node('t', 'tanh', ['r']),
        node('u', 'add', ['s', 't']),
        node('v', 'neg', ['r']),
      ],
      outputs: [
        { name: 'u', node: 'u' },
        { name: 'v', node: 'v' },
      ],
    });
    const placement = placeGraph(g, 'cpu', { pins: { s: 'webgpu', t: 'webgpu' } });
    const plan = planExecution(g, placement);
    const summary = (t: TransferNode) => [t.id, t.source, t.from, t.to, [...t.readers]];
    // r goes to the GPU once for s and t; s and t come back to the CPU for u.
    expect(plan.transfers.map(summary)).toEqual([
      ['r@webgpu', 'r', 'cpu', 'webgpu', ['s', 't']],
      ['s@cpu', 's', 'webgpu', 'cpu', ['u']],
      ['t@cpu', 't', 'webgpu', 'cpu', ['u']],
    ]);
    const u = plan.steps.find((s) => s.id === 'u');
    expect(u).toMatchObject({ kind: 'op', device: 'cpu', inputs: ['s@cpu', 't@cpu'] });
    // Every step comes after the values it reads.
    const seen = new Set<string>();
    for (const step of plan.steps) {
      const reads = step.kind === 'op' ? step.inputs : [step.source];
      for (const id of reads) expect(seen.has(id)).toBe(true);
      seen.add(step.id);
    }
    expect(() => planExecution(g, new Map([['x', 'cpu' as const]]))).toThrow(
      /node 'r'.*no device for this node/,
    );
  });
});

// ---- on WebGPU (SwiftShader in CI) ------------------------------------------------------------

let gpu: WebGPUBackend | undefined;
let initError: unknown = null;
beforeAll(async () => {
  try {
    gpu = await initNodeWebGPU();
  } catch (e) {
    initError = e;
  }
}, 60_000);
afterAll(() => gpu?.destroy());

const HIDDEN = 16;
const BATCH = 60;

/** A 2-16-16-3 MLP with cross-entropy, from primitive ops so every node id is stable. */
function mlp(): Graph {
  const b = new GraphBuilder('spiral-mlp', { seed: 7 });
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const layer = (from: string, fanIn: number, fanOut: number, id: string): string => {
    const w = b.parameter(`${id}.w`, [fanIn, fanOut], { init: 'kaimingUniform', fanIn });
    const bias = b.parameter(`${id}.b`, [fanOut], { init: 'kaimingUniform', fanIn });
    return b.op('add', [b.op('matmul', [from, w], mm, `${id}.mm`), bias], {}, id);
  };
  const h1 = b.op('relu', [layer(x, 2, HIDDEN, 'fc1')], {}, 'act1');
  const h2 = b.op('relu', [layer(h1, HIDDEN, HIDDEN, 'fc2')], {}, 'act2');
  b.output('loss', b.op('crossEntropy', [layer(h2, HIDDEN, 3, 'fc3'), y], {}, 'loss'));
  return b.build();
}
const FIRST_LAYER = {
  x: 'cpu',
  'fc1.w': 'cpu',
  'fc1.b': 'cpu',
  'fc1.mm': 'cpu',
  fc1: 'cpu',
} as const;

describe('a graph placed half on the CPU, half on WebGPU', () => {
  beforeEach(() => {
    if (initError) throw initError;
  });

  it('computes the forward loss of all-CPU with one transfer at the cut', async () => {
    const g = mlp();
    const plan = planExecution(g, placeGraph(g, 'webgpu', { pins: FIRST_LAYER }));
    expect(plan.transfers.map((t) => [t.id, [...t.readers]])).toEqual([['fc1@webgpu', ['act1']]]);
    const data = wg.data.spiral(BATCH, { seed: 3 });
    const placed = await runPlan(plan, { x: data.x, y: data.y });
    expect(placed.loss!.device).toBe('webgpu');
    const reference = wg.tidy(() => g.run({ x: data.x, y: data.y }).loss!.item());
    expectClose(await placed.loss!.data(), [reference], { rtol: 1e-5 });
    placed.loss!.dispose();
  });

  it('trains SGD steps on spiral to the losses of eager all-CPU training', async () => {
    const data = wg.data.spiral(BATCH, { seed: 3 });
    const lr = 0.5;
    const steps = 4;

    // Reference: eager forward, tape backward and the engine's SGD, all on the CPU.
    const reference: number[] = [];
    const g = mlp();
    const params = [...g.initParameters().values()];
    const sgd = new wg.optim.SGD(params, { lr });
    for (let i = 0; i < steps; i++) {
      sgd.zeroGrad();
      const loss = g.run({ x: data.x, y: data.y }).loss!;
      loss.backward();
      reference.push(loss.item());
      sgd.step();
    }

    const trainer = await PlacedTrainer.create(mlp(), 'webgpu', {
      loss: 'loss',
      batch: BATCH,
      lr,
      pins: FIRST_LAYER,
    });
    const placement = trainer.plan.placement;
    expect(trainer.params.get('fc1.w')!.device).toBe('cpu');
    expect(trainer.params.get('fc3.w')!.device).toBe('webgpu');
    // One transfer per (tensor, destination); every cross-device edge goes through one.
    const ids = trainer.plan.transfers.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const step of trainer.plan.steps) {
      if (step.kind !== 'op') continue;
      step.inputs.forEach((value, i) => {
        const from = step.node.inputs[i]!;
        const crosses = placement.get(from) !== step.device;
        expect(value).toBe(crosses ? `${from}@${step.device}` : from);
      });
    }
    // At the forward cut, fc1 moves to the GPU once, for relu and for relu's gradient mask.
    const cut = trainer.plan.transfers.find((t) => t.id === 'fc1@webgpu')!;
    expect(cut.from).toBe('cpu');
    expect(cut.readers).toContain('act1');
    expect(cut.readers.length).toBeGreaterThan(1);

    const losses: number[] = [];
    let memory = wg.memory();
    for (let i = 0; i < steps; i++) {
      losses.push(await trainer.step({ x: data.x, y: data.y }));
      // The first step makes the constants; after it, a step leaves nothing behind.
      if (i > 1) expect(wg.memory()).toEqual(memory);
      memory = wg.memory();
    }
    expectClose(losses, reference, { rtol: 1e-4 });
    expect(losses[steps - 1]!).toBeLessThan(losses[0]!);
  }, 60_000);

  it('frees every intermediate of a run, on both devices', async () => {
    const g = mlp();
    const placement = placeGraph(g, 'webgpu', { pins: FIRST_LAYER });
    const plan = planExecution(g, placement);
    const params = await placeParameters(g, placement);
    const data = wg.data.spiral(BATCH, { seed: 3 });
    const once = async () => {
      const out = await runPlan(plan, { x: data.x, y: data.y }, { params });
      out.loss!.dispose();
    };
    await once(); // the first run makes the constants
    const before = wg.memory();
    for (let i = 0; i < 3; i++) await once();
    expect(wg.memory()).toEqual(before);
  });

  it('measures a cost model once, and auto-places the MLP to the all-CPU loss', async () => {
    const model = await measureCostModel();
    expect(await measureCostModel()).toBe(model);
    expect(model.devices).toEqual(['cpu', 'webgpu']);
    for (const d of model.devices) {
      const cost = model.device(d);
      expect(cost.flopsPerSecond).toBeGreaterThan(0);
      expect(cost.bytesPerSecond).toBeGreaterThan(0);
      expect(cost.launchSeconds).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(cost.flopsPerSecond)).toBe(true);
    }
    expect(model.transferSeconds(4096, 'cpu', 'webgpu')).toBeGreaterThan(0);
    expect(new CostModel(model.toJSON()).toJSON()).toEqual(model.toJSON());

    const g = mlp();
    const placement = placeGraph(g, 'auto', { costModel: model, batch: BATCH });
    // Whatever the timings chose, the document carries it and the plan computes the same loss.
    const placed = applyPlacement(g, placement);
    expect(placed.nodes.every((n) => n.device === placement.get(n.id))).toBe(true);
    const data = wg.data.spiral(BATCH, { seed: 3 });
    const out = await runPlan(planExecution(placed, placement), { x: data.x, y: data.y });
    const reference = wg.tidy(() => g.run({ x: data.x, y: data.y }).loss!.item());
    expectClose(await out.loss!.data(), [reference], { rtol: 1e-5 });
    out.loss!.dispose();
  }, 30_000);
});
