/**
 * The Node entry of a CPU lane: a worker_threads worker serving lane requests from its parent
 * (see engine/runtime/lanes/lane.ts). Started by engine/node/lanes.ts.
 */

import { parentPort } from 'node:worker_threads';
import type { LaneReply, LaneRequest } from '../runtime/lanes/protocol.js';
import { serveLane } from '../runtime/lanes/lane.js';

const port = parentPort;
if (!port) throw new Error('lane-worker.ts runs as a worker_threads worker, not on its own');

serveLane({
  postMessage: (reply: LaneReply) => port.postMessage(reply),
  onMessage: (handler) => port.on('message', (request: LaneRequest) => handler(request)),
  close: () => port.close(),
});
