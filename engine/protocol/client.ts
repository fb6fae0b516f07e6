/**
 * The UI side of the engine protocol, independent of how messages travel: `EngineClient` numbers
 * requests, matches answers to them by id, cancels a superseded graph check, and routes streamed
 * training progress to its listeners. A transport
 * carries the messages: a Web Worker in the app (renderer/engine/worker-client.ts), or a direct
 * call into the worker's request handler in tests (engine/worker/in-process.ts). Both sides
 * therefore run the same bookkeeping.
 */

import type {
  CellLog,
  CellRun,
  CsvUpload,
  DataPreview,
  DatasetName,
  DraftGraph,
  EngineRequest,
  ExportedFile,
  ExportTargetName,
  EngineResponse,
  GraphCheck,
  Lesson,
  OnnxImportSummary,
  OpInfo,
  TeachMove,
  TeachState,
  TensorData,
  TrainProgress,
  TrainSessionConfig,
} from './messages.js';

/** Options of `startTraining` beyond the graph, data set and config. */
export interface TrainStartOptions {
  readonly size?: number;
  readonly validateEvery?: number;
  readonly paused?: boolean;
  /** A weights file (safetensors) to start from instead of the seeded values. */
  readonly weights?: Uint8Array;
  /** Train on this uploaded CSV instead of the named data set. */
  readonly csv?: CsvUpload;
}

type TrainControl = 'train/pause' | 'train/resume' | 'train/step' | 'train/stop' | 'train/reset';

/** Carries requests to the engine and its answers back. */
export interface EngineTransport {
  post(request: EngineRequest): void;
  /** Calls `handler` with every answer until `close`. */
  listen(handler: (response: EngineResponse) => void): void;
  /** Called when the transport itself fails (the worker did not load …). */
  onFailure(handler: (message: string) => void): void;
  close(): void;
}

interface Pending {
  readonly resolve: (response: EngineResponse) => void;
  readonly reject: (error: Error) => void;
}

