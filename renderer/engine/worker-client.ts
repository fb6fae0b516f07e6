/**
 * Starts the engine worker (engine-worker.js, bundled from engine/worker/main.ts next to this
 * page's main.js) and wraps it in an `EngineClient`. This is the renderer's only way to the
 * engine: it sends documents and gets shapes and diagnostics back; it never runs engine code.
 */

import { EngineClient, type EngineTransport } from '../../engine/protocol/client.js';
import type { EngineRequest, EngineResponse } from '../../engine/protocol/messages.js';

export function startEngineWorker(
  url = new URL('./engine-worker.js', import.meta.url),
): EngineClient {
  const worker = new Worker(url, { type: 'module', name: 'wiregrad-engine' });
  const transport: EngineTransport = {
    post: (request: EngineRequest) => worker.postMessage(request),
    listen(handler) {
      worker.addEventListener('message', (event: MessageEvent<EngineResponse>) =>
        handler(event.data),
      );
    },
    onFailure(handler) {
      worker.addEventListener('error', (event) =>
        handler(`the engine worker failed: ${event.message || 'it could not be loaded'}`),
      );
      worker.addEventListener('messageerror', () =>
        handler('the engine worker sent a message that could not be read'),
      );
    },
    close: () => closeWorker(worker),
  };
  return new EngineClient(transport);
}

/** What `closeWorker` uses of a Worker. */
export type ClosableWorker = Pick<Worker, 'postMessage' | 'terminate' | 'addEventListener'>;

/**
 * Asks the engine worker to close (it stops training after the step in flight and closes its
 * CPU lanes, which then finish their kernels), and terminates it once it says it has, or after
 * `graceMs` if it does not answer.
 */
export function closeWorker(worker: ClosableWorker, graceMs = 2000): void {
  const timer = setTimeout(() => worker.terminate(), graceMs);
  worker.addEventListener('message', (event: MessageEvent<{ type?: unknown }>) => {
    if (event.data?.type !== 'worker/closed') return;
    clearTimeout(timer);
    worker.terminate();
  });
  worker.postMessage({ type: 'worker/close' });
}
