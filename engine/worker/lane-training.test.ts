import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { spiral } from '../data/synthetic.js';
import { GraphBuilder } from '../graph/builder.js';
import { Graph } from '../graph/graph.js';
import type { GraphJSON, NodeJSON } from '../graph/ir.js';
import { startNodeLanes } from '../node/lanes.js';
import type { TimelineEntry, TrainSessionConfig } from '../protocol/messages.js';
import { ExecutionRecorder, exportTrace } from '../runtime/events.js';
import type { LanePool } from '../runtime/lanes/pool.js';
import { dispose } from '../runtime/scope.js';
import {
  LaneGradients,
  type LaneSource,
  closeWorkerLanes,
  hostAllowsLanes,
  sharedMemoryWorks,
  workerLanesFor,
} from './lane-training.js';
import { TrainSession } from './train-session.js';

/** Two Linear–ReLU towers over 2-D points, added, then a Linear head (3 classes). */
function towersJSON(): GraphJSON {
  const nodes: NodeJSON[] = [
    { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 2], dtype: 'f32', role: 'data' } },
    { id: 'y', op: 'input', inputs: [], attrs: { shape: [-1], dtype: 'i32', role: 'label' } },
  ];
  let seed = 1;
  const linear = (id: string, from: string, fanIn: number, fanOut: number): void => {
    const init = { dtype: 'f32', init: 'kaimingUniform', fanIn };
    const param = (name: string, shape: number[]): NodeJSON => ({
      id: `${id}.${name}`,
      op: 'parameter',
      inputs: [],
      attrs: { shape, seed: seed++, ...init },
    });
    nodes.push(param('weight', [fanOut, fanIn]), param('bias', [fanOut]), {
      id,
      op: 'linear',
      inputs: [from, `${id}.weight`, `${id}.bias`],
      attrs: {},
    });
  };
  for (const side of ['left', 'right']) {
    linear(`${side}_fc`, 'x', 2, 32);
    nodes.push({ id: `${side}_relu`, op: 'relu', inputs: [`${side}_fc`], attrs: {} });
  }
  nodes.push({ id: 'merge', op: 'add', inputs: ['left_relu', 'right_relu'], attrs: {} });
  linear('head', 'merge', 32, 3);
  nodes.push({ id: 'loss', op: 'crossEntropy', inputs: ['head', 'y'], attrs: {} });
  return {
    format: 'wiregrad.graph',
    version: 1,
    name: 'towers',
    nodes,
    outputs: [
      { name: 'logits', node: 'head' },
      { name: 'loss', node: 'loss' },
    ],
  } as GraphJSON;
}

const config: TrainSessionConfig = {
  optimizer: 'sgd',
  lr: 0.1,
  batchSize: 32,
  epochs: 2,
  seed: 0,
  lanes: 2,
};

let pool: LanePool;
const lanes: LaneSource = { pool: () => Promise.resolve(pool), note: null };

beforeAll(async () => {
  pool = await startNodeLanes({ lanes: 2 });
});

afterAll(async () => {
  await pool.close();
});

/** "phase node" of each entry, for comparing timelines as sets. */
function names(entries: readonly Pick<TimelineEntry, 'node' | 'phase'>[]): Set<string> {
  return new Set(entries.map((e) => `${e.phase} ${e.node}`));
}

