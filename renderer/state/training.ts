/**
 * The app's side of a training session: the Train panel's form, where the session stands, the
 * loss and accuracy history for the chart, and each graph edge's gradient norm, in one zustand
 * store per editor (like the editor's own stores). `Training` drives the engine worker through
 * `EngineClient` (`train/start|pause|resume|step|stop|reset`) and folds the streamed
 * `train/progress` messages into the store on an animation frame (the scheduler given) at most
 * every 100 ms, so a burst of messages costs one render. The model trained is the current document,
 * which must be a training graph: `trainingProblem` says in words why one is not.
 */

import { type StoreApi, createStore } from 'zustand/vanilla';
import type { EngineClient } from '../../engine/protocol/client.js';
import type {
  ConfusionMatrix,
  CsvUpload,
  DatasetName,
  DecisionBoundary,
  RegressionCurve,
  TimelineEntry,
  TrainProgress,
  TrainSessionConfig,
  TrainTask,
} from '../../engine/protocol/messages.js';
import type { EditorDocument } from './document.js';
import type { EdgeMode } from '../train/view-history.js';
import {
  EMPTY_VIEWS,
  type TrainingViews,
  clearedViews,
  foldProgress,
  scrubViews,
  setEdgeMode,
} from '../train/views-state.js';

export const DATASET_NAMES: readonly DatasetName[] = [
  'spiral',
  'moons',
  'circles',
  'xor',
  'gaussians',
  'sine',
  'mnist',
];

/** A built-in data set's name in the data set menus, with what kind of set it is. */
export function datasetLabel(name: DatasetName): string {
  if (name === 'mnist') return 'mnist digits';
  if (name === 'sine') return 'sine (regression)';
  return name;
}
export const OPTIMIZERS: readonly TrainSessionConfig['optimizer'][] = ['adam', 'adamw', 'sgd'];
export type DevicePolicy = 'cpu' | 'webgpu' | 'auto';

export interface TrainForm {
  readonly dataset: DatasetName;
  readonly optimizer: TrainSessionConfig['optimizer'];
  readonly lr: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly device: DevicePolicy;
  /** CPU lanes for the CPU step: 'auto' (one per core where the page shares memory) or a count. */
  readonly lanes?: number | 'auto';
  /** A CSV file uploaded in the Data tab (kept in the notebook: renderer/files/data-entry.ts). */
  readonly csv?: CsvUpload;
  /** Train on `dataset` ('builtin', the default) or on the uploaded `csv`. */
  readonly source?: 'builtin' | 'csv';
}

/** The uploaded CSV when the form trains on it, else null. */
export function formCsv(form: TrainForm): CsvUpload | null {
  return form.source === 'csv' && form.csv ? form.csv : null;
}

export const DEFAULT_FORM: TrainForm = {
  dataset: 'spiral',
  optimizer: 'adam',
  lr: 0.01,
  batchSize: 32,
  epochs: 60,
  device: 'cpu',
};

/** One point of the chart: a step and its loss and accuracy. */
export interface MetricPoint {
  readonly step: number;
  readonly loss: number;
  readonly accuracy: number;
}

export interface TrainingState {
  readonly form: TrainForm;
  /** The latest progress of the current session (null before the first start). */
  readonly progress: TrainProgress | null;
  /** Training-batch metrics, one point per progress message (thinned past MAX_POINTS). */
  readonly train: readonly MetricPoint[];
  readonly validation: readonly MetricPoint[];
  /** Gradient norm per graph edge, keyed by `edgeKey(to, port)`; null where none flows. */
  readonly grads: ReadonlyMap<string, number | null>;
  /**
   * The last step's timeline as drawn: refreshed at most every TIMELINE_MS while training
   * runs (it changes little from step to step, and redrawing a few hundred bars is the
   * costliest part of an update), at once otherwise.
   */
  readonly timeline: readonly TimelineEntry[];
  /** The canvas node to highlight (hovered in the timeline), or null. */
  readonly highlight: string | null;
  /** Why the last request failed, or why training stopped. */
  readonly error: string | null;
  /** The inspection views: edge and histogram histories, the scrubber, the edge mode. */
  readonly views: TrainingViews;
  /** The latest decision boundary (2-D data sets), or null before one. */
  readonly boundary: DecisionBoundary | null;
  /** The latest fitted curve (1-D regressions), or null before one. */
  readonly curve: RegressionCurve | null;
  /** The latest confusion matrix on the validation split, or null before one. */
  readonly confusion: ConfusionMatrix | null;
  /**
   * Weights loaded from a file (a notebook's `.safetensors`, or Load weights): sessions start
   * from them until Reset. Null when training starts from the seeded values.
   */
  readonly weights: { readonly name: string; readonly step: number } | null;
}

