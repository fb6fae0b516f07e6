/**
 * The graph ⇄ code round trip: for every template, every lesson and a CNN with BatchNorm layers
 * (running statistics as untrained parameters), the graph exported as
 * TypeScript, run in Node (written to a file and imported), builds a graph with the same
 * canonical hash (same ops, attributes and edges); and the same code read back without running
 * it (`importTypeScript`, what the app's "Open as graph" uses) gives the same hash too.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph.js';
import { canonicalForm, canonicalHash } from '../../engine/graph/canonical.js';
import { exportTypeScript } from '../../engine/export/typescript.js';
import { importTypeScript } from '../../engine/export/typescript-import.js';
import type { GraphJSON } from '../../engine/graph/ir.js';
import { batchNormCnn } from './graphs.js';

/** What the test reads of renderer/state's template and lesson lists. */
interface Buildable {
  readonly name: string;
  readonly build: () => { readonly graph: GraphJSON };
}

// The renderer's sources are type-checked by their own project (DOM, no Node types), not this
// one, so they are imported by computed paths, which the compiler does not follow.
const load = async (file: string, list: string): Promise<readonly Buildable[]> => {
  const module = (await import(
    new URL(`../../renderer/state/${file}`, import.meta.url).href
  )) as Record<string, readonly Buildable[]>;
  return module[list]!;
};
const TEMPLATES = await load('templates.ts', 'TEMPLATES');
const LESSONS = await load('lessons.ts', 'LESSONS');

const ENGINE = fileURLToPath(new URL('../../engine/index.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wiregrad-roundtrip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases = [
  ...TEMPLATES.map((t) => [`template ${t.name}`, t.build] as const),
  ...LESSONS.map((l) => [`lesson ${l.name}`, l.build] as const),
  ['CNN with BatchNorm2d and BatchNorm1d', () => ({ graph: batchNormCnn().toJSON() })] as const,
];

describe('graph → TypeScript → graph', () => {
  it.each(cases.map(([name]) => name))('%s keeps its canonical hash', async (name) => {
    const build = cases.find(([n]) => n === name)![1];
    const original = build().graph;
    const code = exportTypeScript(Graph.fromJSON(original), { importFrom: ENGINE });
    // One line per node: every node id appears in the code.
    for (const node of original.nodes)
      expect(code.includes(`'${node.id}'`) || code.includes(`'${node.group}'`), node.id).toBe(true);

    const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.ts`);
    writeFileSync(file, code);
    const module = (await import(pathToFileURL(file).href)) as { buildGraph: () => Graph };
    const executed = module.buildGraph().toJSON();
    expect(canonicalForm(executed)).toBe(canonicalForm(original));
    expect(canonicalHash(executed)).toBe(canonicalHash(original));

    const read = importTypeScript(code).toJSON();
    expect(canonicalHash(read)).toBe(canonicalHash(original));
    expect(read.meta).toEqual(original.meta);
  });

  it('a changed line in the code changes the hash', () => {
    const original = LESSONS.find((l) => l.name === 'neuron')!.build().graph;
    const code = exportTypeScript(Graph.fromJSON(original));
    // A node called b: the builder becomes `builder`, so the value keeps its name.
    expect(code).toContain("const ab = builder.op('mul', [a, b], {}, 'ab');");
    expect(code).toContain("const o = builder.op('tanh', [n], {}, 'o');");
    const edited = code.replace("op('tanh', [n], {}, 'o')", "op('sigmoid', [n], {}, 'o')");
    expect(canonicalHash(importTypeScript(edited).toJSON())).not.toBe(canonicalHash(original));
  });
});
