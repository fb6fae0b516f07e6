import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import { Graph } from '../graph/graph.js';
import { canonicalHash } from '../graph/canonical.js';
import { exportTypeScript } from './typescript.js';
import { CodeImportError, importTypeScript } from './typescript-import.js';
import { createInProcessEngineClient } from '../worker/in-process.js';

describe('reading GraphBuilder code without running it', () => {
  it('reads hand-written code: no wrapper, default ids, double quotes, comments, groups', () => {
    const code = `
      // a neuron
      import * as wg from "wiregrad";
      const g = new wg.GraphBuilder("hand", { seed: 5 });
      const x = g.input("x", [-1, 2], "f32", "data"); /* two features */
      let h = g.linear(x, 2, 3, "fc");
      const r = g.op("relu", [h]);
      const w = g.grouped("head", () => g.parameter("head.w", [3, 1], { init: "normal", std: 0.5 }));
      g.output("y", g.op("matmul", [r, w], { transposeA: false, transposeB: false }, "y"));
    `;
    const graph = importTypeScript(code);
    const b = new GraphBuilder('hand', { seed: 5 });
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const r = b.op('relu', [b.linear(x, 2, 3, 'fc')]);
    const w = b.grouped('head', () => b.parameter('head.w', [3, 1], { init: 'normal', std: 0.5 }));
    b.output('y', b.op('matmul', [r, w], { transposeA: false, transposeB: false }, 'y'));
    expect(graph.toJSON()).toEqual(b.build().toJSON());
  });

  it('reads the exporter’s form with display names and devices', () => {
    const b = new GraphBuilder('details');
    const x = b.input('x', [2], 'f32', 'data');
    b.output('y', b.op('exp', [x], {}, 'y'));
    const doc = b.toJSON({ note: 'kept' });
    const graph = Graph.fromJSON({
      ...doc,
      nodes: doc.nodes.map((n) =>
        n.id === 'y' ? { ...n, name: 'e to the x', device: 'cpu' as const } : n,
      ),
    });
    const read = importTypeScript(exportTypeScript(graph));
    expect(read.toJSON()).toEqual(graph.toJSON());
    expect(canonicalHash(read.toJSON())).toBe(canonicalHash(graph.toJSON()));
  });

  it('reads b.batchNorm, and names the line of options it cannot use', () => {
    const code = (options: string) =>
      `const b = new GraphBuilder('bn');\nconst x = b.input('x', [-1, 4], 'f32', 'data');\n` +
      `b.output('y', b.batchNorm(x, 4, 'bn', ${options}));`;
    const b = new GraphBuilder('bn');
    const x = b.input('x', [-1, 4], 'f32', 'data');
    b.output('y', b.batchNorm(x, 4, 'bn', { dims: 1, momentum: 0.3, training: false }));
    const read = importTypeScript(code('{ dims: 1, momentum: 0.3, training: false }'));
    expect(read.toJSON()).toEqual(b.build().toJSON());
    expect(() => importTypeScript(code('{}'))).toThrow(
      'line 3: batchNorm: the options need dims: 1 (BatchNorm1d) or 2 (BatchNorm2d)',
    );
    expect(() => importTypeScript(code("{ dims: 2, eps: '1e-5' }"))).toThrow(
      'line 3: batchNorm: eps must be a number',
    );
    // The builder's own check, naming the node.
    expect(() => importTypeScript(code('{ dims: 1, momentum: 2 }'))).toThrow(
      /^line 3: .*node 'bn'.*momentum must be in \[0, 1\], got 2/,
    );
  });

  it('names the line of anything outside the builder language', () => {
    const lines = (body: string) =>
      `const b = new GraphBuilder('g');\nconst x = b.input('x', [1], 'f32', 'data');\n${body}`;
    const error = (code: string): CodeImportError => {
      try {
        importTypeScript(code);
      } catch (e) {
        if (e instanceof CodeImportError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    expect(error(lines('fetch("http://example.com");')).message).toBe(
      "line 3: 'fetch' is not defined above",
    );
    expect(error(lines('const y = b.run(x);')).message).toMatch(
      /^line 3: 'run' is not a GraphBuilder method this reader knows \(input, parameter/,
    );
    expect(error(lines("const y = b.op('relu', [z]);")).message).toBe(
      "line 3: 'z' is not defined above",
    );
    expect(error(lines('const s = `${x}`;')).line).toBe(3);
    expect(error('const x = 1;').message).toMatch(/no GraphBuilder/);
    // A graph the engine refuses: its error names the node.
    expect(() => importTypeScript(lines("b.output('y', b.op('nope', [x], {}, 'y'));"))).toThrow(
      /nope/,
    );
  });

  it('runs in the engine worker: code/graph answers the document, or the line’s error', async () => {
    const client = createInProcessEngineClient();
    const b = new GraphBuilder('neuron');
    const x = b.input('x', [], 'f32', 'data');
    b.output('y', b.op('tanh', [x], {}, 'y'));
    const graph = b.build();
    const doc = await client.graphFromCode(exportTypeScript(graph));
    expect(canonicalHash(doc)).toBe(canonicalHash(graph.toJSON()));
    await expect(
      client.graphFromCode("const b = new GraphBuilder('g');\nb.run();"),
    ).rejects.toThrow(/^engine: line 2: 'run' is not a GraphBuilder method/);
    client.close();
  });
});
