import { describe, expect, it } from 'vitest';
import type { GraphJSON } from '../graph/ir.js';
import type { EngineResponse } from '../protocol/messages.js';
import { createInProcessEngineClient } from './in-process.js';
import { createEngineServer } from './server.js';

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
