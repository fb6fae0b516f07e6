/**
 * Connects an engine server to the worker it runs in, and ends it cleanly. Besides the engine
 * protocol's requests, the worker takes one message of its own, `{ type: 'worker/close' }`:
 * the server stops training and closes its CPU lanes, the worker answers
 * `{ type: 'worker/closed' }` and then ends itself. A host that posts it before terminating the
 * worker (waiting for the answer, or a short time) leaves no lane worker behind; a browser
 * also ends a terminated worker's lanes with it, but only a close frees them in an order
 * where no kernel still runs. The scope is an interface, so a Web Worker (main.ts), a Node
 * worker thread and tests use the same code.
 */

import type { EngineRequest, EngineResponse } from '../protocol/messages.js';
import { type EngineServer, createEngineServer } from './server.js';

/** Asks the engine worker to close (see the file comment). */
export interface WorkerCloseRequest {
  readonly type: 'worker/close';
}

/** The engine worker's answer once it has closed its lanes; it ends right after. */
export interface WorkerClosed {
  readonly type: 'worker/closed';
}

/** The side of a worker that the engine worker's code sees. */
export interface EngineWorkerScope {
  postMessage(message: EngineResponse | WorkerClosed): void;
  /** Registers the one handler of the messages the worker receives. */
  onMessage(handler: (message: EngineRequest | WorkerCloseRequest) => void): void;
  /** Ends the worker. */
  close(): void;
}

/**
 * Serves the engine protocol on `scope` until a `worker/close` message, then closes the
 * server, answers `worker/closed` and closes the scope. Requests arriving while it closes are
 * dropped. Returns the server (for hosts that close it another way).
 */
export function serveEngineWorker(
  scope: EngineWorkerScope,
  server: EngineServer = createEngineServer((response) => scope.postMessage(response)),
): EngineServer {
  let closing = false;
  scope.onMessage((message) => {
    if (closing) return;
    if (message.type !== 'worker/close') return server.receive(message);
    closing = true;
    const done = (): void => {
      scope.postMessage({ type: 'worker/closed' });
      scope.close();
    };
    // Closing never fails the worker: whatever went wrong, it still ends.
    server.close().then(done, done);
  });
  return server;
}
