/**
 * `npm run bench -- views`: what the training views cost. The app trains through the engine
 * worker's `TrainSession` (engine/worker/train-session.ts); with views on, each step also
 * measures the gradient along every edge, the activation statistics of every edge's value and
 * the lanes timeline, and bins each parameter and its gradient into histograms; a running
 * session does this on one step every VIEW_INTERVAL_MS (about as often as it sends progress).
 * With views off the same session takes the bare Trainer step. This suite times both, and the
 * session measuring every step, on the graphs and data set the app uses (the MLP template on
 * the spiral, batch 32; a wider MLP at batch 128) in paired blocks of steps; the ratio is the
 * median of the per-pair ratios (goal for views on: at most 1.05).
 */

import { readFileSync } from 'node:fs';
import * as wg from '../engine/index.js';
import type { GraphJSON } from '../engine/graph/ir.js';
import type { TrainSessionConfig } from '../engine/protocol/messages.js';
import { TrainSession } from '../engine/worker/train-session.js';
import { type Row, report, row } from './harness.js';

const WARMUP = 30;
const SAMPLES = 40;

function mlpSpiral(): GraphJSON {
  return JSON.parse(
    readFileSync(new URL('../examples/mlp-spiral.json', import.meta.url), 'utf8'),
  ) as GraphJSON;
}

/** A wider MLP for the 2-D sets: 2 → 256 → 256 → 256 → 3. */
function wideMlp(): GraphJSON {
  const b = new wg.GraphBuilder('MLP 2-256-256-256-3');
  const sizes = [2, 256, 256, 256, 3];
  let h = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  for (let i = 0; i < sizes.length - 1; i++) {
    h = b.linear(h, sizes[i]!, sizes[i + 1]!, `fc${i + 1}`);
    if (i < sizes.length - 2) h = b.op('relu', [h], {}, `relu${i + 1}`);
  }
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b.build().toJSON();
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall time of `steps` steps (a finished session starts again from its reset). */
function blockMs(session: TrainSession, steps: number, observe = false): number {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    if (session.done) session.reset();
    session.step(observe);
  }
  return performance.now() - t0;
}

/**
 * Paired blocks of `BLOCK` steps with views off and on (alternating which goes first); the
 * ratio is the median of the per-pair ratios. Blocks, not single steps: with views on a
 * running session measures a step a few times a second, so single steps would hide that cost.
 */
function measure(name: string, graph: GraphJSON, config: TrainSessionConfig, block: number): Row[] {
  const sessions = {
    off: new TrainSession(graph, 'spiral', config, { views: false }),
    on: new TrainSession(graph, 'spiral', config),
    every: new TrainSession(graph, 'spiral', config),
  };
  const modes = ['off', 'on', 'every'] as const;
  for (const m of modes) blockMs(sessions[m], WARMUP, m === 'every');
  const times = { off: [] as number[], on: [] as number[], every: [] as number[] };
  const ratios = { on: [] as number[], every: [] as number[] };
  for (let s = 0; s < SAMPLES; s++) {
    const t: Record<string, number> = {};
    for (let k = 0; k < modes.length; k++) {
      const m = modes[(s + k) % modes.length]!;
      t[m] = blockMs(sessions[m], block, m === 'every');
    }
    for (const m of modes) times[m].push(t[m]! / block);
    ratios.on.push(t['on']! / t['off']!);
    ratios.every.push(t['every']! / t['off']!);
  }
  // What the worker sends: one progress message per ~33 ms while training.
  const progressMs = median(
    Array.from({ length: 50 }, () => {
      const t0 = performance.now();
      structuredClone(sessions.on.progress('running'));
      return performance.now() - t0;
    }),
  );
  for (const m of modes) sessions[m].dispose();
  const off = median(times.off);
  const sps = (ms: number): string => `${(1000 / ms).toFixed(0)} steps/s`;
  const paired = (m: 'on' | 'every', note: string): Row => {
    const ms = median(times[m]);
    return row('views', `${name}, ${note}`, ms, 'views off', ms / median(ratios[m]), sps(ms));
  };
  return [
    row(
      'views',
      `${name}, views off`,
      off,
      'none',
      null,
      `${sps(off)}; ${SAMPLES} paired blocks of ${block} steps`,
    ),
    paired('on', 'views on'),
    {
      ...paired('every', 'views on, every step measured'),
      note: `${sps(median(times.every))}; progress message built+cloned ${progressMs.toFixed(3)} ms`,
    },
  ];
}

export function runViewsBench(): Row[] {
  const config: TrainSessionConfig = {
    optimizer: 'adam',
    lr: 0.01,
    batchSize: 32,
    epochs: 1000,
    seed: 0,
  };
  return [
    ...measure('MLP template 2-64-64-3, batch 32', mlpSpiral(), config, 200),
    ...measure('MLP 2-256-256-256-3, batch 128', wideMlp(), { ...config, batchSize: 128 }, 40),
  ];
}

export async function main(): Promise<void> {
  process.stderr.write(`ours: ${wg.cpuBackend.description}, one thread\n`);
  report(runViewsBench());
  return Promise.resolve();
}