describe('events of a training step on lanes', () => {
  it('name forward and backward ops as a step on one thread does', async () => {
    const one = new TrainSession(towersJSON(), 'spiral', { ...config, lanes: 1 }, { lanes: null });
    const two = new TrainSession(towersJSON(), 'spiral', config, { lanes });
    one.step(true);
    await two.queueStep(true);
    const single = one.progress('paused').timeline;
    const onLanes = two.progress('paused').timeline;
    expect(onLanes.some((e) => e.lane > 0)).toBe(true);
    const graph = Graph.fromJSON(towersJSON());
    const computed = graph.nodes.filter((n) => !['input', 'parameter'].includes(n.op));
    // Every forward event is named after a node of the document, every backward one after
    // the node it differentiates, `grad:<node>`, in the backward phase.
    const forward = onLanes.filter((e) => e.lane > 0 && e.phase === 'forward');
    for (const e of forward) expect(graph.hasNode(e.node), e.node).toBe(true);
    const backward = onLanes.filter((e) => e.node.startsWith('grad:'));
    for (const e of backward) {
      expect(e.phase, e.node).toBe('backward');
      expect(graph.hasNode(e.node.slice('grad:'.length)), e.node).toBe(true);
    }
    // The same names as on one thread (ops outside any node, such as the loss's seed, are
    // numbered differently: they are left out). The gradient graph has no node for a rule
    // that only passes its gradient on (add's identities), so those bars are missing.
    const named = (entries: readonly TimelineEntry[]) =>
      names(entries.filter((e) => graph.hasNode(e.node) || e.node.startsWith('grad:')));
    const missing = [...named(single)].filter((n) => !named(onLanes).has(n));
    expect(missing).toEqual(['backward grad:merge']);
    expect(new Set(single.filter((e) => e.node === 'grad:merge').map((e) => e.op))).toEqual(
      new Set(['identity']),
    );
    expect([...named(onLanes)].filter((n) => !named(single).has(n))).toEqual([]);
    // Each computed node has its forward bars and its gradient's bars.
    for (const n of computed) {
      expect(names(onLanes).has(`forward ${n.id}`), n.id).toBe(true);
      if (n.id !== 'merge') expect(names(onLanes).has(`backward grad:${n.id}`), n.id).toBe(true);
    }
    // Backward bars ran on the lanes, not only on this thread.
    expect(backward.some((e) => e.lane > 0)).toBe(true);
    one.dispose();
    two.dispose();
  });

  it('exports a trace whose backward events carry grad:<node> and the backward category', async () => {
    const graph = Graph.fromJSON(towersJSON());
    const params = graph.initParameters();
    const set = spiral(64, { seed: 1 });
    const gradients = new LaneGradients(graph, {
      data: 'x',
      label: 'y',
      loss: 'loss',
      output: 'logits',
    });
    const recorder = new ExecutionRecorder().start();
    const out = await gradients.run(pool, 2, set.x, set.y, params);
    recorder.stop();
    dispose([out.loss, out.output, ...out.grads.values()]);
    const trace = exportTrace(recorder).traceEvents.filter((e) => e.ph === 'X');
    const backward = trace.filter((e) => e.cat === 'backward');
    expect(backward.length).toBeGreaterThan(0);
    expect(new Set(backward.filter((e) => e.tid > 0).map((e) => e.name))).toEqual(
      new Set(
        ['left_fc', 'right_fc', 'left_relu', 'right_relu', 'head', 'loss'].map((n) => `grad:${n}`),
      ),
    );
    // Gradient-graph node ids (matmul_3 …) no longer name any event.
    for (const e of trace.filter((e) => e.tid > 0))
      expect(e.name.startsWith('grad:') || graph.hasNode(e.name), e.name).toBe(true);
    for (const e of trace) {
      if (e.name.startsWith('grad:')) expect(e.cat, e.name).toBe('backward');
      if (graph.hasNode(e.name)) expect(e.cat, e.name).toBe('forward');
    }
    dispose([set.x, set.y, ...params.values()]);
  });
});

/**
 * Batch norm twice: right on the data (its input is a source) and after a Linear layer; the
 * running statistics are non-trainable parameters.
 */
function batchNormJSON(): GraphJSON {
  const b = new GraphBuilder('batch norm mlp');
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const norm = (id: string, from: string, width: number): string =>
    b.op(
      'batchNorm',
      [
        from,
        b.parameter(`${id}.weight`, [width], { init: 'ones' }),
        b.parameter(`${id}.bias`, [width], { init: 'zeros' }),
        b.parameter(`${id}.running_mean`, [width], { init: 'zeros', trainable: false }),
        b.parameter(`${id}.running_var`, [width], { init: 'ones', trainable: false }),
      ],
      { training: true, momentum: 0.1 },
      id,
    );
  const h = b.op('relu', [norm('bn2', b.linear(norm('bn1', x, 2), 2, 32, 'fc1'), 32)], {}, 'act');
  const logits = b.linear(h, 32, 3, 'head');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.build().toJSON();
}

