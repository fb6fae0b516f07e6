/**
 * CPU lanes in a browser (or Electron's renderer): a `LaneHost` whose lanes are module Web
 * Workers running lane-worker.js, and `startBrowserLanes`, which starts a pool of them from
 * the engine worker. Lanes share the CPU heap through shared WebAssembly memory, which a
 * browser allows only on a cross-origin isolated page (COOP and COEP headers); elsewhere
 * `LanePool.start` says so and the executor runs without lanes.
 */

import { LanePool, type LanePoolOptions } from '../runtime/lanes/pool.js';
import type { LaneHost, LanePort, LaneReply } from '../runtime/lanes/protocol.js';

/** The default lane script: lane-worker.js beside the bundle that contains this module. */
const DEFAULT_URL = new URL('./lane-worker.js', import.meta.url);

/** Lanes as module Web Workers loading `url`; the default lane count is the core count. */
export function browserLaneHost(url: string | URL = DEFAULT_URL): LaneHost {
  return {
    cores: Math.max(1, navigator.hardwareConcurrency || 1),
    spawn(): LanePort {
      const worker = new Worker(url, { type: 'module', name: 'wiregrad-lane' });
      let exited = false;
      let onExit: (error: Error) => void = () => {};
      const die = (message: string) => {
        if (exited) return;
        exited = true;
        onExit(new Error(message));
      };
      worker.addEventListener('error', (event) => die(event.message || 'the worker failed'));
      worker.addEventListener('messageerror', () => die('a message could not be read'));
      return {
        postMessage: (message) => worker.postMessage(message),
        onMessage: (handler) =>
          worker.addEventListener('message', (event: MessageEvent<LaneReply>) =>
            handler(event.data),
          ),
        onExit: (handler) => {
          onExit = handler;
        },
        terminate: () => {
          exited = true;
          worker.terminate();
          return Promise.resolve();
        },
      };
    },
  };
}

/** Starts a pool of Web Worker lanes (default: one per core). Close it with `pool.close()`. */
export function startBrowserLanes(
  options: LanePoolOptions & { readonly url?: string | URL } = {},
): Promise<LanePool> {
  return LanePool.start(browserLaneHost(options.url), options);
}
