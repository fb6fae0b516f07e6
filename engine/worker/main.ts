/**
 * Entry of the engine's module worker (bundled as engine-worker.js next to the renderer's
 * main.js): loads the engine and answers the UI's protocol requests (engine/protocol) through
 * `createEngineServer`. The UI thread never runs shape inference or kernels itself. Posting
 * `{ type: 'worker/close' }` ends the worker after it has closed its CPU lanes
 * (worker-scope.ts).
 */

import '../index.js';
import type { EngineRequest } from '../protocol/messages.js';
import { type WorkerCloseRequest, serveEngineWorker } from './worker-scope.js';

declare const self: DedicatedWorkerGlobalScope;

serveEngineWorker({
  postMessage: (message) => self.postMessage(message),
  onMessage: (handler) =>
    self.addEventListener('message', (event: MessageEvent<EngineRequest | WorkerCloseRequest>) =>
      handler(event.data),
    ),
  close: () => self.close(),
});
