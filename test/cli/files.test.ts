/**
 * The CLI trains on the user's own files: the example CSVs (a regression reported by RMSE, a
 * classification by accuracy), a generated folder of PNG and JPEG images (above chance), and
 * refuses malformed CSVs with one message naming the file, line, column and reason.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { HostRandom } from '../../engine/data/host-random.js';
import { GraphBuilder } from '../../engine/graph/builder.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'wiregrad-cli-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Metrics {
  readonly test_accuracy: number | null;
  readonly test_rmse?: number;
  readonly test_count: number;
}

function cli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ['bin/wiregrad.mjs', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function train(args: readonly string[]): Metrics {
  const res = cli(['train', ...args, '--json']);
  expect(res.status, res.stderr).toBe(0);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as Metrics;
}

describe('wiregrad train on CSV files', () => {
  it('a regression graph (f32 labels, mseLoss) reports RMSE near the noise level', () => {
    const res = cli([
      'train',
      'examples/mlp-tabular-regression.json',
      '--dataset',
      'csv:examples/data/houses.csv',
      '--target',
      'price',
    ]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/epoch 60\/60 .*test_rmse [\d.]+/);
    const m = train([
      'examples/mlp-tabular-regression.json',
      '--dataset',
      'csv:examples/data/houses.csv',
      '--target',
      'price',
    ]);
    // houses.csv: prices spread with deviation ≈ 1.1 around their mean, noise 0.1.
    expect(m.test_count).toBe(80);
    expect(m.test_accuracy).toBeNull();
    expect(m.test_rmse).toBeLessThan(0.25);
  }, 60_000);

  it('a classifier on a text target reaches >= 85% on fruit.csv', () => {
    const m = train([
      'examples/mlp-tabular-classification.json',
      '--dataset',
      'csv:examples/data/fruit.csv',
    ]);
    expect(m.test_count).toBe(90);
    expect(m.test_accuracy).toBeGreaterThanOrEqual(0.85);
  }, 60_000);

  it('malformed CSVs give one message with the file, line, column and reason, exit 1', () => {
    const bad = (name: string, text: string) => {
      const path = join(tmp, name);
      writeFileSync(path, text);
      return path;
    };
    const graph = 'examples/mlp-tabular-classification.json';
    const header = 'weight,diameter,sweetness,acidity,colour,fruit\n';
    const row = '150,7,6,4,red,apple\n';
    const cases: [string, string[], RegExp][] = [
      [bad('empty.csv', ''), [], /empty\.csv: the file is empty/],
      [bad('ragged.csv', header + row + '150,7,6\n'), [], /ragged\.csv, line 3: the row has 3/],
      [
        bad('text.csv', header + row + '150,seven,6,4,red,pear\n'),
        [],
        /text\.csv, line 3, column 'diameter': 'seven' is not a number/,
      ],
      [
        bad('target.csv', header + row),
        ['--target', 'species'],
        /target\.csv: the target column 'species' is not in the file/,
      ],
      [
        bad('range.csv', 'a,b,c,d,e,f,g,label\n' + '1,2,3,4,5,6,7,1\n' + '1,2,3,4,5,6,7,3\n'),
        ['--classes', '3'],
        /range\.csv, line 3, column 'label': label 3 is not a class index in \[0, 3\)/,
      ],
    ];
    for (const [path, extra, message] of cases) {
      const res = cli(['train', graph, '--dataset', `csv:${path}`, ...extra]);
      expect(res.status, res.stderr).toBe(1);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace for users
    }
  }, 60_000);
});

describe('wiregrad train on an image folder', () => {
  /** 3 classes of noisy 16-24 px pictures: horizontal stripes, vertical stripes, a checkerboard. */
  function makeFolder(dir: string): void {
    const r = new HostRandom(5);
    const patterns: Record<string, (x: number, y: number, p: number) => number> = {
      horizontal: (_x, y, p) => Math.floor(y / p) % 2,
      vertical: (x, _y, p) => Math.floor(x / p) % 2,
      checker: (x, y, p) => (Math.floor(x / p) + Math.floor(y / p)) % 2,
    };
    for (const [name, pattern] of Object.entries(patterns)) {
      mkdirSync(join(dir, name), { recursive: true });
      for (let i = 0; i < 40; i++) {
        const w = 16 + r.int(9);
        const h = 16 + r.int(9);
        const period = 4 + r.int(3);
        const img = new PNG({ width: w, height: h });
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const v = 40 + 170 * pattern(x, y, period) + 30 * r.normal();
            const c = Math.max(0, Math.min(255, Math.round(v)));
            img.data.set([c, c, c, 255], 4 * (y * w + x));
          }
        // Every fourth picture as JPEG: the loader tells formats by their bytes.
        const bytes = i % 4 === 0 ? jpeg.encode(img, 90).data : PNG.sync.write(img);
        writeFileSync(join(dir, name, `${i}.${i % 4 === 0 ? 'jpg' : 'png'}`), bytes);
      }
    }
  }

  it('a small MLP classifies a generated folder of PNGs well above chance (1/3)', () => {
    const dir = join(tmp, 'patterns');
    makeFolder(dir);
    const b = new GraphBuilder('MLP for 16×16 pictures');
    const x = b.input('x', [-1, 1, 16, 16], 'f32', 'data');
    const y = b.input('y', [-1], 'i32', 'label');
    let h = b.op('reshape', [x], { shape: [-1, 256] }, 'flatten');
    h = b.op('relu', [b.linear(h, 256, 64, 'fc1')], {}, 'relu1');
    h = b.linear(h, 64, 3, 'fc2');
    b.output('logits', h);
    b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
    const graph = join(tmp, 'mlp-patterns.json');
    const training = { epochs: 30, batchSize: 16, optimizer: { type: 'adam', lr: 0.003 } };
    writeFileSync(graph, JSON.stringify(b.toJSON({ training })));
    const m = train([graph, '--dataset', `folder:${dir}`, '--test-fraction', '0.25']);
    expect(m.test_count).toBe(30);
    expect(m.test_accuracy).toBeGreaterThanOrEqual(0.7);
  }, 120_000);
});
