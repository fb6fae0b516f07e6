import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.js';
import type { GraphJSON, NodeJSON } from '../graph/ir.js';
import { startNodeLanes } from '../node/lanes.js';
import type { TrainSessionConfig } from '../protocol/messages.js';
import type { LanePool } from '../runtime/lanes/pool.js';
import {
  AUTO_LANES_MIN_FLOPS_PER_OP,
  type LaneSource,
  WorkerLanes,
  flopsPerOp,
  laneCount,
} from './lane-training.js';
import type { TrainProgress } from '../protocol/messages.js';
import { TrainRunner, TrainSession } from './train-session.js';

/** Two independent Linear–ReLU towers over 2-D points, added, then a head (3 classes). */
function twoTowersJSON(width = 64): GraphJSON {
  const nodes: NodeJSON[] = [
    { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 2], dtype: 'f32', role: 'data' } },
    { id: 'y', op: 'input', inputs: [], attrs: { shape: [-1], dtype: 'i32', role: 'label' } },
  ];
  let seed = 1;
  const linear = (id: string, from: string, fanIn: number, fanOut: number): string => {
    const init = { dtype: 'f32', init: 'kaimingUniform', fanIn };
    nodes.push(
      {
        id: `${id}.weight`,
        op: 'parameter',
        inputs: [],
        attrs: { shape: [fanOut, fanIn], seed: seed++, ...init },
      },
      {
        id: `${id}.bias`,
        op: 'parameter',
        inputs: [],
        attrs: { shape: [fanOut], seed: seed++, ...init },
      },
      { id, op: 'linear', inputs: [from, `${id}.weight`, `${id}.bias`], attrs: {} },
    );
    return id;
  };
  const tower = (side: string): string => {
    nodes.push({
      id: `${side}_relu1`,
      op: 'relu',
      inputs: [linear(`${side}_fc1`, 'x', 2, width)],
      attrs: {},
    });
    const fc2 = linear(`${side}_fc2`, `${side}_relu1`, width, width);
    nodes.push({ id: `${side}_relu2`, op: 'relu', inputs: [fc2], attrs: {} });
    return `${side}_relu2`;
  };
  nodes.push({ id: 'merge', op: 'add', inputs: [tower('left'), tower('right')], attrs: {} });
  linear('head', 'merge', width, 3);
  nodes.push({ id: 'loss', op: 'crossEntropy', inputs: ['head', 'y'], attrs: {} });
  return {
    format: 'wiregrad.graph',
    version: 1,
    name: 'two towers',
    nodes,
    outputs: [
      { name: 'logits', node: 'head' },
      { name: 'loss', node: 'loss' },
    ],
  } as GraphJSON;
}

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.01,
  batchSize: 32,
  epochs: 3,
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

/** The losses of `steps` steps, and the parameters after them. */
async function train(
  session: TrainSession,
  steps: number,
  observe: (k: number) => boolean = () => false,
): Promise<{ losses: number[]; params: Map<string, number[]> }> {
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) {
    await session.queueStep(observe(k));
    losses.push(session.progress('paused').loss!);
  }
  const params = new Map([...session.params].map(([id, p]) => [id, Array.from(p.dataSync())]));
  return { losses, params };
}

