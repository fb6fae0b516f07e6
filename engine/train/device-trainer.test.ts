/**
 * Training under a device policy with pins (Dawn and SwiftShader, as engine/backend/webgpu's
 * tests): pins come out of the document as placement pins; a graph placed all on WebGPU trains
 * with the CPU's losses; a graph with one node pinned to the CPU under the WebGPU policy is a
 * mixed placement whose crossing edges are listed with the bytes they move, and it trains, with
 * Adam, to the CPU's losses too; `readParams` copies the parameters to the CPU. No adapter is a
 * failure.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { GraphJSON } from '../graph/ir.js';
import { expectClose } from '../../test/helpers/numeric.js';
import { useNodeWebGPU } from '../../test/helpers/webgpu.js';
import {
  DeviceTrainer,
  placeTraining,
  singleDevice,
  splitPins,
  transfersOf,
} from './device-trainer.js';
import { Trainer, trainConfigOf } from './trainer.js';

useNodeWebGPU();

const spiralJSON = (): GraphJSON =>
  JSON.parse(
    readFileSync(new URL('../../examples/mlp-spiral.json', import.meta.url), 'utf8'),
  ) as GraphJSON;

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
