import { afterEach, describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { validateTraceJSON } from '../../test/helpers/trace-format.js';
import { state } from './state.js';

/** x [N, 3] → fc1 (linear 3→4) → relu1 → fc2 (linear 4→2) → loss (cross-entropy with y). */
function tinyGraph(): wg.Graph {
  const b = new wg.GraphBuilder('tiny');
  const x = b.input('x', [-1, 3], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const h = b.op('relu', [b.linear(x, 3, 4, 'fc1')], {}, 'relu1');
  const logits = b.linear(h, 4, 2, 'fc2');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.build();
}

const batch = () => ({
  x: wg.tensor([
    [0.5, -1, 2],
    [1, 0.25, -0.5],
  ]),
  y: wg.tensor([1, 0], { dtype: 'i32' }),
});

afterEach(() => {
  // A failed test must not leave a recorder registered for the next one.
  state.observers.length = 0;
});

describe('ExecutionRecorder', () => {
  it('records one event per executed op with node, op, device, bytes and ordered times', () => {
    const a = wg.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = wg.tensor([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    const rec = new wg.ExecutionRecorder().start();
    const c = a.mul(b).sum(1);
    rec.stop();
    expect(Array.from(c.dataSync())).toEqual([6, 30]);
    const ev = rec.events();
    expect(ev.map((e) => [e.seq, e.node, e.op, e.device, e.lane, e.phase])).toEqual([
      [0, 'mul_1', 'mul', 'cpu', 0, 'forward'],
      [1, 'sum_1', 'sum', 'cpu', 0, 'forward'],
    ]);
    // f32: mul reads two [2, 3] (2·24 bytes) and writes 24; sum reads 24 and writes [2] (8).
    expect(ev.map((e) => [e.bytesIn, e.bytesOut])).toEqual([
      [48, 24],
      [24, 8],
    ]);
    for (const e of ev) expect(e.end).toBeGreaterThanOrEqual(e.start);
    expect(ev[1]!.start).toBeGreaterThanOrEqual(ev[0]!.end);
    expect(ev.every((e) => e.stats === null)).toBe(true);
  });

  it('costs nothing when off: no observer is registered, and stopped recorders record nothing', () => {
    expect(state.observers).toHaveLength(0);
    const rec = new wg.ExecutionRecorder().start();
    const other = new wg.ExecutionRecorder().start();
    expect(state.observers).toHaveLength(1); // one hub for every recorder
    rec.stop();
    other.stop();
    expect(state.observers).toHaveLength(0);
    wg.tensor([1, 2]).neg();
    expect(rec.events()).toHaveLength(0);
    expect(rec.recording).toBe(false);
  });

  it('keeps the latest events in a bounded ring and counts the dropped ones', () => {
    const rec = new wg.ExecutionRecorder({ capacity: 4 });
    const x = wg.tensor([1, 2]);
    rec.start();
    for (let i = 0; i < 10; i++) x.neg();
    rec.stop();
    expect(rec.events().map((e) => e.seq)).toEqual([6, 7, 8, 9]);
    expect(rec.events().map((e) => e.node)).toEqual(['neg_7', 'neg_8', 'neg_9', 'neg_10']);
    expect(rec.dropped).toBe(6);
    rec.clear();
    expect(rec.events()).toHaveLength(0);
    expect(rec.dropped).toBe(0);
  });

  it('attributes graph ops to node ids, backward ops to grad:<node>, and marks the phases', () => {
    const graph = tinyGraph();
    const params = graph.initParameters();
    const opt = new wg.optim.SGD([...params.values()], { lr: 0.1 });
    const rec = new wg.ExecutionRecorder().start();
    wg.tidy(() => {
      const { loss } = graph.run(batch(), { params });
      opt.zeroGrad();
      loss!.backward();
      opt.step();
    });
    rec.stop();
    const ev = rec.events();
    const forward = ev.filter((e) => e.phase === 'forward');
    // The composite linear runs as matmul and add, both attributed to its node.
    expect(forward.filter((e) => e.node === 'fc1').map((e) => e.op)).toEqual(
      expect.arrayContaining(['matmul', 'add']),
    );
    expect(new Set(forward.map((e) => e.node))).toEqual(new Set(['fc1', 'relu1', 'fc2', 'loss']));
    const backwardNodes = new Set(ev.filter((e) => e.phase === 'backward').map((e) => e.node));
    for (const id of ['grad:fc1', 'grad:relu1', 'grad:fc2', 'grad:loss'])
      expect(backwardNodes).toContain(id);
    expect(ev.some((e) => e.phase === 'optimizer')).toBe(true);
    // The phases follow one another: forward, then backward, then the optimizer.
    const order = ev.map((e) => e.phase).filter((p, i, all) => i === 0 || all[i - 1] !== p);
    expect(order).toEqual(['forward', 'backward', 'optimizer']);
  });

  it('computes statistics for watched nodes only, by id or by predicate', () => {
    const rec = new wg.ExecutionRecorder().watch(['neg_1']).start();
    wg.tensor([3, -4, 0, 1]).neg();
    wg.tensor([1, 0, -1, 2]).log();
    rec.stop();
    const [neg, log] = rec.events();
    // neg gives [-3, 4, 0, -1]: ‖·‖₂ = √26, mean 0, min -3, max 4.
    expect(neg!.stats!.l2).toBeCloseTo(Math.sqrt(26), 6);
    expect(neg!.stats).toMatchObject({ mean: 0, min: -3, max: 4, nanCount: 0, infCount: 0 });
    expect(neg!.stats!.count).toBe(4);
    expect(log!.stats).toBeNull();

    rec
      .clear()
      .unwatch()
      .watch((_node, op) => op === 'log')
      .start();
    wg.tensor([1, 0, -1, Math.E], { dtype: 'f64' }).log(); // [0, -Inf, NaN, 1]
    rec.stop();
    const s = rec.events()[0]!.stats!;
    expect(s).toMatchObject({ nanCount: 1, infCount: 1, count: 4, min: 0, max: 1, mean: 0.5 });
    expect(s.l2).toBeCloseTo(1, 6);
  });

  it('tensorStats reads a tensor in one call', () => {
    const s = wg.tensorStats(wg.tensor([2, NaN, -2, Infinity, 5], { dtype: 'f64' }));
    expect(s).toEqual({
      l2: Math.sqrt(33),
      mean: 5 / 3,
      min: -2,
      max: 5,
      nanCount: 1,
      infCount: 1,
      count: 5,
    });
  });
});

describe('exportTrace', () => {
  it('writes Chrome trace-event JSON: complete events on lane tracks, valid per the format', () => {
    const graph = tinyGraph();
    const rec = new wg.ExecutionRecorder().watch(['loss']).start();
    wg.tidy(() => graph.run(batch())['loss']!.backward());
    rec.stop();
    const events = rec.events();
    const trace = wg.exportTrace(rec);
    const text = JSON.stringify(trace);
    expect(validateTraceJSON(text)).toEqual([]);

    const parsed = JSON.parse(text) as wg.ChromeTrace;
    expect(parsed.displayTimeUnit).toBe('ms');
    const meta = parsed.traceEvents.filter((e) => e.ph === 'M');
    expect(meta).toContainEqual({
      name: 'thread_name',
      ph: 'M',
      pid: 1,
      tid: 0,
      args: { name: 'lane 0' },
    });
    const complete = parsed.traceEvents.filter((e) => e.ph === 'X');
    expect(complete).toHaveLength(events.length);
    const first = events[0]!;
    expect(complete[0]).toMatchObject({
      name: first.node,
      cat: 'forward',
      pid: 1,
      tid: 0,
      ts: 0,
      args: { op: first.op, device: 'cpu', bytesIn: first.bytesIn, bytesOut: first.bytesOut },
    });
    // Microseconds from the first event's start.
    const last = events[events.length - 1]!;
    const lastX = complete[complete.length - 1]!;
    expect(lastX.ts).toBeCloseTo((last.start - first.start) * 1000, 2);
    expect(lastX.dur).toBeCloseTo((last.end - last.start) * 1000, 2);
    expect(lastX.cat).toBe('backward');
    expect(complete.some((e) => e.name === 'loss' && e.args?.['stats'] !== undefined)).toBe(true);
  });

  it('the validator rejects what the format forbids', () => {
    const bad = {
      traceEvents: [
        { name: 'a', ph: 'X', pid: 1, tid: 3, ts: 0, dur: -1 },
        { name: 'b', ph: 'X', pid: 1, tid: 0, dur: 1 },
        { name: 'thread_name', ph: 'M', pid: 1, tid: 0, args: {} },
      ],
    };
    const problems = validateTraceJSON(JSON.stringify(bad));
    expect(problems).toEqual([
      'traceEvents[0].dur is not a finite number >= 0',
      'traceEvents[1].ts is not a finite number',
      'traceEvents[2] (thread_name) needs args.name, a string',
      'thread 1/3 has events but no thread_name metadata',
      'thread 1/0 has events but no thread_name metadata',
    ]);
    expect(validateTraceJSON('{"traceEvents": [')).toHaveLength(1);
    // An empty recording is still a valid trace with its lane track.
    expect(validateTraceJSON(JSON.stringify(wg.exportTrace([])))).toEqual([]);
  });
});

describe('NaN origin', () => {
  it('eager: names the op that made NaN from finite inputs, not the ones downstream', () => {
    const x = wg.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
      [0.5, 1.5],
    ]);
    const run = () => {
      const shifted = x.sub(2.5); // [-1.5 -0.5; 0.5 1.5; 2.5 3.5; -2 -1]: 4 negatives
      const logged = shifted.log(); // the origin: NaN at the negatives
      return logged.mul(2).sum(); // downstream: sees NaN, did not make it
    };
    // Unchecked, the NaN is only noticed at the end.
    expect(Number.isNaN(run().item())).toBe(true);
    let error: unknown;
    try {
      wg.withNumericsCheck(run);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(wg.NumericsError);
    const ne = error as wg.NumericsError;
    expect(ne.node).toBe('log_1');
    expect(ne.op).toBe('log');
    expect(ne.message).toMatch(
      /^node 'log_1', op 'log': produced 4 NaN from finite inputs \[4, 2\]; log of 0 is -Inf/,
    );
  });

  it('does not blame ops whose inputs already hold NaN or Inf, nor -Inf masks made on purpose', () => {
    const out = wg.withNumericsCheck(() => {
      const x = wg.tensor([NaN, 1, 2]);
      const mask = wg.full([3], -Infinity);
      return x.mul(2).add(mask).exp();
    });
    expect(Array.from(out.dataSync())).toEqual([NaN, 0, 0]);
  });

  it('graph.run: names the graph node where the NaN starts', () => {
    const b = new wg.GraphBuilder('nan');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const shift = b.op('constant', [], { shape: [], dtype: 'f32', data: [2.5] }, 'shift');
    const centred = b.op('sub', [x, shift], {}, 'centred');
    const logp = b.op('log', [centred], {}, 'logp');
    const scaled = b.op('mul', [logp, logp], {}, 'scaled');
    b.output('total', b.op('sum', [scaled], { axes: [0, 1], keepDims: false }, 'total'));
    const graph = b.build();
    const x0 = wg.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(() => wg.withNumericsCheck(() => graph.run({ x: x0 }))).toThrow(
      /^node 'logp', op 'log': produced 2 NaN from finite inputs \[2, 2\]/,
    );
    // The recorder's check works alike and keeps the events up to the origin.
    const rec = new wg.ExecutionRecorder().start({ checkNumerics: true });
    expect(() => graph.run({ x: x0 })).toThrow(wg.NumericsError);
    rec.stop();
    expect(rec.events().map((e) => e.node)).toEqual(['centred', 'logp']);
  });

  it('backward: names the backward node (sqrt at 0 has an infinite gradient)', () => {
    const x = wg.tensor([0, 1, 4], { requiresGrad: true });
    // The forward pass is finite ([0, 1, 2]); dx = dy / (2·√x) is Inf at 0.
    expect(() => wg.withNumericsCheck(() => x.sqrt().sum().backward())).toThrow(
      "node 'grad:sqrt_1', op 'div': produced 1 Inf from finite inputs [3] and [3] (in the " +
        "backward pass, differentiating 'sqrt_1')",
    );

    const b = new wg.GraphBuilder('sqrt');
    const w = b.parameter('w', [3], { init: 'zeros' });
    const root = b.op('sqrt', [w], {}, 'root');
    b.output('total', b.op('sum', [root], { axes: [0], keepDims: false }, 'total'));
    const graph = b.build();
    let error: unknown;
    try {
      wg.withNumericsCheck(() => wg.tidy(() => graph.run({})['total']!.backward()));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(wg.NumericsError);
    expect((error as wg.NumericsError).node).toBe('grad:root');
    expect((error as wg.NumericsError).message).toMatch(/3 Inf/);
  });

  it('frees the offending output and leaves no observer behind', () => {
    const x = wg.tensor([-1, 1]);
    const before = wg.memory().tensors;
    expect(() => wg.withNumericsCheck(() => x.log())).toThrow(wg.NumericsError);
    expect(wg.memory().tensors).toBe(before);
    expect(state.observers).toHaveLength(0);
  });
});
