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

import { WiregradError } from '../core/errors.js';
import { DTYPES, isDType } from '../core/dtype.js';
import type { GraphJSON } from '../graph/ir.js';
import type { ClassificationSet } from '../data/synthetic.js';
import { Graph } from '../graph/graph.js';
import { importTypeScript } from '../export/typescript-import.js';
import { tensor } from '../ops/creation.js';
import type {
  CellLog,
  CsvUpload,
  EngineRequest,
  EngineResponse,
  TensorData,
} from '../protocol/messages.js';
import { dispose } from '../runtime/scope.js';
import { Teacher } from '../teach/teacher.js';
import {
  decodeWeights,
  describeProblems,
  encodeWeights,
  weightsInfo,
  weightsProblems,
} from '../train/weights-file.js';
import type { Tensor } from '../tensor.js';
import { checkDraftGraph } from './check-graph.js';
import { csvTrainingSets } from './csv-training.js';
import {
  type AssetLoader,
  DIGITS_FILE,
  type Digits,
  digitSets,
  fetchAsset,
  parseDigits,
} from './digits.js';
import { Kernel } from './kernel.js';
import { describeOps } from './op-catalog.js';
import { modelIO } from './predict.js';
import { type TargetScale, dataShapeOf } from './training-task.js';
import { TrainRunner, TrainSession, makeDataset } from './train-session.js';
import { closeWorkerLanes } from './lane-training.js';
import { prepareTrainingDevices, wantsWebGPU, webgpuPins } from './training-device.js';
import { parseCsv } from '../data/csv-table.js';
import { previewClassificationSet, previewCsvTable, previewImageSet } from '../data/preview.js';
import {
  type DocumentImport,
  exportDocument,
  importOnnxDocument,
  matchingParams,
} from '../export/documents.js';

/** Points a session trains on by default (what a data preview shows). */
const DEFAULT_TRAIN_SIZE = 300;

