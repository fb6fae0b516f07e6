import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { GraphJSON } from '../graph/ir.js';
import { createInProcessEngineClient } from './in-process.js';

/** (a*b + c).tanh() as a graph document with three scalar inputs. */
function tanhGraph(): GraphJSON {
  const b = new wg.GraphBuilder('tanh');
  const scalar = (id: string) => b.input(id, [], 'f64', 'data');
  const [a, bb, c] = [scalar('a'), scalar('b'), scalar('c')];
  const out = b.op('tanh', [b.op('add', [b.op('mul', [a, bb], {}, 'ab'), c], {}, 's')], {}, 'out');
  b.output('out', out);
  return b.toJSON();
}

const scalarData = (v: number) => ({ shape: [], dtype: 'f64', values: [v] });

describe('the autodiff teacher over the worker protocol', () => {
  it('steps forward and backward through (a*b + c).tanh(), matching backward()', async () => {
    const client = createInProcessEngineClient();
    const { lesson, state } = await client.startTeaching(tanhGraph(), {
      a: scalarData(0.5),
      b: scalarData(-1.5),
      c: scalarData(1),
    });
    expect(state.phase).toBe('start');
    expect(lesson.forward.map((s) => s.id)).toEqual(['a', 'b', 'c', 'ab', 's', 'out']);

    const first = await client.teach('teach/forward');
    expect(first.current!.id).toBe('a');
    const ab = await client.teachJump('ab');
    expect(ab.current!.output.values).toEqual([-0.75]);
    const back = await client.teach('teach/back');
    expect(back.current!.id).toBe('c');

    // The reference: the same expression with autodiff.
    const [a, b, c] = [0.5, -1.5, 1].map((v) => wg.tensor(v, { dtype: 'f64', requiresGrad: true }));
    a!.mul(b!).add(c!).tanh().backward();

    const out = await client.teach('teach/backward');
    expect(out.phase).toBe('backward');
    expect(out.current!.id).toBe('out');
    expect(out.current!.gradient!.upstream.values).toEqual([1]);
    const mul = await client.teachJump('ab', 'backward');
    const grads = mul.current!.gradient!.inputGradients.map((g) => g.value!.values);
    expect(grads).toEqual([Array.from(a!.grad!.dataSync()), Array.from(b!.grad!.dataSync())]);
    expect(mul.current!.gradientDoc).toBeTruthy();

    let st = mul;
    while (st.phase !== 'done') st = await client.teach('teach/next');
    expect(st.differentiated).toContain('c');
    client.close();
  });

  it('answers a move without a lesson, and an unknown node, with an error', async () => {
    const client = createInProcessEngineClient();
    await expect(client.teach('teach/forward')).rejects.toThrow(/no lesson/);
    await client.startTeaching(tanhGraph(), {
      a: scalarData(1),
      b: scalarData(2),
      c: scalarData(3),
    });
    await expect(client.teachJump('zz')).rejects.toThrow(/no node or step 'zz'/);
    client.close();
  });
});
