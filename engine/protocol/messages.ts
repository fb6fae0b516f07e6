/**
 * The messages between the UI thread and the engine worker: plain, structured-cloneable data
 * only, as one discriminated union per direction (`type` is the tag). Every request carries an
 * `id` that its answer repeats. A request may be cancelled with `{ type: 'cancel', id }`; the
 * worker then answers `cancelled` instead of a result if it had not started yet. Graph checks
 * supersede each other: a newer `checkGraph` cancels any older one still queued, so the UI
 * always gets the answer for its latest document and never waits for stale ones. One message is
 * not an answer: `train/progress` streams while a training session runs, carrying the id of the
 * `train/start` that began it, and clients hand it to listeners.
 *
 * This file imports only types, so both sides (the renderer bundle and the worker bundle) can
 * use it without pulling in engine code.
 */

import type { GraphJSON } from '../graph/ir.js';
import type { AttrSpec } from '../ops/registry.js';
import type { Lesson, TeachValue } from '../teach/lesson.js';
import type { TeachState } from '../teach/teacher.js';

export type { Lesson, TeachState, TeachValue };

/** Where an op shows in the palette, and how its node is coloured. */
export type OpCategory =
  | 'source'
  | 'creation'
  | 'activation'
  | 'math'
  | 'arithmetic'
  | 'comparison'
  | 'tensor'
  | 'movement'
  | 'reduction'
  | 'nn'
  | 'normalization'
  | 'loss'
  | 'gradient'
  | 'other';

/** An attribute spec as the inspector needs it: the registry's spec plus allowed values. */
export interface AttrInfo extends AttrSpec {
  /** For string attributes that take one of a few values (`role`, `init`, `reduction`). */
  readonly choices?: readonly string[];
}

/**
 * One op as the UI sees it. Input ports are named; `minInputs`/`maxInputs` say how many may
 * be connected (equal for fixed arity). When `maxInputs` is null the last port name repeats
 * (concat's `x`, shown as x1, x2 …), so the UI offers one more empty port than are connected.
 */
export interface OpInfo {
  readonly name: string;
  readonly arity: number | 'variadic';
  readonly ports: readonly string[];
  readonly minInputs: number;
  readonly maxInputs: number | null;
  readonly attrs: Readonly<Record<string, AttrInfo>>;
  readonly doc: string;
  readonly gradientDoc?: string;
  readonly category: OpCategory;
}

/** A shape for display: 'N' marks dimensions that follow the batch size. */
export type SymbolicShape = readonly (number | 'N')[];

export interface NodeMeta {
  readonly shape: SymbolicShape;
  readonly dtype: string;
}

/**
 * A problem found on a node. `node` is null for a problem of the whole document (not a graph
 * document at all …). `port` is set when one input is at fault (an unconnected port).
 * `incomplete` marks what is merely unfinished (an input not connected yet), which the canvas
 * shows quietly; `error` is everything that is wrong (shapes that do not fit, bad attributes).
 */
export interface GraphDiagnostic {
  readonly node: string | null;
  readonly port?: number;
  readonly severity: 'error' | 'incomplete';
  readonly message: string;
}

/** The answer to `checkGraph`: shapes of every node that has one, and every problem. */
export interface GraphCheck {
  readonly shapes: Readonly<Record<string, NodeMeta>>;
  readonly diagnostics: readonly GraphDiagnostic[];
}

/**
 * The document as the UI holds it: a graph document whose nodes may be mid-edit. An input id
 * of `''` marks an unconnected port; the check reports it and skips what depends on it.
 */
export type DraftGraph = GraphJSON;

// ---- the autodiff teacher ------------------------------------------------------------------

/** A tensor as plain data: row-major values (booleans as 0 and 1). */
export type TensorData = TeachValue;

/** How the teacher moves: forward one node, backward one node, undo one step, or play's tick. */
export type TeachMove = 'teach/forward' | 'teach/backward' | 'teach/back' | 'teach/next';

// ---- training -----------------------------------------------------------------------------

/**
 * The data sets a session can train on: the synthetic 2-D classification sets, `sine` (a 1-D
 * regression: x [N, 1], y = sin(x) + noise [N, 1] f32), and `mnist`, a small subset of the
 * MNIST digits (28×28 pixels in 0..1) that the app ships as a file.
 */
export type DatasetName = 'spiral' | 'moons' | 'circles' | 'xor' | 'gaussians' | 'sine' | 'mnist';

