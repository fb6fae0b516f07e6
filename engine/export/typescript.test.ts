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
import { canonicalHash } from '../graph/canonical.js';
import { exportTypeScript } from './typescript.js';
import { importTypeScript } from './typescript-import.js';

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

/** conv → BatchNorm2d → relu → flatten → BatchNorm1d (own momentum and eps) → BatchNorm1d (eval). */
function batchNormLayers(): Graph {
  const b = new GraphBuilder('Batch norms');
  const x = b.input('x', [-1, 2, 4, 4], 'f32', 'data');
  let h = b.conv2d(x, 2, 3, 3, 'conv', { padding: 1 });
  h = b.op('relu', [b.batchNorm(h, 3, 'bn1', { dims: 2 })], {}, 'relu');
  h = b.op('reshape', [h], { shape: [-1, 48] }, 'flatten');
  h = b.batchNorm(h, 48, 'bn2', { dims: 1, momentum: 0.25, eps: 1e-3 });
  h = b.batchNorm(h, 48, 'bn3', { dims: 1, training: false });
  b.output('y', b.linear(h, 48, 2, 'fc'));
  return b.build();
}

describe('TypeScript export of batch norms', () => {
  it('writes one b.batchNorm line per norm and rebuilds the same document and hash', async () => {
    const graph = batchNormLayers();
    const { code, graph: rebuilt } = await rebuild('batch-norms', graph);
    expect(code).toContain("const bn1 = b.batchNorm(conv, 3, 'bn1', { dims: 2 });");
    expect(code).toContain(
      "const bn2 = b.batchNorm(flatten, 48, 'bn2', { dims: 1, momentum: 0.25, eps: 0.001 });",
    );
    expect(code).toContain(
      "const bn3 = b.batchNorm(bn2, 48, 'bn3', { dims: 1, training: false });",
    );
    // The weight, bias and running statistics are made by the helper, not written out.
    expect(code).not.toContain('running_mean');
    expect(code).not.toContain("'bn1.weight'");
    expect(rebuilt.toJSON()).toEqual(graph.toJSON());
    expect(canonicalHash(rebuilt.toJSON())).toBe(canonicalHash(graph.toJSON()));
    const read = importTypeScript(code);
    expect(read.toJSON()).toEqual(graph.toJSON());
    // The helper's layer: statistics untrained, on the weight's and bias's seeds.
    const node = (id: string) => graph.toJSON().nodes.find((n) => n.id === id)!;
    expect(node('bn1.running_var').attrs).toEqual({
      shape: [3],
      dtype: 'f32',
      seed: node('bn1.bias').attrs.seed,
      init: 'ones',
      trainable: false,
    });
    expect(node('bn2')).toMatchObject({
      op: 'batchNorm',
      name: 'BatchNorm1d',
      group: 'bn2',
      inputs: ['flatten', 'bn2.weight', 'bn2.bias', 'bn2.running_mean', 'bn2.running_var'],
      attrs: { training: true, momentum: 0.25, eps: 1e-3 },
    });
  });

  it('writes the canvas’s BatchNorm layer (explicit seeds) as one line when they follow on', async () => {
    // The nodes renderer/state/layers.ts makes for a BatchNorm2d layer on seeds (3, 4).
    const b = new GraphBuilder('canvas', { seed: 3 });
    const x = b.input('x', [-1, 2, 5, 5], 'f32', 'data');
    const p = (id: string, seed: number, init: string, state: boolean) =>
      b.parameter(`bn.${id}`, [2], { init, seed, ...(state ? { trainable: false } : {}) });
    const doc = b.grouped('bn', () => {
      const ins = [x, p('weight', 3, 'ones', false), p('bias', 4, 'zeros', false)];
      ins.push(p('running_mean', 3, 'zeros', true), p('running_var', 4, 'ones', true));
      const bn = b.op('batchNorm', ins, { training: true, momentum: 0.1, eps: 1e-5 }, 'bn');
      b.output('y', bn);
      return b.toJSON();
    });
    const named = (name: string) =>
      GraphClass.fromJSON({
        ...doc,
        nodes: doc.nodes.map((n) => (n.id === 'bn' ? { ...n, name } : n)),
      });
    const { code, graph: rebuilt } = await rebuild('canvas-bn', named('BatchNorm2d'));
    expect(code).toContain("const bn = b.batchNorm(x, 2, 'bn', { dims: 2 });");
    expect(rebuilt.toJSON()).toEqual(named('BatchNorm2d').toJSON());
    // Not what the helper makes (no layer name; a different seed): node by node, still equal.
    for (const [k, other] of [GraphClass.fromJSON(doc), named('Norm')].entries()) {
      const again = await rebuild(`canvas-bn-plain-${k}`, other);
      expect(again.code).not.toContain('b.batchNorm(');
      expect(again.graph.toJSON()).toEqual(other.toJSON());
    }
    const shifted = GraphClass.fromJSON({
      ...doc,
      nodes: doc.nodes.map((n) =>
        n.id === 'bn'
          ? { ...n, name: 'BatchNorm2d' }
          : n.id === 'bn.running_var'
            ? { ...n, attrs: { ...n.attrs, seed: 9 } }
            : n,
      ),
    });
    const third = await rebuild('canvas-bn-seed', shifted);
    expect(third.code).not.toContain('b.batchNorm(');
    expect(third.graph.toJSON()).toEqual(shifted.toJSON());
  });
});