/** Answers that mean "no result": cancelled requests resolve with this instead of throwing. */
export const SUPERSEDED = null;

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The streamed output lines of running cells, by request id. */
  private readonly kernelLogListeners = new Map<
    number,
    (from: number, logs: readonly CellLog[]) => void
  >();
  private latestCheck: number | null = null;
  private failure: string | null = null;
  private readonly progressListeners = new Set<(progress: TrainProgress, id: number) => void>();

  constructor(private readonly transport: EngineTransport) {
    transport.listen((response) => this.receive(response));
    transport.onFailure((message) => this.fail(message));
  }

  /** Every op the engine knows, with ports, attribute specs, docs and a category. */
  async listOps(): Promise<readonly OpInfo[]> {
    const response = await this.request((id) => ({ type: 'listOps', id }));
    if (response.type !== 'listOps') throw this.unexpected(response, 'listOps');
    return response.ops;
  }

  /**
   * Shapes and diagnostics of a (possibly mid-edit) document. A later call supersedes this
   * one: if it has not been answered by then, it is cancelled and resolves with null.
   */
  async checkGraph(graph: DraftGraph): Promise<GraphCheck | null> {
    const previous = this.latestCheck;
    const response = await this.request((id) => {
      this.latestCheck = id;
      if (previous !== null) this.cancel(previous);
      return { type: 'checkGraph', id, graph };
    });
    if (response.type === 'cancelled') return SUPERSEDED;
    if (response.type !== 'checkGraph') throw this.unexpected(response, 'checkGraph');
    return response.result;
  }

  /** Records a lesson for the autodiff teacher; see the `teach/start` message. */
  async startTeaching(
    graph: DraftGraph,
    inputs: Readonly<Record<string, TensorData>>,
    root?: string,
  ): Promise<{ lesson: Lesson; state: TeachState }> {
    const response = await this.request((id) => ({
      type: 'teach/start',
      id,
      graph,
      inputs,
      ...(root !== undefined ? { root } : {}),
    }));
    if (response.type !== 'teach/started') throw this.unexpected(response, 'teach/start');
    return { lesson: response.lesson, state: response.state };
  }

  /** Moves the teacher one step (forward, backward, back, or play's next). */
  async teach(move: TeachMove): Promise<TeachState> {
    const response = await this.request((id) => ({ type: move, id }));
    if (response.type !== 'teach/state') throw this.unexpected(response, move);
    return response.state;
  }

  /** Makes a node current in the teacher. */
  async teachJump(node: string, phase?: 'forward' | 'backward'): Promise<TeachState> {
    const response = await this.request((id) => ({
      type: 'teach/jump',
      id,
      node,
      ...(phase !== undefined ? { phase } : {}),
    }));
    if (response.type !== 'teach/state') throw this.unexpected(response, 'teach/jump');
    return response.state;
  }

  /**
   * Starts a training session; progress then streams to `onTrainProgress` listeners. Resolves
   * with the session's id (its progress messages carry it) and its first progress.
   */
  async startTraining(
    graph: DraftGraph,
    dataset: DatasetName,
    config: TrainSessionConfig,
    options: TrainStartOptions = {},
  ): Promise<{ session: number; progress: TrainProgress }> {
    const response = await this.request((id) => ({
      type: 'train/start',
      id,
      graph,
      dataset,
      config,
      ...options,
    }));
    if (response.type !== 'train/status') throw this.unexpected(response, 'train/start');
    return { session: response.id, progress: response.progress };
  }

  /** Pauses, resumes, steps once, stops or resets the session; resolves with where it stands. */
  async controlTraining(control: TrainControl): Promise<TrainProgress> {
    const response = await this.request((id) => ({ type: control, id }));
    if (response.type !== 'train/status') throw this.unexpected(response, control);
    return response.progress;
  }

  /** Where the session stands, with a freshly computed decision boundary and confusion matrix. */
  async refreshTrainingViews(): Promise<TrainProgress> {
    const response = await this.request((id) => ({ type: 'train/views', id }));
    if (response.type !== 'train/status') throw this.unexpected(response, 'train/views');
    return response.progress;
  }

  /**
   * Class probabilities of the training session's model, with its current weights, for
   * `count` examples whose features are row-major in `inputs`.
   */
  async predict(
    inputs: Float32Array,
    count: number,
  ): Promise<{ classes: number; probabilities: Float32Array; reconstruction?: Float32Array }> {
    const response = await this.request((id) => ({ type: 'train/predict', id, inputs, count }));
    if (response.type !== 'train/prediction') throw this.unexpected(response, 'train/predict');
    return {
      classes: response.classes,
      probabilities: response.probabilities,
      ...(response.reconstruction ? { reconstruction: response.reconstruction } : {}),
    };
  }

  /**
   * Runs a notebook code cell in the kernel's shared scope; resolves with its outputs.
   * `onLogs` sees the output lines while the cell runs (lines from `from` on replaced).
   */
  async runCell(
    cell: number,
    source: string,
    onLogs?: (from: number, logs: readonly CellLog[]) => void,
  ): Promise<CellRun> {
    let requestId = -1;
    try {
      const response = await this.request((id) => {
        requestId = id;
        if (onLogs) this.kernelLogListeners.set(id, onLogs);
        return { type: 'kernel/run', id, cell, source };
      });
      if (response.type !== 'kernel/result') throw this.unexpected(response, 'kernel/run');
      return response.run;
    } finally {
      this.kernelLogListeners.delete(requestId);
    }
  }

  /** Forgets every name the kernel's cells defined. */
  async resetKernel(): Promise<void> {
    const response = await this.request((id) => ({ type: 'kernel/reset', id }));
    if (response.type !== 'kernel/reset') throw this.unexpected(response, 'kernel/reset');
  }

  /** Calls `listener` with each streamed training progress; returns the unsubscribe. */
  onTrainProgress(listener: (progress: TrainProgress, session: number) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  /**
   * Exports the graph as files (TypeScript, a PyTorch project or an ONNX model), with the
   * parameters' initial values or the training session's (`'trained'`).
   */
  async exportGraph(
    graph: DraftGraph,
    target: ExportTargetName,
    weights: 'initial' | 'trained' | Uint8Array = 'initial',
  ): Promise<{ files: readonly ExportedFile[]; warnings: readonly string[] }> {
    const response = await this.request((id) => ({
      type: 'export/graph',
      id,
      graph,
      target,
      weights,
    }));
    if (response.type !== 'export/files') throw this.unexpected(response, 'export/graph');
    return { files: response.files, warnings: response.warnings };
  }

  /**
   * Checks a weights file (safetensors) against `graph`: why it does not fit (null when it
   * does), the step it was saved at and the data set it was trained on ('' if unknown).
   */
  async checkWeights(
    graph: DraftGraph,
    bytes: Uint8Array,
  ): Promise<{ problem: string | null; step: number; dataset: string }> {
    const response = await this.request((id) => ({ type: 'weights/check', id, graph, bytes }));
    if (response.type !== 'weights/checked') throw this.unexpected(response, 'weights/check');
    return { problem: response.problem, step: response.step, dataset: response.dataset };
  }

  /**
   * The training session's weights for `graph` as a weights file (safetensors), marked as
   * saved at `step`. Rejects when there is no session or it trains another graph.
   */
  async saveWeights(graph: DraftGraph, step: number): Promise<Uint8Array> {
    const response = await this.request((id) => ({ type: 'weights/save', id, graph, step }));
    if (response.type !== 'weights/file') throw this.unexpected(response, 'weights/save');
    return response.bytes;
  }

  /** The graph document that GraphBuilder code builds, read without running it. */
  async graphFromCode(code: string): Promise<DraftGraph> {
    const response = await this.request((id) => ({ type: 'code/graph', id, code }));
    if (response.type !== 'code/graph') throw this.unexpected(response, 'code/graph');
    return response.graph;
  }

  /**
   * Imports an ONNX model's bytes as a graph document, with a report of what it made and its
   * weights as a weights file.
   */
  async importOnnx(
    bytes: Uint8Array,
    name: string,
  ): Promise<{ graph: DraftGraph; report: OnnxImportSummary; weights?: Uint8Array }> {
    const response = await this.request((id) => ({ type: 'import/onnx', id, bytes, name }));
    if (response.type !== 'import/graph') throw this.unexpected(response, 'import/onnx');
    const { graph, report, weights } = response;
    return weights ? { graph, report, weights } : { graph, report };
  }

  /** A preview of a built-in data set (first rows or images, class counts, shapes). */
  async previewDataset(dataset: DatasetName): Promise<DataPreview> {
    const response = await this.request((id) => ({ type: 'data/preview', id, dataset }));
    if (response.type !== 'data/preview') throw this.unexpected(response, 'data/preview');
    return response.preview;
  }

  /** Parses a CSV file's text in the engine and previews it; rejects with the loader's error. */
  async previewCsv(name: string, text: string, target?: string): Promise<DataPreview> {
    const response = await this.request((id) => ({
      type: 'data/csv',
      id,
      name,
      text,
      ...(target !== undefined ? { target } : {}),
    }));
    if (response.type !== 'data/preview') throw this.unexpected(response, 'data/csv');
    return response.preview;
  }

  /** Requests still waiting for an answer (for tests and the status bar). */
  get pendingCount(): number {
    return this.pending.size;
  }

  close(): void {
    this.fail('the engine client was closed');
    this.transport.close();
  }

  private request(make: (id: number) => EngineRequest): Promise<EngineResponse> {
    if (this.failure !== null) return Promise.reject(new Error(this.failure));
    const id = this.nextId++;
    const promise = new Promise<EngineResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.transport.post(make(id));
    return promise;
  }

  /** Resolves the request as cancelled at once and tells the engine to drop it. */
  private cancel(id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    pending.resolve({ type: 'cancelled', id });
    this.transport.post({ type: 'cancel', id });
  }

  private receive(response: EngineResponse): void {
    if (response.type === 'kernel/logs') {
      this.kernelLogListeners.get(response.id)?.(response.from, response.logs);
      return;
    }
    if (response.type === 'train/progress') {
      for (const listener of this.progressListeners) listener(response.progress, response.id);
      return;
    }
    const pending = this.pending.get(response.id);
    if (!pending) return; // answered already (cancelled on this side)
    this.pending.delete(response.id);
    if (this.latestCheck === response.id) this.latestCheck = null;
    if (response.type === 'failed') pending.reject(new Error(`engine: ${response.message}`));
    else pending.resolve(response);
  }

  private fail(message: string): void {
    this.failure = message;
    for (const { reject } of this.pending.values()) reject(new Error(message));
    this.pending.clear();
  }

  private unexpected(response: EngineResponse, expected: string): Error {
    return new Error(`engine answered '${response.type}' to a '${expected}' request`);
  }
}