/** What Save writes beside the notebook: the weights, or why there are none to write. */
export type WeightsForSave =
  { readonly bytes: Uint8Array; readonly step: number } | { readonly skipped: string } | null;

/** Past this many points the chart's history keeps every other one, so it stays cheap. */
const MAX_POINTS = 600;
const TIMELINE_MS = 500;

/** The key of the edge into input `port` of graph node `to`. */
export const edgeKey = (to: string, port: number): string => `${to}:${port}`;

/**
 * Why `doc` cannot be trained, in words, or null when it can: it needs a `data` input, an
 * output named `loss`, and either a `label` input with an output named `logits` (or `output`),
 * or, for a model that learns without labels (an autoencoder), another output to reconstruct
 * its input with.
 */
export function trainingProblem(doc: EditorDocument): string | null {
  const { nodes, outputs } = doc.graph;
  const role = (r: string): boolean =>
    nodes.some((n) => n.op === 'input' && n.attrs?.['role'] === r);
  const named = (name: string): boolean => outputs.some((o) => o.name === name);
  // A loss without labels (an autoencoder's reconstruction) trains on the data alone.
  if (role('data') && !role('label') && named('loss'))
    return outputs.some((o) => o.name !== 'loss')
      ? null
      : "This model learns without labels, but 'loss' is its only output: add an output for " +
          'what it reconstructs (the last layer), so it can be validated.';
  const missing: string[] = [];
  if (!role('data')) missing.push("an input with role 'data'");
  if (!role('label')) missing.push("an input with role 'label'");
  if (!named('loss')) missing.push("an output named 'loss'");
  if (!named('logits') && !named('output')) missing.push("an output named 'logits' (or 'output')");
  if (missing.length === 0) return null;
  return (
    `This model cannot be trained yet: it needs ${missing.join(', ')}. ` +
    'Start from the MLP template (Templates → MLP) to see a training graph.'
  );
}

/**
 * What training `doc` learns, as the engine will see it: no label input means it learns from
 * its data alone ('reconstruction'), an f32 label input numbers ('regression'), else classes.
 */
export function trainingTask(doc: EditorDocument): TrainTask {
  const label = doc.graph.nodes.find((n) => n.op === 'input' && n.attrs?.['role'] === 'label');
  if (!label) return trainingProblem(doc) === null ? 'reconstruction' : 'classification';
  return label.attrs?.['dtype'] === 'f32' ? 'regression' : 'classification';
}

/** The shape of the model's `data` input as written in the document (-1 for N), or null. */
export function dataInputShape(doc: EditorDocument): readonly number[] | null {
  const input = doc.graph.nodes.find((n) => n.op === 'input' && n.attrs?.['role'] === 'data');
  const shape = input?.attrs?.['shape'];
  return Array.isArray(shape) && shape.every((d) => typeof d === 'number') ? shape : null;
}

/**
 * The data set to switch to when `current` cannot feed the model's `data` input: the MNIST
 * digits for 28×28 images (or 784 values), the spiral for 2-D points; null when `current`
 * fits or the input says nothing either way.
 */
export function datasetForModel(doc: EditorDocument, current: DatasetName): DatasetName | null {
  const shape = dataInputShape(doc);
  if (shape === null) return null;
  const features = shape.slice(1).reduce((a, d) => a * d, 1);
  if (features === 28 * 28) return current === 'mnist' ? null : 'mnist';
  const task = trainingTask(doc);
  if (shape.length === 2 && features === 2)
    return current === 'mnist' || (current === 'sine' && task === 'classification')
      ? 'spiral'
      : null;
  // One number in, one out: the curve to fit.
  if (shape.length === 2 && features === 1 && task === 'regression')
    return current === 'sine' ? null : 'sine';
  return null;
}

