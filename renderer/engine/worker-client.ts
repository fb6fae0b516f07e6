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
    close: () => worker.terminate(),
  };
  return new EngineClient(transport);
}
