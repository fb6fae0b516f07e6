import { describe, expect, it } from 'vitest';
import type { CellLog } from '../protocol/messages.js';
import { createInProcessEngineClient } from './in-process.js';
import { Kernel, MAX_CHART_POINTS, STREAM_MS, image, plot } from './kernel.js';
import { ProgressClock, progress } from './progress.js';
import * as wg from '../index.js';

describe('rich cell outputs', () => {
  it('shows a traced graph as a graph document', async () => {
    const kernel = new Kernel();
    const run = await kernel.run(
      1,
      'const x = wg.ones([2, 3]);\nwg.trace((a: wg.Tensor) => a.mul(a).relu(), [x])',
    );
    expect(run.error).toBeNull();
    expect(run.value?.kind).toBe('graph');
    if (run.value?.kind !== 'graph') return;
    const ops = run.value.graph.nodes.map((n) => n.op);
    expect(ops).toContain('input');
    expect(ops).toContain('mul');
    expect(ops).toContain('relu');
    expect(run.value.graph.outputs).toHaveLength(1);
  });

  it('shows a graph document (GraphJSON) as a graph too', async () => {
    const kernel = new Kernel();
    const run = await kernel.run(
      1,
      'const b = new wg.GraphBuilder("tiny");\nconst i = b.input("x", [2]);\n' +
        'b.output("y", b.op("tanh", [i]));\nb.toJSON()',
    );
    expect(run.error).toBeNull();
    expect(run.value).toMatchObject({ kind: 'graph', graph: { name: 'tiny' } });
  });

  it('plot makes a chart from numbers, points, tensors and named lines', async () => {
    const kernel = new Kernel();
    const run = await kernel.run(1, 'plot([3, 1, 2], { title: "loss", xLabel: "step" })');
    expect(run.error).toBeNull();
    expect(run.value).toEqual({
      kind: 'chart',
      title: 'loss',
      xLabel: 'step',
      yLabel: null,
      series: [{ name: 'y', x: [0, 1, 2], y: [3, 1, 2] }],
    });
    const many = await kernel.run(
      2,
      'plot({ a: [{ x: 1, y: 2 }, { x: 3, y: 5 }], b: wg.tensor([4, 6]) })',
    );
    expect(many.value).toMatchObject({
      kind: 'chart',
      series: [
        { name: 'a', x: [1, 3], y: [2, 5] },
        { name: 'b', x: [0, 1], y: [4, 6] },
      ],
    });
  });

  it('plot with scatter marks every series as dots', async () => {
    const kernel = new Kernel();
    const run = await kernel.run(
      1,
      'plot({ a: [{ x: 2, y: 1 }, { x: -1, y: 3 }] }, { scatter: true, title: "embedding" })',
    );
    expect(run.error).toBeNull();
    expect(run.value).toMatchObject({
      kind: 'chart',
      title: 'embedding',
      series: [{ name: 'a', x: [2, -1], y: [1, 3], scatter: true }],
    });
  });

  it('accepts a chart written by hand and says why a bad one is not drawn', async () => {
    const kernel = new Kernel();
    const run = await kernel.run(1, '({ kind: "chart", series: [{ name: "r", values: [1, 2] }] })');
    expect(run.value).toMatchObject({ kind: 'chart', series: [{ name: 'r', y: [1, 2] }] });
    const bad = await kernel.run(2, '({ kind: "chart", series: [["a"]] })');
    expect(bad.value).toMatchObject({ kind: 'text' });
    expect(bad.value?.kind === 'text' && bad.value.text).toMatch(/chart not drawn.*index 0/);
  });

  it('plot and image report wrong input with a clear error', async () => {
    const kernel = new Kernel();
    const run = await kernel.run(1, 'plot(wg.ones([2, 2]))');
    expect(run.error?.name).toBe('TypeError');
    expect(run.error?.message).toMatch(/1-D tensor/);
    const img = await kernel.run(2, 'image(wg.ones([2, 3, 4]))');
    expect(img.error?.message).toMatch(/C = 1 or 3/);
  });

  it('thins long lines to the point limit, keeping the last point', () => {
    const values = Array.from({ length: MAX_CHART_POINTS * 2 + 1 }, (_, i) => i);
    const chart = plot(values);
    const line = chart.series[0]!;
    expect(line.x.length).toBeLessThanOrEqual(MAX_CHART_POINTS + 1);
    expect(line.x.at(-1)).toBe(values.length - 1);
  });

  it('image turns [H, W] and [C, H, W] values in 0..1 into bytes, clamped', async () => {
    const grey = image([
      [0, 0.5],
      [1, 2],
    ]);
    expect(grey).toMatchObject({ width: 2, height: 2, channels: 1, pixels: [0, 128, 255, 255] });
    const kernel = new Kernel();
    const run = await kernel.run(
      1,
      'image(wg.tensor([[[1, 0]], [[0, 0]], [[0, 1]]]), { title: "rgb" })',
    );
    expect(run.error).toBeNull();
    expect(run.value).toEqual({
      kind: 'image',
      width: 2,
      height: 1,
      channels: 3,
      pixels: [255, 0, 0, 0, 0, 255],
      title: 'rgb',
    });
  });

  it('a cell may declare its own plot, and later cells keep seeing it', async () => {
    const kernel = new Kernel();
    await kernel.run(1, 'function plot(n: number) { return n * 2 }');
    const run = await kernel.run(2, 'plot(21)');
    expect(run.value).toEqual({ kind: 'text', text: '42' });
  });
});