describe('batch norm trained on lanes', () => {
  it('updates the running statistics bit for bit as one thread does', async () => {
    const one = new TrainSession(
      batchNormJSON(),
      'spiral',
      { ...config, lanes: 1 },
      { lanes: null },
    );
    const two = new TrainSession(batchNormJSON(), 'spiral', config, { lanes });
    expect(two.asynchronous).toBe(true); // it does train on lanes
    const losses: [number, number][] = [];
    for (let k = 0; k < 12; k++) {
      // Every fourth step also measures the views (the step without its update, then lanes).
      one.step(k % 4 === 0);
      await two.queueStep(k % 4 === 0);
      losses.push([one.progress('paused').loss!, two.progress('paused').loss!]);
    }
    for (const [a, b] of losses) expect(b).toBe(a);
    expect(two.progress('paused').lanes).toBe(2);
    const stats = ['bn1.running_mean', 'bn1.running_var', 'bn2.running_mean', 'bn2.running_var'];
    for (const id of stats) {
      const a = Array.from(one.params.get(id)!.dataSync());
      const b = Array.from(two.params.get(id)!.dataSync());
      expect(b, id).toEqual(a);
      // They moved from their initial zeros and ones.
      expect(
        a.some((v) => v !== 0 && v !== 1),
        id,
      ).toBe(true);
    }
    for (const [id, p] of one.params)
      expect(Array.from(two.params.get(id)!.dataSync()), id).toEqual(Array.from(p.dataSync()));
    one.dispose();
    two.dispose();
  });
});

describe('whether the host allows lanes', () => {
  class FakeWorker {}
  const RealMemory = WebAssembly.Memory;
  /** Replaces WebAssembly.Memory for shared memories only, as a host that refuses them would. */
  function stubSharedMemory(make: () => WebAssembly.Memory): void {
    vi.stubGlobal('WebAssembly', {
      ...WebAssembly,
      Memory: function (descriptor: WebAssembly.MemoryDescriptor) {
        return descriptor.shared ? make() : new RealMemory(descriptor);
      },
    });
  }
  afterEach(async () => {
    vi.unstubAllGlobals();
    await closeWorkerLanes();
  });

  it('tests shared memory itself: it works here (Node), without any isolation flag', () => {
    expect((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated).toBeUndefined();
    expect(sharedMemoryWorks()).toBe(true);
  });

  it('accepts a page that is not cross-origin isolated where shared memory works', () => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('crossOriginIsolated', false);
    expect(hostAllowsLanes()).toBe(true);
    expect(workerLanesFor(2)).not.toBeNull();
    expect(workerLanesFor(1)).toBeNull(); // one lane is the single thread
  });

  it('refuses a host without Web Workers', () => {
    vi.stubGlobal('crossOriginIsolated', true);
    expect(hostAllowsLanes()).toBe(false);
    expect(workerLanesFor(2)).toBeNull();
  });

  it('refuses a page without SharedArrayBuffer, even one that says it is isolated', () => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('crossOriginIsolated', true);
    vi.stubGlobal('SharedArrayBuffer', undefined);
    expect(sharedMemoryWorks()).toBe(false);
    expect(hostAllowsLanes()).toBe(false);
    expect(workerLanesFor(2)).toBeNull();
  });

  it('refuses a host where a shared memory cannot be made, or is not shared', () => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('crossOriginIsolated', true);
    stubSharedMemory(() => {
      throw new TypeError('shared memory is not allowed here');
    });
    expect(hostAllowsLanes()).toBe(false);
    stubSharedMemory(() => new RealMemory({ initial: 1, maximum: 1 }));
    expect(hostAllowsLanes()).toBe(false);
    stubSharedMemory(() => new RealMemory({ initial: 1, maximum: 1, shared: true }));
    expect(hostAllowsLanes()).toBe(true);
  });
});
