/**
 * The engine side of the protocol, independent of how messages travel: `createEngineServer`
 * takes requests and answers through `reply`. Quick requests (`listOps`) are answered at once.
 * Graph checks are queued and run on a later task, so that a newer check or a `cancel` that
 * arrives meanwhile drops the older one (answered `cancelled`) instead of making the UI wait
 * for a result it no longer wants. The autodiff teacher (`teach/*`) and one training session
 * (`train/*`, run in chunks on later tasks, streaming `train/progress`) live here too.
 * worker/main.ts connects it to a Web Worker's messages;
 * in-process.ts connects it directly to an `EngineClient` for tests.
 */

import { DTYPES, isDType } from '../core/dtype.js';
import { Graph } from '../graph/graph.js';
import { tensor } from '../ops/creation.js';
import type { EngineRequest, EngineResponse, TensorData } from '../protocol/messages.js';
import { dispose } from '../runtime/scope.js';
import { Teacher } from '../teach/teacher.js';
import type { Tensor } from '../tensor.js';
import { checkDraftGraph } from './check-graph.js';
import { describeOps } from './op-catalog.js';
import { TrainRunner, TrainSession } from './train-session.js';

export interface EngineServer {
  receive(request: EngineRequest): void;
}

/** Runs `task` on a later task (after messages already queued are delivered). */
export type Schedule = (task: () => void) => void;

const laterTask: Schedule = (task) => void setTimeout(task, 0);

function tensorFrom(key: string, data: TensorData): Tensor {
  if (!isDType(data.dtype))
    throw new Error(`input '${key}': unknown dtype '${data.dtype}'; use ${DTYPES.join(', ')}`);
  return tensor(Float64Array.from(data.values), { shape: [...data.shape], dtype: data.dtype });
}

export function createEngineServer(
  reply: (response: EngineResponse) => void,
  schedule: Schedule = laterTask,
): EngineServer {
  /** The one graph check waiting to run; a newer one replaces it. */
  let queuedCheck: Extract<EngineRequest, { type: 'checkGraph' }> | null = null;
  let teacher: Teacher | null = null;
  let training: { readonly id: number; readonly runner: TrainRunner } | null = null;

  const needTeacher = (): Teacher => {
    if (!teacher) throw new Error('no lesson: send teach/start with a graph first');
    return teacher;
  };
  const needTraining = (): TrainRunner => {
    if (!training) throw new Error('no training session: send train/start first');
    return training.runner;
  };

  const startTeaching = (request: Extract<EngineRequest, { type: 'teach/start' }>): void => {
    const inputs: Record<string, Tensor> = {};
    try {
      for (const [key, data] of Object.entries(request.inputs)) inputs[key] = tensorFrom(key, data);
      const graph = Graph.fromJSON(request.graph);
      teacher = Teacher.fromGraph(
        graph,
        inputs,
        request.root !== undefined ? { root: request.root } : {},
      );
    } finally {
      dispose(Object.values(inputs));
    }
    reply({
      type: 'teach/started',
      id: request.id,
      lesson: teacher.lesson,
      state: teacher.state(),
    });
  };

  const startTraining = (request: Extract<EngineRequest, { type: 'train/start' }>): void => {
    training?.runner.stop();
    training = null;
    const session = new TrainSession(request.graph, request.dataset, request.config, {
      ...(request.size !== undefined ? { size: request.size } : {}),
      ...(request.validateEvery !== undefined ? { validateEvery: request.validateEvery } : {}),
    });
    const id = request.id;
    const runner = new TrainRunner(
      session,
      (progress) => {
        if (training?.runner === runner) reply({ type: 'train/progress', id, progress });
      },
      schedule,
    );
    training = { id, runner };
    reply({ type: 'train/status', id, progress: runner.progress() });
    if (!request.paused) runner.play();
  };

  type SessionRequest = Exclude<EngineRequest, { type: 'listOps' | 'checkGraph' | 'cancel' }>;
  const handle = (request: SessionRequest): void => {
    switch (request.type) {
      case 'teach/start':
        return startTeaching(request);
      case 'teach/forward':
        return reply({ type: 'teach/state', id: request.id, state: needTeacher().stepForward() });
      case 'teach/backward':
        return reply({ type: 'teach/state', id: request.id, state: needTeacher().stepBackward() });
      case 'teach/back':
        return reply({ type: 'teach/state', id: request.id, state: needTeacher().stepBack() });
      case 'teach/next':
        return reply({ type: 'teach/state', id: request.id, state: needTeacher().next() });
      case 'teach/jump':
        return reply({
          type: 'teach/state',
          id: request.id,
          state: needTeacher().jumpTo(request.node, request.phase),
        });
      case 'train/start':
        return startTraining(request);
      case 'train/pause':
        needTraining().pause();
        break;
      case 'train/resume':
        needTraining().play();
        break;
      case 'train/step':
        needTraining().stepOnce();
        break;
      case 'train/stop':
        needTraining().stop();
        break;
      case 'train/reset':
        needTraining().reset();
        break;
      default:
        return request satisfies never;
    }
    reply({ type: 'train/status', id: request.id, progress: needTraining().progress() });
  };

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
          try {
            handle(request);
          } catch (error) {
            fail(request.id, error);
          }
      }
    },
  };
}