/** A CSV file the user uploaded, to preview or train on. */
export interface CsvUpload {
  readonly name: string;
  readonly text: string;
  /** The target column (default: the last). */
  readonly target?: string;
}

/** A training run's settings, flat for the UI's form. */
export interface TrainSessionConfig {
  readonly optimizer: 'sgd' | 'adam' | 'adamw';
  readonly lr: number;
  readonly momentum?: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly seed: number;
  /**
   * Where it trains (default 'cpu'): every node on the CPU or on WebGPU, or 'auto', placed by
   * a measured cost model. Nodes pinned in the document (their `device`) stay where pinned.
   */
  readonly device?: TrainDevicePolicy;
  /**
   * CPU lanes for the CPU step's forward and backward (default 'auto': one per core where the
   * host shares memory with workers; 1: the engine worker's own thread).
   */
  readonly lanes?: number | 'auto';
}

/** A training session's device policy. */
export type TrainDevicePolicy = 'cpu' | 'webgpu' | 'auto';

/** A forward edge whose ends ran on different devices: a transfer, each step. */
export interface TransferEdge {
  readonly from: string;
  readonly to: string;
  /** The input port of `to`. */
  readonly port: number;
  readonly fromDevice: string;
  readonly toDevice: string;
  /** Bytes moved per step. */
  readonly bytes: number;
}

export type TrainStatus = 'running' | 'paused' | 'done' | 'stopped' | 'failed';

/** The L2 norm of the gradient flowing along one forward edge (null where none flows). */
export interface EdgeGradient {
  readonly from: string;
  readonly to: string;
  /** The input port of `to`. An input used at two ports shows their total at both. */
  readonly port: number;
  readonly norm: number | null;
  /**
   * The gradient's statistics (`norm` is its `l2`); absent when the session collects no view
   * statistics, null where no gradient flows.
   */
  readonly grad?: ValueStats | null;
  /** Statistics of the forward value flowing along the edge (the activation); absent when off. */
  readonly activation?: ValueStats | null;
}

/** A tensor's statistics: L2 norm, mean, min and max of its finite values, NaN/Inf counts. */
export interface ValueStats {
  readonly l2: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly nanCount: number;
  readonly infCount: number;
  /** Number of elements (finite or not). */
  readonly count: number;
}

/** Counts of finite values in `counts.length` equal bins over [lo, hi]; non-finite apart. */
export interface ValueHistogram {
  readonly lo: number;
  readonly hi: number;
  readonly counts: readonly number[];
  readonly nonFinite: number;
}

/** One parameter's value and gradient histograms at one step. */
export interface ParamHistograms {
  readonly param: string;
  readonly weights: ValueHistogram;
  /** Null before the parameter has a gradient. */
  readonly grads: ValueHistogram | null;
}

/** Every parameter's histograms, taken after the optimiser step `step`. */
export interface HistogramSnapshot {
  readonly step: number;
  readonly params: readonly ParamHistograms[];
}

/** One executed op of the last step, times in ms from the step's start. */
export interface TimelineEntry {
  /** The graph node, `grad:<node>` for its backward ops. */
  readonly node: string;
  readonly op: string;
  readonly lane: number;
  readonly device: string;
  readonly start: number;
  readonly end: number;
  readonly phase: 'forward' | 'backward' | 'optimizer';
}

/** The region of the plane a plot shows. */
export interface PlotBounds {
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
}

/**
 * The model's decision over a `size`×`size` grid of the 2-D plane, with the training points.
 * Cells are row-major from the top left (x = xMin, y = yMax), each the centre of its square.
 */
export interface DecisionBoundary {
  /** The step whose weights made it; a reset starts again from 0, so see `version`. */
  readonly step: number;
  /** Grows with every change of the weights (steps and resets). */
  readonly version: number;
  readonly bounds: PlotBounds;
  readonly size: number;
  readonly classes: number;
  /** The most probable class of each cell. */
  readonly predicted: Uint8Array;
  /** That class's probability in each cell, scaled to 0..255. */
  readonly confidence: Uint8Array;
  /** The training points, x and y interleaved, and their labels. */
  readonly points: Float32Array;
  readonly labels: Uint8Array;
}

/**
 * What a regression learned, in the target's own units. `curve` (one input feature): the
 * model's prediction at `xs` (ascending, evenly spread over the data's x range) with the
 * training points (x, y). `scatter` (several features): the validation rows as points
 * (actual, predicted), and `xs`/`predicted` the two ends of the line predicted = actual.
 * `bounds` frame points and line.
 */
