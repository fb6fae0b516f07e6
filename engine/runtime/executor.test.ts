import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { cpuBackend } from '../backend/cpu/index.js';
import { Heap, HeapArenaExhausted } from '../backend/cpu/heap.js';
import { listOps } from '../ops/registry.js';
import { differentiate } from '../graph/differentiate.js';
import { startNodeLanes } from '../node/lanes.js';
import { namingTracedOps } from './events.js';
import { runGraphParallel } from './executor.js';
import { createLaneBackend } from './lanes/lane.js';
import type { LanePool } from './lanes/pool.js';
import { expectClose, uniform } from '../../test/helpers/numeric.js';

/** Every element equal, bit for bit (NaN never occurs here). */
function expectBitwise(actual: wg.Tensor, expected: wg.Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const b = expected.dataSync();
  let differing = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
  expect(differing).toBe(0);
}

const MM = { transposeA: false, transposeB: false };

/** Two independent matmul+relu stacks on one input, joined by add. */
function twoTowers(n: number, depth: number): wg.Graph {
  const b = new wg.GraphBuilder('two towers');
  const x = b.input('x', [-1, n], 'f32', 'data');
  const ends: string[] = [];
  for (const t of ['a', 'b']) {
    let h = x;
    for (let i = 0; i < depth; i++) {
      const w = b.parameter(`${t}.w${i}`, [n, n], { init: 'uniform', bound: 1 / Math.sqrt(n) });
      h = b.op('matmul', [h, w], MM, `${t}.mm${i}`);
      h = b.op('relu', [h], {}, `${t}.relu${i}`);
    }
    ends.push(h);
  }
  const y = b.op('add', ends, {}, 'join');
  b.output('y', y);
  b.output('loss', b.op('sum', [y], { axes: [0, 1], keepDims: false }, 'loss'));
  return b.build();
}

/**
 * The tower ('a' or 'b') of each node of a two-tower graph or its gradient graph: the one
 * whose weights it depends on, when it depends on one tower's only.
 */
function towersOf(g: wg.Graph): Map<string, string> {
  const deps = new Map<string, Set<string>>();
  for (const node of g.nodes) {
    const mine = new Set<string>();
    if (node.op === 'parameter') mine.add(node.id.slice(0, 1));
    for (const input of node.inputs) for (const t of deps.get(input)!) mine.add(t);
    deps.set(node.id, mine);
  }
  const tower = new Map<string, string>();
  for (const [id, set] of deps) if (set.size === 1) tower.set(id, [...set][0]!);
  return tower;
}

