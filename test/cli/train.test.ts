/**
 * The CLI trains the example graphs to the accuracy the project promises, reproducibly:
 * an MLP ≥ 99% on spiral, an MLP ≥ 95% on the MNIST digits (8,000 train / 2,000 test) in 5
 * epochs, a small CNN ≥ 97%; the same seed gives the same final loss to the bit.
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Metrics {
  readonly epochs: number;
  readonly steps: number;
  readonly final_batch_loss: number;
  readonly test_accuracy: number | null;
  readonly test_count: number;
  readonly test_rmse?: number;
}

function cli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ['bin/wiregrad.mjs', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function train(args: readonly string[]): Metrics {
  const res = cli(['train', ...args, '--json']);
  expect(res.status, res.stderr).toBe(0);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as Metrics;
}

describe('wiregrad train', () => {
  it('an MLP reaches >= 99% on spiral, and the same seed gives the same loss to the bit', () => {
    const a = train(['examples/mlp-spiral.json', '--dataset', 'spiral']);
    expect(a.test_accuracy).toBeGreaterThanOrEqual(0.99);
    expect(a.test_count).toBe(1000);
    const b = train(['examples/mlp-spiral.json', '--dataset', 'spiral']);
    expect(b.final_batch_loss).toBe(a.final_batch_loss);
  }, 120_000);

  it('an MLP reaches >= 95% test accuracy on the MNIST digits in 5 epochs', () => {
    const m = train(['examples/mlp-mnist.json', '--dataset', 'mnist', '--epochs', '5']);
    expect(m.epochs).toBe(5);
    expect(m.test_count).toBe(2000);
    expect(m.test_accuracy).toBeGreaterThanOrEqual(0.95);
  }, 300_000);

  it('a small CNN reaches >= 97% test accuracy on the MNIST digits', () => {
    const m = train(['examples/cnn-mnist.json', '--dataset', 'mnist']);
    expect(m.test_count).toBe(2000);
    expect(m.test_accuracy).toBeGreaterThanOrEqual(0.97);
  }, 600_000);

  it('fits the sine set (a regression): test RMSE near its noise of 0.1', () => {
    const m = train(['examples/mlp-sine.json', '--dataset', 'sine', '--epochs', '60']);
    expect(m.test_count).toBe(1000);
    expect(m.test_accuracy).toBeNull();
    // y = sin(x) + 0.1·noise: a model that ignored x would be off by about 0.7.
    expect(m.test_rmse).toBeLessThan(0.15);
  }, 120_000);

  it('prints a progress line per epoch and one final metrics line', () => {
    const res = cli(['train', 'examples/mlp-spiral.json', '--dataset', 'xor', '--epochs', '2']);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/epoch 1\/2 .*test_accuracy/);
    expect(res.stderr).toMatch(/epoch 2\/2 .*test_accuracy/);
    expect(res.stdout).toMatch(/^final: dataset xor {2}epochs 2 .*test_accuracy [\d.]+%/m);
  }, 60_000);
});

// Each case starts the CLI (a Node process) several times: seconds apiece on a busy machine.
describe('wiregrad errors', { timeout: 60_000 }, () => {
  it('a missing file, malformed JSON and an unknown op give one clear message and exit 1', () => {
    const missing = cli(['train', 'nope.json', '--dataset', 'spiral']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read graph file 'nope.json'/);

    const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
    const bad = cli(['info', `${dir}truncated.json`]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/is not valid JSON/);

    const unknown = cli(['info', `${dir}unknown-op.json`]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/node 'mystery'.*unknown op 'frobnicate'/);
    expect(unknown.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace for users
  });

  it('bad usage prints the usage and exits 2', () => {
    const res = cli(['train', 'examples/mlp-spiral.json']);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/needs --dataset/);
    expect(res.stderr).toMatch(/Usage:/);
    const epochs = cli([
      'train',
      'examples/mlp-spiral.json',
      '--dataset',
      'spiral',
      '--epochs',
      'x',
    ]);
    expect(epochs.status).toBe(2);
    expect(epochs.stderr).toMatch(/--epochs needs a whole number/);
    const typo = cli(['train', 'examples/mlp-spiral.json', '--dataset', 'spiral', '--epoch', '1']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/unknown option --epoch \(did you mean --epochs\?\)/);
    const dataset = cli(['train', 'examples/mlp-spiral.json', '--dataset', 'imagenet']);
    expect(dataset.status).toBe(1);
    expect(dataset.stderr).toMatch(/unknown dataset 'imagenet'; choose one of spiral/);
  });

  it('a graph whose shapes do not fit names the node and both shapes', () => {
    const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
    const res = cli(['train', `${dir}shape-mismatch.json`, '--dataset', 'spiral']);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/node 'fc1'/);
    expect(res.stderr).toMatch(/\[\d+, 2\].*\[\d+, 3\]|\[2\].*\[3\]/);
  });
});