describe('streamed output lines', () => {
  /** Applies streamed batches as the notebook does. */
  function collector() {
    const batches: { from: number; count: number }[] = [];
    let lines: CellLog[] = [];
    const onLogs = (from: number, logs: readonly CellLog[]) => {
      batches.push({ from, count: logs.length });
      lines = [...lines.slice(0, from), ...logs];
    };
    return { batches, onLogs, lines: () => lines };
  }

  it('streams lines while a cell runs, even one that never yields, throttled', async () => {
    const kernel = new Kernel();
    const seen = collector();
    const source = [
      'const until = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end); };',
      'for (let i = 0; i < 4; i++) {',
      '  console.log("step", i);',
      `  until(${STREAM_MS + 20});`,
      '}',
      'for (let i = 0; i < 50; i++) console.log("burst", i);',
    ].join('\n');
    const run = await kernel.run(1, source, seen.onLogs);
    expect(run.error).toBeNull();
    // The four slow lines each went out as they were printed; the burst of 50 did not go out
    // line by line.
    expect(seen.batches.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => ({ from: i, count: 1 })));
    expect(seen.batches.length).toBeLessThan(10);
    // What was streamed is a prefix of the result, which has every line.
    expect(run.logs).toHaveLength(54);
    expect(run.logs.slice(0, seen.lines().length)).toEqual(seen.lines());
  });

  it('display(value, id) replaces its earlier line, in the stream and in the result', async () => {
    const kernel = new Kernel();
    const seen = collector();
    const source = [
      'console.log("start");',
      'const points: number[] = [];',
      'for (let i = 1; i <= 3; i++) {',
      '  points.push(i * i);',
      '  display(plot(points), "curve");',
      '  await new Promise((r) => setTimeout(r, ' + String(STREAM_MS + 10) + '));',
      '}',
      'console.log("end");',
    ].join('\n');
    const run = await kernel.run(1, source, seen.onLogs);
    expect(run.error).toBeNull();
    expect(run.logs.map((l) => l.display ?? l.values[0]?.kind)).toEqual(['text', 'curve', 'text']);
    expect(run.logs[1]!.values[0]).toMatchObject({ kind: 'chart', series: [{ y: [1, 4, 9] }] });
    // The chart was sent again at its own index as it grew.
    expect(seen.batches.filter((b) => b.from === 1).length).toBeGreaterThanOrEqual(2);
  });

  it('reaches the client through the worker protocol while the cell runs', async () => {
    const client = createInProcessEngineClient();
    const streamed: CellLog[][] = [];
    const run = await client.runCell(
      1,
      'console.log("first")\nawait new Promise((r) => setTimeout(r, ' +
        String(STREAM_MS * 2) +
        '))\nconsole.log("second")',
      (_from, logs) => streamed.push([...logs]),
    );
    expect(run.logs).toHaveLength(2);
    expect(streamed[0]).toEqual([{ level: 'log', values: [{ kind: 'text', text: 'first' }] }]);
    client.close();
  });
});

