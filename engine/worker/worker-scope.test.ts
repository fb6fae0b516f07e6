import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { GraphJSON, NodeJSON } from '../graph/ir.js';
import { startNodeLanes } from '../node/lanes.js';
import type { EngineRequest, EngineResponse } from '../protocol/messages.js';
import type { LanePool } from '../runtime/lanes/pool.js';
import { closeWorkerLanes, setWorkerLaneHost } from './lane-training.js';
import {
  type EngineWorkerScope,
  type WorkerCloseRequest,
  type WorkerClosed,
  serveEngineWorker,
} from './worker-scope.js';

/** x [N, 2] → Linear 16 → ReLU → Linear 3, cross-entropy with labels y. */
function mlpJSON(): GraphJSON {
  const init = (fanIn: number, seed: number) => ({
    dtype: 'f32',
    init: 'kaimingUniform',
    fanIn,
    seed,
  });
  const nodes: NodeJSON[] = [
    { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 2], dtype: 'f32', role: 'data' } },
    { id: 'y', op: 'input', inputs: [], attrs: { shape: [-1], dtype: 'i32', role: 'label' } },
    { id: 'fc1.weight', op: 'parameter', inputs: [], attrs: { shape: [16, 2], ...init(2, 1) } },
    { id: 'fc1.bias', op: 'parameter', inputs: [], attrs: { shape: [16], ...init(2, 2) } },
    { id: 'fc1', op: 'linear', inputs: ['x', 'fc1.weight', 'fc1.bias'], attrs: {} },
    { id: 'relu', op: 'relu', inputs: ['fc1'], attrs: {} },
    { id: 'head.weight', op: 'parameter', inputs: [], attrs: { shape: [3, 16], ...init(16, 3) } },
    { id: 'head.bias', op: 'parameter', inputs: [], attrs: { shape: [3], ...init(16, 4) } },
    { id: 'head', op: 'linear', inputs: ['relu', 'head.weight', 'head.bias'], attrs: {} },
    { id: 'loss', op: 'crossEntropy', inputs: ['head', 'y'], attrs: {} },
  ];
  return {
    format: 'wiregrad.graph',
    version: 1,
    name: 'mlp',
    nodes,
    outputs: [
      { name: 'logits', node: 'head' },
      { name: 'loss', node: 'loss' },
    ],
  } as GraphJSON;
}

const trainStart: EngineRequest = {
  type: 'train/start',
  id: 1,
  graph: mlpJSON(),
  dataset: 'spiral',
  config: { optimizer: 'sgd', lr: 0.1, batchSize: 32, epochs: 50, seed: 0, lanes: 2 },
};

/** A worker scope driven by the test: what the worker posted, and whether it closed. */
function fakeScope() {
  const posted: (EngineResponse | WorkerClosed)[] = [];
  const waiters: (() => void)[] = [];
  let handler: ((message: EngineRequest | WorkerCloseRequest) => void) | null = null;
  const scope = {
    closed: 0,
    posted,
    postMessage(message: EngineResponse | WorkerClosed) {
      posted.push(message);
      for (const w of waiters.splice(0)) w();
    },
    onMessage(h: (message: EngineRequest | WorkerCloseRequest) => void) {
      handler = h;
    },
    close() {
      scope.closed++;
    },
    send(message: EngineRequest | WorkerCloseRequest) {
      handler!(message);
    },
    /** Resolves once a posted message satisfies `test`. */
    until(test: (m: EngineResponse | WorkerClosed) => boolean): Promise<void> {
      return new Promise((resolve) => {
        const check = () => (posted.some(test) ? resolve() : waiters.push(check));
        check();
      });
    },
  } satisfies EngineWorkerScope & Record<string, unknown>;
  return scope;
}

afterEach(async () => {
  setWorkerLaneHost(null);
  await closeWorkerLanes();
});

describe('the engine worker closing', () => {
  it('stops training and closes its lanes before answering worker/closed and ending', async () => {
    let pool: LanePool | null = null;
    setWorkerLaneHost(async () => (pool = await startNodeLanes({ lanes: 2 })));
    const scope = fakeScope();
    serveEngineWorker(scope);
    scope.send(trainStart);
    // Training runs on the lanes: progress reports two lanes after a few steps.
    await scope.until(
      (m) => m.type === 'train/progress' && m.progress.lanes === 2 && m.progress.step >= 3,
    );
    expect(pool).not.toBeNull();
    expect(pool!.alive).toBe(2);
    scope.send({ type: 'worker/close' });
    expect(scope.closed).toBe(0); // not before the lanes are closed
    await scope.until((m) => m.type === 'worker/closed');
    expect(pool!.closed).toBe(true);
    expect(pool!.alive).toBe(0);
    expect(scope.closed).toBe(1);
    // Nothing trains or answers after the close.
    const after = scope.posted.length;
    scope.send({ type: 'listOps', id: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(scope.posted.length).toBe(after);
    expect(scope.posted.at(-1)).toEqual({ type: 'worker/closed' });
  });

  it('closes at once when no lanes ever started', async () => {
    const scope = fakeScope();
    serveEngineWorker(scope);
    scope.send({ type: 'listOps', id: 1 });
    await scope.until((m) => m.type === 'listOps');
    scope.send({ type: 'worker/close' });
    await scope.until((m) => m.type === 'worker/closed');
    expect(scope.closed).toBe(1);
  });
});

/**
 * A Node process that hosts the engine server with worker_threads lanes, trains on them and
 * then, when `close` is set, closes the worker. It prints what it saw and must exit by itself
 * (no process.exit): lanes left running would keep it alive.
 */
function hostScript(close: boolean): string {
  const root = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));
  return `
    const { serveEngineWorker } = await import(${root('./worker-scope.ts')});
    const { setWorkerLaneHost } = await import(${root('./lane-training.ts')});
    const { startNodeLanes } = await import(${root('../node/lanes.ts')});
    let pool = null;
    setWorkerLaneHost(async () => (pool = await startNodeLanes({ lanes: 2 })));
    let handler = null;
    const report = (what) => console.log(JSON.stringify({ what, closed: pool.closed, alive: pool.alive }));
    serveEngineWorker({
      postMessage(m) {
        if (m.type === 'train/progress' && m.progress.lanes === 2 && m.progress.step >= 3 && !this.sent) {
          this.sent = true;
          report('trained');
          handler(${JSON.stringify(close ? { type: 'worker/close' } : { type: 'train/stop', id: 1 })});
        }
        if (m.type === 'worker/closed') report('closed');
      },
      onMessage(h) { handler = h; },
      close() { console.log(JSON.stringify({ what: 'scope closed' })); },
    });
    handler(${JSON.stringify(trainStart)});
  `;
}

function runHost(close: boolean): Promise<{ code: number | null; lines: unknown[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', hostScript(close)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the process did not exit by itself; it printed ${out}${err}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`exit code ${code}: ${err}`));
      else
        resolve({
          code,
          lines: out
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as unknown),
        });
    });
  });
}

describe('a process that trains on lanes', () => {
  it('exits by itself after closing the engine worker, with every lane ended', async () => {
    const { code, lines } = await runHost(true);
    expect(code).toBe(0);
    expect(lines).toEqual([
      { what: 'trained', closed: false, alive: 2 },
      { what: 'closed', closed: true, alive: 0 },
      { what: 'scope closed' },
    ]);
  }, 90_000);

  it('exits by itself when training stops and the lanes are left open', async () => {
    const { code, lines } = await runHost(false);
    expect(code).toBe(0);
    expect(lines).toEqual([{ what: 'trained', closed: false, alive: 2 }]);
  }, 90_000);
});