export interface RegressionCurve {
  readonly kind: 'curve' | 'scatter';
  /** The step whose weights made it; a reset starts again from 0, so see `version`. */
  readonly step: number;
  /** Grows with every change of the weights (steps and resets). */
  readonly version: number;
  readonly bounds: PlotBounds;
  readonly xs: Float32Array;
  /** The model's output at each of `xs` (`scatter`: the line's ends, equal to `xs`). */
  readonly predicted: Float32Array;
  /** The points, interleaved: training (x, y), or validation (actual, predicted). */
  readonly points: Float32Array;
}

/** Counts of (true class, predicted class) over the validation split. */
export interface ConfusionMatrix {
  readonly step: number;
  readonly version: number;
  readonly classes: number;
  /** Row-major: `counts[row * classes + col]`, row the true class, col the predicted one. */
  readonly counts: readonly number[];
  /** Examples counted (the validation split's size). */
  readonly total: number;
}

/**
 * What a session learns: class labels ('classification'), numbers ('regression': an f32 label
 * input, e.g. a CSV whose target holds numbers) or its own input ('reconstruction': no label
 * input, the loss compares the output with the data, as an autoencoder's does).
 */
export type TrainTask = 'classification' | 'regression' | 'reconstruction';

/** Where training stands, with the summary of the last step. */
export interface TrainProgress {
  readonly status: TrainStatus;
  /** What the session learns (absent: classification); `accuracy` is null unless it classifies. */
  readonly task?: TrainTask;
  /** Optimisation steps taken. */
  readonly step: number;
  readonly totalSteps: number;
  /** The epoch the next step belongs to (from 0). */
  readonly epoch: number;
  readonly epochs: number;
  /** Loss and accuracy of the last step's training batch (null before the first step). */
  readonly loss: number | null;
  readonly accuracy: number | null;
  /** The latest periodic validation (held-out points of the same set). */
  readonly validation: {
    readonly step: number;
    readonly loss: number;
    /** NaN unless the session classifies. */
    readonly accuracy: number;
    /** Regression: root-mean-square error in the target's own units. */
    readonly rmse?: number;
    /** Regression: the coefficient of determination on the validation rows. */
    readonly r2?: number;
  } | null;
  readonly stepMs: number | null;
  /** Estimated time to finish, from the recent mean step time. */
  readonly remainingMs: number | null;
  /** Every edge of the forward graph, with its gradient norm in the last step. */
  readonly edges: readonly EdgeGradient[];
  /** The device each node ran on in the last step. */
  readonly devices: Readonly<Record<string, string>>;
  readonly timeline: readonly TimelineEntry[];
  /**
   * The latest parameter histograms (taken every few steps; its `step` says when), or absent
   * when the session collects no view statistics.
   */
  readonly histograms?: HistogramSnapshot | null;
  /**
   * The step whose `edges` and `timeline` these are: a running session measures them a few
   * times a second, not every step. Absent when the session collects no view statistics.
   */
  readonly viewStep?: number | null;
  /** The batch loss and accuracy of `viewStep`, where the session knows them. */
  readonly viewMetrics?: { readonly loss: number; readonly accuracy: number } | null;
  /** A fresh decision boundary (2-D data sets), sent a few times a second, not every step. */
  readonly boundary?: DecisionBoundary;
  /** A fresh confusion matrix on the validation split, after validations. */
  readonly confusion?: ConfusionMatrix;
  /**
   * A fresh view of a regression (its fitted curve, or predicted against actual), sent a few
   * times a second like the boundary.
   */
  readonly curve?: RegressionCurve;
  /** Set when training stopped at an error. */
  readonly error?: string;
  /** The cross-device edges of the session's placement (absent or empty on one device). */
  readonly transfers?: readonly TransferEdge[];
  /** Why the session does not run on the device asked for (no WebGPU adapter …). */
  readonly deviceNote?: string | null;
  /** CPU lanes the last CPU step ran on (absent when the session trains on one thread). */
  readonly lanes?: number;
}

// ---- the notebook kernel -------------------------------------------------------------------

