/**
 * Training under a device policy with pins (Dawn and SwiftShader, as engine/backend/webgpu's
 * tests): pins come out of the document as placement pins; a graph placed all on WebGPU trains
 * with the CPU's losses; a graph with one node pinned to the CPU under the WebGPU policy is a
 * mixed placement whose crossing edges are listed with the bytes they move, and it trains, with
 * Adam, to the CPU's losses too; `readParams` copies the parameters to the CPU. No adapter is a
 * failure.
 */

import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { GraphJSON } from '../graph/ir.js';
import { expectClose } from '../../test/helpers/numeric.js';
import { useNodeWebGPU } from '../../test/helpers/webgpu.js';
import { graphSources } from '../graph/run.js';
import { backwardMeasuringEdges, edgeKey, evaluateOwned, nodeOfValues } from './edge-gradients.js';
import {
  DeviceTrainer,
  GPU_QUEUE_LANE,
  placeTraining,
  singleDevice,
  splitPins,
  transfersOf,
} from './device-trainer.js';
import { Trainer, trainConfigOf } from './trainer.js';
import { spiralJSON } from '../../test/helpers/examples.js';

useNodeWebGPU();

/** The document with `relu1` pinned to `device`. */
function pinned(device: 'cpu' | 'webgpu'): GraphJSON {
  const json = spiralJSON();
  return { ...json, nodes: json.nodes.map((n) => (n.id === 'relu1' ? { ...n, device } : n)) };
}

const BATCH = 16;

function batches(steps: number): { x: wg.Tensor; y: wg.Tensor }[] {
  const set = wg.data.spiral(64, { seed: 4 });
  const data = new wg.data.TensorDataset(set.x, set.y);
  const loader = new wg.data.DataLoader(data, { batchSize: BATCH, shuffle: true, seed: 1 });
  const out: { x: wg.Tensor; y: wg.Tensor }[] = [];
  for (let epoch = 0; out.length < steps; epoch++)
    for (const indices of loader.batchIndices(epoch)) {
      if (out.length === steps) break;
      const b = data.getBatch(indices);
      out.push({ x: wg.keep(b.x), y: wg.keep(b.y) });
    }
  return out;
}

function cpuLosses(data: readonly { x: wg.Tensor; y: wg.Tensor }[]): number[] {
  const graph = wg.Graph.fromJSON(spiralJSON());
  const trainer = new Trainer(graph, trainConfigOf(graph, { batchSize: BATCH }));
  return data.map((b) => trainer.step(b.x, b.y));
}

describe('placing a training graph', () => {
  it('reads pins out of the document and places the rest by policy', () => {
    const { graph, pins } = splitPins(pinned('cpu'));
    expect(pins).toEqual({ relu1: 'cpu' });
    expect(graph.nodes.every((n) => n.device === undefined)).toBe(true);
    const placement = placeTraining(graph, 'webgpu', { pins, batch: BATCH });
    expect(placement.get('relu1')).toBe('cpu');
    expect(placement.get('fc1')).toBe('webgpu');
    expect(singleDevice(placement)).toBeNull();
    expect(singleDevice(placeTraining(graph, 'cpu', { batch: BATCH }))).toBe('cpu');
    // fc1 → relu1 and relu1 → fc2 cross; each moves a [16, 64] f32 activation.
    expect(
      transfersOf(graph, placement, BATCH).map((t) => [t.from, t.to, t.toDevice, t.bytes]),
    ).toEqual([
      ['fc1', 'relu1', 'cpu', BATCH * 64 * 4],
      ['relu1', 'fc2', 'webgpu', BATCH * 64 * 4],
    ]);
  });
});