/**
 * The Train form's settings a document asks for in its `meta.training` (optimizer, lr, batch
 * size, epochs: what a template trains well with), those that are valid; empty when it says
 * nothing.
 */
export function formSettingsOf(doc: EditorDocument): Partial<TrainForm> {
  const meta = doc.graph.meta?.['training'];
  if (typeof meta !== 'object' || meta === null) return {};
  const t = meta as {
    epochs?: unknown;
    batchSize?: unknown;
    optimizer?: { type?: unknown; lr?: unknown };
  };
  const positiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
  const type = OPTIMIZERS.find((o) => o === t.optimizer?.type);
  const lr = t.optimizer?.lr;
  return {
    ...(positiveInt(t.epochs) ? { epochs: t.epochs } : {}),
    ...(positiveInt(t.batchSize) ? { batchSize: t.batchSize } : {}),
    ...(type ? { optimizer: type } : {}),
    ...(typeof lr === 'number' && lr > 0 && Number.isFinite(lr) ? { lr } : {}),
  };
}

function thin(points: readonly MetricPoint[]): readonly MetricPoint[] {
  return points.length <= MAX_POINTS ? points : points.filter((_, i) => i % 2 === 0);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^engine: /, '') : String(error);
}

export interface TrainingOptions {
  readonly client: EngineClient;
  /** The document to train, read when training starts. */
  readonly document: () => EditorDocument;
  /** When to apply buffered progress; the next animation frame by default. */
  readonly schedule?: (task: () => void) => void;
  /**
   * The least time between two store updates while progress streams (ms; default 100). The
   * worker sends up to 30 a second; redrawing the canvas, chart and timeline for each kept
   * the main thread busy past 50 ms at a time on a small machine, and 10 a second still reads
   * as live.
   */
  readonly minIntervalMs?: number;
  /** The clock for `minIntervalMs` (performance.now by default). */
  readonly now?: () => number;
}

/** The state before any training: the default form, nothing measured. */
export function initialTrainingState(): TrainingState {
  return {
    form: DEFAULT_FORM,
    progress: null,
    train: [],
    validation: [],
    grads: new Map(),
    timeline: [],
    highlight: null,
    error: null,
    boundary: null,
    curve: null,
    confusion: null,
    views: EMPTY_VIEWS,
    weights: null,
  };
}

export class Training {
  readonly store: StoreApi<TrainingState>;
  private readonly client: EngineClient;
  private readonly document: () => EditorDocument;
  private readonly schedule: (task: () => void) => void;
  private session: number | null = null;
  private buffered: TrainProgress[] = [];
  private flushQueued = false;
  private lastFlush = -Infinity;
  private lastTimeline = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  /** The loaded weights file's bytes (`weights` in the store says which). */
  private loadedBytes: Uint8Array | null = null;
  /**
   * Whether the session's weights belong to the document: false once another document is
   * opened or made, so Save never writes one model's weights beside another.
   */
  private sessionIsDocument = false;

  constructor(options: TrainingOptions) {
    this.client = options.client;
    this.document = options.document;
    this.schedule =
      options.schedule ??
      ((task) =>
        typeof requestAnimationFrame === 'function'
          ? requestAnimationFrame(() => task())
          : setTimeout(task, 16));
    this.minIntervalMs = options.minIntervalMs ?? 100;
    this.now = options.now ?? (() => performance.now());
    this.store = createStore<TrainingState>(initialTrainingState);
    this.client.onTrainProgress((progress, session) => {
      if (session === this.session) this.receive(progress);
    });
  }

  setForm(patch: Partial<TrainForm>): void {
    this.store.setState((s) => ({ form: { ...s.form, ...patch } }));
  }

