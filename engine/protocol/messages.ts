/**
 * The messages between the UI thread and the engine worker: plain, structured-cloneable data
 * only, as one discriminated union per direction (`type` is the tag). Every request carries an
 * `id` that its answer repeats. A request may be cancelled with `{ type: 'cancel', id }`; the
 * worker then answers `cancelled` instead of a result if it had not started yet. Graph checks
 * supersede each other: a newer `checkGraph` cancels any older one still queued, so the UI
 * always gets the answer for its latest document and never waits for stale ones.
 *
 * This file imports only types, so both sides (the renderer bundle and the worker bundle) can
 * use it without pulling in engine code.
 */

import type { GraphJSON } from '../graph/ir.js';
import type { AttrSpec } from '../ops/registry.js';

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

// ---- requests (UI -> worker) --------------------------------------------------------------

export type EngineRequest =
  | { readonly type: 'listOps'; readonly id: number }
  | { readonly type: 'checkGraph'; readonly id: number; readonly graph: DraftGraph }
  /** Cancels the request with this id, if it has not run yet. */
  | { readonly type: 'cancel'; readonly id: number };

// ---- responses (worker -> UI) -------------------------------------------------------------

export type EngineResponse =
  | { readonly type: 'listOps'; readonly id: number; readonly ops: readonly OpInfo[] }
  | { readonly type: 'checkGraph'; readonly id: number; readonly result: GraphCheck }
  | { readonly type: 'cancelled'; readonly id: number }
  /** The request failed inside the worker; `message` says why (an engine bug, usually). */
  | { readonly type: 'failed'; readonly id: number; readonly message: string };

export type EngineRequestType = EngineRequest['type'];