/** An MLP with composite layers (linear, crossEntropy), which the executor expands. */
function mlp(): wg.Graph {
  const b = new wg.GraphBuilder('mlp');
  let h = b.input('x', [-1, 37], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  h = b.op('relu', [b.linear(h, 37, 300, 'fc1')], {}, 'relu1');
  h = b.op('tanh', [b.linear(h, 300, 65, 'fc2')], {}, 'tanh2');
  h = b.linear(h, 65, 10, 'fc3');
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b.build();
}

const BATCH = 53;
const mlpInputs = (): Record<string, wg.Tensor> => ({
  x: uniform([BATCH, 37], 11).cast('f32'),
  y: wg.tensor(
    Array.from({ length: BATCH }, (_, i) => (i * 7) % 10),
    { dtype: 'i32' },
  ),
});

/** Options that send every kernel step to a lane and split every matmul that can be. */
const EVERYTHING_ON_LANES = { inlineBelow: 0, splitMinFlops: 0 };

let pool: LanePool;

beforeAll(async () => {
  pool = await startNodeLanes({ lanes: 2 });
}, 60_000);

afterAll(async () => {
  await pool?.close();
});

describe('the parallel executor', () => {
  it('starts lanes with the same kernels as the main thread', () => {
    expect(pool.size).toBe(2);
    for (const info of pool.info) expect(info.description).toBe(cpuBackend.description);
    // A lane's backend registers a kernel exactly where the main thread's does.
    const heap = Heap.arena({ memory: cpuBackend.heap.memory, base: 0, bytes: 0 });
    const lane = createLaneBackend(heap);
    const differing = listOps()
      .map((op) => op.name)
      .filter((op) => lane.hasKernel(op) !== cpuBackend.hasKernel(op));
    expect(differing).toEqual([]);
  });

  it('gives the plain run’s outputs bitwise on an MLP (composites expanded, matmuls split)', async () => {
    const g = mlp();
    const inputs = mlpInputs();
    const plain = wg.tidy(() => g.run(inputs));
    for (const options of [{}, EVERYTHING_ON_LANES]) {
      const par = await runGraphParallel(g, inputs, { pool, ...options });
      expectBitwise(par.logits!, plain.logits!);
      expectBitwise(par.loss!, plain.loss!);
      wg.dispose(par);
    }
    wg.dispose([plain, inputs]);
  });

  it('gives the plain run’s outputs bitwise on two towers, split or not', async () => {
    // 41 rows: not a multiple of the micro-tile height; n = 300 > the kernel's depth block.
    const g = twoTowers(300, 3);
    const x = uniform([41, 300], 5).cast('f32');
    const plain = wg.tidy(() => g.run({ x }));
    for (const options of [{}, EVERYTHING_ON_LANES, { lanes: 1 }, { lanes: 0 }]) {
      const par = await runGraphParallel(g, { x }, { pool, ...options });
      expectBitwise(par.y!, plain.y!);
      wg.dispose(par);
    }
    wg.dispose([plain, x]);
  });

  it('splits a lone large matmul into row blocks with bitwise equal results', async () => {
    const b = new wg.GraphBuilder('matmul');
    const a = b.input('a', [203, 310], 'f32', 'data');
    const w = b.input('w', [170, 310], 'f32', 'data');
    b.output('c', b.op('matmul', [a, w], { transposeA: false, transposeB: true }, 'mm'));
    const g = b.build();
    const inputs = { a: uniform([203, 310], 1).cast('f32'), w: uniform([170, 310], 2).cast('f32') };
    const plain = wg.tidy(() => g.run(inputs));
    const recorder = new wg.ExecutionRecorder().start();
    const par = await runGraphParallel(g, inputs, { pool, splitMinFlops: 0 });
    recorder.stop();
    expectBitwise(par.c!, plain.c!);
    // One node, one event per lane that took a row block.
    const lanes = recorder.events().map((e) => e.lane);
    expect(new Set(lanes)).toEqual(new Set([1, 2]));
    wg.dispose([plain, par, inputs]);
  });

  it('runs backward (a differentiated graph) bitwise like the plain run and close to eager backward', async () => {
    const g = mlp();
    const inputs = mlpInputs();
    const back = differentiate(g, { loss: 'loss', batch: BATCH });
    const plain = wg.tidy(() => back.run(inputs));
    const par = await runGraphParallel(back, inputs, { pool, ...EVERYTHING_ON_LANES });
    const params = g.parameters.map((p) => p.id);
    for (const id of params) expectBitwise(par[`grad:${id}`]!, plain[`grad:${id}`]!);
    expectBitwise(par.loss!, plain.loss!);

    // Eager autodiff on the same parameter values: an independent path to the same numbers.
    const values = g.initParameters();
    const forward = g.run(inputs, { params: values });
    forward.loss!.backward();
    for (const id of params) {
      const p = values.get(id)!;
      expectClose(par[`grad:${id}`]!.dataSync(), p.grad!.dataSync(), { rtol: 1e-6, atol: 1e-7 });
      p.grad!.dispose();
      p.grad = null;
    }
    wg.dispose([plain, par, inputs, forward]);
  });

  it('runs the two towers on different lanes at the same time (execution events)', async () => {
    // Matmuls of 256×512×512 take milliseconds: far longer than posting to a lane.
    const g = twoTowers(512, 3);
    const back = differentiate(g, { loss: 'loss', batch: 256 });
    const x = uniform([256, 512], 3).cast('f32');
    /** Whether an event of tower a and one of tower b ran on different lanes and overlapped. */
    const overlap = (events: wg.ExecutionEvent[], tower: Map<string, string>) => {
      const onLane = (t: string) => events.filter((e) => e.lane > 0 && tower.get(e.node) === t);
      const [a, b] = [onLane('a'), onLane('b')];
      expect(a.length).toBeGreaterThanOrEqual(3);
      expect(b.length).toBeGreaterThanOrEqual(3);
      return a.some((ea) =>
        b.some((eb) => ea.lane !== eb.lane && ea.start < eb.end && eb.start < ea.end),
      );
    };
    /** Events of one run of `graph` (forward, or the gradient graph's branches). */
    const events = async (graph: wg.Graph) => {
      const recorder = new wg.ExecutionRecorder().start();
      wg.dispose(await runGraphParallel(graph, { x }, { pool, splitMinFlops: Infinity }));
      return recorder.stop().events();
    };
    // The executor starts both towers at once; whether the OS runs the two workers at the
    // same moment depends on the machine's load, so a busy machine gets a few tries.
    const seen = { forward: false, backward: false };
    let forward: wg.ExecutionEvent[] = [];
    let backward: wg.ExecutionEvent[] = [];
    for (let attempt = 0; attempt < 5 && !(seen.forward && seen.backward); attempt++) {
      forward = await events(g);
      backward = await events(back);
      seen.forward ||= overlap(forward, towersOf(g));
      // The gradient graph's branches: nodes that depend on one tower's weights only.
      seen.backward ||= overlap(backward, towersOf(back));
    }
    expect(seen).toEqual({ forward: true, backward: true });
    // Lanes are numbered 1 and 2; the main thread, which runs the tiny steps (the scalar
    // fills and views that seed backward), is lane 0.
    expect(new Set(forward.map((e) => e.lane))).toEqual(new Set([1, 2]));
    expect(new Set(backward.map((e) => e.lane))).toEqual(new Set([0, 1, 2]));
    x.dispose();
  });

  it('names events as given: grad:<node> in the backward phase, inline steps and lane steps alike', async () => {
    const { result: back, names } = namingTracedOps(() =>
      differentiate(mlp(), { loss: 'loss', batch: BATCH }),
    );
    // Every traced node is named after a node of the forward graph or the rule it belongs to.
    const forwardIds = new Set(mlp().nodes.map((n) => n.id));
    for (const [id, name] of names) {
      if (name.node.startsWith('grad:')) expect(name.phase, id).toBe('backward');
      else if (forwardIds.has(name.node)) expect(name.phase, id).toBe('forward');
    }
    const inputs = mlpInputs();
    // The default inlineBelow keeps the small steps on this thread (lane 0).
    const recorder = new wg.ExecutionRecorder().start();
    wg.dispose(await runGraphParallel(back, inputs, { pool, eventNames: names }));
    const events = recorder.stop().events();
    const rule = (lane: (n: number) => boolean) =>
      events.filter((e) => lane(e.lane) && e.node.startsWith('grad:'));
    for (const side of [(n: number) => n === 0, (n: number) => n > 0]) {
      expect(rule(side).length).toBeGreaterThan(0);
      for (const e of rule(side)) expect(e.phase, e.node).toBe('backward');
    }
    expect(new Set(rule(() => true).map((e) => e.node))).toEqual(
      new Set(['fc1', 'relu1', 'fc2', 'tanh2', 'fc3', 'loss'].map((n) => `grad:${n}`)),
    );
    // Forward steps keep the forward node's id, a composite's parts included.
    for (const e of events.filter((e) => e.phase === 'forward'))
      expect(forwardIds.has(e.node), e.node).toBe(true);
    // Without names, events carry the gradient graph's own node ids.
    const plain = new wg.ExecutionRecorder().start();
    wg.dispose(await runGraphParallel(back, inputs, { pool }));
    expect(
      plain
        .stop()
        .events()
        .some((e) => e.node.startsWith('grad:')),
    ).toBe(false);
    wg.dispose(Object.values(inputs));
  });

  it('queues a chain ahead on one lane, through views, bitwise as graph.run', async () => {
    // matmul → relu → reshape (a view) → reshape back → matmul → tanh → sum, one chain.
    const b = new wg.GraphBuilder('chain');
    const x = b.input('x', [-1, 64], 'f32', 'data');
    const w1 = b.parameter('w1', [64, 64], { init: 'uniform', bound: 0.1 });
    const w2 = b.parameter('w2', [64, 64], { init: 'uniform', bound: 0.1 });
    let h = b.op('relu', [b.op('matmul', [x, w1], MM, 'mm1')], {}, 'relu');
    h = b.op('reshape', [h], { shape: [-1, 8, 8] }, 'split');
    h = b.op('reshape', [h], { shape: [-1, 64] }, 'join');
    h = b.op('tanh', [b.op('matmul', [h, w2], MM, 'mm2')], {}, 'tanh');
    b.output('y', b.op('sum', [h], { axes: [1], keepDims: false }, 'out'));
    const g = b.build();
    const inputs = { x: uniform([32, 64], 5).cast('f32') };
    // The most tasks each lane had posted and not yet answered.
    const ahead = [0, 0];
    const outstanding = [0, 0];
    const spy = Object.create(pool) as LanePool;
    spy.run = (lane, task) => {
      ahead[lane] = Math.max(ahead[lane]!, ++outstanding[lane]!);
      return pool.run(lane, task).finally(() => outstanding[lane]!--);
    };
    const out = await runGraphParallel(g, inputs, { pool: spy, inlineBelow: 0 });
    const expected = g.run(inputs);
    expectBitwise(out.y!, expected.y!);
    // All five kernels were posted to one lane before the first had answered (the views made
    // early, so nothing waited for a round trip through this thread).
    expect(Math.max(...ahead)).toBe(5);
    // With the default inlineBelow the small relu, tanh and sum run on this thread, and each
    // matmul waits for its input there.
    ahead.fill(0);
    const recorder = new wg.ExecutionRecorder().start();
    const again = await runGraphParallel(g, inputs, { pool: spy });
    recorder.stop();
    expectBitwise(again.y!, expected.y!);
    expect(Math.max(...ahead)).toBe(1);
    expect(
      recorder
        .events()
        .filter((e) => e.lane > 0)
        .map((e) => e.op),
    ).toEqual(['matmul', 'matmul']);
    wg.dispose([out, again, expected, inputs]);
  });

  it('reports a kernel error with node and op, frees what it made, and stays usable', async () => {
    const b = new wg.GraphBuilder('gather');
    const table = b.input('table', [4, 3], 'f32', 'data');
    const idx = b.input('idx', [5], 'i32', 'data');
    const x = b.op('relu', [table], {}, 'act');
    b.output('rows', b.op('gather', [x, idx], { axis: 0 }, 'pick'));
    const g = b.build();
    const inputs = {
      table: uniform([4, 3], 1).cast('f32'),
      idx: wg.tensor([0, 3, 9, 1, 2], { dtype: 'i32' }),
    };
    const before = wg.memory();
    const failing = runGraphParallel(g, inputs, { pool, inlineBelow: 0 });
    await expect(failing).rejects.toThrow(/node 'pick', op 'gather'.*out of range/);
    expect(wg.memory()).toEqual(before);

    const good = { ...inputs, idx: wg.tensor([3, 0, 0, 2, 1], { dtype: 'i32' }) };
    const plain = wg.tidy(() => g.run(good));
    const par = await runGraphParallel(g, good, { pool, inlineBelow: 0 });
    expectBitwise(par.rows!, plain.rows!);
    wg.dispose([plain, par, inputs, good]);
  });

  it('frees every intermediate: only the outputs stay alive', async () => {
    const g = mlp();
    const inputs = mlpInputs();
    await runGraphParallel(g, inputs, { pool }).then(wg.dispose); // plans and warms up
    const before = wg.memory();
    for (let i = 0; i < 3; i++) {
      const out = await runGraphParallel(g, inputs, { pool, ...EVERYTHING_ON_LANES });
      expect(wg.memory().tensors).toBe(before.tensors + 2);
      wg.dispose(out);
    }
    expect(wg.memory()).toEqual(before);
    wg.dispose(inputs);
  });
});

describe('arena heaps (a lane’s scratch)', () => {
  it('allocate only inside their block, say what they need, and start over when empty', () => {
    const owner = new Heap(1 << 16);
    const base = owner.alloc(4096);
    const arena = Heap.arena({ memory: owner.memory, base, bytes: 4096 });
    expect(arena.shared).toBe(owner.shared);
    const a = arena.alloc(1000); // 1024 with alignment
    const b = arena.alloc(2000); // 2048
    expect([a, b]).toEqual([base, base + 1024]);
    let thrown: unknown;
    try {
      arena.alloc(2000);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(HeapArenaExhausted);
    expect((thrown as HeapArenaExhausted).needed).toBe(1024 + 2048 + 2048);
    arena.release(a);
    arena.release(b);
    expect(arena.alloc(4096)).toBe(base); // empty: the whole block again
    expect(owner.reservedBytes).toBe(64 + 4096); // the arena never grew its owner
  });
});

describe('lane pools', () => {
  it('take a settable lane count, grow a lane’s scratch arena on demand, and shut down', async () => {
    // A 4 KiB arena cannot hold a convolution's im2col scratch: the pool must grow it.
    const small = await startNodeLanes({ lanes: 1, arenaBytes: 4096 });
    try {
      expect(small.size).toBe(1);
      const b = new wg.GraphBuilder('conv');
      const x = b.input('x', [2, 3, 20, 20], 'f32', 'data');
      b.output('y', b.conv2d(x, 3, 8, 3, 'conv', { padding: 1 }));
      const g = b.build();
      const input = { x: uniform([2, 3, 20, 20], 4).cast('f32') };
      const plain = wg.tidy(() => g.run(input));
      const recorder = new wg.ExecutionRecorder().start();
      const one = await runGraphParallel(g, input, { pool: small });
      expectBitwise(one.y!, plain.y!);

      await small.resize(2);
      expect(small.size).toBe(2);
      const two = await runGraphParallel(g, input, { pool: small, inlineBelow: 0 });
      recorder.stop();
      expectBitwise(two.y!, plain.y!);
      expect(Math.max(...recorder.events().map((e) => e.lane))).toBeLessThanOrEqual(2);
      wg.dispose([plain, one, two, input]);
    } finally {
      await small.close();
    }
    expect(small.closed).toBe(true);
    expect(small.size).toBe(0);
    await small.close(); // idempotent
    const g = twoTowers(8, 1);
    await expect(runGraphParallel(g, { x: wg.zeros([1, 8]) }, { pool: small })).rejects.toThrow(
      /lane pool is closed/,
    );
    await expect(small.resize(1)).rejects.toThrow(/closed/);
  }, 60_000);

  it('share a split matmul’s blocks: a lane that starts late does fewer, none is lost on a retry', async () => {
    // A small arena: each lane's first block needs more scratch, so the pool retries it.
    const small = await startNodeLanes({ lanes: 2, arenaBytes: 4096 });
    try {
      const b = new wg.GraphBuilder('mm');
      const a = b.input('a', [301, 200], 'f32', 'data');
      const w = b.input('w', [200, 150], 'f32', 'data');
      b.output('c', b.op('matmul', [a, w], MM, 'mm'));
      const g = b.build();
      const inputs = {
        a: uniform([301, 200], 6).cast('f32'),
        w: uniform([200, 150], 7).cast('f32'),
      };
      const expected = wg.tidy(() => g.run(inputs));
      const want = expected.c!.dataSync();
      // Lane 1's task is posted only after lane 0 has answered: by then lane 0 must have done
      // every block, which the output shows before lane 1 starts.
      const complete: boolean[] = [];
      const spy = Object.create(small) as LanePool;
      let first: Promise<unknown> = Promise.resolve();
      spy.run = (lane, task) => {
        if (lane === 0) {
          const run = small.run(0, task);
          first = run;
          return run;
        }
        return first.then(() => {
          if (task.type === 'gemm') {
            const c0 = task.parts[0]!.c;
            for (const part of task.parts) {
              const got = new Float32Array(cpuBackend.heap.buffer, part.c, part.m * part.n);
              const at = (part.c - c0) / 4;
              complete.push(got.every((v, i) => v === want[at + i]));
            }
          }
          return small.run(lane, task);
        });
      };
      const out = await runGraphParallel(g, inputs, { pool: spy, splitMinFlops: 0 });
      expectBitwise(out.c!, expected.c!);
      expect(complete.length).toBeGreaterThanOrEqual(4); // it was split into shared blocks
      expect(complete.every(Boolean)).toBe(true);
      // Both lanes at once, each retrying its first block in a bigger arena.
      const both = await runGraphParallel(g, inputs, { pool: small, splitMinFlops: 0 });
      expectBitwise(both.c!, expected.c!);
      wg.dispose([out, both, expected, inputs]);
    } finally {
      await small.close();
    }
  }, 60_000);

  it('run everything on the main thread without a pool', async () => {
    const g = twoTowers(16, 2);
    const x = uniform([3, 16], 9).cast('f32');
    const recorder = new wg.ExecutionRecorder().start();
    const par = await runGraphParallel(g, { x });
    recorder.stop();
    const plain = wg.tidy(() => g.run({ x }));
    expectBitwise(par.y!, plain.y!);
    expect(new Set(recorder.events().map((e) => e.lane))).toEqual(new Set([0]));
    wg.dispose([par, plain, x]);
  });
});
