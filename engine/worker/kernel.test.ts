import { describe, expect, it } from 'vitest';
import { analyzeCell } from './cell-source.js';
import { createInProcessEngineClient } from './in-process.js';
import { Kernel } from './kernel.js';

describe('analyzeCell: top-level declarations and the final expression', () => {
  it('finds const/let/var/function/class names, destructuring included, and not nested ones', () => {
    const code = [
      'const a = 1, b = { x: 2 };',
      'let { x, y: why = 3, ...rest } = b',
      'var [p, , q = 4] = [1, 2]',
      'function f(n) { const inner = n; return inner }',
      'async function g() {}',
      'class C { m() { let hidden = 1 } }',
      'if (a) { const blockLocal = 2 }',
    ].join('\n');
    const names = analyzeCell(code).declarations.map((d) => `${d.kind} ${d.name}`);
    expect(names).toEqual([
      'const a',
      'const b',
      'let x',
      'let why',
      'let rest',
      'let p',
      'let q',
      'let f',
      'let g',
      'let C',
    ]);
  });

  it('takes the last statement as the value only when it is an expression', () => {
    const code = 'const t = 1\nt\n  .toString()';
    const last = analyzeCell(code).lastExpression!;
    expect(code.slice(last.start, last.end)).toBe('t\n  .toString()');
    expect(analyzeCell('const z = 1;').lastExpression).toBeNull();
    expect(analyzeCell('for (;;) { break }').lastExpression).toBeNull();
    const withRegex = 'const s = "a/b"; s.split(/\\//).length';
    const r = analyzeCell(withRegex).lastExpression!;
    expect(withRegex.slice(r.start, r.end)).toBe('s.split(/\\//).length');
  });
});

describe('the kernel', () => {
  it('shares top-level names between cells and returns tensors as data', async () => {
    const kernel = new Kernel();
    const first = await kernel.run(1, 'const x: wg.Tensor = wg.tensor([[1, 2], [3, 4]]);\nx');
    expect(first.error).toBeNull();
    expect(first.names).toEqual(['x']);
    expect(first.value).toEqual({
      kind: 'tensor',
      shape: [2, 2],
      dtype: 'f32',
      device: 'cpu',
      values: [1, 2, 3, 4],
      truncated: false,
    });
    const second = await kernel.run(2, 'const y = x.mul(x).sum()\ny.item()');
    expect(second.error).toBeNull();
    expect(second.value).toEqual({ kind: 'text', text: '30' });
  });

  it('writes assignments to earlier let names back, so earlier functions see them', async () => {
    const kernel = new Kernel();
    await kernel.run(1, 'let count = 1\nfunction current(): number { return count }');
    const assign = await kernel.run(2, 'count = count + 41');
    expect(assign.error).toBeNull();
    const read = await kernel.run(3, 'current()');
    expect(read.value).toEqual({ kind: 'text', text: '42' });
    const redeclare = await kernel.run(4, 'const count = "again"; count');
    expect(redeclare.value).toEqual({ kind: 'text', text: 'again' });
  });

  it('refuses assignment to an earlier const like JavaScript does', async () => {
    const kernel = new Kernel();
    await kernel.run(1, 'const fixed = 1');
    const run = await kernel.run(2, 'fixed = 2');
    expect(run.error?.name).toBe('TypeError');
    expect(run.error?.line).toBe(1);
    expect(kernel.value('fixed')).toBe(1);
  });

  it('captures console output, including tensors, in order', async () => {
    const kernel = new Kernel();
    const run = await kernel.run(
      1,
      'console.log("loss", 0.5)\nconsole.warn({ a: [1, 2] })\nconsole.log(wg.ones([3]))',
    );
    expect(run.error).toBeNull();
    expect(run.value).toBeNull();
    expect(run.logs).toEqual([
      {
        level: 'log',
        values: [
          { kind: 'text', text: 'loss' },
          { kind: 'text', text: '0.5' },
        ],
      },
      { level: 'warn', values: [{ kind: 'text', text: '{a: [1, 2]}' }] },
      {
        level: 'log',
        values: [
          {
            kind: 'tensor',
            shape: [3],
            dtype: 'f32',
            device: 'cpu',
            values: [1, 1, 1],
            truncated: false,
          },
        ],
      },
    ]);
  });

  it('reports runtime errors with the line in the TypeScript source', async () => {
    const kernel = new Kernel();
    const source = [
      'interface Shape {',
      '  rows: number;',
      '}',
      'const s: Shape = { rows: 2 };',
      'const a = wg.ones([s.rows, 3]);',
      'const b = wg.ones([4, 5]);',
      'const c = a.matmul(b);',
    ].join('\n');
    const run = await kernel.run(3, source);
    expect(run.cell).toBe(3);
    expect(run.error?.line).toBe(7);
    expect(run.error?.message).toMatch(/matmul/);
    // Names declared before the error stay defined; the failing one does not.
    expect(kernel.names()).toEqual(['s', 'a', 'b']);
  });

  it('maps columns back to the source on the first line and in the final expression', async () => {
    const kernel = new Kernel();
    const first = await kernel.run(1, 'null!.x');
    expect(first.error).toMatchObject({ name: 'TypeError', line: 1, column: 6 });
    const last = await kernel.run(2, 'const a = 1;\nwg.ones([2, 3]).matmul(wg.ones([2, 3]))');
    expect(last.error).toMatchObject({ name: 'ShapeError', line: 2, column: 17 });
  });

  it('reports syntax errors with their line and keeps the earlier scope', async () => {
    const kernel = new Kernel();
    await kernel.run(1, 'const kept = 5');
    const run = await kernel.run(2, 'const ok = 1\nconst broken = (1 + ;\n');
    expect(run.error).toMatchObject({ name: 'SyntaxError', line: 2 });
    expect(kernel.value('kept')).toBe(5);
  });

  it('supports top-level await and reports thrown non-errors', async () => {
    const kernel = new Kernel();
    const awaited = await kernel.run(1, 'const v = await Promise.resolve(7)\nv * 2');
    expect(awaited.value).toEqual({ kind: 'text', text: '14' });
    const thrown = await kernel.run(2, '\nthrow "nope"');
    expect(thrown.error?.message).toContain('nope');
  });

  it('forgets every name on reset', async () => {
    const kernel = new Kernel();
    await kernel.run(1, 'const t = wg.zeros([2])');
    kernel.reset();
    const run = await kernel.run(2, 't');
    expect(run.error?.name).toBe('ReferenceError');
    expect(run.error?.message).toMatch(/\bt\b/);
  });
});

describe('the kernel over the worker protocol', () => {
  it('runs cells in one scope and resets', async () => {
    const client = createInProcessEngineClient();
    const a = await client.runCell(1, 'const n = wg.arange(0, 6).reshape([2, 3]);\nn');
    expect(a.value).toMatchObject({ kind: 'tensor', shape: [2, 3], values: [0, 1, 2, 3, 4, 5] });
    const b = await client.runCell(2, 'n.sum().item()');
    expect(b.value).toEqual({ kind: 'text', text: '15' });
    await client.resetKernel();
    const c = await client.runCell(3, 'n');
    expect(c.error?.name).toBe('ReferenceError');
    client.close();
  });
});
