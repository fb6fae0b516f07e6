/**
 * Entry of the engine's module worker (bundled as engine-worker.js next to the renderer's
 * main.js): loads the engine and answers the UI's protocol requests (engine/protocol) through
 * `createEngineServer`. The UI thread never runs shape inference or kernels itself.
 */

import '../index.js';
import type { EngineRequest } from '../protocol/messages.js';
import { createEngineServer } from './server.js';

declare const self: DedicatedWorkerGlobalScope;

const server = createEngineServer((response) => self.postMessage(response));

self.addEventListener('message', (event: MessageEvent<EngineRequest>) => {
  server.receive(event.data);
});
