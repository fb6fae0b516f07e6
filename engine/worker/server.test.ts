import { describe, expect, it, vi } from 'vitest';
import type { GraphJSON } from '../graph/ir.js';
import type { EngineResponse } from '../protocol/messages.js';
import { createInProcessEngineClient } from './in-process.js';
import { WiregradError } from '../core/errors.js';
import { createEngineServer, failureMessage } from './server.js';

const graph = (shape: number[]): GraphJSON => ({
  format: 'wiregrad.graph',
  version: 1,
  nodes: [{ id: 'x', op: 'input', inputs: [], attrs: { shape, dtype: 'f32', role: 'data' } }],
  outputs: [],
});

describe('the engine server', () => {
  it('runs only the newest of several queued graph checks', () => {
    const replies: EngineResponse[] = [];
    const tasks: (() => void)[] = [];
    const server = createEngineServer(
      (r) => replies.push(r),
      (task) => tasks.push(task),
    );
    server.receive({ type: 'checkGraph', id: 1, graph: graph([1]) });
    server.receive({ type: 'checkGraph', id: 2, graph: graph([2]) });
    server.receive({ type: 'checkGraph', id: 3, graph: graph([3]) });
    server.receive({ type: 'cancel', id: 3 });
    server.receive({ type: 'checkGraph', id: 4, graph: graph([4]) });
    for (const task of tasks) task();
    expect(replies.map((r) => [r.type, r.id])).toEqual([
      ['cancelled', 1],
      ['cancelled', 2],
      ['cancelled', 3],
      ['checkGraph', 4],
    ]);
    const last = replies[3] as Extract<EngineResponse, { type: 'checkGraph' }>;
    expect(last.result.shapes.x).toEqual({ shape: [4], dtype: 'f32' });
  });
});

describe('EngineClient over the in-process transport', () => {
  it('lists ops and checks graphs', async () => {
    const client = createInProcessEngineClient();
    const ops = await client.listOps();
    expect(ops.some((o) => o.name === 'conv2d')).toBe(true);
    const result = await client.checkGraph(graph([-1, 5]));
    expect(result?.shapes.x?.shape).toEqual(['N', 5]);
    client.close();
  });

  it('resolves a superseded check with null and the newest with its result', async () => {
    const client = createInProcessEngineClient();
    const first = client.checkGraph(graph([1]));
    const second = client.checkGraph(graph([2]));
    expect(await first).toBeNull();
    expect((await second)?.shapes.x?.shape).toEqual([2]);
    expect(client.pendingCount).toBe(0);
    client.close();
  });

  it('rejects requests after close, with a message', async () => {
    const client = createInProcessEngineClient();
    client.close();
    await expect(client.listOps()).rejects.toThrow(/closed/);
  });
});

describe('what a failed request says', () => {
  it("gives the engine's own errors as they are and others by kind, never a stack trace", () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(failureMessage(new WiregradError('the CPU device is out of memory'))).toBe(
        'the CPU device is out of memory',
      );
      const bug = failureMessage(
        new TypeError("cannot read properties of undefined (reading 'x')"),
      );
      expect(bug).toBe("TypeError: cannot read properties of undefined (reading 'x')");
      expect(bug).not.toMatch(/\n|\bat /);
      expect(logged).toHaveBeenCalledTimes(1); // the stack goes to the console, for a bug report
      expect(failureMessage('plain text')).toBe('plain text');
    } finally {
      logged.mockRestore();
    }
  });

  it('a training start that cannot allocate fails with the out-of-memory message', async () => {
    const client = createInProcessEngineClient();
    const param = (shape: number[], seed: number) => ({
      shape,
      dtype: 'f32',
      init: 'kaimingUniform',
      fanIn: 2,
      seed,
    });
    // A layer of 2^31 outputs: its weight alone is 16 GB.
    const huge = {
      format: 'wiregrad.graph',
      version: 1,
      nodes: [
        { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 2], dtype: 'f32', role: 'data' } },
        { id: 'y', op: 'input', inputs: [], attrs: { shape: [-1], dtype: 'i32', role: 'label' } },
        { id: 'w', op: 'parameter', inputs: [], attrs: param([2 ** 31, 2], 1) },
        { id: 'b', op: 'parameter', inputs: [], attrs: param([2 ** 31], 2) },
        { id: 'fc', op: 'linear', inputs: ['x', 'w', 'b'], attrs: {} },
        { id: 'loss', op: 'crossEntropy', inputs: ['fc', 'y'], attrs: {} },
      ],
      outputs: [
        { name: 'logits', node: 'fc' },
        { name: 'loss', node: 'loss' },
      ],
    } as GraphJSON;
    const config = { optimizer: 'sgd', lr: 0.1, batchSize: 32, epochs: 1, seed: 0 } as const;
    const start = client.startTraining(huge, 'spiral', config);
    await expect(start).rejects.toThrow(/out of memory: a tensor of 16 GB does not fit/);
    await expect(start).rejects.not.toThrow(/\n\s+at /);
    client.close();
  });
});