/** A value a code cell produced, as plain data: text, or a tensor (values capped). */
export type CellValue =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'tensor';
      readonly shape: readonly number[];
      readonly dtype: string;
      readonly device: string;
      /** The first values, row-major (all of them unless `truncated`). */
      readonly values: readonly number[];
      readonly truncated: boolean;
    }
  /** A graph (a traced `wg.Graph` or a graph document), drawn small and openable as the model. */
  | { readonly kind: 'graph'; readonly graph: GraphJSON }
  /** A line chart (the kernel's `plot`): one or more series of points. */
  | {
      readonly kind: 'chart';
      readonly title: string | null;
      readonly xLabel: string | null;
      readonly yLabel: string | null;
      readonly series: readonly ChartSeries[];
    }
  /** An image (the kernel's `image`): bytes 0..255, row-major, `channels` per pixel. */
  | {
      readonly kind: 'image';
      readonly width: number;
      readonly height: number;
      readonly channels: 1 | 3;
      readonly pixels: readonly number[];
      readonly title: string | null;
    }
  /** A progress bar (the kernel's `progress`): `done` of `total`, timing and metrics. */
  | {
      readonly kind: 'progress';
      readonly done: number;
      readonly total: number;
      readonly title: string | null;
      /** Named numbers shown beside the bar (loss, accuracy …), in the order given. */
      readonly metrics: Readonly<Record<string, number>>;
      /** Ms since the first progress with the same id was shown (null when not timed). */
      readonly elapsedMs: number | null;
      /** Estimated ms left at the rate so far (0 when done; null while unknown). */
      readonly etaMs: number | null;
    };

/** One line of a chart: its points, x ascending as given (any order for a scatter). */
export interface ChartSeries {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** Drawn as separate dots (a scatter plot) instead of a line. */
  readonly scatter?: boolean;
}

/** One `console.*` call of a cell, each argument as a value. */
export interface CellLog {
  readonly level: 'log' | 'info' | 'warn' | 'error';
  readonly values: readonly CellValue[];
  /** Set by the kernel's `display(value, id)`: a later display with the same id replaces it. */
  readonly display?: string;
}

/** Why a cell failed, with the line in the cell's TypeScript source where it is known. */
export interface CellError {
  readonly name: string;
  readonly message: string;
  /** 1-based line and column in the cell's source, or null when unknown. */
  readonly line: number | null;
  readonly column: number | null;
}

/** The result of running one cell: its logs, the value of its last expression, or its error. */
export interface CellRun {
  readonly cell: number;
  readonly logs: readonly CellLog[];
  /** The last expression statement's value (null when the cell ends otherwise, or undefined). */
  readonly value: CellValue | null;
  readonly error: CellError | null;
  /** The names of the top-level declarations the cell added to the shared scope. */
  readonly names: readonly string[];
  readonly ms: number;
}

// ---- export, import and data previews -----------------------------------------------------

/** What a graph can be exported as (engine/export's targets). */
export type ExportTargetName = 'typescript' | 'pytorch' | 'onnx';

/** One file of an export, named relative to the folder it goes into. */
export interface ExportedFile {
  readonly name: string;
  readonly contents: string | Uint8Array;
}

/** An ONNX node that imported as a placeholder, and why. */
export interface ImportedPlaceholder {
  readonly node: string;
  readonly onnxNode: string;
  readonly op: string;
  readonly reason: string;
}

/** What an ONNX import read and made. */
export interface OnnxImportSummary {
  readonly opset: number;
  readonly producer: string;
  readonly onnxNodes: number;
  readonly nodes: number;
  readonly parameters: number;
  readonly placeholders: readonly ImportedPlaceholder[];
  readonly warnings: readonly string[];
}

/** The first images of an image data set, as 8-bit pixels (row-major, channels last). */
export interface ImagePreview {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly count: number;
  readonly pixels: Uint8Array;
  readonly labels: readonly number[];
}

/** A look at a data set before training: its first rows or images, class counts, shapes. */
export interface DataPreview {
  /** The data set's name, or the file's. */
  readonly name: string;
  readonly kind: 'tabular' | 'images';
  readonly task: 'classification' | 'regression';
  /** Examples in the whole set. */
  readonly examples: number;
  /** One example's features and label: shape and dtype. */
  readonly features: { readonly shape: readonly number[]; readonly dtype: string };
  readonly labels: { readonly shape: readonly number[]; readonly dtype: string };
  /** Column names of `rows` (features, then the target). */
  readonly columns: readonly string[];
  /** The first rows (tabular; empty for images), values as shown. */
  readonly rows: readonly (readonly (number | string)[])[];
  readonly images: ImagePreview | null;
  /** Class names and how many examples each has (empty for regression). */
  readonly classes: readonly string[];
  readonly classCounts: readonly number[];
  /** Anything worth saying (columns dropped, normalisation …). */
  readonly notes: readonly string[];
}