  /**
   * Chooses a data set that fits the current model's input, if the chosen one does not. A
   * model switched to the curve-fitting set (`sine`) brings its document's training settings
   * too, so the regression template fits its curve with the settings it was made with.
   */
  fitDatasetToModel(): void {
    const doc = this.document();
    const next = datasetForModel(doc, this.store.getState().form.dataset);
    if (next === 'sine') this.setForm({ ...formSettingsOf(doc), dataset: next });
    else if (next !== null) this.setForm({ dataset: next });
  }

  /** Highlights a canvas node (or none). */
  highlight(viewNode: string | null): void {
    if (this.store.getState().highlight !== viewNode) this.store.setState({ highlight: viewNode });
  }

  /** Starts a new session on the current document (replacing any other). */
  async start(options: { readonly paused?: boolean } = {}): Promise<void> {
    const doc = this.document();
    const problem = trainingProblem(doc);
    if (problem !== null) {
      this.store.setState({ error: problem });
      return;
    }
    const { form } = this.store.getState();
    // Loaded weights that no longer fit the model (it was edited) are dropped, with the reason.
    let weightsNotice: string | null = null;
    const loaded = this.store.getState().weights;
    if (this.loadedBytes && loaded) {
      const { problem } = await this.client
        .checkWeights(doc.graph, this.loadedBytes)
        .catch((error: unknown) => ({ problem: messageOf(error) }));
      if (problem !== null) {
        weightsNotice = `Started from fresh weights: ${loaded.name}: ${problem}.`;
        this.forgetWeights();
      }
    }
    this.session = null;
    this.buffered = [];
    this.store.setState({
      progress: null,
      train: [],
      validation: [],
      grads: new Map(),
      error: null,
      boundary: null,
      curve: null,
      confusion: null,
      views: clearedViews(this.store.getState().views),
    });
    try {
      const { session, progress } = await this.client.startTraining(
        doc.graph,
        form.dataset,
        {
          optimizer: form.optimizer,
          lr: form.lr,
          batchSize: form.batchSize,
          epochs: form.epochs,
          seed: 0,
          device: form.device,
          lanes: form.lanes ?? 'auto',
        },
        {
          paused: options.paused ?? false,
          ...(this.loadedBytes ? { weights: this.loadedBytes } : {}),
          ...(formCsv(form) ? { csv: formCsv(form)! } : {}),
        },
      );
      this.session = session;
      this.sessionIsDocument = true;
      this.receive(progress, true);
      if (weightsNotice) this.store.setState({ error: weightsNotice });
    } catch (error) {
      this.store.setState({ error: messageOf(error) });
    }
  }

  /**
   * Takes a weights file (safetensors) for the current document: checked against it, then a
   * paused session starts from the weights, so the model can be tried, viewed, exported or
   * trained further at once. Resolves with why the file was refused (nothing changes then), or
   * null when it was loaded.
   */
  async loadWeights(bytes: Uint8Array, name: string): Promise<string | null> {
    const doc = this.document();
    let checked: { problem: string | null; step: number; dataset: string };
    try {
      checked = await this.client.checkWeights(doc.graph, bytes);
    } catch (error) {
      checked = { problem: messageOf(error), step: 0, dataset: '' };
    }
    if (checked.problem !== null) {
      const message = `${name} was not loaded: ${checked.problem}.`;
      this.store.setState({ error: message });
      return message;
    }
    this.loadedBytes = bytes;
    this.store.setState({ weights: { name, step: checked.step }, error: null });
    // The data set they were trained on, where the file says and the model can read it.
    const trainedOn = DATASET_NAMES.find((d) => d === checked.dataset);
    if (trainedOn) this.setForm({ dataset: trainedOn });
    this.fitDatasetToModel();
    // A model without data and label inputs cannot start a session; its weights wait.
    if (trainingProblem(doc) === null) {
      await this.start({ paused: true });
      await this.refreshViews();
    }
    return null;
  }

  /**
   * Which weights an export with "trained weights" takes: the session's (trained, or started
   * from a file), else a loaded file's bytes (a model that cannot train, e.g. an imported
   * ONNX classifier without a loss), else none.
   */
  exportWeights(): 'trained' | Uint8Array | null {
    if (this.sessionHasWeights()) return 'trained';
    return this.loadedBytes && this.store.getState().weights ? this.loadedBytes : null;
  }

