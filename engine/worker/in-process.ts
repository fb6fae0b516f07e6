/**
 * An `EngineClient` whose engine runs in the same thread: the worker's request handler called
 * directly, with every message structured-cloned and delivered on a later task as postMessage
 * would. Unit tests of the UI state (and Node tools) use it where no Worker exists; it runs the
 * same protocol code as the app, so they test what the app does.
 */

import { EngineClient, type EngineTransport } from '../protocol/client.js';
import type { EngineRequest, EngineResponse } from '../protocol/messages.js';
import { createEngineServer } from './server.js';

export function createInProcessEngineClient(): EngineClient {
  let closed = false;
  let listener: ((response: EngineResponse) => void) | null = null;
  const server = createEngineServer((response) => {
    const copy = structuredClone(response);
    setTimeout(() => {
      if (!closed) listener?.(copy);
    }, 0);
  });
  const transport: EngineTransport = {
    post(request: EngineRequest) {
      const copy = structuredClone(request);
      setTimeout(() => {
        if (!closed) server.receive(copy);
      }, 0);
    },
    listen(handler) {
      listener = handler;
    },
    onFailure() {
      // Nothing can fail in between: there is no worker to crash or fail to load.
    },
    close() {
      closed = true;
      // Stops training and closes the CPU lanes it started, as the worker does on close.
      server.close().catch((error: unknown) => console.warn('Closing the engine failed:', error));
    },
  };
  return new EngineClient(transport);
}