export interface EngineServer {
  receive(request: EngineRequest): void;
  /**
   * Ends the server's work before its worker goes: stops training (after the step in flight),
   * forgets the notebook kernel's names and closes this worker's CPU lanes.
   */
  close(): Promise<void>;
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
  options: {
    /** Reads files that ship with the app (the MNIST digits); fetches next to the worker by default. */
    readonly loadAsset?: AssetLoader;
  } = {},
): EngineServer {
  /** The one graph check waiting to run; a newer one replaces it. */
  let queuedCheck: Extract<EngineRequest, { type: 'checkGraph' }> | null = null;
  let teacher: Teacher | null = null;
  /** The notebook kernel, made on the first cell run. */
  let kernel: Kernel | null = null;
  let training: {
    readonly id: number;
    readonly runner: TrainRunner;
    /** What it trains on: a data set's name, or `csv:<file>`. */
    readonly data: string;
  } | null = null;

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

  /** The MNIST digits, fetched once; a failed fetch is tried again on the next start. */
  let digits: Promise<Digits> | null = null;
  const loadDigits = (): Promise<Digits> => {
    const loading = (digits ??= (options.loadAsset ?? fetchAsset)(DIGITS_FILE).then(parseDigits));
    loading.catch(() => {
      if (digits === loading) digits = null;
    });
    return loading;
  };
  /** Answers a failure with its message alone (these are the user's errors, not engine bugs). */
  const refuse = (id: number, error: unknown): void =>
    reply({ type: 'failed', id, message: error instanceof Error ? error.message : String(error) });

  /** Starts a session on the digits once they are loaded (the answer comes later). */
  const startDigitsTraining = (request: Extract<EngineRequest, { type: 'train/start' }>): void => {
    loadDigits()
      .then((loaded) => {
        // A model without a label input (an autoencoder) reads the digits too.
        const graph = Graph.fromJSON(request.graph);
        const sets = digitSets(loaded, dataShapeOf(graph) ?? modelIO(graph).dataShape);
        try {
          startTraining(request, sets);
        } catch (error) {
          dispose([sets.train.x, sets.train.y, sets.validation.x, sets.validation.y]);
          throw error;
        }
      })
      .catch((error: unknown) => refuse(request.id, error));
  };

  const startCsvTraining = (
    request: Extract<EngineRequest, { type: 'train/start' }>,
    csv: CsvUpload,
  ): void => {
    let sets: ReturnType<typeof csvTrainingSets>;
    try {
      sets = csvTrainingSets(request.graph, csv, request.config.seed);
    } catch (error) {
      return refuse(request.id, error);
    }
    try {
      startTraining(request, sets);
    } catch (error) {
      dispose([sets.train.x, sets.train.y, sets.validation.x, sets.validation.y]);
      refuse(request.id, error);
    }
  };

  const startTraining = (
    request: Extract<EngineRequest, { type: 'train/start' }>,
    data?: {
      readonly train: ClassificationSet;
      readonly validation: ClassificationSet;
      /** A CSV regression's target scale (csv-training.ts), for metrics in its units. */
      readonly targetScale?: TargetScale;
    },
  ): void => {
    // Read before the running session stops: a file that does not fit changes nothing.
    const weights = request.weights ? decodeWeights(request.graph, request.weights).values : null;
    training?.runner.stop();
    training = null;
    let session: TrainSession;
    try {
      session = new TrainSession(request.graph, request.dataset, request.config, {
        ...(data !== undefined ? { data } : {}),
        ...(request.size !== undefined ? { size: request.size } : {}),
        ...(request.validateEvery !== undefined ? { validateEvery: request.validateEvery } : {}),
        ...(weights ? { weights } : {}),
      });
    } catch (error) {
      if (weights) dispose([...weights.values()]);
      throw error;
    }
    const id = request.id;
    const runner = new TrainRunner(
      session,
      (progress) => {
        if (training?.runner === runner) reply({ type: 'train/progress', id, progress });
      },
      schedule,
    );
    training = {
      id,
      runner,
      data: request.csv ? `csv:${request.csv.name}` : request.dataset,
    };
    reply({ type: 'train/status', id, progress: runner.progress() });
    if (!request.paused) runner.play();
  };

  /** The training session's weights, if it trains this graph (same parameters and shapes). */
  const trainedWeights = (graph: GraphJSON): ReadonlyMap<string, Tensor> => {
    if (!training)
      throw new Error('there are no trained weights yet: train the model in the Train tab first');
    return matchingParams(graph, training.runner.session.params);
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
      case 'kernel/run': {
        const id = request.id;
        kernel ??= new Kernel();
        const streamLogs = (from: number, logs: readonly CellLog[]): void =>
          reply({ type: 'kernel/logs', id, from, logs });
        void kernel.run(request.cell, request.source, streamLogs).then(
          (run) => reply({ type: 'kernel/result', id, run }),
          (error: unknown) => fail(id, error),
        );
        return;
      }
      case 'kernel/reset':
        kernel?.reset();
        kernel = null;
        return reply({ type: 'kernel/reset', id: request.id });
      case 'train/start': {
        const start = (): void =>
          request.csv
            ? startCsvTraining(request, request.csv)
            : request.dataset === 'mnist'
              ? startDigitsTraining(request)
              : startTraining(request);
        // WebGPU starts in this worker when first asked for (asynchronously, within a limit).
        const policy = request.config.device ?? 'cpu';
        const pins = webgpuPins(request.graph);
        if (!wantsWebGPU(policy, pins)) return start();
        void prepareTrainingDevices(policy, pins)
          .then(start)
          .catch((error: unknown) => fail(request.id, error));
        return;
      }
      case 'train/views':
        needTraining().session.learned.force();
        break;
      case 'weights/check': {
        let problems: string[];
        let info = { step: 0, dataset: '' };
        try {
          problems = weightsProblems(request.graph, request.bytes);
          if (problems.length === 0) info = weightsInfo(request.bytes);
        } catch (error) {
          return refuse(request.id, error);
        }
        return reply({
          type: 'weights/checked',
          id: request.id,
          problem: problems.length > 0 ? describeProblems(problems) : null,
          step: info.step,
          dataset: info.dataset,
        });
      }
      case 'weights/save': {
        let params: ReadonlyMap<string, Tensor>;
        try {
          params = trainedWeights(request.graph);
        } catch (error) {
          return refuse(request.id, error);
        }
        const dataset = training?.data ?? '';
        encodeWeights(request.graph, params, { step: request.step, dataset })
          .then((bytes) => reply({ type: 'weights/file', id: request.id, bytes }))
          .catch((error: unknown) => refuse(request.id, error));
        return;
      }
      case 'code/graph': {
        let graph: Graph;
        try {
          graph = importTypeScript(request.code);
        } catch (error) {
          return refuse(request.id, error);
        }
        return reply({ type: 'code/graph', id: request.id, graph: graph.toJSON() });
      }
      case 'export/graph': {
        let weights: ReadonlyMap<string, Tensor> | undefined;
        /** Values decoded from a weights file, freed after the export. */
        let decoded: Tensor[] = [];
        try {
          if (request.weights instanceof Uint8Array) {
            weights = decodeWeights(request.graph, request.weights).values;
            decoded = [...weights.values()];
          } else if (request.weights === 'trained') weights = trainedWeights(request.graph);
        } catch (error) {
          return refuse(request.id, error);
        }
        exportDocument(request.graph, request.target, weights)
          .then(({ files, warnings }) =>
            reply({ type: 'export/files', id: request.id, files, warnings }),
          )
          .catch((error: unknown) => refuse(request.id, error))
          .finally(() => dispose(decoded));
        return;
      }
      case 'import/onnx': {
        let imported: DocumentImport;
        try {
          imported = importOnnxDocument(request.bytes, request.name);
        } catch (error) {
          return refuse(request.id, error);
        }
        return reply({ type: 'import/graph', id: request.id, ...imported });
      }
      case 'data/preview':
        if (request.dataset === 'mnist') {
          loadDigits()
            .then((loaded) => {
              const { rows, cols, train } = loaded;
              const set = { ...train, name: 'mnist', width: cols, height: rows, channels: 1 };
              const preview = previewImageSet({
                ...set,
                classes: Array.from({ length: 10 }, (_, c) => String(c)),
                exampleShape: [1, rows, cols],
              });
              reply({ type: 'data/preview', id: request.id, preview });
            })
            .catch((error: unknown) => refuse(request.id, error));
          return;
        }
        try {
          const set = makeDataset(request.dataset, DEFAULT_TRAIN_SIZE, 0);
          try {
            const preview = previewClassificationSet(request.dataset, set);
            return reply({ type: 'data/preview', id: request.id, preview });
          } finally {
            dispose([set.x, set.y]);
          }
        } catch (error) {
          return refuse(request.id, error);
        }
      case 'data/csv':
        try {
          const table = parseCsv(request.text, {
            source: request.name,
            ...(request.target !== undefined ? { target: request.target } : {}),
          });
          return reply({ type: 'data/preview', id: request.id, preview: previewCsvTable(table) });
        } catch (error) {
          return refuse(request.id, error);
        }
      case 'train/predict': {
        let answer: { probabilities: Float32Array; classes: number; reconstruction?: Float32Array };
        try {
          answer = needTraining().session.learned.predict(request.inputs, request.count);
        } catch (error) {
          return refuse(request.id, error);
        }
        return reply({ type: 'train/prediction', id: request.id, ...answer });
      }
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
    reply({ type: 'failed', id, message: failureMessage(error) });

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
    async close() {
      const runner = training?.runner;
      training = null;
      runner?.stop();
      await runner?.session.idle();
      kernel?.reset();
      kernel = null;
      await closeWorkerLanes();
    },
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

/**
 * What a failed request says to the person who made it: the engine's own errors as they are
 * (they are written for people); anything else by its kind and message, never a stack trace.
 * Unexpected errors also go to the console with their stack, for a bug report.
 */
export function failureMessage(error: unknown): string {
  if (error instanceof WiregradError) return error.message;
  if (!(error instanceof Error)) return String(error);
  console.error(error);
  return `${error.name}: ${error.message}`;
}