describe('progress bars', () => {
  it('progress makes a bar value with title and metrics, read from numbers or tensors', () => {
    expect(progress(120, 600, { title: 'train', metrics: { loss: 0.41, acc: 0.9 } })).toEqual({
      kind: 'progress',
      done: 120,
      total: 600,
      title: 'train',
      metrics: { loss: 0.41, acc: 0.9 },
      elapsedMs: null,
      etaMs: null,
    });
    const bar = progress(0, 3, { metrics: { loss: wg.tensor([0.25]) } });
    expect(bar.metrics).toEqual({ loss: 0.25 });
    expect(bar.title).toBeNull();
    // A diverging loss is still shown, not an error.
    expect(progress(1, 2, { metrics: { loss: NaN } }).metrics.loss).toBeNaN();
  });

  it('says what was expected when the numbers are wrong', () => {
    expect(() => progress(5, 4)).toThrow(/done \(5\) is more than total \(4\).*0 ≤ done ≤ total/);
    expect(() => progress(1, 0)).toThrow(/total is 0; expected a finite number of steps above 0/);
    expect(() => progress(1, -3)).toThrow(/total is -3/);
    expect(() => progress(NaN, 10)).toThrow(/done is NaN; expected a finite number from 0 to/);
    expect(() => progress(1, Infinity)).toThrow(/total is Infinity/);
    expect(() => progress(-1, 10)).toThrow(/done is -1/);
    expect(() => progress(1, 10, { metrics: { loss: 'low' as unknown as number } })).toThrow(
      /metric 'loss' is "low"; give a number/,
    );
    expect(() => progress(1, 10, { metrics: { w: wg.ones([2]) } })).toThrow(
      /metric 'w' is a tensor of shape \[2\]/,
    );
  });

  it('times a bar from when its id was first shown, and estimates the time left', () => {
    let now = 1000;
    const clock = new ProgressClock(() => now);
    const first = clock.stamp('train', progress(10, 110));
    expect(first).toMatchObject({ elapsedMs: 0, etaMs: null });
    now += 2000; // 20 steps in 2 s: 80 left take 8 s
    expect(clock.stamp('train', progress(30, 110))).toMatchObject({ elapsedMs: 2000, etaMs: 8000 });
    // Another id has its own timing.
    expect(clock.stamp('eval', progress(1, 4))).toMatchObject({ elapsedMs: 0, etaMs: null });
    now += 500;
    expect(clock.stamp('train', progress(110, 110))).toMatchObject({ elapsedMs: 2500, etaMs: 0 });
    // done going back (a new loop under the same id) starts a new timing.
    now += 100;
    expect(clock.stamp('train', progress(0, 110))).toMatchObject({ elapsedMs: 0, etaMs: null });
  });

  it('is in every cell, and display(progress(...), id) updates one line timed by the kernel', async () => {
    const source = [
      'for (let step = 1; step <= 4; step++) {',
      '  display(progress(step, 4, { title: "train", metrics: { loss: 1 / step } }), "train");',
      '}',
    ].join('\n');
    // The kernel reads its clock once per display: a step every second.
    let t = -1000;
    const kernel = new Kernel(undefined, () => (t += 1000));
    const run = await kernel.run(1, source);
    expect(run.error).toBeNull();
    expect(run.logs).toHaveLength(1);
    expect(run.logs[0]!.display).toBe('train');
    expect(run.logs[0]!.values[0]).toEqual({
      kind: 'progress',
      done: 4,
      total: 4,
      title: 'train',
      metrics: { loss: 0.25 },
      elapsedMs: 3000,
      etaMs: 0,
    });
    // Half way, the rate since the first display gives the time left: 2 steps in 1 s, 2 left.
    const mid = await kernel.run(2, 'display(progress(1, 5), "p");\ndisplay(progress(3, 5), "p")');
    expect(mid.logs[0]!.values[0]).toMatchObject({ done: 3, elapsedMs: 1000, etaMs: 1000 });
    // A new run of a cell starts its bars' timing again.
    const again = await kernel.run(2, 'display(progress(3, 5), "p")');
    expect(again.logs[0]!.values[0]).toMatchObject({ elapsedMs: 0, etaMs: null });
  });

  it('a bare progress(i, n) in a loop shows one bar per title, updated in place', async () => {
    const kernel = new Kernel();
    const source = [
      'for (let step = 1; step <= 3; step++) {',
      '  progress(step, 3, { title: "train" });',
      '  progress(step * 2, 6, { title: "eval" });',
      '  await Promise.resolve();',
      '}',
      'progress(1, 1, { title: "done" }) // the cell value: shown as the value, not again',
    ].join('\n');
    const run = await kernel.run(1, source);
    expect(run.error).toBeNull();
    expect(run.logs.map((l) => l.display)).toEqual(['progress:train', 'progress:eval']);
    expect(run.value).toMatchObject({ kind: 'progress', done: 1, title: 'done' });
    expect(run.logs[0]!.values[0]).toMatchObject({ kind: 'progress', done: 3, total: 3 });
    expect(run.logs[1]!.values[0]).toMatchObject({ done: 6, total: 6, title: 'eval' });
    // A loop that never awaits still streams its bar while it runs (one step behind).
    const seen: number[] = [];
    const streaming = new Kernel();
    const live = await streaming.run(
      3,
      'for (let i = 1; i <= 3; i++) { progress(i, 3, { title: "sync" }); const t = Date.now(); while (Date.now() - t < 60); }',
      (_from, lines) => {
        const v = lines.at(-1)?.values[0];
        if (v?.kind === 'progress') seen.push(v.done);
      },
    );
    expect(live.logs).toHaveLength(1);
    expect(live.logs[0]!.values[0]).toMatchObject({ done: 3 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.some((d) => d < 3)).toBe(true); // streamed before the end
    // Shown explicitly, logged, or as the cell's value: never a second time.
    const once = await kernel.run(
      2,
      'display(progress(1, 2), "bar")\nconsole.log(progress(2, 2))\nawait Promise.resolve()\nprogress(2, 2)',
    );
    expect(once.logs.map((l) => l.display ?? 'log')).toEqual(['bar', 'log']);
    expect(once.value).toMatchObject({ kind: 'progress', done: 2 });
  });

  it('a progress as the cell value is shown as a bar; wrong input fails the cell clearly', async () => {
    const kernel = new Kernel();
    const run = await kernel.run(1, 'progress(2, 8, { title: "epochs" })');
    expect(run.error).toBeNull();
    expect(run.value).toMatchObject({ kind: 'progress', done: 2, total: 8, title: 'epochs' });
    const bad = await kernel.run(2, 'const n = 10\ndisplay(progress(n + 1, n), "x")');
    expect(bad.error).toMatchObject({ name: 'RangeError', line: 2 });
    expect(bad.error?.message).toMatch(/done \(11\) is more than total \(10\)/);
    const hand = await kernel.run(3, '({ kind: "progress", done: 3, total: 2 })');
    expect(hand.value?.kind === 'text' && hand.value.text).toMatch(/progress not drawn.*done/);
  });
});
