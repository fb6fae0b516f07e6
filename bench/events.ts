/**
 * `npm run bench -- events`: what execution events cost. One training step (forward,
 * backward, SGD) of an MLP 784-256-256-10 at batch 128, run through the Trainer on a graph
 * document as the CLI and the app run it, with events off, on, on with statistics of one
 * watched edge (the first hidden activation), and on with the NaN-origin check. The anchor of
 * each row is the same step with events off, so `ratio` is the slowdown (the goal for events
 * on: at most 1.03), measured in pairs (see `runEventsBench`). A second figure that load
 * disturbs less: the cost of recording one event, times the events of a step.
 */

import * as wg from '../engine/index.js';
import { type Row, report, row, timeIt } from './harness.js';

const SIZES = [784, 256, 256, 10];
const BATCH = 128;
const WARMUP = 5;
const SAMPLES = 150;

function mlpGraph(): wg.Graph {
  const b = new wg.GraphBuilder('MLP 784-256-256-10');
  let h = b.input('x', [-1, SIZES[0]!], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  for (let i = 0; i < SIZES.length - 1; i++) {
    h = b.linear(h, SIZES[i]!, SIZES[i + 1]!, `fc${i + 1}`);
    if (i < SIZES.length - 2) h = b.op('relu', [h], {}, `relu${i + 1}`);
  }
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b.build();
}

interface Mode {
  readonly name: string;
  /** Makes the recorder for this mode (null: events off). */
  readonly recorder: () => wg.ExecutionRecorder | null;
}

const MODES: readonly Mode[] = [
  { name: 'events off', recorder: () => null },
  { name: 'events on', recorder: () => new wg.ExecutionRecorder() },
  {
    name: 'events on, stats of relu1',
    recorder: () => new wg.ExecutionRecorder().watch(['relu1']),
  },
  {
    name: 'events on, numerics check',
    recorder: () => new wg.ExecutionRecorder({ checkNumerics: true }),
  },
];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Paired samples: each sample runs one step in every mode back to back (rotating which goes
 * first), and a mode's ratio is the median over samples of its time over the events-off time
 * of the same sample. Load from other processes comes and goes over seconds, so it hits both
 * sides of a pair alike; blocks of runs per mode would compare different machine states.
 */
export async function runEventsBench(): Promise<Row[]> {
  const graph = mlpGraph();
  const trainer = new wg.Trainer(graph, {
    epochs: 1,
    batchSize: BATCH,
    optimizer: { type: 'sgd', lr: 0.01 },
    seed: 0,
  });
  const x = wg.rand([BATCH, SIZES[0]!], { seed: 3 });
  const y = wg.tensor(
    Int32Array.from({ length: BATCH }, (_, i) => (i * 7) % 10),
    { shape: [BATCH] },
  );
  const recorders = MODES.map((m) => m.recorder());
  const step = (m: number): number => {
    const rec = recorders[m]!;
    const t0 = performance.now();
    rec?.start();
    trainer.step(x, y);
    rec?.stop();
    return performance.now() - t0;
  };
  for (let i = 0; i < WARMUP; i++) for (let m = 0; m < MODES.length; m++) step(m);
  const times = MODES.map((): number[] => []);
  const ratios = MODES.map((): number[] => []);
  for (let sample = 0; sample < SAMPLES; sample++) {
    const t: number[] = [];
    for (let k = 0; k < MODES.length; k++) {
      const m = (sample + k) % MODES.length;
      t[m] = step(m);
    }
    for (let m = 0; m < MODES.length; m++) {
      times[m]!.push(t[m]!);
      ratios[m]!.push(t[m]! / t[0]!);
    }
  }
  const one = new wg.ExecutionRecorder().start();
  trainer.step(x, y);
  const perStep = one.stop().events().length;
  const perEvent = await perEventCostUs();
  const off = median(times[0]!);
  return MODES.map((mode, m) => {
    const ms = median(times[m]!);
    const name = `mlp step, ${mode.name}`;
    if (m === 0)
      return row(
        'events',
        name,
        ms,
        'none',
        null,
        `${perStep} events per step, ${SAMPLES} samples`,
      );
    // The harness computes ratio = ours / anchor: give it the anchor that yields the median
    // paired ratio, and the plain medians in the note.
    const ratio = median(ratios[m]!);
    const note =
      `median of ${SAMPLES} paired ratios; medians ${ms.toFixed(3)} vs ${off.toFixed(3)} ms` +
      (m === 1
        ? `; recording costs ${perEvent.toFixed(2)} µs per event, ` +
          `${(((perEvent * perStep) / 1000 / off) * 100).toFixed(2)}% of a step`
        : '');
    return row('events', name, ms, 'events off', ms / ratio, note);
  });
}

/**
 * What recording adds to one op, in microseconds: a tiny op (negating two numbers) timed
 * many times with a recorder off and on. Independent of the step's kernels, so a steadier
 * figure than the step ratio on a loaded machine.
 */
async function perEventCostUs(): Promise<number> {
  const x = wg.tensor([1, 2]);
  const n = 2000;
  const loop = () => {
    for (let i = 0; i < n; i++) x.neg().dispose();
  };
  const rec = new wg.ExecutionRecorder();
  const offs: number[] = [];
  const ons: number[] = [];
  for (let r = 0; r < 9; r++) {
    offs.push((await timeIt(loop, { warmup: 1, runs: 5, minMs: 0 })).medianMs);
    rec.start();
    ons.push((await timeIt(loop, { warmup: 1, runs: 5, minMs: 0 })).medianMs);
    rec.stop();
  }
  x.dispose();
  return ((median(ons) - median(offs)) / n) * 1000;
}

export async function main(): Promise<void> {
  process.stderr.write(`ours: ${wg.cpuBackend.description}, one thread\n`);
  report(await runEventsBench());
}