  /** Whether the session holds the document's weights: trained, or started from a file. */
  private sessionHasWeights(): boolean {
    const { progress, weights } = this.store.getState();
    return (
      this.session !== null && this.sessionIsDocument && ((progress?.step ?? 0) > 0 || !!weights)
    );
  }

  /**
   * The canvas's model was replaced (New, Open, a template, an import, another graph cell): the
   * session trained another model, so it stops and the panel starts afresh (weights loaded for
   * the new model come after this, through `loadWeights`).
   */
  detach(): void {
    // The new model gets a data set it can read now, so the Data tab previews that one too.
    this.fitDatasetToModel();
    const old = this.session;
    this.forgetWeights();
    this.session = null;
    this.buffered = [];
    if (old === null && this.store.getState().progress === null) return;
    // Nothing measured, as before any training; the form and the views' settings stay.
    this.store.setState((s) => ({
      ...initialTrainingState(),
      form: s.form,
      views: clearedViews(s.views),
    }));
    // Posted now, so the worker stops the old session before any start that follows.
    if (old !== null) this.client.controlTraining('train/stop').catch(() => undefined);
  }

  /** Calls `listener` with each new step the store shows, and whether training runs. */
  watchSteps(listener: (step: number, running: boolean) => void): () => void {
    return this.store.subscribe((state, previous) => {
      const p = state.progress;
      if (!p || (p.step === previous.progress?.step && p.status === previous.progress.status))
        return;
      listener(p.step, p.status === 'running');
    });
  }

  /** Drops loaded weights and stops counting the session as the document's (New, Open). */
  forgetWeights(): void {
    this.loadedBytes = null;
    this.sessionIsDocument = false;
    if (this.store.getState().weights !== null) this.store.setState({ weights: null });
  }

  /**
   * The weights to save beside the notebook: the session's (trained, or loaded) as a weights
   * file; null when there are none (never trained, reset, or another document's); `skipped`
   * with the reason when the session's no longer fit the edited model.
   */
  async weightsForSave(): Promise<WeightsForSave> {
    const loaded = this.store.getState().weights;
    const step = this.store.getState().progress?.step ?? 0;
    const doc = this.document();
    if (this.sessionHasWeights()) {
      const total = (loaded?.step ?? 0) + step;
      try {
        return { bytes: await this.client.saveWeights(doc.graph, total), step: total };
      } catch (error) {
        return { skipped: messageOf(error) };
      }
    }
    if (this.loadedBytes && loaded) {
      // Loaded but never started (the model has no data or label input): written back as read.
      const { problem } = await this.client
        .checkWeights(doc.graph, this.loadedBytes)
        .catch((error: unknown) => ({ problem: messageOf(error) }));
      return problem === null
        ? { bytes: this.loadedBytes, step: loaded.step }
        : { skipped: problem };
    }
    return null;
  }

  pause(): Promise<void> {
    return this.control('train/pause');
  }

  resume(): Promise<void> {
    return this.control('train/resume');
  }

  /** One step; starts a paused session first when there is none. */
  async step(): Promise<void> {
    if (this.session === null || this.isFinished()) await this.start({ paused: true });
    if (this.session !== null) await this.control('train/step');
  }

  stop(): Promise<void> {
    return this.control('train/stop');
  }

  async reset(): Promise<void> {
    // Back to the seeded values, also for the next Start.
    this.loadedBytes = null;
    this.store.setState({ weights: null });
    await this.control('train/reset');
    this.store.setState({ train: [], validation: [], grads: new Map() });
  }

  /** Asks the worker for a fresh decision boundary and confusion matrix now. */
  async refreshViews(): Promise<void> {
    if (this.session === null) return;
    try {
      this.receive(await this.client.refreshTrainingViews(), true);
    } catch (error) {
      this.store.setState({ error: messageOf(error) });
    }
  }

