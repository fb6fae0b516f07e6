/**
 * `wiregrad export` and `wiregrad import` from the command line: files land in the folder
 * asked for, the import prints its report, and a bad target is a usage error (exit 2).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wiregrad-cli-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: readonly string[]) {
  const r = spawnSync(process.execPath, ['bin/wiregrad.mjs', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('wiregrad export / import', () => {
  it('exports ONNX, imports it back into a graph file with its weights', () => {
    const onnx = join(dir, 'cnn');
    const exported = cli(['export', 'examples/cnn-mnist.json', '--to', 'onnx', '--out', onnx]);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(join(onnx, 'model.onnx'));
    const graphFile = join(dir, 'cnn.json');
    const imported = cli(['import', join(onnx, 'model.onnx'), '--out', graphFile]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/imported \d+ ONNX nodes \(opset 17, wiregrad 0\.1\.0\)/);
    expect(existsSync(join(dir, 'cnn.safetensors'))).toBe(true);
    const doc = JSON.parse(readFileSync(graphFile, 'utf8')) as {
      nodes: { id: string; op: string }[];
    };
    expect(doc.nodes.find((n) => n.id === 'fc1')?.op).toBe('linear');
    const info = cli(['info', graphFile]);
    expect(info.status, info.stderr).toBe(0);
  }, 120_000);

  it('exports TypeScript with trained weights refused when they do not fit', () => {
    const ts = cli([
      'export',
      'examples/mlp-spiral.json',
      '--to',
      'typescript',
      '--out',
      join(dir, 'ts'),
    ]);
    expect(ts.status, ts.stderr).toBe(0);
    expect(readFileSync(join(dir, 'ts', 'model.ts'), 'utf8')).toContain(
      "b.linear(x, 2, 64, 'fc1')",
    );
    const wrong = cli([
      'export',
      'examples/mlp-spiral.json',
      '--to',
      'pytorch',
      '--weights',
      join(dir, 'cnn.safetensors'),
      '--out',
      join(dir, 'bad'),
    ]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/is not a parameter of the graph|has shape/);
  }, 120_000);

  it('refuses an unknown target as a usage error', () => {
    const r = cli(['export', 'examples/mlp-spiral.json', '--to', 'keras']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('export needs --to typescript|pytorch|onnx');
  });
});