describe('DeviceTrainer', () => {
  it('all on webgpu: the CPU losses, steps read asynchronously', async () => {
    const data = batches(10);
    const expected = cpuLosses(data);
    const { graph, pins } = splitPins(spiralJSON());
    const placement = placeTraining(graph, 'webgpu', { pins, batch: BATCH });
    const trainer = new DeviceTrainer(
      graph,
      trainConfigOf(graph, { batchSize: BATCH }),
      placement,
      'webgpu',
      { batch: BATCH },
    );
    expect(trainer.device).toBe('webgpu');
    const losses: number[] = [];
    for (const b of data) {
      const r = await trainer.step(b.x, b.y);
      expect(r.correct).toBeGreaterThanOrEqual(0);
      expect(r.correct).toBeLessThanOrEqual(BATCH);
      losses.push(r.loss);
    }
    expectClose(losses, expected, { rtol: 1e-4, atol: 1e-5 }, 'losses');
    const copies = await trainer.readParams();
    expect([...copies.values()].every((p) => p.device === 'cpu')).toBe(true);
    expectClose(
      copies.get('fc1.bias')!.dataSync(),
      await trainer.params.get('fc1.bias')!.data(),
      { rtol: 0, atol: 0 },
      'copy',
    );
    wg.dispose([...copies.values(), ...data]);
    trainer.dispose();
  }, 60_000);

  it('mixed: one node pinned to the CPU under the webgpu policy trains to the CPU losses', async () => {
    const data = batches(8);
    const expected = cpuLosses(data);
    const { graph, pins } = splitPins(pinned('cpu'));
    const placement = placeTraining(graph, 'webgpu', { pins, batch: BATCH });
    const trainer = new DeviceTrainer(
      graph,
      trainConfigOf(graph, { batchSize: BATCH }),
      placement,
      'webgpu',
      { pins, batch: BATCH },
    );
    expect(trainer.device).toBeNull();
    expect(trainer.params.get('fc1.weight')!.device).toBe('webgpu');
    expect(trainer.transfers(BATCH).length).toBe(2);
    const losses: number[] = [];
    for (const b of data) losses.push((await trainer.step(b.x, b.y)).loss);
    expectClose(losses, expected, { rtol: 1e-4, atol: 1e-5 }, 'losses');
    wg.dispose(data);
    trainer.dispose();
  }, 60_000);
});

/** x [N, 2] → batchNorm → fc1 → relu → fc2 → loss, with `relu` pinned to `device` if given. */
function bnDocument(device?: 'cpu' | 'webgpu'): GraphJSON {
  const b = new wg.GraphBuilder('bn mlp');
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const w = b.parameter('bn.weight', [2], { init: 'ones' });
  const bias = b.parameter('bn.bias', [2], { init: 'zeros' });
  const rm = b.parameter('bn.running_mean', [2], { init: 'zeros', trainable: false });
  const rv = b.parameter('bn.running_var', [2], { init: 'ones', trainable: false });
  const h = b.op('batchNorm', [x, w, bias, rm, rv], { training: true, momentum: 0.2 }, 'bn');
  const a = b.op('relu', [b.linear(h, 2, 8, 'fc1')], {}, 'relu');
  const logits = b.linear(a, 8, 3, 'fc2');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  const json = b.build().toJSON();
  if (device === undefined) return json;
  return { ...json, nodes: json.nodes.map((n) => (n.id === 'relu' ? { ...n, device } : n)) };
}

describe("DeviceTrainer and batch norm's running statistics", () => {
  const STEPS = 6;
  const RUNNING = ['bn.running_mean', 'bn.running_var'];

  /** The running statistics after STEPS CPU steps (Trainer.step, the reference). */
  function cpuStats(data: readonly { x: wg.Tensor; y: wg.Tensor }[]): number[][] {
    const graph = wg.Graph.fromJSON(bnDocument());
    const trainer = new Trainer(graph, trainConfigOf(graph, { batchSize: BATCH }));
    for (const b of data) trainer.step(b.x, b.y);
    return RUNNING.map((id) => Array.from(trainer.params.get(id)!.dataSync()));
  }

  for (const [label, pin] of [
    ['mixed (relu pinned to the CPU)', 'cpu'],
    ['all on webgpu', undefined],
  ] as const)
    it(`${label}: plain and measured steps update them as the CPU does`, async () => {
      const data = batches(STEPS);
      const expected = cpuStats(data);
      // The reference moved them away from their initial zeros and ones.
      expect(expected[0]!.some((v) => Math.abs(v) > 0.01)).toBe(true);
      const { graph, pins } = splitPins(bnDocument(pin));
      const placement = placeTraining(graph, 'webgpu', { pins, batch: BATCH });
      const trainer = new DeviceTrainer(
        graph,
        trainConfigOf(graph, { batchSize: BATCH }),
        placement,
        'webgpu',
        { pins, batch: BATCH },
      );
      expect(trainer.device).toBe(pin === undefined ? 'webgpu' : null);
      for (const [i, b] of data.entries())
        await (i % 2 === 0 ? trainer.step(b.x, b.y) : trainer.stepMeasuringEdges(b.x, b.y));
      const copies = await trainer.readParams();
      for (const [k, id] of RUNNING.entries())
        expectClose(copies.get(id)!.dataSync(), expected[k]!, { rtol: 1e-4, atol: 1e-5 }, id);
      wg.dispose([...copies.values(), ...data]);
      trainer.dispose();
    }, 60_000);
});