  /**
   * Class probabilities of the session's model, with its current weights (training may be
   * running, paused or stopped), for `count` examples with features row-major in `inputs`; a
   * model that learns without labels answers with its `reconstruction` of them instead.
   * Rejects with a message for people when there is no model to ask yet.
   */
  async predict(
    inputs: Float32Array,
    count: number,
  ): Promise<{ classes: number; probabilities: Float32Array; reconstruction?: Float32Array }> {
    if (this.session === null)
      throw new Error('Train the model first (Start or Step): there are no weights to try yet.');
    try {
      return await this.client.predict(inputs, count);
    } catch (error) {
      throw new Error(messageOf(error));
    }
  }

  /** Shows the views as they were at `step` (the nearest recorded step before), or live. */
  scrubTo(step: number | null): void {
    this.store.setState((s) => ({ views: scrubViews(s.views, step) }));
  }

  /** Colours edges by their gradients or by their activations. */
  setEdgeMode(mode: EdgeMode): void {
    this.store.setState((s) => ({ views: setEdgeMode(s.views, mode) }));
  }

  private isFinished(): boolean {
    const status = this.store.getState().progress?.status;
    return status === 'stopped' || status === 'failed';
  }

  private async control(
    control: 'train/pause' | 'train/resume' | 'train/step' | 'train/stop' | 'train/reset',
  ): Promise<void> {
    if (this.session === null) return;
    try {
      this.receive(await this.client.controlTraining(control), true);
    } catch (error) {
      this.store.setState({ error: messageOf(error) });
    }
  }

  /**
   * Buffers a progress for the next update. Streamed progress waits out `minIntervalMs`; an
   * answer to the user's own request (`direct`) shows on the next frame.
   */
  private receive(progress: TrainProgress, direct = false): void {
    this.buffered.push(progress);
    if (direct && this.timer !== null) {
      // Waiting out the interval: the user's own answer does not wait.
      clearTimeout(this.timer);
      this.timer = null;
      this.flushQueued = false;
    }
    if (this.flushQueued) return;
    this.flushQueued = true;
    const wait = direct ? 0 : this.lastFlush + this.minIntervalMs - this.now();
    const queue = (): void => {
      this.timer = null;
      this.schedule(() => {
        this.flushQueued = false;
        this.lastFlush = this.now();
        this.flush();
      });
    };
    if (wait > 0) this.timer = setTimeout(queue, wait);
    else queue();
  }

  /** Applies every buffered progress in one store update. */
  private flush(): void {
    const batch = this.buffered;
    this.buffered = [];
    const last = batch.at(-1);
    if (!last) return;
    const s = this.store.getState();
    let train = s.train;
    let validation = s.validation;
    for (const p of batch) {
      // A reset starts the history again.
      if (train.length > 0 && p.step < train.at(-1)!.step) {
        train = [];
        validation = [];
      }
      if (p.loss !== null && p.step > (train.at(-1)?.step ?? 0))
        train = thin([...train, { step: p.step, loss: p.loss, accuracy: p.accuracy ?? NaN }]);
      const v = p.validation;
      if (v && v.step > (validation.at(-1)?.step ?? 0)) validation = thin([...validation, v]);
    }
    // Boundaries and matrices come with some messages only: keep the newest in the batch.
    let boundary = s.boundary;
    let confusion = s.confusion;
    let curve = s.curve;
    for (const p of batch) {
      if (p.boundary) boundary = p.boundary;
      if (p.curve) curve = p.curve;
      if (p.confusion) confusion = p.confusion;
    }
    const grads = new Map<string, number | null>();
    for (const e of last.edges) grads.set(edgeKey(e.to, e.port), e.norm);
    const now = this.now();
    // The first timeline shows as soon as there is one; later ones at most every TIMELINE_MS.
    const first = s.timeline.length === 0 && last.timeline.length > 0;
    const fresh = first || last.status !== 'running' || now - this.lastTimeline >= TIMELINE_MS;
    if (fresh) this.lastTimeline = now;
    this.store.setState({
      progress: last,
      train,
      validation,
      timeline: fresh ? last.timeline : s.timeline,
      grads: last.edges.length > 0 ? grads : s.grads,
      error: last.error ?? null,
      boundary,
      curve,
      confusion,
      views: foldProgress(s.views, batch, edgeKey),
    });
  }
}
