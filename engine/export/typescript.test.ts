/**
 * The TypeScript export, run: for every example, template and zoo graph, the generated module
 * (importing the engine's public API) builds a graph whose document equals the original, node
 * for node; layers come out as the builder's own helpers; display names and pinned devices
 * survive; identifiers are valid and unique.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder } from '../index.js';
import { Graph as GraphClass } from '../graph/graph.js';
import { exampleGraphs, templateGraphs, zooGraphs } from '../../test/export/graphs.js';
import { exportTypeScript } from './typescript.js';

const ENGINE = fileURLToPath(new URL('../index.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wiregrad-ts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rebuild(name: string, graph: Graph): Promise<{ code: string; graph: Graph }> {
  const code = exportTypeScript(graph, { importFrom: ENGINE });
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.ts`);
  writeFileSync(file, code);
  const module = (await import(pathToFileURL(file).href)) as { buildGraph: () => Graph };
  return { code, graph: module.buildGraph() };
}

const cases = [...exampleGraphs(), ...templateGraphs(), ...zooGraphs()];

describe('TypeScript export', () => {
  it.each(cases.map(([name]) => name))('%s rebuilds the same document', async (name) => {
    const graph = cases.find(([n]) => n === name)![1];
    const { graph: rebuilt } = await rebuild(name, graph);
    expect(rebuilt.toJSON()).toEqual(graph.toJSON());
  });

  it('writes one line per node, layers with the builder helpers', async () => {
    const graph = cases.find(([n]) => n === 'cnn-mnist.json')![1];
    const { code } = await rebuild('cnn-lines', graph);
    expect(code).toContain("const conv1 = b.conv2d(standardised, 1, 8, 5, 'conv1');");
    expect(code).toContain("const fc1 = b.linear(flatten, 256, 64, 'fc1');");
    expect(code).toContain(
      "const pool1 = b.op('maxPool2d', [relu1], { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] }, 'pool1');",
    );
    expect(code).toContain("b.output('loss', loss);");
    const zoo = await rebuild('zoo-lines', cases.find(([n]) => n === 'op-zoo')![1]);
    expect(zoo.code).toContain(
      "const embWeight = b.grouped('emb', () => b.parameter('emb.weight', [10, 6], { init: 'normal', std: 0.5 }));",
    );
  });

  it('keeps display names, pinned devices, explicit seeds and names that need quoting', async () => {
    const b = new GraphBuilder('details', { seed: 40 });
    const x = b.input('input x', [-1, 3], 'f32', 'data');
    const w = b.parameter('const', [3, 2], { init: 'normal', seed: 99 });
    const mm = b.op('matmul', [x, w], { transposeA: false, transposeB: false }, '2nd-step');
    b.output('out', mm);
    const doc = b.toJSON({ note: "it's 'quoted'" });
    const graph = GraphClass.fromJSON({
      ...doc,
      nodes: doc.nodes.map((n) =>
        n.id === '2nd-step' ? { ...n, name: 'product', device: 'cpu' as const } : n,
      ),
    });
    const { code, graph: rebuilt } = await rebuild('details', graph);
    expect(rebuilt.toJSON()).toEqual(graph.toJSON());
    expect(code).toContain('const v2ndStep = ');
    expect(code).toContain('const const_ = ');
    expect(code).toContain('seed: 99');
  });
});