// ---- requests (UI -> worker) --------------------------------------------------------------

export type EngineRequest =
  /**
   * Runs a notebook code cell (TypeScript) in the kernel's shared scope; `cell` is the number
   * errors name. Cells run one at a time, in the order they arrive.
   */
  | {
      readonly type: 'kernel/run';
      readonly id: number;
      readonly cell: number;
      readonly source: string;
    }
  /** Forgets every name the kernel's cells defined (disposing their tensors). */
  | { readonly type: 'kernel/reset'; readonly id: number }
  | { readonly type: 'listOps'; readonly id: number }
  | { readonly type: 'checkGraph'; readonly id: number; readonly graph: DraftGraph }
  /** Cancels the request with this id, if it has not run yet. */
  | { readonly type: 'cancel'; readonly id: number }
  /**
   * Records a lesson: runs `graph` on `inputs` (by input name or id; parameters use their
   * seeded init) and differentiates `root` (an output name or node id; default 'loss', else
   * the first output). Replaces any previous lesson.
   */
  | {
      readonly type: 'teach/start';
      readonly id: number;
      readonly graph: GraphJSON;
      readonly inputs: Readonly<Record<string, TensorData>>;
      readonly root?: string;
    }
  | { readonly type: TeachMove; readonly id: number }
  /** Makes a node (or primitive step) current, in the given phase (default: the current one). */
  | {
      readonly type: 'teach/jump';
      readonly id: number;
      readonly node: string;
      readonly phase?: 'forward' | 'backward';
    }
  /**
   * Starts a training session (replacing any other): `graph` needs a data and a label input
   * and outputs 'loss' and 'logits'. Progress streams as `train/progress` with this id.
   * `paused` starts it without running (step it with `train/step`).
   */
  | {
      readonly type: 'train/start';
      readonly id: number;
      readonly graph: GraphJSON;
      readonly dataset: DatasetName;
      readonly config: TrainSessionConfig;
      /** Training points (default 300); validation uses a quarter as many, other seed. */
      readonly size?: number;
      /** Validate every this many steps (default: once per epoch). */
      readonly validateEvery?: number;
      readonly paused?: boolean;
      /**
       * A weights file (safetensors, engine/train/weights-file.ts) to start from instead of
       * the seeded values; refused with the reason when it does not fit the graph.
       */
      readonly weights?: Uint8Array;
      /**
       * Train on this CSV instead of `dataset` (80% of its rows; the rest validate), refused
       * with the reason when it does not fit the model.
       */
      readonly csv?: CsvUpload;
    }
  /**
   * Checks a weights file against a graph without loading it; answered `weights/checked`
   * (`problem` null when it fits).
   */
  | {
      readonly type: 'weights/check';
      readonly id: number;
      readonly graph: GraphJSON;
      readonly bytes: Uint8Array;
    }
  /**
   * The training session's current weights for `graph` as a weights file; answered
   * `weights/file`, refused when there is no session or it trains another graph.
   */
  | {
      readonly type: 'weights/save';
      readonly id: number;
      readonly graph: GraphJSON;
      readonly step: number;
    }
  | {
      readonly type: 'train/pause' | 'train/resume' | 'train/step' | 'train/stop' | 'train/reset';
      readonly id: number;
    }
  /** Answered `train/status` with a freshly computed decision boundary and confusion matrix. */
  | { readonly type: 'train/views'; readonly id: number }
  /**
   * Runs the session's model on `count` examples (`inputs`: their features, row-major, as the
   * data set holds them) with the current weights; answered `train/prediction`.
   */
  | {
      readonly type: 'train/predict';
      readonly id: number;
      readonly inputs: Float32Array;
      readonly count: number;
    }
  /**
   * Exports the graph; answered `export/files`. Parameters take their seeded initial values, or
   * with `weights: 'trained'` the current training session's (which must be of this graph), or
   * those of a weights file given as bytes.
   */
  | {
      readonly type: 'export/graph';
      readonly id: number;
      readonly graph: GraphJSON;
      readonly target: ExportTargetName;
      /** Or a weights file's bytes (safetensors, engine/train/weights-file.ts). */
      readonly weights?: 'initial' | 'trained' | Uint8Array;
    }
  /**
   * Reads TypeScript that builds a graph with GraphBuilder (the TypeScript export's form)
   * without running it; answered `code/graph`, or `failed` naming the line.
   */
  | { readonly type: 'code/graph'; readonly id: number; readonly code: string }
  /** Imports an ONNX model (`name` is the file's, for messages); answered `import/graph`. */
  | {
      readonly type: 'import/onnx';
      readonly id: number;
      readonly bytes: Uint8Array;
      readonly name: string;
    }
  /** A preview of a built-in data set; answered `data/preview`. */
  | { readonly type: 'data/preview'; readonly id: number; readonly dataset: DatasetName }
  /**
   * Parses a CSV file's text (the last column, or `target`, is the label) and answers its
   * `data/preview`; a malformed file is answered `failed` with the loader's message.
   */
  | {
      readonly type: 'data/csv';
      readonly id: number;
      readonly name: string;
      readonly text: string;
      readonly target?: string;
    };

