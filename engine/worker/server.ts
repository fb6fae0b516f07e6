/**
 * The engine side of the protocol, independent of how messages travel: `createEngineServer`
 * takes requests and answers through `reply`. Quick requests (`listOps`) are answered at once.
 * Graph checks are queued and run on a later task, so that a newer check or a `cancel` that
 * arrives meanwhile drops the older one (answered `cancelled`) instead of making the UI wait
 * for a result it no longer wants. worker/main.ts connects it to a Web Worker's messages;
 * in-process.ts connects it directly to an `EngineClient` for tests.
 */

import type { EngineRequest, EngineResponse } from '../protocol/messages.js';
import { checkDraftGraph } from './check-graph.js';
import { describeOps } from './op-catalog.js';

export interface EngineServer {
  receive(request: EngineRequest): void;
}

/** Runs `task` on a later task (after messages already queued are delivered). */
export type Schedule = (task: () => void) => void;

const laterTask: Schedule = (task) => void setTimeout(task, 0);

export function createEngineServer(
  reply: (response: EngineResponse) => void,
  schedule: Schedule = laterTask,
): EngineServer {
  /** The one graph check waiting to run; a newer one replaces it. */
  let queuedCheck: Extract<EngineRequest, { type: 'checkGraph' }> | null = null;

  const fail = (id: number, error: unknown): void =>
    reply({
      type: 'failed',
      id,
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });

  const runQueuedCheck = (): void => {
    const request = queuedCheck;
    queuedCheck = null;
    if (!request) return; // cancelled or superseded while waiting
    try {
      reply({ type: 'checkGraph', id: request.id, result: checkDraftGraph(request.graph) });
    } catch (error) {
      fail(request.id, error);
    }
  };

  return {
    receive(request) {
      switch (request.type) {
        case 'listOps':
          try {
            reply({ type: 'listOps', id: request.id, ops: describeOps() });
          } catch (error) {
            fail(request.id, error);
          }
          return;
        case 'checkGraph':
          if (queuedCheck) reply({ type: 'cancelled', id: queuedCheck.id });
          queuedCheck = request;
          schedule(runQueuedCheck);
          return;
        case 'cancel':
          if (queuedCheck?.id === request.id) {
            queuedCheck = null;
            reply({ type: 'cancelled', id: request.id });
          }
          return;
        default:
          request satisfies never;
      }
    },
  };
}