describe('a training session on CPU lanes', () => {
  it('trains 20 steps with the same losses and weights as one lane, bit for bit', async () => {
    const one = new TrainSession(
      twoTowersJSON(),
      'spiral',
      { ...config, lanes: 1 },
      { lanes: null },
    );
    const two = new TrainSession(twoTowersJSON(), 'spiral', config, { lanes });
    expect(one.asynchronous).toBe(false);
    expect(two.asynchronous).toBe(true);
    // Every fifth step also measures the views (edges on the tape, then the step on lanes).
    const a = await train(one, 20, (k) => k % 5 === 0);
    const b = await train(two, 20, (k) => k % 5 === 0);
    expect(b.losses).toEqual(a.losses);
    expect(new Set(a.losses).size).toBeGreaterThan(1); // it does train
    for (const [id, values] of a.params) expect(b.params.get(id), id).toEqual(values);
    expect(two.progress('paused').lanes).toBe(2);
    expect(one.progress('paused').lanes).toBeUndefined();
    one.dispose();
    two.dispose();
  });

  it('times both towers on different lanes, overlapping, in an observed step’s timeline', async () => {
    // Wide batches, so each tower's ops take long enough to be seen running side by side.
    const wide = { ...config, batchSize: 512, epochs: 10 };
    const session = new TrainSession(twoTowersJSON(), 'spiral', wide, { lanes, size: 2048 });
    await train(session, 3); // warm up the lanes and the plan
    // Each op lasts tens of microseconds, so on a busy machine the two lanes' threads may not
    // both hold a core during one step: observed steps go on until the towers meet.
    let overlapping = false;
    for (let k = 0; k < 30 && !overlapping; k++) {
      await session.queueStep(true);
      const bars = session.progress('paused').timeline.filter((e) => e.lane > 0);
      const tower = (side: string) => bars.filter((e) => e.node.startsWith(`${side}_`));
      expect(tower('left').length).toBeGreaterThan(0);
      expect(tower('right').length).toBeGreaterThan(0);
      overlapping = tower('left').some((l) =>
        tower('right').some((r) => l.lane !== r.lane && l.start < r.end && r.start < l.end),
      );
    }
    expect(overlapping).toBe(true);
    // Forward and backward ops run on the lanes, the optimiser on the session's thread.
    const p = session.progress('paused');
    const phases = (lane: (n: number) => boolean) =>
      new Set(p.timeline.filter((e) => lane(e.lane)).map((e) => e.phase));
    expect(phases((n) => n > 0)).toEqual(new Set(['forward', 'backward']));
    expect(phases((n) => n === 0).has('optimizer')).toBe(true);
    expect(p.timeline.find((e) => e.node === 'left_fc2')!.phase).toBe('forward');
    // The edges were measured on those steps too.
    expect(p.edges.some((e) => e.from === 'left_relu1' && e.norm !== null)).toBe(true);
    expect(p.viewStep).toBe(p.step);
    session.dispose();
  });

  it('steps queued back to back run in order, each on the weights the last one left', async () => {
    const one = new TrainSession(
      twoTowersJSON(),
      'spiral',
      { ...config, lanes: 1 },
      { lanes: null },
    );
    const two = new TrainSession(twoTowersJSON(), 'spiral', config, { lanes });
    const a = await train(one, 4);
    await Promise.all([0, 1, 2, 3].map(() => two.queueStep()));
    expect(two.stepCount).toBe(4);
    expect(two.progress('paused').loss).toBe(a.losses[3]);
    one.dispose();
    two.dispose();
  });

  it('pauses after the step in flight, and then steps exactly once', async () => {
    const session = new TrainSession(twoTowersJSON(), 'spiral', config, { lanes });
    const sent: TrainProgress[] = [];
    let onSent: (() => void) | null = null;
    const runner = new TrainRunner(
      session,
      (p) => {
        sent.push(p);
        onSent?.();
      },
      (task) => setTimeout(task, 0),
      { minIntervalMs: 0 },
    );
    const next = (done: (p: TrainProgress) => boolean): Promise<TrainProgress> =>
      new Promise((resolve) => {
        onSent = () => {
          const p = sent[sent.length - 1]!;
          if (done(p)) resolve(p);
        };
      });
    runner.play();
    await next((p) => p.step >= 5);
    const pausing = next((p) => p.status === 'paused');
    runner.pause();
    const paused = await pausing;
    await session.idle();
    expect(session.stepCount).toBe(paused.step);
    expect(session.inFlightSteps).toBe(0);
    const stepping = next((p) => p.step !== paused.step);
    runner.stepOnce();
    const stepped = await stepping;
    expect(stepped.step).toBe(paused.step + 1);
    expect(stepped.status).toBe('paused');
    runner.stop();
    await session.idle();
  });

  it('falls back to one thread with a note when the lanes cannot start', async () => {
    const broken = new WorkerLanes(() => Promise.reject(new Error('no shared memory')));
    const session = new TrainSession(twoTowersJSON(), 'spiral', config, { lanes: broken });
    const reference = new TrainSession(
      twoTowersJSON(),
      'spiral',
      { ...config, lanes: 1 },
      {
        lanes: null,
      },
    );
    await session.queueStep();
    reference.step();
    const p = session.progress('paused');
    expect(p.loss).toBe(reference.progress('paused').loss);
    expect(p.lanes).toBe(1);
    expect(p.deviceNote).toMatch(/CPU lanes could not start \(no shared memory\)/);
    session.dispose();
    reference.dispose();
  });

  it('reads the lanes setting', () => {
    expect(laneCount('auto', 8)).toBe(8);
    expect(laneCount(undefined, 2)).toBe(2);
    expect(laneCount(1, 8)).toBe(1);
    expect(() => laneCount(0, 8)).toThrow(/CPU lanes must be 'auto' or a whole number >= 1, got 0/);
  });
});

describe("'auto' lanes", () => {
  it('keeps a model whose ops are small on one thread, and says why', () => {
    expect(flopsPerOp(Graph.fromJSON(twoTowersJSON()), 32)).toBeLessThan(
      AUTO_LANES_MIN_FLOPS_PER_OP,
    );
    const session = new TrainSession(
      twoTowersJSON(),
      'spiral',
      { ...config, lanes: 'auto' },
      {
        lanes,
      },
    );
    session.step();
    const p = session.progress('paused');
    expect(p.lanes).toBeUndefined();
    expect(p.deviceNote).toMatch(
      /CPU lanes \(auto\): one thread, since this model's ops are small/,
    );
    session.dispose();
  });

  it('uses lanes for a model with large ops (the MNIST CNN at batch 64)', () => {
    const cnn = Graph.fromJSON(
      JSON.parse(readFileSync(new URL('../../examples/cnn-mnist.json', import.meta.url), 'utf8')),
    );
    expect(flopsPerOp(cnn, 64)).toBeGreaterThan(AUTO_LANES_MIN_FLOPS_PER_OP);
    expect(flopsPerOp(cnn, 1)).toBeLessThan(AUTO_LANES_MIN_FLOPS_PER_OP);
  });
});
