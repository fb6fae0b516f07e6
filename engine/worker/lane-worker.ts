/**
 * The browser entry of a CPU lane: a module Web Worker serving lane requests from the engine
 * worker that started it (see engine/runtime/lanes/lane.ts). Bundle it as lane-worker.js next
 * to engine-worker.js; engine/worker/lanes.ts starts it.
 */

import type { LaneRequest } from '../runtime/lanes/protocol.js';
import { serveLane } from '../runtime/lanes/lane.js';

declare const self: DedicatedWorkerGlobalScope;

serveLane({
  postMessage: (reply) => self.postMessage(reply),
  onMessage: (handler) =>
    self.addEventListener('message', (event: MessageEvent<LaneRequest>) => handler(event.data)),
  close: () => self.close(),
});
