/**
 * `wiregrad train … --trace out.json` writes the last training step as Chrome trace-event
 * JSON: valid per the format, with the graph's nodes in the forward phase, their gradients in
 * the backward phase and the optimizer's update after them.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { validateTraceJSON } from '../helpers/trace-format.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wiregrad-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ['bin/wiregrad.mjs', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

interface XEvent {
  readonly name: string;
  readonly ph: string;
  readonly cat?: string;
  readonly ts: number;
  readonly dur: number;
  readonly args?: Record<string, unknown>;
}

describe('wiregrad train --trace', () => {
  it('writes the last step as a valid Chrome trace with forward, backward and optimizer', () => {
    const out = join(dir, 'out.json');
    const res = cli([
      'train',
      'examples/mlp-spiral.json',
      '--dataset',
      'spiral',
      '--epochs',
      '1',
      '--train-limit',
      '64',
      '--trace',
      out,
      '--json',
    ]);
    expect(res.status, res.stderr).toBe(0);
    // 64 examples in batches of 32: two steps, and the trace holds the second.
    const metrics = JSON.parse(res.stdout.trim().split('\n').pop()!) as { steps: number };
    expect(metrics.steps).toBe(2);
    expect(res.stderr).toMatch(new RegExp(`trace: \\d+ events of step 2 written to ${out}`));

    const text = readFileSync(out, 'utf8');
    expect(validateTraceJSON(text)).toEqual([]);
    const trace = JSON.parse(text) as { traceEvents: XEvent[] };
    const ops = trace.traceEvents.filter((e) => e.ph === 'X');
    const forward = new Set(ops.filter((e) => e.cat === 'forward').map((e) => e.name));
    expect(forward).toEqual(new Set(['fc1', 'relu1', 'fc2', 'relu2', 'fc3', 'loss']));
    const backward = new Set(ops.filter((e) => e.cat === 'backward').map((e) => e.name));
    for (const id of ['grad:loss', 'grad:fc3', 'grad:relu1', 'grad:fc1'])
      expect(backward).toContain(id);
    // One step only: each phase appears once, in order, and the events follow one another.
    const phases = ops.map((e) => e.cat).filter((p, i, all) => i === 0 || all[i - 1] !== p);
    expect(phases).toEqual(['forward', 'backward', 'optimizer']);
    for (let i = 1; i < ops.length; i++)
      expect(ops[i]!.ts).toBeGreaterThanOrEqual(ops[i - 1]!.ts + ops[i - 1]!.dur - 0.01);
    // The loss output is watched: its statistics ride along.
    const loss = ops.filter((e) => e.name === 'loss' && e.cat === 'forward').pop()!;
    const stats = loss.args!['stats'] as { count: number; nanCount: number; mean: number };
    expect(stats.count).toBe(1);
    expect(stats.nanCount).toBe(0);
    expect(stats.mean).toBeGreaterThan(0);
  }, 120_000);

  it('--trace without a file name is a usage error', () => {
    const res = cli(['train', 'examples/mlp-spiral.json', '--dataset', 'spiral', '--trace']);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/--trace needs a file name/);
  }, 60_000);
});