// ---- responses (worker -> UI) -------------------------------------------------------------

export type EngineResponse =
  /** The answer to `kernel/run`. */
  | { readonly type: 'kernel/result'; readonly id: number; readonly run: CellRun }
  /**
   * While a `kernel/run` runs: its output lines so far (at most about ten a second). The lines
   * from index `from` on are `logs`; those before it are unchanged since the last message.
   */
  | {
      readonly type: 'kernel/logs';
      readonly id: number;
      readonly from: number;
      readonly logs: readonly CellLog[];
    }
  /** The answer to `kernel/reset`. */
  | { readonly type: 'kernel/reset'; readonly id: number }
  | { readonly type: 'listOps'; readonly id: number; readonly ops: readonly OpInfo[] }
  | { readonly type: 'checkGraph'; readonly id: number; readonly result: GraphCheck }
  | { readonly type: 'cancelled'; readonly id: number }
  /** The answer to `teach/start`: the whole lesson (plain data) and the state at its start. */
  | {
      readonly type: 'teach/started';
      readonly id: number;
      readonly lesson: Lesson;
      readonly state: TeachState;
    }
  /** The answer to a teacher move or jump. */
  | { readonly type: 'teach/state'; readonly id: number; readonly state: TeachState }
  /** The answer to a training request: where the session stands now. */
  | { readonly type: 'train/status'; readonly id: number; readonly progress: TrainProgress }
  /**
   * Streamed while a session trains (at most about 30 a second) and after each change of
   * state; `id` is the `train/start` request's. Not an answer: clients route it to listeners.
   */
  | { readonly type: 'train/progress'; readonly id: number; readonly progress: TrainProgress }
  /** The answer to `train/predict`: class probabilities, `count` rows of `classes`. */
  | {
      readonly type: 'train/prediction';
      readonly id: number;
      readonly classes: number;
      readonly probabilities: Float32Array;
      /**
       * A model that learns without labels (task 'reconstruction'): its output for the
       * examples, row-major, as many values each as the inputs (`classes` is 0 then).
       */
      readonly reconstruction?: Float32Array;
    }
  /** The answer to `weights/check`. */
  | {
      readonly type: 'weights/checked';
      readonly id: number;
      /** Why the file does not fit, in words; null when it does. */
      readonly problem: string | null;
      /** The step it was saved at, from its metadata. */
      readonly step: number;
      /** The data set it was trained on ('' when the file does not say). */
      readonly dataset: string;
    }
  /** The answer to `weights/save`: safetensors bytes. */
  | { readonly type: 'weights/file'; readonly id: number; readonly bytes: Uint8Array }
  /** The answer to `export/graph`. */
  | {
      readonly type: 'export/files';
      readonly id: number;
      readonly files: readonly ExportedFile[];
      readonly warnings: readonly string[];
    }
  /** The answer to `code/graph`: the graph document the code builds. */
  | { readonly type: 'code/graph'; readonly id: number; readonly graph: GraphJSON }
  /** The answer to `import/onnx`: the graph document and what the import made of the file. */
  | {
      readonly type: 'import/graph';
      readonly id: number;
      readonly graph: GraphJSON;
      readonly report: OnnxImportSummary;
      /** The model's weights as a weights file (safetensors), when it has parameters. */
      readonly weights?: Uint8Array;
    }
  /** The answer to `data/preview` and `data/csv`. */
  | { readonly type: 'data/preview'; readonly id: number; readonly preview: DataPreview }
  /** The request failed inside the worker; `message` says why (an engine bug, usually). */
  | { readonly type: 'failed'; readonly id: number; readonly message: string };

export type EngineRequestType = EngineRequest['type'];
