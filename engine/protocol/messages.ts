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

/** The synthetic 2-D classification sets a session can train on. */
export type DatasetName = 'spiral' | 'moons' | 'circles' | 'xor' | 'gaussians';

/** A training run's settings, flat for the UI's form. */
export interface TrainSessionConfig {
  readonly optimizer: 'sgd' | 'adam' | 'adamw';
  readonly lr: number;
  readonly momentum?: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly seed: number;
}

export type TrainStatus = 'running' | 'paused' | 'done' | 'stopped' | 'failed';

/** The L2 norm of the gradient flowing along one forward edge (null where none flows). */
export interface EdgeGradient {
  readonly from: string;
  readonly to: string;
  /** The input port of `to`. An input used at two ports shows their total at both. */
  readonly port: number;
  readonly norm: number | null;
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

/** Where training stands, with the summary of the last step. */
export interface TrainProgress {
  readonly status: TrainStatus;
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
    readonly accuracy: number;
  } | null;
  readonly stepMs: number | null;
  /** Estimated time to finish, from the recent mean step time. */
  readonly remainingMs: number | null;
  /** Every edge of the forward graph, with its gradient norm in the last step. */
  readonly edges: readonly EdgeGradient[];
  /** The device each node ran on in the last step. */
  readonly devices: Readonly<Record<string, string>>;
  readonly timeline: readonly TimelineEntry[];
  /** Set when training stopped at an error. */
  readonly error?: string;
}

// ---- requests (UI -> worker) --------------------------------------------------------------

export type EngineRequest =
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
    }
  | {
      readonly type: 'train/pause' | 'train/resume' | 'train/step' | 'train/stop' | 'train/reset';
      readonly id: number;
    };

// ---- responses (worker -> UI) -------------------------------------------------------------

export type EngineResponse =
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
  /** The request failed inside the worker; `message` says why (an engine bug, usually). */
  | { readonly type: 'failed'; readonly id: number; readonly message: string };

export type EngineRequestType = EngineRequest['type'];
