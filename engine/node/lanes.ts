/**
 * CPU lanes in Node: a `LaneHost` that starts each lane as a worker_threads worker running
 * lane-worker.ts, and `startNodeLanes`, which starts a pool of them. From TypeScript sources
 * (tests, the CLI under tsx) the worker loads through tsx; from a build, the .js file beside
 * this one runs as is. Workers hold the process open only while they have work, so a
 * CLI that forgets `pool.close()` still exits.
 */

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LanePool, type LanePoolOptions } from '../runtime/lanes/pool.js';
import type { LaneHost, LanePort, LaneReply } from '../runtime/lanes/protocol.js';

/** The URL of tsx's ESM API (`tsx/esm/api`), which loads TypeScript modules on demand. */
function tsxApiUrl(): string {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (resolve) {
    try {
      return resolve('tsx/esm/api');
    } catch {
      // Some module runners (vitest) do not implement import.meta.resolve: fall through.
    }
  }
  // require() resolves the CommonJS build; its ESM twin sits beside it.
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
}

/**
 * How to start a lane worker. From a build, lane-worker.js runs as is. From TypeScript
 * sources, a small evaluated script imports lane-worker.ts through tsx's `tsImport` (a
 * worker's `--import tsx` does not reach its entry module in Node 20).
 */
function workerSource(): { source: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { source: new URL('./lane-worker.js', import.meta.url), eval: false };
  const entry = new URL('./lane-worker.ts', import.meta.url).href;
  const api = JSON.stringify(tsxApiUrl());
  const source =
    `import(${api}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ` +
    `${JSON.stringify(entry)}))`;
  return { source, eval: true };
}

function spawnNodeLane(): LanePort {
  const { source, eval: evaluate } = workerSource();
  const worker = new Worker(source, { eval: evaluate });
  let exited = false;
  let onExit: (error: Error) => void = () => {};
  worker.on('error', (error) => {
    exited = true;
    onExit(error);
  });
  worker.on('exit', (code) => {
    if (exited) return;
    exited = true;
    onExit(new Error(`the worker exited with code ${code}`));
  });
  return {
    postMessage: (message) => worker.postMessage(message),
    onMessage: (handler) => worker.on('message', (reply: LaneReply) => handler(reply)),
    onExit: (handler) => {
      onExit = handler;
    },
    setBusy: (busy) => (busy ? worker.ref() : worker.unref()),
    terminate: async () => {
      exited = true;
      await worker.terminate();
    },
  };
}

/** Lanes as worker_threads workers; the default lane count is the machine's core count. */
export const nodeLaneHost: LaneHost = {
  spawn: spawnNodeLane,
  cores: availableParallelism(),
};

/** Starts a pool of Node worker lanes (default: one per core). Close it with `pool.close()`. */
export function startNodeLanes(options: LanePoolOptions = {}): Promise<LanePool> {
  return LanePool.start(nodeLaneHost, options);
}