describe('DeviceTrainer on a mixed placement, measured', () => {
  it("reports each edge's gradient norm as the CPU measures it, and the step's events", async () => {
    const [b] = batches(1);
    // The CPU reference: the same first step, measured on the tape.
    const reference = wg.Graph.fromJSON(spiralJSON());
    const cpu = new Trainer(reference, trainConfigOf(reference, { batchSize: BATCH }));
    const sources = graphSources(reference, { x: b!.x, y: b!.y }, { params: cpu.params });
    const expected = new Map<string, number>();
    wg.tidy(() => {
      const { values, owner } = evaluateOwned(reference, sources);
      const sums = backwardMeasuringEdges(values.get('loss')!, nodeOfValues(values), owner);
      for (const [key, g] of sums) expected.set(key, Math.sqrt(sumSquares(g.dataSync())));
    });

    const { graph, pins } = splitPins(pinned('cpu'));
    const placement = placeTraining(graph, 'webgpu', { pins, batch: BATCH });
    const trainer = new DeviceTrainer(
      graph,
      trainConfigOf(graph, { batchSize: BATCH }),
      placement,
      'webgpu',
      { pins, batch: BATCH },
    );
    const r = await trainer.stepMeasuringEdges(b!.x, b!.y);
    const edges = graph.nodes.flatMap((n) => n.inputs.map((from, port) => [from, n.id, port]));
    expect(r.edges.map((e) => [e.from, e.to, e.port])).toEqual(edges);
    let measured = 0;
    for (const e of r.edges) {
      const want = expected.get(edgeKey(e.from, e.to));
      if (want === undefined) expect(e.norm, `${e.from} → ${e.to}`).toBeNull();
      else {
        measured++;
        expect(Math.abs(e.norm! - want), `${e.from} → ${e.to}`).toBeLessThan(1e-4 * want + 1e-6);
      }
    }
    // Every edge but the data's and the label's carries a gradient.
    expect(measured).toBe(edges.length - 2);

    // relu1's forward op on the CPU's lane, fc1's on the GPU queue; backward nodes follow the
    // policy (webgpu), each named after the forward node it differentiates.
    const events = r.events!;
    const on = (node: string, phase: string): Set<string> =>
      new Set(events.filter((e) => e.node === node && e.phase === phase).map((e) => e.device));
    expect(on('relu1', 'forward')).toEqual(new Set(['cpu']));
    expect(on('grad:relu1', 'backward')).toEqual(new Set(['webgpu']));
    expect(on('fc1', 'forward')).toEqual(new Set(['webgpu']));
    expect(on('grad:fc2', 'backward')).toEqual(new Set(['webgpu']));
    for (const e of events) expect(e.lane).toBe(e.device === 'webgpu' ? GPU_QUEUE_LANE : 0);
    expect(events.some((e) => e.phase === 'optimizer')).toBe(true);
    // The activations cross as transfers, forward and back.
    const transfers = events.filter((e) => e.op === 'transfer').map((e) => e.node);
    expect(transfers).toEqual(expect.arrayContaining(['fc1@cpu', 'relu1@webgpu']));
    expect(events.every((e, i) => i === 0 || e.start >= events[i - 1]!.start)).toBe(true);

    // A measured step is a training step: the next step's loss is the CPU's second one.
    expect(r.loss).toBeCloseTo(cpu.step(b!.x, b!.y), 5);
    expect((await trainer.step(b!.x, b!.y)).loss).toBeCloseTo(cpu.step(b!.x, b!.y), 5);
    wg.dispose([b!]);
    trainer.dispose();
  }, 60_000);
});

function sumSquares(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return s;
}
